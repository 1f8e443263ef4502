#!/usr/bin/python3
"""/tickets/resend, black box: the form, the same answer whether or not the address is
registered (and when throttled), the email with every live ticket link of the address (all
events, whatever the case of the address), throttling per address, bad input, CSRF.

Debian's /usr/bin/python3 runs this file for python3-aiosmtpd (see test_mail.py).
"""

import email
import email.policy
import re
import time

import harness
from harness import (Browser, ServerTestCase, SmtpSink, create_event, hidden_field, register,
                     run_admit, ticket_token)

FROM = "TERRA Tickets <tickets@terra.example>"


class Resend(ServerTestCase):

    def deliver(self, server, sink):
        """Runs `admit mailer --once`: delivers what is queued."""
        run_admit("mailer", "--db", self.db.dsn, "--keys", self.keys, "--public-url", server.url,
                  "--templates", harness.TEMPLATES_DIR, "--from", FROM, "--smtp-url", sink.url,
                  "--once")

    def ask(self, server, address, browser=None):
        browser = browser or Browser(server)
        page = browser.get("/tickets/resend")
        self.assertEqual(page.status, 200)
        csrf = hidden_field(page.text, "csrf_token")
        self.assertTrue(csrf)
        return browser.post("/tickets/resend", {"csrf_token": csrf, "email": address})

    @staticmethod
    def neutral(response, address):
        """The page with what legitimately differs (the address typed, CSRF token) taken out."""
        text = response.text.replace(address, "ADDRESS")
        return re.sub(r'name="csrf_token" value="[^"]*"', "", text)

    def test_same_answer_and_the_links(self):
        server = self.start_admitd()
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        first = create_event(self.db.dsn, name="First <conference>", days_ahead=200)
        second = create_event(self.db.dsn, name="Second conference", days_ahead=300)
        t1 = ticket_token(register(server, first.slug, email="Mira.K@example.org")[2])
        t2 = ticket_token(register(server, second.slug, email="mira.k@example.org")[2])
        self.deliver(server, sink)
        self.assertEqual(sink.count(), 2)  # the two confirmations

        page = self.ask(server, "mira.k@EXAMPLE.org")
        self.assertEqual(page.status, 200)
        self.assertIn("If this address is registered, we have sent its ticket links", page.text)
        self.assertSecurityHeaders(page)
        self.assertEqual(page.header("Cache-Control"), "no-store")
        unknown = self.ask(server, "nobody@example.org")
        self.assertEqual(unknown.status, 200)
        self.assertEqual(self.neutral(page, "mira.k@EXAMPLE.org"),
                         self.neutral(unknown, "nobody@example.org"))
        # The log line does not tell them apart either.
        posts = server.wait_request_lines(
            lambda l: l.get("route") == "/tickets/resend" and l.get("method") == "POST", 2)
        self.assertEqual(len(posts), 2)
        self.assertEqual(posts[0].get("status"), posts[1].get("status"))
        self.assertEqual(posts[0].get("note"), posts[1].get("note"))

        self.deliver(server, sink)
        raws = sink.wait_for(3)
        self.assertEqual(len(raws), 3, "an email went to the unknown address")
        message = email.message_from_bytes(raws[2], policy=email.policy.default)
        self.assertEqual(message["Subject"], "Your ticket links")
        self.assertEqual(message["To"].addresses[0].addr_spec.lower(), "mira.k@example.org")
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for token in (t1, t2):
            self.assertIn("%s/tickets/%s" % (server.url, token), text)
            self.assertIn('href="%s/tickets/%s"' % (server.url, token), html)
        self.assertIn("First &lt;conference&gt;", html)
        self.assertLess(text.index("First <conference>"), text.index("Second conference"))
        for line in raws[2].split(b"\r\n"):
            self.assertLessEqual(len(line), 78)

    def test_linked_from_home_event_and_ticket_not_found(self):
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        link = '<a href="/tickets/resend">Get your ticket link again by email</a>'
        for path in ["/", "/events/" + event.slug]:
            page = Browser(server).get(path)
            self.assertEqual(page.status, 200, path)
            self.assertIn(link, page.text, path)
        missing = Browser(server).get("/tickets/" + "A" * 22)
        self.assertEqual(missing.status, 404)
        self.assertIn("Ticket not found", missing.text)
        self.assertIn('href="/tickets/resend">Get your ticket link again by email</a>',
                      missing.text)
        self.assertSecurityHeaders(missing)
        # The link leads to the form.
        self.assertEqual(Browser(server).get("/tickets/resend").status, 200)

    def test_registering_again_emails_the_ticket_link(self):
        # The registration form with an address already registered: the page says to check the
        # email, and the address's owner gets the link to the ticket they have.
        server = self.start_admitd()
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        event = create_event(self.db.dsn, name="Again Conference")
        token = ticket_token(register(server, event.slug, email="twice@example.org")[2])
        again = register(server, event.slug, email="Twice@example.org", given_name="Mallory")[2]
        self.assertEqual(again.status, 200)
        self.assertIn("Check your email", again.text)
        self.assertNotIn(token, again.text)
        self.deliver(server, sink)
        raws = sink.wait_for(2)
        self.assertEqual(len(raws), 2)  # the confirmation, then the links
        message = email.message_from_bytes(raws[1], policy=email.policy.default)
        self.assertEqual(message["Subject"], "Your ticket links")
        self.assertEqual(message["To"].addresses[0].addr_spec, "twice@example.org")
        text = message.get_body(("plain",)).get_content()
        self.assertIn("tried to register this address again", text)
        self.assertIn("%s/tickets/%s" % (server.url, token), text)
        self.assertIn("Again Conference", text)
        self.assertNotIn("Mallory", text)

    def test_throttled_answers_the_same(self):
        server = self.start_admitd()
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        event = create_event(self.db.dsn)
        ticket_token(register(server, event.slug, email="often@example.org")[2])
        pages = [self.ask(server, "often@example.org") for _ in range(5)]
        for page in pages:
            self.assertEqual(page.status, 200)
            self.assertEqual(self.neutral(page, "often@example.org"),
                             self.neutral(pages[0], "often@example.org"))
        self.deliver(server, sink)
        resends = [r for r in sink.wait_for(1)
                   if email.message_from_bytes(r, policy=email.policy.default)["Subject"]
                   == "Your ticket links"]
        self.assertEqual(len(resends), 3)  # three per address and hour
        self.assertEqual(self.db.sql("SELECT count(*) FROM mail_outbox WHERE kind = 'resend'")
                         .strip(), "3")

    def test_bad_input_and_csrf(self):
        server = self.start_admitd()
        browser = Browser(server)
        for address, message in [("", "Enter the email address you registered with"),
                                 ("not-an-address", "Enter an email address like"),
                                 ("a\u0001@example.org", "ordinary text"),
                                 ("x" * 300 + "@example.org", "too long")]:
            page = self.ask(server, address, browser)
            self.assertEqual(page.status, 422, address)
            self.assertIn(message, page.text)
            self.assertIn('aria-invalid="true"', page.text)
        page = self.ask(server, '"><script>alert(1)</script>@example.org', browser)
        self.assertEqual(page.status, 422)
        self.assertNotIn("<script>alert(1)", page.text)
        # Without the CSRF token, or from another site: refused, nothing queued.
        r = browser.post("/tickets/resend", {"email": "a@example.org"})
        self.assertEqual(r.status, 403)
        page = browser.get("/tickets/resend")
        r = browser.post("/tickets/resend", {"csrf_token": hidden_field(page.text, "csrf_token"),
                                             "email": "a@example.org"},
                         headers={"Origin": "https://evil.example"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.db.sql("SELECT count(*) FROM resend_requests").strip(), "0")
        # The page that sends people here links to it.
        self.assertEqual(server.get("/tickets/resend").status, 200)
        self.assertEqual(server.request("HEAD", "/tickets/resend").status, 200)
        self.assertEqual(server.request("PUT", "/tickets/resend", body=b"").status, 405)


if __name__ == "__main__":
    harness.main()
