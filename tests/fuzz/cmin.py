#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Pick a small corpus that keeps the coverage edges of a larger one.

    python3 tests/fuzz/cmin.py build-fuzz/fuzz_http tests/fuzz/corpus/http DIR... [--max N]

Every input in the DIRs (and in the target directory) is run alone through the fuzzer's merge
(-merge=1), which reports the edges and the features (edges with hit-count buckets) it covers.
seed-* and regress-* files are kept; then the input adding the most uncovered edges (the smaller
on a tie) is taken until every edge is covered, then the one adding the most features, until N
files (default 190) or nothing new. The target directory is rewritten with what was taken: seeds
and regressions under their names, the rest named by SHA-1 as libFuzzer names them. libFuzzer's
own -merge=1 keeps any input that adds a feature, in size order, which leaves several times more.
An input that crashes reports nothing and is dropped: check the result with make fuzz-replay.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


def coverage_of(binary, path, work):
    """(edges, features) of the input at path, run alone."""
    inp, out = os.path.join(work, "in"), os.path.join(work, "out")
    for d in (inp, out):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    shutil.copy(path, os.path.join(inp, "x"))
    ctl = os.path.join(work, "ctl")
    if os.path.exists(ctl):
        os.unlink(ctl)
    subprocess.run([binary, "-merge=1", "-rss_limit_mb=0",
                    "-malloc_limit_mb=0", "-merge_control_file=" + ctl, out, inp],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    edges, features = set(), set()
    with open(ctl) as f:
        for line in f:
            if line.startswith("COV "):
                edges.update(int(x) for x in line.split()[2:])
            elif line.startswith("FT "):
                features.update(int(x) for x in line.split()[2:])
    return edges, features


def greedy(keep, rest, sets, sizes, limit):
    """Add to keep from rest the input with most of sets not yet had, while any adds some."""
    have = set().union(*(sets[k] for k in keep)) if keep else set()
    while rest and len(keep) < limit:
        best = max(rest, key=lambda k: (len(sets[k] - have), -sizes[k]))
        if not sets[best] - have:
            break
        keep.append(best)
        have |= sets[best]
        rest.remove(best)
    return have


def main():
    args = sys.argv[1:]
    limit = 190
    if "--max" in args:
        i = args.index("--max")
        limit = int(args[i + 1])
        del args[i:i + 2]
    binary, target, dirs = args[0], args[1], args[2:]
    files = {}
    for d in [target] + dirs:
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if not os.path.isfile(p):
                continue
            data = open(p, "rb").read()
            named = name.startswith("seed-") or name.startswith("regress-")
            key = name if named else hashlib.sha1(data).hexdigest()
            files.setdefault(key, data)
    work = tempfile.mkdtemp(prefix="cmin_")
    try:
        edges, features = {}, {}
        for key, data in files.items():
            p = os.path.join(work, "cand")
            with open(p, "wb") as f:
                f.write(data)
            edges[key], features[key] = coverage_of(binary, p, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sizes = {k: len(v) for k, v in files.items()}
    every = set().union(*edges.values()) if edges else set()
    keep = [k for k in files if k.startswith("seed-") or k.startswith("regress-")]
    rest = [k for k in files if k not in keep]
    have = greedy(keep, rest, edges, sizes, limit)
    greedy(keep, rest, features, sizes, limit)
    for name in os.listdir(target):
        os.unlink(os.path.join(target, name))
    for k in keep:
        with open(os.path.join(target, k), "wb") as f:
            f.write(files[k])
    size = sum(sizes[k] for k in keep)
    print("%s: %d files, %d bytes, %d of %d edges (from %d inputs)"
          % (target, len(keep), size, len(have), len(every), len(files)))


if __name__ == "__main__":
    main()
