#!/usr/bin/env python3
"""The xlsx sink against its floor, in one sitting: N rounds in which a csv run, the bare
rust_xlsxwriter writing the same table (exporter-xlsx's `floor` example), `exporter check`
of a workbook the sink wrote (the read-back alone), and xlsx runs with `validate = ["exists"]`
and with the default read-back take turns (the order flips every round). Each figure is divided by the same round's csv run wall time; the medians of those
ratios are printed. Not part of the test suite.

    cargo build --release -p exporter-cli -p exporter-xlsx --example floor
    N=3 bench/xlsx_floor.py /tmp/bench/large.ndjson
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPORTER = ROOT / "target/release/exporter"
FLOOR = ROOT / "target/release/examples/floor"
SCHEMA = ROOT / "examples/lead.schema.json"


def manifest(work, name, sink):
    path = work / f"{name}.toml"
    path.write_text(f"""[campaign]
id = "bench"
[[sinks]]
{sink}
name = "results"
schema = "{SCHEMA}"
dedupe_on = ["place_id"]
[[sinks]]
type = "campaign-summary"
[[sinks]]
type = "proxy-performance"
[[sinks]]
type = "error-log"
""")
    return path


def timed(*args):
    start = time.time()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.time() - start


def run(manifest, source, keep=None):
    with tempfile.TemporaryDirectory() as out:
        wall = timed(EXPORTER, "run", "-m", manifest, "--out-dir", out, source)
        if keep:
            os.replace(pathlib.Path(out) / "results.csv", keep)
        return wall


def floor(table, work):
    out = subprocess.run([FLOOR, SCHEMA, table, work / "floor.xlsx"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    source = sys.argv[1]
    rounds = int(os.environ.get("N", "3"))
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        csv = manifest(work, "csv", 'type = "csv"\npath = "results.csv"\ndialect = "excel"')
        xlsx = manifest(work, "xlsx", 'type = "xlsx"\npath = "results.xlsx"')
        exists = manifest(work, "exists",
                          'type = "xlsx"\npath = "results.xlsx"\nvalidate = ["exists"]')
        table = work / "results.csv"
        run(csv, source, keep=table)
        book = work / "book"
        subprocess.run([EXPORTER, "run", "-m", xlsx, "--out-dir", book, source],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        jobs = {
            "csv run": lambda: run(csv, source),
            "bare rust_xlsxwriter (write + save only)": lambda: floor(table, work)["write_seconds"],
            "exporter check of the workbook (the read-back alone)":
                lambda: timed(EXPORTER, "check", "-m", xlsx, "--out-dir", book),
            "xlsx run, validate = [\"exists\"]": lambda: run(exists, source),
            "xlsx run, default read-back": lambda: run(xlsx, source),
        }
        times = {name: [] for name in jobs}
        for i in range(rounds):
            for name in (list(jobs) if i % 2 == 0 else list(jobs)[::-1]):
                times[name].append(jobs[name]())
        cells = floor(table, work)["cells"]
        print(f"{cells} cells; medians of {rounds} rounds")
        base = times["csv run"]
        for name, t in times.items():
            ratio = statistics.median(x / y for x, y in zip(t, base))
            print(f"{name}: {statistics.median(t):.3f} s, / csv run wall {ratio:.3f}")


main()
