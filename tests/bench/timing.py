#!/usr/bin/python3
"""Timing side channels, measured (never asserted: the machine is shared and noisy).

Starts the real server (127.0.0.1, random port, temp database) and, on one keep-alive
connection each, interleaves requests of several kinds so that drift hits every kind alike:

  keys   GET /rest/verify with a valid key; unknown keys with a valid checksum, random or sharing
         20 or all 22 body characters but one with the valid key; a flipped checksum; garbage.
         Keys are looked up by the SHA-256 of the whole key, so a shared prefix should change
         nothing: the three unknown kinds should cost the same.
  login  POST /rest/login with a wrong password for a user that exists, and for one that does
         not (the server spends a scrypt on an unknown user too). Throttling is set out of reach.

Prints a markdown table (median and p90 in microseconds, and each median's ratio to the first
row of its group). Usage: timing.py [--bin ./tskey] [--rounds N] [--logins N] [--out FILE]
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_RE = re.compile(r"tsk_live_[0-9A-Za-z]{28}")


def with_sum(summed):
    """A tsk_ key: the 31 summed characters and their CRC-32 in 6 big-endian base62 digits."""
    v = zlib.crc32(summed.encode()) & 0xFFFFFFFF
    digits = ""
    for _ in range(6):
        digits = B62[v % 62] + digits
        v //= 62
    return summed + digits


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True, **kw)


def start(binary, db, tmp):
    log = open(os.path.join(tmp, "server.log"), "wb")
    p = subprocess.Popen([binary, "--db", db, "-q", "serve", "--listen", "127.0.0.1:0",
                          "--no-demo", "--login-max-failures", "1000"],
                         stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line or "")
        if m:
            return p, int(m.group(1))
    p.kill()
    raise SystemExit("the server did not start")


def timed(conn, method, path, headers, body=None):
    t0 = time.perf_counter_ns()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    return (time.perf_counter_ns() - t0) / 1000.0, r.status


def measure(port, kinds, rounds):
    """kinds: [(name, method, path, headers, body, want_status)]; interleaved, shuffled."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = {k[0]: [] for k in kinds}
    for _ in range(rounds):
        order = list(kinds)
        random.shuffle(order)
        for name, method, path, headers, body, want in order:
            us, status = timed(conn, method, path, headers, body)
            if status != want:
                raise SystemExit("%s: HTTP %d, wanted %d" % (name, status, want))
            out[name].append(us)
    conn.close()
    return out


def table(title, samples):
    names = list(samples)
    base = statistics.median(samples[names[0]])
    rows = ["| %s | n | median µs | p90 µs | median / first row |" % title,
            "|---|---|---|---|---|"]
    for n in names:
        xs = sorted(samples[n])
        rows.append("| %s | %d | %.0f | %.0f | %.2f |" % (
            n, len(xs), statistics.median(xs), xs[int(len(xs) * 0.9) - 1],
            statistics.median(xs) / base))
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="./tskey")
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--logins", type=int, default=60)
    ap.add_argument("--out")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tskey-timing-")
    db = os.path.join(tmp, "t.db")
    try:
        run([a.bin, "--db", db, "account", "create", "acme", "--credit", "100000000"])
        key = KEY_RE.search(run([a.bin, "--db", db, "key", "create", "acme"]).stdout).group(0)
        run([a.bin, "--db", db, "user", "create", "acme", "bob", "--password-stdin"],
            input="the right one\n")
        head, body = key[:9], key[9:31]
        rnd = "".join(random.choice(B62) for _ in range(22))
        other = B62[(B62.index(body[-1]) + 1) % 62]
        unknown = {
            "unknown key, random body": with_sum(head + rnd),
            "unknown key, first 20 of 22 body chars shared": with_sum(head + body[:20] + rnd[20:]),
            "unknown key, 21 of 22 body chars shared": with_sum(head + body[:21] + other),
        }
        flipped = key[:-1] + B62[(B62.index(key[-1]) + 1) % 62]
        kinds = [("valid key", "GET", "/rest/verify", {"X-API-Key": key}, None, 200)]
        kinds += [(n, "GET", "/rest/verify", {"X-API-Key": k}, None, 401)
                  for n, k in unknown.items()]
        kinds += [("flipped checksum", "GET", "/rest/verify", {"X-API-Key": flipped}, None, 401),
                  ("garbage", "GET", "/rest/verify", {"X-API-Key": "not-a-key-at-all"}, None, 401)]
        logins = [(n, "POST", "/rest/login", {"Content-Type": "application/json"},
                   json.dumps({"UserName": u, "Password": "wrong"}), 401)
                  for n, u in (("Login, user exists, wrong password", "bob"),
                               ("Login, no such user", "nobody-here"))]
        proc, port = start(a.bin, db, tmp)
        try:
            ks = measure(port, kinds, a.rounds)
            ls = measure(port, logins, a.logins)
        finally:
            proc.terminate()
            proc.wait(15)
        report = ("Timing side channels (`%s`, %d rounds of keys, %d of Logins, interleaved; "
                  "one keep-alive connection; client time, Python's http.client included)\n\n%s"
                  "\n\n%s\n" % (" ".join(sys.argv), a.rounds, a.logins, table("key", ks),
                                table("Login", ls)))
        print(report)
        if a.out:
            with open(a.out, "w") as f:
                f.write(report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
