"""Operating tskey: GET /metrics (Prometheus text, checked by Debian's promtool), who may read
it (--metrics-allow, X-Forwarded-For), GET /healthz and GET /readyz, also with the store made
unreadable (every WAL lock of the -shm file held by this process, as in test_durability).

Every count is asserted as a difference between two scrapes of one server, so tests of a class
may run in any order. Everything is bounded: curl timeouts, subprocess timeouts, thread joins.
"""
import fcntl
import os
import re
import shutil
import subprocess
import threading
import time
import unittest

from harness import Server, flip_char

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
LOCKED_TIMEOUT = 30     # seconds: a read under the WAL locks gives up after about 10
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

# The fixed label sets the server may use (metrics.c); anything else is unbounded cardinality.
CHANNELS = {"soap", "rest", "login", "admin", "other"}
CODES = {"OK", "MISSING", "INVALID", "DISABLED", "EXPIRED", "NO_CREDIT", "INSUFFICIENT_SCOPE",
         "IP_NOT_ALLOWED", "RATE_LIMITED", "UNAVAILABLE", "none"}
NAMES = {"tskey_requests_total", "tskey_request_duration_seconds_bucket",
         "tskey_request_duration_seconds_sum", "tskey_request_duration_seconds_count",
         "tskey_connections_open", "tskey_store_up", "tskey_keys_active", "tskey_sessions_live",
         "tskey_store_errors_total", "tskey_store_pool_timeouts_total",
         "tskey_start_time_seconds"}


