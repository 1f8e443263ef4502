#!/usr/bin/env python3
"""The door scanner, black box (issue 4): `admit scan` and `admit sync` as door staff run them,
against a real admitd and PostgreSQL: verdict lines, its local state, eight scanners on the same
tickets, a scanner taken offline (admitd stopped) that keeps checking, refuses a second entry,
survives kill -9 and uploads everything when admitd is back, a cancellation learnt by a sync and
refused offline, two doors admitting one ticket offline, a ticket read from its QR picture, and
every usage error.

Each scanner gets its own XDG_STATE_HOME. Online checks get a generous --timeout so that a slow
sanitizer build never turns them into offline ones; the offline tests stop admitd instead.
"""

import json
import os
import random
import re
import stat
import subprocess
import time

import harness
from harness import (ScannerProcess, ServerTestCase, TicketSigner, add_device, checkin_event,
                     psql, register_sql, run_admit, run_scan, scan_answers, wait_until)

SLOW = "20000"  # --timeout for scans that must be answered online, in milliseconds


class ScanCase(ServerTestCase):
    """Event "conf" (Day 1, Day 2), 20 attendees on Day 1, a device "Gate A", admitd."""

    def setUp(self):
        super().setUp()
        self.dsn = self.db.dsn
        self.event_id, self.lists = checkin_event(self.dsn, "conf", lists=("Day 1", "Day 2"))
        self.regs = register_sql(self.dsn, "conf", 20, [self.lists["Day 1"]])
        self.signer = TicketSigner(self.keys)
        self.tickets = [self.signer.ticket(self.event_id, r) for r in self.regs]
        self.token = add_device(self.dsn, "conf", "Gate A")
        self.server = self.start_admitd("--threads", "4")
        self.port = self.server.port
        self.state = os.path.join(self.work, "state")

    def args(self, *extra, token=None, state_check=True):
        a = ["--server", self.server_url(), "--list", "Day 1", "--color", "never"]
        if token:
            a += ["--token", token]
        return a + list(extra)

    def server_url(self):
        return "http://127.0.0.1:%d" % self.port

    def restart_admitd(self):
        self.server = self.start_admitd("--threads", "4", "--listen", "127.0.0.1:%d" % self.port)

    def folder(self, slug="conf"):
        return os.path.join(self.state, "admit", "127.0.0.1_%d_%s" % (self.port, slug))

    def journal(self, state=None, slug="conf"):
        path = os.path.join(state or self.state, "admit", "127.0.0.1_%d_%s" % (self.port, slug),
                            "journal.jsonl")
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def count(self, sql):
        return int(psql(self.dsn, sql).strip())


