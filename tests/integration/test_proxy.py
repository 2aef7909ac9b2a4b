"""tskey behind a reverse proxy: X-Forwarded-For names the client only when the peer is a
trusted proxy (serve --trusted-proxy), and refusals carry WWW-Authenticate and X-Tskey-Code."""
import unittest

from harness import Server


class TrustedProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("proxy")
        cls.srv.account_create("acme", credit=100)
        cls.inside = cls.srv.key_create("acme", ip="10.0.0.0/8")
        cls.srv.start("--trusted-proxy", "127.0.0.1")
        cls.plain = Server("noproxy")
        cls.plain.account_create("acme", credit=100)
        cls.plain_key = cls.plain.key_create("acme", ip="10.0.0.0/8")
        cls.plain.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.plain.stop()

    def code(self, srv, key, xff):
        hdrs = ["X-Forwarded-For: " + xff] if xff is not None else []
        r = srv.rest("POST", "/rest/credit", key=key, headers=hdrs)
        return r.status, r.headers.get("x-tskey-code")

    def test_forwarded_client_is_checked(self):
        self.assertEqual(self.code(self.srv, self.inside, "10.1.2.3"), (200, None))
        # The right-most address that is not a trusted proxy is the client ...
        self.assertEqual(self.code(self.srv, self.inside, "192.168.1.1, 10.9.9.9"), (200, None))
        self.assertEqual(self.code(self.srv, self.inside, "10.1.2.3, 127.0.0.1"), (200, None))
        # ... so a client cannot prepend its way in.
        self.assertEqual(self.code(self.srv, self.inside, "10.1.2.3, 192.168.1.1"),
                         (403, "IP_NOT_ALLOWED"))
        self.assertEqual(self.code(self.srv, self.inside, None), (403, "IP_NOT_ALLOWED"))

    def test_garbled_header_fails_closed(self):
        for xff in ("garbage", "10.1.2.3/8", "", "10.1.2.3,,"):
            self.assertEqual(self.code(self.srv, self.inside, xff), (403, "IP_NOT_ALLOWED"), xff)

    def test_untrusted_peer_header_ignored(self):
        self.assertEqual(self.code(self.plain, self.plain_key, "10.1.2.3"),
                         (403, "IP_NOT_ALLOWED"))

    def test_log_names_the_forwarded_client(self):
        self.code(self.srv, self.inside, "10.42.0.7")
        self.assertIn("client=10.42.0.7 ", self.srv.wait_log("client=10.42.0.7 "))

    def test_bad_trusted_proxy_option(self):
        cp = Server("badproxy").cli("serve", "--trusted-proxy", "not-an-ip", check=False)
        self.assertEqual(cp.returncode, 2)
        self.assertIn("--trusted-proxy", cp.stderr)


class RefusalHeadersTest(unittest.TestCase):
    def test_401_says_how_and_every_refusal_names_its_code(self):
        srv = Server("hdrs")
        srv.account_create("acme", credit=0)
        key = srv.key_create("acme", scopes="other:thing")
        srv.start()
        try:
            r = srv.rest("POST", "/rest/credit")
            self.assertEqual(r.status, 401)
            self.assertEqual(r.headers.get("www-authenticate"), 'Bearer realm="tskey"')
            self.assertEqual(r.headers.get("x-tskey-code"), "MISSING")
            r = srv.rest("POST", "/rest/credit", key=key)
            self.assertEqual((r.status, r.headers.get("x-tskey-code")),
                             (403, "INSUFFICIENT_SCOPE"))
            self.assertNotIn("www-authenticate", r.headers)
            r = srv.rest("POST", "/rest/credit", key=key.replace("tsk_", "tsx_"))
            self.assertEqual(r.headers.get("x-tskey-code"), "INVALID")
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()
