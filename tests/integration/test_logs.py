"""The request log: one line per request in each --log-format (text, the default; json, one
object per line that json.loads reads; logfmt), with the request id, client, channel, method,
route (never the query string or a raw path), status, verdict, key and account ids and the
latency; and --log-target syslog, received on a /dev/log of our own inside a private mount
namespace (unshare), so the host's syslog is never touched.

Secrets in every format are test_secrets' (it runs its scenario once per format).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import unittest

from harness import Server, flip_char

REQUEST_FIELDS = ["id", "client", "channel", "method", "route", "status", "verdict", "key_id",
                  "account_id", "ms"]
LOGFMT_RE = re.compile(r'([a-z_]+)=("(?:[^"\\]|\\.)*"|[^ ]*)')
TEXT_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info request id=(\w+) client=(\S+) "
                     r"channel=(\w+) method=(\w+) route=(\S+) status=(\d+) verdict=(\S+) "
                     r"key_id=(\d+) account_id=(\d+) ms=(\d+\.\d\d)$")


def parse_logfmt(line):
    out = {}
    for k, v in LOGFMT_RE.findall(line):
        if v.startswith('"'):
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        out[k] = v
    return out


def scenario(s, key):
    """A REST call, a refused one with a query string, a SOAP call, a Login: {name: request id}."""
    ids = {}
    r = s.credit(key)
    assert r.status == 200, r
    ids["rest"] = r.headers["x-request-id"]
    r = s.rest("POST", "/rest/credit?api_key=" + key, key=flip_char(key))
    assert r.status == 401, r
    ids["refused"] = r.headers["x-request-id"]
    resp, res = s.soap("CreditRemaining", session_id=key)
    assert res.credit == 9, res
    ids["soap"] = resp.headers["x-request-id"]
    r = s.rest_login("logan", "logan's password 1")
    assert r.status == 200, r
    ids["login"] = r.headers["x-request-id"]
    return ids


class LogFormatTest(unittest.TestCase):

    def run_format(self, fmt):
        s = Server("logs-%s" % (fmt or "default"))
        s.account_create("acme", credit=9)
        key, key_id = s.key_create_id("acme")
        s.user_create("acme", "logan", "logan's password 1")
        s.start(*(("--log-format", fmt) if fmt else ()))
        self.addCleanup(s.kill)
        ids = scenario(s, key)
        s.stop()
        log = s.log_text()
        self.assertNotIn(key, log)
        self.assertNotIn("api_key", log, "the query string was logged")
        return s, log.splitlines(), ids, key_id

    def check_requests(self, by_id, ids, key_id):
        """by_id: request id -> the fields of its line, as strings."""
        self.assertEqual(set(ids.values()) - set(by_id), set(), "requests without a line")
        want = {"rest": ("rest", "POST", "/rest/credit", "200", "OK", key_id),
                "refused": ("rest", "POST", "/rest/credit", "401", "INVALID", "0"),
                "soap": ("soap", "POST", "soap:CreditRemaining", "200", "OK", key_id),
                "login": ("login", "POST", "/rest/login", "200", "OK", "0")}
        for name, (ch, method, route, status, verdict, kid) in want.items():
            f = by_id[ids[name]]
            self.assertEqual((f["channel"], f["method"], f["route"], f["status"], f["verdict"],
                              f["key_id"], f["client"]),
                             (ch, method, route, status, verdict, kid, "127.0.0.1"), (name, f))
            self.assertRegex(f["ms"], r"^\d+\.\d\d$")

    def test_text_is_the_default_and_unchanged(self):
        _, lines, ids, key_id = self.run_format(None)
        by_id = {}
        for ln in lines:
            m = TEXT_RE.match(ln)
            if m:
                by_id[m.group(1)] = dict(zip(REQUEST_FIELDS, m.groups()))
        self.check_requests(by_id, ids, key_id)

    def test_json_lines_parse(self):
        _, lines, ids, key_id = self.run_format("json")
        self.assertGreaterEqual(len(lines), 5)
        by_id = {}
        for ln in lines:
            obj = json.loads(ln)        # every line, not only the request lines
            self.assertRegex(obj["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(obj["level"], ("info", "warn", "debug"))
            self.assertIsInstance(obj["msg"], str)
            if obj["msg"] == "request":
                self.assertEqual(list(obj)[3:], REQUEST_FIELDS, obj)
                for k in ("status", "key_id", "account_id"):
                    self.assertIsInstance(obj[k], int, obj)
                self.assertIsInstance(obj["ms"], float, obj)
                by_id[obj["id"]] = {k: ("%.2f" % v if k == "ms" else str(v))
                                    for k, v in obj.items()}
        self.check_requests(by_id, ids, key_id)
        self.assertTrue(any(json.loads(ln)["msg"].startswith("signal 15") for ln in lines), lines)

    def test_logfmt(self):
        _, lines, ids, key_id = self.run_format("logfmt")
        by_id = {}
        for ln in lines:
            f = parse_logfmt(ln)
            self.assertEqual(list(f)[:3], ["ts", "level", "msg"], ln)
            if f["msg"] == "request":
                self.assertEqual(list(f)[3:], REQUEST_FIELDS, ln)
                by_id[f["id"]] = f
        self.check_requests(by_id, ids, key_id)
        stop = [ln for ln in lines if "signal 15" in ln]
        self.assertEqual(len(stop), 1, lines)
        self.assertRegex(stop[0], r' level=info msg="signal 15: stopping"$')

    def test_bad_values_refuse_to_start(self):
        s = Server("logs-bad")
        for opt, bad in (("--log-format", "xml"), ("--log-format", "JSON"),
                         ("--log-target", "file"), ("--log-target", "")):
            cp = s.cli("serve", "--listen", "127.0.0.1:0", "--no-demo", opt, bad, check=False)
            self.assertNotEqual(cp.returncode, 0, (opt, bad, cp))
            self.assertIn(opt, cp.stderr, (opt, bad, cp))


# In a private mount namespace: /dev is a small tmpfs with the few device nodes a process
# needs bound back from the real one, and /dev/log a link to the test's socket.
NAMESPACE_SH = r'''
set -e
d=$1; shift
mkdir -p "$d/hostdev"
mount --rbind /dev "$d/hostdev"
mount -t tmpfs -o size=64k,mode=755 tskey-dev /dev
for n in null zero full random urandom; do
	: > "/dev/$n"
	mount --bind "$d/hostdev/$n" "/dev/$n"
done
ln -s "$d/log.sock" /dev/log
exec "$@"
'''


def namespace_works():
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        return False
    cp = subprocess.run([unshare, "--mount", "--propagation", "private", "sh", "-c",
                         "mount -t tmpfs none /mnt"], capture_output=True, timeout=10)
    return cp.returncode == 0


class SyslogTest(unittest.TestCase):

    def setUp(self):
        if not namespace_works():
            self.skipTest("needs root and unshare --mount for a private /dev/log")

    def test_request_lines_go_to_syslog(self):
        s = Server("logs-syslog")
        s.account_create("acme", credit=9)
        key, key_id = s.key_create_id("acme")
        s.user_create("acme", "logan", "logan's password 1")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(os.path.join(s.dir, "log.sock"))
        sock.settimeout(0.2)
        got, stop = [], threading.Event()

        def reader():
            while not stop.is_set():
                try:
                    got.append(sock.recv(65536).decode("utf-8"))
                except socket.timeout:
                    pass
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            s.start("--log-target", "syslog", "--log-format", "json",
                    wrap=(shutil.which("unshare"), "--mount", "--propagation", "private",
                          "sh", "-c", NAMESPACE_SH, "sh", s.dir))
            self.addCleanup(s.kill)
            pid = s.proc.pid
            ids = scenario(s, key)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not all(
                    any(i in m for m in got) for i in ids.values()):
                time.sleep(0.05)
            s.stop()
        finally:
            stop.set()
            t.join(5)
        # <30>: facility daemon (3), severity info (6); ident tskey with the server's pid.
        head = re.compile(r"^<30>\w{3} [ \d]\d \d\d:\d\d:\d\d tskey\[%d\]: " % pid)
        by_id = {}
        for m in got:
            self.assertNotIn(key, m)
            self.assertNotIn("logan's password", m)
            h = head.match(m)
            if h and '"msg":"request"' in m:
                obj = json.loads(m[h.end():])
                by_id[obj["id"]] = {k: ("%.2f" % v if k == "ms" else str(v))
                                    for k, v in obj.items()}
        LogFormatTest.check_requests(self, by_id, ids, key_id)
        # Nothing of it on stderr: the target is syslog.
        self.assertNotIn('"msg":"request"', s.log_text())


if __name__ == "__main__":
    unittest.main()
