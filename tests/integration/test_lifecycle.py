"""Key lifecycle from the CLI against a live server: create, use, rotate (with and without
grace), deactivate (revoke), reactivate, delete, import of legacy keys, the --max-keys cap, the
audit trail, and batched last-used times. Every use is checked on both channels: REST
POST /rest/credit and SOAP 1.1 CreditRemaining."""
import datetime
import hashlib
import json
import time
import unittest
import uuid

from harness import (KEY_RE, SOAP11_NS, TEST_KEY_RE, Server, rest_verdict, rfc3339,
                     soap_verdict, wait_until)
from harness import envelope, parse_soap, soap_headers

RFC3339_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


def epoch(ts):
    """'YYYY-MM-DDTHH:MM:SSZ' -> seconds since the epoch."""
    return int(datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp())


class BothChannels:
    def verdicts(self, key):
        """(REST verdict, SOAP verdict) for key on /rest/credit and CreditRemaining."""
        r = self.srv.credit(key)
        resp, res = self.srv.soap("CreditRemaining", session_id=key)
        return rest_verdict(r), soap_verdict(resp, res)

    def assertBoth(self, key, verdict):
        self.assertEqual(self.verdicts(key), (verdict, verdict))


class LifecycleTest(BothChannels, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server("lifecycle")
        s.account_create("acme", credit=50)
        # Keys that must expire during the run: made first, so the wait overlaps other tests.
        cls.exp_at = int(time.time()) + 2
        cls.exp_a, cls.exp_a_id = s.key_create_id("acme", name="exp-a",
                                                  expires=rfc3339(cls.exp_at))
        cls.exp_b, cls.exp_b_id = s.key_create_id("acme", name="exp-b",
                                                  expires=rfc3339(cls.exp_at))
        s.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    # ---- rotate, revoke ----------------------------------------------------------------------
    def test_create_use_rotate_with_grace_then_revoke(self):
        s = self.srv
        old, old_id = s.key_create_id("acme", name="rotating")
        self.assertRegex(old, KEY_RE)
        self.assertBoth(old, "OK")
        new = s.key_rotate(old_id, grace=2)
        self.assertRegex(new, KEY_RE)
        self.assertNotEqual(new, old)
        new_id = s.key_id(new)
        # In the grace period both keys work, on both channels.
        self.assertBoth(old, "OK")
        self.assertBoth(new, "OK")
        shown = s.key_show(old_id)
        self.assertRegex(shown["grace_ends_at"], RFC3339_RE)
        ends = epoch(shown["grace_ends_at"])
        self.assertTrue(time.time() - 1 <= ends <= time.time() + 2.5, shown)
        row = s.key_row(old_id)
        self.assertEqual(row["STATUS"], "active")
        self.assertEqual(row["EXPIRES"], shown["grace_ends_at"])
        self.assertEqual(s.key_show(new_id).get("rotated_from"), old_id)
        self.assertEqual(s.key_row(new_id)["NAME"], "rotating")
        # When the grace ends, the old key is EXPIRED; the new one carries on.
        wait_until(ends + 0.2)
        self.assertBoth(old, "EXPIRED")
        self.assertEqual(s.key_row(old_id)["STATUS"], "expired")
        self.assertBoth(new, "OK")
        # An expired (grace-ended) key cannot be brought back.
        cp = s.key_reactivate(old_id, check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertIn("expired", cp.stderr)
        self.assertBoth(old, "EXPIRED")
        # Revoking the new key is honoured on the very next request, on both channels.
        s.key_revoke(new_id)
        self.assertBoth(new, "DISABLED")
        self.assertEqual(s.key_row(new_id)["STATUS"], "inactive")

    def test_rotate_without_grace(self):
        s = self.srv
        old, old_id = s.key_create_id("acme", name="rot-now")
        self.assertBoth(old, "OK")
        cp = s.cli("key", "rotate", old_id)
        new = cp.stdout.strip()
        self.assertEqual(cp.stdout, new + "\n", "rotate prints the new key alone")
        self.assertRegex(new, KEY_RE)
        self.assertNotIn(new, cp.stderr)
        self.assertNotIn(old, cp.stdout + cp.stderr)
        self.assertBoth(old, "DISABLED")
        self.assertBoth(new, "OK")
        self.assertEqual(s.key_row(old_id)["STATUS"], "inactive")

    def test_rotate_keeps_settings(self):
        s = self.srv
        old, old_id = s.key_create_id("acme", name="rot-settings", test=True,
                                      scopes="credit:read track:write",
                                      ip="127.0.0.1, 10.0.0.0/8", rate_minute=30, rate_day=300,
                                      expires="2099-06-01")
        new = s.key_rotate(old_id)
        self.assertRegex(new, TEST_KEY_RE)
        a, b = s.key_show(old_id), s.key_show(s.key_id(new))
        for field in ("account", "name", "environment", "scopes", "ip_allow", "platform",
                      "rate_per_minute", "rate_per_day", "expires_at"):
            self.assertEqual(a[field], b[field], field)
        self.assertEqual(b["scopes"], "credit:read track:write")
        self.assertEqual(b["expires_at"], "2099-06-01T00:00:00Z")
        self.assertBoth(new, "OK")

    def test_rotate_refused_for_unusable_key(self):
        s = self.srv
        k, kid = s.key_create_id("acme", name="rot-inactive")
        s.key_deactivate(kid)
        before = len(s.key_list("acme")[0])
        cp = s.cli("key", "rotate", kid, check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertEqual(cp.stdout, "", "no key may be printed when rotate fails")
        self.assertIn("only an active key", cp.stderr)
        self.assertEqual(len(s.key_list("acme")[0]), before, "a refused rotate made a key")
        for args in (("key", "rotate", "999999"), ("key", "rotate", kid, "--grace", "-5"),
                     ("key", "rotate", kid, "--grace", "soon")):
            cp = s.cli(*args, check=False)
            self.assertNotEqual(cp.returncode, 0, (args, cp))
            self.assertEqual(cp.stdout, "")

    def test_deactivate_next_request_on_keepalive_connection(self):
        s = self.srv
        k, kid = s.key_create_id("acme", name="keepalive")
        body = envelope("CreditRemaining", session_id=k).encode()
        with s.raw() as c:
            st, _h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + k])
            self.assertEqual(st, 200, b)
            st, _h, b = c.request("POST", "/TrackService.asmx",
                                  soap_headers("CreditRemaining"), body)
            self.assertEqual(parse_soap(b).credit, 50, b)
            s.key_deactivate(kid)
            st, _h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + k])
            self.assertEqual(st, 403, b)
            self.assertEqual(json.loads(b)["code"], "DISABLED")
            st, _h, b = c.request("POST", "/TrackService.asmx",
                                  soap_headers("CreditRemaining"), body)
            res = parse_soap(b)
            self.assertEqual(res.detail_code, "DISABLED", res)
            self.assertEqual(res.env_ns, SOAP11_NS)
        # (A SOAP fault ends its connection with "Connection: close": go on on a new one.)
        with s.raw() as c:
            s.key_reactivate(kid)
            st, _h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + k])
            self.assertEqual(st, 200, b)
            s.key_revoke(kid)
            st, _h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + k])
            self.assertEqual(st, 403, b)

    # ---- reactivate --------------------------------------------------------------------------
    def test_reactivate(self):
        s = self.srv
        k, kid = s.key_create_id("acme", name="comeback")
        s.key_deactivate(kid)
        self.assertBoth(k, "DISABLED")
        cp = s.key_reactivate(kid)
        self.assertEqual(cp.stdout, "")
        self.assertBoth(k, "OK")
        self.assertEqual(s.key_row(kid)["STATUS"], "active")
        # Reactivating an active key changes nothing.
        s.key_reactivate(kid)
        self.assertBoth(k, "OK")

    def test_reactivate_expired_refused(self):
        s = self.srv
        wait_until(self.exp_at + 1.1)
        self.assertBoth(self.exp_a, "EXPIRED")
        self.assertEqual(s.key_row(self.exp_a_id)["STATUS"], "expired")
        s.key_deactivate(self.exp_a_id)
        self.assertEqual(s.key_row(self.exp_a_id)["STATUS"], "inactive")
        cp = s.key_reactivate(self.exp_a_id, check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertIn("expired", cp.stderr)
        self.assertEqual(s.key_row(self.exp_a_id)["STATUS"], "inactive")
        self.assertBoth(self.exp_a, "DISABLED")

    def test_platform_flag(self):
        s = self.srv
        k, kid = s.key_create_id("acme", name="platform", platform=True)
        self.assertEqual(s.key_show(kid)["platform"], "yes")
        me = s.rest("GET", "/rest/me", key=k).json()
        self.assertIs(me["platform"], True)
        self.assertBoth(k, "OK")
        plain, pid = s.key_create_id("acme", name="not-platform")
        self.assertEqual(s.key_show(pid)["platform"], "no")
        self.assertIs(s.rest("GET", "/rest/me", key=plain).json()["platform"], False)

    def test_unknown_key_id(self):
        for verb in ("show", "deactivate", "revoke", "reactivate", "delete", "rotate"):
            cp = self.srv.cli("key", verb, "987654", check=False)
            self.assertNotEqual(cp.returncode, 0, (verb, cp))
            self.assertIn("not found", cp.stderr, verb)
            cp = self.srv.cli("key", verb, "seven", check=False)
            self.assertNotEqual(cp.returncode, 0, (verb, cp))

    # ---- delete ------------------------------------------------------------------------------
    def test_delete_rules(self):
        s = self.srv
        k, kid = s.key_create_id("acme", name="doomed")
        cp = s.key_delete(kid, check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertIn("only an inactive or expired key can be deleted", cp.stderr)
        self.assertBoth(k, "OK")
        self.assertIsNotNone(s.key_row(kid))
        s.key_deactivate(kid)
        s.key_delete(kid)
        self.assertIsNone(s.key_row(kid), "a deleted key is still listed")
        # Gone: the key is now unknown, on both channels.
        self.assertBoth(k, "INVALID")
        cp = s.key_delete(kid, check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertIn("not found", cp.stderr)
        cp = s.key_reactivate(kid, check=False)
        self.assertNotEqual(cp.returncode, 0, cp)

    def test_delete_expired(self):
        s = self.srv
        wait_until(self.exp_at + 1.1)
        self.assertEqual(s.key_row(self.exp_b_id)["STATUS"], "expired")
        s.key_delete(self.exp_b_id)
        self.assertIsNone(s.key_row(self.exp_b_id))
        self.assertBoth(self.exp_b, "INVALID")

    # ---- import ------------------------------------------------------------------------------
    def test_import_legacy_guid(self):
        s = self.srv
        guid = str(uuid.uuid4())
        self.assertBoth(guid, "INVALID")
        cp = s.key_import("acme", guid, extra=("--name", "from-asmx"))
        self.assertRegex(cp.stdout, r"^\d+\n$", "import prints the new key id alone")
        kid = cp.stdout.strip()
        self.assertNotIn(guid, cp.stdout + cp.stderr)
        self.assertNotIn(guid.upper(), (cp.stdout + cp.stderr).upper())
        self.assertBoth(guid, "OK")
        # Surrounding white space is the transport's, as for any key.
        self.assertEqual(rest_verdict(s.rest("POST", "/rest/credit",
                                             headers=["X-API-Key: \t%s " % guid])), "OK")
        row = s.key_row(kid)
        self.assertEqual(row["ENV"], "legacy")
        self.assertEqual(row["NAME"], "from-asmx")
        self.assertEqual(row["STATUS"], "active")
        _rows, text = s.key_list()
        self.assertNotIn(guid, text)
        for part in guid.split("-"):
            if len(part) >= 8:
                self.assertNotIn(part, text, "key list shows part of the legacy key")
        me = s.rest("GET", "/rest/me", key=guid).json()
        self.assertEqual(me["environment"], "legacy")
        self.assertEqual(me["keyName"], "from-asmx")
        self.assertNotIn(guid, json.dumps(me))
        # The legacy key is a key like any other: deactivated at once on both channels.
        s.key_deactivate(kid)
        self.assertBoth(guid, "DISABLED")

    def test_import_by_hash(self):
        s = self.srv
        guid = str(uuid.uuid4())
        digest = hashlib.sha256(guid.encode()).hexdigest()
        cp = s.key_import("acme", digest.upper(), hash=True)
        self.assertRegex(cp.stdout, r"^\d+\n$")
        self.assertBoth(guid, "OK")
        # The key whose hash it is works; the hash itself is not a key.
        self.assertBoth(digest, "INVALID")

    def test_import_refusals(self):
        s = self.srv
        guid = str(uuid.uuid4())
        s.key_import("acme", guid)
        cases = [
            ("duplicate", guid, False),
            ("same key by hash", hashlib.sha256(guid.encode()).hexdigest(), True),
            ("a tsk_ key", s.key_create("acme"), False),
            ("short hash", "ab" * 31, True),
            ("not hex", "zz" * 32, True),
            ("blank", "   ", False),
        ]
        for label, stdin, by_hash in cases:
            cp = s.key_import("acme", stdin, hash=by_hash, check=False)
            with self.subTest(label):
                self.assertNotEqual(cp.returncode, 0, cp)
                self.assertEqual(cp.stdout, "")
                self.assertTrue(cp.stderr.strip())
        cp = s.cli("key", "import", "acme", input="", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        cp = s.key_import("no-such-account", str(uuid.uuid4()), check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        for opt in (("--test",), ("--platform",)):
            cp = s.key_import("acme", str(uuid.uuid4()), extra=opt, check=False)
            self.assertNotEqual(cp.returncode, 0, (opt, cp))

    def test_import_with_policy(self):
        s = self.srv
        scoped, fenced = str(uuid.uuid4()), str(uuid.uuid4())
        s.key_import("acme", scoped, extra=("--scopes", "track:write"))
        s.key_import("acme", fenced, extra=("--ip", "10.0.0.0/8"))
        self.assertBoth(scoped, "INSUFFICIENT_SCOPE")
        self.assertBoth(fenced, "IP_NOT_ALLOWED")

    def test_rotate_legacy_key(self):
        s = self.srv
        guid = str(uuid.uuid4())
        kid = s.key_import("acme", guid).stdout.strip()
        new = s.key_rotate(kid)
        self.assertRegex(new, KEY_RE)   # a legacy key rotates into a tsk_live_ key
        self.assertBoth(guid, "DISABLED")
        self.assertBoth(new, "OK")


class MaxKeysTest(BothChannels, unittest.TestCase):
    """tskey --max-keys N: the usable keys of one account."""

    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server("maxkeys")
        s.account_create("capped", credit=8)
        s.account_create("other", credit=8)
        # The server gets a cap below what the account already holds: the cap limits making
        # keys, never using them.
        cls.keys = [s.key_create("capped") for _ in range(3)]
        s.start(global_opts=("--max-keys", "1"))

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_existing_keys_work_above_cap(self):
        for k in self.keys:
            self.assertBoth(k, "OK")

    def test_third_key_refused(self):
        s = self.srv
        s.account_create("two", credit=1)
        cap = ("--max-keys", "2")
        k1, id1 = s.key_create_id("two", global_opts=cap)
        k2, id2 = s.key_create_id("two", global_opts=cap)
        cp = s.cli("key", "create", "two", global_opts=cap, check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertEqual(cp.stdout, "", "no key may be printed when the cap refuses")
        self.assertIn("maximum", cp.stderr)
        self.assertEqual(len(s.key_list("two")[0]), 2)
        # Another account has its own count.
        s.key_create_id("other", global_opts=cap)
        # Rotation replaces a key: allowed at the cap.
        k3 = s.cli("key", "rotate", id1, global_opts=cap).stdout.strip()
        self.assertBoth(k3, "OK")
        self.assertBoth(k1, "DISABLED")
        # The rotated-away key is not usable, so it does not count; bringing it back would
        # make three: refused.
        cp = s.cli("key", "reactivate", id1, global_opts=cap, check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertIn("maximum", cp.stderr)
        self.assertBoth(k1, "DISABLED")
        # Deactivating one frees a place.
        s.key_deactivate(id2)
        k4, _ = s.key_create_id("two", global_opts=cap)
        self.assertBoth(k4, "OK")
        # Without the cap (0), or with a larger one, more keys can be made.
        s.key_create_id("two", global_opts=("--max-keys", "0"))
        s.key_create_id("two", global_opts=("--max-keys", "5"))

    def test_bad_max_keys(self):
        for val in ("-1", "lots", ""):
            cp = self.srv.cli("key", "create", "other", global_opts=("--max-keys", val),
                              check=False)
            self.assertNotEqual(cp.returncode, 0, (val, cp))
            self.assertEqual(cp.stdout, "")


class AuditTest(unittest.TestCase):
    """Each lifecycle change writes one audit row, and the audit output holds no secret."""

    def test_audit_trail(self):
        s = Server("audit")
        s.account_create("bystander", credit=1)
        s.start()
        try:
            self._trail(s)
            s.stop()
        finally:
            s.kill()

    def _trail(self, s):
        t0 = int(time.time())
        secrets = []
        expect = []     # (action, target) in the order made

        s.account_create("audited", credit=5, allowance=3)
        aid = [ln.split("\t")[0] for ln in s.cli("account", "list").stdout.splitlines()
               if ln.split("\t")[1:2] == ["audited"]][0]
        expect.append(("account.create", "account:" + aid))
        s.credit_add("audited", 2)
        expect.append(("account.credit_add", "account:" + aid))
        s.credit_set("audited", 9)
        expect.append(("account.credit_set", "account:" + aid))
        s.allowance_set("audited", 4)
        expect.append(("account.allowance_set", "account:" + aid))
        k1, id1 = s.key_create_id("audited", name="audit-key", scopes="credit:read track:write")
        secrets.append(k1)
        expect.append(("key.create", "key:" + id1))
        self.assertEqual(s.credit(k1).status, 200)
        s.key_deactivate(id1)
        expect.append(("key.deactivate", "key:" + id1))
        s.key_reactivate(id1)
        expect.append(("key.reactivate", "key:" + id1))
        k2 = s.key_rotate(id1)
        secrets.append(k2)
        id2 = s.key_id(k2)
        expect.append(("key.rotate", "key:" + id2))
        s.key_delete(id1)
        expect.append(("key.delete", "key:" + id1))
        guid = str(uuid.uuid4())
        secrets.append(guid)
        gid = s.key_import("audited", guid).stdout.strip()
        expect.append(("key.import", "key:" + gid))
        password = "Audit-Pw-7c1e-unusual"
        secrets.append(password)
        s.user_create("audited", "audit-svc", password, api=True)
        expect.append(("user.create", "user:audit-svc"))
        # Refused changes leave no row.
        self.assertNotEqual(s.key_delete(id2, check=False).returncode, 0)
        self.assertNotEqual(s.key_reactivate(id1, check=False).returncode, 0)
        self.assertNotEqual(s.cli("key", "create", "audited", "--ip", "nope",
                                  check=False).returncode, 0)
        # Reads leave no row either.
        s.key_show(id2)
        s.key_list("audited")
        t1 = int(time.time())

        rows, text = s.audit(account="audited")
        header = text.splitlines()[0].split("\t")
        self.assertEqual(header, ["ID", "AT", "ACTOR", "ACTION", "ACCOUNT_ID", "TARGET", "CLIENT",
                                  "REQUEST_ID", "DETAIL"])
        got = [(r["ACTION"], r["TARGET"]) for r in reversed(rows)]   # newest first
        self.assertEqual(got, expect, text)
        ids = [int(r["ID"]) for r in rows]
        self.assertEqual(ids, sorted(ids, reverse=True), "audit is not newest first")
        for r in rows:
            self.assertEqual(r["ACTOR"], "cli", r)
            self.assertEqual(r["ACCOUNT_ID"], aid, r)
            self.assertTrue(t0 <= epoch(r["AT"]) <= t1, r)
            self.assertEqual(r["CLIENT"], "-", r)
            self.assertIsInstance(json.loads(r["DETAIL"]), dict, r)
        detail = {r["ACTION"]: json.loads(r["DETAIL"]) for r in rows}
        self.assertEqual(detail["account.create"].get("monthly_allowance"), 3)
        self.assertEqual(detail["account.credit_set"].get("value"), 9)
        self.assertEqual(detail["account.credit_add"].get("value"), 2)
        self.assertEqual(detail["account.allowance_set"].get("value"), 4)
        self.assertEqual(detail["key.create"].get("prefix"), k1[:len(detail["key.create"]
                                                                     ["prefix"])])
        self.assertTrue(k1.startswith(detail["key.create"]["prefix"]))
        self.assertEqual(detail["key.create"].get("scopes"), "credit:read track:write")
        self.assertEqual(detail["key.rotate"].get("rotated_from"), int(id1))
        self.assertEqual(detail["user.create"].get("kind"), "api")
        # The bystander's row is not in the account's trail, but is in the whole one.
        all_rows, all_text = s.audit()
        self.assertEqual(len(all_rows), len(rows) + 1, all_text)
        self.assertEqual(all_rows[-1]["ACTION"], "account.create")
        limited, _ = s.audit(account="audited", limit=3)
        self.assertEqual(limited, rows[:3])
        # No secret, nor the part of a key after its shown prefix, nor a key's hash.
        prefix_len = len(detail["key.create"]["prefix"])
        for out in (text, all_text):
            for secret in secrets:
                self.assertNotIn(secret, out)
            for k in (k1, k2):
                self.assertNotIn(k[prefix_len:], out)
            for secret in secrets:
                self.assertNotIn(hashlib.sha256(secret.encode()).hexdigest(), out.lower())
            self.assertNotIn("scrypt", out.lower())
        cp = s.cli("audit", "--account", "no-such-account", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)


class LastUsedTest(unittest.TestCase):
    """last_used_at is written in batches: within ~2 s by default, and at once on SIGTERM."""

    def test_last_used_within_two_seconds(self):
        s = Server("lastused")
        s.account_create("acme", credit=3)
        k, kid = s.key_create_id("acme")
        idle, idle_id = s.key_create_id("acme")
        s.start()
        try:
            self.assertEqual(s.key_row(kid)["LAST_USED"], "never")
            t0 = int(time.time())
            self.assertEqual(s.credit(k).status, 200)
            resp, res = s.soap("CreditRemaining", session_id=k)
            self.assertEqual(res.credit, 3, res)
            t1 = int(time.time())
            deadline = time.monotonic() + 2.5
            while s.key_row(kid)["LAST_USED"] == "never" and time.monotonic() < deadline:
                time.sleep(0.1)
            used = s.key_row(kid)["LAST_USED"]
            self.assertNotEqual(used, "never", "LAST_USED not written within 2.5 s")
            self.assertTrue(t0 <= epoch(used) <= t1, (used, t0, t1))
            self.assertEqual(s.key_show(kid)["use_count"], "2")
            self.assertEqual(s.key_row(idle_id)["LAST_USED"], "never")
            s.stop()
        finally:
            s.kill()

    def test_last_used_flushed_on_sigterm(self):
        s = Server("lastused-stop")
        s.account_create("acme", credit=3)
        k, kid = s.key_create_id("acme")
        s.start("--usage-flush-ms", "60000")
        try:
            t0 = int(time.time())
            for _ in range(3):
                self.assertEqual(s.credit(k).status, 200)
            t1 = int(time.time())
            time.sleep(0.5)
            # Batched: with a one-minute interval nothing has reached the store yet ...
            self.assertEqual(s.key_row(kid)["LAST_USED"], "never")
            s.stop()
            # ... and the stop wrote it.
            used = s.key_row(kid)["LAST_USED"]
            self.assertNotEqual(used, "never", "SIGTERM lost the pending last-used time")
            self.assertTrue(t0 <= epoch(used) <= t1, (used, t0, t1))
            self.assertEqual(s.key_show(kid)["use_count"], "3")
        finally:
            s.kill()


if __name__ == "__main__":
    unittest.main()
