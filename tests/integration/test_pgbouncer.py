#!/usr/bin/python3
"""PgBouncer (Debian 12's 1.18) in session pooling between two admitd and PostgreSQL (issue 19),
configured by deploy/pgbouncer/admit.ini itself, with only its addresses, files and
authentication changed for the test (the test fails if any of those lines is gone). Through it:
a registration on one admitd, the ticket page and an organiser's login on the other, door scans
on both (one valid, then already checked in), and an admitd restarted (its new connections get
server connections that another client used, reset by DISCARD ALL, and prepare afresh). Every
admitd connection is a PgBouncer client (SHOW CLIENTS on its admin console).

Skipped, with a message, where pgbouncer is not installed (scripts/install-deps installs it).
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import (ServerTestCase, TicketSigner, add_device, api_call, create_event,
                     free_port, new_nonce, psql, register, ticket_token, wait_until)
from test_admin import add_admin, logged_in
from test_metrics import metrics_port, scrape

PGBOUNCER = "/usr/sbin/pgbouncer"
EXAMPLE = os.path.join(harness.SOURCE_DIR, "deploy", "pgbouncer", "admit.ini")


def socket_dir(dsn):
    for part in dsn.split():
        if part.startswith("host="):
            return part[len("host="):]
    raise AssertionError("no host= in %r" % dsn)


class PgBouncer:
    """pgbouncer with deploy/pgbouncer/admit.ini, changed to serve database name of the cluster
    whose socket folder is pg_socket, on 127.0.0.1:port, trusting every user (as the test
    cluster does). Runs as the postgres user when started as root (it refuses root)."""

    def __init__(self, name, pg_socket, port, extra=()):
        self.dir = tempfile.mkdtemp(prefix="admit-pgb-")
        self.port = port
        with open(EXAMPLE) as f:
            conf = f.read()
        changes = [
            ("admit = host=/var/run/postgresql port=5432 dbname=admit\n",
             "%s = host=%s port=5432 dbname=%s\n" % (name, pg_socket, name)),
            ("listen_port = 6432\n", "listen_port = %d\n" % port),
            ("unix_socket_dir = /var/run/postgresql\n", "unix_socket_dir =\n"),
            ("auth_type = scram-sha-256\n", "auth_type = trust\nadmin_users = admit\n"),
            ("auth_file = /etc/pgbouncer/userlist.txt\n",
             "auth_file = %s/userlist.txt\nlogfile = %s/pgbouncer.log\npidfile = %s/pgbouncer.pid\n"
             % (self.dir, self.dir, self.dir)),
        ]
        for old, new in changes:
            if conf.count(old) != 1:
                raise AssertionError("deploy/pgbouncer/admit.ini: expected one %r" % old)
            conf = conf.replace(old, new)
        for line in ("pool_mode = session\n", "server_reset_query = DISCARD ALL\n"):
            if line not in conf:
                raise AssertionError("deploy/pgbouncer/admit.ini: %r is gone" % line)
        for old, new in extra:
            conf = conf.replace(old, new)
        self.conf = os.path.join(self.dir, "pgbouncer.ini")
        with open(self.conf, "w") as f:
            f.write(conf)
        with open(os.path.join(self.dir, "userlist.txt"), "w") as f:
            f.write('"admit" ""\n')
        cmd = [PGBOUNCER, self.conf]
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            for n in ("pgbouncer.ini", "userlist.txt"):
                shutil.chown(os.path.join(self.dir, n), "postgres")
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd="/")
        if not wait_until(self.listening, timeout=15):
            self.stop()
            raise AssertionError("pgbouncer did not start: %s" % self.log())

    def listening(self):
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def log(self):
        try:
            with open(os.path.join(self.dir, "pgbouncer.log")) as f:
                return f.read()
        except OSError:
            return ""

    def admin(self, command):
        """A command of the admin console; returns its rows as lists of fields."""
        out = psql("host=127.0.0.1 port=%d dbname=pgbouncer user=admit" % self.port, command)
        return [line.split("|") for line in out.splitlines() if line]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(os.access(PGBOUNCER, os.X_OK),
                     "pgbouncer is not installed (apt-get install pgbouncer, or "
                     "scripts/install-deps): the PgBouncer test is skipped")
class SessionPooling(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.bouncer = PgBouncer(self.db.name, socket_dir(self.db.dsn), free_port())
        self.addCleanup(self.bouncer.stop)
        self.dsn = "host=127.0.0.1 port=%d dbname=%s user=admit" % (self.bouncer.port,
                                                                    self.db.name)

    def test_two_admitd_register_scan_and_login(self):
        event = create_event(self.db.dsn, capacity=10)
        add_admin(self.db.dsn, "boss@example.org")
        device = add_device(self.db.dsn, event.slug, "Gate A")
        a = self.start_admitd("--threads", "2", dsn=self.dsn)
        b = self.start_admitd("--threads", "2", dsn=self.dsn)
        # Both reach the database through PgBouncer (a worker connects at its first request).
        for server in (a, b):
            self.assertEqual(server.get("/healthz").status, 200)
        clients = [row for row in self.bouncer.admin("SHOW CLIENTS") if self.db.name in row]
        self.assertGreaterEqual(len(clients), 2, clients)

        # Registration on a, ticket page and login on b.
        token = ticket_token(register(a, event.slug, email="ada@example.org")[2])
        self.assertEqual(b.get("/tickets/%s" % token).status, 200)
        browser = logged_in(b, "boss@example.org")
        self.assertEqual(browser.get("/admin/events/%s" % event.slug).status, 200)

        # The door: a valid entry on b, then the same ticket on a.
        registration = int(psql(self.db.dsn, "SELECT id FROM registrations WHERE email = "
                                             "'ada@example.org'").strip())
        payload = TicketSigner(self.keys).ticket(event.id, registration, 0)
        verdicts = []
        for server in (b, a):
            r, answer = api_call(server, "POST", "/api/v1/checkins", device,
                                 {"payload": payload, "list": event.lists[0][1],
                                  "nonce": new_nonce()})
            self.assertEqual(r.status, 200, r.text)
            verdicts.append(answer["verdict"])
        self.assertEqual(verdicts, ["valid", "already_checked_in"])

        # a restarted: its new connections are server connections b's or a's old ones used,
        # reset with DISCARD ALL; preparing the statements again must work.
        self.assertEqual(a.stop(), 0)
        a = self.start_admitd("--threads", "2", dsn=self.dsn)
        token2 = ticket_token(register(a, event.slug, email="bob@example.org")[2])
        self.assertEqual(a.get("/tickets/%s" % token2).status, 200)
        self.assertEqual(psql(self.db.dsn, "SELECT count(*) FROM registrations").strip(), "2")
        self.assertIn("DISCARD ALL", open(self.bouncer.conf).read())
        pools = [row for row in self.bouncer.admin("SHOW POOLS") if self.db.name in row]
        self.assertEqual(len(pools), 1, pools)


@unittest.skipUnless(os.access(PGBOUNCER, os.X_OK),
                     "pgbouncer is not installed (apt-get install pgbouncer, or "
                     "scripts/install-deps): the PgBouncer test is skipped")
class TransactionPoolingFails(ServerTestCase):
    """Why the README says session pooling only: in transaction pooling a server connection
    passes from client to client with the statements the first one prepared (no DISCARD ALL),
    and the next admitd connection cannot prepare its own. With one server connection that
    happens at once: admitd's start-up check prepares and leaves, the first worker fails."""

    def test_admitd_cannot_prepare_its_statements(self):
        bouncer = PgBouncer(self.db.name, socket_dir(self.db.dsn), free_port(), extra=[
            ("pool_mode = session\n", "pool_mode = transaction\n"),
            ("default_pool_size = 60\n", "default_pool_size = 1\n")])
        self.addCleanup(bouncer.stop)
        dsn = "host=127.0.0.1 port=%d dbname=%s user=admit" % (bouncer.port, self.db.name)
        server = self.start_admitd("--threads", "1", "--metrics-listen", "127.0.0.1:0", dsn=dsn)
        r = server.get("/healthz")
        self.assertEqual(r.status, 503, r.text)
        # A statement error (42P05: the statement exists), not an unreachable database.
        metrics = scrape(metrics_port(server))
        self.assertGreaterEqual(metrics.get("admit_db_errors_total", kind="other"), 1)
        self.assertEqual(metrics.get("admit_db_connect_failures_total"), 0)
        # The mechanism, by hand: a statement prepared in one client's transaction is there in
        # the next client's.
        through = "host=127.0.0.1 port=%d dbname=%s user=admit" % (bouncer.port, self.db.name)
        subprocess.run(["psql", "-X", "-d", through, "-c", "DEALLOCATE ALL"], capture_output=True)
        psql(through, "PREPARE admit_probe AS SELECT 1")
        done = subprocess.run(["psql", "-X", "-d", through, "-c", "PREPARE admit_probe AS SELECT 1"],
                              capture_output=True, text=True)
        self.assertIn('prepared statement "admit_probe" already exists', done.stderr)
        # The same database straight, or through session pooling, serves.
        self.assertEqual(self.start_admitd("--threads", "1").get("/healthz").status, 200)


if __name__ == "__main__":
    harness.main()
