"""Durability and failing closed, against a real server and a real sqlite file (WAL mode).

- The store locked by another process: a writer's lock (BEGIN EXCLUSIVE from Python's sqlite3)
  stops writes, not reads, in WAL mode; a lock on every WAL lock (what a process running WAL
  recovery holds) stops reads too; an exclusive-mode lock taken before the server starts.
- The database read-only (`chattr +i`: the one thing that stops root from writing), corrupt
  (garbage over pages, before start and under a running server), and on a full disk (a small
  tmpfs filled up).
  Reads keep working where the store can still answer them; whatever cannot be checked or
  recorded is 503 UNAVAILABLE on REST and a Server fault with code UNAVAILABLE on SOAP; never a
  yes that the store would not give. Metered calls, both ways: per-call debits
  (--no-batch-credit) are refused at once; batched credit (the default) is granted until the
  first usage flush fails (bounded: one flush interval plus what that flush waits on the
  store), refused after it until a flush succeeds, and every credit granted reaches the store.
- kill -9 in the middle of a burst of key creations and (de/re)activations through the admin API
  and the CLI: after a restart, every acknowledged change is there and integrity_check says ok.
  Admin changes only: the readers' calls are free, so no credit is at stake (batched credit, the
  default, gives up to one flush interval of spending to a kill -9, by design: README).
- A CLI revocation under load holds for every request started after the CLI returned.
- SIGTERM writes the batched usage counters (--usage-flush-ms an hour) and loses nothing.

Everything is bounded: request counts, round counts, thread joins, subprocess timeouts.
Needs root for `chattr` and `mount -t tmpfs` (the harness runs as root).
"""
import calendar
import fcntl
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (HTTP_TIMEOUT, SOAP11_NS, TSKEY_BIN, RawConn, Server, envelope,
                     parse_soap, rest_verdict, soap_headers, soap_verdict)

MAXK = ("--max-keys", "0")      # the bursts make more than 100 keys in an account
BUSY_TIMEOUT = 5.0              # store.c: sqlite3_busy_timeout(5000)
SLOW = 30                       # seconds: curl's limit for a request that waits on a lock
NO_FLUSH = ("--usage-flush-ms", "3600000")  # the usage flusher then never writes meanwhile
PER_CALL = ("--no-batch-credit",)   # each metered call writes its debit before it answers
FLUSH_MS = 150                  # the usage flush interval of the batched-credit cases

# A page overwritten with this is garbage to sqlite (a deterministic, reproducible garbage).
_GARBAGE_RNG = random.Random(0x7e57)


def garbage(n):
    return bytes(_GARBAGE_RNG.getrandbits(8) for _ in range(n))


_unknown = []


def unknown_key():
    """A well-formed tsk_live_ key (right checksum) that no database of these tests holds: it
    must reach the store, so that a store that cannot answer cannot call it INVALID either."""
    if not _unknown:
        other = Server("du-other")
        other.account_create("elsewhere")
        _unknown.append(other.key_create("elsewhere"))
    return _unknown[0]


def soap_credit(srv, key, timeout=HTTP_TIMEOUT):
    """SOAP 1.1 CreditRemaining with a chosen curl timeout: (HttpResponse, SoapResult)."""
    resp = srv.curl("POST", "/TrackService.asmx", headers=soap_headers("CreditRemaining"),
                    body=envelope("CreditRemaining", session_id=key), timeout=timeout)
    return resp, parse_soap(resp.body)


def both_channels(srv, key, timeout=HTTP_TIMEOUT, parallel=False):
    """REST POST /rest/credit and SOAP CreditRemaining with key: a dict with rest, soap
    (verdict codes), and the responses. parallel: both at once (for calls that wait)."""
    out = {}

    def rest():
        out["rresp"] = srv.curl("POST", "/rest/credit", headers=["X-API-Key: " + key],
                                timeout=timeout)

    def soap():
        out["sresp"], out["sres"] = soap_credit(srv, key, timeout=timeout)
    if parallel:
        ts = [threading.Thread(target=f, daemon=True) for f in (rest, soap)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout + 10)
    else:
        rest()
        soap()
    assert "rresp" in out and "sresp" in out, "a request did not come back: %r" % out
    out["rest"] = rest_verdict(out["rresp"])
    out["soap"] = soap_verdict(out["sresp"], out["sres"])
    return out


def run_parallel(fns, timeout):
    """Run each fn in its own thread; returns their results (or raises the first exception)."""
    results = [None] * len(fns)
    errors = []

    def wrap(i, f):
        try:
            results[i] = f()
        except BaseException as e:      # noqa: B902 - re-raised in the caller
            errors.append(e)
    ts = [threading.Thread(target=wrap, args=(i, f), daemon=True) for i, f in enumerate(fns)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + timeout
    for t in ts:
        t.join(max(0.1, deadline - time.monotonic()))
    if any(t.is_alive() for t in ts):
        raise AssertionError("parallel calls did not finish within %ds" % timeout)
    if errors:
        raise errors[0]
    return results


def try_serve(db, *extra, global_opts=(), timeout=20):
    """Start `serve` on db outside the harness, to see whether it refuses to start. Returns
    ("refused", returncode, stdout, stderr) when it exits, or ("listening", ...) after killing
    it once it printed its listening line. Bounded by timeout."""
    cmd = ([TSKEY_BIN, "--db", db] + [str(g) for g in global_opts]
           + ["serve", "--listen", "127.0.0.1:0", "--no-demo"] + [str(e) for e in extra])
    errf = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=errf, text=True)
    lines = []
    listening = threading.Event()

    def reader():
        for ln in proc.stdout:
            lines.append(ln.rstrip("\n"))
            if "listening on" in ln:
                listening.set()
    rt = threading.Thread(target=reader, daemon=True)
    rt.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if listening.is_set() or proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
            if not listening.is_set():
                raise AssertionError("serve neither started nor exited within %ds" % timeout)
            state = "listening"
        else:
            state = "listening" if listening.is_set() else "refused"
        rt.join(5)
        errf.seek(0)
        return state, proc.returncode, "\n".join(lines), errf.read().decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        errf.close()


def integrity(db):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()


def page_size(db):
    with open(db, "rb") as f:
        hdr = f.read(100)
    assert hdr[:16] == b"SQLite format 3\x00", "not an sqlite file: %r" % hdr[:16]
    ps = int.from_bytes(hdr[16:18], "big")
    return 65536 if ps == 1 else ps


def root_pages(db):
    """name -> root page number of every table and index (read before corrupting)."""
    con = sqlite3.connect(db, timeout=10)
    try:
        return {n: p for n, p in con.execute(
            "SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0")}
    finally:
        con.close()


def overwrite_pages(db, pages):
    """Write garbage over the given 1-based pages of db, in place."""
    ps = page_size(db)
    with open(db, "r+b") as f:
        for p in pages:
            f.seek((p - 1) * ps)
            f.write(garbage(ps))
        f.flush()
        os.fsync(f.fileno())


def _closes(conn, hdrs):
    """Note on conn whether the server said it closes the connection after this response
    (gSOAP does after a SOAP fault): the caller must then open a new one."""
    conn.closing = hdrs.get("connection", "").lower() == "close"


