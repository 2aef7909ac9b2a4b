"""The keys console (/console/) and the admin API's Origin policy.

ConsoleFilesTest: the compiled-in files with their security and cache headers, nothing inline or
third-party in them, and gSOAP's frame option left alone for the connection's other responses.
AdminOriginTest: a foreign Origin is refused (403 ORIGIN_NOT_ALLOWED) before the key is looked
at, the server's own passes, a configured one (--admin-origin) gets CORS and its preflight, and
no response allows every origin.
ConsoleBrowserTest: the page in Debian's headless Chromium (npm playwright-core, no browser
download), driven by tests/console/console.spec.js: sign in, create a key (shown once), use it
with curl, revoke it in the page and see curl refused, rotate with a grace period, delete,
credit, users, audit, migration report; a key named with markup stays text; nothing is stored.
Screenshots land in the test's temp directory (TSKEY_CONSOLE_SHOTS=DIR copies them to DIR).
"""
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import unittest

from harness import KEY_RE, TSKEY_BIN, Server, make_temp_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONSOLE_SRC = os.path.join(ROOT, "src", "console")
SPEC_DIR = os.path.join(ROOT, "tests", "console")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
FILES = {"/console/": ("index.html", "text/html"), "/console": ("index.html", "text/html"),
         "/console/console.css": ("console.css", "text/css"),
         "/console/console.js": ("console.js", "text/javascript")}
CONFIGURED = "https://admin.example.com"
NPM_TIMEOUT = 120           # seconds for `npm ci` (one package)
NODE_TIMEOUT = 80           # seconds for the whole browser run (run.py allows a test 90)
STEP_TIMEOUT = 30           # seconds for one checkpoint of the browser run


def read(name):
    with open(os.path.join(CONSOLE_SRC, name), "rb") as f:
        return f.read()


class ConsoleFilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("console-files")
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_files_are_served_with_strict_headers(self):
        for path, (name, media) in FILES.items():
            with self.subTest(path=path):
                r = self.srv.curl("GET", path)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, read(name))
                self.assertEqual(r.headers.get("content-type"), media + "; charset=utf-8")
                self.assertEqual(r.headers.get("content-security-policy"), CSP)
                self.assertEqual(r.headers.get("x-content-type-options"), "nosniff")
                self.assertEqual(r.headers.get("referrer-policy"), "no-referrer")
                self.assertEqual(r.headers.get("x-frame-options"), "DENY")
                self.assertEqual(r.headers.get("cache-control"), "no-cache")
                self.assertEqual(r.headers.get("cross-origin-opener-policy"), "same-origin")
                self.assertRegex(r.headers.get("x-request-id", ""), r"^[0-9a-f]{16}$")

    def test_other_paths_and_methods(self):
        for path in ("/console/x.js", "/console/index.html", "/console/console.js/"):
            with self.subTest(path=path):
                r = self.srv.curl("GET", path)
                self.assertEqual((r.status, r.json()["code"]), (404, "NOT_FOUND"))
                self.assertNotIn("content-security-policy", r.headers)
        r = self.srv.curl("POST", "/console/", body="x")
        self.assertEqual((r.status, r.headers.get("allow")), (405, "GET"))

    def test_frame_option_is_the_consoles_only(self):
        """The console's DENY is put back after its response: the next one on the same
        connection has gSOAP's SAMEORIGIN and no CSP."""
        with self.srv.raw() as c:
            st, h, _ = c.request("GET", "/console/")
            self.assertEqual((st, h.get("x-frame-options")), (200, "DENY"))
            st, h, _ = c.request("GET", "/openapi.json")
            self.assertEqual((st, h.get("x-frame-options")), (200, "SAMEORIGIN"))
            self.assertNotIn("content-security-policy", h)

    def test_page_has_nothing_inline_or_third_party(self):
        """What the CSP would refuse is not there to begin with: no inline script or style, no
        event-handler attributes, no other origin; and the script never writes HTML."""
        html = read("index.html").decode()
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I)
        self.assertEqual([s for s in scripts if s[1].strip()], [], "inline script")
        self.assertTrue(scripts)
        for attrs, _ in scripts:
            self.assertRegex(attrs, r'src="/console/[a-z]+\.js"')
        self.assertNotRegex(html, r"(?i)<style\b|\sstyle=|\son[a-z]+=|javascript:")
        for url in re.findall(r'(?:src|href|action)="([^"]*)"', html):
            self.assertTrue(url.startswith("/") or url == "#", url)
            self.assertFalse(url.startswith("//"), url)
        js = re.sub(r"(?m)^\s*//.*$", "", read("console.js").decode())   # code, not comments
        self.assertEqual(re.findall(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|"
                                    r"\beval\(|new Function|localStorage|sessionStorage|"
                                    r"document\.cookie|indexedDB", js), [])
        self.assertNotRegex(read("console.css").decode(), r"(?i)@import|url\(")


class AdminOriginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server("console-origin")
        s.account_create("ops")
        cls.key = s.cli("key", "create", "ops", "--scopes", "keys:admin",
                        "--platform").stdout.splitlines()[0]
        s.start("--admin-origin", CONFIGURED, "--admin-origin", "http://localhost:1",
                "--max-body", "4096")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def admin(self, method, path, origin=None, key=True, body=None, headers=()):
        hdrs = list(headers)
        if origin is not None:
            hdrs.append("Origin: " + origin)
        if body is not None:
            hdrs.append("Content-Type: application/json")
            body = json.dumps(body)
        return self.srv.rest(method, path, key=self.key if key else None, headers=hdrs,
                             body=body)

    def refused(self, r):
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["code"], "ORIGIN_NOT_ALLOWED", r)
        self.assertEqual(r.json()["requestId"], r.headers.get("x-request-id"))
        self.assertNotIn("access-control-allow-origin", r.headers)

    def test_foreign_origin_is_refused_before_the_key(self):
        for origin in ("http://evil.example", "null", "https://admin.example.com.evil",
                       "http://127.0.0.1:%d" % (self.srv.port + 1),
                       "https://127.0.0.1:%d" % self.srv.port):
            with self.subTest(origin=origin):
                self.refused(self.admin("GET", "/admin/v1/accounts", origin))
        # Refused with a good key, a bad one or none alike: the key is not looked at.
        self.refused(self.admin("GET", "/admin/v1/accounts", "http://evil.example", key=False))
        self.refused(self.admin("POST", "/admin/v1/accounts", "http://evil.example",
                                body={"name": "from-evil"}))
        names = [a["name"] for a in self.admin("GET", "/admin/v1/accounts").json()["accounts"]]
        self.assertNotIn("from-evil", names)
        log = self.srv.wait_log("route=/admin/v1/ status=403 verdict=- key_id=0")
        self.assertIn("route=/admin/v1/ status=403 verdict=- key_id=0", log)

    def test_own_origin_and_no_origin_pass_without_cors(self):
        for origin in (None, "http://127.0.0.1:%d" % self.srv.port):
            with self.subTest(origin=origin):
                r = self.admin("GET", "/admin/v1/accounts", origin)
                self.assertEqual(r.status, 200, r)
                self.assertNotIn("access-control-allow-origin", r.headers)
                self.assertEqual(r.headers.get("vary"), "Origin")
                self.assertEqual(r.headers.get("cache-control"), "no-store")

    def test_configured_origin_gets_cors(self):
        r = self.admin("GET", "/admin/v1/accounts", "https://ADMIN.example.com")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("access-control-allow-origin"),
                         "https://ADMIN.example.com")
        self.assertEqual(r.headers.get("vary"), "Origin")
        self.assertIn("X-Request-Id", r.headers.get("access-control-expose-headers", ""))
        self.assertNotIn("access-control-allow-credentials", r.headers)
        # A refusal of the key carries it too, so that the page can read why.
        r = self.admin("GET", "/admin/v1/accounts", CONFIGURED, key=False)
        self.assertEqual((r.status, r.json()["code"]), (401, "MISSING"))
        self.assertEqual(r.headers.get("access-control-allow-origin"), CONFIGURED)

    def test_preflight(self):
        ask = ["Access-Control-Request-Method: POST",
               "Access-Control-Request-Headers: x-api-key,content-type"]
        r = self.admin("OPTIONS", "/admin/v1/accounts/ops/keys", CONFIGURED, key=False,
                       headers=ask)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.headers.get("access-control-allow-origin"), CONFIGURED)
        self.assertEqual(r.headers.get("access-control-allow-methods"), "GET, POST, DELETE")
        self.assertEqual(r.headers.get("access-control-allow-headers"),
                         "Authorization, Content-Type, X-API-Key")
        self.assertEqual(r.headers.get("access-control-max-age"), "600")
        self.refused(self.admin("OPTIONS", "/admin/v1/accounts/ops/keys", "http://evil.example",
                                key=False, headers=ask))
        # Without Access-Control-Request-Method it is no preflight: the admin API answers.
        r = self.admin("OPTIONS", "/admin/v1/accounts", CONFIGURED, key=False)
        self.assertEqual((r.status, r.json()["code"]), (401, "MISSING"))

    def test_no_response_allows_every_origin(self):
        """gSOAP would answer any Origin with Access-Control-Allow-Origin: *: nothing does."""
        key = self.srv.key_create("ops", name="plain")
        for method, path, k in (("POST", "/rest/credit", key), ("GET", "/rest/me", key),
                                ("GET", "/openapi.json", None), ("GET", "/console/", None),
                                ("GET", "/nothing", None)):
            with self.subTest(path=path):
                r = self.srv.rest(method, path, key=k, headers=["Origin: http://evil.example"])
                self.assertLess(r.status, 500, r)
                self.assertNotIn("access-control-allow-origin", r.headers)
                self.assertNotIn("access-control-allow-credentials", r.headers)
        for path in ("/rest/credit", "/admin/v1/accounts"):       # refused before routing
            with self.subTest(path=path, too_large=True):
                r = self.srv.rest("POST", path, key=key, body="x" * 8192,
                                  headers=["Origin: http://evil.example"])
                self.assertEqual(r.status, 413, r)
                self.assertNotIn("access-control-allow-origin", r.headers)

    def test_origin_is_per_request_on_a_connection(self):
        """gSOAP keeps the last Origin on a keep-alive connection; the policy must not."""
        with self.srv.raw() as c:
            st, _, body = c.request("GET", "/admin/v1/accounts",
                                    ["Origin: http://evil.example", "X-API-Key: " + self.key])
            self.assertEqual((st, json.loads(body)["code"]), (403, "ORIGIN_NOT_ALLOWED"))
            st, h, _ = c.request("GET", "/admin/v1/accounts", ["X-API-Key: " + self.key])
            self.assertEqual(st, 200)
            self.assertNotIn("access-control-allow-origin", h)

    def test_admin_origin_option_is_checked(self):
        for bad in ("https://admin.example.com/", "admin.example.com", "*", "null",
                    "https://a.example:99999"):
            with self.subTest(origin=bad):
                cp = subprocess.run([TSKEY_BIN, "--db", self.srv.db, "serve", "--no-demo",
                                     "--listen", "127.0.0.1:0", "--admin-origin", bad],
                                    capture_output=True, text=True, timeout=15)
                self.assertNotEqual(cp.returncode, 0)
                self.assertIn("--admin-origin", cp.stderr)


