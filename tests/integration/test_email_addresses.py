#!/usr/bin/python3
"""One rule for email addresses, black box (issue 14, item 4): the registration form, `admit
import`, the resend form, `admit admin add` and the mailer accept exactly the same addresses.

The mailer speaks plain SMTP (no SMTPUTF8: the organiser's relay may not, see README "Emails"),
so an address with accents, non-Latin letters or characters such as ':' outside a quoted string
cannot be sent to. The form used to acknowledge them anyway, and their ticket email never went.
Here every entry point refuses them with the same message, and for a set of tricky addresses
the form's verdict and the mailer's (a real SMTP server, aiosmtpd) are the same.

Debian's /usr/bin/python3 runs this file for python3-aiosmtpd (see test_mail.py).
"""

import subprocess

import harness
from harness import (Browser, ServerTestCase, SmtpSink, create_event, hidden_field, psql,
                     register, registration_form_state, run_admit, wait_until)
from test_import import refused_import

NON_ASCII = ("Our emails cannot reach an address with accents or non-Latin letters: enter one "
             "made of a-z, 0-9 and . _ - +")
SPECIALS = "An email address cannot contain spaces or any of ( ) &lt; &gt; [ ] , ; : \\ &quot;"
SHAPE = "Enter an email address like name@example.org"

# (address, the message the form shows, or None when it is accepted)
ADDRESSES = [
    ("first.last+tag@sub.example.org", None),
    ("o'brien@example.ie", None),
    ("UPPER.Case_99@Example-Domain.ORG", None),
    ("x=y@example.org", None),
    ("j\u00fcrgen@example.org", NON_ASCII),
    ("x@b\u00fccher.de", NON_ASCII),
    ("\u674e@example.cn", NON_ASCII),
    ("a:b@example.org", SPECIALS),
    ("a;b@example.org", SPECIALS),
    ("\"quoted\"@example.org", SPECIALS),
    ("a@[127.0.0.1]", SPECIALS),
    ("a..b@example.org", SHAPE),
    (".a@example.org", SHAPE),
    ("a.@example.org", SHAPE),
    ("a@-example.org", SHAPE),
    ("a@example-.org", SHAPE),
    ("a@exa_mple.org", SHAPE),
    ("a@example.123", SHAPE),
    ("a@example.org.", SHAPE),
    ("%s@example.org" % ("l" * 65), "The part before the @ has at most 64 characters"),
]

FROM = "TERRA Tickets <tickets@terra.example>"


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"


