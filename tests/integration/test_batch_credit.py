"""Batched credit, the default (batch_credit = yes): metered calls (/rest/verify) spend credit in
memory, not with a store write each; the balance every answer reports is net of the unwritten
spending; the spending reaches the store at each usage flush and at SIGTERM; credit added by the
CLI meanwhile counts at once; the last credit cannot be spent twice; past
--batch-credit-max-unwritten a debit is written at once. Turned off (--no-batch-credit, the
environment, the file), each verify is in the store when its answer arrives. What happens when
the store stops taking writes is test_durability (LockedStoreTest, ReadOnlyStoreTest,
FullDiskTest)."""
import os
import threading
import time
import unittest

from harness import Server, rest_verdict

NO_FLUSH = ("--usage-flush-ms", "3600000")  # the flusher then writes only at SIGTERM


class BatchCreditTest(unittest.TestCase):
    def server(self, name, credit, *extra):
        s = Server(name)
        s.account_create("acct", credit=credit)
        key = s.key_create("acct")
        s.start(*extra)             # the default: no flag
        self.addCleanup(s.kill)
        return s, key

    def verify(self, s, key):
        return rest_verdict(s.rest("GET", "/rest/verify", key=key))

    def balance(self, s, key):
        r = s.credit(key)
        self.assertEqual(r.status, 200, r)
        return r.json()["Credit"]

    def test_spending_is_net_at_once_and_written_at_stop(self):
        s, key = self.server("bc-stop", 5, *NO_FLUSH)
        self.assertEqual([self.verify(s, key) for _ in range(3)], ["OK"] * 3)
        self.assertEqual(self.balance(s, key), 2)       # net of the unwritten spending
        self.assertEqual(s.account_credit("acct"), 5)   # no store write yet
        self.assertEqual([self.verify(s, key) for _ in range(3)], ["OK", "OK", "NO_CREDIT"])
        self.assertEqual(self.balance(s, key), 0)
        s.stop()
        self.assertEqual(s.account_credit("acct"), 0)   # SIGTERM flushed it

    def test_written_within_the_flush_interval(self):
        s, key = self.server("bc-flush", 10, "--usage-flush-ms", "200")
        self.assertEqual([self.verify(s, key) for _ in range(4)], ["OK"] * 4)
        deadline = time.monotonic() + 5
        while s.account_credit("acct") != 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(s.account_credit("acct"), 6, "the spending did not reach the store")
        self.assertEqual(self.balance(s, key), 6)       # not counted twice after the flush

    def test_credit_added_by_the_cli_counts_at_once(self):
        s, key = self.server("bc-cli", 1, *NO_FLUSH)
        self.assertEqual([self.verify(s, key) for _ in range(2)], ["OK", "NO_CREDIT"])
        s.credit_add("acct", 3)
        self.assertEqual([self.verify(s, key) for _ in range(4)], ["OK"] * 3 + ["NO_CREDIT"])
        s.stop()
        self.assertEqual(s.account_credit("acct"), 0)

    def test_last_credit_is_spent_once_under_concurrency(self):
        s, key = self.server("bc-race", 20, *NO_FLUSH)
        verdicts, lock = [], threading.Lock()

        def burst():
            for _ in range(10):
                v = self.verify(s, key)
                with lock:
                    verdicts.append(v)
        threads = [threading.Thread(target=burst, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(verdicts), 40)
        self.assertEqual(verdicts.count("OK"), 20, verdicts)
        self.assertEqual(verdicts.count("NO_CREDIT"), 20, verdicts)
        s.stop()
        self.assertEqual(s.account_credit("acct"), 0)


    def test_the_old_flag_still_says_yes(self):
        s, key = self.server("bc-flag", 5, "--batch-credit", *NO_FLUSH)
        self.assertEqual(self.verify(s, key), "OK")
        self.assertEqual(s.account_credit("acct"), 5)   # in memory
        s.stop()
        self.assertEqual(s.account_credit("acct"), 4)

    def test_past_the_unwritten_bound_each_debit_is_written(self):
        """--batch-credit-max-unwritten 3: three credits stay in memory, the next debits are
        store writes (the store then keeps the 3 out of reach), and the total is exact."""
        s, key = self.server("bc-bound", 6, "--batch-credit-max-unwritten", "3", *NO_FLUSH)
        self.assertEqual([self.verify(s, key) for _ in range(3)], ["OK"] * 3)
        self.assertEqual(s.account_credit("acct"), 6)   # all three in memory
        self.assertEqual(self.verify(s, key), "OK")
        self.assertEqual(s.account_credit("acct"), 5)   # over the bound: written at once
        self.assertEqual(self.verify(s, key), "OK")
        self.assertEqual(s.account_credit("acct"), 4)
        self.assertEqual(self.balance(s, key), 1)       # 4 stored, 3 of them spent in memory
        # 1 left as the server counts it: one more, then none (the store keeps the 3).
        self.assertEqual([self.verify(s, key) for _ in range(2)], ["OK", "NO_CREDIT"])
        s.stop()
        self.assertEqual(s.account_credit("acct"), 0)


class SyncCreditTest(unittest.TestCase):
    """batch_credit = no, each way it can be said: every debit is in the store at its answer."""

    def check_written_at_once(self, name, *extra, env=None, conf=None):
        s = Server(name)
        s.account_create("acct", credit=5)
        key = s.key_create("acct")
        global_opts = ()
        if conf is not None:
            path = os.path.join(s.dir, "tskey.conf")
            with open(path, "w") as f:
                f.write(conf)
            global_opts = ("--config", path)
        old = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            s.start(*(NO_FLUSH + extra), global_opts=global_opts)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.addCleanup(s.kill)
        for want in (4, 3):
            self.assertEqual(rest_verdict(s.rest("GET", "/rest/verify", key=key)), "OK")
            self.assertEqual(s.account_credit("acct"), want)
        s.stop()

    def test_flag(self):
        self.check_written_at_once("bc-sync", "--no-batch-credit")

    def test_environment(self):
        self.check_written_at_once("bc-sync-env", env={"TSKEY_BATCH_CREDIT": "no"})

    def test_file(self):
        self.check_written_at_once("bc-sync-file", conf="batch_credit = no\n")


if __name__ == "__main__":
    unittest.main()
