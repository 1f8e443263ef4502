#!/usr/bin/env python3
"""Backup and restore, as README.md ("Operations") tells an operator to do it: `pg_dump -Fc` of
a database with registrations, check-ins, exits and re-entries, a cancellation and an
organiser, restored with `pg_restore` into a fresh PostgreSQL cluster (scripts/pg), is the same
event: `admit migrate` finds nothing to do, the exports (registrations, attendance, scan log)
and the organisers' attendance report (report.csv) are byte for byte identical, and admitd
carries on from it: the door that synced before finds everyone who was in, a new registration
and a new check-in work, and capacity still adds up.
"""

import glob
import os
import re
import subprocess
import types

import harness
from harness import (Browser, PrivateCluster, ServerTestCase, TicketSigner, add_device,
                     api_call, create_event, open_form, psql, register_sql, run_admit, run_scan,
                     scan_answers, seat_counts, ticket_token)
from test_admin import add_admin, logged_in


def pg_bin(program):
    """program from PostgreSQL's newest versioned bin folder (as scripts/pg picks initdb)."""
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                     key=lambda p: [int(x) for x in re.findall(r"\d+", p)], reverse=True)
    for folder in folders:
        if os.access(os.path.join(folder, program), os.X_OK):
            return os.path.join(folder, program)
    raise AssertionError("%s not found (apt-get install postgresql-15)" % program)


class BackupRestore(ServerTestCase):

    def exports(self, dsn, slug):
        """The CSV files admit export writes, as bytes."""
        out = {}
        for what, extra in [("registrations", []), ("attendance", []), ("scans", []),
                            ("attendance", ["--list", "Day 2"])]:
            done = subprocess.run([harness.ADMIT_BIN, "export", "--db", dsn, "--event", slug,
                                   "--what", what] + extra, capture_output=True, timeout=120)
            self.assertEqual(done.returncode, 0, done.stderr)
            out[" ".join([what] + extra)] = done.stdout
        return out

    def report(self, server, slug):
        browser = logged_in(server, "boss@example.org")
        r = browser.get("/admin/events/%s/report.csv" % slug)
        self.assertEqual(r.status, 200)
        return r.body

    def scan(self, server, device, state, payloads, *extra):
        done = run_scan(["--server", server.url, "--list", extra[0] if extra else "Day 1",
                         "--json", "--token", device, "--timeout", "5000"] + list(extra[1:]),
                        payloads, state=state)
        return [a["verdict"] for a in scan_answers(done.stdout)]

    def test_dump_restored_into_a_fresh_cluster(self):
        event = create_event(self.db.dsn, capacity=60)
        lists = dict((name, list_id) for list_id, name in event.lists)
        regs = register_sql(self.db.dsn, event.slug, 30, [lists["Day 1"], lists["Day 2"]])
        server = self.start_admitd()
        port = server.port
        browser = Browser(server)
        ticket_token(browser.post("/events/%s/register" % event.slug,
                                  open_form(browser, event.slug).fields(
                                      email="ada@example.org")))
        psql(self.db.dsn, "SELECT admit_cancel(token) FROM registrations WHERE id = %d"
             % regs[-1])
        add_admin(self.db.dsn, "boss@example.org")
        signer = TicketSigner(self.keys)
        tickets = [signer.ticket(event.id, r) for r in regs]
        device = add_device(self.db.dsn, event.slug, "Gate A")
        state = os.path.join(self.work, "door")
        self.assertEqual(self.scan(server, device, state, tickets[:20]), ["valid"] * 20)
        self.assertEqual(self.scan(server, device, state, tickets[:3], "Day 1", "--exit"),
                         ["valid"] * 3)
        self.assertEqual(self.scan(server, device, state, tickets[:2] + tickets[5:6]),
                         ["valid", "valid", "already_checked_in"])
        self.assertEqual(self.scan(server, device, state, tickets[10:18], "Day 2"),
                         ["valid"] * 8)
        before = self.exports(self.db.dsn, event.slug)
        report = self.report(server, event.slug)
        self.assertEqual(before["scans"].count(b"\r\n"), 1 + 20 + 3 + 3 + 8)
        self.assertEqual(before["attendance"].count(b",yes,"), 20 + 8)

        # The backup: one file, while admitd runs.
        dump = os.path.join(self.work, "admit.dump")
        subprocess.run([pg_bin("pg_dump"), "--format=custom", "--file=" + dump,
                        "--dbname=" + self.db.dsn], check=True, timeout=300)
        # The restore: a fresh cluster (another machine), its empty database "admit".
        cluster = PrivateCluster()
        self.addCleanup(cluster.destroy)
        done = subprocess.run([pg_bin("pg_restore"), "--no-owner", "--exit-on-error",
                               "--dbname=" + cluster.dsn, dump], capture_output=True, text=True,
                              timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        done = run_admit("migrate", "--db", cluster.dsn)
        self.assertEqual(done.stdout.strip(), "database at migration %d of %d: up to date"
                         % ((len(glob.glob(os.path.join(harness.SOURCE_DIR, "sql",
                                                        "migrations", "*.sql"))),) * 2))
        self.assertEqual(self.exports(cluster.dsn, event.slug), before)
        # The step after a restore from a dump (deploy/after-restore.sql): without it, a door
        # would download every restored row at every sync (see the file); with it, once.
        done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.dsn,
                               "-f", os.path.join(harness.SOURCE_DIR, "deploy",
                                                  "after-restore.sql")],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.exports(cluster.dsn, event.slug), before)

        # admitd on the restored database, where the old one was.
        self.assertEqual(server.stop(), 0)
        restored = self.start_admitd("--listen", "127.0.0.1:%d" % port, dsn=cluster.dsn)
        self.assertEqual(restored.get("/healthz").status, 200)
        self.assertEqual(self.report(restored, event.slug), report)
        # The door carries on: who was in is still in, the next ticket goes in.
        self.assertEqual(self.scan(restored, device, state, [tickets[6], tickets[25]]),
                         ["already_checked_in", "valid"])
        done = run_admit("sync", "--server", restored.url, "--timeout", "10000",
                         env=dict(os.environ, XDG_STATE_HOME=state))
        self.assertEqual(done.returncode, 0, done.stderr)
        # Another door: a full sync, then one that brings only what changed since (nothing).
        other = add_device(cluster.dsn, event.slug, "Gate B")
        path = "/api/v1/events/%s/sync" % event.slug
        _, first = api_call(restored, "GET", path, token=other)
        self.assertEqual(len(first["registrations"]), 31)
        _, again = api_call(restored, "GET", path + "?since=" + first["cursor"], token=other)
        self.assertEqual((again["full"], again["registrations"], again["admissions"]),
                         (False, [], []))
        browser = Browser(restored)
        ticket_token(browser.post("/events/%s/register" % event.slug,
                                  open_form(browser, event.slug).fields(
                                      email="bob@example.org")))
        restored_db = types.SimpleNamespace(sql=lambda text: psql(cluster.dsn, text))
        confirmed, waitlisted, cancelled, free, capacity = seat_counts(restored_db, event.id)
        self.assertEqual((confirmed, waitlisted, cancelled), (31, 0, 1))
        self.assertEqual(confirmed + free, capacity)

if __name__ == "__main__":
    harness.main()
