"""Operating tskey: the configuration file, environment and flags (and their order), `config
check|show|sample`, SIGHUP reloads while a keep-alive connection stays open, and the drift
checks between the settings table and its documentation."""
import contextlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import unittest

from harness import CLI_TIMEOUT, TSKEY_BIN, Server, make_temp_dir

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# A value other than the default for every setting: the input, and what `config show` prints.
VALUES = {
    "db": ("/tmp/tskey-elsewhere.db", None),
    "listen": ("127.0.0.1:9999", None),
    "demo": ("no", None),
    "max_keys": ("7", None),
    "log_level": ("debug", None),
    "session_idle": ("600", None),
    "touch_slack": ("5", None),
    "max_conns": ("50", None),
    "max_conns_per_client": ("5", None),
    "max_body": ("4096", None),
    "workers": ("3", None),
    "thread_per_conn": ("yes", None),
    "login_concurrency": ("3", None),
    "timeout": ("9", None),
    "cost": ("credit=3", "credit=3,me=0,logout=0,verify=1,admin=0"),
    "uniform_errors": ("yes", None),
    "api_user_login": ("no", None),
    "password_max_age": ("30", None),
    "usage_flush_ms": ("250", None),
    "batch_credit": ("no", None),
    "batch_credit_max_unwritten": ("500", None),
    "login_deprecated": ("2026-01-01", "2026-01-01T00:00:00Z"),
    "login_sunset": ("2027-01-31", "2027-01-31T00:00:00Z"),
    "trusted_proxy": ("127.0.0.1,10.0.0.0/8", None),
    "login_max_failures": ("9", None),
    "tls_cert": ("/etc/ssl/chain.pem", None),
    "tls_key": ("/etc/ssl/key.pem", None),
    "allow_plain": ("yes", None),
    "admin_origin": ("https://Admin.Example.com:8443", "https://admin.example.com:8443"),
    "log_format": ("json", None),
    "log_target": ("syslog", None),
    "metrics_allow": ("10.0.5.0/24,127.0.0.1", None),
}
PARTNER = {"tls_cert": "tls_key", "tls_key": "tls_cert"}   # set together or not at all
GLOBAL = {"db", "max_keys", "log_level"}                     # flags that go before the command


def run(*args, env=None, input=""):
    e = dict(os.environ)
    for k in [k for k in e if k.startswith("TSKEY_") and k != "TSKEY_BIN"]:
        del e[k]
    e.update(env or {})
    return subprocess.run([TSKEY_BIN] + [str(a) for a in args], input=input, capture_output=True,
                          text=True, timeout=CLI_TIMEOUT, env=e)


def sample_table():
    """name -> {"default", "env", "flags", "reload"} from `tskey config sample`."""
    cp = run("config", "sample")
    assert cp.returncode == 0, cp
    out = {}
    for block in cp.stdout.split("\n\n")[1:]:
        lines = block.strip().split("\n")
        meta = [p.strip() for p in lines[1][2:].split(";")]
        name, _, default = lines[2][1:].partition(" =")
        flags = [p for p in meta if p.startswith("flag ")]
        out[name] = {"default": default.strip(), "env": meta[1][len("env "):],
                     "flags": flags[0][len("flag "):].split(", ") if flags else [],
                     "reload": meta[-1] == "SIGHUP reloads"}
    return out


def show(*args, env=None):
    """`tskey ARGS` (ending in `config show ...`) -> name -> (value, source)."""
    cp = run(*args, env=env)
    assert cp.returncode == 0, cp
    out = {}
    for ln in cp.stdout.splitlines():
        m = re.match(r"^(\w+) =(?: (.*?))?  # (\w+)$", ln)
        if m:
            out[m.group(1)] = (m.group(2) or "", m.group(3))
    return out


