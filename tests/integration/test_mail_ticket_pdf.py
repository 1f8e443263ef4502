#!/usr/bin/python3
"""The PDF ticket attached to the confirmation email (issue 20), the organisers' choice per event,
off by default: set and unset in the event form in /admin, then the real `admit mailer` sends to
a real SMTP server (aiosmtpd, harness.SmtpSink). With the setting on, the message carries an
application/pdf attachment ticket.pdf that passes qpdf --check with its fonts embedded, whose
text (pdftotext) names the attendee (a Greek name too), and whose QR code (pdftoppm + zbarimg)
is the attendee's valid ticket for `admit verify`; with it off (and on another event) there is
none. A waiting-list message never carries it, and the promotion that follows does.

Debian's /usr/bin/python3 runs this file (python3-aiosmtpd, as test_mail.py).
"""

import email
import email.policy
import os

import harness
from harness import (ServerTestCase, SmtpSink, create_event, parse_html, register, start_mailer,
                     ticket_token, verify_ticket)
from test_admin import add_admin, admin_post, logged_in
from test_admin_pages import event_fields
from test_print import PdfChecks, squash, tool

FROM = "TERRA <tickets@terra.example>"


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def pdf_parts(message):
    return [p for p in message.walk() if p.get_content_type() == "application/pdf"]


class TicketPdfByEmail(ServerTestCase, PdfChecks):

    def setUp(self):
        super().setUp()
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()
        self.browser = logged_in(self.server, "boss@example.org")

    def set_attach(self, event, on):
        """Sends the event form as it stands, with the PDF ticket box ticked or not."""
        edit = "/admin/events/%s/edit" % event.slug
        form = parse_html(self.browser.get(edit).text)
        value = lambda name: [i.attrs.get("value", "") for i in form.find_all("input", name=name)]
        fields = event_fields(slug=None, name=event.name, capacity=str(event.capacity),
                              waitlist="yes", list_id=value("list_id"),
                              list_name=value("list_name"), list_day=value("list_day"),
                              starts=value("starts")[0], ends=value("ends")[0],
                              attach_pdf_ticket="yes" if on else None)
        r = admin_post(self.browser, edit, edit, fields)
        self.assertEqual(r.status, 303, r.text[:800])
        stored = self.db.sql("SELECT attach_pdf_ticket FROM events WHERE slug = '%s'"
                             % event.slug).strip()
        self.assertEqual(stored, "t" if on else "f")
        box = parse_html(self.browser.get(edit).text).find_all("input", name="attach_pdf_ticket")
        self.assertEqual(len(box), 1)
        self.assertEqual("checked" in box[0].attrs, on)

    def check_ticket_pdf(self, part, names):
        self.assertEqual(part.get_content_disposition(), "attachment")
        self.assertEqual(part.get_filename(), "ticket.pdf")
        data = part.get_content()
        self.assertTrue(data.startswith(b"%PDF-"), data[:20])
        path = os.path.join(self.work, "mailed-ticket.pdf")
        with open(path, "wb") as f:
            f.write(data)
        text = squash(self.check_pdf(path))
        for name in names:
            self.assertIn(squash(name), text)
        pages = tool("qpdf", "--show-npages", path).stdout.strip()
        self.assertEqual(pages, "1")
        texts = self.qr_texts(path)
        self.assertEqual(len(texts), 1, texts)
        status, fields = verify_ticket(self.keys, texts[0])
        self.assertEqual(status, 0, texts[0])
        return fields

    def test_attached_when_the_organisers_choose_it_and_not_otherwise(self):
        chosen = create_event(self.db.dsn, name="Conference with PDF", capacity=1)
        other = create_event(self.db.dsn, name="Conference without PDF")
        self.assertEqual(self.db.sql("SELECT count(*) FROM events WHERE attach_pdf_ticket")
                         .strip(), "0", "off by default")
        self.set_attach(chosen, True)
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        start_mailer(self, sink.url, self.server.url, "--from", FROM)

        register(self.server, chosen.slug, given_name="Ζωή", family_name="Παπαδοπούλου",
                 email="zoe@example.org")
        message = parse(sink.wait_for(1)[0])
        parts = pdf_parts(message)
        self.assertEqual(len(parts), 1)
        fields = self.check_ticket_pdf(parts[0], ["Ζωή", "Παπαδοπούλου", "Conference with PDF"])
        zoe = self.db.sql("SELECT id FROM registrations WHERE email = 'zoe@example.org'").strip()
        self.assertEqual(fields["attendee"], zoe)
        # The rest of the message is as before: the inline QR code and the calendar.
        types = [p.get_content_type() for p in message.walk()]
        self.assertIn("image/png", types)
        self.assertIn("text/calendar", types)

        # The event is full: the waiting-list message has no ticket, so no PDF.
        _, _, r = register(self.server, chosen.slug, given_name="Ada", family_name="Lovelace",
                           email="ada@example.org")
        ada = ticket_token(r)
        message = parse(sink.wait_for(2)[1])
        self.assertIn("waiting list", message["Subject"])
        self.assertEqual(pdf_parts(message), [])

        # Another event, setting untouched (off): no PDF.
        register(self.server, other.slug, given_name="Bob", family_name="Builder",
                 email="bob@example.org")
        message = parse(sink.wait_for(3)[2])
        self.assertEqual(pdf_parts(message), [])
        self.assertIn("image/png", [p.get_content_type() for p in message.walk()])

        # Turned off again: the next confirmation of the chosen event has none either; Zoë
        # cancels, Ada is promoted (with the setting on again, her promotion carries it).
        self.set_attach(chosen, False)
        browser = harness.Browser(self.server)
        zoe_token = self.db.sql("SELECT token FROM registrations WHERE email = 'zoe@example.org'")
        zoe_token = zoe_token.strip()
        self.set_attach(chosen, True)
        page = browser.get("/tickets/%s/cancel" % zoe_token)
        csrf = harness.hidden_field(page.text, "csrf_token")
        self.assertEqual(browser.post("/tickets/%s/cancel" % zoe_token,
                                      {"csrf_token": csrf}).status, 303)
        messages = [parse(m) for m in sink.wait_for(5)[3:5]]
        by_to = {m["To"].addresses[0].addr_spec: m for m in messages}
        self.assertEqual(pdf_parts(by_to["zoe@example.org"]), [])
        promoted = pdf_parts(by_to["ada@example.org"])
        self.assertEqual(len(promoted), 1)
        self.check_ticket_pdf(promoted[0], ["Ada", "Lovelace"])
        self.assertEqual(self.server.get("/tickets/%s" % ada).status, 200)

    def test_off_means_no_attachment(self):
        event = create_event(self.db.dsn, name="Plain Conference")
        self.set_attach(event, True)
        self.set_attach(event, False)
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        start_mailer(self, sink.url, self.server.url, "--from", FROM)
        register(self.server, event.slug, given_name="Carla", family_name="Rossi",
                 email="carla@example.org")
        message = parse(sink.wait_for(1)[0])
        self.assertEqual(pdf_parts(message), [])
        self.assertIn("image/png", [p.get_content_type() for p in message.walk()])


if __name__ == "__main__":
    harness.main()
