"""samples/nginx/nginx.conf works: nginx protects an upstream with auth_request to tskey's
/rest/verify, passes the verified identity on as X-Tskey-* headers, never passes the key on,
and answers refusals with tskey's status (and its JSON error body) without asking the upstream.

Each test starts its own tskey (harness.Server), a recording upstream (http.server in a thread)
and nginx (Debian's /usr/sbin/nginx, in the foreground, its own process group, prefix in a temp
directory) from the rendered template, and drives nginx with real curl. Every wait is bounded;
tearDown stops nginx (SIGQUIT, then SIGKILL to its process group), the upstream and tskey.
"""
import http.server
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
import unittest

from harness import Server, avoid_window_edge, curl, flip_char, make_temp_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# TSKEY_NGINX_TEMPLATE: another template to test (a modified copy, say); by default the sample.
TEMPLATE = os.environ.get("TSKEY_NGINX_TEMPLATE") or os.path.join(ROOT, "samples", "nginx",
                                                                   "nginx.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_START_TIMEOUT = 10    # seconds until nginx accepts connections
NGINX_QUIT_TIMEOUT = 10     # seconds from SIGQUIT (graceful) to exit, before SIGKILL
UPSTREAM_TIMEOUT = 10       # seconds the upstream waits on a client socket
PLACEHOLDER_RE = re.compile(r"__[A-Z_]+__")


def free_port():
    """A port free on 127.0.0.1 now (nginx binds it a moment later: see Nginx.start's retry)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(template, listen, tskey_addr, upstream_addr):
    with open(template) as f:
        text = f.read()
    for name, value in (("__LISTEN__", listen), ("__TSKEY_ADDR__", tskey_addr),
                        ("__UPSTREAM_ADDR__", upstream_addr)):
        if name not in text:
            raise AssertionError("placeholder %s missing from %s" % (name, template))
        text = text.replace(name, value)
    left = PLACEHOLDER_RE.findall(text)
    if left:
        raise AssertionError("placeholders left after rendering: %r" % left)
    return text


# ---- the upstream: records what reaches it ---------------------------------------------------
class Upstream:
    """An HTTP server on 127.0.0.1 that records every request (method, path, headers as a list
    of pairs, body) and answers 200 with that record as JSON. /status/NNN answers NNN.
    extra_headers: sent with every answer (to play tskey's /rest/verify)."""

    def __init__(self, extra_headers=()):
        self.requests = []
        self.lock = threading.Lock()
        up = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = UPSTREAM_TIMEOUT

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec = {"method": self.command, "path": self.path,
                       "headers": [[k, v] for k, v in self.headers.items()],
                       "body": body.decode("utf-8", "replace")}
                with up.lock:
                    up.requests.append(rec)
                m = re.match(r"^/status/(\d{3})$", self.path)
                status = int(m.group(1)) if m else 200
                out = json.dumps({"upstream": True, "saw": rec}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                for k, v in extra_headers:
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _any

        class Srv(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Srv(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={
            "poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def count(self):
        with self.lock:
            return len(self.requests)

    def last(self):
        with self.lock:
            return self.requests[-1]

    def stop(self):
        if self.thread is None:
            return
        self.httpd.shutdown()       # returns within one poll_interval
        self.httpd.server_close()
        self.thread.join(5)
        self.thread = None


# ---- nginx -----------------------------------------------------------------------------------
class Nginx:
    """nginx from the rendered template in a temp prefix, in the foreground (daemon off), in a
    process group of its own so that stop() can reach its workers too."""

    def __init__(self, tskey_addr, upstream_addr):
        self.prefix = make_temp_dir("tskey-it-nginx-")
        # When run as root, nginx's workers run as an unprivileged user: let them in.
        os.chmod(self.prefix, 0o755)
        for d in ("logs", "temp"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.error_log = os.path.join(self.prefix, "logs", "error.log")
        self.access_log = os.path.join(self.prefix, "logs", "access.log")
        self.tskey_addr = tskey_addr
        self.upstream_addr = upstream_addr
        self.proc = None
        self.port = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, attempts=5):
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            with open(self.conf, "w") as f:
                f.write(render(TEMPLATE, "127.0.0.1:%d" % self.port, self.tskey_addr,
                               self.upstream_addr))
            out = open(os.path.join(self.prefix, "nginx.out"), "ab")
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.prefix + "/", "-c", self.conf, "-e", self.error_log,
                 "-g", "daemon off;"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
            out.close()
            if self._wait_ready():
                return
            last = self.output()
            self.stop()
            if "Address already in use" not in last:
                break
        raise AssertionError("nginx did not start: %s" % last)

    def _wait_ready(self):
        deadline = time.monotonic() + NGINX_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def output(self):
        text = ""
        for p in (os.path.join(self.prefix, "nginx.out"), self.error_log):
            try:
                with open(p, "rb") as f:
                    text += f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
        return text

    def logs(self):
        text = ""
        for p in (self.error_log, self.access_log):
            try:
                with open(p, "rb") as f:
                    text += f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
        return text

    def group_alive(self, pgid):
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False

    def stop(self):
        """SIGQUIT (graceful), then SIGKILL to the process group; returns once none is left."""
        if self.proc is None:
            return
        pgid = self.proc.pid     # start_new_session: the master leads its own group
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(NGINX_QUIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        # The master is gone or hung; workers may outlive a killed master: end the group.
        deadline = time.monotonic() + 5
        while self.group_alive(pgid) and time.monotonic() < deadline:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        if self.proc.poll() is None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        alive = self.group_alive(pgid)
        self.proc = None
        if alive:
            raise AssertionError("nginx process group %d still alive after SIGKILL" % pgid)


# ---- the tests -------------------------------------------------------------------------------
@unittest.skipUnless(os.access(NGINX, os.X_OK), "nginx not installed (apt-get install nginx)")
def balance(srv, key):
    """The account's balance as tskey counts it: net of spending batched in memory and not yet
    written (the default), through POST /rest/credit, which is free by default."""
    r = srv.credit(key)
    assert r.status == 200, r
    return r.json()["Credit"]


class NginxAuthRequestTest(unittest.TestCase):
    def setUp(self):
        self.srv = Server("nginx")
        self.srv.account_create("acme", credit=1000)
        self.key, self.key_id = self.srv.key_create_id("acme", name="app",
                                                       scopes="credit:read orders:write")
        self.srv.start()
        self.addCleanup(self._stop_tskey)
        self.up = Upstream()
        self.addCleanup(self.up.stop)
        self.nginx = Nginx("127.0.0.1:%d" % self.srv.port, self.up.addr)
        self.addCleanup(self.nginx.stop)
        self.nginx.start()

    def tearDown(self):
        # The cleanups (nginx, then the upstream, then tskey) run after this; here: the logs
        # nginx wrote must never hold a key (any tskey key, not only this test's first).
        self.assertNotIn(self.key, self.nginx.logs())
        self.assertIsNone(re.search(r"tsk_(live|test)_[0-9A-Za-z]{28}", self.nginx.logs()))

    def _stop_tskey(self):
        if self.srv.proc is not None:
            self.srv.stop()

    # helpers
    def get(self, path="/", key=None, bearer=None, headers=(), method="GET", body=None,
            base=None):
        hdrs = list(headers)
        if key is not None:
            hdrs.append("X-API-Key: " + key)
        if bearer is not None:
            hdrs.append("Authorization: Bearer " + bearer)
        return curl(method, (base or self.nginx.base) + path, headers=hdrs, body=body,
                    tmpdir=self.nginx.prefix)

    def saw(self, rec, name):
        """The values of header name (any case) in an upstream record."""
        return [v for k, v in rec["headers"] if k.lower() == name.lower()]

    def assert_passed(self, resp, before, key, account="acme", key_id=None,
                      scopes="credit:read orders:write"):
        """resp came from the upstream, which saw the identity once each and never the key."""
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.up.count(), before + 1)
        rec = self.up.last()
        self.assertEqual(resp.json()["saw"], rec)
        self.assertEqual(self.saw(rec, "X-Tskey-Account"), [account])
        self.assertEqual(self.saw(rec, "X-Tskey-Key-Id"), [str(key_id or self.key_id)])
        self.assertEqual(self.saw(rec, "X-Tskey-Scopes"), [scopes])
        self.assertEqual(len(self.saw(rec, "X-Tskey-Request-Id")), 1)
        self.assertRegex(self.saw(rec, "X-Tskey-Request-Id")[0], r"^[0-9a-f]{16}$")
        self.assertEqual(self.saw(rec, "X-API-Key"), [])
        self.assertEqual(self.saw(rec, "Authorization"), [])
        self.assertNotIn(key, json.dumps(rec))
        return rec

    def assert_refused(self, resp, before, status, code):
        """resp is tskey's refusal under status, and the upstream was not asked."""
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(self.up.count(), before, "the upstream saw a refused request")
        self.assertTrue(resp.headers.get("content-type", "").startswith("application/json"),
                        resp)
        body = resp.json()
        self.assertEqual(body["code"], code, resp)
        self.assertNotIn("upstream", body)
        self.assertRegex(body["requestId"], r"^[0-9a-f]{16}$")
        self.assertEqual(resp.headers.get("x-request-id"), body["requestId"])
        return body

    # a good key
    def test_good_key_x_api_key(self):
        credit = balance(self.srv, self.key)
        rec = self.assert_passed(self.get("/orders/7?x=1", key=self.key), 0, self.key)
        self.assertEqual(rec["method"], "GET")
        self.assertEqual(rec["path"], "/orders/7?x=1")
        self.assertEqual(balance(self.srv, self.key), credit - 1)   # verify costs 1

    def test_good_key_bearer(self):
        rec = self.assert_passed(self.get("/b", bearer=self.key), 0, self.key)
        self.assertEqual(rec["path"], "/b")

    def test_method_and_body_reach_the_upstream(self):
        rec = self.assert_passed(self.get("/orders", key=self.key, method="POST",
                                          body='{"item":42}',
                                          headers=["Content-Type: application/json"]),
                                 0, self.key)
        self.assertEqual((rec["method"], rec["body"]), ("POST", '{"item":42}'))
        rec = self.assert_passed(self.get("/orders/7", bearer=self.key, method="DELETE"),
                                 1, self.key)
        self.assertEqual(rec["method"], "DELETE")
        # The subrequest carried no body: tskey saw a bodiless GET each time. Its log line is
        # written after its answer went out: wait for the second (bounded).
        deadline = time.monotonic() + 5
        while True:
            verify_lines = [ln for ln in self.srv.log_text().splitlines()
                            if "route=/rest/verify" in ln]
            if len(verify_lines) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(verify_lines), 2, verify_lines)
        for ln in verify_lines:
            self.assertIn("method=GET", ln)
            self.assertIn("verdict=OK", ln)

    def test_client_cannot_forge_the_identity(self):
        other, other_id = self.srv.key_create_id("acme", name="other")
        forged = ["X-Tskey-Account: evil", "X-Tskey-Key-Id: 999", "X-Tskey-Scopes: keys:admin",
                  "X-Tskey-Request-Id: 0000000000000000", "x-tskey-account: evil2"]
        self.assert_passed(self.get("/", key=other, headers=forged), 0, other,
                           key_id=other_id, scopes="credit:read")
        rec = self.up.last()
        self.assertNotIn("evil", json.dumps(rec))
        self.assertNotIn("0000000000000000", json.dumps(rec))
        # Forged identity with a bad key goes nowhere.
        self.assert_refused(self.get("/", key=flip_char(other), headers=forged), 1, 401,
                            "INVALID")

    # refusals
    def test_bad_key_is_401(self):
        credit = balance(self.srv, self.key)
        self.assert_refused(self.get("/", key=flip_char(self.key)), 0, 401, "INVALID")
        self.assert_refused(self.get("/", bearer="not-a-key"), 0, 401, "INVALID")
        self.assert_refused(self.get("/", key="tsk_live_" + "A" * 28), 0, 401, "INVALID")
        # Two keys on one request: tskey refuses rather than pick one, and nginx keeps that.
        self.assert_refused(self.get("/", key=self.key, headers=["X-API-Key: " + self.key]),
                            0, 401, "INVALID")
        self.assertEqual(balance(self.srv, self.key), credit)

    def test_no_key_is_401(self):
        self.assert_refused(self.get("/"), 0, 401, "MISSING")
        self.assert_refused(self.get("/", method="POST", body="x" * 5000), 0, 401, "MISSING")
        self.assert_refused(self.get("/", headers=["Authorization: Basic dXNlcjpwYXNz"]),
                            0, 401, "MISSING")

    def test_revoked_key_is_403(self):
        self.assert_passed(self.get("/", key=self.key), 0, self.key)
        self.srv.key_revoke(self.key_id)
        body = self.assert_refused(self.get("/", key=self.key), 1, 403, "DISABLED")
        self.assertNotIn(self.key, json.dumps(body))
        self.assert_refused(self.get("/", bearer=self.key, method="PUT", body="data"),
                            1, 403, "DISABLED")

    def test_rate_limited_key_is_429_with_retry_after(self):
        key, key_id = self.srv.key_create_id("acme", name="slow", rate_minute=1)
        avoid_window_edge(60, 10)
        credit = balance(self.srv, self.key)
        self.assert_passed(self.get("/first", key=key), 0, key, key_id=key_id,
                           scopes="credit:read")
        resp = self.get("/second", key=key)
        # auth_request alone would answer 500 here; the sample's @tskey_failed makes it 429.
        body = self.assert_refused(resp, 1, 429, "RATE_LIMITED")
        retry = int(resp.headers["retry-after"])
        self.assertTrue(1 <= retry <= 60, resp)
        self.assertEqual(body["message"], "The API key's rate limit is used up; retry later")
        self.assert_refused(self.get("/third", bearer=key), 1, 429, "RATE_LIMITED")
        self.assertEqual(self.up.last()["path"], "/first")
        self.assertEqual(balance(self.srv, self.key), credit - 1)
        # The 429 carries the id of the very verify call that refused, as tskey logged it.
        want = "id=%s " % body["requestId"]
        self.assertIn(want, self.srv.wait_log(want))
        self.assertIn("auth request unexpected status: 429", self.nginx.logs())

    def test_credit_runs_out_403_no_credit(self):
        self.srv.account_create("metered", credit=1)
        key, key_id = self.srv.key_create_id("metered", name="m")
        self.assert_passed(self.get("/one", key=key), 0, key, account="metered",
                           key_id=key_id, scopes="credit:read")
        self.assertEqual(balance(self.srv, key), 0)
        self.assert_refused(self.get("/two", key=key), 1, 403, "NO_CREDIT")
        self.assert_refused(self.get("/three", bearer=key), 1, 403, "NO_CREDIT")
        self.assertEqual(self.up.last()["path"], "/one")
        # The refusals (and the sample's second verify call for the body) cost nothing.
        self.assertEqual(balance(self.srv, key), 0)
        self.srv.credit_add("metered", 1)
        self.assert_passed(self.get("/four", key=key), 1, key, account="metered",
                           key_id=key_id, scopes="credit:read")

    def test_ip_allowlist_sees_nginx_not_the_client(self):
        # tskey checks --ip against its peer, which is nginx here (it reads no X-Forwarded-For).
        outside, _ = self.srv.key_create_id("acme", name="lan", ip="10.0.0.0/8")
        self.assert_refused(self.get("/", key=outside,
                                     headers=["X-Forwarded-For: 10.1.2.3",
                                              "X-Real-IP: 10.1.2.3"]),
                            0, 403, "IP_NOT_ALLOWED")
        local, local_id = self.srv.key_create_id("acme", name="local", ip="127.0.0.1")
        self.assert_passed(self.get("/", key=local), 0, local, key_id=local_id,
                           scopes="credit:read")

    def test_uniform_errors(self):
        self.srv.stop()
        self.srv.start("--uniform-errors")
        ngx = Nginx("127.0.0.1:%d" % self.srv.port, self.up.addr)
        self.addCleanup(ngx.stop)
        ngx.start()
        self.assert_refused(self.get("/", base=ngx.base), 0, 401, "UNAUTHORIZED")
        self.assert_refused(self.get("/", key=flip_char(self.key), base=ngx.base), 0, 401,
                            "UNAUTHORIZED")
        self.srv.key_revoke(self.key_id)
        self.assert_refused(self.get("/", key=self.key, base=ngx.base), 0, 401, "UNAUTHORIZED")

    def test_verify_location_is_internal(self):
        credit = balance(self.srv, self.key)
        resp = self.get("/_tskey/verify", key=self.key)
        self.assertEqual(resp.status, 404, resp)
        self.assertEqual(self.up.count(), 0)
        self.assertEqual(balance(self.srv, self.key), credit)

    def test_upstream_errors_pass_through(self):
        # error_page 401 403 500 apply to nginx's own answers only, never the upstream's.
        for status in (500, 401, 403, 429):
            before = self.up.count()
            resp = self.get("/status/%d" % status, key=self.key)
            self.assertEqual(resp.status, status, resp)
            self.assertEqual(self.up.count(), before + 1)
            self.assertTrue(resp.json()["upstream"], resp)

    def test_tskey_down_fails_closed_503(self):
        self.srv.stop()
        resp = self.get("/", key=self.key)
        self.assertEqual(resp.status, 503, resp)
        self.assertEqual(resp.json()["code"], "UNAVAILABLE")
        self.assertEqual(self.up.count(), 0)

    def test_what_the_subrequest_carries(self):
        # nginx against a stand-in for tskey that records the subrequest and says yes.
        fake = Upstream(extra_headers=[("X-Tskey-Account", "fake"), ("X-Tskey-Key-Id", "77"),
                                       ("X-Tskey-Scopes", "a b"),
                                       ("X-Request-Id", "0123456789abcdef")])
        self.addCleanup(fake.stop)
        ngx = Nginx(fake.addr, self.up.addr)
        self.addCleanup(ngx.stop)
        ngx.start()
        resp = self.get("/orders?x=1&y=%20", key="some-key", method="POST", body="b" * 3000,
                        headers=["Content-Type: text/plain", "X-Other: kept"], base=ngx.base)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(fake.count(), 1)
        sub = fake.last()
        self.assertEqual((sub["method"], sub["path"], sub["body"]), ("GET", "/rest/verify", ""))
        self.assertEqual(self.saw(sub, "X-API-Key"), ["some-key"])
        self.assertEqual(self.saw(sub, "X-Original-Method"), ["POST"])
        self.assertEqual(self.saw(sub, "X-Original-URI"), ["/orders?x=1&y=%20"])
        self.assertEqual(self.saw(sub, "X-Other"), ["kept"])
        self.assertEqual(self.saw(sub, "Content-Length"), [])
        self.assertEqual(self.saw(sub, "Transfer-Encoding"), [])
        rec = self.up.last()
        self.assertEqual((rec["method"], rec["path"], rec["body"]),
                         ("POST", "/orders?x=1&y=%20", "b" * 3000))
        self.assertEqual(self.saw(rec, "X-Tskey-Account"), ["fake"])
        self.assertEqual(self.saw(rec, "X-Tskey-Key-Id"), ["77"])
        self.assertEqual(self.saw(rec, "X-Tskey-Scopes"), ["a b"])
        self.assertEqual(self.saw(rec, "X-Tskey-Request-Id"), ["0123456789abcdef"])
        self.assertEqual(self.saw(rec, "X-Other"), ["kept"])
        self.assertNotIn("some-key", json.dumps(rec))
        # Authorization: Bearer goes to the subrequest as the client sent it.
        resp = self.get("/", bearer="other-key", base=ngx.base)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.saw(fake.last(), "Authorization"), ["Bearer other-key"])
        self.assertEqual(self.saw(self.up.last(), "Authorization"), [])
        self.assertNotIn("other-key", json.dumps(self.up.last()))

    def test_nothing_left_running(self):
        pgid = self.nginx.proc.pid
        self.nginx.stop()
        self.assertFalse(self.nginx.group_alive(pgid))
        self.srv.stop()
        self.up.stop()
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.up.port), timeout=2).close()


if __name__ == "__main__":
    unittest.main()