@contextlib.contextmanager
def environment(**kv):
    """os.environ with kv set (for a server the harness starts), restored after."""
    old = {k: os.environ.get(k) for k in kv}
    os.environ.update({k: str(v) for k, v in kv.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class SettingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = make_temp_dir("tskey-it-config-")
        cls.table = sample_table()

    def conf(self, name, text):
        p = os.path.join(self.dir, name)
        write(p, text)
        return p

    def test_values_cover_the_table(self):
        # A new setting needs a test value here (and so a test of all three ways to set it).
        self.assertEqual(sorted(self.table), sorted(VALUES))

    def test_every_setting_three_ways(self):
        for name, (given, shown) in VALUES.items():
            shown = shown or given
            with self.subTest(setting=name):
                spec = self.table[name]
                self.assertNotEqual(spec["default"], shown, "pick a value that is not the default")
                names = [name] + ([PARTNER[name]] if name in PARTNER else [])
                # the file
                p = self.conf("three-%s.conf" % name, "".join(
                    "%s = %s\n" % (n, VALUES[n][0]) for n in names))
                got = show("--config", p, "config", "show")
                self.assertEqual(got[name], (shown, "file"))
                # the environment
                env = {self.table[n]["env"]: VALUES[n][0] for n in names}
                got = show("config", "show", env=env)
                self.assertEqual(got[name], (shown, "environment"))
                # the flag
                args = []
                for n in names:
                    flag = self.table[n]["flags"][0]
                    value = [] if VALUES[n][0] in ("yes", "no") else [VALUES[n][0]]
                    args += [flag] + value
                if name in GLOBAL:
                    got = show(*args, "config", "show")
                else:
                    got = show("config", "show", *args)
                self.assertEqual(got[name], (shown, "flag"))

    def test_short_log_flags(self):
        self.assertEqual(show("-v", "config", "show")["log_level"], ("debug", "flag"))
        self.assertEqual(show("-q", "config", "show")["log_level"], ("warn", "flag"))

    def test_order_flag_env_file_default(self):
        p = self.conf("order.conf", "max_conns = 10\nmax_conns_per_client = 11\n"
                      "session_idle = 12\ncost = verify=4\n")
        env = {"TSKEY_MAX_CONNS": "20", "TSKEY_MAX_CONNS_PER_CLIENT": "21"}
        got = show("--config", p, "config", "show", "--max-conns", "30", env=env)
        self.assertEqual(got["max_conns"], ("30", "flag"))
        self.assertEqual(got["max_conns_per_client"], ("21", "environment"))
        self.assertEqual(got["session_idle"], ("12", "file"))
        self.assertEqual(got["touch_slack"], ("60", "default"))
        # TSKEY_CONFIG names the file when --config does not
        got = show("config", "show", env=dict(env, TSKEY_CONFIG=p))
        self.assertEqual(got["session_idle"], ("12", "file"))
        # --cost adds to what the file and the environment said, operation by operation
        got = show("--config", p, "config", "show", "--cost", "credit=2",
                   env={"TSKEY_COST": "me=1"})
        self.assertEqual(got["cost"][0], "credit=2,me=1,logout=0,verify=4,admin=0")
        # --admin-origin repeats: the flags' list replaces the file's, and grows
        q = self.conf("origins.conf", "admin_origin = https://file.example\n")
        got = show("--config", q, "config", "show", "--admin-origin", "https://a.example",
                   "--admin-origin", "http://b.example:8080")
        self.assertEqual(got["admin_origin"], ("https://a.example http://b.example:8080", "flag"))
        got = show("--config", q, "config", "show",
                   env={"TSKEY_ADMIN_ORIGIN": "https://c.example, https://d.example"})
        self.assertEqual(got["admin_origin"], ("https://c.example https://d.example",
                                               "environment"))

    def test_check_good_file(self):
        p = self.conf("good.conf", "# a comment\n\nmax_conns = 64   # busy\ncost = verify=2\n"
                      "listen = [::1]:8443\nlogin_sunset = 2027-06-30\n")
        cp = run("config", "check", p)
        self.assertEqual(cp.returncode, 0, cp)
        self.assertEqual(cp.stdout, "%s: ok\n" % p)
        self.assertEqual(cp.stderr, "")

    def test_check_says_what_is_wrong(self):
        p = self.conf("bad.conf", "max_conns = 64\nmax_conns_pre_client = 3\ntimeout = 0\n"
                      "uniform_errors = sure\njust words\nmax_conns = 65\ncost = verify=-1\n"
                      "tls_cert = /x.pem\n")
        cp = run("config", "check", p)
        self.assertEqual(cp.returncode, 1, cp)
        self.assertEqual(cp.stdout, "")
        for want in ("%s:2: unknown setting 'max_conns_pre_client'" % p,
                     "%s:3: timeout: bad value '0': want a whole number from 1 to 3600" % p,
                     "%s:4: uniform_errors: bad value 'sure': want yes or no" % p,
                     "%s:5: want 'name = value'" % p,
                     "%s:6: max_conns: set again (first on line 1)" % p,
                     "%s:7: cost: bad value 'verify=-1'" % p,
                     "6 errors"):
            self.assertIn(want, cp.stderr)
        # the TLS pair is checked once each line is good
        q = self.conf("half-tls.conf", "tls_cert = /x.pem\n")
        cp = run("config", "check", q)
        self.assertEqual(cp.returncode, 1, cp)
        self.assertIn("half-tls.conf: tls_cert and tls_key (--tls-cert, --tls-key) go together",
                      cp.stderr)
        cp = run("config", "check", os.path.join(self.dir, "missing.conf"))
        self.assertEqual(cp.returncode, 1, cp)
        self.assertIn("missing.conf: cannot read", cp.stderr)

    def test_bad_file_stops_serve_and_cli(self):
        p = self.conf("stops.conf", "max_conns = many\n")
        srv = Server("badconf")
        cp = run("--config", p, "--db", srv.db, "serve", "--listen", "127.0.0.1:0", "--no-demo")
        self.assertEqual(cp.returncode, 2, cp)
        self.assertIn("%s:1: max_conns: bad value 'many'" % p, cp.stderr)
        self.assertNotIn("listening", cp.stdout)
        cp = run("--db", srv.db, "account", "list", env={"TSKEY_CONFIG": p})
        self.assertEqual(cp.returncode, 2, cp)
        cp = run("--db", srv.db, "account", "list", env={"TSKEY_MAX_KEYS": "-1"})
        self.assertEqual(cp.returncode, 2, cp)
        self.assertIn("environment TSKEY_MAX_KEYS: bad value '-1'", cp.stderr)
        cp = run("--db", srv.db, "serve", "--max-connz", "3")
        self.assertEqual(cp.returncode, 2, cp)
        self.assertIn("unknown option '--max-connz'", cp.stderr)

    def test_sample_file_is_the_table(self):
        cp = run("config", "sample")
        with open(os.path.join(ROOT, "samples", "tskey.conf")) as f:
            self.assertEqual(f.read(), cp.stdout, "regenerate: tskey config sample > "
                             "samples/tskey.conf")
        # the sample, uncommented, is a good file holding every default
        p = self.conf("uncommented.conf", re.sub(r"(?m)^#(\w+ =)", r"\1", cp.stdout))
        self.assertEqual(run("config", "check", p).returncode, 0)
        got = show("--config", p, "config", "show")
        for name, spec in self.table.items():
            self.assertEqual(got[name], (spec["default"], "file"))

    def test_docs_name_every_setting(self):
        with open(os.path.join(ROOT, "man", "tskey.1")) as f:
            man = f.read().replace("\\-", "-")
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        serve_help = run("serve", "--help").stdout
        main_help = run("--help").stdout
        for name, spec in self.table.items():
            with self.subTest(setting=name):
                self.assertTrue('.BI "%s = "' % name in man, "man page")
                self.assertTrue(spec["env"] in man, "man page")
                self.assertTrue("| `%s` |" % name in readme, "README's table")
                self.assertTrue(spec["env"] in readme, "README's table")
                for flag in spec["flags"]:
                    self.assertTrue(flag in man, "man page: " + flag)
                    self.assertIn(flag, serve_help if name not in GLOBAL else main_help)
        for cmd in ("serve", "config check", "config show", "config sample", "backup",
                    "account create", "key create", "key rotate", "user create", "audit",
                    "report migration"):
            self.assertTrue(cmd in man, "man page: " + cmd)


class ReloadTest(unittest.TestCase):
    """SIGHUP: a new file applies to the next request, also on a connection opened before."""

    def test_hup_applies_reloadable_settings_without_dropping_connections(self):
        s = Server("reload")
        conf = os.path.join(s.dir, "tskey.conf")
        write(conf, "cost = credit=0\nuniform_errors = no\ntimeout = 15\n")
        s.account_create("acme", credit=100)
        key = s.key_create("acme")
        s.start(global_opts=("--config", conf))
        try:
            with s.raw() as conn:
                st, _, body = conn.request("POST", "/rest/credit", ["X-API-Key: " + key])
                self.assertEqual((st, json.loads(body)["Credit"]), (200, 100))
                bad = s.credit(key=key[:-3] + "AAA")
                self.assertEqual(bad.json()["code"], "INVALID")

                write(conf, "cost = credit=2\nuniform_errors = yes\ntimeout = 7\n")
                s.proc.send_signal(signal.SIGHUP)
                log = s.wait_log("reload: done", timeout=5)
                self.assertIn("reload: done; 2 settings changed", log)
                self.assertIn("reload: timeout changed to '7': needs restart; still '15'", log)

                # the same connection, opened before the reload, now pays 2 per call
                st, _, body = conn.request("POST", "/rest/credit", ["X-API-Key: " + key])
                self.assertEqual((st, json.loads(body)["Credit"]), (200, 98))
                st, _, body = conn.request("POST", "/rest/credit", ["X-API-Key: " + key])
                self.assertEqual((st, json.loads(body)["Credit"]), (200, 96))
                bad = s.credit(key=key[:-3] + "AAA")
                self.assertEqual((bad.status, bad.json()["code"]), (401, "UNAUTHORIZED"))

                # a file with an error changes nothing, and the server keeps serving
                write(conf, "cost = credit=5\nbogus = 1\n")
                s.proc.send_signal(signal.SIGHUP)
                log = s.wait_log("keeping the running settings", timeout=5)
                self.assertIn("tskey.conf:2: unknown setting 'bogus'", log)
                st, _, body = conn.request("POST", "/rest/credit", ["X-API-Key: " + key])
                self.assertEqual((st, json.loads(body)["Credit"]), (200, 94))
            self.assertIsNone(s.proc.poll())
        finally:
            s.stop()

    def test_hup_reloads_log_level_and_sunset(self):
        s = Server("reload2")
        conf = os.path.join(s.dir, "tskey.conf")
        write(conf, "log_level = info\n")
        s.start(global_opts=("--config", conf))
        try:
            r = s.rest_login("nobody", "wrong")
            self.assertNotIn("sunset", r.headers)
            write(conf, "log_level = warn\nlogin_sunset = 2027-01-31\n")
            s.proc.send_signal(signal.SIGHUP)
            self.assertIn("reload: done", s.wait_log("reload: done", timeout=5))
            r = s.rest_login("nobody", "wrong")
            self.assertEqual(r.headers.get("sunset"), "Sun, 31 Jan 2027 00:00:00 GMT")
            # warn: no more request lines (a request's line follows its response closely)
            s.curl("GET", "/rest/nothing-here")
            time.sleep(0.5)
            self.assertNotIn("route=", s.log_text().split("reload: done")[-1])
        finally:
            s.stop()

    def test_env_and_flags_still_win_after_hup(self):
        s = Server("reload3")
        conf = os.path.join(s.dir, "tskey.conf")
        write(conf, "cost = credit=1\n")
        s.account_create("acme", credit=50)
        key = s.key_create("acme")
        with environment(TSKEY_COST="credit=2"):
            s.start("--cost", "credit=3", global_opts=("--config", conf))
        try:
            self.assertEqual(s.credit(key=key).json()["Credit"], 47)
            write(conf, "cost = credit=9\n")
            s.proc.send_signal(signal.SIGHUP)
            s.wait_log("reload: done", timeout=5)
            self.assertEqual(s.credit(key=key).json()["Credit"], 44)   # the flag still says 3
        finally:
            s.stop()


def make_cert(cert, key, cn):
    """A self-signed EC certificate for 127.0.0.1 with this CN, written over cert and key."""
    cp = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key + ".new",
                         "-out", cert + ".new", "-days", "2", "-subj", "/CN=" + cn, "-addext",
                         "subjectAltName=IP:127.0.0.1"], capture_output=True, timeout=20)
    assert cp.returncode == 0, cp.stderr
    os.replace(key + ".new", key)
    os.replace(cert + ".new", cert)


