"""HTTPS: SOAP and REST over TLS 1.2 and 1.3 with curl and zeep; TLS 1.1 refused; plain HTTP off
loopback refused unless asked for."""
import os
import subprocess
import unittest

from harness import Server, envelope, parse_soap, soap_headers

TIMEOUT = 20


def run(*argv, input=None):
    return subprocess.run(list(argv), capture_output=True, timeout=TIMEOUT, input=input)


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("tls")
        cls.cert = os.path.join(cls.srv.dir, "cert.pem")
        cls.keyfile = os.path.join(cls.srv.dir, "key.pem")
        cp = run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", cls.keyfile, "-out",
                 cls.cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                 "subjectAltName=IP:127.0.0.1,DNS:localhost")
        assert cp.returncode == 0, cp.stderr
        cls.srv.account_create("acme", credit=9)
        cls.key = cls.srv.key_create("acme")
        cls.srv.user_create("acme", "bob", "tls password")
        cls.srv.start("--tls-cert", cls.cert, "--tls-key", cls.keyfile)
        cls.base = "https://127.0.0.1:%d" % cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def curl(self, *args):
        return run("curl", "-s", "--max-time", "10", "--cacert", self.cert, *args)

    def test_rest_over_tls13_and_tls12(self):
        for version in (["--tlsv1.3"], ["--tlsv1.2", "--tls-max", "1.2"]):
            cp = self.curl(*version, "-X", "POST", "-H", "X-API-Key: " + self.key,
                           "-w", "\n%{http_code}", self.base + "/rest/credit")
            self.assertEqual(cp.returncode, 0, cp)
            body, status = cp.stdout.decode().rsplit("\n", 1)
            self.assertEqual((status, body), ("200", '{"Credit":9,"Errors":[],"Status":0}'))

    def test_soap_over_tls_with_curl(self):
        env = envelope("CreditRemaining", session_id=self.key).encode()
        args = []
        for h in soap_headers("CreditRemaining"):
            args += ["-H", h]
        cp = run("curl", "-s", "--max-time", "10", "--cacert", self.cert, *args,
                 "--data-binary", "@-", self.base + "/TrackService.asmx", input=env)
        self.assertEqual(cp.returncode, 0, cp)
        self.assertEqual(parse_soap(cp.stdout).credit, 9)

    def test_zeep_over_tls(self):
        script = (
            "import sys, requests, zeep\n"
            "from zeep.transports import Transport\n"
            "s = requests.Session(); s.trust_env = False; s.verify = sys.argv[2]\n"
            "c = zeep.Client(sys.argv[1] + '/TrackService.asmx?WSDL', transport=Transport(session=s))\n"
            "svc = c.bind('TrackService', 'TrackServiceSoap')\n"
            "r = svc.Login(userName='bob', password='tls password')\n"
            "r = r.body.LoginResult if hasattr(r, 'body') else r\n"
            "h = c.get_element('{http://TrackService.TrackRoad.com/}SessionIDHeader')\n"
            "v = svc.CreditRemaining(_soapheaders=[h(SessionID=r.Key)])\n"
            "print(r.Status, v if isinstance(v, int) else v.Credit)\n")
        cp = run("/usr/bin/python3", "-c", script, self.base, self.cert)
        self.assertEqual(cp.returncode, 0, cp.stderr.decode()[-2000:])
        self.assertEqual(cp.stdout.decode().split(), ["Success", "9"])

    def test_wsdl_address_is_https(self):
        cp = self.curl(self.base + "/TrackService.asmx?WSDL")
        self.assertIn(('location="%s/TrackService.asmx"' % self.base).encode(), cp.stdout)

    def test_tls11_refused(self):
        cp = self.curl("--tlsv1.1", "--tls-max", "1.1", "-X", "POST", "-H",
                       "X-API-Key: " + self.key, self.base + "/rest/credit")
        self.assertNotEqual(cp.returncode, 0)
        self.assertEqual(cp.stdout, b"")
        cp = run("openssl", "s_client", "-connect", "127.0.0.1:%d" % self.srv.port,
                 "-tls1_1", "-CAfile", self.cert, input=b"")
        self.assertNotEqual(cp.returncode, 0)
        # No session: no certificate came back and no cipher was agreed.
        self.assertIn(b"no peer certificate available", cp.stdout)
        self.assertIn(b"Cipher is (NONE)", cp.stdout)

    def test_tls13_negotiated_with_a_modern_suite(self):
        cp = run("openssl", "s_client", "-connect", "127.0.0.1:%d" % self.srv.port,
                 "-CAfile", self.cert, "-brief", input=b"")
        out = cp.stdout + cp.stderr
        self.assertIn(b"Protocol version: TLSv1.3", out)
        self.assertIn(b"Verification: OK", out)

    def test_plain_http_on_the_tls_port_gets_nothing(self):
        cp = run("curl", "-s", "--max-time", "5", "-X", "POST", "-H", "X-API-Key: " + self.key,
                 "http://127.0.0.1:%d/rest/credit" % self.srv.port)
        self.assertNotIn(b"Credit", cp.stdout)


class PlainHttpPolicyTest(unittest.TestCase):
    def test_plain_off_loopback_refused_unless_allowed(self):
        srv = Server("plain")
        # 192.0.2.1 (TEST-NET-1) is never this machine's: nothing is bound or sent there.
        cp = srv.cli("serve", "--no-demo", "--listen", "192.0.2.1:0", check=False, timeout=20)
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("refusing plain HTTP", cp.stderr)
        cp = srv.cli("serve", "--no-demo", "--listen", "192.0.2.1:0", "--allow-plain",
                     check=False, timeout=20)
        self.assertNotEqual(cp.returncode, 0)
        self.assertNotIn("refusing plain HTTP", cp.stderr)
        self.assertIn("cannot listen", cp.stderr)

    def test_cert_without_key_refused(self):
        cp = Server("halftls").cli("serve", "--tls-cert", "/nonexistent.pem", check=False)
        self.assertEqual(cp.returncode, 2)
        self.assertIn("--tls-key", cp.stderr)

    def test_unreadable_cert_refused(self):
        srv = Server("badtls")
        cp = srv.cli("serve", "--no-demo", "--listen", "127.0.0.1:0", "--tls-cert",
                     "/nonexistent.pem", "--tls-key", "/nonexistent.pem", check=False,
                     timeout=20)
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("tls: cannot read the certificate", cp.stderr)


if __name__ == "__main__":
    unittest.main()
