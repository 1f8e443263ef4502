#!/usr/bin/env python3
"""PostgreSQL restarts in the middle of a registration load, black box (issue 3).

16 client threads register without pause against an admitd whose database (a PrivateCluster of
this test's own) is stopped for a few seconds and started again. Each client behaves as a browser
and a patient person would: it opens the form (again, after a 503), and sends it until it gets
its 303, resending the SAME form (same nonce) after a 503 or a failed connection. Then:
  - while PostgreSQL is down, clients get 503 pages with Retry-After; before and after, 303s;
    nothing else is ever answered;
  - every acknowledged registration (the token of every 303) is in the database, no form became
    two registrations, and every resent form landed on the same ticket;
  - admitd recovered on its own: no restart, /healthz is 200, and it exits 0 on SIGTERM.
"""

import http.client
import threading
import time

import harness
from harness import Browser, ServerTestCase, create_event, RegistrationForm, TICKET_LOCATION_RE

CLIENTS = 16
LOAD_BEFORE = 3.0  # seconds of load before the stop
DOWN = 4.0  # seconds PostgreSQL stays down (after the stop has completed)
LOAD_AFTER = 3.0  # seconds of load once registrations succeed again
RETRY_PAUSE = 0.1  # a client's pause after a 503 (shorter than Retry-After: a test's patience)


class Client(threading.Thread):
    """One person after another registering, until told to stop; finishes the registration it
    has started, however many attempts it takes."""

    def __init__(self, number, server, slug, stop, phase):
        super().__init__(daemon=True)
        self.number, self.server, self.slug = number, server, slug
        self.stop, self.phase = stop, phase
        self.acknowledged = {}  # form nonce -> token of the 303
        self.answers = []  # (phase, what, status or exception name, Retry-After)
        self.unexpected = []
        self.error = None

    def attempt(self, what, call):
        """Calls call() until it answers something other than 503 or a connection failure."""
        while True:
            phase = self.phase[0]
            try:
                response = call()
            except (OSError, http.client.HTTPException) as e:
                self.answers.append((phase, what, type(e).__name__, None))
                time.sleep(RETRY_PAUSE)
                continue
            self.answers.append((phase, what, response.status, response.header("Retry-After")))
            if response.status != 503:
                return response
            if response.header("Retry-After") != "5":
                self.unexpected.append((phase, what, "503 without Retry-After: 5"))
            time.sleep(RETRY_PAUSE)

    def register_once(self, n):
        browser = Browser(self.server)
        page = self.attempt("form", lambda: browser.get("/events/" + self.slug))
        if page.status != 200:
            self.unexpected.append((self.phase[0], "form", page.status, page.text[:300]))
            return
        form = RegistrationForm(page.text)
        fields = form.fields(given_name="Client%d" % self.number,
                             email="c%d.%d@example.org" % (self.number, n))
        tokens = set()
        while True:
            response = self.attempt("register", lambda: browser.post(
                "/events/%s/register" % self.slug, fields))
            m = TICKET_LOCATION_RE.match(response.header("Location") or "")
            if response.status == 303 and m:
                tokens.add(m.group(1))
                break
            self.unexpected.append((self.phase[0], "register", response.status,
                                    response.text[:300]))
            if len(self.unexpected) > 20:
                return
        # Once more: a resent form lands on the same ticket, whatever happened in between.
        again = self.attempt("register", lambda: browser.post(
            "/events/%s/register" % self.slug, fields))
        m = TICKET_LOCATION_RE.match(again.header("Location") or "")
        tokens.add(m.group(1) if m else "status %d" % again.status)
        if len(tokens) != 1:
            self.unexpected.append((self.phase[0], "resent form", sorted(tokens)))
        self.acknowledged[form.form_nonce] = tokens.pop()

    def run(self):
        try:
            n = 0
            while not self.stop.is_set() and len(self.unexpected) <= 20:
                self.register_once(n)
                n += 1
        except Exception as e:  # reported by the test
            self.error = e


