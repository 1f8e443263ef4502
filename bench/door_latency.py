#!/usr/bin/env python3
"""The door's verdict latency (bench/README.md, "The door: verdict latency per network state").

    bench/door_latency.py [BUILD_DIR]      (default: build; a build without ADMIT_SANITIZE)

Two measurements, against a private PostgreSQL started here (scripts/pg, in /tmp):

1. Per network state: runs tests/integration/test_scan_network.py's test_every_network_state
   (a door scanning 100 tickets through a fault-injecting proxy in each state: no fault,
   refused, black-holed, stalled mid-answer, 2 s a response, half the connections dropped, TLS
   handshake stalled) and prints the distribution of the 100 verdicts' latency per state, from
   the line written to the verdict read, with the default budget (--timeout 800).
2. What an online verdict needs on a LAN: admit scan through the same proxy adding a round
   trip of 0, 2, 20 and 100 ms (a wired LAN, a busy venue Wi-Fi, a bad mobile uplink: half on
   each chunk each way, and one more before a new connection carries anything), 100 online
   scans each, one every 50 ms. (The proxy, not netem: this machine's kernel has no qdiscs.)

Prints markdown tables. Medians and percentiles of one run on a noisy 2-core VM: the test's
budget is what matters, not the milliseconds.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def row(name, values):
    return "| %s | %d | %.1f | %.1f | %.1f | %.1f |" % (
        name, len(values), statistics.median(values), percentile(values, 90),
        percentile(values, 99), max(values))


def header(first):
    return ("| %s | scans | median ms | p90 ms | p99 ms | worst ms |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: |" % first)


def network_states(env, work):
    out = os.path.join(work, "latency.json")
    done = subprocess.run([sys.executable, os.path.join(TOP, "tests", "integration",
                                                        "test_scan_network.py"),
                           "DoorNetwork.test_every_network_state"],
                          env=dict(env, ADMIT_DOOR_LATENCY_OUT=out), capture_output=True,
                          text=True, timeout=900)
    if done.returncode != 0:
        sys.exit("door_latency: the network test failed:\n" + done.stderr[-3000:])
    with open(out) as f:
        data = json.load(f)
    print(header("network state"))
    for name, values in data.items():
        print(row(name, values))


def lan(env, work):
    import harness
    from netfault import FaultProxy
    harness.ADMIT_BIN = env["ADMIT_BIN"]
    db = harness.Database(env["ADMIT_TEST_DATABASE_URL"])
    keys = harness.make_keys(os.path.join(work, "keys"))
    event_id, lists = harness.checkin_event(db.dsn, "lan", lists=("Day 1",))
    regs = harness.register_sql(db.dsn, "lan", 500, [lists["Day 1"]])
    signer = harness.TicketSigner(keys)
    tickets = [signer.ticket(event_id, r) for r in regs]
    port = harness.free_port()
    server = subprocess.Popen([env["ADMITD_BIN"], "--db", db.dsn, "--keys", keys, "--templates",
                               os.path.join(TOP, "templates"), "--listen",
                               "127.0.0.1:%d" % port, "--threads", "2"],
                              stderr=subprocess.DEVNULL, env=env)
    proxy = FaultProxy(port)
    try:
        time.sleep(1.0)
        print("\n" + header("round trip"))
        for rtt in (0, 2, 20, 100):
            proxy.set_mode("latency", rtt=rtt / 1000)
            token = harness.add_device(db.dsn, "lan", "Door %d ms" % rtt)
            state = os.path.join(work, "state-%d" % rtt)
            proc = subprocess.Popen([env["ADMIT_BIN"], "scan", "--server", proxy.url(), "--list",
                                     "Day 1", "--token", token, "--json"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL,
                                    env=dict(env, XDG_STATE_HOME=state))
            latencies = []
            for i in range(101):
                t0 = time.monotonic()
                proc.stdin.write((tickets.pop() + "\n").encode())
                proc.stdin.flush()
                answer = json.loads(proc.stdout.readline())
                if i > 0:  # the first opens the connection and races the first sync
                    latencies.append((time.monotonic() - t0) * 1000)
                if answer["offline"]:
                    sys.exit("door_latency: an offline verdict at %d ms" % rtt)
                time.sleep(0.05)
            proc.stdin.close()
            proc.wait(timeout=30)
            print(row("%d ms" % rtt, latencies))
    finally:
        proxy.stop()
        server.terminate()
        server.wait(timeout=30)
        db.drop()


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build"))
    subprocess.run(["cmake", "--build", build, "--target", "admit-cli", "admitd"], check=True,
                   capture_output=True)
    work = tempfile.mkdtemp(prefix="admit-door-")
    os.chmod(work, 0o755)
    pg = os.path.join(work, "pg")
    subprocess.run([os.path.join(TOP, "scripts", "pg"), "start", pg], check=True,
                   capture_output=True)
    env = dict(os.environ, ADMIT_TEST_PG_DIR=pg,
               ADMIT_TEST_DATABASE_URL="host=%s/run dbname=admit user=admit" % pg,
               ADMIT_BIN=os.path.join(build, "cli", "admit"),
               ADMITD_BIN=os.path.join(build, "server", "admitd"), ADMIT_SOURCE_DIR=TOP,
               ADMIT_BUILD_DIR=build)
    os.environ.update(env)
    try:
        network_states(env, work)
        lan(env, work)
    finally:
        subprocess.run([os.path.join(TOP, "scripts", "pg"), "destroy", pg], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