class Online(ScanCase):

    def test_verdict_lines_state_and_token_kept_secret(self):
        t = self.tickets
        done = run_scan(self.args("--timeout", SLOW, token=self.token),
                        [t[0], t[0], "hello", "  " + t[1].lower() + "\r", ""], state=self.state)
        self.assertEqual(done.returncode, 1, done.stderr)  # 1: a scan was refused
        lines = done.stdout.splitlines()
        self.assertEqual(len(lines), 4, done.stdout)  # the blank line is not a scan
        self.assertEqual(lines[0], "✔ VALID  Guest Number 1 — Org 1")
        self.assertRegex(lines[1], r"^✖ ALREADY CHECKED IN  at \d\d:\d\d \(Gate A\) — "
                                   r"Guest Number 1$")
        self.assertEqual(lines[2], "✖ NOT A TICKET  This is not a ticket for this system")
        self.assertEqual(lines[3], "✔ VALID  Guest Number 2 — Org 2")
        self.assertNotIn("\033", done.stdout)  # plain text: not a terminal
        self.assertNotIn("\a", done.stdout + done.stderr)
        self.assertIn("online", done.stderr)
        # The token: stored 0600 in a 0700 folder, never printed.
        self.assertNotIn(self.token, done.stdout + done.stderr)
        folder = self.folder()
        self.assertEqual(stat.S_IMODE(os.stat(folder).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(folder, "token")).st_mode), 0o600)
        with open(os.path.join(folder, "token")) as f:
            self.assertEqual(f.read().strip(), self.token)
        self.assertEqual(sorted(os.listdir(folder)),
                         ["device.json", "journal.jsonl", "lock", "snapshot.json", "token"])
        journal = self.journal()
        self.assertEqual([r["t"] for r in journal if r["t"] != "sync"], ["scan", "server"] * 4)
        # Later runs need no token; --json prints one object per scan.
        done = run_scan(self.args("--timeout", SLOW, "--json"), [t[1], t[2]], state=self.state)
        self.assertEqual(done.returncode, 1, done.stderr)
        answers = scan_answers(done.stdout)
        self.assertEqual([(a["verdict"], a["offline"]) for a in answers],
                         [("already_checked_in", False), ("valid", False)])
        self.assertEqual(answers[1]["name"], "Guest Number 3")
        self.assertEqual(answers[1]["list"], "Day 1")
        self.assertEqual(answers[1]["registration_id"], self.regs[2])
        self.assertRegex(answers[1]["scanned_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 6)
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 3)

    def test_colour_bell_exit_door_and_gate(self):
        t = self.tickets
        done = run_scan(["--server", self.server_url(), "--list", "Day 1", "--token", self.token,
                         "--color", "always", "--timeout", SLOW, "--gate", "North"],
                        [t[0], t[0]], state=self.state)
        self.assertEqual(done.returncode, 1, done.stderr)
        valid, dup = done.stdout.splitlines()
        self.assertIn("\033[1;97;42m ✔ VALID \033[0m", valid)
        self.assertIn("\033[1;97;41m ✖ ALREADY CHECKED IN \033[0m", dup)
        self.assertIn("(North)", dup)
        self.assertEqual(psql(self.dsn, "SELECT DISTINCT gate FROM scans").strip(), "North")
        done = run_scan(self.args("--exit", "--timeout", SLOW), [t[0], t[5]], state=self.state)
        self.assertEqual(done.stdout.splitlines(),
                         ["↩ EXIT  Guest Number 1 — Org 1",
                          "↩ EXIT  Guest Number 6 — Org 6  (was not checked in)"])
        done = run_scan(self.args("--timeout", SLOW, "--gate", "South"), [t[0]],
                        state=self.state)
        self.assertIn("(re-entry)", done.stdout)
        # In again: "already checked in" quotes the latest entry (South), not the first (North),
        # online and offline.
        done = run_scan(self.args("--timeout", SLOW, "--json"), [t[0]], state=self.state)
        a = scan_answers(done.stdout)[0]
        self.assertEqual((a["verdict"], a["offline"], a["first_gate"], a["entered_gate"]),
                         ("already_checked_in", False, "North", "South"))
        done = run_scan(self.args("--timeout", SLOW), [t[0]], state=self.state)
        self.assertRegex(done.stdout, r"^✖ ALREADY CHECKED IN  at \d\d:\d\d \(South\) — ")
        self.assertEqual(self.server.stop(), 0)
        done = run_scan(self.args(), [t[0]], state=self.state)
        self.assertRegex(done.stdout, r"^✖ ALREADY CHECKED IN  at \d\d:\d\d \(South\) — .*"
                                      r"\[offline\]$")

    def test_list_as_typed_and_times_in_the_event_zone(self):
        """--list as a volunteer types it (any case, a hyphen for an en dash, the list's number);
        the time of a first entry as the organisers' pages show it: in the event's zone
        (Brussels), whatever the laptop's clock says (UTC here)."""
        import datetime
        import zoneinfo
        t = self.tickets
        psql(self.dsn, "UPDATE checkin_lists SET name = 'Day 2 – plenary' WHERE id = %d"
             % self.lists["Day 2"])
        psql(self.dsn, "INSERT INTO registration_lists (registration_id, list_id) "
                       "SELECT id, %d FROM registrations" % self.lists["Day 2"])
        env = dict(os.environ, TZ="UTC")
        for typed in ["day 2 - PLENARY", "2", "  Day 2  –  Plenary "]:
            done = run_scan(["--server", self.server_url(), "--list", typed, "--token",
                             self.token, "--color", "never", "--timeout", SLOW, "--json"],
                            [t[0]], state=self.state, env=env)
            self.assertIn(done.returncode, (0, 1), done.stderr)
            self.assertIn('list "Day 2 – plenary"', done.stderr)
            self.assertEqual(scan_answers(done.stdout)[0]["list"], "Day 2 – plenary")
        done = run_scan(["--server", self.server_url(), "--list", "day 2-plenary", "--color",
                         "never", "--timeout", SLOW], [t[0]], state=self.state, env=env)
        first = psql(self.dsn, "SELECT to_char(first_at AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD\"T\"HH24:MI:SS') FROM admissions WHERE list_id = %d"
                     % self.lists["Day 2"]).strip()
        utc = datetime.datetime.fromisoformat(first).replace(tzinfo=datetime.timezone.utc)
        brussels = utc.astimezone(zoneinfo.ZoneInfo("Europe/Brussels")).strftime("%H:%M")
        self.assertEqual(done.stdout.strip(), "✖ ALREADY CHECKED IN  at %s (Gate A) — Guest "
                                              "Number 1" % brussels, done.stderr)
        self.assertNotEqual(brussels, utc.strftime("%H:%M"))
        # Two lists that look alike: only the number or the exact name chooses.
        psql(self.dsn, "UPDATE checkin_lists SET name = 'Day 2 - plenary' WHERE id = %d"
             % self.lists["Day 1"])
        subprocess.run([harness.ADMIT_BIN, "sync", "--server", self.server_url()],
                       env=dict(os.environ, XDG_STATE_HOME=self.state), check=True,
                       capture_output=True, timeout=60)
        done = run_scan(["--server", self.server_url(), "--list", "DAY 2 - PLENARY"], ["x"],
                        state=self.state)
        self.assertEqual(done.returncode, 2)
        self.assertIn("could be several check-in lists", done.stderr)
        self.assertIn('1. "Day 2 - plenary", 2. "Day 2 – plenary"', done.stderr)

    def test_terminal_colours_and_bell(self):
        """On a terminal: colours by default, the bell on a rejection only; NO_COLOR drops the
        colours but not the bell."""
        import pty
        t = self.tickets

        def on_terminal(extra_env, lines):
            master, slave = pty.openpty()
            env = dict(os.environ, XDG_STATE_HOME=self.state, TERM="xterm", **extra_env)
            if "NO_COLOR" not in extra_env:
                env.pop("NO_COLOR", None)
            proc = subprocess.Popen(
                [harness.ADMIT_BIN, "scan", "--server", self.server_url(), "--list", "Day 1",
                 "--token", self.token, "--timeout", SLOW], stdin=subprocess.PIPE,
                stdout=slave, stderr=subprocess.DEVNULL, env=env)
            os.close(slave)
            proc.stdin.write("".join(line + "\n" for line in lines).encode())
            proc.stdin.close()
            out = b""
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other end is closed
                    break
                if not chunk:
                    break
                out += chunk
            os.close(master)
            self.assertEqual(proc.wait(timeout=120), 1)  # each run has a refused scan
            return out.decode("utf-8", "replace").replace("\r\n", "\n").splitlines()

        valid, dup = on_terminal({}, [t[8], t[8]])
        self.assertIn("\033[1;97;42m ✔ VALID \033[0m", valid)
        self.assertNotIn("\a", valid)
        self.assertIn("\033[1;97;41m ✖ ALREADY CHECKED IN \033[0m", dup)
        self.assertTrue(dup.endswith("\a"), repr(dup))
        (dup,) = on_terminal({"NO_COLOR": "1"}, [t[8]])
        self.assertNotIn("\033", dup)
        self.assertTrue(dup.startswith("✖ ALREADY CHECKED IN  at "), repr(dup))
        self.assertTrue(dup.endswith("\a"), repr(dup))

    def test_usage_and_configuration_errors(self):
        url = self.server_url()
        other_state = os.path.join(self.work, "other")
        run_scan(self.args("--timeout", SLOW, token=self.token), [], state=self.state,
                 check=True)
        cases = [
            (["--server", url], "--list is required"),
            (["--server", "ftp://example.org", "--list", "Day 1"], "expected http"),
            (["--server", "http://", "--list", "Day 1"], "expected http"),
            (["--server", url, "--list", "Day 9"], 'no check-in list "Day 9" (its lists: '
                                                  '1. "Day 1", 2. "Day 2")'),
            (["--server", url, "--list", "3"], 'no check-in list "3"'),
            (["--server", url, "--list", "Day 1", "--gate", "a\tb"], "--gate"),
            (["--server", url, "--list", "Day 1", "--color", "pink"], "--color"),
            (["--server", url, "--list", "Day 1", "--timeout", "5"], "--timeout"),
            (["--server", url, "--list", "Day 1", "--token", "short"], "token is malformed"),
            (["--server", url, "--list", "Day 1", "--event", "Bad Slug"], "not an event slug"),
            (["--server", url, "--list", "Day 1", "--token", "A" * 22], "refused"),
            (["--server", url, "--list", "Day 1", "--event", "nope"],
             "no scanner is set up here for event nope"),
        ]
        for args, message in cases:
            done = run_scan(args, ["x"], state=self.state)
            self.assertEqual(done.returncode, 2, (args, done.stderr))
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
            self.assertIn(message, done.stderr)
            self.assertEqual(done.stdout, "")
        # Nothing set up in another state folder: the token is needed once.
        done = run_scan(["--server", url, "--list", "Day 1"], ["x"], state=other_state)
        self.assertEqual(done.returncode, 2)
        self.assertIn("give the device token once", done.stderr)
        # Never synced, server unreachable.
        done = run_scan(["--server", "http://127.0.0.1:1", "--list", "Day 1", "--token",
                         self.token], ["x"], state=other_state)
        self.assertEqual(done.returncode, 2)
        self.assertIn("cannot reach http://127.0.0.1:1", done.stderr)
        # One scanner per state folder at a time.
        first = ScannerProcess(self.args("--timeout", SLOW), self.state, self.work)
        self.assertEqual(first.scan(self.tickets[0])["verdict"], "valid")
        done = run_scan(self.args(), ["x"], state=self.state)
        self.assertEqual(done.returncode, 2)
        self.assertIn("another admit scan or admit sync is using", done.stderr)
        done = subprocess.run([harness.ADMIT_BIN, "sync", "--server", url],
                              env=dict(os.environ, XDG_STATE_HOME=self.state),
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(first.finish(), 0)
        # A token file others may read is refused.
        os.chmod(os.path.join(self.folder(), "token"), 0o644)
        done = run_scan(self.args(), ["x"], state=self.state)
        self.assertEqual(done.returncode, 2)
        self.assertIn("chmod 600", done.stderr)
        os.chmod(os.path.join(self.folder(), "token"), 0o600)
        # A revoked device stops at once.
        run_admit("device", "revoke", "--db", self.dsn, "--event", "conf", "--name", "Gate A")
        done = run_scan(self.args(), ["x"], state=self.state)
        self.assertEqual(done.returncode, 2)
        self.assertIn("refused this device token", done.stderr)
        self.assertNotIn(self.token, done.stderr)

    def test_eight_scanners_same_thousand_tickets(self):
        regs = register_sql(self.dsn, "conf", 1000, [self.lists["Day 1"]])
        tickets = [self.signer.ticket(self.event_id, r) for r in regs]
        procs = []
        for i in range(8):
            token = add_device(self.dsn, "conf", "Door %d" % (i + 1))
            order = tickets[:]
            random.shuffle(order)
            state = os.path.join(self.work, "door%d" % i)
            feed = os.path.join(self.work, "door%d.txt" % i)
            with open(feed, "w") as f:
                f.write("".join(t + "\n" for t in order))
            out = open(os.path.join(self.work, "door%d.out" % i), "w+")
            err = open(os.path.join(self.work, "door%d.err" % i), "w+")
            feed_file = open(feed)
            for f in (out, err, feed_file):
                self.addCleanup(f.close)
            procs.append((subprocess.Popen(
                [harness.ADMIT_BIN, "scan", "--server", self.server_url(), "--list", "Day 1",
                 "--json", "--timeout", "60000"], stdin=feed_file, stdout=out, stderr=err,
                env=dict(os.environ, XDG_STATE_HOME=state, ADMIT_SCAN_TOKEN=token)), out, err))
        answers = []
        for proc, out, err in procs:
            self.assertEqual(proc.wait(timeout=1200), 1)  # every door saw duplicates
            out.seek(0)
            err.seek(0)
            mine = scan_answers(out.read())
            self.assertEqual(len(mine), 1000, err.read())
            answers += mine
        verdicts = [a["verdict"] for a in answers]
        self.assertEqual(verdicts.count("valid"), 1000)
        self.assertEqual(verdicts.count("already_checked_in"), 7000)
        self.assertFalse([a for a in answers if a["offline"]])
        valid_ids = sorted(a["registration_id"] for a in answers if a["verdict"] == "valid")
        self.assertEqual(valid_ids, sorted(regs))
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 1000)
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 8000)


