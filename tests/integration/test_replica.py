#!/usr/bin/python3
"""Reports and exports from a streaming standby (--db-replica, issue 19): a primary of the
test's own and a standby made from it with pg_basebackup (scripts/pg standby). With the
standby's replay paused, a registration made on the primary is missing from the CSV exports
and the attendance report, and present in what the primary serves: they are read from the
standby. Replay resumed, it appears. The standby stopped, they are served by the primary (log
note, metrics counter) instead of failing.
"""

import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import ServerTestCase, create_event, psql, register, ticket_token, wait_until
from test_admin import add_admin, logged_in
from test_metrics import metrics_port, scrape


class Replica(ServerTestCase):
    private_cluster = True

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, capacity=100, name="Replica Conference")
        add_admin(self.db.dsn, "boss@example.org")
        self.standby_dir = tempfile.mkdtemp(prefix="admit-sb-")
        self.addCleanup(shutil.rmtree, self.standby_dir, True)
        self.addCleanup(self.standby, "destroy")
        self.standby("standby", self.cluster.dir)
        self.replica_dsn = harness.dsn_for("host=%s/run user=admit" % self.standby_dir,
                                           self.db.name)

    def standby(self, action, *extra):
        done = subprocess.run([os.path.join(harness.SOURCE_DIR, "scripts", "pg"), action,
                               self.standby_dir] + list(extra),
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError("scripts/pg %s: %s" % (action, done.stderr))

    def caught_up(self):
        """Waits until the standby has replayed everything the primary wrote so far."""
        lsn = psql(self.db.dsn, "SELECT pg_current_wal_lsn()").strip()
        self.assertTrue(wait_until(lambda: psql(self.replica_dsn, (
            "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn" % lsn)).strip() == "t",
            timeout=20))

    def emails(self, browser, what):
        r = browser.get("/admin/events/%s/%s" % (self.event.slug, what))
        self.assertEqual(r.status, 200, r.text[:300])
        return set(re.findall(r"[a-z0-9.]+@example\.org", r.text))

    def test_reports_and_exports_read_the_standby(self):
        self.assertEqual(psql(self.replica_dsn, "SELECT pg_is_in_recovery()").strip(), "t")
        server = self.start_admitd("--db-replica", self.replica_dsn,
                                   "--metrics-listen", "127.0.0.1:0")
        self.assertIn("read from --db-replica", server.log_text())
        port = metrics_port(server)
        browser = logged_in(server, "boss@example.org")
        ticket_token(register(server, self.event.slug, email="early@example.org")[2])
        self.caught_up()
        self.assertEqual(self.emails(browser, "registrations.csv"), {"early@example.org"})

        # Replay paused: the standby stops at this point, the primary goes on.
        psql(self.replica_dsn, "SELECT pg_wal_replay_pause()")
        ticket_token(register(server, self.event.slug, email="late@example.org")[2])
        self.assertEqual(self.emails(browser, "registrations.csv"), {"early@example.org"})
        report = browser.get("/admin/events/%s/report.csv" % self.event.slug)
        self.assertEqual(report.status, 200)
        # The primary has both (the attendee list page reads the primary).
        self.assertEqual(psql(self.db.dsn, "SELECT count(*) FROM registrations").strip(), "2")
        self.assertIn("late@example.org", browser.get(
            "/admin/events/%s/attendees" % self.event.slug).text)
        psql(self.replica_dsn, "SELECT pg_wal_replay_resume()")
        self.caught_up()
        self.assertEqual(self.emails(browser, "registrations.csv"),
                         {"early@example.org", "late@example.org"})
        report_after = browser.get("/admin/events/%s/report.csv" % self.event.slug)
        self.assertEqual(report_after.status, 200)
        self.assertNotEqual(report.body, report_after.body, "the report did not move")
        self.assertEqual(scrape(port).get("admit_db_replica_fallbacks_total"), 0)

        # The standby down: the primary serves them, and says so.
        self.standby("stop")
        self.assertEqual(self.emails(browser, "registrations.csv"),
                         {"early@example.org", "late@example.org"})
        self.assertEqual(browser.get("/admin/events/%s/report.csv" % self.event.slug).body,
                         report_after.body)
        self.assertEqual(browser.get("/admin/events/%s/report" % self.event.slug).status, 200)
        def noted():
            return [l for l in server.log_text().splitlines() if "note=replica-down" in l]
        wait_until(lambda: len(noted()) >= 3)
        self.assertEqual(len(noted()), 3, server.log_text()[-3000:])
        self.assertEqual(scrape(port).get("admit_db_replica_fallbacks_total"), 3)
        # Back: read from it again.
        self.standby("start")
        psql(self.replica_dsn, "SELECT pg_wal_replay_pause()")
        ticket_token(register(server, self.event.slug, email="third@example.org")[2])
        self.assertTrue(wait_until(lambda: self.emails(browser, "registrations.csv")
                                   == {"early@example.org", "late@example.org"}, timeout=10))
        psql(self.replica_dsn, "SELECT pg_wal_replay_resume()")


if __name__ == "__main__":
    harness.main()
