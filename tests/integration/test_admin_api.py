"""The admin API under /admin/v1/: auth, the key lifecycle, import, credit, users, the audit
trail, tenant isolation and the active-key limit, through curl against a real server."""
import hashlib
import json
import time
import unittest
import uuid

from harness import KEY_RE, Server

JSON_HDR = ["Content-Type: application/json"]

# Every admin route, with a body where the route takes one; {name} and {id} filled per test.
ROUTES = [
    ("GET", "/admin/v1/accounts", None),
    ("POST", "/admin/v1/accounts", {"name": "nope"}),
    ("GET", "/admin/v1/accounts/{name}", None),
    ("POST", "/admin/v1/accounts/{name}/credit", {"add": 1}),
    ("POST", "/admin/v1/accounts/{name}/allowance", {"monthlyAllowance": 1}),
    ("GET", "/admin/v1/accounts/{name}/keys", None),
    ("POST", "/admin/v1/accounts/{name}/keys", {}),
    ("POST", "/admin/v1/accounts/{name}/keys/import", {"key": "legacy-key-not-imported"}),
    ("GET", "/admin/v1/accounts/{name}/users", None),
    ("POST", "/admin/v1/accounts/{name}/users", {"name": "nobody", "password": "pw12345"}),
    ("GET", "/admin/v1/keys/{id}", None),
    ("DELETE", "/admin/v1/keys/{id}", None),
    ("POST", "/admin/v1/keys/{id}/deactivate", None),
    ("POST", "/admin/v1/keys/{id}/reactivate", None),
    ("POST", "/admin/v1/keys/{id}/rotate", None),
    ("GET", "/admin/v1/audit", None),
]