def raw_rest_verdict(conn, key):
    status, hdrs, body = conn.request("POST", "/rest/credit", ["X-API-Key: " + key])
    _closes(conn, hdrs)
    if status == 200:
        return "OK"
    try:
        return json.loads(body.decode("utf-8")).get("code", "HTTP_%d" % status)
    except ValueError:
        return "HTTP_%d" % status


def raw_soap_verdict(conn, key):
    status, hdrs, body = conn.request("POST", "/TrackService.asmx",
                                      soap_headers("CreditRemaining"),
                                      envelope("CreditRemaining", session_id=key))
    _closes(conn, hdrs)
    res = parse_soap(body)
    if status == 200 and not res.fault and res.credit is not None:
        return "OK"
    if res.fault:
        return res.detail_code or "FAULT_WITHOUT_CODE"
    return "HTTP_%d" % status


class StoreCases:
    """Assertions shared by the failure tests."""

    def assertUnavailable(self, r, what=""):
        """Both channels refused with UNAVAILABLE: REST 503 + code, SOAP 1.1 Server fault."""
        rresp, sresp, sres = r["rresp"], r["sresp"], r["sres"]
        self.assertEqual(rresp.status, 503, "%s REST: %r" % (what, rresp))
        self.assertEqual(rresp.json().get("code"), "UNAVAILABLE", rresp)
        self.assertEqual(rresp.headers.get("x-tskey-code"), "UNAVAILABLE", rresp)
        self.assertEqual(sresp.status, 500, "%s SOAP: %r" % (what, sresp))
        self.assertTrue(sres.fault, sres)
        self.assertEqual(sres.fault_code, "{%s}Server" % SOAP11_NS, sres)
        self.assertEqual(sres.detail_code, "UNAVAILABLE", sres)
        self.assertTrue((sres.fault_string or "").startswith("Unavailable: "), sres)
        self.assertIsNone(sres.credit, sres)

    def assertVerdicts(self, srv, key, want, what="", timeout=HTTP_TIMEOUT, parallel=False):
        """Both channels give the same verdict, and it is one of want (a code or a set)."""
        want = {want} if isinstance(want, str) else set(want)
        r = both_channels(srv, key, timeout=timeout, parallel=parallel)
        self.assertEqual(r["rest"], r["soap"], "%s: channels disagree: %r / %r"
                         % (what, r["rresp"], r["sres"]))
        self.assertIn(r["rest"], want, "%s: REST %r SOAP %r" % (what, r["rresp"], r["sres"]))
        if r["rest"] == "UNAVAILABLE":
            self.assertUnavailable(r, what)
        return r

    def assertCliFails(self, cp, pattern, what, header=False):
        """A CLI command that could not do its work: non-zero exit, no key or id on stdout
        (header: a list's header line may be there, and nothing more), and a stderr that names
        the cause."""
        self.assertNotEqual(cp.returncode, 0, "%s succeeded: %r" % (what, cp))
        out = cp.stdout.strip().splitlines()
        if header and out and out[0].startswith("ID\t"):
            out = out[1:]
        self.assertEqual(out, [], "%s printed on stdout: %r" % (what, cp.stdout))
        self.assertRegex(cp.stderr, pattern, "%s: unclear error: %r" % (what, cp.stderr))

    def fixture(self, s, credit=10):
        """Account 'acct' with an active key, a deactivated key, and a platform admin key."""
        s.account_create("acct", credit=credit)
        ok, ok_id = s.key_create_id("acct", name="ok")
        off, off_id = s.key_create_id("acct", name="off")
        s.key_deactivate(off_id)
        return ok, ok_id, off, off_id

    def batched_fails_closed(self, s, ok, off, credit, unwritable, writable, wait,
                             may_write=False):
        """Batched credit (the default) when the store stops taking writes. s runs with
        --cost credit=1 (REST credit and SOAP CreditRemaining are metered, /rest/me is free) and
        --usage-flush-ms FLUSH_MS; its account 'acct' holds credit. After unwritable(), metered
        calls are granted until the first usage flush fails -- within one flush interval plus
        wait, what that flush waits on the store -- and refused UNAVAILABLE on both channels
        after it, also while further flushes fail; free calls and reads answer as before. After
        writable(), a flush succeeds, metered calls come back, and the stored balance is the
        start less exactly the credit granted (each 200 took one). may_write: the store may yet
        take the flush (a full disk with room left in the WAL): no refusal is then required."""
        unk = unknown_key()
        limit = FLUSH_MS / 1000.0 + wait + 3.0      # + slack for a loaded or sanitized run
        self.assertVerdicts(s, ok, "OK", "batched, before")
        granted = 2

        def poll(want_status):
            """GET /rest/verify until its status is want_status (the other must be 200 or 503
            UNAVAILABLE), at most limit seconds: (seconds taken or None, 200s seen)."""
            t0, oks = time.monotonic(), 0
            for _ in range(2000):
                v = s.curl("GET", "/rest/verify", headers=["X-API-Key: " + ok])
                if v.status == 200:
                    oks += 1
                else:
                    self.assertEqual((v.status, v.json().get("code")), (503, "UNAVAILABLE"), v)
                if v.status == want_status:
                    return time.monotonic() - t0, oks
                if time.monotonic() - t0 > limit:
                    break
                time.sleep(0.02)
            return None, oks
        unwritable()
        try:
            took, oks = poll(503)
            granted += oks
            if took is None:
                self.assertTrue(may_write, "metered calls still granted %.1fs after the store "
                                "stopped taking writes" % limit)
            else:
                self.assertLessEqual(took, limit)
                self.assertVerdicts(s, ok, "UNAVAILABLE", "batched, after a failed flush")
                if not may_write:
                    time.sleep(3 * FLUSH_MS / 1000.0)      # the flusher tries, and fails, again
                    self.assertVerdicts(s, ok, "UNAVAILABLE", "batched, flushes failing")
            me = s.rest("GET", "/rest/me", key=ok)
            self.assertEqual(me.status, 200, me)
            self.assertEqual(me.json()["credit"], credit - granted, me)
            self.assertVerdicts(s, off, "DISABLED", "batched: deactivated key")
            self.assertVerdicts(s, unk, "INVALID", "batched: unknown key")
        finally:
            writable()
        took, oks = poll(200)
        granted += oks
        self.assertIsNotNone(took, "metered calls did not come back within %.1fs" % limit)
        self.assertVerdicts(s, ok, "OK", "batched, writable again")
        granted += 2
        s.stop()
        self.assertEqual(s.account_credit("acct"), credit - granted)
        return granted

    def metered_twin(self, s, *extra):
        """A second server on the same database whose CreditRemaining / POST /rest/credit
        costs 1 credit: the calls that must write to answer."""
        m = Server("du-metered")
        m.db = s.db
        m.start("--cost", "credit=1", *extra)
        self.addCleanup(m.kill)
        return m


