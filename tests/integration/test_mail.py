#!/usr/bin/python3
"""E-mail, black box: admitd, `admit mailer` and a real SMTP server (aiosmtpd) on a loopback port.

Every message is parsed with Python's email package (policy.default, a real MIME parser): the
headers (Date, Message-ID, From and To with encoded non-ASCII names, lines within 78), the parts
(multipart/mixed { related { alternative { text/plain, text/html }, image/png }, text/calendar }),
the inline QR code decoded with zbarimg and accepted by `admit verify`, the ticket link opened,
the .ics parsed with python3-icalendar and its VTIMEZONE checked against the system's zoneinfo.
The flows: registration, waiting list, promotion, cancellation, reissue; a refused recipient;
the SMTP server down for a while then back (every message arrives once); the mailer killed
between a delivery and its record (the one duplicate, with the same Message-ID); SIGTERM.

Debian's /usr/bin/python3 runs this file: python3-aiosmtpd and python3-icalendar are Debian
packages (scripts/install-deps).
"""

import datetime
import email
import email.policy
import email.utils
import re
import signal
import time
import zoneinfo

import harness
from harness import (ServerTestCase, SmtpSink, TlsCertificate, create_event, decode_qr_png, free_port,
                     register, run_admit, start_mailer, ticket_token, verify_ticket, wait_until)

import icalendar

FROM = "TERRA Conf\u00e9rence <tickets@terra.example>"


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def structure(part):
    """The MIME tree as nested lists of content types."""
    if part.is_multipart():
        return [part.get_content_type(), [structure(p) for p in part.iter_parts()]]
    return part.get_content_type()


def find(message, content_type):
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


class MailTestCase(ServerTestCase):

    def check_wire_form(self, raw):
        """7-bit, CRLF, no line over 78 characters."""
        self.assertTrue(all(b < 128 for b in raw), "8-bit bytes in the message")
        lines = raw.split(b"\r\n")
        self.assertEqual(lines[-1], b"", "the message does not end with CRLF")
        for line in lines:
            self.assertNotIn(b"\n", line, "a bare LF")
            self.assertLessEqual(len(line), 78, line)

    def check_headers(self, message, to_name, to_addr):
        self.assertEqual(message["From"].addresses[0].display_name, "TERRA Conf\u00e9rence")
        self.assertEqual(message["From"].addresses[0].addr_spec, "tickets@terra.example")
        self.assertEqual(message["To"].addresses[0].display_name, to_name)
        self.assertEqual(message["To"].addresses[0].addr_spec, to_addr)
        date = email.utils.parsedate_to_datetime(message["Date"])
        self.assertLess(abs((datetime.datetime.now(datetime.timezone.utc) - date).total_seconds()),
                        600)
        self.assertRegex(message["Message-ID"], r"^<[0-9a-f-]{36}@terra\.example>$")
        self.assertEqual(message["MIME-Version"], "1.0")
        self.assertEqual(message["Auto-Submitted"], "auto-generated")

    def check_qr(self, message, expect_reissue):
        """The inline QR code: referenced by the HTML part, decoded, verified."""
        image = find(message, "image/png")
        self.assertIsNotNone(image)
        self.assertEqual(image.get_content_disposition(), "inline")
        cid = image["Content-ID"].strip("<>")
        html = find(message, "text/html").get_content()
        self.assertIn('src="cid:%s"' % cid, html)
        payload = decode_qr_png(image.get_content(), self.work)
        self.assertIsNotNone(payload, "zbarimg read nothing off the inline QR code")
        status, fields = verify_ticket(self.keys, payload)
        self.assertEqual(status, 0, payload)
        self.assertEqual(fields["reissue"], str(expect_reissue))
        return payload, fields

    def check_calendar(self, message, event, method):
        part = find(message, "text/calendar")
        self.assertIsNotNone(part)
        self.assertEqual(part.get_content_disposition(), "attachment")
        self.assertEqual(part.get_filename(), "event.ics")
        self.assertEqual(part.get_param("method"), method)
        raw = part.get_payload(decode=True)
        for line in raw.split(b"\r\n")[:-1]:
            self.assertLessEqual(len(line), 75, line)
        self.assertTrue(raw.endswith(b"END:VCALENDAR\r\n"))
        cal = icalendar.Calendar.from_ical(raw)
        self.assertEqual(str(cal["METHOD"]), method)
        vevent = [c for c in cal.walk("VEVENT")][0]
        tz = zoneinfo.ZoneInfo("Europe/Brussels")
        start = datetime.datetime.combine(event.starts, datetime.time(9, 0), tzinfo=tz)
        self.assertEqual(vevent.decoded("DTSTART"), start)
        self.assertEqual(vevent["DTSTART"].params["TZID"], "Europe/Brussels")
        self.assertEqual(str(vevent["SUMMARY"]), event.name)
        self.assertEqual(str(vevent["LOCATION"]), "%s, %s" % (event.venue, event.address))
        # The VTIMEZONE agrees with the system's time zone data at every change it lists, and
        # gives the event's start the offset zoneinfo gives it.
        vtz = [c for c in cal.walk("VTIMEZONE")][0]
        self.assertEqual(str(vtz["TZID"]), "Europe/Brussels")
        observances = sorted(((o.decoded("DTSTART"), o.decoded("TZOFFSETFROM"),
                               o.decoded("TZOFFSETTO"), o.name)
                              for o in vtz.subcomponents), key=lambda o: o[0])
        self.assertGreaterEqual(len(observances), 1)
        for local, offset_from, offset_to, kind in observances[1:]:
            instant = (local - offset_from).replace(tzinfo=datetime.timezone.utc)
            before = instant - datetime.timedelta(minutes=1)
            self.assertEqual(before.astimezone(tz).utcoffset(), offset_from, local)
            self.assertEqual(instant.astimezone(tz).utcoffset(), offset_to, local)
            self.assertEqual(kind == "DAYLIGHT", offset_to > min(o[2] for o in observances))
        naive_start = start.replace(tzinfo=None)
        in_force = [o for o in observances if o[0] <= naive_start][-1]
        self.assertEqual(in_force[2], start.utcoffset())
        return vevent


