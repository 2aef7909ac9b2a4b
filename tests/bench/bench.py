#!/usr/bin/python3
"""tskey's benchmark: the live server under wrk on loopback, against an nginx ceiling.

    TSKEY_BIN=./tskey SEED_BIN=build/bench/seed /usr/bin/python3 tests/bench/bench.py

(`make bench` runs it.) For each store size in BENCH_KEYS it seeds a temp database with the
store's own code (tests/bench/seed.c), starts tskey on 127.0.0.1 (random port) and measures its
start-up time, then for each connection count in BENCH_CONNS runs every scenario with wrk
(keep-alive, BENCH_THREADS threads, BENCH_SECONDS each) and nginx's fixed 200 with the same
requests, in the same run, so that each figure has a ceiling measured next to it. Reports
requests/s, p50 and p99 latency, the ratio to nginx, non-2xx answers and wrk's socket errors and
timeouts (a request that got no answer is a failure, never a faster run), the server's peak RSS
(VmHWM) after the key checks at each connection count and after the Login scenario (scrypt,
run last), and start-up time. A row whose name carries a flag runs against a second server on
the same database started with that flag, for comparison with the default in the same run:
"--no-batch-credit" (a store write per metered call; the default spends credit in memory and
writes it with the usage flush), "--thread-per-conn" (a thread for each connection; the default
serves them from an event loop).

Prints the table and writes it to BENCH_OUT (default tests/bench/RESULTS.md). Never fails on a
timing: exits 1 only when something is broken (a server did not start, a check request got the
wrong answer, or a scenario got no answer at all).

Environment: BENCH_SECONDS (4), BENCH_KEYS ("1000 1000000"), BENCH_CONNS ("64 1000"),
BENCH_THREADS (2), BENCH_HOT (1000: distinct valid keys the load cycles through),
BENCH_SCENARIOS (all; names from SCENARIOS below), BENCH_OUT.
Credentials live only in a private temp directory (0700) that is deleted at the end.
"""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "scenario.lua")

SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
KEYS = [int(x) for x in os.environ.get("BENCH_KEYS", "1000 1000000").split()]
CONNS = [int(x) for x in os.environ.get("BENCH_CONNS", "64 1000").split()]
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
HOT = int(os.environ.get("BENCH_HOT", "1000"))
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "RESULTS.md"))
TSKEY = os.environ.get("TSKEY_BIN", "./tskey")
SEED = os.environ.get("SEED_BIN", "build/bench/seed")
PASSWORD = "bench-pw-" + os.urandom(8).hex()

# name -> (lua mode, credential file, bad file, bad every, expected status, ceiling kind, server)
# server "default" is `serve` as shipped; the others are started on the same database with the
# flags in VARIANTS, for comparison in the same run.
VARIANTS = {"percall": ("--no-batch-credit",), "threads": ("--thread-per-conn",)}
SCENARIOS = [
    ("rest-verify", "verify", "hot", None, 0, 200, "rest", "default"),
    ("rest-verify --no-batch-credit", "verify", "hot", None, 0, 200, "rest", "percall"),
    ("rest-credit", "credit", "hot", None, 0, 200, "rest", "default"),
    ("rest-credit --thread-per-conn", "credit", "hot", None, 0, 200, "rest", "threads"),
    ("soap-credit", "soap-credit", "hot", None, 0, 200, "soap", "default"),
    ("soap-credit --thread-per-conn", "soap-credit", "hot", None, 0, 200, "soap", "threads"),
    ("rest-garbage", "verify", "garbage", None, 0, 401, "rest", "default"),
    ("rest-revoked", "verify", "revoked", None, 0, 403, "rest", "default"),
    ("rest-mix-90-10", "verify", "hot", "unknown", 10, 200, "rest", "default"),
    ("soap-login", "soap-login", "login", None, 0, 200, "soap", "default"),  # scrypt: run last
]
CEILINGS = {"rest": ("verify", "hot"), "soap": ("soap-credit", "hot")}
WANT = os.environ.get("BENCH_SCENARIOS", "").split()
if WANT:
    SCENARIOS = [s for s in SCENARIOS if s[0].split()[0] in WANT or s[0] in WANT]


class Broken(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, deadline, proc=None):
    """Until an HTTP answer comes from 127.0.0.1:port (any status) or the deadline passes."""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/rest/verify")
            c.getresponse().read()
            c.close()
            return True
        except OSError:
            time.sleep(0.005)
    return False