class TlsConn:
    """A kept-alive HTTPS connection that trusts cafile; .cn is the server certificate's CN."""

    def __init__(self, port, cafile):
        ctx = ssl.create_default_context(cafile=cafile)
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        subject = dict(x[0] for x in self.sock.getpeercert()["subject"])
        self.cn = subject["commonName"]
        self.port = port

    def credit(self, key):
        self.sock.sendall(("POST /rest/credit HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                           "X-API-Key: %s\r\nContent-Length: 0\r\n\r\n"
                           % (self.port, key)).encode())
        buf = b""
        deadline = time.time() + 10
        while time.time() < deadline:
            buf += self.sock.recv(65536)
            head, sep, body = buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            if sep and m and len(body) >= int(m.group(1)):
                return int(head.split()[1]), json.loads(body[:int(m.group(1))])
        raise AssertionError("no response: %r" % buf)

    def close(self):
        self.sock.close()


class TlsReloadTest(unittest.TestCase):
    """SIGHUP reads the certificate and key again (a renewal in place) without closing a
    connection; a certificate that does not load leaves the running one."""

    def test_hup_reloads_the_certificate(self):
        s = Server("reloadtls")
        cert, key = os.path.join(s.dir, "cert.pem"), os.path.join(s.dir, "key.pem")
        first = os.path.join(s.dir, "first.pem")
        make_cert(cert, key, "first")
        with open(cert) as f, open(first, "w") as g:
            g.write(f.read())
        conf = os.path.join(s.dir, "tskey.conf")
        write(conf, "tls_cert = %s\ntls_key = %s\n" % (cert, key))
        s.account_create("acme", credit=10)
        apikey = s.key_create("acme")
        s.start(global_opts=("--config", conf))
        try:
            old = TlsConn(s.port, first)
            self.assertEqual(old.cn, "first")
            self.assertEqual(old.credit(apikey), (200, {"Credit": 10, "Errors": [], "Status": 0}))

            make_cert(cert, key, "second")      # renewed in place, same paths
            s.proc.send_signal(signal.SIGHUP)
            self.assertIn("reload: tls: certificate and key loaded",
                          s.wait_log("reload: done", timeout=5))
            new = TlsConn(s.port, cert)
            self.assertEqual(new.cn, "second")
            self.assertEqual(new.credit(apikey)[0], 200)
            new.close()
            with self.assertRaises(ssl.SSLCertVerificationError):
                TlsConn(s.port, first)
            # the connection made before the reload goes on with its session
            self.assertEqual(old.credit(apikey)[0], 200)
            old.close()

            # a certificate that does not load: logged, and the running one stays
            second = os.path.join(s.dir, "second.pem")
            os.replace(cert, second)
            with open(cert, "w") as f:
                f.write("not a certificate\n")
            s.proc.send_signal(signal.SIGHUP)
            log = s.wait_log("keeping the running certificate", timeout=5)
            self.assertIn("tls: cannot read the certificate", log)
            again = TlsConn(s.port, second)
            self.assertEqual(again.cn, "second")
            self.assertEqual(again.credit(apikey)[0], 200)
            again.close()
        finally:
            s.stop()

    def test_tls_cannot_be_switched_on_by_hup(self):
        s = Server("reloadtls2")
        cert, key = os.path.join(s.dir, "cert.pem"), os.path.join(s.dir, "key.pem")
        make_cert(cert, key, "x")
        conf = os.path.join(s.dir, "tskey.conf")
        write(conf, "")
        s.start(global_opts=("--config", conf))
        try:
            write(conf, "tls_cert = %s\ntls_key = %s\n" % (cert, key))
            s.proc.send_signal(signal.SIGHUP)
            log = s.wait_log("reload: done", timeout=5)
            self.assertIn("reload: tls_cert changed to '%s': needs restart" % cert, log)
            self.assertEqual(s.credit().status, 401)     # still plain HTTP
        finally:
            s.stop()


class PrecedenceServeTest(unittest.TestCase):
    """The order, seen in what a served call costs."""

    def test_cost_from_file_env_flag(self):
        s = Server("precedence")
        conf = os.path.join(s.dir, "tskey.conf")
        write(conf, "cost = credit=1\n")
        s.account_create("acme", credit=100)
        key = s.key_create("acme")
        for env, flags, want in (({}, (), 99), ({"TSKEY_COST": "credit=2"}, (), 97),
                                 ({"TSKEY_COST": "credit=2"}, ("--cost", "credit=3"), 94)):
            with environment(**env):
                s.start(*flags, global_opts=("--config", conf))
            try:
                self.assertEqual(s.credit(key=key).json()["Credit"], want)
            finally:
                s.stop()


if __name__ == "__main__":
    unittest.main()