class Flows(MailTestCase):

    def test_registration_waitlist_promotion_cancellation_reissue(self):
        server = self.start_admitd()
        event = create_event(self.db.dsn, name="Conf\u00e9rence & <Soil>", capacity=1,
                             extra=["--organiser", "The TERRA consortium", "--contact",
                                    "events@terra.example"])
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        mailer = start_mailer(self, sink.url, server.url, "--from", FROM)

        # Registered: the confirmation, with the ticket.
        _, _, r = register(server, event.slug, given_name="Zo\u00eb <b>", family_name="N\u00fa\u00f1ez",
                           email="zoe@example.org")
        zoe = ticket_token(r)
        raw = sink.wait_for(1)[0]
        self.check_wire_form(raw)
        message = parse(raw)
        self.check_headers(message, "Zo\u00eb <b> N\u00fa\u00f1ez", "zoe@example.org")
        self.assertEqual(message["Subject"], "Your ticket for Conf\u00e9rence & <Soil>")
        self.assertEqual(message["Reply-To"].addresses[0].addr_spec, "events@terra.example")
        self.assertEqual(structure(message),
                         ["multipart/mixed",
                          [["multipart/related",
                            [["multipart/alternative", ["text/plain", "text/html"]],
                             "image/png"]],
                           "text/calendar"]])
        text = find(message, "text/plain").get_content()
        html = find(message, "text/html").get_content()
        link = "%s/tickets/%s" % (server.url, zoe)
        self.assertIn(link, text)
        self.assertIn('href="%s"' % link, html)
        self.assertIn("Hello Zo\u00eb <b>,", text)
        self.assertIn("Hello Zo\u00eb &lt;b&gt;,", html)
        self.assertNotIn("<b>,", html)
        self.assertIn("Conf\u00e9rence &amp; &lt;Soil&gt;", html)
        self.assertEqual(server.get("/tickets/%s" % zoe).status, 200)
        payload, fields = self.check_qr(message, 0)
        # The email's QR code is the ticket page's: the same cached image.
        png = server.get("/tickets/%s/qr.png" % zoe).body
        self.assertEqual(png, find(message, "image/png").get_content())
        vevent = self.check_calendar(message, event, "PUBLISH")
        self.assertEqual(str(vevent["URL"]), "%s/events/%s" % (server.url, event.slug))
        self.assertNotIn(zoe.encode(), find(message, "text/calendar").get_payload(decode=True))
        uid = str(vevent["UID"])
        self.assertRegex(uid, r"^registration-%s-event-%d@127\.0\.0\.1$" % (fields["attendee"],
                                                                           event.id))

        # The event is full: the second attendee is told they wait, without a ticket.
        _, _, r = register(server, event.slug, given_name="Ada", family_name="Lovelace",
                           email="ada@example.org")
        ada = ticket_token(r)
        message = parse(sink.wait_for(2)[1])
        self.assertEqual(message["Subject"], "You are on the waiting list for Conf\u00e9rence & <Soil>")
        self.assertEqual(structure(message),
                         ["multipart/alternative", ["text/plain", "text/html"]])
        self.assertIn("number 1", find(message, "text/plain").get_content())

        # Zoë cancels: her cancellation (taking the event out of her calendar), and Ada's
        # promotion with her ticket.
        browser = harness.Browser(server)
        page = browser.get("/tickets/%s/cancel" % zoe)
        csrf = harness.hidden_field(page.text, "csrf_token")
        self.assertEqual(browser.post("/tickets/%s/cancel" % zoe, {"csrf_token": csrf}).status, 303)
        messages = [parse(m) for m in sink.wait_for(4)[2:4]]
        by_to = {m["To"].addresses[0].addr_spec: m for m in messages}
        cancelled = by_to["zoe@example.org"]
        self.assertEqual(cancelled["Subject"], "Registration cancelled: Conf\u00e9rence & <Soil>")
        self.assertIsNone(find(cancelled, "image/png"))
        vevent = self.check_calendar(cancelled, event, "CANCEL")
        self.assertEqual(str(vevent["UID"]), uid)
        self.assertEqual(str(vevent["STATUS"]), "CANCELLED")
        promoted = by_to["ada@example.org"]
        self.assertEqual(promoted["Subject"],
                         "A seat is yours: your ticket for Conf\u00e9rence & <Soil>")
        self.assertIn("freed up", find(promoted, "text/plain").get_content())
        _, ada_fields = self.check_qr(promoted, 0)
        first = self.check_calendar(promoted, event, "PUBLISH")

        # An organiser reissues Ada's ticket: the new QR code, which verifies with reissue=1,
        # and the same calendar entry, one revision later.
        self.db.sql("UPDATE registrations SET reissue = reissue + 1 WHERE id = %s"
                    % ada_fields["attendee"])
        message = parse(sink.wait_for(5)[4])
        self.assertEqual(message["Subject"], "Your new ticket for Conf\u00e9rence & <Soil>")
        self.assertIn("reissued", find(message, "text/plain").get_content())
        self.check_qr(message, 1)
        again = self.check_calendar(message, event, "PUBLISH")
        self.assertEqual(str(again["UID"]), str(first["UID"]))
        self.assertGreater(int(again["SEQUENCE"]), int(first["SEQUENCE"]))

        # Five messages, each once; all recorded as sent.
        ids = [parse(m)["Message-ID"] for m in sink.wait_for(5)]
        self.assertEqual(len(set(ids)), 5)
        self.assertTrue(wait_until(lambda: self.db.sql(
            "SELECT string_agg(state::text, ',' ORDER BY id) FROM mail_outbox").strip()
            == "sent,sent,sent,sent,sent"))
        self.assertTrue(mailer.wait_log(r"(?s)(sent message=.*){5}"))
        self.assertEqual(sink.count(), 5)
        self.assertNotIn("zoe@example.org", mailer.log_text())

    def test_refused_recipient_does_not_stop_the_others(self):
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        sink = SmtpSink(refuse=["refuse@example.org"])
        self.addCleanup(sink.stop)
        mailer = start_mailer(self, sink.url, server.url)
        ticket_token(register(server, event.slug, email="refuse@example.org")[2])
        ticket_token(register(server, event.slug, email="fine@example.org")[2])
        raw = sink.wait_for(1)[0]
        self.assertEqual(parse(raw)["To"].addresses[0].addr_spec, "fine@example.org")
        self.assertTrue(wait_until(lambda: self.db.sql(
            "SELECT count(*) FROM mail_outbox WHERE state = 'failed'").strip() == "1"))
        row = self.db.sql("SELECT recipient || '|' || attempts || '|' || last_error FROM "
                          "mail_outbox WHERE state = 'failed'").strip()
        self.assertEqual(row, "refuse@example.org|1|550 5.1.1 <refuse@example.org>: mailbox "
                              "unknown")
        self.assertIn("refused message=", mailer.log_text())
        self.assertEqual(sink.refused, ["refuse@example.org"])


