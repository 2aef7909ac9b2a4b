"""The runnable samples in samples/ work against a live server, as the README says they do."""
import os
import re
import subprocess
import unittest

from harness import Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, "samples")
TIMEOUT = 60


def run(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=TIMEOUT)


class SamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("samples")
        cls.srv.account_create("acme", credit=42)
        cls.key = cls.srv.key_create("acme", name="sample")
        cls.srv.user_create("acme", "sam", "sample password")
        cls.admin = cls.srv.key_create("acme", name="ops", scopes="keys:admin credit:read")
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_zeep_key_in_header(self):
        cp = run("/usr/bin/python3", os.path.join(SAMPLES, "python", "zeep_client.py"),
                 self.srv.base, "key", self.key)
        self.assertEqual(cp.returncode, 0, cp)
        self.assertIn("Credit: 42", cp.stdout)

    def test_zeep_login_flow(self):
        cp = run("/usr/bin/python3", os.path.join(SAMPLES, "python", "zeep_client.py"),
                 self.srv.base, "login", "sam", "sample password")
        self.assertEqual(cp.returncode, 0, cp)
        self.assertEqual(cp.stdout.splitlines(),
                         ["Login: Success", "Credit: 42", "Logout: done"])

    def test_zeep_refusal_is_reported(self):
        cp = run("/usr/bin/python3", os.path.join(SAMPLES, "python", "zeep_client.py"),
                 self.srv.base, "key", "not-a-key")
        self.assertEqual(cp.returncode, 1, cp)
        self.assertIn("Fault: Unauthorized", cp.stderr)
        self.assertNotIn("not-a-key", cp.stderr)

    def test_curl_rest(self):
        cp = run("sh", os.path.join(SAMPLES, "curl", "rest.sh"), self.srv.base, self.key,
                 "sam", "sample password")
        self.assertEqual(cp.returncode, 0, cp)
        lines = cp.stdout.splitlines()
        self.assertEqual(lines[0], '{"Credit":42,"Errors":[],"Status":0}')
        self.assertIn("<Credit>42</Credit>", cp.stdout)
        self.assertIn('"account":"acme"', cp.stdout)
        self.assertIn('{"Message":"Success","Status":1}', cp.stdout)   # logout

    def test_curl_soap(self):
        cp = run("sh", os.path.join(SAMPLES, "curl", "soap.sh"), self.srv.base, self.key)
        self.assertEqual(cp.returncode, 0, cp)
        self.assertEqual(cp.stdout.count("<tr:Credit>42</tr:Credit>"), 2, cp.stdout)
        self.assertIn("http://schemas.xmlsoap.org/soap/envelope/", cp.stdout)
        self.assertIn("http://www.w3.org/2003/05/soap-envelope", cp.stdout)


    def test_curl_lifecycle(self):
        cp = run("sh", os.path.join(SAMPLES, "curl", "lifecycle.sh"), self.srv.base,
                 self.admin, "acme", "3")   # whole seconds: 1 s could end at once
        self.assertEqual(cp.returncode, 0, cp)
        out = cp.stdout
        self.assertIn("2. use it: POST /rest/credit -> 200", out)
        self.assertIn("old key -> 200, new key -> 200", out)          # inside the grace window
        self.assertIn("after the grace window: old key -> 403, new key -> 200", out)
        self.assertIn("new key -> 403", out.split("4. revoke")[1])
        for action in ("key.create", "key.rotate", "key.deactivate"):
            self.assertIn('"action":"%s"' % action, out)
        self.assertIsNone(re.search(r"tsk_live_[0-9A-Za-z]{28}", out))  # no whole key printed


if __name__ == "__main__":
    unittest.main()
