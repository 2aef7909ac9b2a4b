"""REST: /rest/credit, /rest/login, /rest/logout, /rest/me through curl."""
import json
import time
import unittest
import xml.etree.ElementTree as ET

from harness import GUID_RE, Server, flip_char, rfc3339, wait_until


class RestTest(unittest.TestCase):
    """One server for the file; every test makes its own account where state matters."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server("rest")
        s = cls.srv
        s.account_create("acme", credit=42)
        cls.key = s.key_create("acme", name="main")
        s.user_create("acme", "alice", "correct horse battery")
        # An expiring key, made first so that its two seconds run out during the other tests.
        cls.exp_at = int(time.time()) + 2
        cls.exp_key = s.key_create("acme", name="shortlived", expires=rfc3339(cls.exp_at))
        s.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def assertError(self, resp, status, code):
        """An error reply: status, JSON {message, code, requestId}, requestId == X-Request-Id."""
        self.assertEqual(resp.status, status, resp)
        body = resp.json()
        self.assertEqual(body.get("code"), code, resp)
        self.assertIsInstance(body.get("message"), str, resp)
        self.assertTrue(body["message"], resp)
        self.assertIn("x-request-id", resp.headers, resp)
        self.assertEqual(body.get("requestId"), resp.headers["x-request-id"], resp)
        return body

    # ---- /rest/credit ----------------------------------------------------------------------
    def test_credit_with_x_api_key(self):
        r = self.srv.credit(self.key)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r)
        self.assertEqual(r.json(), {"Credit": 42, "Errors": [], "Status": 0})

    def test_credit_with_bearer(self):
        r = self.srv.credit(bearer=self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"Credit": 42, "Errors": [], "Status": 0})

    def test_credit_path_case_insensitive(self):
        for path in ("/rest/Credit", "/REST/CREDIT"):
            r = self.srv.rest("POST", path, key=self.key)
            self.assertEqual(r.status, 200, (path, r))
            self.assertEqual(r.json()["Credit"], 42, (path, r))

    def test_credit_xml_when_accept_xml(self):
        r = self.srv.credit(self.key, headers=["Accept: application/xml"])
        self.assertEqual(r.status, 200, r)
        self.assertIn("xml", r.headers.get("content-type", ""), r)
        root = ET.fromstring(r.body)
        self.assertEqual(root.tag, "CreditResult", r)
        errors = root.find("Errors")
        self.assertIsNotNone(errors, r)
        self.assertEqual(len(errors), 0, r)
        self.assertEqual(root.findtext("Status"), "None", r)
        self.assertEqual(root.findtext("Credit"), "42", r)

    def test_xml_error_body(self):
        r = self.srv.credit(headers=["Accept: application/xml"])
        self.assertEqual(r.status, 401, r)
        root = ET.fromstring(r.body)
        self.assertEqual(root.tag, "Error", r)
        self.assertEqual(root.findtext("Code"), "MISSING", r)
        self.assertTrue(root.findtext("Message"), r)
        self.assertEqual(root.findtext("RequestId"), r.headers.get("x-request-id"), r)

    def test_test_environment_key(self):
        cp = self.srv.cli("key", "create", "acme", "--test")
        k = cp.stdout.splitlines()[0]
        self.assertRegex(k, r"^tsk_test_[0-9A-Za-z]{28}$")
        r = self.srv.credit(k)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["Credit"], 42)

    def test_no_key_is_missing(self):
        self.assertError(self.srv.credit(), 401, "MISSING")

    def test_bad_key_is_invalid(self):
        self.assertError(self.srv.credit("not-a-real-key"), 401, "INVALID")

    def test_flipped_char_key_is_invalid(self):
        bad = flip_char(self.key)
        self.assertNotEqual(bad, self.key)
        self.assertError(self.srv.credit(bad), 401, "INVALID")

    def test_revoked_key_is_disabled(self):
        s = self.srv
        k = s.key_create("acme", name="torevoke")
        self.assertEqual(s.credit(k).status, 200)
        s.key_revoke(s.key_id(k))
        self.assertError(s.credit(k), 403, "DISABLED")

    def test_expired_key_is_expired(self):
        wait_until(self.exp_at + 1.1)
        self.assertError(self.srv.credit(self.exp_key), 403, "EXPIRED")

    def test_key_with_expiry_works_before_it(self):
        k = self.srv.key_create("acme", name="future", expires=rfc3339(time.time() + 3600))
        r = self.srv.credit(k)
        self.assertEqual(r.status, 200, r)

    def test_error_bodies_carry_request_id(self):
        s = self.srv
        cases = [
            (s.credit(), 401, "MISSING"),
            (s.credit("garbage"), 401, "INVALID"),
            (s.rest("GET", "/rest/credit"), 405, "METHOD_NOT_ALLOWED"),
            (s.rest("GET", "/no/such/thing"), 404, "NOT_FOUND"),
            (s.rest("POST", "/rest/login", headers=["Content-Type: application/json"],
                    body="{nope"), 400, "BAD_REQUEST"),
            (s.rest("GET", "/rest/me", key="garbage"), 401, "INVALID"),
        ]
        ids = set()
        for resp, status, code in cases:
            body = self.assertError(resp, status, code)
            ids.add(body["requestId"])
        self.assertEqual(len(ids), len(cases), "request ids are not unique: %r" % ids)

    def test_key_whitespace_trimmed(self):
        # Leading blanks after the colon belong to HTTP; a tab before and after the key is
        # still whitespace the server must not take as part of the key.
        r = self.srv.rest("POST", "/rest/credit", headers=["X-API-Key: \t%s\t " % self.key])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["Credit"], 42)
        with self.srv.raw() as c:
            st, _h, body = c.request("POST", "/rest/credit",
                                     ["X-API-Key:\t  %s \t" % self.key])
        self.assertEqual(st, 200, body)

    def test_credit_set_visible_at_once(self):
        s = self.srv
        s.account_create("credits", credit=5)
        k = s.key_create("credits")
        self.assertEqual(s.credit(k).json()["Credit"], 5)
        s.credit_set("credits", 777)
        self.assertEqual(s.credit(k).json()["Credit"], 777)
        s.credit_set("credits", 0)
        r = s.credit(k)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["Credit"], 0)

    # ---- login / logout ---------------------------------------------------------------------
    def test_login_success(self):
        r = self.srv.rest_login("alice", "correct horse battery")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["Message"], "Success")
        self.assertEqual(body["Status"], 1)
        self.assertRegex(body["Key"], GUID_RE)

    def test_session_works_on_credit_and_me(self):
        s = self.srv
        key = s.rest_login("alice", "correct horse battery").json()["Key"]
        r = s.credit(key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"Credit": 42, "Errors": [], "Status": 0})
        r = s.rest("GET", "/rest/me", key=key)
        self.assertEqual(r.status, 200, r)
        me = r.json()
        self.assertEqual(me["type"], "session")
        self.assertEqual(me["account"], "acme")
        self.assertEqual(me.get("user"), "alice")
        self.assertNotIn(key, r.text)

    def test_logout_ends_session(self):
        s = self.srv
        key = s.rest_login("alice", "correct horse battery").json()["Key"]
        self.assertEqual(s.credit(key).status, 200)
        r = s.rest("POST", "/rest/logout", key=key)
        self.assertEqual(r.status, 200, r)
        self.assertError(s.credit(key), 401, "INVALID")
        self.assertError(s.rest("GET", "/rest/me", key=key), 401, "INVALID")

    def test_login_wrong_password(self):
        r = self.srv.rest_login("alice", "wrong horse")
        body = self.assertError(r, 401, "INVALID")
        self.assertEqual(body["Status"], 2)
        self.assertNotIn("wrong horse", r.text)
        self.assertFalse(body.get("Key"), body)

    def test_login_unknown_user_same_shape(self):
        r1 = self.srv.rest_login("alice", "wrong horse")
        r2 = self.srv.rest_login("nobody-here", "wrong horse")
        b1 = self.assertError(r1, 401, "INVALID")
        b2 = self.assertError(r2, 401, "INVALID")
        self.assertEqual(b2["Status"], 2)
        b1.pop("requestId")
        b2.pop("requestId")
        self.assertEqual(b1, b2, "unknown user and wrong password must look alike")

    def test_login_malformed_json(self):
        for body in ("{\"UserName\": ", "not json at all", ""):
            r = self.srv.rest("POST", "/rest/login", headers=["Content-Type: application/json"],
                              body=body)
            self.assertError(r, 400, "BAD_REQUEST")

    def test_login_missing_fields(self):
        for obj in ({"UserName": "alice"}, {"Password": "x"}, {},
                    {"UserName": "alice", "Password": 5}, ["alice", "x"]):
            r = self.srv.rest("POST", "/rest/login", headers=["Content-Type: application/json"],
                              body=json.dumps(obj))
            self.assertError(r, 400, "BAD_REQUEST")

    # ---- /rest/me ---------------------------------------------------------------------------
    def test_me_with_key(self):
        s = self.srv
        k = s.key_create("acme", name="melabel", expires="2099-01-01")
        r = s.rest("GET", "/rest/me", key=k)
        self.assertEqual(r.status, 200, r)
        me = r.json()
        self.assertEqual(me["account"], "acme")
        self.assertEqual(me["type"], "key")
        self.assertEqual(me["keyName"], "melabel")
        self.assertEqual(me["credit"], 42)
        self.assertIsInstance(me["prefix"], str)
        self.assertGreaterEqual(len(me["prefix"]), 9)
        self.assertLess(len(me["prefix"]), len(k))
        self.assertTrue(k.startswith(me["prefix"]), (me["prefix"], "not a prefix of the key"))
        self.assertRegex(me["createdAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(me["expiresAt"], "2099-01-01T00:00:00Z")
        self.assertNotIn(k, r.text)
        self.assertNotIn(k[len(me["prefix"]):], r.text)

    def test_me_without_expiry_is_null(self):
        r = self.srv.rest("GET", "/rest/me", key=self.key)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json()["expiresAt"])
        self.assertEqual(r.json()["keyName"], "main")

    # ---- routing ---------------------------------------------------------------------------
    def test_unknown_path_404_json(self):
        r = self.srv.rest("GET", "/rest/nothing-here", key=self.key)
        self.assertError(r, 404, "NOT_FOUND")
        r = self.srv.rest("POST", "/rest/credit/extra", key=self.key)
        self.assertError(r, 404, "NOT_FOUND")

    def test_get_credit_405_allow_post(self):
        r = self.srv.rest("GET", "/rest/credit", key=self.key)
        self.assertError(r, 405, "METHOD_NOT_ALLOWED")
        self.assertEqual(r.headers.get("allow"), "POST", r)


class RestBodyLimitTest(unittest.TestCase):
    """A server with --max-body 1024."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server("maxbody")
        cls.srv.start("--max-body", "1024")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_body_over_max_body_is_413(self):
        r = self.srv.rest("POST", "/rest/login", headers=["Content-Type: application/json"],
                          body="x" * 5000)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.json().get("code"), "TOO_LARGE", r)

    def test_body_over_max_body_after_headers_is_413(self):
        # The same, with the headers and the body in separate TCP segments.
        body = json.dumps({"UserName": "nobody", "Password": "p" * 5000}).encode()
        with self.srv.raw() as c:
            c.sock.sendall(b"POST /rest/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                           % len(body))
            time.sleep(0.2)
            try:
                c.sock.sendall(body)
                st, _h, rbody = c.read_response()
            except (ConnectionError, OSError) as e:
                self.fail("no response to an oversize body: %r" % e)
        self.assertEqual(st, 413, rbody)
        self.assertEqual(json.loads(rbody).get("code"), "TOO_LARGE", rbody)

    def test_body_under_max_body_is_served(self):
        # 1000 bytes of body is under --max-body 1024: an ordinary (failed) Login, not a refusal.
        pad = 1000 - len(json.dumps({"UserName": "nobody", "Password": ""}))
        body = json.dumps({"UserName": "nobody", "Password": "p" * pad})
        self.assertEqual(len(body), 1000)
        r = self.srv.rest("POST", "/rest/login", headers=["Content-Type: application/json"],
                          body=body)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json().get("code"), "INVALID", r)

    def test_oversize_request_is_logged(self):
        r = self.srv.rest("POST", "/rest/login", headers=["Content-Type: application/json"],
                          body="y" * 5000)
        rid = r.headers.get("x-request-id")
        self.assertTrue(rid, r)
        log = self.srv.wait_log("request id=%s " % rid)
        lines = [ln for ln in log.splitlines() if "request id=%s " % rid in ln]
        self.assertEqual(len(lines), 1, "the refused request left no log line")
        self.assertIn("status=413", lines[0])

    def test_small_body_is_served(self):
        r = self.srv.rest_login("nobody", "x")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json().get("code"), "INVALID", r)


if __name__ == "__main__":
    unittest.main()