class AdminApiTest(unittest.TestCase):
    """One server; each test makes the accounts whose state it changes."""

    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server("admin")
        s.account_create("ops")
        cls.platform_key = s.cli("key", "create", "ops", "--scopes", "keys:admin",
                                 "--platform").stdout.splitlines()[0]
        s.account_create("acme", credit=7)
        cls.tenant_key = s.cli("key", "create", "acme", "--scopes", "keys:admin",
                               "--name", "acme-admin").stdout.splitlines()[0]
        cls.plain_key = s.cli("key", "create", "acme", "--scopes", "credit:read",
                              "--name", "plain").stdout.splitlines()[0]
        s.account_create("beta", credit=99)
        cls.beta_key = s.key_create("beta", name="beta-main")
        cls.beta_key_id = int(s.key_id(cls.beta_key))
        s.user_create("beta", "beta-user", "beta password 1")
        cls.secrets = [cls.platform_key, cls.tenant_key, cls.plain_key, cls.beta_key]
        s.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    # ---- helpers ---------------------------------------------------------------------------
    def api(self, method, path, key=None, body=None, raw=None):
        hdrs = JSON_HDR if body is not None or raw is not None else []
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.srv.rest(method, path, key=key or self.platform_key, headers=hdrs, body=data)

    def ok(self, resp, status=200):
        self.assertEqual(resp.status, status, resp)
        self.assertTrue(resp.headers.get("content-type", "").startswith("application/json"),
                        resp)
        return resp.json()

    def error(self, resp, status, code):
        self.assertEqual(resp.status, status, resp)
        body = resp.json()
        self.assertEqual(body.get("code"), code, resp)
        self.assertTrue(body.get("message"), resp)
        self.assertEqual(body.get("requestId"), resp.headers.get("x-request-id"), resp)
        return body

    def credit_verdict(self, key):
        r = self.srv.credit(key)
        if r.status == 200:
            return "OK"
        return r.json().get("code")

    def new_account(self, name, credit=0):
        return self.ok(self.api("POST", "/admin/v1/accounts",
                                body={"name": name, "credit": credit}), 201)

    def new_key(self, account, key=None, **fields):
        body = self.ok(self.api("POST", "/admin/v1/accounts/%s/keys" % account, key=key,
                                body=fields), 201)
        self.assertRegex(body["key"], KEY_RE if fields.get("environment") != "test"
                         else r"^tsk_test_")
        self.secrets.append(body["key"])
        return body

    def fill(self, path, name="acme", key_id=1):
        return path.replace("{name}", name).replace("{id}", str(key_id))

    # ---- authentication --------------------------------------------------------------------
    def test_no_key_is_401_everywhere(self):
        for method, path, body in ROUTES:
            r = self.srv.rest(method, self.fill(path), headers=JSON_HDR,
                              body=json.dumps(body) if body is not None else None)
            self.error(r, 401, "MISSING")

    def test_plain_key_is_insufficient_scope_everywhere(self):
        for method, path, body in ROUTES:
            r = self.api(method, self.fill(path), key=self.plain_key, body=body)
            self.error(r, 403, "INSUFFICIENT_SCOPE")
        # Nothing changed on the way.
        self.assertEqual(self.srv.credit(self.plain_key).json()["Credit"],
                         self.ok(self.api("GET", "/admin/v1/accounts/acme"))["credit"])

    def test_bearer_works_too(self):
        r = self.srv.rest("GET", "/admin/v1/accounts", bearer=self.platform_key)
        self.assertIn("ops", [a["name"] for a in self.ok(r)["accounts"]])

    def test_unknown_path_404_and_wrong_method_405(self):
        for path in ("/admin/v1/", "/admin/v1/nothing", "/admin/v1/accounts/acme/frob",
                     "/admin/v1/accounts/", "/admin/v1/keys/1/frob"):
            self.error(self.api("GET", path), 404, "NOT_FOUND")
        r = self.api("PUT", "/admin/v1/accounts/acme/keys", body={})
        self.error(r, 405, "METHOD_NOT_ALLOWED")
        self.assertEqual(r.headers.get("allow"), "GET, POST", r)
        r = self.api("POST", "/admin/v1/keys/1")
        self.error(r, 405, "METHOD_NOT_ALLOWED")
        self.assertEqual(r.headers.get("allow"), "GET, DELETE", r)
        r = self.api("GET", "/admin/v1/keys/1/rotate")
        self.assertEqual(r.headers.get("allow"), "POST", r)

    # ---- the key lifecycle -----------------------------------------------------------------
    def test_create_show_list_never_shows_the_key(self):
        acct = self.new_account("life", credit=10)
        self.assertEqual((acct["name"], acct["credit"], acct["monthlyAllowance"]),
                         ("life", 10, 0))
        made = self.new_key("life", name="first", scopes=["credit:read"],
                            rateLimits={"perMinute": 50, "perDay": 1000})
        key = made["key"]
        self.assertEqual(made["account"], "life")
        self.assertEqual(made["name"], "first")
        self.assertEqual(made["status"], "active")
        self.assertEqual(made["environment"], "live")
        self.assertEqual(made["scopes"], ["credit:read"])
        self.assertEqual(made["ipAllow"], [])
        self.assertEqual(made["rateLimits"], {"perMinute": 50, "perDay": 1000})
        self.assertIs(made["platform"], False)
        self.assertIsNone(made["expiresAt"])
        self.assertIsNone(made["rotatedFrom"])
        self.assertTrue(key.startswith(made["prefix"]))
        self.assertEqual(self.srv.credit(key).json()["Credit"], 10)
        shown = self.api("GET", "/admin/v1/keys/%d" % made["id"])
        self.assertEqual(self.ok(shown)["id"], made["id"])
        self.assertNotIn("key", shown.json())
        listed = self.api("GET", "/admin/v1/accounts/life/keys")
        self.assertEqual([k["id"] for k in self.ok(listed)["keys"]], [made["id"]])
        self.assertEqual(self.ok(listed)["keys"][0]["useCount"] >= 0, True)
        for resp in (shown, listed, self.api("GET", "/admin/v1/audit?account=life")):
            self.assertNotIn(key.encode(), resp.everything(), resp)

    def test_deactivate_reactivate_take_effect_at_once(self):
        self.new_account("toggle", credit=3)
        made = self.new_key("toggle")
        self.assertEqual(self.credit_verdict(made["key"]), "OK")
        r = self.ok(self.api("POST", "/admin/v1/keys/%d/deactivate" % made["id"]))
        self.assertEqual(r["status"], "inactive")
        self.assertEqual(self.credit_verdict(made["key"]), "DISABLED")
        r = self.ok(self.api("POST", "/admin/v1/keys/%d/reactivate" % made["id"]))
        self.assertEqual(r["status"], "active")
        self.assertEqual(self.credit_verdict(made["key"]), "OK")

    def test_rotate_with_grace_then_without(self):
        self.new_account("spin", credit=5)
        old = self.new_key("spin", name="spinner")
        t0 = time.time()
        r = self.api("POST", "/admin/v1/keys/%d/rotate" % old["id"], body={"grace": 2})
        new = self.ok(r, 201)
        self.secrets.append(new["key"])
        self.assertRegex(new["key"], KEY_RE)
        self.assertNotEqual(new["key"], old["key"])
        self.assertEqual(new["rotatedFrom"], old["id"])
        self.assertEqual(new["name"], "spinner")
        self.assertEqual(self.credit_verdict(old["key"]), "OK")
        self.assertEqual(self.credit_verdict(new["key"]), "OK")
        shown = self.ok(self.api("GET", "/admin/v1/keys/%d" % old["id"]))
        self.assertIsNotNone(shown["expiresAt"], "the grace end is when the old key stops")
        time.sleep(max(0.0, t0 + 3.1 - time.time()))
        self.assertEqual(self.credit_verdict(old["key"]), "EXPIRED")
        self.assertEqual(self.ok(self.api("GET", "/admin/v1/keys/%d" % old["id"]))["status"],
                         "expired")
        self.assertEqual(self.credit_verdict(new["key"]), "OK")
        # Without grace the replaced key stops at once.
        newer = self.ok(self.api("POST", "/admin/v1/keys/%d/rotate" % new["id"]), 201)
        self.secrets.append(newer["key"])
        self.assertEqual(self.credit_verdict(new["key"]), "DISABLED")
        self.assertEqual(self.credit_verdict(newer["key"]), "OK")
        # An expired key cannot come back, nor can a stopped one be rotated again.
        self.error(self.api("POST", "/admin/v1/keys/%d/reactivate" % old["id"]), 409,
                   "CONFLICT")
        self.error(self.api("POST", "/admin/v1/keys/%d/rotate" % new["id"]), 409, "CONFLICT")

    def test_delete_only_inactive(self):
        self.new_account("gone")
        made = self.new_key("gone")
        path = "/admin/v1/keys/%d" % made["id"]
        self.error(self.api("DELETE", path), 409, "CONFLICT")
        self.assertEqual(self.credit_verdict(made["key"]), "OK")
        self.ok(self.api("POST", path + "/deactivate"))
        self.assertEqual(self.ok(self.api("DELETE", path)), {"deleted": made["id"]})
        self.error(self.api("GET", path), 404, "NOT_FOUND")
        self.error(self.api("DELETE", path), 404, "NOT_FOUND")
        self.assertEqual(self.credit_verdict(made["key"]), "INVALID")

    def test_key_settings_reach_the_validator(self):
        self.new_account("fenced", credit=1)
        far = self.new_key("fenced", ipAllow=["10.0.0.0/8", "192.0.2.1"])
        self.assertEqual(far["ipAllow"], ["10.0.0.0/8", "192.0.2.1"])
        self.assertEqual(self.credit_verdict(far["key"]), "IP_NOT_ALLOWED")
        near = self.new_key("fenced", ipAllow=["127.0.0.1"])
        self.assertEqual(self.credit_verdict(near["key"]), "OK")
        admin_only = self.new_key("fenced", scopes=["keys:admin"])
        self.assertEqual(self.credit_verdict(admin_only["key"]), "INSUFFICIENT_SCOPE")
        test_env = self.new_key("fenced", environment="test", expiresAt="2999-01-01")
        self.assertEqual(test_env["environment"], "test")
        self.assertEqual(test_env["expiresAt"], "2999-01-01T00:00:00Z")
        self.assertEqual(self.credit_verdict(test_env["key"]), "OK")

    def test_platform_key_by_platform(self):
        self.new_account("plat")
        made = self.new_key("plat", platform=True, scopes=["keys:admin"])
        self.assertIs(made["platform"], True)
        r = self.api("GET", "/admin/v1/accounts/beta", key=made["key"])
        self.assertEqual(self.ok(r)["name"], "beta")

    # ---- import ----------------------------------------------------------------------------
    def test_import_legacy_key(self):
        self.new_account("old", credit=4)
        legacy = str(uuid.uuid4()).upper()
        self.secrets.append(legacy)
        r = self.api("POST", "/admin/v1/accounts/old/keys/import",
                     body={"key": legacy, "name": "from-trackroad", "scopes": ["credit:read"]})
        made = self.ok(r, 201)
        self.assertNotIn(legacy.encode(), r.everything())
        self.assertNotIn("key", made)
        self.assertEqual((made["environment"], made["prefix"], made["name"]),
                         ("legacy", "legacy", "from-trackroad"))
        self.assertEqual(self.srv.credit(legacy).json()["Credit"], 4)
        again = self.api("POST", "/admin/v1/accounts/old/keys/import", body={"key": legacy})
        self.error(again, 409, "CONFLICT")
        self.assertNotIn(legacy.encode(), again.everything())
        # By hash: the key itself never travels.
        other = str(uuid.uuid4())
        self.secrets.append(other)
        digest = hashlib.sha256(other.encode()).hexdigest()
        self.ok(self.api("POST", "/admin/v1/accounts/old/keys/import",
                         body={"sha256": digest}), 201)
        self.assertEqual(self.srv.credit(other).json()["Credit"], 4)

    def test_import_refuses_what_is_not_legacy(self):
        path = "/admin/v1/accounts/acme/keys/import"
        for body, word in (({"key": self.plain_key}, "key"),
                           ({"key": "x", "sha256": "00" * 32}, "sha256"),
                           ({}, "key"),
                           ({"sha256": "zz"}, "sha256"),
                           ({"key": 12}, "key"),
                           ({"key": "abc", "platform": True}, "platform"),
                           ({"key": "abc", "environment": "test"}, "environment")):
            r = self.api("POST", path, body=body)
            self.assertIn(word, self.error(r, 400, "BAD_REQUEST")["message"], (body, r))

    # ---- credit, allowance, users ---------------------------------------------------------
    def test_credit_set_add_and_allowance(self):
        self.new_account("money", credit=1)
        made = self.new_key("money")
        r = self.ok(self.api("POST", "/admin/v1/accounts/money/credit", body={"set": 40}))
        self.assertEqual(r["credit"], 40)
        self.assertEqual(self.srv.credit(made["key"]).json()["Credit"], 40)
        r = self.ok(self.api("POST", "/admin/v1/accounts/money/credit", body={"add": 2}))
        self.assertEqual(r["credit"], 42)
        self.assertEqual(self.srv.credit(made["key"]).json()["Credit"], 42)
        r = self.ok(self.api("POST", "/admin/v1/accounts/money/allowance",
                             body={"monthlyAllowance": 500}))
        self.assertEqual(r["monthlyAllowance"], 500)
        self.assertEqual(self.ok(self.api("GET", "/admin/v1/accounts/money"))
                         ["monthlyAllowance"], 500)
        for body in ({"set": 1, "add": 1}, {}, {"set": "40"}, {"add": 1.5}):
            self.error(self.api("POST", "/admin/v1/accounts/money/credit", body=body), 400,
                       "BAD_REQUEST")
        self.error(self.api("POST", "/admin/v1/accounts/money/allowance",
                            body={"monthlyAllowance": -1}), 400, "BAD_REQUEST")
        # The allowance has not been granted this month: the next call tops the balance up
        # to it, and keeps it at the allowance for the rest of the month.
        self.assertEqual(self.srv.credit(made["key"]).json()["Credit"], 500)
        self.assertEqual(self.ok(self.api("GET", "/admin/v1/accounts/money"))["credit"], 500)

    def test_users_create_and_login(self):
        self.new_account("people")
        pw = "users-test password 9"
        self.secrets.append(pw)
        r = self.api("POST", "/admin/v1/accounts/people/users",
                     body={"name": "carol", "password": pw})
        made = self.ok(r, 201)
        self.assertNotIn(pw.encode(), r.everything())
        self.assertEqual((made["name"], made["kind"]), ("carol", "person"))
        self.assertNotIn("password", made)
        login = self.srv.rest_login("carol", pw)
        self.assertEqual(login.status, 200, login)
        self.assertEqual(login.json()["Status"], 1)
        self.assertEqual(self.srv.rest_login("carol", pw + "x").status, 401)
        api = self.ok(self.api("POST", "/admin/v1/accounts/people/users",
                               body={"name": "robot", "password": pw, "api": True}), 201)
        self.assertEqual(api["kind"], "api")
        users = self.ok(self.api("GET", "/admin/v1/accounts/people/users"))["users"]
        self.assertEqual(sorted(u["name"] for u in users), ["carol", "robot"])
        self.assertTrue(all(set(u) == {"id", "name", "kind", "createdAt"} for u in users))
        dup = self.api("POST", "/admin/v1/accounts/people/users",
                       body={"name": "carol", "password": "other"})
        self.error(dup, 409, "CONFLICT")
        for body in ({"name": "dave"}, {"name": "dave", "password": ""},
                     {"name": "dave", "password": 5}, {"name": "dave", "password": "p",
                                                       "api": "yes"}):
            self.error(self.api("POST", "/admin/v1/accounts/people/users", body=body), 400,
                       "BAD_REQUEST")

    # ---- the audit trail --------------------------------------------------------------------
    def test_audit_names_actor_and_request_ids(self):
        self.new_account("audited")
        made_resp = self.api("POST", "/admin/v1/accounts/audited/keys", body={"name": "a1"})
        made = self.ok(made_resp, 201)
        self.secrets.append(made["key"])
        deact = self.api("POST", "/admin/v1/keys/%d/deactivate" % made["id"])
        self.ok(deact)
        cred = self.api("POST", "/admin/v1/accounts/audited/credit", body={"set": 3})
        self.ok(cred)
        pw = "audit password 7"
        self.secrets.append(pw)
        user = self.api("POST", "/admin/v1/accounts/audited/users",
                        body={"name": "audit-user", "password": pw})
        self.ok(user, 201)
        r = self.api("GET", "/admin/v1/audit?account=audited")
        entries = self.ok(r)["entries"]
        platform_id = self.ok(self.api("GET", "/admin/v1/accounts/ops/keys"))["keys"][0]["id"]
        want = [("user.create", user), ("account.credit_set", cred),
                ("key.deactivate", deact), ("key.create", made_resp)]
        got = [(e["action"], e["requestId"]) for e in entries[:4]]
        self.assertEqual(got, [(a, resp.headers["x-request-id"]) for a, resp in want])
        for e in entries[:4]:
            self.assertEqual(e["actor"], "key:%d" % platform_id)
            self.assertEqual(e["client"], "127.0.0.1")
            self.assertIsInstance(e["detail"], dict)
        self.assertEqual(entries[0]["target"], "user:audit-user")
        self.assertEqual(entries[3]["target"], "key:%d" % made["id"])
        self.assertEqual(entries[1]["detail"].get("value"), 3)
        ids = [e["id"] for e in entries]
        self.assertEqual(ids, sorted(ids, reverse=True), "newest first")
        for secret in self.secrets:
            self.assertNotIn(secret.encode(), r.body)
        # limit and before page through it.
        page = self.ok(self.api("GET", "/admin/v1/audit?account=audited&limit=2"))["entries"]
        self.assertEqual([e["id"] for e in page], ids[:2])
        rest = self.ok(self.api("GET", "/admin/v1/audit?account=audited&limit=2&before=%d"
                                % ids[1]))["entries"]
        self.assertEqual([e["id"] for e in rest], ids[2:4])
        for q in ("limit=0", "limit=1001", "limit=x", "before=-1", "frob=1", "account=a%20b"):
            self.error(self.api("GET", "/admin/v1/audit?" + q), 400, "BAD_REQUEST")

    def test_whole_audit_and_log_hold_no_secret(self):
        r = self.api("GET", "/admin/v1/audit?limit=1000")
        self.ok(r)
        log = self.srv.log_bytes()
        for secret in self.secrets:
            self.assertNotIn(secret.encode(), r.body)
            self.assertNotIn(secret.encode(), log)

    # ---- tenant isolation ------------------------------------------------------------------
    def test_tenant_cannot_reach_another_account(self):
        t = self.tenant_key
        refusals = []
        for method, path, body in ROUTES:
            if "{name}" in path:
                for name in ("beta", "no-such-account"):
                    refusals.append(self.api(method, self.fill(path, name=name), key=t,
                                             body=body))
            elif "{id}" in path:
                for key_id in (self.beta_key_id, 999999):
                    refusals.append(self.api(method, self.fill(path, key_id=key_id), key=t,
                                             body=body))
        for q in ("account=beta", "account=no-such-account"):
            refusals.append(self.api("GET", "/admin/v1/audit?" + q, key=t))
        messages = set()
        for r in refusals:
            messages.add(self.error(r, 403, "FORBIDDEN")["message"])
            self.assertEqual(set(r.json()), {"message", "code", "requestId"}, r)
            for leak in (b"beta", self.beta_key[:13].encode(), b"credit", b"account\""):
                self.assertNotIn(leak, r.body, r)
        self.assertEqual(len(messages), 1, "the same words whether or not the thing exists")
        # Nothing of beta's changed.
        self.assertEqual(self.srv.credit(self.beta_key).json()["Credit"], 99)
        beta = self.ok(self.api("GET", "/admin/v1/keys/%d" % self.beta_key_id))
        self.assertEqual(beta["status"], "active")

    def test_tenant_cannot_make_accounts_or_platform_keys(self):
        t = self.tenant_key
        self.error(self.api("POST", "/admin/v1/accounts", key=t, body={"name": "sneaky"}), 403,
                   "FORBIDDEN")
        self.error(self.api("GET", "/admin/v1/accounts/sneaky"), 404, "NOT_FOUND")
        self.error(self.api("POST", "/admin/v1/accounts/acme/keys", key=t,
                            body={"platform": True}), 403, "FORBIDDEN")

    def test_tenant_manages_its_own(self):
        t = self.tenant_key
        accounts = self.ok(self.api("GET", "/admin/v1/accounts", key=t))["accounts"]
        self.assertEqual([a["name"] for a in accounts], ["acme"])
        made = self.new_key("acme", key=t, name="by-tenant")
        self.assertEqual(self.credit_verdict(made["key"]), "OK")
        keys = self.ok(self.api("GET", "/admin/v1/accounts/acme/keys", key=t))["keys"]
        self.assertIn(made["id"], [k["id"] for k in keys])
        self.assertEqual({k["account"] for k in keys}, {"acme"})
        self.ok(self.api("POST", "/admin/v1/keys/%d/deactivate" % made["id"], key=t))
        self.assertEqual(self.credit_verdict(made["key"]), "DISABLED")
        acme_id = accounts[0]["id"]
        entries = self.ok(self.api("GET", "/admin/v1/audit", key=t))["entries"]
        self.assertTrue(entries)
        self.assertEqual({e["accountId"] for e in entries}, {acme_id})
        own = self.ok(self.api("GET", "/admin/v1/audit?account=acme", key=t))["entries"]
        self.assertEqual(own, entries)

    # ---- input checking ---------------------------------------------------------------------
    def test_bad_input_says_what_is_wrong(self):
        path = "/admin/v1/accounts/acme/keys"
        cases = [({"name": 5}, "name"), ({"scopes": "credit:read"}, "scopes"),
                 ({"scopes": ["Bad Scope"]}, "scopes"), ({"scopes": ["a"] * 17}, "scopes"),
                 ({"ipAllow": ["not-an-ip"]}, "ipAllow"), ({"ipAllow": []}, "ipAllow"),
                 ({"ipAllow": ["10.0.0.1/8"]}, "ipAllow"),
                 ({"expiresAt": "2001-01-01"}, "past"), ({"expiresAt": "soon"}, "expiresAt"),
                 ({"environment": "prod"}, "environment"), ({"platform": "yes"}, "platform"),
                 ({"rateLimits": {"perMinute": -1}}, "perMinute"),
                 ({"rateLimits": {"perHour": 1}}, "rateLimits"), ({"frob": 1}, "frob")]
        for body, word in cases:
            r = self.api("POST", path, body=body)
            self.assertIn(word, self.error(r, 400, "BAD_REQUEST")["message"], (body, r))
        self.error(self.api("POST", path, raw="{not json"), 400, "BAD_REQUEST")
        self.error(self.api("POST", path, raw="[1]"), 400, "BAD_REQUEST")
        self.error(self.api("POST", "/admin/v1/accounts", body={"credit": 1}), 400,
                   "BAD_REQUEST")
        self.error(self.api("POST", "/admin/v1/accounts", body={"name": "x", "credit": "1"}),
                   400, "BAD_REQUEST")
        self.error(self.api("POST", "/admin/v1/accounts", body={"name": "acme"}), 409,
                   "CONFLICT")
        self.error(self.api("GET", "/admin/v1/keys/abc"), 400, "BAD_REQUEST")
        self.error(self.api("GET", "/admin/v1/keys/0"), 400, "BAD_REQUEST")
        self.error(self.api("GET", "/admin/v1/accounts/ac%6De"), 400, "BAD_REQUEST")
        self.error(self.api("POST", "/admin/v1/keys/1/rotate", body={"grace": -1}), 400,
                   "BAD_REQUEST")

    def test_platform_gets_404_for_what_does_not_exist(self):
        self.error(self.api("GET", "/admin/v1/accounts/no-such-account"), 404, "NOT_FOUND")
        self.error(self.api("GET", "/admin/v1/accounts/no-such-account/keys"), 404,
                   "NOT_FOUND")
        self.error(self.api("POST", "/admin/v1/accounts/no-such-account/keys", body={}), 404,
                   "NOT_FOUND")
        self.error(self.api("GET", "/admin/v1/audit?account=no-such-account"), 404,
                   "NOT_FOUND")
        for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/deactivate"),
                               ("POST", "/reactivate"), ("POST", "/rotate")):
            self.error(self.api(method, "/admin/v1/keys/999999" + suffix), 404, "NOT_FOUND")

    # ---- the active-key limit ---------------------------------------------------------------
    def test_key_limit(self):
        s = self.srv
        s.account_create("full")
        for i in range(100):
            s.cli("key", "create", "full", "--name", "k%d" % i)
        r = self.api("POST", "/admin/v1/accounts/full/keys", body={"name": "one-too-many"})
        self.error(r, 409, "KEY_LIMIT")
        self.assertNotIn(b"tsk_", r.body)
        keys = self.ok(self.api("GET", "/admin/v1/accounts/full/keys"))["keys"]
        self.assertEqual(len(keys), 100)
        # Rotation replaces a key, so it is allowed at the limit; a freed slot takes a new key.
        rot = self.ok(self.api("POST", "/admin/v1/keys/%d/rotate" % keys[0]["id"]), 201)
        self.secrets.append(rot["key"])
        self.error(self.api("POST", "/admin/v1/keys/%d/reactivate" % keys[0]["id"]), 409,
                   "KEY_LIMIT")
        self.ok(self.api("POST", "/admin/v1/keys/%d/deactivate" % keys[1]["id"]))
        self.new_key("full", name="fits-now")


if __name__ == "__main__":
    unittest.main()