class EmailAddresses(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, capacity=100, name="Addresses")
        self.server = self.start_admitd()

    def stored(self, address):
        return int(self.db.sql("SELECT count(*) FROM registrations WHERE email = %s"
                               % sql_literal(address)).strip())

    def test_form_and_mailer_agree(self):
        """The form's verdict on each address, and whether the mailer can send to it when it is
        stored anyway (as by an older version of admit, through the SQL function directly)."""
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        other = create_event(self.db.dsn, capacity=100, name="Stored directly")
        for i, (address, message) in enumerate(ADDRESSES):
            _, form, r = register(self.server, self.event.slug, email=address,
                                  given_name="Guest %d" % i)
            if message is None:
                self.assertEqual(r.status, 303, (address, r.text[:300]))
                continue
            self.assertEqual(r.status, 422, address)
            state = registration_form_state(r.text)
            self.assertEqual(state["errors"].get("email"), message.replace("&lt;", "<").replace(
                "&gt;", ">").replace("&quot;", '"'), address)
            self.assertIn("email", state["invalid"])
            # The values are kept, the address too, so that it can be corrected.
            self.assertEqual(state["values"]["email"], address)
            self.assertEqual(state["values"]["given_name"], "Guest %d" % i)
            self.assertEqual(self.stored(address), 0)
        for i, (address, _) in enumerate(ADDRESSES):
            self.db.sql("SELECT admit_register(%s, 'direct-nonce-%02d-xxxxxxxxx', "
                        "'direct-token-%02d-xxxxxxxxxx', 'Direct', 'Guest', %s, 'Org', "
                        "'research', 'BE', '', '', (SELECT array_agg(id) FROM checkin_lists "
                        "WHERE event_id = %d))"
                        % (sql_literal(other.slug), i, i, sql_literal(address), other.id))
        outbox = len(ADDRESSES) + sum(1 for _, m in ADDRESSES if m is None)
        run_admit("mailer", "--db", self.db.dsn, "--keys", self.keys, "--public-url",
                  self.server.url, "--templates", harness.TEMPLATES_DIR, "--from", FROM,
                  "--smtp-url", sink.url, "--once")
        self.assertTrue(wait_until(lambda: int(self.db.sql(
            "SELECT count(*) FROM mail_outbox WHERE state IN ('sent', 'failed')")) == outbox))
        states = dict(line.split("|", 1) for line in self.db.sql(
            "SELECT recipient || '|' || state || ':' || coalesce(last_error, '') FROM mail_outbox"
            " WHERE registration_id IN (SELECT id FROM registrations WHERE event_id = %d)"
            % other.id).splitlines())
        delivered = {rcpt for _, rcpts, _ in sink.messages for rcpt in rcpts}
        for address, message in ADDRESSES:
            state = states[address]
            if message is None:
                self.assertTrue(state.startswith("sent:"), (address, state))
                self.assertIn(address, delivered)
            else:
                self.assertEqual(state, "failed:the recipient's address cannot be written to: "
                                 + message.replace("&lt;", "<").replace("&gt;", ">")
                                 .replace("&quot;", '"'), address)
                self.assertNotIn(address, delivered)

    def test_import(self):
        err = refused_import(self, self.event.slug,
                             "Ada,Lovelace,ada@example.org,Engines,research,BE,\r\n"
                             "J\u00fcrgen,Klein,j\u00fcrgen@example.org,Uni,research,DE,\r\n"
                             "Col,On,a:b@example.org,Uni,research,FR,\r\n")
        self.assertIn("line 3: email: " + NON_ASCII, err)
        self.assertIn("line 4: email: An email address cannot contain spaces or any of", err)

    def ask_resend(self, address):
        browser = Browser(self.server)
        csrf = hidden_field(browser.get("/tickets/resend").text, "csrf_token")
        return browser.post("/tickets/resend", {"csrf_token": csrf, "email": address})

    def test_resend(self):
        # An address stored before this rule: resend must not queue another dead message.
        self.db.sql("SELECT admit_register(%s, 'old-nonce-0000000000000', "
                    "'old-token-00000000000000', 'Old', 'Guest', 'j\u00fcrgen@example.org', "
                    "'Org', 'research', 'BE', '', '', (SELECT array_agg(id) FROM checkin_lists"
                    " WHERE event_id = %d))" % (sql_literal(self.event.slug), self.event.id))
        before = int(self.db.sql("SELECT count(*) FROM mail_outbox"))
        for address, message in [("j\u00fcrgen@example.org", NON_ASCII),
                                 ("a:b@example.org", SPECIALS)]:
            r = self.ask_resend(address)
            self.assertEqual(r.status, 422, address)
            self.assertIn(message, r.text)
            self.assertIn('value="%s"' % address, r.text)  # kept, to be corrected
        self.assertEqual(int(self.db.sql("SELECT count(*) FROM mail_outbox")), before)
        self.assertEqual(self.ask_resend("someone@example.org").status, 200)

    def test_admin_add(self):
        done = subprocess.run([harness.ADMIT_BIN, "admin", "add", "--db", self.db.dsn, "--email",
                               "j\u00fcrgen@example.org"], input="correct horse battery\n",
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn(NON_ASCII, done.stderr)
        self.assertEqual(psql(self.db.dsn, "SELECT count(*) FROM admins").strip(), "0")


if __name__ == "__main__":
    harness.main()
