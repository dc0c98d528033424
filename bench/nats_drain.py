#!/usr/bin/env python3
"""Draining a JetStream stream against reading the same events from a file, taking turns.

    N=6 bench/nats_drain.py INPUT [EXPORTER]

Publishes INPUT once (`exporter publish`) to a stream of its own, then N rounds, the order
flipping every round: the file run (`run -m bench/exporter.toml INPUT`) and the drain
(`run --until-idle 300ms` of the same manifest with a `nats` source, a fresh consumer each
round). The drain's wall time counts from start to exit minus the 300 ms of idle that ends
it; its rate is INPUT's lines over that. The NATS server's CPU during each drain is read
from /proc (it shares the machine's cores). The stream is deleted at the end. Needs NATS
with JetStream at 127.0.0.1:4222. Not part of the test suite.
"""
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

IDLE = 0.3


def server_cpu():
    """CPU seconds the nats-server process has used, if it runs here."""
    try:
        pid = subprocess.run(["pgrep", "-x", "nats-server"], capture_output=True, text=True).stdout.split()[0]
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (IndexError, OSError):
        return 0.0


def timed(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = server_cpu()
    start = time.time()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, server_cpu() - server


def delete_stream(name):
    with socket.create_connection(("127.0.0.1", 4222)) as s:
        s.recv(4096)
        s.sendall(f"CONNECT {{}}\r\nPUB $JS.API.STREAM.DELETE.{name} 0\r\n\r\nPING\r\n".encode())
        s.recv(4096)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    source = sys.argv[1]
    exporter = sys.argv[2] if len(sys.argv) > 2 else "target/release/exporter"
    rounds = int(os.environ.get("N", "6"))
    here = os.path.dirname(os.path.abspath(__file__))
    manifest = os.path.join(here, "exporter.toml")
    lines = sum(1 for _ in open(source, "rb"))
    stream = f"BENCH_DRAIN_{os.getpid()}"
    subprocess.run([exporter, "publish", "--subject", f"bench.drain.{os.getpid()}",
                    "--create-stream", stream, "--id", stream, source],
                   stderr=subprocess.DEVNULL, check=True)
    file_times, drain_times = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(rounds):
                nats = os.path.join(tmp, f"nats{i}.toml")
                with open(manifest) as m, open(nats, "w") as n:
                    n.write(m.read().replace("../examples/", os.path.join(here, "../examples/")))
                    n.write(f'\n[[sources]]\ntype = "nats"\nstream = "{stream}"\nconsumer = "bench{i}"\n')
                jobs = [
                    ("file", [exporter, "run", "-m", manifest, "--out-dir", os.path.join(tmp, f"f{i}"), source]),
                    ("drain", [exporter, "run", "-m", nats, "--out-dir", os.path.join(tmp, f"n{i}"),
                               "--until-idle", f"{int(IDLE * 1000)}ms"]),
                ]
                if i % 2:
                    jobs.reverse()
                for kind, args in jobs:
                    wall, cpu, server = timed(args)
                    if kind == "file":
                        file_times.append((wall, cpu))
                    else:
                        drain_times.append((wall - IDLE, cpu, server))
    finally:
        delete_stream(stream)
    fw = statistics.median(w for w, _ in file_times)
    fc = statistics.median(c for _, c in file_times)
    dw = statistics.median(w for w, _, _ in drain_times)
    dc = statistics.median(c for _, c, _ in drain_times)
    ds = statistics.median(s for _, _, s in drain_times)
    print(f"{lines} events, {rounds} rounds, medians:")
    print(f"  file run   wall {fw:.3f} s  cpu {fc:.3f} s  ({lines / fw:,.0f} events/s)")
    print(f"  drain      wall {dw:.3f} s  cpu {dc:.3f} s  ({lines / dw:,.0f} events/s); nats-server cpu {ds:.3f} s")
    print(f"  drain / file: wall {dw / fw:.2f}, cpu {dc / fc:.2f}")


if __name__ == "__main__":
    main()