class Offline(ScanCase):

    def test_offline_kill_restart_and_upload(self):
        t = self.tickets
        scanner = ScannerProcess(self.args("--timeout", "1500", token=self.token), self.state,
                                 self.work)
        shown = []  # every answer shown at the door

        def scan(s, line):
            answer = s.scan(line)
            shown.append(answer)
            return answer

        a = scan(scanner, t[0])
        self.assertEqual((a["verdict"], a["offline"]), ("valid", False))
        self.assertEqual(self.server.stop(), 0)  # the venue Wi-Fi goes
        a = scan(scanner, t[1])
        self.assertEqual((a["verdict"], a["offline"]), ("valid", True))
        self.assertTrue(scanner.wait_log(r"OFFLINE \("), scanner.log())
        a = scan(scanner, t[1])  # the same ticket again at this door
        self.assertEqual((a["verdict"], a["offline"], a["first_gate"]),
                         ("already_checked_in", True, "Gate A"))
        a = scan(scanner, t[0])  # admitted online before the outage
        self.assertEqual((a["verdict"], a["offline"]), ("already_checked_in", True))
        self.assertEqual(scan(scanner, "garbage")["verdict"], "invalid")
        forged = t[2][:-5] + ("0" if t[2][-5] != "0" else "1") + t[2][-4:]
        a = scan(scanner, forged)
        self.assertEqual((a["verdict"], a["reason"]), ("invalid", "bad_signature"))
        a = scan(scanner, self.signer.ticket(self.event_id, self.regs[3]).lower())
        self.assertEqual((a["verdict"], a["name"]), ("valid", "Guest Number 4"))
        # Mid-stream, kill -9: two lines typed, one answered, then the process is gone.
        scanner.proc.stdin.write((t[4] + "\n" + t[5] + "\n").encode())
        scanner.proc.stdin.flush()
        shown.append(scanner._line(60))
        scanner.kill9()
        self.assertEqual(shown[-1]["verdict"], "valid")

        # Restarted, still offline: what was shown before the kill is remembered.
        again = ScannerProcess(self.args("--timeout", "1500"), self.state, self.work)
        a = scan(again, t[4])
        self.assertEqual((a["verdict"], a["offline"]), ("already_checked_in", True))
        a = scan(again, t[1])
        self.assertEqual((a["verdict"], a["offline"]), ("already_checked_in", True))
        a = scan(again, t[6])
        self.assertEqual((a["verdict"], a["offline"]), ("valid", True))

        # admitd is back: the scanner finds it by itself and uploads everything.
        self.restart_admitd()
        self.assertTrue(again.wait_log(r"back ONLINE", timeout=60), again.log())
        self.assertTrue(again.wait_log(r"uploaded \d+ scans", timeout=60), again.log())
        a = scan(again, t[7])
        self.assertEqual((a["verdict"], a["offline"]), ("valid", False))
        a = scan(again, t[6])
        self.assertEqual((a["verdict"], a["offline"]), ("already_checked_in", False))
        self.assertEqual(again.finish(), 1)
        self.assertNotIn("not uploaded yet", again.log())

        # Nothing lost: every scan journaled is in the database once; nothing doubled.
        journal = self.journal()
        nonces = [r["nonce"] for r in journal if r["t"] == "scan"]
        self.assertEqual(len(nonces), len(set(nonces)))
        stored = psql(self.dsn, "SELECT client_nonce FROM scans").split()
        self.assertEqual(sorted(stored), sorted(nonces))
        self.assertTrue({a["nonce"] for a in shown} <= set(stored))
        # t0, t1, t3, t4, t6, t7, and t5 when it was journaled before the kill.
        t5_journaled = any(r["t"] == "scan" and r["payload"] == t[5] for r in journal)
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 6 + t5_journaled)
        self.assertEqual(self.count("SELECT count(*) FROM scans WHERE flagged"), 0)
        answered = {r["nonce"] for r in journal if r["t"] == "server"}
        self.assertEqual(answered, set(nonces))

    def test_cancellation_learnt_by_sync_is_refused_offline(self):
        t = self.tickets
        run_scan(self.args("--timeout", SLOW, token=self.token), [t[0]], state=self.state,
                 check=True)
        psql(self.dsn, "SELECT admit_cancel(token) FROM registrations WHERE id = %d"
             % self.regs[1])
        psql(self.dsn, "UPDATE registrations SET reissue = 1 WHERE id = %d" % self.regs[2])
        late = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        done = subprocess.run([harness.ADMIT_BIN, "sync", "--server", self.server_url()],
                              env=dict(os.environ, XDG_STATE_HOME=self.state),
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("synced event conf: 0 scans uploaded; 21 registrations", done.stdout)
        self.assertEqual(self.server.stop(), 0)
        after = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        done = run_scan(self.args("--json", "--timeout", "1500"),
                        [t[1], t[2], self.signer.ticket(self.event_id, self.regs[2], 1),
                         self.signer.ticket(self.event_id, late),
                         self.signer.ticket(self.event_id, after)], state=self.state)
        self.assertEqual(done.returncode, 1, done.stderr)
        got = [(a["verdict"], a["reason"], a["offline"]) for a in scan_answers(done.stdout)]
        self.assertEqual(got, [("revoked", "cancelled", True), ("revoked", "reissued", True),
                               ("valid", "", True), ("valid", "", True), ("valid", "", True)])
        self.assertIn("5 scans not uploaded yet", done.stderr)
        # admit sync while admitd is away: says so, keeps everything.
        done = subprocess.run([harness.ADMIT_BIN, "sync", "--server", self.server_url()],
                              env=dict(os.environ, XDG_STATE_HOME=self.state),
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 1)
        self.assertIn("the server does not answer", done.stderr)
        self.assertIn("5 scans still waiting", done.stderr)
        self.restart_admitd()
        done = subprocess.run([harness.ADMIT_BIN, "sync", "--server", self.server_url()],
                              env=dict(os.environ, XDG_STATE_HOME=self.state),
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("uploading scans: 5 of 5", done.stderr)
        self.assertIn("5 scans uploaded", done.stdout)
        rows = psql(self.dsn, "SELECT verdict, reason, flagged FROM scans WHERE offline "
                              "ORDER BY scanned_at").split()
        self.assertEqual(rows, ["revoked|cancelled|f", "revoked|reissued|f", "valid||f",
                                "valid||f", "valid||f"])

    def test_a_scan_the_server_refuses_is_not_sent_again(self):
        """An offline scan whose nonce the server knows for another scan (here: used meanwhile
        by a client with the same token) is refused as a request when uploaded: the door
        journals the refusal and never sends it again."""
        t = self.tickets
        run_scan(self.args("--timeout", SLOW, token=self.token), [], state=self.state,
                 check=True)
        self.assertEqual(self.server.stop(), 0)
        done = run_scan(self.args("--json"), [t[1]], state=self.state)
        self.assertEqual(scan_answers(done.stdout)[0]["offline"], True)
        nonce = [r["nonce"] for r in self.journal() if r["t"] == "scan"][-1]
        self.restart_admitd()
        r, body = harness.api_call(self.server, "POST", "/api/v1/checkins", token=self.token,
                                   body={"payload": t[2], "list": "Day 1", "nonce": nonce})
        self.assertEqual((r.status, body["verdict"]), (200, "valid"))
        sync = [harness.ADMIT_BIN, "sync", "--server", self.server_url()]
        env = dict(os.environ, XDG_STATE_HOME=self.state)
        done = subprocess.run(sync, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("1 scan uploaded", done.stdout)
        refused = [r for r in self.journal() if r["t"] == "server" and r["nonce"] == nonce]
        self.assertEqual(refused[0]["answer"]["error"]["code"], "nonce_reused")
        done = subprocess.run(sync, env=env, capture_output=True, text=True, timeout=120)
        self.assertIn("0 scans uploaded", done.stdout)
        self.assertEqual(self.count("SELECT count(*) FROM scans WHERE client_nonce = '%s'"
                                    % nonce), 1)

    def test_two_doors_offline_one_ticket_is_flagged(self):
        t = self.tickets
        other_token = add_device(self.dsn, "conf", "Gate B")
        other_state = os.path.join(self.work, "b")
        run_scan(self.args("--timeout", SLOW, token=self.token), [], state=self.state,
                 check=True)
        run_scan(self.args("--timeout", SLOW, token=other_token), [], state=other_state,
                 check=True)
        self.assertEqual(self.server.stop(), 0)
        a = scan_answers(run_scan(self.args("--json"), [t[0]], state=self.state).stdout)
        time.sleep(0.05)
        b = scan_answers(run_scan(self.args("--json"), [t[0]], state=other_state).stdout)
        self.assertEqual((a[0]["verdict"], b[0]["verdict"]), ("valid", "valid"))
        self.restart_admitd()
        for state in [other_state, self.state]:  # the later scan uploads first
            done = subprocess.run([harness.ADMIT_BIN, "sync", "--server", self.server_url()],
                                  env=dict(os.environ, XDG_STATE_HOME=state),
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(psql(self.dsn, "SELECT first_gate FROM admissions").strip(), "Gate A")
        self.assertEqual(psql(self.dsn, "SELECT gate, verdict, reason FROM scans WHERE flagged")
                         .strip(), "Gate B|already_checked_in|offline_conflict")


class Images(ScanCase):

    def test_ticket_png_from_the_ticket_page_checks_in(self):
        token = psql(self.dsn, "SELECT token FROM registrations WHERE id = %d"
                     % self.regs[0]).strip()
        r = self.server.get("/tickets/%s/qr.png" % token)
        self.assertEqual(r.status, 200)
        png = os.path.join(self.work, "ticket.png")
        with open(png, "wb") as f:
            f.write(r.body)
        done = run_scan(self.args("--image", png, "--timeout", SLOW, token=self.token),
                        state=self.state)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "✔ VALID  Guest Number 1 — Org 1\n")
        done = run_scan(self.args("--image", png, "--json", "--timeout", SLOW),
                        state=self.state)
        self.assertEqual(scan_answers(done.stdout)[0]["verdict"], "already_checked_in")
        # The ticket's SVG download, with the size viewers draw it at.
        token = psql(self.dsn, "SELECT token FROM registrations WHERE id = %d"
                     % self.regs[1]).strip()
        r = self.server.get("/tickets/%s/qr.svg" % token)
        self.assertEqual(r.status, 200)
        self.assertRegex(r.text, r'^<svg [^>]*width="\d+" height="\d+"')
        svg = os.path.join(self.work, "ticket.svg")
        with open(svg, "wb") as f:
            f.write(r.body)
        done = run_scan(self.args("--image", svg, "--timeout", SLOW), state=self.state)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "✔ VALID  Guest Number 2 — Org 2\n")

    def test_pictures_without_a_ticket(self):
        run_scan(self.args("--timeout", SLOW, token=self.token), [], state=self.state,
                 check=True)
        blank = os.path.join(self.work, "blank.png")
        run_admit("keygen", "--dir", os.path.join(self.work, "k"))
        # A white PNG: a QR code with its modules painted over is easiest made by hand.
        import struct
        import zlib
        width = height = 40
        raw = b"".join(b"\0" + b"\xff" * width for _ in range(height))

        def chunk(kind, data):
            body = kind + data
            return (struct.pack(">I", len(data)) + body
                    + struct.pack(">I", zlib.crc32(body) & 0xffffffff))
        with open(blank, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                      8, 0, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
        done = run_scan(self.args("--image", blank), state=self.state)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("no QR code found", done.stderr)
        text = os.path.join(self.work, "notes.txt")
        with open(text, "w") as f:
            f.write("not a picture\n")
        for path, message in [(text, "notes.txt"), (os.path.join(self.work, "none.png"),
                                                    "cannot read")]:
            done = run_scan(self.args("--image", path), state=self.state)
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn(message, done.stderr)
            self.assertEqual(done.stdout, "")


if __name__ == "__main__":
    harness.main()
