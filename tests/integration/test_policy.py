"""Key policy, each rule on both channels: REST POST /rest/credit (X-API-Key) and SOAP 1.1
CreditRemaining (a raw envelope with SessionIDHeader/SessionID) must refuse with the same code.

Scopes, IP allowlists (IPv4 here, IPv6 on a dual-stack server), per-minute and per-day rate
limits, credit and the monthly allowance, the order of the checks (status, expiry, IP, scope,
rate, credit: a request refused for its address or scope costs neither credit nor rate
allowance), the store being unavailable, /rest/verify, /rest/me, --cost, and Login for API users
and aged passwords.
"""
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import (CLI_TIMEOUT, SOAP11_NS, SOAP12_NS, TEST_KEY_RE, TSKEY_BIN, Server,
                     avoid_window_edge, rest_verdict, rfc3339, soap_verdict, wait_until)

STATUS = {"INVALID": 401, "MISSING": 401, "DISABLED": 403, "EXPIRED": 403,
          "INSUFFICIENT_SCOPE": 403, "IP_NOT_ALLOWED": 403, "NO_CREDIT": 403, "RATE_LIMITED": 429,
          "UNAVAILABLE": 503}
REASON = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests", 503: "Unavailable"}
RFC3339_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


class ChannelsMixin:
    """Send one credential on both channels and check the verdicts."""

    def both(self, key, expected, host_url=None, credit=None):
        """REST then SOAP 1.1 with key; both must give expected. For OK, credit (if given) is
        what REST reports; SOAP then reports credit - COST. Returns (rest, soap_resp, soap_res)."""
        s = self.srv
        rresp = s.rest("POST", "/rest/credit", key=key, host_url=host_url)
        sresp, sres = s.soap("CreditRemaining", session_id=key, host_url=host_url)
        rv, sv = rest_verdict(rresp), soap_verdict(sresp, sres)
        self.assertEqual(rv, sv, "channels disagree: REST %s %r vs SOAP %s %r"
                         % (rv, rresp, sv, sres))
        self.assertEqual(rv, expected, rresp)
        if expected == "OK":
            if credit is not None:
                self.assertEqual(rresp.json()["Credit"], credit, rresp)
                self.assertEqual(sres.credit, credit - self.COST, sres)
            return rresp, sresp, sres
        self.assertRefusal(rresp, sresp, sres, expected)
        return rresp, sresp, sres

    def assertRefusal(self, rresp, sresp, sres, code, soap_version="1.1"):
        status = STATUS[code]
        self.assertEqual(rresp.status, status, rresp)
        body = rresp.json()
        self.assertEqual(body.get("code"), code, rresp)
        self.assertTrue(body.get("message"), rresp)
        self.assertEqual(body.get("requestId"), rresp.headers.get("x-request-id"), rresp)
        self.assertTrue(sres.fault, (sresp, sres))
        self.assertEqual(sres.detail_code, code, sres)
        self.assertEqual(sres.detail_status, str(status), sres)
        self.assertTrue((sres.fault_string or "").startswith(REASON[status] + ": "), sres)
        if soap_version == "1.1":
            self.assertEqual(sresp.status, 500, sresp)
            side = "Server" if code == "UNAVAILABLE" else "Client"
            self.assertEqual(sres.fault_code, "{%s}%s" % (SOAP11_NS, side), sres)
        else:
            self.assertEqual(sresp.status, 500 if code == "UNAVAILABLE" else 400, sresp)
            side = "Receiver" if code == "UNAVAILABLE" else "Sender"
            self.assertEqual(sres.fault_code, "{%s}%s" % (SOAP12_NS, side), sres)
        if code == "RATE_LIMITED":
            for ra in (rresp.headers.get("retry-after"), sresp.headers.get("retry-after"),
                       sres.detail_retry_after):
                self.assertIsNotNone(ra, (rresp, sresp, sres))
                self.assertRegex(ra, r"^\d+$")
                self.assertGreaterEqual(int(ra), 1)
        else:
            self.assertNotIn("retry-after", rresp.headers, rresp)
            self.assertNotIn("retry-after", sresp.headers, sresp)
            self.assertIsNone(sres.detail_retry_after, sres)


