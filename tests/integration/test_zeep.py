"""zeep (Debian's python3-zeep) as a generated client from the served WSDL, on both bindings."""
import unittest

import zeep
import zeep.exceptions
import zeep.plugins
import zeep.transports

from harness import (GUID_RE, HTTP_TIMEOUT, SOAP11_NS, SOAP12_NS, TR_NS, Server,
                     avoid_window_edge)

BINDINGS = ("TrackServiceSoap", "TrackServiceSoap12")


def login_result(res):
    """Login's result: zeep hands back {header, body} because Login has an output header."""
    if hasattr(res, "body") and res.body is not None:
        return res.body.LoginResult, res.header
    return res, None


def credit_of(res):
    """CreditRemaining's result: the bare int (one-child flattening) or the CreditResult."""
    if isinstance(res, int):
        return res
    if hasattr(res, "body") and res.body is not None:
        res = res.body.CreditRemainingResult
    return res.Credit


def fault_code(fault):
    """The AuthFault/Code in a zeep Fault's detail element."""
    if fault.detail is None:
        return None
    el = fault.detail.find(".//{%s}Code" % TR_NS)
    return el.text if el is not None else None


class ZeepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        avoid_window_edge(86400, 10)    # the rate-limit flows use per-day limits
        cls.srv = Server("zeep")
        s = cls.srv
        s.account_create("acme", credit=77)
        cls.key = s.key_create("acme", name="zeepkey")
        s.user_create("acme", "carol", "zeep-pass-1")
        s.start()
        transport = zeep.transports.Transport(timeout=HTTP_TIMEOUT,
                                              operation_timeout=HTTP_TIMEOUT)
        cls.history = zeep.plugins.HistoryPlugin()
        cls.client = zeep.Client(wsdl=s.soap_url + "?WSDL", transport=transport,
                                 settings=zeep.Settings(strict=False), plugins=[cls.history])
        cls.header_el = cls.client.get_element("{%s}SessionIDHeader" % TR_NS)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def service(self, binding):
        svc = self.client.bind("TrackService", binding)
        # The bound address comes from the served WSDL: it must be the server we talk to.
        self.assertEqual(svc._binding_options["address"], self.srv.soap_url)
        return svc

    def hdr(self, sid):
        return [self.header_el(SessionID=sid)]

    def _login_flow(self, binding):
        svc = self.service(binding)
        res, header = login_result(svc.Login(userName="carol", password="zeep-pass-1"))
        self.assertEqual(res.Status, "Success")
        self.assertRegex(res.Key, GUID_RE)
        self.assertIsNotNone(header)
        self.assertEqual(header.SessionIDHeader.SessionID, res.Key)
        sid = res.Key
        # Both ways of passing the header: a dict and the element from the WSDL.
        self.assertEqual(credit_of(svc.CreditRemaining(
            _soapheaders={"SessionIDHeader": {"SessionID": sid}})), 77)
        self.assertEqual(credit_of(svc.CreditRemaining(_soapheaders=self.hdr(sid))), 77)
        self.assertIsNone(svc.Logout(_soapheaders=self.hdr(sid)))
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            svc.CreditRemaining(_soapheaders=self.hdr(sid))
        self.assertTrue(cm.exception.message.startswith("Unauthorized"), cm.exception.message)
        self.assertEqual(fault_code(cm.exception), "INVALID")

    def _key_flow(self, binding):
        svc = self.service(binding)
        self.assertEqual(credit_of(svc.CreditRemaining(_soapheaders=self.hdr(self.key))), 77)
        # The binding decides the SOAP version, both ways.
        ns = SOAP12_NS if binding.endswith("12") else SOAP11_NS
        self.assertEqual(self.history.last_sent["envelope"].tag, "{%s}Envelope" % ns)
        self.assertEqual(self.history.last_received["envelope"].tag, "{%s}Envelope" % ns)
        self.assertEqual(credit_of(svc.CreditRemaining(
            _soapheaders={"SessionIDHeader": {"SessionID": self.key}})), 77)

    def _revoked_flow(self, binding):
        s = self.srv
        k = s.key_create("acme", name="revoke-" + binding)
        svc = self.service(binding)
        self.assertEqual(credit_of(svc.CreditRemaining(_soapheaders=self.hdr(k))), 77)
        s.key_revoke(s.key_id(k))
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            svc.CreditRemaining(_soapheaders=self.hdr(k))
        self.assertTrue(cm.exception.message.startswith("Forbidden"), cm.exception.message)
        self.assertEqual(fault_code(cm.exception), "DISABLED")
        self.assertNotIn(k, str(cm.exception.message))

    def _scope_flow(self, binding):
        """A key without credit:read: CreditRemaining is a Forbidden fault, INSUFFICIENT_SCOPE."""
        k = self.srv.key_create("acme", name="scope-" + binding, scopes="track:write")
        svc = self.service(binding)
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            svc.CreditRemaining(_soapheaders=self.hdr(k))
        self.assertTrue(cm.exception.message.startswith("Forbidden"), cm.exception.message)
        self.assertEqual(fault_code(cm.exception), "INSUFFICIENT_SCOPE")
        self.assertNotIn(k, str(cm.exception.message))
        # The same client and key still pass where no scope is needed.
        self.assertIsNone(svc.Logout(_soapheaders=self.hdr(k)))

    def _rate_flow(self, binding):
        """A key over its rate limit: a Too Many Requests fault, RATE_LIMITED, with RetryAfter."""
        k = self.srv.key_create("acme", name="rate-" + binding, rate_day=1)
        svc = self.service(binding)
        self.assertEqual(credit_of(svc.CreditRemaining(_soapheaders=self.hdr(k))), 77)
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            svc.CreditRemaining(_soapheaders=self.hdr(k))
        self.assertTrue(cm.exception.message.startswith("Too Many Requests"),
                        cm.exception.message)
        self.assertEqual(fault_code(cm.exception), "RATE_LIMITED")
        ra = cm.exception.detail.find(".//{%s}RetryAfter" % TR_NS)
        self.assertIsNotNone(ra)
        self.assertGreaterEqual(int(ra.text), 1)

    def _bad_login_flow(self, binding):
        svc = self.service(binding)
        res, header = login_result(svc.Login(userName="carol", password="wrong"))
        self.assertEqual(res.Status, "Failed")
        self.assertFalse(res.Key)

    def _missing_flow(self, binding):
        svc = self.service(binding)
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            svc.CreditRemaining()
        self.assertTrue(cm.exception.message.startswith("Unauthorized"), cm.exception.message)
        self.assertEqual(fault_code(cm.exception), "MISSING")

    # One test per flow and binding.
    def test_login_credit_logout_soap11(self):
        self._login_flow("TrackServiceSoap")

    def test_login_credit_logout_soap12(self):
        self._login_flow("TrackServiceSoap12")

    def test_key_in_header_soap11(self):
        self._key_flow("TrackServiceSoap")

    def test_key_in_header_soap12(self):
        self._key_flow("TrackServiceSoap12")

    def test_revoked_key_forbidden_soap11(self):
        self._revoked_flow("TrackServiceSoap")

    def test_revoked_key_forbidden_soap12(self):
        self._revoked_flow("TrackServiceSoap12")

    def test_insufficient_scope_forbidden_soap11(self):
        self._scope_flow("TrackServiceSoap")

    def test_insufficient_scope_forbidden_soap12(self):
        self._scope_flow("TrackServiceSoap12")

    def test_rate_limited_soap11(self):
        self._rate_flow("TrackServiceSoap")

    def test_rate_limited_soap12(self):
        self._rate_flow("TrackServiceSoap12")

    def test_login_wrong_password_soap11(self):
        self._bad_login_flow("TrackServiceSoap")

    def test_login_wrong_password_soap12(self):
        self._bad_login_flow("TrackServiceSoap12")

    def test_no_header_missing_soap11(self):
        self._missing_flow("TrackServiceSoap")

    def test_no_header_missing_soap12(self):
        self._missing_flow("TrackServiceSoap12")


if __name__ == "__main__":
    unittest.main()