class Tls(MailTestCase):
    """smtps:// and STARTTLS against a server whose certificate only --ca-file trusts: the
    message arrives over TLS, and without the CA the certificate is refused and the message
    waits (nothing is sent in clear instead)."""

    def setUp(self):
        super().setUp()
        # aiosmtpd logs the refused handshakes this test provokes, with a traceback.
        import logging
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)

    def mailer_once(self, server, url, *extra):
        return run_admit("mailer", "--db", self.db.dsn, "--keys", self.keys, "--public-url",
                         server.url, "--templates", harness.TEMPLATES_DIR, "--from", FROM,
                         "--once", "--smtp-url", url, *extra, check=False)

    def test_smtps_and_starttls_with_a_private_ca(self):
        certificate = TlsCertificate(self.work)
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        for tls, extra in (("smtps", ()), ("starttls", ("--starttls", "require"))):
            sink = SmtpSink(tls=tls, certificate=certificate)
            self.addCleanup(sink.stop)
            address = "%s@example.org" % tls
            ticket_token(register(server, event.slug, email=address)[2])
            # The system's CAs do not know this certificate: refused, the message waits.
            done = self.mailer_once(server, sink.url, *extra)
            self.assertEqual(done.returncode, 1, done.stderr)
            self.assertEqual(sink.count(), 0)
            self.assertIn("unavailable", done.stderr)
            self.db.sql("UPDATE mail_outbox SET next_attempt_at = now()")
            done = self.mailer_once(server, sink.url, "--ca-file", certificate.cert, *extra)
            self.assertEqual(done.returncode, 0, done.stderr)
            raws = sink.wait_for(1)
            self.assertEqual(len(raws), 1)
            self.assertEqual(parse(raws[0])["To"].addresses[0].addr_spec, address)
        self.assertEqual(self.db.sql("SELECT string_agg(state::text, ',') FROM mail_outbox")
                         .strip(), "sent,sent")

    def test_starttls_required_but_not_offered(self):
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        ticket_token(register(server, event.slug, email="plain@example.org")[2])
        done = self.mailer_once(server, sink.url, "--starttls", "require")
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertEqual(sink.count(), 0)

    def test_unreadable_ca_file(self):
        server = self.start_admitd()
        done = self.mailer_once(server, "smtps://127.0.0.1:1", "--ca-file",
                                self.work + "/missing.pem")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--ca-file", done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)


