"""SOAP by hand: raw envelopes (SOAP 1.1 and 1.2) through curl, and the served WSDL."""
import secrets
import unittest
import xml.etree.ElementTree as ET

from harness import (GUID_RE, SOAP11_NS, SOAP12_NS, TR_NS, WSDL_SOAP11_NS, WSDL_SOAP12_NS,
                     Server, flip_char)


class SoapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("soap")
        s = cls.srv
        s.account_create("acme", credit=42)
        cls.key = s.key_create("acme", name="main")
        s.user_create("acme", "bob", "s3cret-pass")
        s.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def assertFault11(self, resp, res, code, reason):
        self.assertEqual(resp.status, 500, resp)
        self.assertTrue(res.fault, (resp, res))
        self.assertEqual(res.env_ns, SOAP11_NS)
        self.assertEqual(res.fault_code, "{%s}Client" % SOAP11_NS, res)
        self.assertTrue((res.fault_string or "").startswith(reason), res)
        self.assertEqual(res.detail_code, code, res)
        self.assertEqual(res.detail_request_id, resp.headers.get("x-request-id"), res)

    def assertCredit(self, resp, res, credit=42):
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(res.fault, res)
        self.assertEqual(res.credit, credit, (resp, res))

    def login(self, version="1.1"):
        resp, res = self.srv.soap_login("bob", "s3cret-pass", version=version)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(res.login.get("Status"), "Success", res)
        return res.login["Key"]

    # ---- CreditRemaining --------------------------------------------------------------------
    def test_credit_soap11(self):
        resp, res = self.srv.soap("CreditRemaining", session_id=self.key)
        self.assertCredit(resp, res)
        self.assertEqual(res.env_ns, SOAP11_NS)
        self.assertIn("text/xml", resp.headers.get("content-type", ""))

    def test_credit_soap12(self):
        resp, res = self.srv.soap("CreditRemaining", session_id=self.key, version="1.2")
        self.assertCredit(resp, res)
        self.assertEqual(res.env_ns, SOAP12_NS)
        self.assertIn("application/soap+xml", resp.headers.get("content-type", ""))

    def test_bad_key_fault_soap11_no_echo(self):
        sent = "bogus-session-" + secrets.token_hex(12)
        resp, res = self.srv.soap("CreditRemaining", session_id=sent)
        self.assertFault11(resp, res, "INVALID", "Unauthorized")
        self.assertEqual(res.fault_code_raw, "SOAP-ENV:Client")
        self.assertNotIn(sent.encode(), resp.everything())
        self.assertIsNone(res.header_session_id, "the fault carries a SessionIDHeader")

    def test_bad_tsk_key_fault_no_echo(self):
        sent = flip_char(self.key)
        resp, res = self.srv.soap("CreditRemaining", session_id=sent)
        self.assertFault11(resp, res, "INVALID", "Unauthorized")
        self.assertNotIn(sent.encode(), resp.everything())

    def test_bad_key_fault_soap12(self):
        sent = "bogus-session-" + secrets.token_hex(12)
        resp, res = self.srv.soap("CreditRemaining", session_id=sent, version="1.2")
        self.assertEqual(resp.status, 400, resp)
        self.assertTrue(res.fault, res)
        self.assertEqual(res.env_ns, SOAP12_NS)
        self.assertEqual(res.fault_code, "{%s}Sender" % SOAP12_NS, res)
        self.assertTrue((res.fault_string or "").startswith("Unauthorized"), res)
        self.assertEqual(res.detail_code, "INVALID", res)
        self.assertNotIn(sent.encode(), resp.everything())

    def test_logout_bad_session_fault_no_echo(self):
        sent = "bogus-logout-" + secrets.token_hex(12)
        for version in ("1.1", "1.2"):
            resp, res = self.srv.soap("Logout", session_id=sent, version=version)
            self.assertTrue(res.fault, (resp, res))
            self.assertEqual(res.detail_code, "INVALID", res)
            self.assertNotIn(sent.encode(), resp.everything())

    def test_unqualified_session_id_is_missing(self):
        # Savon-style: a prefixed SessionIDHeader with an unqualified <SessionID> child. ASMX
        # sees no SessionID there, so the answer is MISSING, not a use of the key.
        hdr = ('<tr:SessionIDHeader xmlns:tr="%s"><SessionID>%s</SessionID></tr:SessionIDHeader>'
               % (TR_NS, self.key))
        resp, res = self.srv.soap("CreditRemaining", header_xml=hdr)
        self.assertFault11(resp, res, "MISSING", "Unauthorized")
        self.assertNotIn(self.key.encode(), resp.everything())

    def test_no_header_is_missing(self):
        resp, res = self.srv.soap("CreditRemaining")
        self.assertFault11(resp, res, "MISSING", "Unauthorized")
        resp, res = self.srv.soap("CreditRemaining", version="1.2")
        self.assertEqual(resp.status, 400, resp)
        self.assertEqual(res.detail_code, "MISSING", res)

    def test_revoked_key_forbidden(self):
        s = self.srv
        k = s.key_create("acme", name="torevoke")
        self.assertCredit(*s.soap("CreditRemaining", session_id=k))
        s.key_revoke(s.key_id(k))
        resp, res = s.soap("CreditRemaining", session_id=k)
        self.assertFault11(resp, res, "DISABLED", "Forbidden")
        self.assertNotIn(k.encode(), resp.everything())

    def test_session_id_whitespace_trimmed(self):
        resp, res = self.srv.soap("CreditRemaining", session_id="\n  %s  \n" % self.key)
        self.assertCredit(resp, res)
        resp, res = self.srv.soap("CreditRemaining", session_id="\t%s\r\n" % self.key,
                                  version="1.2")
        self.assertCredit(resp, res)

    def test_credit_follows_cli(self):
        s = self.srv
        s.account_create("soapcredit", credit=3)
        k = s.key_create("soapcredit")
        self.assertCredit(*s.soap("CreditRemaining", session_id=k), credit=3)
        s.credit_set("soapcredit", 12345)
        self.assertCredit(*s.soap("CreditRemaining", session_id=k), credit=12345)

    # ---- Login / Logout ---------------------------------------------------------------------
    def test_login_success_with_header(self):
        for version, ns in (("1.1", SOAP11_NS), ("1.2", SOAP12_NS)):
            resp, res = self.srv.soap_login("bob", "s3cret-pass", version=version)
            self.assertEqual(resp.status, 200, resp)
            self.assertEqual(res.env_ns, ns)
            self.assertIsNotNone(res.login, res)
            self.assertEqual(res.login.get("Status"), "Success", res)
            self.assertEqual(res.login.get("Message"), "Success", res)
            self.assertRegex(res.login.get("Key", ""), GUID_RE)
            self.assertEqual(res.header_session_id, res.login["Key"],
                             "output SessionIDHeader/SessionID must equal LoginResult/Key")
            self.assertNotIn(b"s3cret-pass", resp.everything())

    def test_login_wrong_password(self):
        resp, res = self.srv.soap_login("bob", "not-the-pass")
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(res.fault, res)
        self.assertEqual(res.login.get("Status"), "Failed", res)
        self.assertFalse(res.login.get("Key"), res)
        self.assertIsNone(res.header_session_id, res)
        self.assertNotIn(b"not-the-pass", resp.everything())

    def test_login_unknown_user(self):
        resp, res = self.srv.soap_login("nobody", "not-the-pass")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(res.login.get("Status"), "Failed", res)
        self.assertFalse(res.login.get("Key"), res)

    def test_session_credit_then_logout(self):
        s = self.srv
        for version in ("1.1", "1.2"):
            sid = self.login(version)
            self.assertCredit(*s.soap("CreditRemaining", session_id=sid, version=version))
            resp, res = s.soap("Logout", session_id=sid, version=version)
            self.assertEqual(resp.status, 200, resp)
            self.assertFalse(res.fault, res)
            self.assertEqual(res.body_child.tag, "{%s}LogoutResponse" % TR_NS)
            self.assertEqual(len(res.body_child), 0, "LogoutResponse must be empty")
            self.assertFalse((res.body_child.text or "").strip())
            resp, res = s.soap("CreditRemaining", session_id=sid, version=version)
            self.assertTrue(res.fault, (resp, res))
            self.assertEqual(res.detail_code, "INVALID", res)
            self.assertTrue(res.fault_string.startswith("Unauthorized"), res)
            self.assertNotIn(sid.encode(), resp.everything())

    def test_session_works_on_rest_too(self):
        sid = self.login()
        r = self.srv.credit(sid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["Credit"], 42)

    # ---- WSDL -------------------------------------------------------------------------------
    def wsdl_locations(self, resp):
        self.assertEqual(resp.status, 200, resp)
        root = ET.fromstring(resp.body)
        self.assertEqual(root.tag, "{http://schemas.xmlsoap.org/wsdl/}definitions")
        locs = [el.get("location") for el in root.iter("{%s}address" % WSDL_SOAP11_NS)]
        locs += [el.get("location") for el in root.iter("{%s}address" % WSDL_SOAP12_NS)]
        self.assertEqual(len(locs), 2, locs)
        return locs

    def test_wsdl_upper_and_lower(self):
        want = "http://127.0.0.1:%d/TrackService.asmx" % self.srv.port
        for q in ("WSDL", "wsdl"):
            resp = self.srv.curl("GET", "/TrackService.asmx?" + q)
            self.assertIn("xml", resp.headers.get("content-type", ""), resp)
            self.assertEqual(self.wsdl_locations(resp), [want, want], q)

    def test_wsdl_location_follows_host(self):
        resp = self.srv.curl("GET", "/TrackService.asmx?WSDL",
                             headers=["Host: localhost:%d" % self.srv.port])
        want = "http://localhost:%d/TrackService.asmx" % self.srv.port
        self.assertEqual(self.wsdl_locations(resp), [want, want])

    def test_wsdl_hostile_host_not_reflected(self):
        resp = self.srv.curl("GET", "/TrackService.asmx?WSDL",
                             headers=['Host: evil"/><x a="'])
        self.assertNotIn(b"evil", resp.body)
        for loc in self.wsdl_locations(resp):
            self.assertTrue(loc.startswith("http://127.0.0.1:"), loc)

    def test_wsdl_without_host_uses_bound_port(self):
        # HTTP/1.0 without a Host header: the address must be the one the server listens on.
        with self.srv.raw() as c:
            st, hdrs, body = c.request("GET", "/TrackService.asmx?WSDL", version="HTTP/1.0",
                                       host=False)
        self.assertEqual(st, 200, body[:300])
        root = ET.fromstring(body)
        locs = [el.get("location") for el in root.iter("{%s}address" % WSDL_SOAP11_NS)]
        locs += [el.get("location") for el in root.iter("{%s}address" % WSDL_SOAP12_NS)]
        want = "http://127.0.0.1:%d/TrackService.asmx" % self.srv.port
        self.assertEqual(locs, [want, want])

if __name__ == "__main__":
    unittest.main()
