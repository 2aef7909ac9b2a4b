"""The migration path operators can see: per key and per Login user, requests by path (SOAP with
a Login session, SOAP with the key in the header, REST) and the last legacy use, through
`tskey report migration` and GET /admin/v1/report/migration; and the Deprecation / Sunset
headers a deprecated legacy Login answers with."""
import time
import unittest

from harness import Server

FLUSH_WAIT = 3.0     # the usage flusher writes every second


def report_rows(srv, *args):
    out = srv.cli("report", "migration", *args).stdout.splitlines()
    head = out[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in out[1:]]


class MigrationReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("migration")
        cls.srv.account_create("acme", credit=100)
        cls.srv.account_create("beta", credit=100)
        cls.soap_key = cls.srv.key_create("acme", name="still-soap")
        cls.rest_key = cls.srv.key_create("acme", name="moved-to-rest")
        cls.beta_key = cls.srv.key_create("beta", name="beta-soap")
        cls.admin = cls.srv.key_create("acme", name="ops", scopes="keys:admin")
        cls.srv.user_create("acme", "bob", "bob's password")
        cls.srv.start("--login-deprecated", "2026-01-01", "--login-sunset", "2027-06-30T12:00:00Z")
        for _ in range(3):
            assert cls.srv.soap("CreditRemaining", session_id=cls.soap_key)[1].credit == 100
        assert cls.srv.credit(cls.soap_key).status == 200          # also once on REST
        for _ in range(2):
            assert cls.srv.credit(cls.rest_key).status == 200
        assert cls.srv.soap("CreditRemaining", session_id=cls.beta_key)[1].credit == 100
        cls.login_resp, res = cls.srv.soap_login("bob", "bob's password")
        session = res.login["Key"]
        for _ in range(2):
            assert cls.srv.soap("CreditRemaining", session_id=session)[1].credit == 100
        assert cls.srv.credit(session).status == 200
        cls.rest_login = cls.srv.rest_login("bob", "bob's password")
        time.sleep(FLUSH_WAIT)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def row(self, rows, kind, name):
        found = [r for r in rows if r["KIND"] == kind and r["NAME"] == name]
        self.assertEqual(len(found), 1, rows)
        return found[0]

    def test_cli_report_counts_by_path(self):
        rows = report_rows(self.srv)
        key = self.row(rows, "key", "still-soap")
        self.assertEqual((key["SOAP_KEY"], key["REST"], key["SOAP_SESSION"]), ("3", "1", "0"))
        self.assertEqual(key["ACCOUNT"], "acme")
        self.assertTrue(self.soap_key.startswith(key["PREFIX"]))
        user = self.row(rows, "user", "bob")
        self.assertEqual((user["SOAP_SESSION"], user["REST"], user["LOGINS"]), ("2", "1", "2"))
        self.assertNotEqual(user["LAST_LEGACY_USE"], "-")
        # A key that only ever used REST is not on a legacy path.
        self.assertEqual([r for r in rows if r["NAME"] in ("moved-to-rest", "ops")], [])

    def test_cli_report_filters(self):
        names = {r["NAME"] for r in report_rows(self.srv, "--account", "beta")}
        self.assertEqual(names, {"beta-soap"})
        self.assertEqual(len(report_rows(self.srv, "--since", "1")), 3)
        cp = self.srv.cli("report", "migration", "--since", "0", check=False)
        self.assertNotEqual(cp.returncode, 0)
        cp = self.srv.cli("report", "nonsense", check=False)
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("report", cp.stderr)

    def test_admin_api_report(self):
        r = self.srv.rest("GET", "/admin/v1/report/migration", key=self.admin)
        self.assertEqual(r.status, 200, r)
        legacy = r.json()["legacy"]
        # A tenant's admin key sees its own account only.
        self.assertEqual({e["account"] for e in legacy}, {"acme"})
        key = [e for e in legacy if e["kind"] == "key"][0]
        self.assertEqual(key["name"], "still-soap")
        self.assertEqual(key["requests"], {"soapSession": 0, "soapKey": 3, "rest": 1,
                                           "logins": 0})
        self.assertRegex(key["lastLegacyUse"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        user = [e for e in legacy if e["kind"] == "user"][0]
        self.assertEqual(user["requests"], {"soapSession": 2, "soapKey": 0, "rest": 1,
                                            "logins": 2})
        self.assertNotIn(self.soap_key.encode(), r.everything())
        r = self.srv.rest("GET", "/admin/v1/report/migration?account=beta", key=self.admin)
        self.assertEqual((r.status, r.json()["code"]), (403, "FORBIDDEN"))
        r = self.srv.rest("GET", "/admin/v1/report/migration?limit=3", key=self.admin)
        self.assertEqual((r.status, r.json()["code"]), (400, "BAD_REQUEST"))

    def test_login_deprecation_headers(self):
        for resp in (self.login_resp, self.rest_login):
            self.assertEqual(resp.headers.get("deprecation"), "@1767225600", resp)
            self.assertEqual(resp.headers.get("sunset"), "Wed, 30 Jun 2027 12:00:00 GMT")
        # Only the legacy Login carries them.
        r = self.srv.credit(self.rest_key)
        self.assertNotIn("deprecation", r.headers)
        self.assertNotIn("sunset", r.headers)


class NoDeprecationTest(unittest.TestCase):
    def test_login_not_deprecated_by_default(self):
        srv = Server("nodep")
        srv.account_create("acme")
        srv.user_create("acme", "bob", "pw pw pw")
        srv.start()
        try:
            resp = srv.rest_login("bob", "pw pw pw")
            self.assertEqual(resp.status, 200)
            self.assertNotIn("deprecation", resp.headers)
            self.assertNotIn("sunset", resp.headers)
        finally:
            srv.stop()

    def test_bad_dates_refused(self):
        srv = Server("baddep")
        cp = srv.cli("serve", "--login-sunset", "next tuesday", check=False)
        self.assertEqual(cp.returncode, 2)
        self.assertIn("--login-sunset", cp.stderr)


if __name__ == "__main__":
    unittest.main()