class Outages(MailTestCase):

    def test_smtp_down_then_back(self):
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        port = free_port()
        mailer = start_mailer(self, "smtp://127.0.0.1:%d" % port, server.url,
                              "--retry-min", "1", "--retry-max", "2")
        for i in range(4):
            ticket_token(register(server, event.slug, email="down%d@example.org" % i)[2])
        # Nobody listens: attempts are made, recorded, and backed off.
        self.assertTrue(mailer.wait_log(r"SMTP server unavailable", timeout=20))
        self.assertTrue(wait_until(lambda: self.db.sql(
            "SELECT count(*) FROM mail_outbox WHERE attempts > 0 AND last_error <> ''").strip()
            != "0", timeout=20))
        time.sleep(2)
        sink = SmtpSink(port=port)
        self.addCleanup(sink.stop)
        raws = sink.wait_for(4, timeout=60)
        self.assertTrue(wait_until(lambda: self.db.sql(
            "SELECT count(*) FROM mail_outbox WHERE state = 'sent'").strip() == "4", timeout=20))
        time.sleep(1)
        raws = sink.wait_for(4)
        self.assertEqual(len(raws), 4, "a message arrived twice")
        recipients = sorted(parse(r)["To"].addresses[0].addr_spec for r in raws)
        self.assertEqual(recipients, ["down%d@example.org" % i for i in range(4)])
        self.assertEqual(len({parse(r)["Message-ID"] for r in raws}), 4)

        # Down again mid-way, then back: still once each.
        sink.stop()
        for i in range(4, 6):
            ticket_token(register(server, event.slug, email="down%d@example.org" % i)[2])
        self.assertTrue(wait_until(lambda: self.db.sql(
            "SELECT count(*) FROM mail_outbox WHERE state = 'pending' AND attempts > 0").strip()
            != "0", timeout=20))
        sink.start()
        self.assertTrue(wait_until(lambda: self.db.sql(
            "SELECT count(*) FROM mail_outbox WHERE state = 'sent'").strip() == "6", timeout=60))
        time.sleep(1)
        self.assertEqual(sink.count(), 6)

    def test_killed_between_delivery_and_record(self):
        """The documented at-least-once window: the server has the message, the mailer dies
        before recording it. After the lease the message goes again, with the same Message-ID
        (receivers can drop the copy); every other message goes once."""
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        sink = SmtpSink(data_delay=30.0, data_delay_once=True)
        self.addCleanup(sink.stop)
        mailer = start_mailer(self, sink.url, server.url, "--lease", "120")
        ticket_token(register(server, event.slug, email="window@example.org")[2])
        self.assertTrue(sink.received.wait(20))
        mailer.proc.send_signal(signal.SIGKILL)
        mailer.stop()
        self.assertEqual(self.db.sql("SELECT state FROM mail_outbox").strip(), "sending")
        # The lease runs out (here: is made to).
        self.db.sql("UPDATE mail_outbox SET lease_until = now() - interval '1 second'")
        start_mailer(self, sink.url, server.url)
        raws = sink.wait_for(2)
        first, second = parse(raws[0]), parse(raws[1])
        self.assertEqual(first["Message-ID"], second["Message-ID"])
        self.assertEqual(first["Date"], second["Date"])
        self.assertTrue(wait_until(lambda: self.db.sql(
            "SELECT state || ' ' || attempts FROM mail_outbox").strip() == "sent 2"))

    def test_sigterm_finishes_the_message_in_hand(self):
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        sink = SmtpSink(data_delay=2.0, data_delay_once=True)
        self.addCleanup(sink.stop)
        mailer = start_mailer(self, sink.url, server.url)
        ticket_token(register(server, event.slug, email="term@example.org")[2])
        self.assertTrue(sink.received.wait(20))
        mailer.proc.send_signal(signal.SIGTERM)
        self.assertEqual(mailer.stop(), 0, mailer.log_text())
        self.assertEqual(self.db.sql("SELECT state FROM mail_outbox").strip(), "sent")
        self.assertEqual(sink.count(), 1)
        self.assertIn("stopping", mailer.log_text())


