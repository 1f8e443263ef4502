#!/usr/bin/env python3
"""Where a registration stands, black box (issue 3): cancelling over HTTP (also several times at
once) and the waiting list moving up, events whose registration is closed, not open yet or full without a waiting list,
events and tickets that do not exist.

Each test gets a fresh database and its own admitd (see test_registration.py).
"""

import secrets
import threading
from urllib.parse import quote

import harness
from harness import (Browser, ServerTestCase, create_event, decode_qr_png, local_time, open_form,
                     parse_html, register, seat_counts, ticket_token, verify_ticket)


class StatesCase(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.server = self.start_admitd()

    def stored(self):
        return int(self.db.sql("SELECT count(*) FROM registrations").strip())

    def status_of(self, token):
        return self.db.sql("SELECT status FROM registrations WHERE token = '%s'" % token).strip()

    def registration_id(self, token):
        return int(self.db.sql("SELECT id FROM registrations WHERE token = '%s'" % token))

    def assertInvariant(self, event):
        confirmed, _, _, free, capacity = seat_counts(self.db, event.id)
        self.assertEqual(confirmed + free, capacity, "confirmed %d + free %d != capacity %d"
                         % (confirmed, free, capacity))

    def ticket_page(self, token):
        page = self.server.get("/tickets/" + token)
        self.assertEqual(page.status, 200)
        self.assertEqual(page.header("Cache-Control"), "no-store")
        self.assertSecurityHeaders(page)
        return page

    def assertTicket(self, token):
        """The page shows a QR code, and its PNG is a valid ticket of this registration."""
        doc = parse_html(self.ticket_page(token).text)
        self.assertIsNotNone(doc.find("figure", class_="ticket-qr").find("svg"))
        png = self.server.get("/tickets/%s/qr.png" % token)
        self.assertEqual(png.status, 200)
        payload = decode_qr_png(png.body, self.work)
        status, fields = verify_ticket(self.keys, payload)
        self.assertEqual(status, 0)
        self.assertEqual(int(fields["attendee"]), self.registration_id(token))
        return payload

    def assertNoTicket(self, token, position=None):
        """No QR code on the page nor for download; position: its place on the waiting list."""
        page = self.ticket_page(token)
        doc = parse_html(page.text)
        self.assertIsNone(doc.find("svg"), "a QR code on the page of a %s ticket"
                          % self.status_of(token))
        self.assertNotIn("/qr.png", page.text)
        for image in ["qr.png", "qr.svg"]:
            response = self.server.get("/tickets/%s/%s" % (token, image))
            self.assertEqual(response.status, 404, image)
            self.assertEqual(response.header("Cache-Control"), "no-store")
            self.assertNotIn("image", response.header("Content-Type"))
        if position is not None:
            number = doc.find(class_="waitlist-number")
            self.assertIsNotNone(number, "no waiting-list position")
            self.assertEqual(number.text(), str(position))
            self.assertIn("You are number %d on the waiting list" % position, doc.text())
        return page

    def cancel(self, token, browser=None):
        """Cancels like a person: the confirmation page, then its form. Returns the answer to
        the POST."""
        browser = browser or Browser(self.server)
        page = browser.get("/tickets/%s/cancel" % token)
        self.assertEqual(page.status, 200)
        self.assertEqual(page.header("Cache-Control"), "no-store")
        self.assertSecurityHeaders(page)
        form = parse_html(page.text).find("form", method="post")
        self.assertEqual(form.attrs["action"], "/tickets/%s/cancel" % token)
        self.assertIn("Yes, cancel my registration", form.text())
        csrf = harness.hidden_field(page.text, "csrf_token")
        response = browser.post("/tickets/%s/cancel" % token, {"csrf_token": csrf})
        self.assertEqual(response.status, 303, response.text[:300])
        self.assertEqual(response.header("Location"), "/tickets/%s?cancelled=1" % token)
        self.assertEqual(response.header("Cache-Control"), "no-store")
        return response


class Cancellation(StatesCase):

    def test_cancel_promotes_the_first_on_the_waiting_list(self):
        event = create_event(self.db.dsn, capacity=2, name="Small Workshop")
        tokens = []
        for i in range(5):
            _, _, response = register(self.server, event.slug, given_name="Person%d" % i)
            tokens.append(ticket_token(response))
        a, b, c, d, e = tokens
        self.assertEqual([self.status_of(t) for t in tokens], ["confirmed"] * 2 +
                         ["waitlisted"] * 3)
        old_payload = self.assertTicket(a)
        self.assertTicket(b)
        for position, token in enumerate([c, d, e], 1):
            self.assertNoTicket(token, position)
        self.assertInvariant(event)

        # Cancelling a confirmed ticket: its confirmation page says what happens.
        browser = Browser(self.server)
        page = browser.get("/tickets/%s/cancel" % a)
        self.assertIn("Cancel your registration for Small Workshop?", page.text)
        self.assertIn("Person0 Lovelace", page.text)
        self.assertIn("Your ticket stops working at once", page.text)
        self.assertEqual(self.status_of(a), "confirmed")  # a GET changes nothing
        self.cancel(a, browser)
        self.assertEqual(self.status_of(a), "cancelled")
        self.assertEqual(self.status_of(c), "confirmed")  # the first in line moved up
        cancelled = browser.get("/tickets/%s?cancelled=1" % a)
        self.assertIn("Cancellation confirmed", cancelled.text)
        self.assertIn("Registration cancelled", cancelled.text)
        self.assertIn("no longer admits anyone", cancelled.text)
        self.assertNoTicket(a)
        self.assertTicket(c)
        self.assertNoTicket(d, 1)
        self.assertNoTicket(e, 2)
        self.assertInvariant(event)
        # The old QR code still carries a valid signature: admit verify checks signatures only.
        # Refusing a cancelled ticket at the door is the revocation list's job (the check-in
        # issue: scanners learn about cancellations online or from the synced list).
        status, fields = verify_ticket(self.keys, old_payload)
        self.assertEqual(status, 0)
        self.assertEqual(int(fields["attendee"]), self.registration_id(a))
        # The confirmation page of a cancelled ticket leads back to it; cancelling twice is
        # harmless and promotes no one else.
        again = browser.get("/tickets/%s/cancel" % a)
        self.assertEqual(again.status, 303)
        self.assertEqual(again.header("Location"), "/tickets/" + a)
        csrf = harness.hidden_field(page.text, "csrf_token")
        self.assertEqual(browser.post("/tickets/%s/cancel" % a, {"csrf_token": csrf}).status,
                         303)
        self.assertEqual(self.status_of(d), "waitlisted")

        # Leaving the waiting list promotes no one; those behind move up.
        page = Browser(self.server).get("/tickets/%s/cancel" % d)
        self.assertIn("You leave the waiting list", page.text)
        self.cancel(d)
        self.assertEqual([self.status_of(t) for t in tokens],
                         ["cancelled", "confirmed", "confirmed", "cancelled", "waitlisted"])
        self.assertNoTicket(e, 1)
        self.assertInvariant(event)
        # The next confirmed cancellation empties the waiting list; the one after that gives
        # its seat back, and a new registration takes it.
        self.cancel(b)
        self.assertEqual(self.status_of(e), "confirmed")
        self.assertTicket(e)
        self.cancel(c)
        self.assertEqual(seat_counts(self.db, event.id), (1, 0, 4, 1, 2))
        self.assertInvariant(event)
        _, _, response = register(self.server, event.slug)
        self.assertEqual(self.status_of(ticket_token(response)), "confirmed")
        self.assertEqual(seat_counts(self.db, event.id), (2, 0, 4, 0, 2))
        promoted = self.server.wait_request_lines(
            lambda line: line["route"] == "/tickets/:token/cancel" and line["method"] == "POST"
            and line.get("note") == "promoted", 2)
        self.assertEqual(len(promoted), 2)

    def test_cancel_twice_at_once(self):
        """Five tabs send the same cancellation at once: one seat freed, one person promoted."""
        event = create_event(self.db.dsn, capacity=1)
        tokens = [ticket_token(register(self.server, event.slug)[2]) for _ in range(3)]
        browser = Browser(self.server)
        page = browser.get("/tickets/%s/cancel" % tokens[0])
        csrf = harness.hidden_field(page.text, "csrf_token")
        barrier = threading.Barrier(5)

        def cancel(_):
            barrier.wait(timeout=30)
            return browser.post("/tickets/%s/cancel" % tokens[0], {"csrf_token": csrf}).status

        self.assertEqual(harness.run_threads(cancel, range(5), 5), [303] * 5)
        self.assertEqual([self.status_of(t) for t in tokens],
                         ["cancelled", "confirmed", "waitlisted"])
        self.assertInvariant(event)
        self.assertNoTicket(tokens[2], 1)

    def test_cancel_unknown_and_malformed_tokens(self):
        event = create_event(self.db.dsn)
        browser, _, response = register(self.server, event.slug)
        token = ticket_token(response)
        csrf = harness.hidden_field(browser.get("/tickets/%s/cancel" % token).text,
                                    "csrf_token")
        unknown = secrets.token_urlsafe(16)
        for bad in [unknown, token[:-1], token + "A", token.swapcase(), "!" * 22, "é" * 22,
                    "a b" * 7 + "c", token + "/", "..", "%00" * 22, "-" * 22, "x"]:
            path = "/tickets/" + quote(bad, safe="/%")
            # An encoded NUL anywhere in a path is a bad request (test_input_rules.py).
            status = 400 if "%00" in bad else 404
            for suffix in ["", "/qr.png", "/qr.svg", "/cancel"]:
                response = self.server.get(path + suffix)
                self.assertEqual(response.status, status, "%r%s" % (bad, suffix))
                self.assertSecurityHeaders(response)
                self.assertNotIn("image", response.header("Content-Type"))
            response = browser.post(path + "/cancel", {"csrf_token": csrf})
            self.assertEqual(response.status, status, bad)
        self.assertEqual(self.status_of(token), "confirmed")
        self.assertTrue(self.server.get("/tickets/%s" % unknown).text.count("Ticket not found"))


class EventStates(StatesCase):

    def event_page_showing(self, event, text, timeout=10.0):
        """The event page once it shows text: admitd may serve an event's page from a cache for
        a moment after the event changed in the database (registering always asks it)."""
        pages = []

        def shows():
            pages.append(self.server.get("/events/" + event.slug))
            return pages[-1].status == 200 and text in pages[-1].text

        self.assertTrue(harness.wait_until(shows, timeout=timeout, step=0.2),
                        "the event page never said %r" % text)
        return pages[-1]

    def assertProblem(self, response, status, title, before):
        self.assertEqual(response.status, status, response.text[:300])
        self.assertSecurityHeaders(response)
        self.assertIn(title, parse_html(response.text).find("h1").text())
        self.assertIsNone(response.header("Location"))
        self.assertEqual(self.stored(), before, "something was stored")

    def test_registration_closed(self):
        event = create_event(self.db.dsn, name="Closing Conference")
        browser = Browser(self.server)
        form = open_form(browser, event.slug)
        # Registration closes while the form is open in the browser.
        self.db.sql("UPDATE events SET registration_closes_at = now() - interval '1 minute'"
                    " WHERE id = %d" % event.id)
        before = self.stored()
        response = browser.post("/events/%s/register" % event.slug, form.fields())
        self.assertProblem(response, 403, "Registration for Closing Conference has closed",
                           before)
        self.assertIn("Nothing was stored", response.text)
        page = self.event_page_showing(event, "Registration is closed")
        self.assertIsNone(harness.hidden_field(page.text, "form_nonce"))
        # The same through admit event create with a closing time in the past.
        closed = create_event(self.db.dsn, closes=local_time(-1))
        response = browser.post("/events/%s/register" % closed.slug,
                                form.fields(lists=closed.list_ids[:1]))
        self.assertProblem(response, 403, "has closed", before)

    def test_registration_not_open(self):
        event = create_event(self.db.dsn, name="Future Forum", opens=local_time(10))
        page = self.server.get("/events/" + event.slug)
        self.assertEqual(page.status, 200)
        self.assertIn("Registration opens on", page.text)
        self.assertIsNone(harness.hidden_field(page.text, "form_nonce"))
        # A form from elsewhere (CSRF tokens are per browser, not per event) with a fresh nonce.
        browser = Browser(self.server)
        other = create_event(self.db.dsn)
        fields = open_form(browser, other.slug).fields(lists=event.list_ids[:1])
        before = self.stored()
        response = browser.post("/events/%s/register" % event.slug, fields)
        self.assertProblem(response, 403, "Registration for Future Forum is not open yet", before)
        self.assertIn("nothing was stored", response.text)

    def test_full_without_waiting_list(self):
        event = create_event(self.db.dsn, capacity=1, name="Tiny Seminar")
        first_browser, first_form, response = register(self.server, event.slug)
        first = ticket_token(response)
        late = Browser(self.server)
        late_form = open_form(late, event.slug).fields()
        self.db.sql("UPDATE events SET waitlist = false WHERE id = %d" % event.id)
        before = self.stored()
        response = late.post("/events/%s/register" % event.slug, late_form)
        self.assertProblem(response, 409, "Tiny Seminar is fully booked", before)
        self.assertIn("has no waiting list", response.text)
        page = self.event_page_showing(event, "The event is fully booked")
        self.assertIsNone(harness.hidden_field(page.text, "form_nonce"))
        # The first form sent again is still its registration, not "full".
        self.assertEqual(ticket_token(first_browser.post("/events/%s/register" % event.slug,
                                                         first_form)), first)
        self.assertInvariant(event)
        # A seat freed by a cancellation goes to the next one to register.
        self.cancel(first, first_browser)
        self.event_page_showing(event, 'name="form_nonce"')
        late_form = open_form(late, event.slug).fields()
        token = ticket_token(late.post("/events/%s/register" % event.slug, late_form))
        self.assertEqual(self.status_of(token), "confirmed")
        self.assertInvariant(event)

    def test_event_not_found(self):
        event = create_event(self.db.dsn)
        browser = Browser(self.server)
        fields = open_form(browser, event.slug).fields()
        before = self.stored()
        for slug in ["no-such-event", event.slug + "x", event.slug.upper(), "a" * 70]:
            page = browser.get("/events/" + slug)
            self.assertEqual(page.status, 404, slug)
            self.assertIn("Event not found", page.text)
            self.assertSecurityHeaders(page)
            response = browser.post("/events/%s/register" % slug, fields)
            self.assertProblem(response, 404, "Event not found", before)
        # An event that is gone by the time the form comes back.
        self.db.sql("DELETE FROM events WHERE id = %d" % event.id)
        response = browser.post("/events/%s/register" % event.slug, fields)
        self.assertProblem(response, 404, "Event not found", before)


if __name__ == "__main__":
    harness.main()
