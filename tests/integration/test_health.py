#!/usr/bin/env python3
"""Health checks for load balancers (server/health.c): /livez answers while the process serves
HTTP, whatever the database does; /healthz answers 200 only when the database answers and holds
the migrations this admitd was built for (more, from a newer release during a rolling upgrade,
is still 200, with a note), 503 with Retry-After otherwise (unreachable, behind), and comes back
by itself.
"""

import os
import time

import harness
from harness import ServerTestCase, wait_until


def migrations_expected():
    """How many migrations this build knows: the files of sql/migrations/."""
    folder = os.path.join(harness.SOURCE_DIR, "sql", "migrations")
    return len([name for name in os.listdir(folder) if name.endswith(".sql")])


class Health(ServerTestCase):

    def assertPlain(self, r, status, body):
        self.assertEqual((r.status, r.body), (status, body))
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        if status == 503:
            self.assertIsNotNone(r.header("Retry-After"))

    def test_livez_and_healthz(self):
        server = self.start_admitd()
        self.assertPlain(server.get("/livez"), 200, b"alive\n")
        self.assertSecurityHeaders(server.get("/livez"))
        self.assertEqual(server.request("HEAD", "/livez").status, 200)
        self.assertPlain(server.get("/healthz"), 200, b"ok\n")

    def test_healthz_checks_the_migrations(self):
        n = migrations_expected()
        server = self.start_admitd()
        self.assertPlain(server.get("/healthz"), 200, b"ok\n")
        # Ahead: a newer release migrated the database, and this one still serves (a rolling
        # upgrade): still in service, with a note.
        self.db.sql("INSERT INTO schema_migrations (version, name, checksum)"
                    " VALUES (%d, 'from a newer release', 'x')" % (n + 1))
        self.assertPlain(server.get("/healthz"), 200, b"ok: database at migration %d, this admitd"
                         b" is built for %d: restart it on the new release\n" % (n + 1, n))
        self.assertPlain(server.get("/livez"), 200, b"alive\n")
        self.db.sql("DELETE FROM schema_migrations WHERE version = %d" % (n + 1))
        self.assertPlain(server.get("/healthz"), 200, b"ok\n")
        # Behind: the last migration missing (and a gap: the latest is there, one before is not).
        self.db.sql("CREATE TABLE saved AS SELECT * FROM schema_migrations")
        self.db.sql("DELETE FROM schema_migrations WHERE version = %d" % n)
        self.assertPlain(server.get("/healthz"), 503, b"database at migration %d, this admitd is"
                         b" built for %d: run admit migrate\n" % (n - 1, n))
        self.db.sql("INSERT INTO schema_migrations SELECT * FROM saved WHERE version = %d" % n)
        self.db.sql("DELETE FROM schema_migrations WHERE version = 1")
        self.assertEqual(server.get("/healthz").status, 503)
        self.db.sql("INSERT INTO schema_migrations SELECT * FROM saved WHERE version = 1")
        self.assertPlain(server.get("/healthz"), 200, b"ok\n")
        notes = [line.get("note") for line in server.request_lines()
                 if line.get("route") == "/healthz" and line.get("note")]
        self.assertEqual(notes, ["db-ahead", "db-behind", "db-behind"])


class HealthWithoutTheDatabase(ServerTestCase):
    private_cluster = True

    def test_database_away_and_back(self):
        server = self.start_admitd("--threads", "1")
        self.assertEqual(server.get("/healthz").status, 200)
        self.cluster.stop()
        r = server.get("/healthz")
        self.assertEqual((r.status, r.body), (503, b"database unavailable\n"))
        started = time.monotonic()
        self.assertEqual(server.get("/livez").body, b"alive\n")
        self.assertLess(time.monotonic() - started, 1.0)
        self.cluster.start()
        self.assertTrue(wait_until(lambda: server.get("/healthz").status == 200, timeout=20))


if __name__ == "__main__":
    harness.main()
