#!/usr/bin/env python3
"""Certificates of attendance (issue 20): from the ticket page once the event is over or the
organisers released them, naming only the days and sessions the person was admitted to (none:
no certificate, and the page says why); checked with qpdf, pdftotext, pdffonts, pdftoppm +
zbarimg; its QR text accepted by admit verify and /verify, and every single-character change
refused. And the PDF ticket from the ticket page, with the same checks.
"""

import os
import subprocess
import urllib.parse

import harness
from harness import ServerTestCase, create_event, run_admit
from test_admin import add_admin, admin_act, logged_in
from test_print import PdfChecks, add_people, squash, tool

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


class Certificates(ServerTestCase, PdfChecks):
    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn)
        add_people(self.db, self.event.slug)
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()
        self.admin = logged_in(self.server, "boss@example.org")
        self.token = "print-token-0001-xxxxA"  # Алексей Смирнов-Черноморский
        self.rid = int(self.db.sql("SELECT id FROM registrations WHERE token = '%s'"
                                   % self.token))
        self.url = "/tickets/%s/certificate.pdf" % self.token
        self.pub = os.path.join(self.keys, "ticket-signing.pub")

    def check_in(self, list_id):
        r = admin_act(self.admin, "/admin/events/%s/attendees/%d/checkin"
                      % (self.event.slug, self.rid), {"list": str(list_id)})
        self.assertEqual(r.status, 303, r.text[:300])

    def certificate_text(self):
        """The certificate's PDF, checked; returns (pdftotext's text, the QR code's text)."""
        r = self.server.get(self.url)
        self.assertEqual(r.status, 200, r.text[:500])
        self.assertEqual(r.header("Content-Type"), "application/pdf")
        path = os.path.join(self.work, "certificate.pdf")
        with open(path, "wb") as f:
            f.write(r.body)
        text = self.check_pdf(path)
        self.assertEqual(int(tool("qpdf", "--show-npages", path).stdout), 1)
        [code] = self.qr_texts(path)
        return text, code

    def test_only_what_was_attended_and_only_when_released_or_over(self):
        self.assertIn(self.url, self.server.get("/tickets/" + self.token).text)
        r = self.server.get(self.url)
        self.assertEqual(r.status, 409)
        self.assertIn("Not available yet", r.text)
        run_admit("print", "certificates", "--db", self.db.dsn, "--event", self.event.slug)
        r = self.server.get(self.url)
        self.assertEqual(r.status, 409)
        self.assertIn("you were not admitted to any day or session", r.text)
        day1, day2, cluster = self.event.list_ids
        self.check_in(cluster)
        self.check_in(day1)
        text, code = self.certificate_text()
        self.assertIn("Алексей Смирнов-Черноморский", text)
        self.assertIn("Московский государственный университет", text)
        self.assertIn("Day 1", text)
        self.assertIn("Cluster session", text)
        self.assertNotIn("Day 2", text)
        self.assertIn(squash(code), squash(text))  # the payload is printed under the code
        self.assertTrue(code.startswith("AC1:"), code)
        done = subprocess.run([harness.ADMIT_BIN, "verify", "--pub", self.pub], input=code + "\n",
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual(done.stdout.split(" key=")[0],
                         "valid certificate event=%d attendee=%d lists=%d,%d"
                         % (self.event.id, self.rid, day1, cluster))
        page = self.server.get("/verify?" + urllib.parse.urlencode({"code": code}))
        self.assertEqual(page.status, 200)
        self.assertIn("Valid certificate", page.text)
        self.assertIn("Алексей Смирнов-Черноморский", page.text)
        self.assertIn("Cluster session", page.text)
        self.assertNotIn("Day 2", page.text)
        # Taken back: until the event ends; then again, without release.
        run_admit("print", "certificates", "--db", self.db.dsn, "--event", self.event.slug,
                  "--withdraw")
        self.assertEqual(self.server.get(self.url).status, 409)
        self.db.sql("UPDATE events SET starts_at = now() - interval '2 days',"
                    " ends_at = now() - interval '1 day' WHERE id = %d" % self.event.id)
        self.certificate_text()

    def test_verify_refuses_what_is_not_a_certificate(self):
        for code, reason in [("hello", "not an admit certificate"),
                             ("AC2:ABC", "unknown certificate format version"),
                             ("AC1:ABC", "malformed"), ("x" * 5000, "malformed")]:
            page = self.server.get("/verify?" + urllib.parse.urlencode({"code": code}))
            self.assertEqual(page.status, 200)
            self.assertIn("Not a valid certificate", page.text)
            self.assertIn(reason, page.text)
        self.assertNotIn("verdict", self.server.get("/verify").text)
        self.assertEqual(self.server.get("/tickets/nope/certificate.pdf").status, 404)
        self.assertEqual(self.server.get("/tickets/%s/certificate.pdf" % ("A" * 22)).status, 404)

    def test_every_single_character_change_is_refused(self):
        run_admit("print", "certificates", "--db", self.db.dsn, "--event", self.event.slug)
        self.check_in(self.event.list_ids[1])
        _, code = self.certificate_text()
        changed = set()
        for i in range(len(code)):
            changed.add(code[:i] + code[i + 1:])  # one character left out
            for c in BASE45:
                changed.add(code[:i] + c + code[i:])  # one put in
                changed.add(code[:i] + c + code[i + 1:])  # one replaced
        changed.discard(code)
        # a space at either end is trimmed as a scanner's line is: not a change of the text
        changed = sorted(x for x in changed if x.strip(" ") == x)
        done = subprocess.run([harness.ADMIT_BIN, "verify", "--pub", self.pub],
                              input="\n".join(changed) + "\n", capture_output=True, text=True,
                              timeout=120)
        lines = done.stdout.splitlines()
        self.assertEqual(len(lines), len(changed))
        accepted = [x for x, line in zip(changed, lines) if line.startswith("valid")]
        self.assertEqual(accepted, [])
        self.assertGreater(len(changed), 10000)
        # and the page refuses a few of them too
        for x in changed[:: len(changed) // 5]:
            page = self.server.get("/verify?" + urllib.parse.urlencode({"code": x}))
            self.assertIn("Not a valid certificate", page.text)

class TicketPdf(ServerTestCase, PdfChecks):
    def test_the_ticket_as_one_pdf_page(self):
        event = create_event(self.db.dsn, name="Soil Health Conference")
        add_people(self.db, event.slug)
        server = self.start_admitd()
        token = "print-token-0001-xxxxA"  # Алексей Смирнов-Черноморский
        rid = int(self.db.sql("SELECT id FROM registrations WHERE token = '%s'" % token))
        url = "/tickets/%s/ticket.pdf" % token
        self.assertIn(url, server.get("/tickets/" + token).text)
        r = server.get(url)
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertEqual(r.header("Content-Type"), "application/pdf")
        path = os.path.join(self.work, "ticket.pdf")
        with open(path, "wb") as f:
            f.write(r.body)
        text = self.check_pdf(path)
        self.assertEqual(int(tool("qpdf", "--show-npages", path).stdout), 1)
        for words in ("Soil Health Conference", "Алексей Смирнов-Черноморский",
                      "Московский государственный университет", "Day 1", "Cluster session"):
            self.assertIn(words, text)
        [code] = self.qr_texts(path)
        done = run_admit("verify", "--pub", os.path.join(self.keys, "ticket-signing.pub"), code)
        self.assertIn("valid event=%d attendee=%d reissue=0 " % (event.id, rid), done.stdout)
        self.db.sql("UPDATE registrations SET status = 'cancelled', cancelled_at = now()"
                    " WHERE id = %d" % rid)
        r = server.get(url)
        self.assertEqual(r.status, 409)
        self.assertIn("This registration has no ticket", r.text)
        self.assertEqual(server.get("/tickets/%s/ticket.pdf" % ("B" * 21 + "A")).status, 404)


if __name__ == "__main__":
    harness.main()
