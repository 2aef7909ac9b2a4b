"""The server itself: keep-alive state reset, concurrency, clean stop, the request log, the demo
account on first start, and Login sessions ending when idle."""
import re
import threading
import time
import unittest

from harness import RawConn, Server, envelope, rest_verdict, soap_headers
from harness import parse_soap


def soap_request(conn, session_id=None):
    """CreditRemaining (SOAP 1.1) on a raw connection; returns (status, SoapResult, headers)."""
    body = envelope("CreditRemaining", session_id=session_id).encode()
    hdrs = soap_headers("CreditRemaining", "1.1")
    st, h, b = conn.request("POST", "/TrackService.asmx", hdrs, body)
    return st, parse_soap(b), h


class KeepAliveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("keepalive")
        s = cls.srv
        s.account_create("acme", credit=5)
        cls.key = s.key_create("acme")
        s.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_rest_state_reset_between_requests(self):
        with self.srv.raw() as c:
            st, h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + self.key])
            self.assertEqual(st, 200, b)
            self.assertIn(b'"Credit":5', b)
            self.assertNotEqual(h.get("connection", "").lower(), "close", h)
            st, h, b = c.request("POST", "/rest/credit")
            self.assertEqual(st, 401, b)
            self.assertIn(b'"code":"MISSING"', b)

    def test_rest_bearer_reset_between_requests(self):
        with self.srv.raw() as c:
            st, _h, b = c.request("POST", "/rest/credit", ["Authorization: Bearer " + self.key])
            self.assertEqual(st, 200, b)
            st, _h, b = c.request("GET", "/rest/me")
            self.assertEqual(st, 401, b)
            self.assertIn(b'"code":"MISSING"', b)

    def test_rest_accept_reset_between_requests(self):
        with self.srv.raw() as c:
            st, h, b = c.request("POST", "/rest/credit",
                                 ["X-API-Key: " + self.key, "Accept: application/xml"])
            self.assertEqual(st, 200, b)
            self.assertTrue(b.lstrip().startswith(b"<?xml"), b)
            st, h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + self.key])
            self.assertEqual(st, 200, b)
            self.assertTrue(b.startswith(b"{"), "second reply should be JSON: %r" % b)

    def test_soap_state_reset_between_requests(self):
        with self.srv.raw() as c:
            st, res, h = soap_request(c, self.key)
            self.assertEqual(st, 200)
            self.assertEqual(res.credit, 5, res)
            st, res, h = soap_request(c, None)
            self.assertTrue(res.fault, res)
            self.assertEqual(res.detail_code, "MISSING", res)

    def test_rest_then_soap_on_one_connection(self):
        with self.srv.raw() as c:
            st, _h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + self.key])
            self.assertEqual(st, 200, b)
            # A SOAP request must not pick up the X-API-Key of the REST request before it.
            st, res, _h = soap_request(c, None)
            self.assertEqual(res.detail_code, "MISSING", res)

    def test_64_concurrent_keepalive_connections(self):
        n_conns, n_reqs = 64, 5
        barrier = threading.Barrier(n_conns, timeout=20)
        results = [None] * n_conns

        def worker(i):
            statuses = []
            try:
                with RawConn(self.srv.port, timeout=15) as c:
                    barrier.wait()          # every connection open before any request
                    for _ in range(n_reqs):
                        st, _h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + self.key])
                        statuses.append((st, b'"Credit":5' in b))
                results[i] = statuses
            except Exception as e:  # noqa: BLE001 - reported below
                results[i] = e

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n_conns)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 40
        for t in threads:
            t.join(max(0.1, deadline - time.monotonic()))
        elapsed = time.monotonic() - t0
        self.assertFalse([t for t in threads if t.is_alive()], "workers still running after 40s")
        errors = [r for r in results if not isinstance(r, list)]
        self.assertEqual(errors, [], "connections failed")
        self.assertEqual([r for r in results if r != [(200, True)] * n_reqs], [])
        self.assertLess(elapsed, 40)


class StopTest(unittest.TestCase):
    def test_sigterm_with_idle_keepalive_connection(self):
        srv = Server("stop")
        srv.account_create("acme", credit=1)
        key = srv.key_create("acme")
        srv.start()
        try:
            c = RawConn(srv.port, timeout=10)
            st, h, _b = c.request("POST", "/rest/credit", ["X-API-Key: " + key])
            self.assertEqual(st, 200)
            self.assertEqual(h.get("connection", "").lower(), "keep-alive", h)
            # The connection now idles; the server must still stop promptly and cleanly.
            elapsed = srv.stop(timeout=10)      # asserts exit status 0
            self.assertLess(elapsed, 10)
            self.assertTrue(c.at_eof(5), "the idle connection was not closed")
            c.close()
        finally:
            srv.kill()

    def test_sigterm_when_idle(self):
        srv = Server("stop2")
        srv.start()
        try:
            elapsed = srv.stop(timeout=10)
            self.assertLess(elapsed, 10)
        finally:
            srv.kill()


