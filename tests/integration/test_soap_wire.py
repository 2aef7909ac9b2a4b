"""SOAP on the wire as ASMX clients and WCF send it: SOAPAction, WS-Addressing headers marked
mustUnderstand, and faults that say which part of the SessionID header is missing."""
import re
import time
import unittest

from harness import ACTION, TR_NS, Server, envelope, parse_soap, session_header

WSA = "http://www.w3.org/2005/08/addressing"


class SoapWireTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("wire")
        cls.srv.account_create("acme", credit=7)
        cls.key = cls.srv.key_create("acme")
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def post(self, env, headers):
        resp = self.srv.curl("POST", "/TrackService.asmx", headers=headers, body=env)
        return resp, parse_soap(resp.body)

    def credit_env(self, header_xml=None, version="1.1", wsa=False):
        if header_xml is None:
            header_xml = session_header(self.key)
        if wsa:
            header_xml = ('<a:Action xmlns:a="%s" soap:mustUnderstand="1">%s</a:Action>'
                          '<a:To xmlns:a="%s" soap:mustUnderstand="1">%s/TrackService.asmx</a:To>'
                          '<a:MessageID xmlns:a="%s">urn:uuid:6a6e0f3e-0000-4000-8000-000000000001'
                          '</a:MessageID>' % (WSA, ACTION.format("CreditRemaining"), WSA,
                                              self.srv.base, WSA)) + header_xml
        return envelope("CreditRemaining", version=version, header_xml=header_xml)

    # ---- keep-alive ---------------------------------------------------------------------
    def test_a_refused_call_keeps_the_connection(self):
        # ASMX keeps the connection after a fault; gSOAP closed it after every one, so a client
        # with a bad key reconnected for each call. Two refusals, then a good call, one socket.
        ct = "Content-Type: text/xml; charset=utf-8"
        act = 'SOAPAction: "%s"' % ACTION.format("CreditRemaining")
        bad = self.credit_env(header_xml=session_header("tsk_live_" + "A" * 28))
        with self.srv.raw() as conn:
            for _ in range(2):
                status, hdrs, body = conn.request("POST", "/TrackService.asmx", [ct, act], bad)
                self.assertEqual(status, 500, body)
                self.assertEqual(parse_soap(body).detail_code, "INVALID", body)
                self.assertEqual(hdrs.get("connection"), "keep-alive", hdrs)
            status, hdrs, body = conn.request("POST", "/TrackService.asmx", [ct, act],
                                              self.credit_env())
            self.assertEqual(status, 200, body)
            self.assertEqual(parse_soap(body).credit, 7, body)

    def test_a_broken_envelope_still_closes(self):
        # Not a refusal but a request gSOAP could not read: answered, then closed.
        ct = "Content-Type: text/xml; charset=utf-8"
        act = 'SOAPAction: "%s"' % ACTION.format("CreditRemaining")
        with self.srv.raw() as conn:
            status, hdrs, body = conn.request(
                "POST", "/TrackService.asmx", [ct, act],
                self.credit_env().replace("</soap:Body>", "<junk/></soap:Body>"))
            self.assertEqual(status, 500, body)
            self.assertTrue(parse_soap(body).fault, body)
            self.assertTrue(conn.at_eof(), "connection left open after a broken envelope")

    def test_logged_time_leaves_out_the_wait_for_the_request(self):
        # On a keep-alive connection the time a request takes starts with its first byte,
        # not when the server began waiting for it (here: a second of idle).
        ct = "Content-Type: text/xml; charset=utf-8"
        act = 'SOAPAction: "%s"' % ACTION.format("CreditRemaining")
        with self.srv.raw() as conn:
            conn.request("POST", "/TrackService.asmx", [ct, act], self.credit_env())
            time.sleep(1.0)
            _, hdrs, _ = conn.request("POST", "/TrackService.asmx", [ct, act],
                                      self.credit_env())
        rid = hdrs.get("x-request-id")
        log = self.srv.wait_log("request id=%s " % rid)
        line = [ln for ln in log.splitlines() if "request id=%s " % rid in ln][0]
        ms = float(re.search(r" ms=([0-9.]+)", line).group(1))
        self.assertLess(ms, 900.0, line)

    # ---- CORS ---------------------------------------------------------------------------
    def test_no_cross_origin_grant_on_soap(self):
        # gSOAP answers a request with an Origin header "Access-Control-Allow-Origin: *" (and
        # allows credentials); the SOAP endpoint grants no origin anything, answer or fault.
        ct = "Content-Type: text/xml; charset=utf-8"
        act = 'SOAPAction: "%s"' % ACTION.format("CreditRemaining")
        for name, headers in (("answer", [ct, act]), ("fault", [ct])):
            with self.subTest(name):
                resp, res = self.post(self.credit_env(), headers + [
                    "Origin: https://evil.example"])
                self.assertEqual(resp.status, 200 if name == "answer" else 500, resp)
                grants = [k for k in resp.headers if k.startswith("access-control-")]
                self.assertEqual(grants, [], resp.headers)

    # ---- SOAPAction ---------------------------------------------------------------------
    def test_soap11_without_soapaction_is_refused(self):
        resp, res = self.post(self.credit_env(), ["Content-Type: text/xml; charset=utf-8"])
        self.assertEqual(resp.status, 500)
        self.assertTrue(res.fault, res)
        self.assertIn("Please supply a valid soap action", res.fault_string)
        self.assertIsNone(res.credit)

    def test_soap11_wrong_soapaction_is_named(self):
        resp, res = self.post(self.credit_env(), [
            "Content-Type: text/xml; charset=utf-8", 'SOAPAction: "%s"' % ACTION.format("Login")])
        self.assertEqual(resp.status, 500)
        self.assertEqual(res.fault_string, "Server did not recognize the value of HTTP Header "
                         "SOAPAction: %s." % ACTION.format("Login"))

    def test_soap11_unquoted_soapaction_accepted(self):
        resp, res = self.post(self.credit_env(), [
            "Content-Type: text/xml; charset=utf-8", "SOAPAction: %s" % ACTION.format(
                "CreditRemaining")])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(res.credit, 7)

    def test_soap12_action_parameter_checked_when_given(self):
        ok = 'Content-Type: application/soap+xml; charset=utf-8; action="%s"'
        resp, res = self.post(self.credit_env(version="1.2"),
                              [ok % ACTION.format("CreditRemaining")])
        self.assertEqual((resp.status, res.credit), (200, 7))
        resp, res = self.post(self.credit_env(version="1.2"),
                              ["Content-Type: application/soap+xml; charset=utf-8"])
        self.assertEqual((resp.status, res.credit), (200, 7))     # optional in SOAP 1.2
        resp, res = self.post(self.credit_env(version="1.2"), [ok % ACTION.format("Logout")])
        self.assertEqual(resp.status, 400)
        self.assertIn("did not recognize the value", res.fault_string)

    # ---- WS-Addressing, mustUnderstand --------------------------------------------------
    def test_wcf_addressing_headers_do_not_break_the_call(self):
        for version, headers in (("1.1", ["Content-Type: text/xml; charset=utf-8",
                                          'SOAPAction: "%s"' % ACTION.format("CreditRemaining")]),
                                 ("1.2", ['Content-Type: application/soap+xml; charset=utf-8; '
                                          'action="%s"' % ACTION.format("CreditRemaining")])):
            resp, res = self.post(self.credit_env(version=version, wsa=True), headers)
            self.assertEqual(resp.status, 200, (version, resp))
            self.assertEqual(res.credit, 7)

    def test_unknown_mustunderstand_header_still_fails(self):
        hdr = ('<x:Policy xmlns:x="urn:example:other" soap:mustUnderstand="1">1</x:Policy>' +
               session_header(self.key))
        resp, res = self.post(self.credit_env(header_xml=hdr), [
            "Content-Type: text/xml; charset=utf-8",
            'SOAPAction: "%s"' % ACTION.format("CreditRemaining")])
        self.assertEqual(resp.status, 500)
        self.assertTrue(res.fault_code.endswith("}MustUnderstand"), res)
        self.assertIsNone(res.credit)

    # ---- which part of the header is missing ---------------------------------------------
    def refused(self, header_xml):
        resp, res = self.srv.soap("CreditRemaining", header_xml=header_xml)
        self.assertEqual(resp.status, 500, resp)
        self.assertEqual(res.detail_code, "MISSING", res)
        self.assertNotIn(self.key.encode(), resp.everything())
        return res.fault_string

    def test_no_header(self):
        self.assertEqual(self.refused(None), "Unauthorized: No SessionIDHeader in the SOAP header")

    def test_header_in_wrong_namespace(self):
        hdr = ('<SessionIDHeader xmlns="urn:not-trackroad"><SessionID>%s</SessionID>'
               '</SessionIDHeader>' % self.key)
        self.assertEqual(self.refused(hdr), "Unauthorized: The SessionIDHeader is not in the "
                         "namespace " + TR_NS)

    def test_unqualified_session_id(self):
        hdr = ('<t:SessionIDHeader xmlns:t="%s"><SessionID>%s</SessionID></t:SessionIDHeader>'
               % (TR_NS, self.key))
        self.assertEqual(self.refused(hdr), "Unauthorized: The SessionID element is not in the "
                         "namespace " + TR_NS)

    def test_header_without_session_id(self):
        hdr = '<SessionIDHeader xmlns="%s"/>' % TR_NS
        self.assertEqual(self.refused(hdr), "Unauthorized: The SessionIDHeader has no SessionID")

    def test_empty_session_id(self):
        for sid in ("", "   "):
            self.assertEqual(self.refused(session_header(sid)),
                             "Unauthorized: The SessionID is empty")


if __name__ == "__main__":
    unittest.main()
