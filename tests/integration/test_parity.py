"""Parity: one table of credentials, each sent via REST (X-API-Key, POST /rest/credit) and via
SOAP 1.1 (SessionIDHeader/SessionID, CreditRemaining). Both channels must give the same verdict,
and that verdict must be the expected one."""
import time
import unittest
import uuid

from harness import Server, flip_char, rest_verdict, rfc3339, soap_verdict, wait_until

# name -> expected verdict; the credential itself is built in setUpClass.
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
]

MISSING = object()     # no credential at all: no X-API-Key header, no SessionIDHeader


class ParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("parity")
        s = cls.srv
        s.account_create("acme", credit=9)
        cls.exp_at = int(time.time()) + 2
        expired = s.key_create("acme", name="expiring", expires=rfc3339(cls.exp_at))
        valid = s.key_create("acme", name="valid")
        revoked = s.key_create("acme", name="revoked")
        s.key_revoke(s.key_id(revoked))
        s.user_create("acme", "dave", "parity-pass")
        s.start()
        live = s.rest_login("dave", "parity-pass").json()["Key"]
        gone = s.rest_login("dave", "parity-pass").json()["Key"]
        r = s.rest("POST", "/rest/logout", key=gone)
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

    def check(self, name, expected):
        if name == "expired_key":
            wait_until(self.exp_at + 1.1)
        cred = self.creds[name]
        rresp = self.via_rest(cred)
        sresp, sres = self.via_soap(cred)
        rv = rest_verdict(rresp)
        sv = soap_verdict(sresp, sres)
        self.assertEqual(rv, sv, "channels disagree for %s: REST %s (%r) vs SOAP %s (%r)"
                         % (name, rv, rresp, sv, sres))
        self.assertEqual(rv, expected, "REST %r" % rresp)
        self.assertEqual(sv, expected, "SOAP %r" % sres)
        if expected == "OK":
            self.assertEqual(rresp.json()["Credit"], 9)
            self.assertEqual(sres.credit, 9)
        else:
            # Same status family: REST's HTTP status and SOAP's AuthFault/Status agree too.
            self.assertEqual(str(rresp.status), sres.detail_status, (rresp, sres))


def _make(name, expected):
    def test(self):
        self.check(name, expected)
    test.__name__ = "test_%s" % name
    test.__doc__ = "%s -> %s on REST and SOAP" % (name, expected)
    return test


for _i, (_name, _expected) in enumerate(ROWS):
    # Numbered so that the table runs in its own order.
    setattr(ParityTest, "test_%02d_%s" % (_i, _name), _make(_name, _expected))


if __name__ == "__main__":
    unittest.main()
