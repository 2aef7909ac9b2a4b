"""Operating tskey: `tskey backup` of the live database under load, and `make install` with the
man page and the systemd unit checked by man and systemd-analyze."""
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import threading
import time
import unittest

from harness import CLI_TIMEOUT, TSKEY_BIN, Server, make_temp_dir

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

LOAD_THREADS = 4
LOAD_MAX_REQUESTS = 400     # per thread
LOAD_MAX_SECONDS = 30
PAD_ROWS = 2000             # audit rows of 2 KB: about 1000 pages, 16 steps of 64 at least


class BackupTest(unittest.TestCase):
    def setUp(self):
        self.srv = Server("backup")
        self.srv.account_create("acme", credit=100000)
        self.key = self.srv.key_create("acme", name="load")
        # Some megabytes, so that the copy takes many steps while the load writes.
        db = sqlite3.connect(self.srv.db)
        try:
            with db:
                db.executemany("INSERT INTO audit (at, actor, action, detail) VALUES (?,?,?,?)",
                               [(i, "test", "pad", "x" * 2000) for i in range(PAD_ROWS)])
        finally:
            db.close()
        self.srv.start()
        self.stop = threading.Event()
        self.done = []
        self.threads = [threading.Thread(target=self.load, daemon=True)
                        for _ in range(LOAD_THREADS)]
        for t in self.threads:
            t.start()

    def tearDown(self):
        self.stop.set()
        for t in self.threads:
            t.join(LOAD_MAX_SECONDS + 10)
        if self.srv.proc is not None:
            self.srv.stop()

    def load(self):
        """Metered calls (each a credit debit, a write) until stopped: bounded in count and time."""
        deadline = time.time() + LOAD_MAX_SECONDS
        n = 0
        with self.srv.raw() as conn:
            while not self.stop.is_set() and n < LOAD_MAX_REQUESTS and time.time() < deadline:
                st, _, _ = conn.request("POST", "/rest/verify", ["X-API-Key: " + self.key])
                if st != 200:
                    break
                n += 1
        self.done.append(n)

    def backup(self, dest, check=True):
        return self.srv.cli("backup", dest, check=check, timeout=60, global_opts=("-v",))

    def test_backup_while_serving(self):
        s = self.srv
        created = [s.key_create_id("acme", name="k%d" % i)[1] for i in range(5)]
        # wait until the load is running, so the copy is made beside writers
        deadline = time.time() + 10
        while s.account_credit("acme") > 100000 - 20 and time.time() < deadline:
            time.sleep(0.05)
        dest = os.path.join(s.dir, "backup.db")
        cp = self.backup(dest)
        self.assertIn("integrity_check ok", cp.stderr)
        # small steps (-v logs how many), whether or not the writers made it start over
        steps = re.search(r"backup: (\d+) steps, (\d+) restarts by writers", cp.stderr)
        self.assertIsNotNone(steps, cp.stderr)
        self.assertGreater(int(steps.group(1)), 10)
        self.assertEqual(cp.stdout, "")
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o600)
        self.assertEqual([f for f in os.listdir(s.dir) if ".tmp-" in f], [])
        db = sqlite3.connect("file:%s?mode=ro" % dest, uri=True)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            ids = {str(r[0]) for r in db.execute("SELECT id FROM keys")}
            credit = db.execute("SELECT credit FROM accounts WHERE name = 'acme'").fetchone()[0]
            pads = db.execute("SELECT count(*) FROM audit WHERE action = 'pad'").fetchone()[0]
        finally:
            db.close()
        self.assertTrue(set(created) <= ids, (created, ids))
        self.assertLess(credit, 100000, "the load's debits before the copy are in it")
        self.assertEqual(pads, PAD_ROWS)
        pages = int(re.search(r"\((\d+) pages", cp.stderr).group(1))
        self.assertGreater(pages, 640, "more than ten steps")
        self.stop.set()
        for t in self.threads:
            t.join(LOAD_MAX_SECONDS + 10)
        self.assertTrue(all(n > 0 for n in self.done), self.done)
        # the copy serves: a key made before the backup works against it
        s.stop()
        copy = Server("restored")
        shutil.copy(dest, copy.db)
        key, _ = s.key_create_id("acme", name="after")   # in the original only
        copy.start()
        try:
            self.assertEqual(copy.rest("GET", "/rest/me", key=self.key).status, 200)
            self.assertEqual(copy.rest("GET", "/rest/me", key=key).status, 401)
        finally:
            copy.stop()

    def test_backup_replaces_and_refuses_the_database(self):
        s = self.srv
        dest = os.path.join(s.dir, "again.db")
        with open(dest, "w") as f:
            f.write("not a database")
        self.backup(dest)
        db = sqlite3.connect(dest)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            db.close()
        cp = self.backup(s.db, check=False)
        self.assertEqual(cp.returncode, 1, cp)
        self.assertIn("is the database itself", cp.stderr)
        cp = self.srv.cli("backup", check=False)
        self.assertEqual(cp.returncode, 2, cp)
        cp = self.backup(os.path.join(s.dir, "no-such-dir", "x.db"), check=False)
        self.assertEqual(cp.returncode, 1, cp)