# ---- 1. the store locked, read-only, corrupt, full ----------------------------------------
class LockedStoreTest(StoreCases, unittest.TestCase):

    def test_writer_lock_stops_writes_not_reads(self):
        """Another process holds BEGIN EXCLUSIVE (in WAL mode: the write lock). A read sees the
        last committed state, so it must answer as before on both channels; everything that has
        to write -- a metered call, a CLI change -- is refused UNAVAILABLE / fails after the
        busy timeout, without a yes and without a half-made change; and all recovers."""
        s = Server("du-wlock")
        ok, ok_id, off, _ = self.fixture(s, credit=10)
        # No usage flush meanwhile: it would wait on the lock with the server's connection.
        # Per-call debits; batched credit under a lock is test_batched_credit_under_writer_lock.
        s.start(*(NO_FLUSH + PER_CALL))
        self.addCleanup(s.kill)
        m = self.metered_twin(s, *(NO_FLUSH + PER_CALL))
        self.assertVerdicts(s, ok, "OK", "before")
        self.assertVerdicts(m, ok, "OK", "metered before")      # 10 -> 8
        lock = sqlite3.connect(s.db, timeout=5, isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            lock.execute("UPDATE accounts SET credit = credit WHERE name = 'acct'")
            t0 = time.monotonic()
            # Reads, one after the other (the server's warm connection answers them; a read
            # that needs a new connection is test_reads_under_writer_lock_on_new_connections).
            reads = [both_channels(s, k) for k in (ok, off, unknown_key())]
            # Then everything that must write, at once.
            metered, verify, create, deact = run_parallel([
                lambda: both_channels(m, ok, timeout=SLOW, parallel=True),
                lambda: s.curl("GET", "/rest/verify", headers=["X-API-Key: " + ok],
                               timeout=SLOW),
                lambda: s.cli("key", "create", "acct", check=False),
                lambda: s.cli("key", "deactivate", ok_id, check=False),
            ], timeout=SLOW + 15)
            held = time.monotonic() - t0
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        self.assertUnavailable(metered, "metered call under a writer lock")
        self.assertEqual(verify.status, 503, verify)
        self.assertEqual(verify.json().get("code"), "UNAVAILABLE", verify)
        self.assertCliFails(create, r"(?i)locked|busy", "key create under a writer lock")
        self.assertCliFails(deact, r"(?i)locked|busy", "key deactivate under a writer lock")
        for r, want in zip(reads, ("OK", "DISABLED", "INVALID")):
            self.assertEqual((r["rest"], r["soap"]), (want, want),
                             "a read under a writer lock: %r / %r" % (r["rresp"], r["sres"]))
        self.assertGreaterEqual(held, BUSY_TIMEOUT - 0.5, "the lock did not hold: %.2fs" % held)
        # Nothing was half done, and everything works again.
        self.assertEqual(s.account_credit("acct"), 8)
        self.assertEqual(s.key_row(ok_id)["STATUS"], "active")
        self.assertVerdicts(s, ok, "OK", "after the lock")
        self.assertVerdicts(m, ok, "OK", "metered after the lock")
        self.assertEqual(s.account_credit("acct"), 6)
        s.key_create("acct")

    def test_reads_under_writer_lock_on_new_connections(self):
        """As above, but the server's open store connection is busy: a metered call waits on
        the lock with it, so the reads that come meanwhile need connections the pool opens
        while the other process holds the write lock. A read is as safe on a new connection as
        on an old one: each must answer as before (not 503 after the busy timeout because
        opening a connection waits for the write lock)."""
        s = Server("du-wlock-pool")
        ok, _ok_id, off, _ = self.fixture(s, credit=10)
        s.start(*(NO_FLUSH + PER_CALL))     # the verifies hold connections waiting to write
        self.addCleanup(s.kill)
        self.assertVerdicts(s, ok, "OK", "warm-up")
        verifies = []

        def verify():
            verifies.append(s.curl("GET", "/rest/verify", headers=["X-API-Key: " + ok],
                                   timeout=SLOW))
        lock = sqlite3.connect(s.db, timeout=5, isolation_level=None)
        vt = [threading.Thread(target=verify, daemon=True) for _ in range(2)]
        try:
            lock.execute("BEGIN EXCLUSIVE")
            for t in vt:
                t.start()
            time.sleep(0.5)         # the verifies now hold the server's connection(s)
            t0 = time.monotonic()
            reads = run_parallel([lambda k=k: both_channels(s, k, timeout=SLOW, parallel=True)
                                  for k in (ok, off)], timeout=SLOW + 10)
            took = time.monotonic() - t0
        finally:
            lock.execute("ROLLBACK")
            lock.close()
            for t in vt:
                t.join(SLOW + 5)
        got = [(r["rest"], r["soap"]) for r in reads]
        self.assertEqual(got, [("OK", "OK"), ("DISABLED", "DISABLED")],
                         "reads refused (after %.1fs) while another process held only the "
                         "write lock; server log: %s" % (took, "; ".join(
                             ln for ln in s.log_text().splitlines()[-40:] if " warn " in ln)))
        # The verifies write: 503 while the lock held, or 200 once it went -- with the debit.
        self.assertEqual(len(verifies), 2)
        for v in verifies:
            self.assertIn(v.status, (200, 503), v)
        self.assertEqual(s.account_credit("acct"), 10 - sum(v.status == 200 for v in verifies))

    def test_batched_credit_under_writer_lock(self):
        """Another process holds the write lock: the first usage flush after it waits the busy
        timeout and fails; from then on metered calls are 503 until the lock goes."""
        s = Server("du-wlock-batch")
        ok, _ok_id, off, _ = self.fixture(s, credit=1000)
        s.start("--cost", "credit=1", "--usage-flush-ms", FLUSH_MS)
        self.addCleanup(s.kill)
        lock = sqlite3.connect(s.db, timeout=5, isolation_level=None)
        self.addCleanup(lock.close)

        def take():
            lock.execute("BEGIN EXCLUSIVE")
            lock.execute("UPDATE accounts SET credit = credit WHERE name = 'acct'")
        self.batched_fails_closed(s, ok, off, 1000, take, lambda: lock.execute("ROLLBACK"),
                                  BUSY_TIMEOUT)

    def test_wal_locks_held_by_another_process(self):
        """Another process holds every WAL lock of the -shm file (what sqlite does while it
        recovers a WAL). Then no read can start: the server must answer UNAVAILABLE on both
        channels for a valid, a deactivated and an unknown key -- never OK -- and answer as
        before once the locks go."""
        s = Server("du-shmlock")
        ok, _ok_id, off, _ = self.fixture(s)
        s.start()
        self.addCleanup(s.kill)
        unk = unknown_key()
        self.assertVerdicts(s, ok, "OK", "before")
        shm = s.db + "-shm"
        self.assertTrue(os.path.exists(shm), os.listdir(s.dir))
        fd = os.open(shm, os.O_RDWR)
        try:
            # WALINDEX_LOCK_OFFSET 120, SQLITE_SHM_NLOCK 8: WRITE, CKPT, RECOVER, READ0..4.
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 120)
            got = run_parallel([
                lambda k=k: both_channels(s, k, timeout=SLOW, parallel=True)
                for k in (ok, off, unk)], timeout=SLOW + 15)
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 8, 120)
            os.close(fd)
        for r, name in zip(got, ("active", "deactivated", "unknown")):
            self.assertUnavailable(r, "%s key while the WAL is locked" % name)
        self.assertVerdicts(s, ok, "OK", "after")
        self.assertVerdicts(s, off, "DISABLED", "after")
        self.assertVerdicts(s, unk, "INVALID", "after")

    def test_exclusive_lock_taken_before_start(self):
        """Another process has the database in exclusive locking mode (it wrote, and keeps the
        lock) when the server starts: the server must refuse to start with a clear error (or
        start and answer UNAVAILABLE, never OK); the CLI fails with a clear error; once the
        lock goes the server starts and answers. While a server runs, no other process can take
        that lock at all (the server's connections keep it off), so it cannot pull the store
        from under a running server."""
        s = Server("du-xlock")
        ok, _ok_id, off, _ = self.fixture(s)
        hold = sqlite3.connect(s.db, timeout=5, isolation_level=None)
        try:
            hold.execute("PRAGMA locking_mode=EXCLUSIVE")
            hold.execute("BEGIN EXCLUSIVE")
            hold.execute("UPDATE accounts SET credit = credit")
            hold.execute("COMMIT")      # exclusive mode: the lock stays after the commit
            served, cli = run_parallel([
                lambda: try_serve(s.db, timeout=20),
                lambda: s.cli("key", "list", check=False)], timeout=30)
            state, rc, out, err = served
            if state == "listening":
                s.start()
                self.addCleanup(s.kill)
                self.assertVerdicts(s, ok, "UNAVAILABLE", "locked out", timeout=SLOW,
                                    parallel=True)
                s.stop()
            else:
                self.assertNotEqual(rc, 0, err)
                self.assertRegex(err, r"(?i)locked|busy", "refused without saying why: %r" % err)
                self.assertRegex(err, re.escape(s.db), err)
            self.assertCliFails(cli, r"(?i)locked|busy", "key list under an exclusive lock")
        finally:
            hold.close()
        s.start()
        self.addCleanup(s.kill)
        self.assertVerdicts(s, ok, "OK", "after the lock went")
        self.assertVerdicts(s, off, "DISABLED", "after the lock went")
        # Now the server runs: the same lock cannot be had, and the server goes on answering.
        grab = sqlite3.connect(s.db, timeout=0.5, isolation_level=None)
        try:
            grab.execute("PRAGMA locking_mode=EXCLUSIVE")
            with self.assertRaises(sqlite3.OperationalError):
                grab.execute("BEGIN EXCLUSIVE")
                grab.execute("UPDATE accounts SET credit = credit")
                grab.execute("COMMIT")
        finally:
            grab.close()
        self.assertVerdicts(s, ok, "OK", "after the failed grab")


