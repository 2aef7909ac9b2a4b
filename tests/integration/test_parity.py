"""Parity: one table of credentials, each sent via REST (X-API-Key, POST /rest/credit) and via
SOAP 1.1 (SessionIDHeader/SessionID, CreditRemaining). Both channels must give the same verdict,
and that verdict must be the expected one. The table covers every verdict the validator gives
a caller: OK, MISSING, INVALID, DISABLED, EXPIRED, INSUFFICIENT_SCOPE, IP_NOT_ALLOWED, NO_CREDIT
and RATE_LIMITED; it runs twice, on a plain server and on one with --uniform-errors (where the
four "who are you" refusals collapse into one 401 UNAUTHORIZED).

Both servers run with --cost credit=1, so that an empty account is refused NO_CREDIT and every
OK row is seen to take exactly one credit per call on each channel."""
import time
import unittest
import uuid

from harness import (Server, avoid_window_edge, flip_char, rest_verdict, rfc3339, soap_verdict,
                     wait_until)

# name -> expected verdict on a plain server; the credential itself is built in setUpClass.
ROWS = [
    ("valid_key", "OK"),
    ("valid_session", "OK"),
    ("missing", "MISSING"),
    ("empty_string", "MISSING"),
    ("whitespace_only", "MISSING"),
    ("garbage", "INVALID"),
    ("tsk_bad_checksum", "INVALID"),
    ("revoked_key", "DISABLED"),
    ("expired_key", "EXPIRED"),
    ("logged_out_session", "INVALID"),
    ("unknown_guid", "INVALID"),
    ("long_5000", "INVALID"),
    ("scope_lacking", "INSUFFICIENT_SCOPE"),
    ("ip_not_allowed", "IP_NOT_ALLOWED"),
    ("empty_account", "NO_CREDIT"),
    ("rate_used_up", "RATE_LIMITED"),
]

# What --uniform-errors turns a verdict into; the others are unchanged.
UNIFORM = {"MISSING": "UNAUTHORIZED", "INVALID": "UNAUTHORIZED", "DISABLED": "UNAUTHORIZED",
           "EXPIRED": "UNAUTHORIZED"}

# The HTTP status of each refusal (REST status, and SOAP AuthFault/Status), and the start of
# the SOAP faultstring that goes with it.
STATUS = {"MISSING": 401, "INVALID": 401, "UNAUTHORIZED": 401, "DISABLED": 403, "EXPIRED": 403,
          "INSUFFICIENT_SCOPE": 403, "IP_NOT_ALLOWED": 403, "NO_CREDIT": 403,
          "RATE_LIMITED": 429}
REASON = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}

MISSING = object()     # no credential at all: no X-API-Key header, no SessionIDHeader
START_CREDIT = 1000
RATE_PER_DAY = 2