class _Node:
    """console.spec.js running: its checkpoint lines in a queue, its stderr kept."""

    def __init__(self, argv, cwd, env):
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.out = []
        self.err = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, None),
                         daemon=True).start()

    @staticmethod
    def _pump(stream, keep, q):
        for line in stream:
            keep.append(line)
            if q is not None:
                q.put(line)
        if q is not None:
            q.put(None)

    def next(self, timeout=STEP_TIMEOUT):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("console.spec.js said nothing for %ds; stderr: %s"
                                 % (timeout, "".join(self.err)[-3000:]))
        if line is None:
            self.proc.wait(10)
            raise AssertionError("console.spec.js exited %s early; stderr: %s"
                                 % (self.proc.returncode, "".join(self.err)[-3000:]))
        return json.loads(line)

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class ConsoleBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = make_temp_dir("tskey-it-console-")
        os.chmod(cls.work, 0o700)
        cls.npm_dir = make_temp_dir("tskey-it-console-npm-")
        for f in ("package.json", "package-lock.json", "console.spec.js", "cors.spec.js"):
            shutil.copy(os.path.join(SPEC_DIR, f), cls.npm_dir)
        npm = shutil.which("npm") or "/usr/bin/npm"
        env = dict(os.environ, NO_UPDATE_NOTIFIER="1", npm_config_fund="false",
                   npm_config_audit="false")
        cp = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                            cwd=cls.npm_dir, capture_output=True, text=True,
                            timeout=NPM_TIMEOUT, env=env)
        if cp.returncode != 0:
            raise AssertionError("npm ci in tests/console failed:\n%s%s" % (cp.stdout, cp.stderr))
        # Another server: its pages are another origin, which the first lets call its admin API.
        cls.other = Server("console-other")
        cls.other.start()
        cls.srv = s = Server("console-browser")
        s.account_create("ops")
        cls.admin_key = s.cli("key", "create", "ops", "--scopes", "keys:admin", "--platform",
                              "--name", "console-admin").stdout.splitlines()[0]
        s.account_create("acme", credit=100)
        cls.legacy_key = s.key_create("acme", name="legacy-soap-client")
        s.user_create("acme", "acme-sync", "sync password 1", api=True)
        s.start("--admin-origin", "http://127.0.0.1:%d" % cls.other.port)
        resp, res = s.soap("CreditRemaining", session_id=cls.legacy_key)
        assert res.credit == 100, (resp, res)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.other.stop()

    def test_cross_origin_pages(self):
        """In Chromium, a page of the configured origin may call the admin API (its preflight
        passes, it reads the answer); a page of any other origin may not, nor change anything."""
        allowed = "http://127.0.0.1:%d/openapi.json" % self.other.port
        foreign = "http://localhost:%d/openapi.json" % self.other.port
        env = dict(os.environ, TSKEY_API=self.srv.base, TSKEY_ADMIN_KEY=self.admin_key,
                   TSKEY_PAGES=allowed + " " + foreign)
        cp = subprocess.run([shutil.which("node") or "/usr/bin/node", "cors.spec.js"],
                            cwd=self.npm_dir, env=env, capture_output=True, text=True,
                            timeout=NODE_TIMEOUT)
        self.assertNotIn(self.admin_key, cp.stdout + cp.stderr)
        self.assertEqual(cp.returncode, 0, cp.stderr[-3000:])
        got = json.loads(cp.stdout.strip().splitlines()[-1])
        self.assertEqual(got[allowed], {"get": 200, "post": 201})
        self.assertEqual(got[foreign], {"get": "blocked", "post": "blocked"})
        names = [a["name"] for a in self.srv.rest("GET", "/admin/v1/accounts",
                                                  key=self.admin_key).json()["accounts"]]
        self.assertIn("via-127.0.0.1", names)
        self.assertNotIn("via-localhost", names)
        # The foreign page's preflight reached the server and was refused there.
        log = self.srv.wait_log("method=OPTIONS route=/admin/v1/ status=403")
        self.assertIn("method=OPTIONS route=/admin/v1/ status=403", log)

    def read_key(self, name):
        with open(os.path.join(self.work, name)) as f:
            key = f.read()
        os.unlink(os.path.join(self.work, name))
        self.assertRegex(key, KEY_RE)
        return key

    def test_end_to_end(self):
        s = self.srv
        env = dict(os.environ, TSKEY_CONSOLE_URL=s.base + "/console/",
                   TSKEY_ADMIN_KEY=self.admin_key, TSKEY_ACCOUNT="acme", TSKEY_WORK=self.work)
        node = _Node([shutil.which("node") or "/usr/bin/node", "console.spec.js"],
                     self.npm_dir, env)
        secrets = [self.admin_key, self.legacy_key]
        try:
            self.assertEqual(node.next(timeout=60)["step"], "created")
            key = self.read_key("new-key")
            secrets.append(key)
            r = s.credit(key)                           # curl, with the key from the page
            self.assertEqual((r.status, r.json()["Credit"]), (200, 100), r)
            node.go()
            self.assertEqual(node.next()["step"], "revoked")
            r = s.credit(key)
            self.assertEqual((r.status, r.json()["code"]), (403, "DISABLED"), r)
            node.go()
            self.assertEqual(node.next()["step"], "rotated")
            rotated = self.read_key("rotated-key")
            secrets.append(rotated)
            self.assertEqual(s.credit(key).status, 200)         # the grace period
            self.assertEqual(s.credit(rotated).status, 200)
            node.go()
            done = node.next()
            self.assertEqual(done["step"], "done")
            node.proc.wait(NODE_TIMEOUT)
            self.assertEqual(node.proc.returncode, 0, "".join(node.err)[-3000:])
        finally:
            node.stop()
            printed = "".join(node.out + node.err)
            for k in secrets:
                self.assertNotIn(k, printed, "console.spec.js printed a key")
        c = done["checks"]
        self.assertEqual(c["csp"], CSP)
        self.assertIn("INVALID", c["badKeyRefused"])
        self.assertTrue(c["keyInputCleared"])
        self.assertFalse(c["inlineScriptRan"], "an inline script ran despite the CSP")
        # The markup in a key's name is text: no element made, no handler run.
        self.assertEqual(c["xssNameText"], '<img src=x onerror="window.__xss=1">')
        self.assertEqual(c["xssImgs"], 0)
        self.assertFalse(c["xssRan"])
        self.assertTrue(c["newKeyShape"])
        self.assertTrue(c["clipboardHasKey"])
        self.assertTrue(c["keyGoneFromPage"])
        self.assertFalse(c["keyInList"])
        self.assertEqual((c["listedPrefix"], c["listedEnv"], c["listedStatus"]),
                         (key[:13], "live", "active"))
        self.assertEqual(c["revokedStatus"], "inactive")
        self.assertTrue(c["rotatedShape"])
        self.assertEqual(c["rotatedRows"], 2)
        self.assertIn("keeps working for 120 s", c["rotateMessage"])
        self.assertTrue(c["deleted"])
        self.assertEqual(c["creditAfter"], c["creditBefore"] + 25)
        self.assertIn("acme-sync", c["users"])
        self.assertIn("API user", c["users"])
        for action in ("key.create", "key.deactivate", "key.reactivate", "key.rotate",
                       "key.delete", "account.credit_add"):
            self.assertIn(action, c["auditActions"])
        self.assertIn("legacy-soap-client", c["migration"])
        self.assertEqual((c["storage"], c["cookies"]), (0, 0))
        self.assertFalse(c["urlHasKey"])
        self.assertFalse(c["adminKeyInDom"])
        self.assertTrue(c["signedOut"])
        self.assertTrue(c["tablesEmptyAfterSignOut"])
        self.assertEqual(c["problems"], [])
        # What the page did went through the admin API, by the admin key.
        rows, _ = s.audit(account="acme")
        self.assertIn("key.rotate", [r["ACTION"] for r in rows])
        shots = os.path.join(self.work, "shots")
        for name in ("signin", "key-created", "keys", "accounts", "audit", "migration"):
            with open(os.path.join(shots, name + ".png"), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", name)
        dest = os.environ.get("TSKEY_CONSOLE_SHOTS")
        if dest:
            os.makedirs(dest, exist_ok=True)
            for name in os.listdir(shots):
                shutil.copy(os.path.join(shots, name), dest)


if __name__ == "__main__":
    unittest.main()