class PolicyTest(ChannelsMixin, unittest.TestCase):
    """One server with --cost credit=1: every CreditRemaining / POST /rest/credit takes a credit.
    Each test makes its own account where the balance matters. --no-batch-credit: each debit is
    in the store when its answer comes, so the tests read the stored balance at once (batched
    credit, the default, is test_batch_credit and CostTest)."""
    COST = 1

    @classmethod
    def setUpClass(cls):
        # Per-day limits count in UTC days: keep the class's requests away from midnight.
        avoid_window_edge(86400, 25)
        cls.srv = s = Server("policy")
        s.account_create("acme", credit=100000)
        # Keys whose expiry must pass during the run: made first, checked by the order tests.
        cls.exp_at = int(time.time()) + 2
        cls.dis_exp, cls.dis_exp_id = s.key_create_id("acme", name="disabled-expiring",
                                                      expires=rfc3339(cls.exp_at))
        s.key_deactivate(cls.dis_exp_id)
        cls.exp_ip = s.key_create("acme", name="expiring-fenced", expires=rfc3339(cls.exp_at),
                                  ip="10.0.0.0/8")
        s.start("--cost", "credit=1", "--no-batch-credit")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def account(self, name, credit=0, allowance=None):
        self.srv.account_create(name, credit=credit, allowance=allowance)
        return name

    # ---- scopes -------------------------------------------------------------------------------
    def test_scope_default_is_credit_read(self):
        s = self.srv
        k, kid = s.key_create_id("acme", name="default-scope")
        self.assertEqual(s.key_show(kid)["scopes"], "credit:read")
        self.assertEqual(s.key_row(kid)["SCOPES"], "credit:read")
        self.both(k, "OK")

    def test_scope_lacking_credit_read(self):
        s = self.srv
        acct = self.account("scope1", credit=10)
        k = s.key_create(acct, scopes="track:write")
        self.both(k, "INSUFFICIENT_SCOPE")
        self.assertEqual(s.account_credit(acct), 10, "a scope refusal took credit")
        # /rest/me and logout need no scope: the same key passes there.
        r = s.rest("GET", "/rest/me", key=k)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["scopes"], ["track:write"])
        r = s.rest("POST", "/rest/logout", key=k)
        self.assertEqual(r.status, 200, r)
        resp, res = s.soap("Logout", session_id=k)
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(res.fault, res)

    def test_scope_among_several(self):
        k = self.srv.key_create("acme", scopes="track:write credit:read reports:read")
        self.both(k, "OK")

    def test_scope_is_whole_word(self):
        # "credit:readonly" and "credit" are not "credit:read".
        for scopes in ("credit:readonly", "credit", "xcredit:read"):
            k = self.srv.key_create("acme", scopes=scopes)
            self.both(k, "INSUFFICIENT_SCOPE")

    def test_scope_bad_value_refused_by_cli(self):
        for scopes in ("Credit:Read", "credit;read", "a\tb"):
            cp = self.srv.cli("key", "create", "acme", "--scopes", scopes, check=False)
            self.assertNotEqual(cp.returncode, 0, (scopes, cp))
            self.assertEqual(cp.stdout, "", "no key may be printed on failure")

    def test_scope_refusal_costs_no_credit_and_no_rate(self):
        s = self.srv
        acct = self.account("scope2", credit=3)
        k = s.key_create(acct, scopes="track:write", rate_day=1)
        for _ in range(3):
            self.both(k, "INSUFFICIENT_SCOPE")
        self.assertEqual(s.account_credit(acct), 3)
        # The one request the day allows is still there: /rest/me (free, no scope) gets it ...
        r = s.rest("GET", "/rest/me", key=k)
        self.assertEqual(r.status, 200, r)
        # ... and then the limit holds.
        r = s.rest("GET", "/rest/me", key=k)
        self.assertEqual(rest_verdict(r), "RATE_LIMITED", r)

    # ---- IP allowlist -------------------------------------------------------------------------
    def test_ip_outside_allowlist(self):
        k = self.srv.key_create("acme", ip="10.0.0.0/8")
        self.both(k, "IP_NOT_ALLOWED")

    def test_ip_inside_allowlist(self):
        s = self.srv
        for ip in ("127.0.0.1", "127.0.0.0/8", "10.0.0.0/8, 127.0.0.0/8", "192.0.2.1,127.0.0.1",
                   "0.0.0.0/0", "::ffff:127.0.0.1", "::ffff:127.0.0.0/104"):
            k, kid = s.key_create_id("acme", ip=ip)
            self.assertEqual(s.key_show(kid)["ip_allow"], ip)
            with self.subTest(ip=ip):
                self.both(k, "OK")

    def test_ip_v6_entries_do_not_match_v4_client(self):
        for ip in ("::1", "::/0", "2001:db8::/32", "127.0.0.2", "126.0.0.0/8"):
            k = self.srv.key_create("acme", ip=ip)
            with self.subTest(ip=ip):
                self.both(k, "IP_NOT_ALLOWED")

    def test_ip_refusal_costs_no_credit(self):
        s = self.srv
        acct = self.account("fenced", credit=2)
        k = s.key_create(acct, ip="10.0.0.0/8, 2001:db8::/32")
        for _ in range(3):
            self.both(k, "IP_NOT_ALLOWED")
        self.assertEqual(s.account_credit(acct), 2)

    def test_ip_bad_list_refused_by_cli(self):
        # (An empty --ip is an empty allowlist: every address, as without --ip.)
        for ip in ("300.1.1.1", "10.0.0.1/8", "example.com", "10.0.0.0/33", "1.2.3.4,", " ",
                   "fe80::1%eth0", "::1/129", "10.0.0.0/08"):
            cp = self.srv.cli("key", "create", "acme", "--ip", ip, check=False)
            with self.subTest(ip=ip):
                self.assertNotEqual(cp.returncode, 0, cp)
                self.assertEqual(cp.stdout, "")

    # ---- rate limits --------------------------------------------------------------------------
    def test_rate_limit_per_day(self):
        s = self.srv
        k = s.key_create("acme", rate_day=2)
        self.assertEqual(rest_verdict(s.credit(k)), "OK")
        resp, res = s.soap("CreditRemaining", session_id=k)
        self.assertEqual(soap_verdict(resp, res), "OK", res)
        rresp, sresp, sres = self.both(k, "RATE_LIMITED")
        now = time.time()
        to_midnight = 86400 - int(now) % 86400
        for ra in (rresp.headers["retry-after"], sresp.headers["retry-after"],
                   sres.detail_retry_after):
            self.assertLessEqual(abs(int(ra) - to_midnight), 2, (ra, to_midnight))
        self.assertTrue(sres.fault_string.startswith("Too Many Requests"), sres)

    def test_rate_limit_per_minute(self):
        s = self.srv
        # Fixed one-minute windows: start early enough in one that all four requests fall in it.
        avoid_window_edge(60, 5)
        k = s.key_create("acme", rate_minute=2)
        self.both(k, "OK")
        rresp, sresp, sres = self.both(k, "RATE_LIMITED")
        to_next = 60 - int(time.time()) % 60
        for ra in (rresp.headers["retry-after"], sresp.headers["retry-after"],
                   sres.detail_retry_after):
            self.assertTrue(1 <= int(ra) <= 60, ra)
            self.assertLessEqual(abs(int(ra) - to_next), 2, (ra, to_next))

    def test_rate_limit_soap12(self):
        s = self.srv
        k = s.key_create("acme", rate_day=1)
        resp, res = s.soap("CreditRemaining", session_id=k, version="1.2")
        self.assertEqual(res.credit is not None and not res.fault, True, res)
        rresp = s.credit(k)
        sresp, sres = s.soap("CreditRemaining", session_id=k, version="1.2")
        self.assertRefusal(rresp, sresp, sres, "RATE_LIMITED", soap_version="1.2")

    def test_rate_limit_is_per_key(self):
        s = self.srv
        k1 = s.key_create("acme", rate_day=1)
        k2 = s.key_create("acme", rate_day=1)
        self.assertEqual(rest_verdict(s.credit(k1)), "OK")
        self.assertEqual(rest_verdict(s.credit(k1)), "RATE_LIMITED")
        self.assertEqual(rest_verdict(s.credit(k2)), "OK")

    def test_rate_limited_costs_no_credit(self):
        s = self.srv
        acct = self.account("limited", credit=5)
        k = s.key_create(acct, rate_day=1)
        r = s.credit(k)
        self.assertEqual(r.json()["Credit"], 4, r)
        for _ in range(3):
            self.both(k, "RATE_LIMITED")
        self.assertEqual(s.account_credit(acct), 4)

    def test_retry_after_not_carried_to_next_request(self):
        s = self.srv
        k = s.key_create("acme", rate_day=1)
        good = s.key_create("acme")
        with s.raw() as c:
            st, h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + k])
            self.assertEqual(st, 200, b)
            st, h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + k])
            self.assertEqual(st, 429, b)
            self.assertIn("retry-after", h)
            st, h, b = c.request("POST", "/rest/credit", ["X-API-Key: " + good])
            self.assertEqual(st, 200, b)
            self.assertNotIn("retry-after", h, "Retry-After leaked into the next response")
            st, h, b = c.request("POST", "/rest/credit")
            self.assertEqual(st, 401, b)
            self.assertNotIn("retry-after", h)

    def test_rate_limit_bad_value_refused_by_cli(self):
        for opt in ("--rate-minute", "--rate-day"):
            for val in ("-1", "many", ""):
                cp = self.srv.cli("key", "create", "acme", opt, val, check=False)
                self.assertNotEqual(cp.returncode, 0, (opt, val, cp))
                self.assertEqual(cp.stdout, "")

    # ---- credit -------------------------------------------------------------------------------
    def test_no_credit(self):
        s = self.srv
        acct = self.account("one-credit", credit=1)
        k = s.key_create(acct)
        r = s.credit(k)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["Credit"], 0)
        self.both(k, "NO_CREDIT")
        self.assertEqual(s.account_credit(acct), 0, "the balance went below zero")

    def test_no_credit_soap_first(self):
        s = self.srv
        acct = self.account("one-credit-soap", credit=1)
        k = s.key_create(acct)
        resp, res = s.soap("CreditRemaining", session_id=k)
        self.assertEqual(res.credit, 0, res)
        rresp = s.credit(k)
        sresp, sres = s.soap("CreditRemaining", session_id=k)
        self.assertRefusal(rresp, sresp, sres, "NO_CREDIT")

    def test_no_credit_then_credit_add(self):
        s = self.srv
        acct = self.account("topped-up", credit=0)
        k = s.key_create(acct)
        self.both(k, "NO_CREDIT")
        s.credit_add(acct, 2)
        self.both(k, "OK", credit=1)
        self.both(k, "NO_CREDIT")

    def test_no_credit_for_session(self):
        s = self.srv
        acct = self.account("session-credit", credit=0)
        s.user_create(acct, "sess-user", "sess-pass-1")
        sid = s.rest_login("sess-user", "sess-pass-1").json()["Key"]
        self.both(sid, "NO_CREDIT")
        s.credit_set(acct, 3)
        self.both(sid, "OK", credit=2)

    def test_no_credit_soap12(self):
        s = self.srv
        k = s.key_create(self.account("broke12", credit=0))
        rresp = s.credit(k)
        sresp, sres = s.soap("CreditRemaining", session_id=k, version="1.2")
        self.assertRefusal(rresp, sresp, sres, "NO_CREDIT", soap_version="1.2")

    # ---- monthly allowance --------------------------------------------------------------------
    def test_monthly_allowance_refill_rest(self):
        """credit 0, allowance 5, cost 1: the first call is refilled to 5 and reports 4."""
        s = self.srv
        acct = self.account("allow-rest", credit=0, allowance=5)
        k = s.key_create(acct)
        r = s.credit(k)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s.account_credit(acct), 4)
        self.assertEqual(r.json()["Credit"], 4, "the refilled call reports the wrong balance")

    def test_monthly_allowance_refill_soap(self):
        s = self.srv
        acct = self.account("allow-soap", credit=0, allowance=5)
        k = s.key_create(acct)
        resp, res = s.soap("CreditRemaining", session_id=k)
        self.assertEqual(soap_verdict(resp, res), "OK", res)
        self.assertEqual(s.account_credit(acct), 4)
        self.assertEqual(res.credit, 4, "the refilled call reports the wrong balance")

    def test_monthly_allowance_once_a_month(self):
        s = self.srv
        acct = self.account("allow-once", credit=0, allowance=2)
        k = s.key_create(acct)
        self.assertEqual(rest_verdict(s.credit(k)), "OK")
        self.assertEqual(s.account_credit(acct), 1)
        r = s.credit(k)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["Credit"], 0, r)
        # Used up: no second refill within the month, on either channel.
        self.both(k, "NO_CREDIT")
        self.assertEqual(s.account_credit(acct), 0)

    def test_monthly_allowance_keeps_bought_credit(self):
        s = self.srv
        acct = self.account("allow-bought", credit=10, allowance=5)
        k = s.key_create(acct)
        self.both(k, "OK", credit=9)
        self.assertEqual(s.account_credit(acct), 8)

    def test_allowance_set_by_cli(self):
        s = self.srv
        acct = self.account("allow-cli", credit=0)
        k = s.key_create(acct)
        self.both(k, "NO_CREDIT")
        s.allowance_set(acct, 3)
        r = s.credit(k)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s.account_credit(acct), 2)
        me = s.rest("GET", "/rest/me", key=k).json()
        self.assertEqual(me["monthlyAllowance"], 3)
        self.assertEqual(me["credit"], 2)

    # ---- the order of the checks ---------------------------------------------------------------
    def test_order_disabled_before_expired(self):
        wait_until(self.exp_at + 1.1)
        self.both(self.dis_exp, "DISABLED")

    def test_order_expired_before_ip(self):
        wait_until(self.exp_at + 1.1)
        self.both(self.exp_ip, "EXPIRED")

    def test_order_disabled_before_ip(self):
        s = self.srv
        k, kid = s.key_create_id("acme", ip="10.0.0.0/8", scopes="track:write")
        s.key_deactivate(kid)
        self.both(k, "DISABLED")

    def test_order_ip_before_scope(self):
        k = self.srv.key_create("acme", ip="10.0.0.0/8", scopes="track:write")
        self.both(k, "IP_NOT_ALLOWED")

    def test_order_ip_before_credit(self):
        k = self.srv.key_create(self.account("order-ip-credit"), ip="10.0.0.0/8")
        self.both(k, "IP_NOT_ALLOWED")

    def test_order_scope_before_rate(self):
        s = self.srv
        k = s.key_create("acme", scopes="track:write", rate_day=1)
        self.assertEqual(s.rest("GET", "/rest/me", key=k).status, 200)   # the day's one request
        self.assertEqual(rest_verdict(s.rest("GET", "/rest/me", key=k)), "RATE_LIMITED")
        self.both(k, "INSUFFICIENT_SCOPE")

    def test_order_scope_before_credit(self):
        k = self.srv.key_create(self.account("order-scope-credit"), scopes="track:write")
        self.both(k, "INSUFFICIENT_SCOPE")

    def test_order_rate_before_credit(self):
        s = self.srv
        k = s.key_create(self.account("order-rate-credit"), rate_day=1)
        self.assertEqual(s.rest("GET", "/rest/me", key=k).status, 200)   # free, uses the rate
        self.both(k, "RATE_LIMITED")

    # ---- the store unavailable ----------------------------------------------------------------
    def test_unavailable_when_store_locked(self):
        """A metered call whose debit cannot be written (another writer holds the database
        past the busy timeout) is refused 503 UNAVAILABLE on both channels, not waved through.
        (Per-call debits; batched credit under a lock is test_durability.LockedStoreTest.)"""
        s = self.srv
        acct = self.account("locked-out", credit=5)
        k = s.key_create(acct)
        db = sqlite3.connect(s.db, timeout=5, isolation_level=None)
        out = {}

        def rest():
            out["rest"] = s.credit(k)

        def soap():
            out["soap"] = s.soap("CreditRemaining", session_id=k)
        try:
            db.execute("BEGIN IMMEDIATE")
            threads = [threading.Thread(target=f, daemon=True) for f in (rest, soap)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(20)
        finally:
            db.execute("ROLLBACK")
            db.close()
        self.assertEqual(sorted(out), ["rest", "soap"], "a request did not come back")
        rresp, (sresp, sres) = out["rest"], out["soap"]
        self.assertEqual(rest_verdict(rresp), soap_verdict(sresp, sres))
        self.assertRefusal(rresp, sresp, sres, "UNAVAILABLE")
        self.assertEqual(s.account_credit(acct), 5)
        self.both(k, "OK", credit=4)     # and it recovers

    # ---- /rest/verify -------------------------------------------------------------------------
    def verify_ok(self, resp, account, key_id, scopes):
        self.assertTrue(200 <= resp.status < 300, resp)
        self.assertEqual(resp.headers.get("x-tskey-account"), account, resp)
        self.assertEqual(resp.headers.get("x-tskey-key-id"), str(key_id), resp)
        self.assertEqual(resp.headers.get("x-tskey-scopes"), scopes, resp)

    def test_verify_any_method_costs_one(self):
        s = self.srv
        acct = self.account("verifier", credit=10)
        k, kid = s.key_create_id(acct, scopes="credit:read track:write")
        expect = 10
        for method in ("GET", "POST", "PUT", "DELETE", "OPTIONS"):
            r = s.rest(method, "/rest/verify", key=k)
            with self.subTest(method=method):
                self.verify_ok(r, acct, kid, "credit:read track:write")
                expect -= 1
                self.assertEqual(s.account_credit(acct), expect, "verify costs 1 by default")
        r = s.rest("GET", "/rest/verify", bearer=k)
        self.verify_ok(r, acct, kid, "credit:read track:write")
        r = s.rest("POST", "/rest/verify?x=1", key=k, body="anything at all")
        self.verify_ok(r, acct, kid, "credit:read track:write")

    def test_verify_patch(self):
        """PATCH is a method too: /rest/verify answers it like the others."""
        s = self.srv
        acct = self.account("verifier-patch", credit=10)
        k, kid = s.key_create_id(acct)
        r = s.rest("PATCH", "/rest/verify", key=k)
        self.verify_ok(r, acct, kid, "credit:read")
        self.assertEqual(s.account_credit(acct), 9)

    def test_verify_needs_no_scope(self):
        s = self.srv
        acct = self.account("verifier2", credit=3)
        k, kid = s.key_create_id(acct, scopes="track:write")
        self.verify_ok(s.rest("GET", "/rest/verify", key=k), acct, kid, "track:write")

    def test_verify_refusals(self):
        s = self.srv
        broke = s.key_create(self.account("verifier-broke", credit=0))
        fenced = s.key_create("acme", ip="10.0.0.0/8")
        for key, status, code in (("garbage", 401, "INVALID"), (None, 401, "MISSING"),
                                  (broke, 403, "NO_CREDIT"), (fenced, 403, "IP_NOT_ALLOWED")):
            r = s.rest("GET", "/rest/verify", key=key)
            with self.subTest(code=code):
                self.assertEqual(r.status, status, r)
                self.assertEqual(r.json().get("code"), code, r)
                # A refusal names its code, and never a principal.
                self.assertEqual([h for h in r.headers if h.startswith("x-tskey-")],
                                 ["x-tskey-code"], r)
                self.assertEqual(r.headers["x-tskey-code"], code, r)

    # ---- /rest/me -----------------------------------------------------------------------------
    def test_me_fields(self):
        s = self.srv
        acct = self.account("me-fields", credit=20, allowance=9)
        t0 = int(time.time())
        k, kid = s.key_create_id(acct, name="me-key", test=True,
                                 scopes="credit:read track:write", rate_minute=7, rate_day=70,
                                 expires="2099-01-01")
        self.assertRegex(k, TEST_KEY_RE)
        r = s.rest("GET", "/rest/me", key=k)
        self.assertEqual(r.status, 200, r)
        me = r.json()
        self.assertEqual(me["account"], acct)
        self.assertEqual(me["type"], "key")
        self.assertEqual(me["environment"], "test")
        self.assertEqual(me["scopes"], ["credit:read", "track:write"])
        self.assertEqual(me["credit"], 20, "/rest/me is free by default")
        self.assertEqual(me["monthlyAllowance"], 9)
        self.assertEqual(me["rateLimits"], {"perMinute": 7, "perDay": 70})
        self.assertEqual(me["keyName"], "me-key")
        self.assertTrue(k.startswith(me["prefix"]) and len(me["prefix"]) < len(k), me)
        self.assertTrue(me["prefix"].startswith("tsk_test_"), me)
        self.assertRegex(me["createdAt"], RFC3339_RE)
        self.assertIn(me["createdAt"], (rfc3339(t0), rfc3339(t0 + 1), rfc3339(t0 + 2)))
        self.assertEqual(me["expiresAt"], "2099-01-01T00:00:00Z")
        self.assertIn("lastUsedAt", me)
        self.assertNotIn(k, r.text)
        self.assertEqual(s.account_credit(acct), 20)
        # lastUsedAt follows the (batched) last use.
        deadline = time.time() + 3
        while True:
            me = s.rest("GET", "/rest/me", key=k).json()
            if me["lastUsedAt"] is not None or time.time() > deadline:
                break
            time.sleep(0.25)
        self.assertRegex(me["lastUsedAt"] or "", RFC3339_RE)
        self.assertGreaterEqual(me["lastUsedAt"], rfc3339(t0))

    def test_me_defaults(self):
        s = self.srv
        k = s.key_create("acme")
        me = s.rest("GET", "/rest/me", key=k).json()
        self.assertEqual(me["environment"], "live")
        self.assertEqual(me["scopes"], ["credit:read"])
        self.assertEqual(me["rateLimits"], {"perMinute": 0, "perDay": 0})
        self.assertEqual(me["monthlyAllowance"], 0)
        self.assertIsNone(me["expiresAt"])
        self.assertIsNone(me["lastUsedAt"])


class PolicyV6Test(ChannelsMixin, unittest.TestCase):
    """IPv6 allowlists on a dual-stack server (listening on ::): clients come from ::1, or from
    127.0.0.1 (which the server sees as ::ffff:127.0.0.1 and must treat as IPv4)."""
    COST = 1

    @classmethod
    def setUpClass(cls):
        avoid_window_edge(86400, 10)
        cls.srv = s = Server("policy-v6")
        s.account_create("acme", credit=100000)
        s.start("--cost", "credit=1", "--allow-plain", "--no-batch-credit", listen="::")
        cls.v6 = s.base_via("::1")
        cls.v4 = s.base_via("127.0.0.1")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_v6_client_allowed(self):
        for ip in ("::1", "::1/128", "::/0", "2001:db8::/32, ::1", "0:0:0:0:0:0:0:1"):
            k = self.srv.key_create("acme", ip=ip)
            with self.subTest(ip=ip):
                self.both(k, "OK", host_url=self.v6)

    def test_v6_client_refused(self):
        for ip in ("2001:db8::/32", "::2", "127.0.0.1", "0.0.0.0/0", "::ffff:127.0.0.1"):
            k = self.srv.key_create("acme", ip=ip)
            with self.subTest(ip=ip):
                self.both(k, "IP_NOT_ALLOWED", host_url=self.v6)

    def test_mapped_v4_client_is_v4(self):
        s = self.srv
        k = s.key_create("acme", ip="127.0.0.1")
        self.both(k, "OK", host_url=self.v4)
        k = s.key_create("acme", ip="::1")
        self.both(k, "IP_NOT_ALLOWED", host_url=self.v4)
        k = s.key_create("acme", ip="::/0")
        self.both(k, "IP_NOT_ALLOWED", host_url=self.v4)

    def test_ip_refusal_costs_no_credit_and_no_rate(self):
        s = self.srv
        s.account_create("v6-fenced", credit=2)
        k = s.key_create("v6-fenced", ip="::1", rate_day=1)
        for _ in range(3):
            self.both(k, "IP_NOT_ALLOWED", host_url=self.v4)
        self.assertEqual(s.account_credit("v6-fenced"), 2)
        # The day's one request is still unused, and the credit is all there.
        r = s.rest("POST", "/rest/credit", key=k, host_url=self.v6)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["Credit"], 1)
        self.both(k, "RATE_LIMITED", host_url=self.v6)
        self.assertEqual(s.account_credit("v6-fenced"), 1)


