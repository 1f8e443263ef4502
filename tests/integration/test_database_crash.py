#!/usr/bin/env python3
"""PostgreSQL crashing under a running admitd (issue 14, item 7): every request that cannot
reach the database answers 503 with Retry-After (a client knows a retry is safe), never 500, on
every kind of path: pages, forms, the organisers' pages, actions and exports, the check-in API
(on the HTTP thread and on the check-in worker) and /healthz. PostgreSQL is a cluster of the
test's own, stopped as a crash would (pg_ctl stop -m immediate: every backend killed at once).

Two ways a request meets the crash:
  - it arrives just after it, on a worker's connection whose server is gone: libpq 15 reports
    the first statement sent there as "server closed the connection unexpectedly" without a
    SQLSTATE while the connection still looks fine (that answered 500);
  - it is in flight: its statement waits on a lock another session holds when the server dies.
"""

import json
import subprocess
import threading
import time

import harness
from harness import (Browser, ServerTestCase, TicketSigner, add_device, api_call, create_event,
                     hidden_field, new_nonce, open_form, psql, register, ticket_token, wait_until)
from test_admin import add_admin, csrf_of, logged_in, registration_id

PASSWORD = "correct horse battery staple"
RETRY_AFTER = "5"  # HTTP_RETRY_AFTER, server/http.h