def nginx_start(tmp):
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off;
worker_processes auto;
pid %(t)s/nginx.pid;
error_log %(t)s/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(t)s/body; proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fcgi; uwsgi_temp_path %(t)s/uwsgi; scgi_temp_path %(t)s/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:%(p)d;
        location / {
            default_type application/json;
            return 200 '{"Credit":1000,"Errors":[],"Status":0}';
        }
    }
}
""" % {"t": tmp, "p": port})
    proc = subprocess.Popen(["nginx", "-p", tmp, "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "nginx-stderr.log"), "w"))
    if not wait_http(port, time.monotonic() + 10, proc):
        stop(proc)
        raise Broken("nginx did not start (see its log)")
    return proc, port


def stop(proc, sig=signal.SIGTERM):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def seed(tmp, nkeys):
    db = os.path.join(tmp, "bench-%d.db" % nkeys)
    files = {k: os.path.join(tmp, k) for k in ("hot", "revoked", "unknown", "garbage", "login")}
    t0 = time.monotonic()
    out = subprocess.run([SEED, db, str(nkeys), str(min(HOT, nkeys)), files["hot"],
                          files["revoked"], files["unknown"], PASSWORD],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise Broken("seeding failed: " + out.stderr.strip())
    # Garbage: tsk_-shaped with a checksum that cannot match, and plain junk.
    with open(files["garbage"], "w") as f:
        f.write("tsk_live_" + "x" * 28 + "\n")
        f.write("tsk_live_AAAAAAAAAAAAAAAAAAAAAA000000\n")
    with open(files["login"], "w") as f:
        f.write("bench:%s\n" % PASSWORD)
    return db, files, time.monotonic() - t0


def proc_status(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])     # kB
    except OSError:
        pass
    return 0


def tskey_start(tmp, db, nkeys, extra=()):
    log = open(os.path.join(tmp, "tskey-%d%s.log" % (nkeys, "".join(extra))), "w")
    t0 = time.monotonic()
    proc = subprocess.Popen([TSKEY, "--db", db, "serve", "--listen", "127.0.0.1:0", "--no-demo",
                             "--max-conns", "4096", "--max-conns-per-client", "4096"]
                            + list(extra), stdout=subprocess.PIPE, stderr=log, text=True)
    port = None
    deadline = t0 + 120
    while port is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
    if port is None or not wait_http(port, deadline, proc):
        stop(proc)
        raise Broken("tskey did not start (see %s)" % log.name)
    return proc, port, time.monotonic() - t0


def check(port, files):
    """One request per scenario before the load: a wrong answer means the bench is broken."""
    def first(name):
        with open(files[name]) as f:
            return f.readline().strip()
    ns = "http://TrackService.TrackRoad.com/"
    soap = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
            '<SessionIDHeader xmlns="%s"><SessionID>%s</SessionID></SessionIDHeader></soap:Header>'
            '<soap:Body><CreditRemaining xmlns="%s"/></soap:Body></soap:Envelope>')
    cases = [("GET", "/rest/verify", {"X-API-Key": first("hot")}, None, 200),
             ("POST", "/rest/credit", {"X-API-Key": first("hot")}, "", 200),
             ("GET", "/rest/verify", {"X-API-Key": first("garbage")}, None, 401),
             ("GET", "/rest/verify", {"X-API-Key": first("revoked")}, None, 403),
             ("GET", "/rest/verify", {"X-API-Key": first("unknown")}, None, 401),
             ("POST", "/TrackService.asmx", {"Content-Type": "text/xml; charset=utf-8",
                                             "SOAPAction": '"%sCreditRemaining"' % ns},
              soap % (ns, first("hot"), ns), 200)]
    for method, path, hdrs, body, want in cases:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != want:
            raise Broken("check %s %s: status %d, want %d" % (method, path, r.status, want))


def wrk(port, conns, mode, files, cred, bad, every):
    args = ["wrk", "-t%d" % THREADS, "-c%d" % conns, "-d%ds" % SECONDS, "--timeout", "2s",
            "-s", LUA, "http://127.0.0.1:%d" % port, "--", mode, files[cred]]
    if bad:
        args += [files[bad], str(every)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=SECONDS + 60)
    m = re.search(r"^BENCH (.*)$", out.stdout, re.M)
    if m is None:
        raise Broken("wrk gave no result: %s %s" % (out.stdout[-500:], out.stderr[-500:]))
    r = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
    r["sockerr"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


def fmt_row(nkeys, conns, name, r, ceiling, want):
    ratio = r["rps"] / ceiling["rps"] if ceiling and ceiling["rps"] else 0.0
    non2xx = r["status"]
    note = ""
    if want != 200 and non2xx == r["requests"]:
        note = "all %d as expected" % want
    elif want != 200:
        note = "expected %d" % want
    return ("| %s | %d | %s | %.0f | %.2f | %.2f | %s | %d | %d/%d/%d/%d | %s |" % (
        "{:,}".format(nkeys), conns, name, r["rps"], r["p50_us"] / 1000, r["p99_us"] / 1000,
        "%.2f" % ratio if ceiling else "1.00", non2xx, r["connect"], r["read"], r["write"],
        r["timeout"], note))


HEADER = ("| keys | conns | scenario | req/s | p50 ms | p99 ms | x nginx | non-2xx | "
          "sock err c/r/w/timeout | note |\n"
          "|---:|---:|---|---:|---:|---:|---:|---:|---|---|")


def main():
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print("bench: %s is missing (make bench installs it)" % tool, file=sys.stderr)
            return 1
    tmp = tempfile.mkdtemp(prefix="tskey-bench-")
    os.chmod(tmp, 0o700)
    rows, notes, broken = [], [], None
    nginx = tskey = None
    others = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = os.getloadavg()[0]
    try:
        nginx, nport = nginx_start(tmp)
        for nkeys in KEYS:
            db, files, seed_s = seed(tmp, nkeys)
            tskey, port, start_s = tskey_start(tmp, db, nkeys)
            check(port, files)
            notes.append("%s keys: seeded in %.1f s; start-up (exec to first HTTP answer) "
                         "%.0f ms; database %.0f MiB" % ("{:,}".format(nkeys), seed_s,
                                                         start_s * 1000,
                                                         os.path.getsize(db) / 2**20))
            servers = {"default": (tskey, port)}
            for variant, flags in VARIANTS.items():
                if any(sc[7] == variant for sc in SCENARIOS):
                    vproc, vport, _ = tskey_start(tmp, db, nkeys, flags)
                    others.append(vproc)
                    servers[variant] = (vproc, vport)
            ceil = {}
            # Login (scrypt, 16 MiB a call) last, after every other scenario at every count,
            # so that the peak RSS figures before it are the key checks' own.
            for phase in ("checks", "login"):
                for conns in CONNS:
                    if phase == "checks":
                        ceil[conns] = {}
                        for kind, (mode, cred) in CEILINGS.items():
                            c = wrk(nport, conns, mode, files, cred, None, 0)
                            c["status"] = 0
                            ceil[conns][kind] = c
                            line = fmt_row(nkeys, conns, "nginx-" + kind, c, None, 200)
                            rows.append(line)
                            print(line, flush=True)
                    for name, mode, cred, bad, every, want, kind, srv in SCENARIOS:
                        if (name == "soap-login") != (phase == "login"):
                            continue
                        proc, p = servers[srv]
                        r = wrk(p, conns, mode, files, cred, bad, every)
                        if r["requests"] == 0 or r["requests"] == r["sockerr"]:
                            broken = "%s at %d connections got no answer" % (name, conns)
                        line = fmt_row(nkeys, conns, name, r, ceil[conns][kind], want)
                        rows.append(line)
                        print(line, flush=True)
                        if proc.poll() is not None:
                            raise Broken("tskey died during %s" % name)
                    if phase == "checks":
                        notes.append("%s keys: server peak RSS (VmHWM) after the key-check "
                                     "runs up to %d connections: %.1f MiB" % (
                                         "{:,}".format(nkeys), conns,
                                         proc_status(tskey.pid, "VmHWM") / 1024))
            notes.append("%s keys: server peak RSS after the Login runs too: %.1f MiB" % (
                "{:,}".format(nkeys), proc_status(tskey.pid, "VmHWM") / 1024))
            stop(tskey)
            tskey = None
            while others:
                stop(others.pop())
            os.unlink(db)
    except (Broken, OSError, subprocess.SubprocessError) as e:
        broken = str(e)
    finally:
        stop(tskey)
        for o in others:
            stop(o)
        stop(nginx, signal.SIGQUIT)
        shutil.rmtree(tmp, ignore_errors=True)
    build = os.environ.get("BENCH_BUILD", "").strip()
    cmd = "make bench %sBENCH_SECONDS=%d BENCH_KEYS=\"%s\" BENCH_CONNS=\"%s\"" % (
        build + " " if build else "", SECONDS, " ".join(map(str, KEYS)),
        " ".join(map(str, CONNS)))
    text = ["# tskey benchmark", "",
            "`%s` (wrk -t%d, keep-alive, %d s a run, %d distinct valid keys in the load), "
            "%s, on %d cores; nginx is a fixed 200 on loopback measured in the same run "
            "with the same requests (REST rows against `nginx-rest`, SOAP rows against "
            "`nginx-soap`). Load average (1 min) %.1f at the start, %.1f at the end (it counts "
            "runnable threads: other work on the machine, and the 1,000-connection runs "
            "themselves). gSOAP runtime: %s." % (
                cmd, THREADS, SECONDS, HOT, started, os.cpu_count(), load_start,
                os.getloadavg()[0], os.environ.get("BENCH_GSOAP", "as built")), "",
            HEADER] + rows + [""] + ["- " + n for n in notes]
    if broken:
        text += ["", "BROKEN: " + broken]
    out = "\n".join(text) + "\n"
    print("\n" + out)
    try:
        with open(OUT, "w") as f:
            f.write(out)
        print("bench: written to %s" % OUT)
    except OSError as e:
        print("bench: cannot write %s: %s" % (OUT, e), file=sys.stderr)
    if broken:
        print("bench: BROKEN: %s" % broken, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