class LogTest(unittest.TestCase):
    LINE_RE = re.compile(r"\brequest id=([0-9a-f]+) .*\broute=(\S+) status=(\d+) verdict=(\S+)")

    @classmethod
    def setUpClass(cls):
        cls.srv = Server("log")
        s = cls.srv
        s.account_create("acme", credit=5)
        cls.key = s.key_create("acme")
        cls.password = "log-test-password"
        s.user_create("acme", "erin", cls.password)
        s.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def lines_for(self, rid):
        return [ln for ln in self.srv.log_text().splitlines() if ("id=%s " % rid) in ln]

    def test_one_line_per_request(self):
        s = self.srv
        sid = s.rest_login("erin", self.password).json()["Key"]
        calls = [
            (s.credit(self.key), "200", "OK", "/rest/credit"),
            (s.credit("bad-key"), "401", "INVALID", "/rest/credit"),
            (s.credit(), "401", "MISSING", "/rest/credit"),
            (s.rest("GET", "/rest/me", key=sid), "200", "OK", "/rest/me"),
            (s.soap("CreditRemaining", session_id=self.key)[0], "200", "OK",
             "soap:CreditRemaining"),
            (s.soap("CreditRemaining", session_id=sid + "x")[0], "500", "INVALID",
             "soap:CreditRemaining"),
            (s.rest("GET", "/nowhere"), "404", None, None),
        ]
        time.sleep(0.2)     # the line is written after the reply is sent
        for resp, status, verdict, route in calls:
            rid = resp.headers.get("x-request-id")
            self.assertTrue(rid, resp)
            lines = self.lines_for(rid)
            self.assertEqual(len(lines), 1, "log lines for %s: %r" % (rid, lines))
            m = self.LINE_RE.search(lines[0])
            self.assertIsNotNone(m, lines[0])
            self.assertEqual(m.group(3), status, lines[0])
            if verdict:
                self.assertEqual(m.group(4), verdict, lines[0])
            if route:
                self.assertEqual(m.group(2), route, lines[0])
        log = s.log_bytes()
        for secret in (self.key, sid, self.password):
            self.assertNotIn(secret.encode(), log)

    def test_failed_login_logs_no_account(self):
        s = self.srv
        for user in ("erin", "no-such-user"):
            r = s.rest_login(user, "wrong-password")
            self.assertEqual(r.status, 401, r)
            time.sleep(0.1)
            lines = self.lines_for(r.headers["x-request-id"])
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("verdict=INVALID", lines[0])
            # A refused Login names no key and no account (not uninitialised memory either).
            self.assertIn(" key_id=0 ", lines[0])
            self.assertIn(" account_id=0 ", lines[0])

    def test_key_in_path_not_logged(self):
        s = self.srv
        r = s.rest("POST", "/rest/credit/" + self.key)
        self.assertEqual(r.status, 404, r)
        time.sleep(0.1)
        self.assertEqual(len(self.lines_for(r.headers["x-request-id"])), 1)
        self.assertNotIn(self.key.encode(), s.log_bytes())


class DemoTest(unittest.TestCase):
    KEY_RE = re.compile(r"API key \(X-API-Key or SOAP SessionID\): (\S+)")
    PW_RE = re.compile(r"Login user name: (\S+)\s+password: (\S+)")

    def test_demo_account_on_first_start_only(self):
        srv = Server("demo")
        try:
            out = srv.start(demo=True)
            text = "\n".join(out)
            keys = self.KEY_RE.findall(text)
            self.assertEqual(len(keys), 1, "demo key printed %d times: %r" % (len(keys), out))
            key = keys[0]
            self.assertRegex(key, r"^tsk_live_[0-9A-Za-z]{28}$")
            r = srv.credit(key)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["Credit"], 1000)
            m = self.PW_RE.search(text)
            self.assertIsNotNone(m, text)
            r = srv.rest_login(m.group(1), m.group(2))
            self.assertEqual(r.status, 200, r)
            self.assertNotIn(key.encode(), srv.log_bytes())
            srv.stop()
            self.assertEqual(len(self.KEY_RE.findall("\n".join(srv.all_stdout()))), 1)

            out2 = srv.start(demo=True)
            self.assertNotIn("API key", "\n".join(out2))
            r = srv.credit(key)
            self.assertEqual(r.status, 200, "the demo key must survive a restart: %r" % r)
            srv.stop()
            self.assertEqual(self.KEY_RE.findall("\n".join(srv.all_stdout())), [],
                             "second start printed a key")
        finally:
            srv.kill()


class SessionIdleTest(unittest.TestCase):
    def test_session_ends_when_idle(self):
        srv = Server("idle")
        srv.account_create("acme", credit=3)
        srv.user_create("acme", "frank", "idle-pass")
        srv.start("--session-idle", "2")
        try:
            sid = srv.rest_login("frank", "idle-pass").json()["Key"]
            self.assertEqual(srv.credit(sid).status, 200)
            time.sleep(3.2)
            r = srv.credit(sid)
            self.assertEqual(rest_verdict(r), "EXPIRED", r)
            self.assertEqual(r.status, 403, r)
            resp, res = srv.soap("CreditRemaining", session_id=sid)
            self.assertEqual(res.detail_code, "EXPIRED", res)
            self.assertTrue(res.fault_string.startswith("Forbidden"), res)
            srv.stop()
        finally:
            srv.kill()


if __name__ == "__main__":
    unittest.main()
