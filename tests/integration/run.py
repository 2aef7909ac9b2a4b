#!/usr/bin/python3
"""Run tskey's integration tests: every test_*.py beside this file (unittest-style classes).

    TSKEY_BIN=/path/to/tskey /usr/bin/python3 tests/integration/run.py [PATTERN ...]

PATTERNs (optional) select tests whose id (module.Class.test) contains one of them.
Prints one line per test, the details of failures, and ends with exactly one line
"N passed, N failed"; exits 1 when any test failed (or errored), else 0.
"""
import faulthandler
import glob
import os
import signal
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PER_TEST_TIMEOUT = 90       # seconds; a test that takes longer fails
SUITE_TIMEOUT = 900         # seconds; a last resort against a hang outside any test


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test exceeded %ds" % PER_TEST_TIMEOUT)


class Result(unittest.TestResult):
    def __init__(self, out):
        super().__init__()
        self.out = out
        self.passed = 0
        self.failed = 0
        self.details = []
        self._t0 = 0.0
        self._current = None

    def _line(self, verdict, test):
        name = test.id() if hasattr(test, "id") else str(test)
        if test is self._current:
            self.out.write("%-4s %s (%.2fs)\n" % (verdict, name, time.monotonic() - self._t0))
        else:   # a class or module fixture, not a test
            self.out.write("%-4s %s\n" % (verdict, name))
        self.out.flush()

    def startTest(self, test):
        super().startTest(test)
        self._current = test
        self._t0 = time.monotonic()
        signal.alarm(PER_TEST_TIMEOUT)

    def stopTest(self, test):
        signal.alarm(0)
        self._current = None
        super().stopTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line("ok", test)

    def _bad(self, test, err, kind):
        self.failed += 1
        self._line("FAIL", test)
        self.details.append((test, kind, "".join(traceback.format_exception(*err))))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, err, "failure")

    def addError(self, test, err):
        # Also receives setUpClass / tearDownClass errors (test is then an _ErrorHolder).
        super().addError(test, err)
        self._bad(test, err, "error")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.failed += 1
            self._line("FAIL", subtest)
            self.details.append((subtest, "subtest", "".join(traceback.format_exception(*err))))

    def addSkip(self, test, reason):
        # A skipped test proves nothing: count it as failed so it cannot hide.
        super().addSkip(test, reason)
        self.failed += 1
        self._line("SKIP", test)
        self.details.append((test, "skipped", reason))

    def addExpectedFailure(self, test, err):
        # A known bug, marked @expectedFailure: it still fails as written down. Shown as
        # "xfail" so that it is never mistaken for a fixed one; fixing it turns it into a FAIL
        # (unexpected success) until the marker goes.
        super().addExpectedFailure(test, err)
        self.passed += 1
        self.xfailed = getattr(self, "xfailed", 0) + 1
        self._line("xfail", test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed += 1
        self._line("FAIL", test)
        self.details.append((test, "unexpected success", ""))


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


def main(argv):
    faulthandler.dump_traceback_later(SUITE_TIMEOUT, exit=True)
    signal.signal(signal.SIGALRM, _alarm)
    patterns = argv[1:]
    out = sys.stdout
    bin_ = os.environ.get("TSKEY_BIN", "/work/main/tskey")
    out.write("tskey integration tests against %s\n" % bin_)
    result = Result(out)
    loader = unittest.TestLoader()
    t_start = time.monotonic()
    load_failed = 0
    everything = unittest.TestSuite()
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        modname = os.path.splitext(os.path.basename(path))[0]
        try:
            mod = __import__(modname)
        except Exception:
            load_failed += 1
            out.write("FAIL import %s\n%s" % (modname, traceback.format_exc()))
            continue
        suite = loader.loadTestsFromModule(mod)
        if patterns:
            suite = unittest.TestSuite(
                [t for t in _flatten(suite) if any(p in t.id() for p in patterns)])
        everything.addTest(suite)
    # One run, so that each class's setUpClass / tearDownClass runs exactly once.
    everything.run(result)
    for test, kind, text in result.details:
        out.write("\n==== %s: %s\n%s" % (kind.upper(), test, text))
    out.write("\n(%.1fs)\n" % (time.monotonic() - t_start))
    failed = result.failed + load_failed
    if getattr(result, "xfailed", 0):
        out.write("(%d of the passed are known bugs marked expectedFailure: see the xfail lines)\n"
                  % result.xfailed)
    out.write("%d passed, %d failed\n" % (result.passed, failed))
    out.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