class DatabaseRestart(ServerTestCase):

    private_cluster = True

    def acknowledged(self, clients):
        return sum(len(c.acknowledged) for c in clients)

    def test_restart_under_load(self):
        event = create_event(self.db.dsn, capacity=100000, name="Resilient Congress")
        server = self.start_admitd("--threads", "4")
        stop = threading.Event()
        phase = ["before"]
        clients = [Client(i, server, event.slug, stop, phase) for i in range(CLIENTS)]
        for client in clients:
            client.start()
        try:
            time.sleep(LOAD_BEFORE)
            self.assertGreater(self.acknowledged(clients), 0, "no registration before the stop")
            phase[0] = "stopping"
            self.cluster.stop()
            phase[0] = "down"
            down_at = self.acknowledged(clients)
            time.sleep(DOWN)
            self.assertEqual(self.acknowledged(clients), down_at,
                             "registrations acknowledged while PostgreSQL was down")
            phase[0] = "starting"
            self.cluster.start()
            phase[0] = "after"
            up_at = self.acknowledged(clients)
            self.assertTrue(harness.wait_until(lambda: self.acknowledged(clients) > up_at + 10,
                                               timeout=60),
                            "no registration after the restart: %s" % server.log_text()[-3000:])
            time.sleep(LOAD_AFTER)
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=120)
        self.assertFalse([c.number for c in clients if c.is_alive()], "clients still running")
        for client in clients:
            self.assertIsNone(client.error, "client %d: %r" % (client.number, client.error))
            self.assertEqual(client.unexpected, [], "client %d" % client.number)

        answers = [a for c in clients for a in c.answers]
        by_phase = {}
        for phase_name, what, status, retry_after in answers:
            by_phase.setdefault(phase_name, set()).add(status)
        self.assertIn(303, by_phase["before"])
        self.assertIn(503, by_phase["down"], by_phase)
        self.assertLessEqual(by_phase["down"], {503}, "answers while PostgreSQL was down")
        self.assertIn(303, by_phase["after"])
        every = set().union(*by_phase.values())
        self.assertLessEqual(every, {200, 303, 503, "RemoteDisconnected", "ConnectionResetError",
                                     "BrokenPipeError"}, by_phase)

        # Every acknowledged registration is there, once.
        acknowledged = {nonce: token for c in clients for nonce, token in c.acknowledged.items()}
        rows = self.db.sql("SELECT form_nonce, token, status FROM registrations"
                           " WHERE event_id = %d" % event.id).split()
        stored = {}
        for row in rows:
            nonce, token, status = row.split("|")
            self.assertNotIn(nonce, stored, "a form stored twice")
            stored[nonce] = token
            self.assertEqual(status, "confirmed")
        self.assertEqual(len(set(acknowledged.values())), len(acknowledged))
        missing = {n: t for n, t in acknowledged.items() if stored.get(n) != t}
        self.assertEqual(missing, {}, "acknowledged but not stored (or another token)")
        self.assertEqual(set(stored), set(acknowledged), "stored but never acknowledged")
        confirmed, _, _, free, capacity = harness.seat_counts(self.db, event.id)
        self.assertEqual(confirmed + free, capacity)

        # admitd got through on its own.
        self.assertTrue(server.alive())
        self.assertEqual(server.get("/healthz").status, 200)
        self.assertIn("note=db-unavailable", server.log_text())
        self.assertEqual(server.stop(), 0, server.log_text()[-3000:])
        counts = {}
        for phase_name, _, status, _ in answers:
            key = "%s %s" % (phase_name, status)
            counts[key] = counts.get(key, 0) + 1
        print("%d registrations acknowledged; answers: %s" % (len(acknowledged), ", ".join(
            "%s: %d" % kv for kv in sorted(counts.items()))), flush=True)


if __name__ == "__main__":
    harness.main()