class CostTest(unittest.TestCase):
    """serve --cost OP=N for each operation; the defaults (credit 0, me 0, verify 1)."""

    def test_default_costs(self):
        s = Server("cost-default")
        s.account_create("acme", credit=10)
        k = s.key_create("acme")
        s.start()
        try:
            r = s.credit(k)
            self.assertEqual(r.json()["Credit"], 10, "CreditRemaining is free by default")
            resp, res = s.soap("CreditRemaining", session_id=k)
            self.assertEqual(res.credit, 10, res)
            self.assertEqual(s.rest("GET", "/rest/me", key=k).json()["credit"], 10)
            self.assertEqual(s.account_credit("acme"), 10)
            self.assertEqual(s.rest("GET", "/rest/verify", key=k).status, 200)
            # Batched credit by default: spent at once, in the store by the next flush.
            self.assertEqual(s.credit(k).json()["Credit"], 9, "verify costs 1 by default")
            s.stop()
            self.assertEqual(s.account_credit("acme"), 9, "verify costs 1 by default")
            s.start()
            # A free operation works on an empty account; a metered one does not.
            s.credit_set("acme", 0)
            self.assertEqual(s.credit(k).status, 200)
            r = s.rest("GET", "/rest/verify", key=k)
            self.assertEqual((r.status, r.json().get("code")), (403, "NO_CREDIT"), r)
            s.stop()
            self.assertEqual(s.account_credit("acme"), 0)
        finally:
            s.kill()

    def test_costs_set(self):
        s = Server("cost-set")
        s.account_create("acme", credit=20)
        k = s.key_create("acme")
        s.user_create("acme", "coster", "coster-pass")
        s.start("--cost", "credit=3", "--cost", "me=2", "--cost", "verify=0",
                "--cost", "logout=1")
        try:
            self.assertEqual(s.credit(k).json()["Credit"], 17)
            self.assertEqual(s.soap("CreditRemaining", session_id=k)[1].credit, 14)
            self.assertEqual(s.rest("GET", "/rest/me", key=k).json()["credit"], 12)
            self.assertEqual(s.rest("GET", "/rest/verify", key=k).status, 200)
            self.assertEqual(s.rest("GET", "/rest/me", key=k).json()["credit"], 10)
            sid = s.rest_login("coster", "coster-pass").json()["Key"]
            self.assertEqual(s.rest("POST", "/rest/logout", key=sid).status, 200)
            self.assertEqual(s.rest("GET", "/rest/me", key=k).json()["credit"], 7)
            s.stop()    # batched credit, the default: the stop writes it
            self.assertEqual(s.account_credit("acme"), 7)
            s.start("--cost", "credit=3", "--cost", "me=2", "--cost", "verify=0",
                    "--cost", "logout=1")
            s.credit_set("acme", 2)
            r = s.credit(k)
            self.assertEqual((r.status, r.json().get("code")), (403, "NO_CREDIT"), r)
            s.stop()
            self.assertEqual(s.account_credit("acme"), 2, "a refused call took credit")
        finally:
            s.kill()

    def test_bad_cost_refused(self):
        s = Server("cost-bad")
        for spec in ("frobnicate=1", "credit", "credit=", "credit=x", "credit=-1", "=1"):
            cp = subprocess.run([TSKEY_BIN, "--db", s.db, "serve", "--listen", "127.0.0.1:0",
                                 "--no-demo", "--cost", spec], capture_output=True, text=True,
                                timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
            with self.subTest(spec=spec):
                self.assertNotEqual(cp.returncode, 0, cp)
                self.assertNotIn("listening", cp.stdout)
                self.assertIn("--cost", cp.stderr)


class LoginPolicyTest(unittest.TestCase):
    """Login with --no-api-user-login and --password-max-age 1 (one day).

    Ageing a password for real takes a day; the expiry test instead moves the user's
    password_changed_at two days back in the test's own database (sqlite3), which is what a
    two-day-old password looks like to the server."""

    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server("login-policy")
        s.account_create("acme", credit=7)
        s.user_create("acme", "svc", "svc-password", api=True)
        s.user_create("acme", "human", "human-password")
        s.user_create("acme", "oldtimer", "oldtimer-password")
        s.user_create("acme", "oldsvc", "oldsvc-password", api=True)
        age_password(s, "oldtimer", 2)
        age_password(s, "oldsvc", 2)
        s.start("--no-api-user-login", "--password-max-age", "1")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_api_user_refused_with_right_password(self):
        s = self.srv
        r = s.rest_login("svc", "svc-password")
        self.assertEqual(r.status, 403, r)
        body = r.json()
        self.assertEqual(body.get("code"), "LOGIN_NOT_ALLOWED", r)
        self.assertEqual(body.get("Status"), 2, r)
        self.assertFalse(body.get("Key"), r)
        self.assertIn("API user", body.get("Message", ""), r)
        resp, res = s.soap_login("svc", "svc-password")
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(res.fault, res)
        self.assertEqual(res.login.get("Status"), "Failed", res)
        self.assertIn("API user", res.login.get("Message", ""), res)
        self.assertFalse(res.login.get("Key"), res)
        self.assertIsNone(res.header_session_id, res)
        for resp in (r, resp):
            self.assertNotIn(b"svc-password", resp.everything())

    def test_api_user_wrong_password_stays_invalid(self):
        s = self.srv
        r = s.rest_login("svc", "not-the-password")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json().get("code"), "INVALID", r)
        self.assertNotIn("API", r.json().get("Message", ""), "a wrong password reveals the kind")
        resp, res = s.soap_login("svc", "not-the-password")
        self.assertEqual(res.login.get("Status"), "Failed", res)
        self.assertNotIn("API", res.login.get("Message", ""), res)
        # Exactly what an unknown user gets.
        r2 = s.rest_login("no-such-user", "not-the-password")
        b1, b2 = r.json(), r2.json()
        b1.pop("requestId")
        b2.pop("requestId")
        self.assertEqual(b1, b2)

    def test_person_logs_in(self):
        """A fresh password (0 days old) under --password-max-age 1 works on both channels."""
        s = self.srv
        r = s.rest_login("human", "human-password")
        self.assertEqual(r.status, 200, r)
        sid = r.json()["Key"]
        self.assertEqual(s.credit(sid).json()["Credit"], 7)
        resp, res = s.soap_login("human", "human-password")
        self.assertEqual(res.login.get("Status"), "Success", res)
        self.assertEqual(s.soap("CreditRemaining", session_id=res.login["Key"])[1].credit, 7)

    def test_aged_password_expired(self):
        s = self.srv
        r = s.rest_login("oldtimer", "oldtimer-password")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json().get("code"), "PASSWORD_EXPIRED", r)
        self.assertFalse(r.json().get("Key"), r)
        resp, res = s.soap_login("oldtimer", "oldtimer-password")
        self.assertEqual(res.login.get("Status"), "Failed", res)
        self.assertIn("expired", res.login.get("Message", ""), res)
        self.assertFalse(res.login.get("Key"), res)
        # A wrong password says nothing about the expiry.
        r = s.rest_login("oldtimer", "wrong-password")
        self.assertEqual((r.status, r.json().get("code")), (401, "INVALID"), r)

    def test_aged_api_user_still_not_allowed(self):
        # API users' passwords never expire; this one is still kept from Login by the flag.
        r = self.srv.rest_login("oldsvc", "oldsvc-password")
        self.assertEqual((r.status, r.json().get("code")), (403, "LOGIN_NOT_ALLOWED"), r)


class ApiUserLoginAllowedTest(unittest.TestCase):
    """Without --no-api-user-login, API users log in; their passwords never age."""

    def test_api_user_logs_in(self):
        s = Server("login-api")
        s.account_create("acme", credit=4)
        s.user_create("acme", "svc", "svc-password", api=True)
        age_password(s, "svc", 400)
        s.start("--password-max-age", "1")
        try:
            r = s.rest_login("svc", "svc-password")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(s.credit(r.json()["Key"]).json()["Credit"], 4)
            resp, res = s.soap_login("svc", "svc-password")
            self.assertEqual(res.login.get("Status"), "Success", res)
            s.stop()
        finally:
            s.kill()


def age_password(srv, user, days):
    """Make user's password `days` days older, in the server's database (test fixture)."""
    db = sqlite3.connect(srv.db, timeout=5)
    try:
        with db:
            n = db.execute("UPDATE users SET password_changed_at = password_changed_at - ? "
                           "WHERE name = ?", (days * 86400, user)).rowcount
    finally:
        db.close()
    assert n == 1, "no user %r to age" % user


if __name__ == "__main__":
    unittest.main()
