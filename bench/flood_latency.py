#!/usr/bin/env python3
"""How admitd answers a client while slow-connection floods hold its connections (bench/README.md,
"Slow-connection floods"): the figures behind the one-second bound that
tests/integration/test_slow_connection_floods.py checks, with quantiles, admitd's CPU, and any
flood size or admitd setting.

Uses an existing build (--build-dir, default build/; a Release or RelWithDebInfo build without
ADMIT_SANITIZE), starts a private PostgreSQL in a temporary folder (scripts/pg), makes a
database, a key and an event, then for each shape in turn: starts admitd (its defaults, plus
--admitd-arg flags), starts tests/integration/flood.py with --connections connections from
--sources, waits until every flood connection has opened once, and for --seconds probes from
127.0.0.1, each time on new connections: GET /healthz, GET the event page, POST a registration
(the probe of the test). Prints, per shape, the flood's counts, admitd's CPU (cores used over the
probe), and per probe the number of answers, median, 99th percentile and worst latency; the last
line is a Markdown table of the worst /healthz latencies. The flooder, admitd, PostgreSQL and the
probe share the machine's cores. Python 3 standard library only.

  bench/flood_latency.py                                   # the test's flood: 2,000 from 8 addresses
  bench/flood_latency.py --connections 8000 --sources 127.0.0.10-49 --admitd-arg=--max-connections=4096
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def p99(values):
    """The 99th percentile, interpolated between the two nearest values."""
    return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 \
        else values[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default=os.path.join(TOP, "build"))
    p.add_argument("--shapes", default="headers,idle,body")
    p.add_argument("--connections", type=int, default=2000)
    p.add_argument("--sources", default="127.0.0.10-17")
    p.add_argument("--seconds", type=float, default=20.0, help="probing time per shape")
    p.add_argument("--admitd-arg", action="append", default=[],
                   help="a flag for admitd, e.g. --admitd-arg=--max-connections=4096")
    args = p.parse_args()

    os.environ.update({
        "ADMIT_BIN": os.path.join(args.build_dir, "cli", "admit"),
        "ADMITD_BIN": os.path.join(args.build_dir, "server", "admitd"),
        "ADMIT_SOURCE_DIR": TOP,
        "ADMIT_BUILD_DIR": args.build_dir,
    })
    import harness
    from flood import FloodProcess, Probe

    admitd_args = []
    for a in args.admitd_arg:
        admitd_args += a.split("=", 1) if a.startswith("--") and "=" in a else [a]
    work = tempfile.mkdtemp(prefix="admit-flood-")
    cluster = harness.PrivateCluster()
    table = []
    try:
        db = harness.Database(cluster_dsn=cluster.dsn)
        keys = harness.make_keys(os.path.join(work, "keys"))
        event = harness.create_event(db.dsn, capacity=1000000)
        for shape in args.shapes.split(","):
            server = harness.Admitd(work, db.dsn, keys, admitd_args)
            try:
                probe = Probe(server, event.slug)
                probe.round()
                flood = FloodProcess(server.port, shape, args.connections, args.sources,
                                     args.seconds + 60)
                if not harness.wait_until(lambda: flood.stats.get("opened", 0)
                                          >= args.connections, timeout=60):
                    print("the flood opened only %s" % flood.stats, file=sys.stderr)
                probe.reset()
                cpu, start = cpu_seconds(server.proc.pid), time.monotonic()
                while time.monotonic() - start < args.seconds:
                    probe.round()
                    time.sleep(0.2)
                cores = (cpu_seconds(server.proc.pid) - cpu) / (time.monotonic() - start)
                stats = flood.stop()
            finally:
                server.stop()
            print("%s: flood of %d connections from %s, %d open at most, %d opened in all, %d "
                  "closed by admitd; admitd used %.2f cores" % (
                      shape, args.connections, args.sources, stats.get("peak", 0),
                      stats.get("opened", 0), stats.get("closed", 0), cores))
            for what in Probe.KINDS:
                t = probe.times(what)
                if t:
                    print("  %-13s %4d answers  median %.3f s  p99 %.3f s  worst %.3f s" % (
                        what, len(t), statistics.median(t), p99(t), t[-1]))
            for what, status, text in probe.wrong[:5]:
                print("  wrong answer: %s %s %s" % (what, status, text[:100]))
            healthz = probe.times("/healthz")
            table.append((shape, healthz[-1] if healthz else float("nan"), len(probe.wrong)))
        print("\n| shape | worst /healthz | wrong answers |\n| --- | ---: | ---: |")
        for shape, worst, wrong in table:
            print("| %s | %.3f s | %d |" % (shape, worst, wrong))
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
