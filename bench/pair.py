#!/usr/bin/env python3
"""Paired A/B timing of exporter builds on one input: the builds take turns, N rounds (the
order flips every round), and each build's CPU and wall time are divided by the first
build's in the same round; the medians of those ratios are what carries on this noisy
machine. Not part of the test suite.

    N=10 bench/pair.py MANIFEST INPUT BUILD_A BUILD_B...

A build may be written BUILD@MANIFEST to run it with a manifest of its own (one build, two
jobs: `target/release/exporter@bench/exporter.toml target/release/exporter@bench/exporter-xlsx.toml`).
Outputs go to a temporary directory per run (`--out-dir`).
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def run(build, manifest, source):
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.time()
        subprocess.run([build, "run", "-m", manifest, "--out-dir", out, source],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall = time.time() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return wall, cpu


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    manifest, source, builds = sys.argv[1], sys.argv[2], sys.argv[3:]
    rounds = int(os.environ.get("N", "6"))
    times = {b: [] for b in builds}
    for i in range(rounds):
        for build in builds if i % 2 == 0 else builds[::-1]:
            program, _, own = build.partition("@")
            times[build].append(run(program, own or manifest, source))
    base = times[builds[0]]
    for build in builds:
        t = times[build]
        cpu = statistics.median(x[1] / y[1] for x, y in zip(t, base))
        wall = statistics.median(x[0] / y[0] for x, y in zip(t, base))
        print(f"{build}: wall median {statistics.median(x[0] for x in t):.3f} s, "
              f"cpu median {statistics.median(x[1] for x in t):.3f} s; "
              f"paired vs first: cpu {cpu:.3f}, wall {wall:.3f}")


main()