class InstallTest(unittest.TestCase):
    """make install into a temp DESTDIR, then the files, the man page and the unit."""

    @classmethod
    def setUpClass(cls):
        cls.dest = make_temp_dir("tskey-it-install-")
        san = ["SANITIZE=1"] if "build-san" in TSKEY_BIN else []
        cls.make = subprocess.run(["make", "-C", ROOT, "install", "DESTDIR=" + cls.dest,
                                   "PREFIX=/usr"] + san, capture_output=True, text=True,
                                  timeout=600)

    def path(self, rel):
        return os.path.join(self.dest, rel.lstrip("/"))

    def test_installed_files(self):
        self.assertEqual(self.make.returncode, 0, self.make.stderr)
        found = sorted(os.path.relpath(os.path.join(d, f), self.dest)
                       for d, _, fs in os.walk(self.dest) for f in fs)
        self.assertEqual(found, ["etc/tskey/tskey.conf", "usr/bin/tskey",
                                 "usr/lib/systemd/system/tskey.service",
                                 "usr/share/doc/tskey/tskey.conf.sample",
                                 "usr/share/man/man1/tskey.1"])
        self.assertTrue(os.access(self.path("/usr/bin/tskey"), os.X_OK))
        unit = open(self.path("/usr/lib/systemd/system/tskey.service")).read()
        self.assertIn("ExecStart=/usr/bin/tskey --config /etc/tskey/tskey.conf "
                      "--db /var/lib/tskey/tskey.db serve", unit)
        # the installed configuration is a good file, and holds only defaults
        conf = self.path("/etc/tskey/tskey.conf")
        cp = subprocess.run([self.path("/usr/bin/tskey"), "config", "check", conf],
                            capture_output=True, text=True, timeout=CLI_TIMEOUT)
        self.assertEqual(cp.returncode, 0, cp)
        # a second install keeps an edited configuration
        with open(conf, "a") as f:
            f.write("max_conns = 64\n")
        cp = subprocess.run(["make", "-C", ROOT, "install", "DESTDIR=" + self.dest,
                             "PREFIX=/usr"] + (["SANITIZE=1"] if "build-san" in TSKEY_BIN
                                               else []),
                            capture_output=True, text=True, timeout=600)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("max_conns = 64", open(conf).read())

    def test_man_page_renders_without_warnings(self):
        self.assertEqual(self.make.returncode, 0, self.make.stderr)
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
        cp = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l",
                             self.path("/usr/share/man/man1/tskey.1")],
                            capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(cp.returncode, 0, cp)
        self.assertEqual(cp.stderr, "")
        for section in ("NAME", "SYNOPSIS", "COMMANDS", "CONFIGURATION", "SETTINGS",
                        "SIGNALS", "FILES", "ENVIRONMENT", "EXIT STATUS"):
            self.assertRegex(cp.stdout, r"(?m)^%s$" % section)
        self.assertIn("TSKEY_MAX_CONNS_PER_CLIENT", cp.stdout)

    def unit_copy(self):
        """The installed unit with ExecStart pointing at the DESTDIR binary (verify checks that
        the program exists)."""
        unit = open(self.path("/usr/lib/systemd/system/tskey.service")).read()
        unit = unit.replace("ExecStart=/usr/bin/tskey", "ExecStart=" + self.path("/usr/bin/tskey"))
        d = make_temp_dir("tskey-it-unit-")
        p = os.path.join(d, "tskey.service")
        with open(p, "w") as f:
            f.write(unit)
        return p

    def test_systemd_analyze_verify(self):
        self.assertEqual(self.make.returncode, 0, self.make.stderr)
        p = self.unit_copy()
        # MANPATH: Documentation=man:tskey(1) must resolve to the installed page
        env = dict(os.environ, MANPATH=self.path("/usr/share/man"))
        cp = subprocess.run(["systemd-analyze", "verify", p], capture_output=True, text=True,
                            timeout=60, env=env)
        self.assertEqual(cp.returncode, 0, cp)
        # verify only warns (exit 0) about unknown keys: any output is a failure here
        self.assertEqual((cp.stdout, cp.stderr), ("", ""))
        unit = open(p).read()
        for line in ("DynamicUser=yes", "StateDirectory=tskey", "ProtectSystem=strict",
                     "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                     "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service",
                     "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                     "ExecReload=/bin/kill -HUP $MAINPID"):
            self.assertIn(line, unit)

    def test_systemd_analyze_security(self):
        self.assertEqual(self.make.returncode, 0, self.make.stderr)
        cp = subprocess.run(["systemd-analyze", "security", "--offline=yes", self.unit_copy()],
                            capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for tskey\.service: ([0-9.]+)", cp.stdout)
        self.assertIsNotNone(m, cp)
        self.assertLessEqual(float(m.group(1)), 2.0, cp.stdout[-3000:])


if __name__ == "__main__":
    unittest.main()
