#!/usr/bin/python3
"""Certificates of attendance by email (issue 20): `admit print certificates --event SLUG --send`
queues one message per person admitted at least once, through the outbox; the real `admit
mailer` sends each to a real SMTP server (aiosmtpd) with the certificate attached as
certificate.pdf, checked with qpdf, pdffonts, pdftotext (Greek and Cyrillic names) and pdftoppm +
zbarimg, its QR text accepted by `admit verify`. Sending again sends nothing new (once per
person, also for two senders at once); nobody never admitted gets one; before the event ends and
before release nothing is sent, and the command says why.

Debian's /usr/bin/python3 runs this file (python3-aiosmtpd, as test_mail.py).
"""

import email
import email.policy
import os
import re
import threading

import harness
from harness import ServerTestCase, SmtpSink, create_event, run_admit, start_mailer
from test_admin import add_admin, admin_act, admin_post, logged_in
from test_print import PdfChecks, add_people, squash

FROM = "TERRA <tickets@terra.example>"


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


class CertificatesByEmail(ServerTestCase, PdfChecks):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Soil Days")
        add_people(self.db, self.event.slug)
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()
        self.admin = logged_in(self.server, "boss@example.org")
        self.pub = os.path.join(self.keys, "ticket-signing.pub")

    def rid(self, i):
        return int(self.db.sql("SELECT id FROM registrations WHERE token = "
                               "'print-token-%04d-xxxxA'" % i))

    def check_in(self, i, list_id):
        r = admin_act(self.admin, "/admin/events/%s/attendees/%d/checkin"
                      % (self.event.slug, self.rid(i)), {"list": str(list_id)})
        self.assertEqual(r.status, 303, r.text[:300])

    def send(self, check=True):
        return run_admit("print", "certificates", "--db", self.db.dsn, "--event",
                         self.event.slug, "--send", check=check)

    def queued(self):
        return int(self.db.sql("SELECT count(*) FROM mail_outbox WHERE kind = 'certificate'"))

    def check_message(self, message, i, names):
        self.assertEqual(message["Subject"], "Your certificate of attendance: Soil Days")
        self.assertEqual(message["To"].addresses[0].addr_spec, "p%d@example.org" % i)
        text = message.get_body(("plain",)).get_content()
        self.assertIn("certificate of attendance is attached", text)
        self.assertIn("%s/verify" % self.server.url, text)
        parts = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
        self.assertEqual(len(parts), 1)
        self.assertEqual(parts[0].get_content_disposition(), "attachment")
        self.assertEqual(parts[0].get_filename(), "certificate.pdf")
        path = os.path.join(self.work, "certificate-%d.pdf" % i)
        with open(path, "wb") as f:
            f.write(parts[0].get_content())
        pdf_text = squash(self.check_pdf(path))
        for name in names:
            self.assertIn(squash(name), pdf_text)
        [code] = self.qr_texts(path)
        done = run_admit("verify", "--pub", self.pub, code, check=False)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertTrue(done.stdout.startswith("valid certificate event=%d attendee=%d "
                                               % (self.event.id, self.rid(i))), done.stdout)

    def test_once_per_admitted_person_with_the_pdf(self):
        day1, day2, cluster = self.event.list_ids
        self.check_in(0, day2)     # Ζωή Παπαδοπούλου
        self.check_in(1, day1)     # Алексей Смирнов-Черноморский
        self.check_in(1, cluster)

        # Before the event ends and before release: nothing, and why.
        done = self.send(check=False)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("not available yet", done.stderr)
        self.assertEqual(self.queued(), 0)

        run_admit("print", "certificates", "--db", self.db.dsn, "--event", self.event.slug)
        done = self.send()
        self.assertIn("2 certificates of %s queued" % self.event.slug, done.stderr)
        self.assertIn("(0 sent before", done.stderr)
        done = self.send()
        self.assertIn("0 certificates of %s queued" % self.event.slug, done.stderr)
        self.assertIn("(2 sent before", done.stderr)
        self.assertEqual(self.queued(), 2)

        # Someone admitted later gets theirs on the next --send, the others nothing again;
        # two senders at once queue it once.
        self.check_in(3, day1)     # Anne-Sophie de la Tour d'Auvergne
        outputs = []
        threads = [threading.Thread(target=lambda: outputs.append(self.send().stderr))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(re.search(r"(\d+) certificates of", o).group(1)
                                for o in outputs), ["0", "1"], outputs)
        self.assertEqual(self.queued(), 3)

        # The confirmations of the registrations are not this test's matter.
        self.db.sql("DELETE FROM mail_outbox WHERE kind <> 'certificate'")
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        start_mailer(self, sink.url, self.server.url, "--from", FROM)
        messages = {parse(m)["To"].addresses[0].addr_spec: parse(m) for m in sink.wait_for(3)}
        self.assertEqual(sorted(messages), ["p0@example.org", "p1@example.org", "p3@example.org"])
        self.check_message(messages["p0@example.org"], 0, ["Ζωή Παπαδοπούλου", "Day 2"])
        self.check_message(messages["p1@example.org"], 1,
                           ["Алексей Смирнов-Черноморский", "Day 1", "Cluster session"])
        self.check_message(messages["p3@example.org"], 3, ["Anne-Sophie"])
        self.assertTrue(harness.wait_until(lambda: self.db.sql(
            "SELECT count(*) FROM mail_outbox WHERE kind = 'certificate' AND state = 'sent'")
            .strip() == "3", 20))
        self.assertEqual(sink.count(), 3)

    def test_the_button_in_admin(self):
        """The event page's "Email the certificates" button: the same rule, told on the page;
        only the event's organisers, with a valid CSRF token."""
        day1 = self.event.list_ids[0]
        self.check_in(2, day1)     # فاطمة الزهراء
        page = "/admin/events/%s" % self.event.slug
        action = page + "/certificates/send"
        self.assertIn('action="%s"' % action, self.admin.get(page).text)
        r = admin_post(self.admin, page, action)
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertEqual(r.header("Location"), page + "?certificates=not_yet")
        self.assertIn("they are not available yet", self.admin.get(r.header("Location")).text)
        self.assertEqual(self.queued(), 0)

        run_admit("print", "certificates", "--db", self.db.dsn, "--event", self.event.slug)
        r = admin_post(self.admin, page, action)
        self.assertEqual(r.header("Location"), page + "?certificates=1&before=0")
        self.assertIn("Certificates of attendance on their way by email: 1.",
                      self.admin.get(r.header("Location")).text)
        r = admin_post(self.admin, page, action)
        self.assertEqual(r.header("Location"), page + "?certificates=0&before=1")
        self.assertEqual(self.queued(), 1)
        # A forged query shows nothing; no CSRF token, or another event's organiser: refused.
        self.assertNotIn("on their way by email", self.admin.get(page + "?certificates=1%3Cb&before=x").text)
        self.assertEqual(self.admin.post(action, {}).status, 403)
        add_admin(self.db.dsn, "other@example.org", events=[create_event(self.db.dsn).slug])
        other = logged_in(self.server, "other@example.org")
        self.assertEqual(admin_post(other, "/admin", action).status, 404)
        self.assertEqual(self.queued(), 1)

    def test_mistakes_say_what_is_wrong(self):
        done = run_admit("print", "certificates", "--db", self.db.dsn, "--event", "no-such",
                         "--send", check=False)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn('no event has the slug "no-such"', done.stderr)
        done = run_admit("print", "certificates", "--db", self.db.dsn, "--event",
                         self.event.slug, "--send", "--withdraw", check=False)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("--send and --withdraw do not go together", done.stderr)
        self.assertEqual(self.queued(), 0)


if __name__ == "__main__":
    harness.main()
