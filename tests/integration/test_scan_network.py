#!/usr/bin/env python3
"""The door never waits (issue 13), black box: `admit scan` against a real admitd through a
fault-injecting proxy (netfault.py) in each network state a venue produces: refused, accepted
and never answered, answered in part then stalled, answered slowly (2 s), half the connections
dropped, and a TLS endpoint whose handshake stalls. In each state a door scans 100 tickets and
every verdict must come within the door's budget (--timeout, 800 ms by default) plus a margin
for local work; a ticket admitted before the fault and a ticket scanned twice during it are
refused; after the network recovers every scan reaches the server exactly once, the journal
holds each scan once, and a ticket admitted during the fault is refused online. Start-up (with
a synced state folder), Ctrl-C, end of input and `admit sync --timeout` are bounded too, and a
door that never synced starts, says it cannot check yet, and works once the server answers.

The latency of every verdict is written to ADMIT_DOOR_LATENCY_OUT (a JSON file) when that is
set: bench/door_latency.py turns it into the table in bench/README.md. These are behavioural
bounds with generous margins, not measurements: the test fails only when a verdict waits on
the network far beyond the budget.
"""

import json
import os
import signal
import subprocess
import time

import harness
from harness import (ScannerProcess, ServerTestCase, TicketSigner, TlsCertificate, add_device,
                     checkin_event, psql, register_sql)
from netfault import FaultProxy

BUDGET_MS = 800  # admit scan's default --timeout
# Local work on top of the budget (journal fsyncs, JSON, a loaded sanitizer build) and this
# test's own reading of the answer: generous, far below the 2-10 s waits of issue 13.
MARGIN_S = 0.7
SCANS = 100
PACE_S = 0.02  # between scans: a busy door, and time for the background to try the server


