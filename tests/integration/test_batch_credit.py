"""serve --batch-credit: metered calls (/rest/verify) spend credit in memory, not with a store
write each; the balance every answer reports is net of the unwritten spending; the spending
reaches the store at each usage flush and at SIGTERM; credit added by the CLI meanwhile counts
at once; the last credit cannot be spent twice. And without the flag, nothing changes: each
verify is in the store when its answer arrives."""
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
        s.start("--batch-credit", *extra)
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


class SyncCreditTest(unittest.TestCase):
    def test_without_the_flag_each_verify_is_written_at_once(self):
        s = Server("bc-sync")
        s.account_create("acct", credit=5)
        key = s.key_create("acct")
        s.start(*NO_FLUSH)
        self.addCleanup(s.kill)
        for want in (4, 3):
            self.assertEqual(rest_verdict(s.rest("GET", "/rest/verify", key=key)), "OK")
            self.assertEqual(s.account_credit("acct"), want)
        s.stop()


if __name__ == "__main__":
    unittest.main()