class ReadOnlyStoreTest(StoreCases, unittest.TestCase):
    """Read-only for root: chmod does not stop root, `chattr +i` (immutable) does, also for a
    file the server already has open. The -shm file is left writable: it is shared memory, and
    an immutable mapped file ends a writer with SIGBUS -- not a state a disk ever gets into."""

    def immutable(self, *paths):
        for p in paths:
            cp = subprocess.run(["chattr", "+i", p], capture_output=True, text=True, timeout=10)
            if cp.returncode != 0:
                self.skipTest("chattr +i is not possible here: %s" % cp.stderr.strip())
            self.addCleanup(subprocess.run, ["chattr", "-i", p], capture_output=True, timeout=10)

    def mutable(self, *paths):
        for p in paths:
            subprocess.run(["chattr", "-i", p], check=True, capture_output=True, timeout=10)

    def test_read_only_under_a_running_server(self):
        s = Server("du-ro")
        ok, ok_id, off, _ = self.fixture(s, credit=10)
        s.start("--usage-flush-ms", "200", *PER_CALL)
        self.addCleanup(s.kill)
        m = self.metered_twin(s, "--usage-flush-ms", "200", *PER_CALL)
        unk = unknown_key()
        self.assertVerdicts(m, ok, "OK", "metered before")      # 10 -> 8
        files = (s.db, s.db + "-wal")
        for p in files:
            self.assertTrue(os.path.exists(p), os.listdir(s.dir))
        self.immutable(*files)
        try:
            # Reads: the store answers them, so they answer as before.
            self.assertVerdicts(s, ok, "OK", "read-only: active key")
            self.assertVerdicts(s, off, "DISABLED", "read-only: deactivated key")
            self.assertVerdicts(s, unk, "INVALID", "read-only: unknown key")
            # A metered call cannot record its debit: no yes.
            for _ in range(2):
                self.assertVerdicts(m, ok, "UNAVAILABLE", "read-only: metered call")
            v = s.curl("GET", "/rest/verify", headers=["X-API-Key: " + ok])
            self.assertEqual((v.status, v.json().get("code")), (503, "UNAVAILABLE"), v)
            self.assertCliFails(s.cli("key", "create", "acct", check=False),
                                r"(?i)read-?only|readonly|permi|I/O", "key create, read-only")
            self.assertCliFails(s.cli("key", "deactivate", ok_id, check=False),
                                r"(?i)read-?only|readonly|permi|I/O", "deactivate, read-only")
            self.assertEqual(s.cli("key", "list").returncode, 0)   # reads work from the CLI too
            time.sleep(0.5)     # a usage flush or two fail meanwhile
        finally:
            self.mutable(*files)
        self.assertEqual(s.account_credit("acct"), 8)
        self.assertEqual(s.key_row(ok_id)["STATUS"], "active")
        self.assertVerdicts(s, ok, "OK", "writable again")
        self.assertVerdicts(m, ok, "OK", "metered, writable again")
        self.assertEqual(s.account_credit("acct"), 6)
        s.key_create("acct")
        s.stop()
        m.stop()
        self.assertEqual(integrity(s.db), [("ok",)])

    def test_batched_credit_read_only_under_a_running_server(self):
        """The database turns read-only under a server with batched credit: the next usage
        flush fails at once, and metered calls are 503 until it is writable again."""
        s = Server("du-ro-batch")
        ok, _ok_id, off, _ = self.fixture(s, credit=1000)
        s.start("--cost", "credit=1", "--usage-flush-ms", FLUSH_MS)
        self.addCleanup(s.kill)
        files = (s.db, s.db + "-wal")
        self.assertVerdicts(s, ok, "OK", "warm-up")     # the -wal file exists from here
        time.sleep(3 * FLUSH_MS / 1000.0)
        self.batched_fails_closed(s, ok, off, 1000 - 2, lambda: self.immutable(*files),
                                  lambda: self.mutable(*files), 0)
        self.assertEqual(integrity(s.db), [("ok",)])

    def test_read_only_before_start(self):
        """The database file immutable when the server starts: it must refuse to start with a
        clear error, or start and never answer a yes that needs a write."""
        s = Server("du-ro-start")
        ok, _ok_id, off, _ = self.fixture(s)
        self.immutable(s.db)
        state, rc, out, err = try_serve(s.db, "--cost", "credit=1")
        if state == "refused":
            self.assertNotEqual(rc, 0)
            self.assertRegex(err, r"(?i)read-?only|readonly|permi", err)
            self.assertRegex(err, re.escape(s.db), err)
        else:
            # It started (sqlite opened the file read-only): reads answer, writes cannot.
            s.start("--cost", "credit=1")
            self.addCleanup(s.kill)
            # ... and says so at start, before anyone finds out from a 503.
            self.assertRegex(s.log_text(), r"store: .*%s is read-only" % re.escape(s.db))
            self.assertVerdicts(s, ok, "UNAVAILABLE", "read-only, metered")
            self.assertVerdicts(s, off, {"DISABLED", "UNAVAILABLE"}, "read-only, deactivated")
            me = s.rest("GET", "/rest/me", key=ok)          # free: a read
            self.assertIn(me.status, (200, 503), me)
            s.stop()
        self.mutable(s.db)
        s.start("--cost", "credit=1")
        self.addCleanup(s.kill)
        self.assertVerdicts(s, ok, "OK", "writable again")