class DatabaseCrash(ServerTestCase):
    """An event with a registered attendee, an organiser logged in, a door device, admitd."""

    private_cluster = True

    def start(self, *args):
        self.event = create_event(self.db.dsn, slug="conf", capacity=1000)
        add_admin(self.db.dsn, "boss@example.org", PASSWORD)
        self.device = add_device(self.db.dsn, "conf", "Gate A")
        self.server = self.start_admitd(*args)
        _, _, r = register(self.server, "conf", email="ada@example.org")
        self.ticket = ticket_token(r)
        self.attendee = registration_id(self.db, "ada@example.org")
        self.admin = logged_in(self.server, "boss@example.org", PASSWORD)
        self.payload = TicketSigner(self.keys).ticket(self.event.id, self.attendee)

    def senders(self):
        """{name: prepare}: prepare() runs while the database is up (forms are fetched, with
        their CSRF tokens) and returns send(), which makes the request and returns a Response.
        One of each kind of path that needs the database."""
        server, admin, slug, ticket = self.server, self.admin, "conf", self.ticket
        attendee = "/admin/events/conf/attendees/%d" % self.attendee

        def get(browser, path):
            return lambda: lambda: browser.get(path)

        def registration():
            browser = Browser(server)
            form = open_form(browser, slug).fields()
            return lambda: browser.post("/events/conf/register", form)

        def form_post(page, action, fields, browser_of=lambda: Browser(server)):
            def prepare():
                browser = browser_of()
                token = hidden_field(browser.get(page).text, "csrf_token")
                return lambda: browser.post(action, dict(fields, csrf_token=token))
            return prepare

        def admin_action(action, fields=None):
            def prepare():  # the action's confirmation page: its CSRF token and key
                page = admin.get(attendee + "/" + action)
                form = dict(fields or {}, csrf_token=csrf_of(page),
                            key=hidden_field(page.text, "key"))
                return lambda: admin.post(attendee + "/" + action, form)
            return prepare

        def api(method, path, body=None):
            return lambda: lambda: api_call(server, method, path, self.device, body)[0]

        def scan():
            return {"payload": self.payload, "list": "Day 1", "nonce": new_nonce()}

        return {
            "healthz": get(server, "/healthz"),
            "home": get(server, "/"),
            "ticket page": get(server, "/tickets/%s" % ticket),
            "ticket png": get(server, "/tickets/%s/qr.png" % ticket),
            "registration": registration,
            "resend": form_post("/tickets/resend", "/tickets/resend",
                                {"email": "ada@example.org"}),
            "login": form_post("/admin/login", "/admin/login",
                               {"email": "boss@example.org", "password": PASSWORD,
                                "next": ""}),
            "admin attendees": get(admin, "/admin/events/conf/attendees"),
            "admin live.json": get(admin, "/admin/events/conf/live.json"),
            "admin report.csv": get(admin, "/admin/events/conf/report.csv"),
            "admin reissue": admin_action("reissue"),
            "admin export": get(admin, "/admin/events/conf/registrations.csv"),
            "api check-in (worker)": api("POST", "/api/v1/checkins", scan()),
            "api batch": api("POST", "/api/v1/checkins", {"scans": [scan()]}),
            "api sync": api("GET", "/api/v1/events/conf/sync"),
        }

    def assertUnavailable(self, name, r):
        self.assertEqual(r.status, 503, "%s: %d %s" % (name, r.status, r.text[:200]))
        self.assertEqual(r.header("Retry-After"), RETRY_AFTER, name)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", name)
        if name.startswith("api"):
            self.assertEqual(json.loads(r.body)["error"]["code"], "unavailable", name)

    def back_up(self):
        self.cluster.start()
        self.assertTrue(wait_until(lambda: self.server.get("/healthz").status == 200,
                                   timeout=20), self.server.log_text()[-2000:])

    def test_first_request_after_a_crash(self):
        """One worker thread and one check-in worker, so that each request after the crash is
        the first on its connection: crash, request (503), restart, the same request works."""
        self.start("--threads", "1", "--checkin-workers", "1")
        for name, prepare in self.senders().items():
            with self.subTest(name):
                send = prepare()
                before = send()  # warms the connection this kind of request uses
                self.assertLess(before.status, 500, "%s before the crash: %s" % (name, before))
                send = prepare()
                self.cluster.crash()
                try:
                    answer = send()
                finally:
                    self.back_up()
                self.assertUnavailable(name, answer)
                # Each connection waits half a second after a failed attempt (lib/core/db.c).
                self.assertTrue(wait_until(lambda: prepare()().status < 500, timeout=10),
                                "%s after the restart" % name)
        self.assertNotIn("status=500", self.server.log_text())

    def test_requests_in_flight_when_it_crashes(self):
        """Every request waits on a lock (another session holds every table) when PostgreSQL
        stops at once; /healthz takes no lock and is covered above."""
        self.start("--threads", "24")
        senders = {name: prepare() for name, prepare in self.senders().items()
                   if name != "healthz"}
        locker = subprocess.Popen(["psql", "-X", "-q", "-d", self.db.dsn], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(locker.wait, 30)
        locker.stdin.write(
            "BEGIN;\n"
            "DO $$ BEGIN EXECUTE 'LOCK TABLE ' || (SELECT string_agg(format('%I', tablename), ', ')"
            " FROM pg_tables WHERE schemaname = 'public') || ' IN ACCESS EXCLUSIVE MODE'; END $$;\n"
            "SELECT pg_sleep(600);\n")
        locker.stdin.flush()
        self.assertTrue(wait_until(lambda: self.waiting_on_locks() == 0 and self.locks_held()))
        answers = {}

        def run(name, send):
            try:
                answers[name] = send()
            except Exception as e:  # noqa: BLE001 - reported below, per request
                answers[name] = e

        threads = [threading.Thread(target=run, args=item) for item in senders.items()]
        for t in threads:
            t.start()
        # In flight: sent, not answered, most of them with a statement waiting on a lock (two
        # requests may share a worker thread: the second then waits for the first).
        self.assertTrue(wait_until(lambda: self.waiting_on_locks() >= len(senders) // 2,
                                   timeout=20), "%d requests waited on the lock"
                        % self.waiting_on_locks())
        time.sleep(1)  # the stragglers
        early = dict(answers)
        self.cluster.crash()
        for t in threads:
            t.join(60)
        locker.stdin.close()
        self.assertEqual(early, {}, "answered before the crash")
        for name in senders:
            r = answers.get(name)
            self.assertIsInstance(r, harness.Response, "%s: %r" % (name, r))
            self.assertUnavailable(name, r)
        self.back_up()
        self.assertEqual(self.server.get("/events/conf").status, 200)

    def waiting_on_locks(self):
        return int(psql(self.db.dsn, "SELECT count(*) FROM pg_stat_activity WHERE "
                                     "wait_event_type = 'Lock'").strip())

    def locks_held(self):
        return int(psql(self.db.dsn, "SELECT count(*) FROM pg_locks WHERE granted AND "
                                     "mode = 'AccessExclusiveLock' AND relation IS NOT NULL"
                                     " AND pid <> pg_backend_pid()").strip()) > 0


if __name__ == "__main__":
    harness.main()
