"""Secrets: after a scenario with keys, a password and Login sessions used on REST and SOAP,
successfully and not, no secret is stored, logged or sent back anywhere it should not be (the
metrics included). The scenario runs once per --log-format: text, json and logfmt."""
import json
import unittest

from harness import Server, flip_char


class SecretsTest(unittest.TestCase):
    PASSWORD = "Pw-9f3b1c7e-unusual-Secret"
    LOG_OPTS = ()                   # serve's --log-format; the default (text) here
    REQUEST_MARK = b"request id="   # what each request's log line holds in that format

    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server("secrets")
        cls.cli_outputs = []        # (label, stdout + stderr) of every CLI command but key create
        cls.responses = []          # (label, HttpResponse)

        def cli(label, cp):
            cls.cli_outputs.append((label, (cp.stdout + cp.stderr).encode()))
            return cp

        cli("account create", s.account_create("acme", credit=50))
        cp = s.cli("key", "create", "acme", "--name", "secret-key")
        cls.key_create_stdout = cp.stdout
        cli("key create stderr", type(cp)(cp.args, 0, "", cp.stderr))
        cls.key = cp.stdout.splitlines()[0]
        cli("user create", s.user_create("acme", "grace", cls.PASSWORD))
        s.start(*cls.LOG_OPTS)

        def rec(label, resp):
            cls.responses.append((label, resp))
            return resp

        key, pw = cls.key, cls.PASSWORD
        # REST with the key: good, then refused ways of sending it.
        rec("rest credit key", s.credit(key))
        rec("rest credit bearer", s.credit(bearer=key))
        rec("rest me key", s.rest("GET", "/rest/me", key=key))
        rec("rest credit flipped", s.credit(flip_char(key)))
        rec("rest credit key+junk", s.credit(key + "junk"))
        rec("rest credit key in path", s.rest("POST", "/rest/credit/" + key))
        rec("rest credit xml bad", s.credit(key + "x", headers=["Accept: application/xml"]))
        # REST Login: bad password, then good; the session used and ended.
        rec("rest login bad", s.rest_login("grace", "Wrong-Password-123"))
        cls.rest_login = rec("rest login", s.rest_login("grace", pw))
        cls.session = cls.rest_login.json()["Key"]
        sid = cls.session
        rec("rest credit session", s.credit(sid))
        rec("rest me session", s.rest("GET", "/rest/me", key=sid))
        rec("soap credit session", s.soap("CreditRemaining", session_id=sid)[0])
        rec("rest logout", s.rest("POST", "/rest/logout", key=sid))
        rec("rest credit ended session", s.credit(sid))
        rec("soap credit ended session", s.soap("CreditRemaining", session_id=sid)[0])
        rec("soap12 credit ended session",
            s.soap("CreditRemaining", session_id=sid, version="1.2")[0])
        # SOAP with the key, good and refused.
        rec("soap credit key", s.soap("CreditRemaining", session_id=key)[0])
        rec("soap12 credit key", s.soap("CreditRemaining", session_id=key, version="1.2")[0])
        rec("soap credit key+junk", s.soap("CreditRemaining", session_id=key + "junk")[0])
        rec("soap logout key", s.soap("Logout", session_id=key)[0])
        # SOAP Login: bad, then good (a second session), used and logged out.
        rec("soap login bad", s.soap_login("grace", "Wrong-Password-123")[0])
        cls.soap_login, res = s.soap_login("grace", pw)
        rec("soap login", cls.soap_login)
        cls.session2 = res.login["Key"]
        rec("soap credit session2", s.soap("CreditRemaining", session_id=cls.session2)[0])
        rec("soap logout session2", s.soap("Logout", session_id=cls.session2)[0])
        rec("soap credit ended session2",
            s.soap("CreditRemaining", session_id=cls.session2)[0])
        rec("rest login wrong user", s.rest_login("Wrong-User", pw))
        # What an operator reads: the metrics (after every secret was used) and the probes.
        rec("metrics", s.rest("GET", "/metrics"))
        rec("healthz", s.rest("GET", "/healthz"))
        rec("readyz", s.rest("GET", "/readyz"))
        cls.db_while_running = s.db_files()
        with open("/proc/%d/limits" % s.proc.pid) as f:
            cls.core_limit = [ln for ln in f if ln.startswith("Max core file size")]
        with open("/proc/%d/cmdline" % s.proc.pid, "rb") as f:
            cls.cmdline = f.read()
        s.stop()
        cls.db_after_stop = s.db_files()
        # key list, before and after a revoke.
        rows, text = s.key_list()
        cls.listed_prefix = rows[0]["PREFIX"]
        cli("key list", type(cp)(cp.args, 0, text, ""))
        s.key_revoke(rows[0]["ID"])
        rows, text = s.key_list("acme")
        cli("key list acme", type(cp)(cp.args, 0, text, ""))

    def test_scenario_really_used_the_secrets(self):
        # Guards the other tests: each secret did work where it should.
        by = dict(self.responses)
        self.assertEqual(by["rest credit key"].status, 200)
        self.assertEqual(by["soap credit key"].status, 200)
        self.assertEqual(by["rest login"].status, 200)
        self.assertEqual(by["rest credit session"].status, 200)
        self.assertEqual(by["soap login"].status, 200)
        self.assertEqual(by["soap credit session2"].status, 200)
        self.assertEqual(by["metrics"].status, 200)
        self.assertIn(b"tskey_requests_total", by["metrics"].body)
        self.assertEqual(by["rest credit ended session"].status, 401)
        self.assertRegex(self.key, r"^tsk_live_")
        self.assertNotEqual(self.session, self.session2)

    def secrets(self):
        return {"key": self.key, "password": self.PASSWORD, "session": self.session,
                "session2": self.session2}

    def test_not_in_database_files(self):
        for when, files in (("running", self.db_while_running), ("stopped", self.db_after_stop)):
            self.assertIn("tskey.db", files)
            for fname, data in files.items():
                for what, secret in self.secrets().items():
                    self.assertNotIn(secret.encode(), data,
                                     "%s found in %s (%s)" % (what, fname, when))
        self.assertIn("tskey.db-wal", self.db_while_running, "expected a WAL file while serving")

    def test_no_core_dump_can_hold_them(self):
        # The serving process sets RLIMIT_CORE to 0, soft and hard: a crash writes no core.
        self.assertEqual(len(self.core_limit), 1, self.core_limit)
        self.assertEqual(self.core_limit[0].split()[4:6], ["0", "0"], self.core_limit)

    def test_not_on_the_command_line(self):
        for what, secret in (("key", self.key), ("password", self.PASSWORD),
                             ("session", self.session)):
            self.assertNotIn(secret.encode(), self.cmdline, what)

    def test_not_in_server_log(self):
        log = self.srv.log_bytes()
        # Every request of the scenario has its line (so the lines were really looked at).
        self.assertEqual(log.count(self.REQUEST_MARK), len(self.responses), log[-2000:])
        for what, secret in self.secrets().items():
            self.assertNotIn(secret.encode(), log, "%s found in the server log" % what)
            # Nor a recognisable part of it (a format's escaping could split it up).
            self.assertNotIn(secret[len(secret) // 3:len(secret) * 2 // 3].encode(), log, what)
        self.assertNotIn(b"Wrong-Password-123", log)

    def test_key_only_in_key_create_stdout(self):
        self.assertEqual(self.key_create_stdout, self.key + "\n")
        for label, resp in self.responses:
            self.assertNotIn(self.key.encode(), resp.everything(), label)
        for label, out in self.cli_outputs:
            self.assertNotIn(self.key.encode(), out, label)

    def test_session_only_in_its_login_response(self):
        self.assertIn(self.session.encode(), self.rest_login.body)
        self.assertIn(self.session2.encode(), self.soap_login.body)
        for label, resp in self.responses:
            if resp is not self.rest_login:
                self.assertNotIn(self.session.encode(), resp.everything(), label)
            if resp is not self.soap_login:
                self.assertNotIn(self.session2.encode(), resp.everything(), label)

    def test_password_in_no_response(self):
        for label, resp in self.responses:
            self.assertNotIn(self.PASSWORD.encode(), resp.everything(), label)
            self.assertNotIn(b"Wrong-Password-123", resp.everything(), label)
        for label, out in self.cli_outputs:
            self.assertNotIn(self.PASSWORD.encode(), out, label)

    def test_key_list_never_shows_key(self):
        lists = [out for label, out in self.cli_outputs if label.startswith("key list")]
        self.assertEqual(len(lists), 2)
        prefix = self.listed_prefix
        self.assertTrue(self.key.startswith(prefix) and len(prefix) < len(self.key), prefix)
        for out in lists:
            self.assertIn(prefix.encode(), out, "key list should show the prefix")
            self.assertNotIn(self.key.encode(), out)
            self.assertNotIn(self.key[len(prefix):].encode(), out)


class SecretsJsonLogTest(SecretsTest):
    LOG_OPTS = ("--log-format", "json")
    REQUEST_MARK = b'"msg":"request"'

    def test_log_lines_are_json(self):
        lines = self.srv.log_bytes().decode("utf-8").splitlines()
        self.assertTrue(lines)
        for ln in lines:
            self.assertIsInstance(json.loads(ln), dict, ln)


class SecretsLogfmtLogTest(SecretsTest):
    LOG_OPTS = ("--log-format", "logfmt")
    REQUEST_MARK = b" msg=request id="


if __name__ == "__main__":
    unittest.main()