class CorruptStoreTest(StoreCases, unittest.TestCase):
    """Garbage over pages of the database file. Whatever the server does -- refuse to start,
    or answer -- it must never say yes to a key the store cannot vouch for."""

    N_KEYS = 60         # enough rows that the keys table spans several pages

    def prepared(self, tag):
        s = Server("du-corrupt-" + tag)
        ok, ok_id, off, off_id = self.fixture(s, credit=10)
        for i in range(self.N_KEYS):
            s.key_create("acct", name="filler-%d" % i)
        s.start()
        s.stop()        # a clean stop checkpoints: everything is in the main file
        self.assertFalse(os.path.exists(s.db + "-wal") and os.path.getsize(s.db + "-wal"),
                         "the WAL was not checkpointed on a clean stop")
        self.assertEqual(integrity(s.db), [("ok",)])
        return s, ok, off, root_pages(s.db)

    def check_corrupt(self, s, ok, off, want_ok, want_off, want_unknown, what):
        """Start on the corrupt file: refused with a clear error, or these verdicts."""
        state, rc, _out, err = try_serve(s.db)
        if state == "refused":
            self.assertNotEqual(rc, 0)
            self.assertRegex(err, r"(?i)not a database|malformed|corrupt", "%s: %r" % (what, err))
            self.assertRegex(err, re.escape(s.db), err)
            return "refused"
        s.start()
        self.addCleanup(s.kill)
        for key, want, name in ((ok, want_ok, "active"), (off, want_off, "deactivated"),
                                (unknown_key(), want_unknown, "unknown")):
            self.assertVerdicts(s, key, want, "%s: %s key" % (what, name))
        v = s.curl("GET", "/rest/verify", headers=["X-API-Key: " + unknown_key()])
        self.assertIn(v.status, (401, 503), v)
        cp = s.cli("key", "create", "acct", check=False)
        self.assertCliFails(cp, r"(?i)malformed|corrupt|not a database", what + ": key create")
        s.kill()
        return "served"

    def test_header_garbage_refuses_start(self):
        s, ok, off, _roots = self.prepared("header")
        overwrite_pages(s.db, [1])
        state, rc, _out, err = try_serve(s.db)
        self.assertEqual(state, "refused", "started on a file with a garbage header")
        self.assertNotEqual(rc, 0)
        self.assertRegex(err, r"(?i)not a database|malformed|corrupt", err)
        self.assertRegex(err, re.escape(s.db), err)
        self.assertCliFails(s.cli("key", "list", check=False),
                            r"(?i)not a database|malformed|corrupt", "key list, garbage header")

    def test_key_hash_index_garbage(self):
        """The index every key lookup goes through is garbage: no verdict but UNAVAILABLE."""
        s, ok, off, roots = self.prepared("index")
        overwrite_pages(s.db, [roots["sqlite_autoindex_keys_1"]])
        self.check_corrupt(s, ok, off, "UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE", "hash index")

    def test_keys_table_garbage(self):
        """The keys table is garbage (its index is intact): a key the index finds cannot be
        read, so UNAVAILABLE; one the index does not have may still be called INVALID."""
        s, ok, off, roots = self.prepared("table")
        overwrite_pages(s.db, [roots["keys"]])
        self.check_corrupt(s, ok, off, "UNAVAILABLE", "UNAVAILABLE",
                           {"INVALID", "UNAVAILABLE"}, "keys table")
        cp = s.cli("key", "list", check=False)
        self.assertCliFails(cp, r"(?i)malformed|corrupt", "key list over a garbage table",
                            header=True)

    def test_everything_but_the_first_page_garbage(self):
        s, ok, off, _roots = self.prepared("most")
        n = os.path.getsize(s.db) // page_size(s.db)
        overwrite_pages(s.db, range(2, n + 1))
        self.check_corrupt(s, ok, off, "UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE",
                           "all but page 1")

    def test_garbage_under_a_running_server(self):
        """Pages overwritten while the server runs (after a checkpoint moved everything into
        the main file): answers are right or UNAVAILABLE, never OK for the deactivated or the
        unknown key; and a restart refuses or answers UNAVAILABLE."""
        s = Server("du-corrupt-live")
        ok, _ok_id, off, _ = self.fixture(s)
        for i in range(self.N_KEYS):
            s.key_create("acct", name="filler-%d" % i)
        s.start()
        self.addCleanup(s.kill)
        unk = unknown_key()
        self.assertVerdicts(s, ok, "OK", "before")
        roots = root_pages(s.db)
        con = sqlite3.connect(s.db, timeout=10, isolation_level=None)
        try:
            busy, _log, _ckpt = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            con.close()
        self.assertEqual(busy, 0, "the checkpoint could not finish")
        overwrite_pages(s.db, [roots["sqlite_autoindex_keys_1"], roots["keys"]])
        for _ in range(3):
            self.assertVerdicts(s, ok, {"OK", "UNAVAILABLE"}, "live garbage: active key")
            self.assertVerdicts(s, off, {"DISABLED", "UNAVAILABLE"}, "live garbage: deactivated")
            self.assertVerdicts(s, unk, {"INVALID", "UNAVAILABLE"}, "live garbage: unknown")
        self.assertCliFails(s.cli("key", "create", "acct", check=False),
                            r"(?i)malformed|corrupt", "key create over garbage")
        s.kill()
        self.check_corrupt(s, ok, off, "UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE",
                           "restart after live garbage")


