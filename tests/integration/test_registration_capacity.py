#!/usr/bin/env python3
"""Capacity under concurrency, black box (issue 3): 300 people register at once over HTTP for an
event of 20 seats, each in a browser session of their own (GET the form, POST it), from a pool of
50 client threads. Exactly 20 are confirmed and 280 waitlisted, every time, and the seats add up
(confirmed + sum(event_seats.free) = capacity). Run three times, each with a fresh event and an
admitd with a different number of worker threads (each thread is one PostgreSQL connection, so
this is how many registrations race inside PostgreSQL at once).

Then every ticket page is read: the confirmed ones show a QR code, the waitlisted ones their
place in line (1 to 280, in order of registration) and no QR code, and the QR downloads of a
waitlisted ticket are 404.
"""

import http.client
import re
import time

import harness
from harness import (Browser, ServerTestCase, create_event, open_form, parse_html, run_threads,
                     seat_counts, ticket_token)

CAPACITY = 20
PEOPLE = 300
CLIENT_THREADS = 50
ROUNDS = [4, 16, 48]  # admitd worker threads per round
POSITION_RE = re.compile(r'<strong class="waitlist-number">(\d+)</strong>')


def patiently(call, attempts=5):
    """call() again when the connection fails: with 50 clients on a shared 2-core machine a
    connect can time out. A request that got no answer is resent as is; for a POST that is what
    the form nonce is for (the same form twice is one registration)."""
    for attempt in range(attempts):
        try:
            return call()
        except (OSError, http.client.HTTPException):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


class Capacity(ServerTestCase):

    def register_one(self, server, slug, number):
        browser = Browser(server)
        form = patiently(lambda: open_form(browser, slug))
        fields = form.fields(given_name="Person%d" % number,
                             email="person%d.%s@example.org" % (number, slug))
        response = patiently(lambda: browser.post("/events/%s/register" % slug, fields))
        return form.form_nonce, ticket_token(response)

    def check_ticket(self, server, token, status, position):
        page = patiently(lambda: server.get("/tickets/" + token))
        self.assertEqual(page.status, 200)
        has_qr = parse_html(page.text).find("figure", class_="ticket-qr") is not None
        if status == "confirmed":
            self.assertTrue(has_qr, "confirmed ticket without a QR code")
            self.assertIn("<svg", page.text)
            self.assertIsNone(POSITION_RE.search(page.text))
            return None
        self.assertEqual(status, "waitlisted")
        self.assertFalse(has_qr, "waitlisted ticket with a QR code")
        self.assertNotIn("<svg", page.text)
        shown = POSITION_RE.search(page.text)
        self.assertIsNotNone(shown, "no waiting-list position")
        self.assertEqual(int(shown.group(1)), position)
        for image in ["qr.png", "qr.svg"]:
            response = patiently(lambda: server.get("/tickets/%s/%s" % (token, image)))
            self.assertEqual(response.status, 404, image)
        return int(shown.group(1))

    def run_round(self, threads):
        event = create_event(self.db.dsn, capacity=CAPACITY, name="Popular Summit")
        server = self.start_admitd("--threads", str(threads))
        started = time.monotonic()
        results = run_threads(lambda n: self.register_one(server, event.slug, n), range(PEOPLE),
                              CLIENT_THREADS)
        elapsed = time.monotonic() - started
        tokens = [token for _, token in results]
        self.assertEqual(len(set(tokens)), PEOPLE, "two people got the same ticket")

        confirmed, waitlisted, cancelled, free, capacity = seat_counts(self.db, event.id)
        self.assertEqual((confirmed, waitlisted, cancelled), (CAPACITY, PEOPLE - CAPACITY, 0),
                         "round with %d threads" % threads)
        self.assertEqual(confirmed + free, capacity, "seat invariant")
        self.assertEqual(free, 0)
        rows = self.db.sql("SELECT token, status, form_nonce FROM registrations"
                           " WHERE event_id = %d ORDER BY id" % event.id).split()
        by_token = {}
        position = 0
        for row in rows:
            token, status, nonce = row.split("|")
            if status == "waitlisted":
                position += 1
            by_token[token] = (status, position if status == "waitlisted" else None, nonce)
        self.assertEqual(set(by_token), set(tokens), "a 303 without its registration")
        for nonce, token in results:
            self.assertEqual(by_token[token][2], nonce)

        shown = run_threads(lambda t: self.check_ticket(server, t, *by_token[t][:2]), tokens,
                            CLIENT_THREADS)
        self.assertEqual(sorted(p for p in shown if p is not None),
                         list(range(1, PEOPLE - CAPACITY + 1)))
        self.assertEqual(server.get("/healthz").status, 200)
        self.assertEqual(server.stop(), 0, server.log_text()[-2000:])
        statuses = [line["status"] for line in server.request_lines()
                    if line["route"] == "/events/:slug/register"]
        self.assertEqual(statuses, ["303"] * len(statuses))
        print("round with %d admitd threads: %d registrations in %.1f s"
              % (threads, PEOPLE, elapsed), flush=True)

    def test_cancellations_during_the_rush(self):
        """Registrations and cancellations at once: a freed seat never stays free while someone
        waits, and the seats still add up."""
        event = create_event(self.db.dsn, capacity=CAPACITY, name="Churning Symposium")
        server = self.start_admitd("--threads", "16")

        def person(number):
            nonce, token = self.register_one(server, event.slug, number)
            if number % 4 == 0:  # a quarter change their mind at once
                browser = Browser(server)
                page = patiently(lambda: browser.get("/tickets/%s/cancel" % token))
                csrf = harness.hidden_field(page.text, "csrf_token")
                response = patiently(lambda: browser.post("/tickets/%s/cancel" % token,
                                                          {"csrf_token": csrf}))
                self.assertEqual(response.status, 303)
            return token

        tokens = run_threads(person, range(200), CLIENT_THREADS)
        self.assertEqual(len(set(tokens)), 200)
        confirmed, waitlisted, cancelled, free, capacity = seat_counts(self.db, event.id)
        self.assertEqual(cancelled, 50)
        self.assertEqual(confirmed + free, capacity, "seat invariant")
        self.assertEqual((confirmed, waitlisted, free), (CAPACITY, 150 - CAPACITY, 0),
                         "a seat is free while people wait, or a seat was lost")

    def test_capacity_is_exact_under_concurrency(self):
        for threads in ROUNDS:
            with self.subTest(threads=threads):
                self.run_round(threads)


if __name__ == "__main__":
    harness.main()