class CommandLine(MailTestCase):

    def test_help_and_bad_settings(self):
        done = run_admit("mailer", "--help")
        for flag in ["--smtp-url", "--from", "--public-url", "--once", "--lease", "--retry-min",
                     "ADMIT_SMTP_URL"]:
            self.assertIn(flag, done.stdout)
        base = ["mailer", "--db", self.db.dsn, "--keys", self.keys, "--public-url",
                "https://tickets.example.org", "--templates", harness.TEMPLATES_DIR]
        cases = [
            (["--from", "x@terra.example"], "--smtp-url"),
            (["--smtp-url", "http://x", "--from", "x@terra.example"], "smtp://"),
            (["--smtp-url", "smtp://127.0.0.1:1", "--from", "not an address"], "--from"),
            (["--smtp-url", "smtp://127.0.0.1:1", "--from", "x@terra.example", "--starttls",
              "maybe"], "--starttls"),
            (["--smtp-url", "smtp://127.0.0.1:1", "--from", "x@terra.example", "--lease", "10",
              "--smtp-timeout", "60"], "--lease"),
        ]
        for extra, words in cases:
            done = run_admit(*(base + extra), check=False)
            self.assertEqual(done.returncode, 2, (extra, done.stderr))
            self.assertIn(words, done.stderr)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        # Credentials only over TLS or to a loopback server; never printed.
        env = dict(harness.os.environ, ADMIT_SMTP_USER="u", ADMIT_SMTP_PASSWORD="s3cret-pw")
        done = run_admit(*(base + ["--smtp-url", "smtp://mail.example.org:587", "--from",
                                   "x@terra.example"]), check=False, env=env)
        self.assertEqual(done.returncode, 2)
        self.assertIn("TLS", done.stderr)
        self.assertNotIn("s3cret-pw", done.stderr)

    def test_once(self):
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        base = ["mailer", "--db", self.db.dsn, "--keys", self.keys, "--public-url", server.url,
                "--templates", harness.TEMPLATES_DIR, "--from", FROM, "--once"]
        # Nothing due: exit 0 at once.
        self.assertEqual(run_admit(*(base + ["--smtp-url", sink.url])).returncode, 0)
        ticket_token(register(server, event.slug, email="once@example.org")[2])
        # SMTP unreachable: exit 1, the message waits.
        done = run_admit(*(base + ["--smtp-url", "smtp://127.0.0.1:%d" % free_port()]),
                         check=False)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.db.sql("UPDATE mail_outbox SET next_attempt_at = now()")
        done = run_admit(*(base + ["--smtp-url", sink.url]))
        self.assertIn("sent message=", done.stderr)
        self.assertEqual(sink.count(), 1)
        self.assertEqual(self.db.sql("SELECT state || ' ' || attempts FROM mail_outbox").strip(),
                         "sent 2")


if __name__ == "__main__":
    harness.main()