class DoorNetwork(ServerTestCase):
    """Event "conf" (list "Day 1") with 900 attendees, admitd, and a proxy in front of it."""

    def setUp(self):
        super().setUp()
        self.dsn = self.db.dsn
        self.event_id, self.lists = checkin_event(self.dsn, "conf", lists=("Day 1", "Day 2"))
        self.regs = register_sql(self.dsn, "conf", 900, [self.lists["Day 1"]])
        signer = TicketSigner(self.keys)
        self.tickets = [signer.ticket(self.event_id, r) for r in self.regs]
        self.next_ticket = 0
        self.server = self.start_admitd("--threads", "4")
        self.proxy = FaultProxy(self.server.port)
        self.addCleanup(self.proxy.stop)
        self.latencies = {}

    def take(self, n):
        out = self.tickets[self.next_ticket:self.next_ticket + n]
        self.next_ticket += n
        self.assertEqual(len(out), n)
        return out

    def scanner(self, proxy, name, *extra, token=None, ca=None):
        """A door (its own device and state folder) scanning "Day 1" through proxy."""
        state = os.path.join(self.work, "state-" + name)
        args = ["--server", proxy.url(), "--list", "Day 1", "--color", "never"]
        if token:
            args += ["--token", token]
        if ca:
            args += ["--ca-file", ca]
        return ScannerProcess(args + list(extra), state, self.work), state

    def timed(self, scanner, line):
        t0 = time.monotonic()
        answer = scanner.scan(line)
        return answer, time.monotonic() - t0

    def journal(self, state, proxy):
        path = os.path.join(state, "admit", "127.0.0.1_%d_conf" % proxy.port, "journal.jsonl")
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def device_nonces(self, device):
        return psql(self.dsn, "SELECT client_nonce FROM scans s JOIN devices d ON d.id = "
                              "s.device_id WHERE d.name = '%s'" % device).split()

    def assert_within_budget(self, state, latencies):
        worst = max(latencies)
        self.assertLess(worst, BUDGET_MS / 1000 + MARGIN_S,
                        "%s: the slowest verdict took %.0f ms" % (state, worst * 1000))

    def save_latencies(self):
        out = os.environ.get("ADMIT_DOOR_LATENCY_OUT")
        if not out:
            return
        data = {}
        if os.path.exists(out):
            with open(out) as f:
                data = json.load(f)
        data.update(self.latencies)
        with open(out, "w") as f:
            json.dump(data, f, indent=1)

    def door_through(self, state, mode, proxy=None, ca=None, **params):
        """One network state, start to recovery; see the module's comment."""
        proxy = proxy or self.proxy
        device = "Door " + state
        token = add_device(self.dsn, "conf", device)
        scanner, folder = self.scanner(proxy, state, token=token, ca=ca)
        before, during, again = self.take(1)[0], self.take(SCANS - 2), None
        a = scanner.scan(before)  # admitted online before the fault
        self.assertEqual((a["verdict"], a["offline"]), ("valid", False), scanner.log())
        self.assertTrue(scanner.wait_log(r"synced \("), scanner.log())  # ready for offline

        proxy.set_mode(mode, **params)
        lines = [before] + during + [during[0]]  # SCANS scans
        answers, latencies = [], []
        for line in lines:
            answer, seconds = self.timed(scanner, line)
            answers.append(answer)
            latencies.append(seconds)
            time.sleep(PACE_S)
        self.latencies[state] = [round(s * 1000, 1) for s in latencies]
        self.assert_within_budget(state, latencies)
        verdicts = [a["verdict"] for a in answers]
        self.assertEqual(verdicts[0], "already_checked_in", answers[0])  # across the switch
        self.assertEqual(verdicts[-1], "already_checked_in", answers[-1])  # twice in the fault
        self.assertEqual(verdicts[1:-1], ["valid"] * (SCANS - 2))
        offline = sum(a["offline"] for a in answers)

        # The network is back: everything uploads, and the door is online again.
        proxy.set_mode("pass")
        if offline:
            self.assertTrue(scanner.wait_log(r"back ONLINE", timeout=60), scanner.log())
        a = scanner.scan(during[1])
        self.assertEqual((a["verdict"], a["offline"]), ("already_checked_in", False), a)
        self.assertEqual(scanner.finish(), 1)  # refused scans: exit status 1
        self.assertNotIn("not uploaded yet", scanner.log())

        journal = self.journal(folder, proxy)
        nonces = [r["nonce"] for r in journal if r["t"] == "scan"]
        self.assertEqual(len(nonces), SCANS + 2)
        self.assertEqual(len(set(nonces)), len(nonces))  # each scan once in the journal
        stored = self.device_nonces(device)
        self.assertEqual(sorted(stored), sorted(nonces))  # and once on the server
        answered = {r["nonce"] for r in journal if r["t"] == "server"}
        self.assertEqual(answered, set(nonces))
        self.assertEqual(int(psql(self.dsn, "SELECT count(*) FROM scans s JOIN devices d ON "
                                            "d.id = s.device_id WHERE d.name = '%s' AND flagged"
                                  % device)), 0)
        return offline

    def test_every_network_state(self):
        try:
            self.assertEqual(self.door_through("no fault (through the proxy)", "pass"), 0)
            self.assertEqual(self.door_through("refused", "refuse"), SCANS)
            self.assertEqual(self.door_through("black-holed", "blackhole"), SCANS)
            self.assertEqual(self.door_through("stalled mid-answer", "stall", first_bytes=20),
                             SCANS)
            self.assertEqual(self.door_through("slow (2 s a response)", "slow", delay=2.0), SCANS)
            self.door_through("lossy (half the connections dropped)", "lossy", drop=0.5)
            cert = TlsCertificate(os.path.join(self.work, "tls"))
            tls_proxy = FaultProxy(self.server.port, tls=(cert.cert, cert.key))
            self.addCleanup(tls_proxy.stop)
            self.assertEqual(self.door_through("TLS handshake stalled", "blackhole",
                                               proxy=tls_proxy, ca=cert.cert), SCANS)
        finally:
            self.save_latencies()

    def test_start_and_stop_are_bounded(self):
        token = add_device(self.dsn, "conf", "Gate S")
        scanner, state = self.scanner(self.proxy, "s", token=token)
        first, second, third = self.take(3)
        self.assertEqual(scanner.scan(first)["verdict"], "valid")
        self.assertEqual(scanner.finish(), 0)

        # Started while the uplink is dead: ready within a second, from the synced folder.
        self.proxy.set_mode("blackhole")
        t0 = time.monotonic()
        scanner, _ = self.scanner(self.proxy, "s")
        self.assertTrue(scanner.wait_log(r"scan tickets", timeout=30), scanner.log())
        self.assertLess(time.monotonic() - t0, 1.0, scanner.log())
        a, seconds = self.timed(scanner, second)
        self.assertEqual((a["verdict"], a["offline"]), ("valid", True))
        self.assertLess(seconds, BUDGET_MS / 1000 + MARGIN_S)
        # Ctrl-C: gone within a second, the scan kept.
        t0 = time.monotonic()
        scanner.proc.send_signal(signal.SIGINT)
        scanner.proc.wait(timeout=30)
        self.assertLess(time.monotonic() - t0, 1.0)
        scanner._close()
        scans = [r for r in self.journal(state, self.proxy) if r["t"] == "scan"]
        self.assertEqual([r["payload"] for r in scans], [first, second])

        # End of input with the uplink still dead: gone within a second too.
        scanner, _ = self.scanner(self.proxy, "s")
        a = scanner.scan(third)
        self.assertEqual((a["verdict"], a["offline"]), ("valid", True))
        t0 = time.monotonic()
        self.assertEqual(scanner.finish(), 0)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertIn("2 scans not uploaded yet", scanner.log())

        # admit sync obeys its total time limit and says what it could not do.
        t0 = time.monotonic()
        done = subprocess.run([harness.ADMIT_BIN, "sync", "--server", self.proxy.url(),
                               "--timeout", "1500"], env=dict(os.environ, XDG_STATE_HOME=state),
                              capture_output=True, text=True, timeout=60)
        self.assertLess(time.monotonic() - t0, 1.5 + MARGIN_S)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("the server does not answer", done.stderr)
        self.assertIn("2 scans still waiting for upload", done.stderr)
        self.proxy.set_mode("pass")
        done = subprocess.run([harness.ADMIT_BIN, "sync", "--server", self.proxy.url()],
                              env=dict(os.environ, XDG_STATE_HOME=state),
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("2 scans uploaded", done.stdout)

    def test_never_synced_door_keeps_trying(self):
        token = add_device(self.dsn, "conf", "Gate N")
        ticket, later = self.take(2)
        self.proxy.set_mode("blackhole")
        t0 = time.monotonic()
        scanner, _ = self.scanner(self.proxy, "n", "--event", "conf", token=token)
        self.assertTrue(scanner.wait_log(r"never synced", timeout=30), scanner.log())
        self.assertLess(time.monotonic() - t0, 1.0, scanner.log())
        a, seconds = self.timed(scanner, ticket)
        self.assertEqual((a["verdict"], a["reason"], a["offline"]), ("invalid", "no_keys", True))
        self.assertLess(seconds, BUDGET_MS / 1000 + MARGIN_S)
        self.proxy.set_mode("pass")
        self.assertTrue(scanner.wait_log(r"synced \(", timeout=60), scanner.log())
        self.assertTrue(scanner.wait_log(r"back ONLINE", timeout=60), scanner.log())
        a = scanner.scan(later)
        self.assertEqual((a["verdict"], a["offline"]), ("valid", False))
        self.assertEqual(scanner.finish(), 1)
        # The scan the door could not check reached the server as a refusal at the door.
        rows = psql(self.dsn, "SELECT verdict, reason FROM scans WHERE offline").split()
        self.assertEqual(rows, ["invalid|refused_offline"])


if __name__ == "__main__":
    harness.main()