def parse_metrics(text):
    """{(name, ((label, value), ...)): float} of every sample line."""
    out = {}
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        m = SAMPLE_RE.match(ln)
        assert m, "not a sample line: %r" % ln
        labels = tuple(sorted(LABEL_RE.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def sample(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def requests(samples, channel, code, status):
    return sample(samples, "tskey_requests_total", channel=channel, code=code, status=str(status))


def promtool(text):
    """(returncode, output) of `promtool check metrics` on text."""
    cp = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                        text=True, timeout=30)
    return cp.returncode, (cp.stdout + cp.stderr).strip()


class MetricsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server("metrics")
        s.account_create("acme", credit=100)
        cls.key = s.key_create("acme", name="main")
        s.user_create("acme", "alice", "alice's password 1")
        s.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def scrape(self):
        r = self.srv.rest("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        return r.text, parse_metrics(r.text)

    def test_counts_a_mix_of_soap_rest_and_login_and_passes_promtool(self):
        s, key = self.srv, self.key
        _, before = self.scrape()
        ids = []

        def done(resp, status):
            self.assertEqual(resp.status, status, resp)
            ids.append(resp.headers["x-request-id"])
            return resp
        for _ in range(3):
            done(s.credit(key), 200)
        for _ in range(2):
            done(s.credit(flip_char(key)), 401)
        done(s.credit(), 401)                                               # MISSING
        for _ in range(2):
            resp, res = s.soap("CreditRemaining", session_id=key)
            self.assertEqual(res.credit, 100, res)
            done(resp, 200)
        resp, res = s.soap("CreditRemaining", session_id=flip_char(key))
        self.assertEqual((done(resp, 500).status, res.detail_code), (500, "INVALID"), res)
        done(s.soap("CreditRemaining", session_id=key, version="1.2")[0], 200)
        r = done(s.rest_login("alice", "alice's password 1"), 200)
        done(s.rest_login("alice", "wrong password"), 401)
        resp, res = s.soap_login("alice", "alice's password 1")
        self.assertEqual(res.login["Status"], "Success", res)
        done(resp, 200)
        done(s.rest("POST", "/rest/logout", key=r.json()["Key"]), 200)
        done(s.rest("GET", "/no/such/path"), 404)
        # A request is counted, then logged, just after its response: wait for every line.
        for rid in ids:
            self.assertIn("id=%s " % rid, s.wait_log("id=%s " % rid))
        text, after = self.scrape()

        def delta(channel, code, status):
            return requests(after, channel, code, status) - requests(before, channel, code, status)
        want = {("rest", "OK", 200): 4,            # 3 credit + the logout
                ("rest", "INVALID", 401): 2, ("rest", "MISSING", 401): 1,
                ("soap", "OK", 200): 3, ("soap", "INVALID", 500): 1,
                ("login", "OK", 200): 2, ("login", "INVALID", 401): 1,
                ("other", "none", 404): 1,
                ("other", "none", 200): 1}         # the first scrape
        for labels, n in want.items():
            self.assertEqual(delta(*labels), n, "%r in:\n%s" % (labels, text))
        total = sum(v for (name, _), v in after.items() if name == "tskey_requests_total") - \
            sum(v for (name, _), v in before.items() if name == "tskey_requests_total")
        self.assertEqual(total, sum(want.values()), text)
        # The histogram agrees with the counters, channel by channel, and is cumulative.
        for ch, n in (("rest", 7), ("soap", 4), ("login", 3)):
            count = sample(after, "tskey_request_duration_seconds_count", channel=ch) - \
                sample(before, "tskey_request_duration_seconds_count", channel=ch)
            self.assertEqual(count, n, ch)
            buckets = sorted(((float(dict(lb)["le"]), v) for (name, lb), v in after.items()
                              if name == "tskey_request_duration_seconds_bucket"
                              and dict(lb)["channel"] == ch))
            self.assertEqual(buckets[-1][0], float("inf"))
            self.assertEqual(buckets[-1][1], sample(after, "tskey_request_duration_seconds_count",
                                                    channel=ch))
            self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets), ch)
        self.assertGreater(sample(after, "tskey_request_duration_seconds_sum", channel="login"),
                           sample(before, "tskey_request_duration_seconds_sum", channel="login"))
        rc, out = promtool(text)
        self.assertEqual((rc, out), (0, ""), "promtool check metrics:\n%s\n---\n%s" % (out, text))

    def test_promtool_would_catch_a_bad_exposition(self):
        # Guards the test above: promtool really checks (a counter without _total is linted).
        rc, out = promtool("# HELP tskey_requests Requests.\n# TYPE tskey_requests counter\n"
                           "tskey_requests 1\n")
        self.assertNotEqual((rc, out), (0, ""))

    def test_gauges_follow_the_store(self):
        s = self.srv
        _, before = self.scrape()
        s.account_create("gauges", credit=5)
        k1, id1 = s.key_create_id("gauges", name="g1")
        _k2, _id2 = s.key_create_id("gauges", name="g2")
        _k3, id3 = s.key_create_id("gauges", name="g3")
        s.key_deactivate(id3)                                   # not usable: not counted
        s.key_create("gauges", name="g4", expires=time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)))
        s.user_create("gauges", "gus", "gus's password 1")
        sess = [s.rest_login("gus", "gus's password 1").json()["Key"] for _ in range(2)]
        _, mid = self.scrape()
        self.assertEqual(sample(mid, "tskey_keys_active") - sample(before, "tskey_keys_active"), 3)
        self.assertEqual(sample(mid, "tskey_sessions_live") - sample(before, "tskey_sessions_live"),
                         2)
        self.assertEqual(sample(mid, "tskey_store_up"), 1)
        s.key_deactivate(id1)
        self.assertEqual(s.rest("POST", "/rest/logout", key=sess[0]).status, 200)
        _, after = self.scrape()
        self.assertEqual(sample(after, "tskey_keys_active") - sample(mid, "tskey_keys_active"), -1)
        self.assertEqual(sample(after, "tskey_sessions_live") - sample(mid, "tskey_sessions_live"),
                         -1)
        self.assertEqual(s.credit(k1).json().get("code"), "DISABLED")

    def open_conns(self, want=None, timeout=3.0):
        """tskey_connections_open (the scrape's own connection included) once it is want, or
        once two scrapes agree when want is None (connections of earlier tests have closed)."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            n = sample(self.scrape()[1], "tskey_connections_open")
            if (n == want) if want is not None else (n == last):
                return n
            if time.monotonic() > deadline:
                return n
            last = n
            time.sleep(0.05)

    def test_open_connections_gauge(self):
        base = self.open_conns()
        conns = [self.srv.raw() for _ in range(3)]
        try:
            for c in conns:     # a request on each, so each is surely accepted and served
                self.assertEqual(c.request("GET", "/healthz")[0], 200)
            self.assertEqual(self.open_conns(), base + 3)
        finally:
            for c in conns:
                c.close()
        self.assertEqual(self.open_conns(want=base), base)

    def test_labels_stay_in_fixed_sets(self):
        """Paths with keys and ids, odd methods, unknown statuses: no label value outside the
        fixed sets, and no key in the text."""
        s, key = self.srv, self.key
        for r in (s.rest("POST", "/rest/credit/" + key),
                  s.rest("GET", "/admin/v1/keys/12345", key=key),
                  s.rest("GET", "/x/%s?key=%s" % (key, key)),
                  s.rest("PATCH", "/rest/credit", key=key),
                  s.rest("DELETE", "/rest/me", key=key)):
            rid = r.headers["x-request-id"]
            self.assertIn("id=%s " % rid, s.wait_log("id=%s " % rid))
        text, samples = self.scrape()
        self.assertNotIn(key, text)
        self.assertNotIn(key[9:], text)
        for (name, labels), _ in samples.items():
            self.assertIn(name, NAMES)
            d = dict(labels)
            self.assertLessEqual(set(d), {"channel", "code", "status", "le"}, name)
            if "channel" in d:
                self.assertIn(d["channel"], CHANNELS)
            if "code" in d:
                self.assertIn(d["code"], CODES)
            if "status" in d:
                self.assertRegex(d["status"], r"^([0-9]{1,3}|other)$")
        self.assertGreaterEqual(requests(samples, "admin", "INSUFFICIENT_SCOPE", 403), 1)


class ScrapeAccessTest(unittest.TestCase):
    """Who may read /metrics: loopback by default; --metrics-allow; X-Forwarded-For only
    through a trusted proxy. /healthz and /readyz are for anyone."""

    def start(self, *extra):
        s = Server("metrics-access")
        s.start(*extra)
        self.addCleanup(s.kill)
        return s

    def assertForbidden(self, r):
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json().get("code"), "FORBIDDEN", r)
        self.assertNotIn(b"tskey_", r.body)

    def test_loopback_by_default(self):
        s = self.start()
        self.assertEqual(s.rest("GET", "/metrics").status, 200)

    def test_outside_the_allowlist_is_refused(self):
        s = self.start("--metrics-allow", "192.0.2.0/24,2001:db8::/32")
        self.assertForbidden(s.rest("GET", "/metrics"))
        for path in ("/healthz", "/readyz"):
            self.assertEqual(s.rest("GET", path).status, 200, path)
        s.stop()
        s.start("--metrics-allow", "192.0.2.0/24,127.0.0.1")
        self.assertEqual(s.rest("GET", "/metrics").status, 200)

    def test_forwarded_through_an_unknown_proxy_is_refused(self):
        s = self.start()
        # Loopback peer, but a proxy we were not told about passed it on: anyone may be behind.
        self.assertForbidden(s.rest("GET", "/metrics", headers=["X-Forwarded-For: 127.0.0.1"]))
        self.assertForbidden(s.rest("GET", "/metrics",
                                    headers=["X-Forwarded-For: 203.0.113.9"]))

    def test_forwarded_through_a_trusted_proxy_counts_the_client(self):
        s = self.start("--trusted-proxy", "127.0.0.1")
        self.assertForbidden(s.rest("GET", "/metrics",
                                    headers=["X-Forwarded-For: 203.0.113.9"]))
        self.assertEqual(s.rest("GET", "/metrics", headers=["X-Forwarded-For: 127.0.0.1"]).status,
                         200)
        self.assertEqual(s.rest("GET", "/metrics").status, 200)

    def test_empty_allowlist_is_no_one(self):
        # ipallow reads "" as everyone; for the metrics it must mean no one.
        s = self.start("--metrics-allow", "")
        self.assertForbidden(s.rest("GET", "/metrics"))

    def test_bad_allowlists_refuse_to_start(self):
        s = Server("metrics-badallow")
        for bad in ("localhost", "10.0.0.1/33", "1.2.3.4,"):
            cp = s.cli("serve", "--listen", "127.0.0.1:0", "--no-demo", "--metrics-allow", bad,
                       check=False)
            self.assertNotEqual(cp.returncode, 0, (bad, cp))
            self.assertIn("--metrics-allow", cp.stderr, (bad, cp))


class HealthTest(unittest.TestCase):

    def test_healthz_and_readyz(self):
        s = Server("health")
        s.start("--uniform-errors")
        self.addCleanup(s.kill)
        r = s.rest("GET", "/healthz")
        self.assertEqual((r.status, r.json()), (200, {"status": "ok"}), r)
        r = s.rest("GET", "/readyz")
        self.assertEqual((r.status, r.json()), (200, {"status": "ready", "store": "ok"}), r)
        self.assertEqual(s.rest("POST", "/healthz").status, 405)
        s.wait_log("route=/healthz")
        self.assertRegex(s.log_text(), r"channel=other method=GET route=/readyz status=200 ")

    def test_store_unreadable_readyz_503_and_errors_counted(self):
        """Every WAL lock of the -shm file held by this process: no read can start. /readyz
        answers 503 (after sqlite's retries), /healthz 200 at once, /metrics says the store is
        down; afterwards the errors are counted and all is ready again."""
        s = Server("health-locked")
        s.account_create("acme", credit=5)
        key = s.key_create("acme")
        s.start()
        self.addCleanup(s.kill)
        r = s.rest("GET", "/metrics")
        before = parse_metrics(r.text)
        self.assertEqual(sample(before, "tskey_store_up"), 1)
        shm = s.db + "-shm"
        self.assertTrue(os.path.exists(shm), os.listdir(s.dir))
        got = {}

        def call(name, method, path, headers=()):
            got[name] = s.curl(method, path, headers=headers, timeout=LOCKED_TIMEOUT)
        fd = os.open(shm, os.O_RDWR)
        try:
            # WALINDEX_LOCK_OFFSET 120, SQLITE_SHM_NLOCK 8: WRITE, CKPT, RECOVER, READ0..4.
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 120)
            t0 = time.monotonic()
            health = s.rest("GET", "/healthz")
            health_s = time.monotonic() - t0
            ts = [threading.Thread(target=call, args=a, daemon=True) for a in (
                ("readyz", "GET", "/readyz"), ("metrics", "GET", "/metrics"),
                ("credit", "POST", "/rest/credit", ["X-API-Key: " + key]))]
            for t in ts:
                t.start()
            for t in ts:
                t.join(LOCKED_TIMEOUT + 10)
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 8, 120)
            os.close(fd)
        self.assertEqual(sorted(got), ["credit", "metrics", "readyz"], got)
        self.assertEqual(health.status, 200, health)
        self.assertLess(health_s, 2.0, "healthz waited on the store")
        r = got["readyz"]
        self.assertEqual((r.status, r.json()), (503, {"status": "unavailable", "store": "error"}),
                         r)
        self.assertEqual(got["credit"].status, 503, got["credit"])
        m = got["metrics"]
        self.assertEqual(m.status, 200, m)
        during = parse_metrics(m.text)
        self.assertEqual(sample(during, "tskey_store_up"), 0, m.text)
        self.assertNotIn("tskey_keys_active", m.text)
        rc, out = promtool(m.text)
        self.assertEqual((rc, out), (0, ""), out)
        # Unlocked: ready again, and the failures were counted.
        r = s.rest("GET", "/readyz")
        self.assertEqual((r.status, r.json()), (200, {"status": "ready", "store": "ok"}), r)
        after = parse_metrics(s.rest("GET", "/metrics").text)
        self.assertEqual(sample(after, "tskey_store_up"), 1)
        self.assertGreaterEqual(sample(after, "tskey_store_errors_total")
                                - sample(before, "tskey_store_errors_total"), 3)
        self.assertEqual(requests(after, "rest", "UNAVAILABLE", 503)
                         - requests(before, "rest", "UNAVAILABLE", 503), 1)
        self.assertEqual(requests(after, "other", "none", 503)
                         - requests(before, "other", "none", 503), 1)


if __name__ == "__main__":
    unittest.main()