class FullDiskTest(StoreCases, unittest.TestCase):
    """The database on a 2 MB tmpfs that a filler file then fills up (root may mount here)."""

    def mount_small_fs(self):
        mnt = tempfile.mkdtemp(prefix="tskey-du-full-")
        cp = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tskey-du-full",
                             mnt], capture_output=True, text=True, timeout=10)
        if cp.returncode != 0:
            os.rmdir(mnt)
            self.skipTest("cannot mount a small tmpfs here: %s" % cp.stderr.strip())

        def unmount():
            subprocess.run(["umount", mnt], capture_output=True, timeout=10)
            try:
                os.rmdir(mnt)
            except OSError:
                pass
        self.addCleanup(unmount)
        return mnt

    def fill(self, mnt):
        """Fill the filesystem at mnt with a file; returns its path."""
        filler = os.path.join(mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for size in (65536, 512):
                for _ in range(10000):      # 2 MB: ends long before this bound
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError:
                        break
        finally:
            os.close(fd)
        self.assertEqual(os.statvfs(mnt).f_bavail, 0, "the filesystem is not full")
        return filler

    def test_batched_credit_full_disk(self):
        """Batched credit on a full disk: the usage flush may still fit in the WAL, or fail;
        either way no credit is granted that does not reach the store once there is room."""
        mnt = self.mount_small_fs()
        s = Server("du-full-batch")
        s.db = os.path.join(mnt, "tskey.db")
        ok, _ok_id, off, _ = self.fixture(s, credit=1000)
        s.start("--cost", "credit=1", "--usage-flush-ms", FLUSH_MS)
        self.addCleanup(s.kill)
        filler = []
        self.batched_fails_closed(s, ok, off, 1000, lambda: filler.append(self.fill(mnt)),
                                  lambda: filler and os.unlink(filler[0]), 0, may_write=True)
        self.assertEqual(integrity(s.db), [("ok",)])

    def test_full_disk(self):
        mnt = self.mount_small_fs()
        s = Server("du-full")
        s.db = os.path.join(mnt, "tskey.db")
        ok, ok_id, off, _ = self.fixture(s, credit=10)
        s.start("--usage-flush-ms", "200", *PER_CALL)
        self.addCleanup(s.kill)
        m = self.metered_twin(s, "--usage-flush-ms", "200", *PER_CALL)
        unk = unknown_key()
        uses = 0        # answers OK for ok: each is one use, to be counted in the end
        debits = 0      # metered answers OK: each took one credit
        self.assertVerdicts(s, ok, "OK", "before")
        uses += 2
        time.sleep(0.5)
        filler = self.fill(mnt)
        try:
            # Reads keep working.
            for _ in range(2):
                self.assertVerdicts(s, ok, "OK", "full disk: active key")
                uses += 2
                self.assertVerdicts(s, off, "DISABLED", "full disk: deactivated key")
                self.assertVerdicts(s, unk, "INVALID", "full disk: unknown key")
            self.assertEqual(s.cli("key", "list").returncode, 0)
            # Writes fail with a clear error, and nothing half-made is left.
            for _ in range(3):
                self.assertCliFails(s.cli("key", "create", "acct", check=False),
                                    r"(?i)full|no space", "key create on a full disk")
            self.assertCliFails(s.cli("key", "deactivate", ok_id, check=False),
                                r"(?i)full|no space", "key deactivate on a full disk")
            # A metered call is OK only when its debit is written (checked below).
            for _ in range(2):
                r = self.assertVerdicts(m, ok, {"OK", "UNAVAILABLE"}, "full disk: metered")
                if r["rest"] == "OK":
                    debits += 2
                    uses += 2
            v = s.curl("GET", "/rest/verify", headers=["X-API-Key: " + ok])
            self.assertIn(v.status, (200, 503), v)
            if v.status == 200:
                debits += 1
                uses += 1
            else:
                self.assertEqual(v.json().get("code"), "UNAVAILABLE", v)
            time.sleep(0.6)     # usage flushes fail meanwhile: the counts must wait, not vanish
        finally:
            os.unlink(filler)
        self.assertEqual(s.key_row(ok_id)["STATUS"], "active")
        self.assertEqual(s.account_credit("acct"), 10 - debits)
        # Space again: the changes go through, and the uses noted meanwhile reach the store.
        new = s.key_create("acct")
        self.assertVerdicts(s, new, "OK", "created after space came back")
        self.assertVerdicts(s, ok, "OK", "after space came back")
        uses += 2
        count = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            count = int(s.key_show(ok_id)["use_count"])
            if count >= uses:
                break
            time.sleep(0.2)
        self.assertEqual(count, uses, "uses noted while the disk was full were lost")
        s.stop()
        m.stop()
        self.assertEqual(integrity(s.db), [("ok",)])


# ---- 2. kill -9 in the middle of a burst --------------------------------------------------
class Ledger:
    """What the test was told about each key: the last acknowledged state and whether a change
    was in flight (sent, no answer) after it."""

    def __init__(self):
        self.mu = threading.Lock()
        self.keys = {}          # id -> {"key", "state", "pending", "by"}

    def created(self, key_id, key, by):
        with self.mu:
            self.keys[int(key_id)] = {"key": key, "state": "active", "pending": None, "by": by}

    def acked(self, key_id, state):
        with self.mu:
            self.keys[int(key_id)]["state"] = state

    def in_flight(self, key_id, state):
        with self.mu:
            self.keys[int(key_id)]["pending"] = state


class CrashTest(StoreCases, unittest.TestCase):
    ROUNDS = 10
    BURST_MIN, BURST_MAX = 0.3, 1.0     # seconds of burst before the kill
    API_THREADS = 2
    CLI_THREADS = 1

    def test_kill9_mid_burst_keeps_every_acknowledged_change(self):
        s = Server("du-crash")
        s.account_create("ops")
        admin = s.cli("key", "create", "ops", "--scopes", "keys:admin credit:read",
                      "--platform").stdout.splitlines()[0]
        steady, _sid, off, _oid = self.fixture(s, credit=10)
        s.start(global_opts=MAXK)
        self.addCleanup(s.kill)
        t_end = time.monotonic() + 75
        self.cli_killed = 0
        for rnd in range(self.ROUNDS):
            self.assertLess(time.monotonic(), t_end, "out of time at round %d" % rnd)
            with self.subTest(round=rnd):
                try:
                    self.one_round(s, rnd, admin, steady, off)
                finally:
                    if s.proc is None:      # a failed round: the next one needs a server
                        s.start(global_opts=MAXK)
        # The CLI loops without a pause, so a kill nearly always finds one mid-change.
        self.assertGreater(self.cli_killed, 0, "no CLI was ever killed in the middle")

    def one_round(self, s, rnd, admin, steady, off):
        rng = random.Random(9000 + rnd)
        acct = "burst%d" % rnd
        s.account_create(acct)
        ledger = Ledger()
        stop = threading.Event()
        errors = []
        wrong = []
        cli_procs = {}          # thread name -> Popen in flight
        cli_mu = threading.Lock()
        counts = {"api": 0, "cli": 0, "reads": 0, "cli_killed": 0}
        port = s.port

        def api_worker(n):
            mine = []
            r = random.Random(rng.random())
            try:
                conn = RawConn(port, timeout=5)
            except OSError:
                return
            try:
                while not stop.is_set():
                    if len(mine) < 3 or r.random() < 0.4:
                        try:
                            st, _h, body = conn.request(
                                "POST", "/admin/v1/accounts/%s/keys" % acct,
                                ["X-API-Key: " + admin, "Content-Type: application/json"],
                                json.dumps({"name": "api%d-%d" % (n, len(mine))}))
                        except OSError:
                            return
                        if st == 201:
                            made = json.loads(body)
                            ledger.created(made["id"], made["key"], "api")
                            mine.append(made["id"])
                            counts["api"] += 1
                        continue
                    kid = r.choice(mine)
                    cur = ledger.keys[kid]["state"]
                    target = "inactive" if cur == "active" else "active"
                    verb = "deactivate" if target == "inactive" else "reactivate"
                    ledger.in_flight(kid, target)
                    try:
                        st, _h, body = conn.request(
                            "POST", "/admin/v1/keys/%d/%s" % (kid, verb),
                            ["X-API-Key: " + admin])
                    except OSError:
                        return          # the kill: the change stays in flight
                    ledger.in_flight(kid, None)
                    if st == 200:
                        ledger.acked(kid, target)
                        counts["api"] += 1
                    # any other answer is a refusal: the state stays as it was
            except Exception as e:      # noqa: BLE001 - reported by the test
                errors.append(("api", repr(e)))
            finally:
                conn.close()

        def cli_run(name, args):
            cmd = [TSKEY_BIN, "--db", s.db] + list(MAXK) + args
            with cli_mu:
                if stop.is_set():
                    return None
                p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                cli_procs[name] = p
            try:
                out, err = p.communicate(timeout=15)
            finally:
                with cli_mu:
                    cli_procs.pop(name, None)
            return p.returncode, out, err

        def cli_worker(n):
            name = "cli%d" % n
            mine = []
            r = random.Random(rng.random())
            try:
                while not stop.is_set():
                    if len(mine) < 3 or r.random() < 0.4:
                        res = cli_run(name, ["key", "create", acct, "--name",
                                             "cli%d-%d" % (n, len(mine))])
                        if res is None:
                            return
                        rc, out, err = res
                        if rc == 0:
                            m = re.search(r"created key (\d+)", err)
                            ledger.created(m.group(1), out.strip(), "cli")
                            mine.append(int(m.group(1)))
                            counts["cli"] += 1
                        continue
                    kid = r.choice(mine)
                    cur = ledger.keys[kid]["state"]
                    target = "inactive" if cur == "active" else "active"
                    verb = "deactivate" if target == "inactive" else "reactivate"
                    ledger.in_flight(kid, target)
                    res = cli_run(name, ["key", verb, str(kid)])
                    if res is None:
                        ledger.in_flight(kid, None)
                        return
                    rc, _out, _err = res
                    if rc < 0:
                        return          # killed: in flight
                    ledger.in_flight(kid, None)
                    if rc == 0:
                        ledger.acked(kid, target)
                        counts["cli"] += 1
            except Exception as e:      # noqa: BLE001
                errors.append(("cli", repr(e)))

        def reader():
            conn = None
            try:
                while not stop.is_set():
                    for key, want in ((steady, "OK"), (off, "DISABLED")):
                        try:
                            if conn is None:
                                conn = RawConn(port, timeout=5)
                            v = raw_rest_verdict(conn, key)
                        except OSError:
                            # the kill, or the end of a keep-alive connection's max requests
                            if conn is not None:
                                conn.close()
                            conn = None
                            if stop.is_set():
                                return
                            time.sleep(0.01)
                            continue
                        counts["reads"] += 1
                        if conn.closing:
                            conn.close()
                            conn = None
                        if v != want:
                            wrong.append((want, v))
            except Exception as e:      # noqa: BLE001
                errors.append(("reader", repr(e)))
            finally:
                if conn is not None:
                    conn.close()

        threads = ([threading.Thread(target=api_worker, args=(i,), daemon=True)
                    for i in range(self.API_THREADS)]
                   + [threading.Thread(target=cli_worker, args=(i,), daemon=True)
                      for i in range(self.CLI_THREADS)]
                   + [threading.Thread(target=reader, daemon=True)])
        for t in threads:
            t.start()
        time.sleep(rng.uniform(self.BURST_MIN, self.BURST_MAX))
        # kill -9: the server, and any CLI caught in the middle of its change.
        os.kill(s.proc.pid, signal.SIGKILL)
        with cli_mu:
            stop.set()
            for p in cli_procs.values():
                try:
                    p.kill()
                    counts["cli_killed"] += 1
                except OSError:
                    pass
        for t in threads:
            t.join(20)
        self.assertFalse([t for t in threads if t.is_alive()], "a burst thread hung")
        s.kill()
        self.assertEqual(errors, [])
        self.assertEqual(wrong, [], "wrong verdicts for the untouched keys during the burst")
        self.assertGreater(counts["api"] + counts["cli"], 0, "the burst changed nothing")
        self.cli_killed += counts["cli_killed"]
        s.start(global_opts=MAXK)
        self.assertEqual(integrity(s.db), [("ok",)])
        rows, _ = s.key_list(acct)
        listed = {int(r["ID"]): r["STATUS"] for r in rows}
        conn = s.raw()
        try:
            for kid, k in sorted(ledger.keys.items()):
                self.assertIn(kid, listed, "acknowledged key %d (%s) lost" % (kid, k["by"]))
                allowed = {k["state"]} | ({k["pending"]} if k["pending"] else set())
                self.assertIn(listed[kid], allowed, "key %d: %r" % (kid, k))
                want = "OK" if listed[kid] == "active" else "DISABLED"
                self.assertEqual(raw_rest_verdict(conn, k["key"]), want, "key %d: %r" % (kid, k))
            self.assertEqual(raw_rest_verdict(conn, steady), "OK")
            self.assertEqual(raw_rest_verdict(conn, off), "DISABLED")
        finally:
            conn.close()


# ---- 3. a CLI revocation under load -------------------------------------------------------
class RevocationUnderLoadTest(unittest.TestCase):
    THREADS = 4             # REST hammering threads (+1 on SOAP)
    BEFORE, AFTER = 0.4, 0.6
    REPEATS = 3

    def test_cli_deactivate_holds_for_every_later_request(self):
        s = Server("du-revoke")
        s.account_create("busy", credit=10)
        keys = [s.key_create_id("busy", name="k%d" % i) for i in range(self.REPEATS)]
        s.start()
        self.addCleanup(s.kill)
        for i, (key, kid) in enumerate(keys):
            with self.subTest(repeat=i):
                self.one(s, key, kid)

    def one(self, s, key, kid):
        stop = threading.Event()
        log = []                # (t_start, t_end, verdict, channel)
        mu = threading.Lock()
        errors = []

        def hammer(channel):
            ask = raw_rest_verdict if channel == "rest" else raw_soap_verdict
            conn = None
            reconnects = 0
            try:
                while not stop.is_set():
                    if conn is None:
                        conn = s.raw()
                    t0 = time.monotonic()
                    try:
                        v = ask(conn, key)
                    except ConnectionError:
                        # The server ends a keep-alive connection after its max requests: that
                        # request got no answer (it proves nothing); go on on a new one.
                        conn.close()
                        conn = None
                        reconnects += 1
                        if reconnects > 50:
                            raise
                        continue
                    t1 = time.monotonic()
                    with mu:
                        log.append((t0, t1, v, channel))
                    if conn.closing:
                        conn.close()
                        conn = None
            except Exception as e:      # noqa: BLE001
                errors.append(repr(e))
            finally:
                if conn is not None:
                    conn.close()
        ts = ([threading.Thread(target=hammer, args=("rest",), daemon=True)
               for _ in range(self.THREADS)]
              + [threading.Thread(target=hammer, args=("soap",), daemon=True)])
        for t in ts:
            t.start()
        try:
            time.sleep(self.BEFORE)
            c0 = time.monotonic()
            s.key_deactivate(kid)
            c1 = time.monotonic()
            time.sleep(self.AFTER)
        finally:
            stop.set()
            for t in ts:
                t.join(15)
        self.assertEqual(errors, [])
        self.assertFalse([t for t in ts if t.is_alive()], "a load thread hung")
        before = [e for e in log if e[1] < c0]
        after = [e for e in log if e[0] > c1]
        self.assertGreater(len(before), 20, "too little load before the revocation")
        self.assertGreater(len(after), 20, "too little load after the revocation")
        self.assertGreater(len([e for e in after if e[3] == "soap"]), 3)
        self.assertEqual({e[2] for e in before}, {"OK"})
        late = [(round(e[0] - c1, 4), e[2], e[3]) for e in after if e[2] != "DISABLED"]
        self.assertEqual(late, [], "requests started after `key deactivate` returned and were "
                         "not refused DISABLED")
        self.assertTrue({e[2] for e in log} <= {"OK", "DISABLED"}, {e[2] for e in log})


# ---- 4. SIGTERM flushes the batched usage --------------------------------------------------
class ShutdownFlushTest(StoreCases, unittest.TestCase):
    N_REST = 7
    N_SOAP = 5
    N_KEEPALIVE = 4
    N_SESSION = 3

    def test_sigterm_flushes_batched_usage_and_keeps_lifecycle(self):
        s = Server("du-flush")
        s.account_create("acct", credit=50)
        s.account_create("ops")
        admin = s.cli("key", "create", "ops", "--scopes", "keys:admin",
                      "--platform").stdout.splitlines()[0]
        k_rest, rest_id = s.key_create_id("acct", name="rest")
        k_soap, soap_id = s.key_create_id("acct", name="soap")
        _k_idle, idle_id = s.key_create_id("acct", name="idle")
        k_life, life_id = s.key_create_id("acct", name="life")
        k_api2, api2_id = s.key_create_id("acct", name="api2")
        k_re, re_id = s.key_create_id("acct", name="re")
        s.key_deactivate(re_id)
        s.user_create("acct", "legacy", "legacy password 1")
        s.start("--usage-flush-ms", "3600000")
        self.addCleanup(s.kill)
        t_first = time.time()
        for _ in range(self.N_REST):
            self.assertEqual(s.credit(k_rest).status, 200)
        for _ in range(self.N_SOAP):
            self.assertEqual(soap_credit(s, k_soap)[1].credit, 50)
        for _ in range(2):
            self.assertEqual(s.credit(k_soap).status, 200)
        _lresp, lres = s.soap_login("legacy", "legacy password 1")
        session = lres.login["Key"]
        for _ in range(self.N_SESSION):
            self.assertEqual(soap_credit(s, session)[1].credit, 50)
        keep = s.raw()          # a keep-alive connection still open at SIGTERM
        self.addCleanup(keep.close)
        for _ in range(self.N_KEEPALIVE):
            self.assertEqual(raw_rest_verdict(keep, k_rest), "OK")
        # Lifecycle changes while it runs, from the CLI and the admin API.
        s.key_deactivate(life_id)
        made = s.rest("POST", "/admin/v1/accounts/acct/keys", key=admin,
                      headers=["Content-Type: application/json"], body=json.dumps({"name": "new"}))
        self.assertEqual(made.status, 201, made)
        k_new, new_id = made.json()["key"], made.json()["id"]
        r = s.rest("POST", "/admin/v1/keys/%s/deactivate" % api2_id, key=admin)
        self.assertEqual(r.status, 200, r)
        r = s.rest("POST", "/admin/v1/keys/%s/reactivate" % re_id, key=admin)
        self.assertEqual(r.status, 200, r)
        # Batched for an hour: nothing is written yet (else this test would prove nothing).
        time.sleep(1.2)
        shown = s.key_show(rest_id)
        self.assertEqual((shown["use_count"], shown["last_used_at"]), ("0", "never"), shown)
        t_stop = time.time()
        s.stop()
        # After SIGTERM: the counters are in the store.
        rows = {r["ID"]: r for r in s.key_list("acct")[0]}
        for kid in (rest_id, soap_id):
            lu = rows[kid]["LAST_USED"]
            self.assertRegex(lu, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rows[kid])
            t = calendar.timegm(time.strptime(lu, "%Y-%m-%dT%H:%M:%SZ"))
            self.assertTrue(int(t_first) - 1 <= t <= t_stop + 1, (lu, t_first, t_stop))
        self.assertEqual(rows[idle_id]["LAST_USED"], "never")
        self.assertEqual(s.key_show(rest_id)["use_count"], str(self.N_REST + self.N_KEEPALIVE))
        self.assertEqual(s.key_show(soap_id)["use_count"], str(self.N_SOAP + 2))
        out = s.cli("report", "migration").stdout.splitlines()
        head = out[0].split("\t")
        report = [dict(zip(head, ln.split("\t"))) for ln in out[1:]]
        krow = [x for x in report if x["KIND"] == "key" and x["ID"] == soap_id]
        self.assertEqual(len(krow), 1, report)
        self.assertEqual((krow[0]["SOAP_KEY"], krow[0]["REST"]), (str(self.N_SOAP), "2"), krow)
        urow = [x for x in report if x["KIND"] == "user" and x["NAME"] == "legacy"]
        self.assertEqual(len(urow), 1, report)
        self.assertEqual((urow[0]["SOAP_SESSION"], urow[0]["LOGINS"]),
                         (str(self.N_SESSION), "1"), urow)
        self.assertNotIn(rest_id, [x["ID"] for x in report if x["KIND"] == "key"])
        # The lifecycle changes survived the restart, and the restart wrote no usage twice.
        self.assertEqual({i: rows[i]["STATUS"] for i in (life_id, api2_id, re_id, str(new_id))},
                         {life_id: "inactive", api2_id: "inactive", re_id: "active",
                          str(new_id): "active"})
        s.start("--usage-flush-ms", "3600000")
        s.stop()
        self.assertEqual(s.key_show(rest_id)["use_count"], str(self.N_REST + self.N_KEEPALIVE))
        s.start()
        for key, want in ((k_life, "DISABLED"), (k_api2, "DISABLED"), (k_re, "OK"),
                          (k_new, "OK"), (k_rest, "OK")):
            self.assertVerdicts(s, key, want, "after the restart")
        s.stop()
        self.assertEqual(integrity(s.db), [("ok",)])

    def test_sigterm_under_load_counts_every_answered_call(self):
        """SIGTERM while threads call: the server drains and exits 0, and the stored use count
        is at least every call that got its 200 and at most every call sent."""
        s = Server("du-flush-load")
        s.account_create("acct", credit=5)
        key, kid = s.key_create_id("acct")
        s.start("--usage-flush-ms", "3600000")
        self.addCleanup(s.kill)
        stop = threading.Event()
        tally = {"sent": 0, "ok": 0}
        mu = threading.Lock()
        bad = []

        def hammer():
            try:
                conn = s.raw(timeout=5)
            except OSError:
                return
            try:
                while not stop.is_set():
                    with mu:
                        tally["sent"] += 1
                    try:
                        v = raw_rest_verdict(conn, key)
                    except OSError:
                        return
                    if v == "OK":
                        with mu:
                            tally["ok"] += 1
                    else:
                        bad.append(v)
            finally:
                conn.close()
        ts = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
        for t in ts:
            t.start()
        time.sleep(0.5)
        s.stop()
        stop.set()
        for t in ts:
            t.join(15)
        self.assertFalse([t for t in ts if t.is_alive()])
        self.assertEqual(bad, [])
        count = int(s.key_show(kid)["use_count"])
        self.assertGreater(tally["ok"], 20)
        self.assertGreaterEqual(count, tally["ok"], tally)
        self.assertLessEqual(count, tally["sent"], tally)


if __name__ == "__main__":
    unittest.main()