class _ParityBase:
    """The table, run against a server started with SERVE_FLAGS."""
    SERVE_FLAGS = ()
    UNIFORM = False
    NAME = "parity"

    @classmethod
    def setUpClass(cls):
        avoid_window_edge(86400, 10)    # the per-day limit must not roll over mid-table
        cls.srv = Server(cls.NAME)
        s = cls.srv
        s.account_create("acme", credit=START_CREDIT)
        s.account_create("empty", credit=0)
        cls.exp_at = int(time.time()) + 2
        expired = s.key_create("acme", name="expiring", expires=rfc3339(cls.exp_at))
        valid = s.key_create("acme", name="valid")
        revoked = s.key_create("acme", name="revoked")
        s.key_revoke(s.key_id(revoked))
        scoped = s.key_create("acme", name="scoped", scopes="track:write")
        fenced = s.key_create("acme", name="fenced", ip="10.0.0.0/8")
        broke = s.key_create("empty", name="broke")
        limited = s.key_create("acme", name="limited", rate_day=RATE_PER_DAY)
        s.user_create("acme", "dave", "parity-pass")
        s.start("--cost", "credit=1", *cls.SERVE_FLAGS)
        live = s.rest_login("dave", "parity-pass").json()["Key"]
        gone = s.rest_login("dave", "parity-pass").json()["Key"]
        r = s.rest("POST", "/rest/logout", key=gone)
        assert r.status == 200, r
        # Use up the limited key's allowance on /rest/me, which is free and needs no scope.
        for _ in range(RATE_PER_DAY):
            r = s.rest("GET", "/rest/me", key=limited)
            assert r.status == 200, r
        cls.creds = {
            "valid_key": valid,
            "valid_session": live,
            "missing": MISSING,
            "empty_string": "",
            "whitespace_only": " \t ",
            "garbage": "garbage!credential#123",
            "tsk_bad_checksum": flip_char(valid),
            "revoked_key": revoked,
            "expired_key": expired,
            "logged_out_session": gone,
            "unknown_guid": str(uuid.uuid4()),
            "long_5000": "A" * 5000,
            "scope_lacking": scoped,
            "ip_not_allowed": fenced,
            "empty_account": broke,
            "rate_used_up": limited,
        }

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def via_rest(self, cred):
        if cred is MISSING:
            return self.srv.credit()
        if cred == "":
            # curl sends an empty header for "Name;" (a bare "Name:" would delete it).
            return self.srv.rest("POST", "/rest/credit", headers=["X-API-Key;"])
        return self.srv.rest("POST", "/rest/credit", headers=["X-API-Key: " + cred])

    def via_soap(self, cred):
        if cred is MISSING:
            return self.srv.soap("CreditRemaining")
        return self.srv.soap("CreditRemaining", session_id=cred)

    def balance(self, cred):
        """The balance of cred's account as the server counts it, net of batched spending it has
        not written yet (the default): GET /rest/me, which is free."""
        r = self.srv.rest("GET", "/rest/me", key=cred)
        self.assertEqual(r.status, 200, r)
        return r.json()["credit"]

    def expected(self, verdict):
        return UNIFORM.get(verdict, verdict) if self.UNIFORM else verdict

    def exchange(self, name):
        """Send row name's credential on both channels: (REST response, SOAP response, result)."""
        if name == "expired_key":
            wait_until(self.exp_at + 1.1)
        cred = self.creds[name]
        rresp = self.via_rest(cred)
        sresp, sres = self.via_soap(cred)
        return rresp, sresp, sres

    def check(self, name, verdict):
        expected = self.expected(verdict)
        valid = self.creds["valid_key"]
        balance = self.balance(valid) if expected == "OK" else None
        rresp, sresp, sres = self.exchange(name)
        rv = rest_verdict(rresp)
        sv = soap_verdict(sresp, sres)
        self.assertEqual(rv, sv, "channels disagree for %s: REST %s (%r) vs SOAP %s (%r)"
                         % (name, rv, rresp, sv, sres))
        self.assertEqual(rv, expected, "REST %r" % rresp)
        self.assertEqual(sv, expected, "SOAP %r" % sres)
        if expected == "OK":
            # --cost credit=1: REST took one credit, then SOAP another; each reports what is left.
            self.assertEqual(rresp.json()["Credit"], balance - 1, rresp)
            self.assertEqual(sres.credit, balance - 2, sres)
            self.assertEqual(self.balance(valid), balance - 2)
            return
        # Same status family: REST's HTTP status and SOAP's AuthFault/Status agree too.
        self.assertEqual(str(rresp.status), sres.detail_status, (rresp, sres))
        self.assertEqual(rresp.status, STATUS[expected], rresp)
        self.assertEqual(rresp.json().get("requestId"), rresp.headers.get("x-request-id"), rresp)
        self.assertEqual(sresp.status, 500, sresp)      # a SOAP 1.1 fault
        self.assertTrue((sres.fault_string or "").startswith(REASON[STATUS[expected]] + ":"),
                        sres)
        self.assertEqual(sres.detail_request_id, sresp.headers.get("x-request-id"), sres)
        if expected == "RATE_LIMITED":
            ras = [rresp.headers.get("retry-after"), sresp.headers.get("retry-after"),
                   sres.detail_retry_after]
            for ra in ras:
                self.assertIsNotNone(ra, (rresp, sresp, sres))
                self.assertRegex(ra, r"^\d+$")
                self.assertTrue(1 <= int(ra) <= 86400, ras)
            # A per-day window: the three are the same wait, read a moment apart.
            self.assertLessEqual(max(map(int, ras)) - min(map(int, ras)), 2, ras)
        else:
            self.assertNotIn("retry-after", rresp.headers, rresp)
            self.assertNotIn("retry-after", sresp.headers, sresp)
            self.assertIsNone(sres.detail_retry_after, sres)
        if expected == "NO_CREDIT":
            self.assertEqual(self.balance(self.creds["empty_account"]), 0, "a refusal took credit")


def _make(name, verdict):
    def test(self):
        self.check(name, verdict)
    test.__name__ = "test_%s" % name
    test.__doc__ = "%s -> %s on REST and SOAP" % (name, verdict)
    return test


for _i, (_name, _verdict) in enumerate(ROWS):
    # Numbered so that the table runs in its own order.
    setattr(_ParityBase, "test_%02d_%s" % (_i, _name), _make(_name, _verdict))


class ParityTest(_ParityBase, unittest.TestCase):
    pass


class UniformParityTest(_ParityBase, unittest.TestCase):
    """The same table on a server with --uniform-errors."""
    SERVE_FLAGS = ("--uniform-errors",)
    UNIFORM = True
    NAME = "parity-uniform"

    def test_99_uniform_refusals_alike(self):
        """The collapsed refusals cannot be told apart: same body (but the request id), same
        faultstring, same detail, on both channels."""
        rest_bodies, faults = {}, {}
        for name, verdict in ROWS:
            if verdict not in UNIFORM:
                continue
            rresp, sresp, sres = self.exchange(name)
            body = rresp.json()
            self.assertEqual(body.pop("requestId"), rresp.headers.get("x-request-id"))
            rest_bodies[name] = (rresp.status, body)
            faults[name] = (sresp.status, sres.fault_code, sres.fault_string, sres.detail_code,
                            sres.detail_status)
        self.assertEqual(len(set(map(repr, rest_bodies.values()))), 1, rest_bodies)
        self.assertEqual(len(set(faults.values())), 1, faults)
        status, body = next(iter(rest_bodies.values()))
        self.assertEqual((status, body["code"]), (401, "UNAUTHORIZED"))
        self.assertTrue(next(iter(faults.values()))[2].startswith("Unauthorized: "), faults)


if __name__ == "__main__":
    unittest.main()
