#!/usr/bin/env python3
"""Registering for an event over HTTP, black box (issue 3): the form, the ticket page and its QR
code, every validation error, and the same form or the same person sent twice.

Each test gets a fresh database with an event made by `admit event create` and its own admitd.
"Nothing stored" is checked by counting rows through psql before and after. The security side
(CSRF, body limit, escaping, headers, log) is test_registration_security.py; cancelling and the
states of an event are test_registration_states.py; capacity under load is
test_registration_capacity.py; a PostgreSQL restart under load is test_registration_restart.py;
bugs found on the way, each with the test that shows it, are test_registration_bugs.py.
"""

import datetime
import re
import threading

import harness
from harness import (Browser, ServerTestCase, attendee_fields, create_event, decode_qr_png,
                     open_form, parse_html, register, registration_form_state, ticket_token,
                     verify_ticket)

EMAIL_MESSAGE = "Enter an email address like name@example.org"
EMAIL_SPECIALS = "An email address cannot contain spaces or any of ( ) < > [ ] , ; : \\ \""
TOO_LONG = "This is too long"
LINE_CONTROL = "Use ordinary text on one line (no control characters)"
PARAGRAPH_CONTROL = "Use ordinary text (no control characters)"
COUNTRY_MESSAGE = "Choose a country from the list"
TYPE_MESSAGE = "Choose a type from the list"
LIST_MESSAGE = "Choose days and sessions from the list"
NO_LIST_MESSAGE = "Choose at least one day or session"
CONSENT_MESSAGE = ("Agree to the privacy notice to register: we cannot admit you without "
                   "storing your name")
NONCE_MESSAGE = "This form has expired: reload the page and submit it again"
MISSING = {
    "given_name": "Enter your given name",
    "family_name": "Enter your family name",
    "email": "Enter your email address",
    "organisation": 'Enter your organisation (or "none")',
    "organisation_type": "Choose the type of your organisation",
    "country": "Choose the country you come from",
}


def date_range(start, end):
    """How the pages write an event's dates: "29–30 October 2027", "30 October – 2 November
    2027", "31 December 2027 – 1 January 2028" (written here independently of the SQL)."""
    if start == end:
        return "%d %s %d" % (start.day, start.strftime("%B"), start.year)
    if (start.year, start.month) == (end.year, end.month):
        return "%d–%d %s %d" % (start.day, end.day, end.strftime("%B"), end.year)
    if start.year == end.year:
        return "%d %s – %d %s %d" % (start.day, start.strftime("%B"), end.day,
                                     end.strftime("%B"), end.year)
    return "%d %s %d – %d %s %d" % (start.day, start.strftime("%B"), start.year, end.day,
                                    end.strftime("%B"), end.year)


class RegistrationCase(ServerTestCase):
    """An event with three lists (Day 1, Day 2, Cluster session) and capacity 100."""

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Research Conference 2027")
        self.server = self.start_admitd()

    def stored(self):
        """(registrations, registration_lists) rows: what "nothing stored" compares."""
        row = self.db.sql("SELECT (SELECT count(*) FROM registrations),"
                          " (SELECT count(*) FROM registration_lists)").strip()
        return tuple(int(v) for v in row.split("|"))

    def post(self, browser, form):
        return browser.post("/events/%s/register" % self.event.slug, form)


class HappyPath(RegistrationCase):

    def test_register_and_ticket(self):
        browser = Browser(self.server)
        page = browser.get("/events/" + self.event.slug)
        self.assertEqual(page.status, 200)
        self.assertSecurityHeaders(page)
        self.assertEqual(page.header("Cache-Control"), "no-store")
        cookie = page.header("Set-Cookie")
        self.assertRegex(cookie, r"^admit_csrf=[A-Za-z0-9_-]{22}; Path=/; HttpOnly; "
                                 r"SameSite=Strict$")
        form = harness.RegistrationForm(page.text)
        self.assertRegex(form.csrf_token, r"^[A-Za-z0-9_-]{43}$")
        self.assertRegex(form.form_nonce, r"^[A-Za-z0-9_-]{22}$")
        self.assertEqual(form.list_ids, self.event.list_ids)
        state = registration_form_state(page.text)
        self.assertEqual(state["action"], "/events/%s/register" % self.event.slug)
        self.assertEqual(state["summary"], [])
        # Every view carries its own nonce: two tabs are two registrations.
        self.assertNotEqual(open_form(browser, self.event.slug).form_nonce, form.form_nonce)

        day1, day2, cluster = self.event.list_ids
        fields = form.fields(lists=[day1, cluster], given_name="Ada", family_name="Lovelace",
                             organisation="Analytical Engine Society", country="GB",
                             dietary="vegetarian\r\nno nuts", accessibility="step-free access")
        response = self.post(browser, fields)
        self.assertSecurityHeaders(response)
        token = ticket_token(response)

        row = self.db.sql("SELECT id, status, given_name, family_name, email, organisation,"
                          " organisation_type, country,"
                          " replace(dietary, E'\\r', '') = E'vegetarian\\nno nuts',"
                          " accessibility, form_nonce, source, consent_at IS NOT NULL,"
                          " confirmed_at IS NOT NULL FROM registrations WHERE token = '%s'"
                          % token).strip()
        values = row.split("|")
        registration_id = int(values[0])
        self.assertEqual(values[1:], ["confirmed", "Ada", "Lovelace", fields["email"],
                                      "Analytical Engine Society", "research", "GB", "t",
                                      "step-free access", form.form_nonce, "web", "t", "t"])
        lists = self.db.sql("SELECT list_id FROM registration_lists WHERE registration_id = %d"
                            " ORDER BY list_id" % registration_id).split()
        self.assertEqual([int(x) for x in lists], sorted([day1, cluster]))

        # The ticket page.
        ticket = browser.get("/tickets/%s?welcome=1" % token)
        self.assertEqual(ticket.status, 200)
        self.assertSecurityHeaders(ticket)
        self.assertEqual(ticket.header("Cache-Control"), "no-store")
        doc = parse_html(ticket.text)
        self.assertIn("You are registered", ticket.text)
        article = doc.find("article", class_="ticket")
        self.assertIsNotNone(article, ticket.text)
        self.assertEqual(article.find(class_="ticket-name").text(), "Ada Lovelace")
        self.assertEqual(article.find(class_="ticket-org").text(), "Analytical Engine Society")
        self.assertEqual(article.find(class_="ticket-event").text(), "Research Conference 2027")
        start = self.event.starts
        dates = date_range(start, start + datetime.timedelta(days=1))
        self.assertIn(dates, article.find(class_="ticket-when").text())
        self.assertIn("Natural History Museum", article.find(class_="ticket-when").text())
        details = article.find("dl", class_="ticket-details").text()
        self.assertIn("%s %d %s %d, 09:00" % (start.strftime("%A"), start.day,
                                              start.strftime("%B"), start.year), details)
        self.assertIn("Rue Vautier 29, 1000 Brussels", details)
        sessions = [li.find(class_="choice-name").text()
                    for li in article.find("ul", class_="ticket-lists").find_all("li")]
        self.assertEqual(sessions, ["Day 1", "Cluster session"])
        svg = article.find("figure", class_="ticket-qr").find("svg")
        self.assertIsNotNone(svg, "no inline SVG QR code")
        self.assertEqual(svg.attrs.get("role"), "img")
        self.assertEqual(svg.attrs.get("aria-label"), "Ticket QR code")
        links = {a.attrs["href"]: a for a in doc.find_all("a", href=True)}
        for suffix in ["/qr.svg", "/qr.png", "/cancel"]:
            self.assertIn("/tickets/%s%s" % (token, suffix), links)
        self.assertIn("download", links["/tickets/%s/qr.png" % token].attrs)
        # The same page without ?welcome=1: the ticket, without the greeting.
        again = browser.get("/tickets/" + token)
        self.assertEqual(again.status, 200)
        self.assertNotIn("You are registered", again.text)
        self.assertIn(svg.attrs["viewbox"], again.text)  # the parser lowers names

        # The downloads: the PNG decodes to a payload admit verify accepts, for this attendee.
        png = browser.get("/tickets/%s/qr.png" % token)
        self.assertEqual(png.status, 200)
        self.assertEqual(png.header("Content-Type"), "image/png")
        self.assertEqual(png.header("Cache-Control"), "no-store")
        self.assertIn("attachment", png.header("Content-Disposition"))
        self.assertSecurityHeaders(png)
        self.assertTrue(png.body.startswith(b"\x89PNG\r\n\x1a\n"))
        payload = decode_qr_png(png.body, self.work)
        self.assertIsNotNone(payload, "zbarimg found no QR code in qr.png")
        self.assertTrue(payload.startswith("AD1:"), payload)
        status, verified = verify_ticket(self.keys, payload)
        self.assertEqual(status, 0, payload)
        self.assertEqual(int(verified["attendee"]), registration_id)
        self.assertEqual(int(verified["event"]), self.event.id)
        self.assertEqual(verified["reissue"], "0")
        svg_file = browser.get("/tickets/%s/qr.svg" % token)
        self.assertEqual(svg_file.status, 200)
        self.assertEqual(svg_file.header("Content-Type"), "image/svg+xml")
        self.assertEqual(svg_file.header("Cache-Control"), "no-store")
        self.assertTrue(svg_file.text.startswith("<svg"))
        self.assertIn(svg_file.text.strip(), ticket.text)  # the inline code is the same image
        # Rendered once: the cache row exists and a second download is the same bytes.
        self.assertEqual(self.db.sql("SELECT count(*) FROM ticket_images").strip(), "1")
        self.assertEqual(browser.get("/tickets/%s/qr.png" % token).body, png.body)
        # The ticket page needs no cookie: the token in the link is the key.
        self.assertEqual(self.server.get("/tickets/" + token).status, 200)

    def test_field_limits_are_accepted(self):
        """Values at the maximum length, in characters (not bytes), and trimmed white space."""
        local = "l" * 64
        email = local + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 57 + ".org"
        self.assertEqual(len(email), 254)
        _, fields, response = register(
            self.server, self.event.slug, lists=self.event.list_ids,
            given_name="é" * 100, family_name="名" * 100, email=email,
            organisation="\U0001F3DB" * 200, dietary="ü" * 500,
            accessibility=("a" * 99 + "\n") * 4 + "a" * 100)
        token = ticket_token(response)
        row = self.db.sql("SELECT length(given_name), length(family_name), length(email),"
                          " length(organisation), length(dietary), length(accessibility)"
                          " FROM registrations WHERE token = '%s'" % token).strip()
        self.assertEqual(row, "100|100|254|200|500|500")
        _, _, response = register(self.server, self.event.slug, given_name="  Grace \t",
                                  family_name="\r\nHopper ", email="  grace@example.org ")
        token = ticket_token(response)
        row = self.db.sql("SELECT given_name, family_name, email FROM registrations"
                          " WHERE token = '%s'" % token).strip()
        self.assertEqual(row, "Grace|Hopper|grace@example.org")

    def test_event_without_lists(self):
        event = create_event(self.db.dsn, lists=[])
        browser, _, response = register(self.server, event.slug, lists=[])
        token = ticket_token(response)
        ticket = browser.get("/tickets/" + token)
        self.assertEqual(ticket.status, 200)
        self.assertIsNotNone(parse_html(ticket.text).find("svg"))


class Validation(RegistrationCase):
    """Every refusal is a 422 with the form shown again: values kept, the message next to the
    field (linked by aria-describedby) and in the error summary, and nothing stored."""

    def check_refused(self, label, fields, expected, browser=None, form=None):
        """Posts fields (a complete form); expects 422 with exactly the errors in expected
        ({field: message}). Returns the form state of the page."""
        before = self.stored()
        response = self.post(browser or self.browser, fields)
        self.assertEqual(response.status, 422, "%s: %r" % (label, response))
        self.assertIn("text/html", response.header("Content-Type"))
        self.assertEqual(response.header("Cache-Control"), "no-store", label)
        self.assertSecurityHeaders(response)
        state = registration_form_state(response.text)
        self.assertEqual(dict(state["summary"]), expected, label)
        self.assertEqual(len(state["summary"]), len(expected), label)
        self.assertEqual(state["errors"], expected, label)
        self.assertIn("There is a problem with your registration", response.text)
        for field in expected:
            if field == "form_nonce":  # not a control: the message sits by the button
                self.assertIsNotNone(parse_html(response.text).by_id("field-form_nonce")
                                     .find(id="error-form_nonce"), label)
                continue
            self.assertIn("error-" + field, state["described"].get(field, []),
                          "%s: %s is not described by its error" % (label, field))
            self.assertIn(field, state["invalid"], "%s: %s is not aria-invalid" % (label, field))
        for field in state["invalid"]:
            self.assertIn(field, expected, "%s: %s marked invalid" % (label, field))
        # What was submitted is shown again, trimmed, its line breaks as LF (a browser sends a
        # textarea's line breaks as CR LF but counts them as one character).
        for name in harness.attendee_fields():
            want = (fields.get(name) or "").strip(" \t\r\n").replace("\r\n", "\n")
            if name == "consent":
                continue
            if name in ("organisation_type", "country") and name in expected:
                want = ""  # a select can only show one of its options
            self.assertEqual(state["values"].get(name), want, "%s: value of %s" % (label, name))
        wanted_lists = [int(v) for v in fields.get("lists", []) if v.isdigit()]
        self.assertEqual(state["lists"], [i for i in self.event.list_ids if i in wanted_lists],
                         label)
        self.assertEqual(state["consent"], fields.get("consent") == "yes", label)
        # A valid nonce is kept (the corrected form is still the same registration).
        self.assertRegex(state["form_nonce"], r"^[A-Za-z0-9_-]{22}$")
        if "form_nonce" not in expected:
            self.assertEqual(state["form_nonce"], fields["form_nonce"], label)
        self.assertRegex(state["csrf_token"], r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(self.stored(), before, "%s: something was stored" % label)
        return state

    def setUp(self):
        super().setUp()
        self.browser = Browser(self.server)
        self.form = open_form(self.browser, self.event.slug)

    def fields(self, **overrides):
        return self.form.fields(**overrides)

    def test_required_fields(self):
        for field, message in MISSING.items():
            self.check_refused("%s absent" % field, self.fields(**{field: None}),
                               {field: message})
            self.check_refused("%s empty" % field, self.fields(**{field: ""}), {field: message})
            self.check_refused("%s blank" % field, self.fields(**{field: " \t "}),
                               {field: message})
        # Everything missing at once: every message, in the order of the form.
        state = self.check_refused(
            "all missing", {"csrf_token": self.form.csrf_token,
                            "form_nonce": self.form.form_nonce,
                            "lists": [str(self.event.list_ids[0])]},
            dict(MISSING, consent=CONSENT_MESSAGE))
        self.assertEqual([f for f, _ in state["summary"]], list(MISSING) + ["consent"])

    def test_emails(self):
        bad = ["plainaddress", "@example.org", "ada@", "ada@example", "ada@.org", "ada@example.",
               "ada@example..org", "ada@@example.org", "ada@b@example.org"]
        for email in bad:
            self.check_refused("email %r" % email, self.fields(email=email),
                               {"email": EMAIL_MESSAGE})
        # Characters no address of ours may hold (test_email_addresses.py has the whole rule).
        for email in ["ada lovelace@x.org", "ada@exa mple.org", "<ada@example.org>",
                      "ada@example.org,bob@example.org", "ada;bob@example.org",
                      '"ada"@example.org', "ada@[127.0.0.1]", "ada(x)@example.org",
                      "a\\b@example.org"]:
            self.check_refused("email %r" % email, self.fields(email=email),
                               {"email": EMAIL_SPECIALS})
        self.check_refused("local part of 65", self.fields(email="l" * 65 + "@example.org"),
                           {"email": "The part before the @ has at most 64 characters"})
        self.check_refused("email too long", self.fields(email="a@" + "b" * 249 + ".org"),
                           {"email": TOO_LONG})
        self.check_refused("email with a control", self.fields(email="ada\x01@example.org"),
                           {"email": LINE_CONTROL})

    def test_choices(self):
        for country in ["XX", "be", "BEL", "Belgium", "B", "EU", "UK"]:
            self.check_refused("country %r" % country, self.fields(country=country),
                               {"country": COUNTRY_MESSAGE})
        for kind in ["university", "Research", "industry,research", "0", "other\x01"]:
            self.check_refused("type %r" % kind, self.fields(organisation_type=kind),
                               {"organisation_type": TYPE_MESSAGE})

    def test_overlong_fields(self):
        cases = {"given_name": 100, "family_name": 100, "organisation": 200, "dietary": 500,
                 "accessibility": 500}
        for field, limit in cases.items():
            for char in ["a", "é", "\U0001F600"]:
                self.check_refused("%s of %d %r" % (field, limit + 1, char),
                                   self.fields(**{field: char * (limit + 1)}), {field: TOO_LONG})

    def test_control_characters(self):
        cases = [("given_name", "Ada\x01", LINE_CONTROL),
                 ("given_name", "Ada\nLovelace", LINE_CONTROL),
                 ("given_name", "Ada\tLovelace", LINE_CONTROL),
                 ("family_name", "Love\x1blace", LINE_CONTROL),
                 ("family_name", "Love\x7flace", LINE_CONTROL),
                 ("organisation", "Org\u0085anisation", LINE_CONTROL),  # a C1 control
                 ("organisation", "Org\r\nanisation", LINE_CONTROL),
                 ("dietary", "vegan\x07", PARAGRAPH_CONTROL),
                 ("accessibility", "ramp\x0b", PARAGRAPH_CONTROL),
                 ("accessibility", "ramp\u009b", PARAGRAPH_CONTROL)]
        for field, value, message in cases:
            self.check_refused("%s %r" % (field, value), self.fields(**{field: value}),
                               {field: message})
        # A NUL byte never reaches the form: the body is refused as a whole (400).
        before = self.stored()
        response = self.post(self.browser, self.fields(given_name="Ada\x00"))
        self.assertEqual(response.status, 400)
        self.assertEqual(self.stored(), before)

    def test_consent(self):
        for consent in [None, "", "no", "on", "YES"]:
            self.check_refused("consent %r" % consent, self.fields(consent=consent),
                               {"consent": CONSENT_MESSAGE})

    def test_form_nonce(self):
        for nonce in [None, "", "short", "a" * 21, "a" * 23, "!" * 22, "a" * 21 + "=",
                      "é" * 22, "a" * 64]:
            fields = self.fields()
            if nonce is None:
                del fields["form_nonce"]
            else:
                fields["form_nonce"] = nonce
            state = self.check_refused("nonce %r" % nonce, fields, {"form_nonce": NONCE_MESSAGE})
            self.assertNotEqual(state["form_nonce"], nonce)
        # The new form the page shows registers.
        fields = self.fields()
        fields["form_nonce"] = state["form_nonce"]
        ticket_token(self.post(self.browser, fields))

    def test_lists(self):
        day1, day2, cluster = self.event.list_ids
        other = create_event(self.db.dsn)
        self.check_refused("no list", self.fields(lists=[]), {"lists": NO_LIST_MESSAGE})
        self.check_refused("another event's list", self.fields(lists=[other.list_ids[0]]),
                           {"lists": LIST_MESSAGE})
        self.check_refused("one of another event's lists",
                           self.fields(lists=[day1, other.list_ids[1], cluster]),
                           {"lists": LIST_MESSAGE})
        self.check_refused("an unknown list", self.fields(lists=[999999]),
                           {"lists": LIST_MESSAGE})
        for junk in ["abc", "0", "-1", "1.5", " ", "9999999999", "0x10"]:
            fields = self.fields()
            fields["lists"] = [str(day1), junk]
            self.check_refused("list %r" % junk, fields, {"lists": LIST_MESSAGE})
        fields = self.fields()
        fields["lists"] = [str(day1)] * 5  # the same list several times is one choice
        ticket_token(self.post(self.browser, fields))

    def test_corrected_form_registers(self):
        """The form shown again after errors, corrected and sent, registers once."""
        fields = self.fields(email="not-an-address", consent=None, given_name="")
        state = self.check_refused("three errors", fields, {
            "email": EMAIL_MESSAGE, "consent": CONSENT_MESSAGE,
            "given_name": MISSING["given_name"]})
        fields.update(email="ada.fixed@example.org", consent="yes", given_name="Ada",
                      csrf_token=state["csrf_token"], lists=[])
        self.check_refused("no list", fields, {"lists": NO_LIST_MESSAGE})
        fields["lists"] = [str(self.event.list_ids[1])]
        token = ticket_token(self.post(self.browser, fields))
        self.assertEqual(self.db.sql("SELECT form_nonce FROM registrations WHERE token = '%s'"
                                     % token).strip(), self.form.form_nonce)


class Duplicates(RegistrationCase):

    def test_same_form_twice(self):
        browser = Browser(self.server)
        fields = open_form(browser, self.event.slug).fields()
        first = ticket_token(self.post(browser, fields))
        again = self.post(browser, fields)
        self.assertEqual(ticket_token(again), first)
        # Even with other values: a resubmission is recognised by its nonce only.
        changed = dict(fields, given_name="Augusta", email="augusta@example.org")
        self.assertEqual(ticket_token(self.post(browser, changed)), first)
        self.assertEqual(self.stored(), (1, 1))
        self.assertEqual(self.db.sql("SELECT given_name FROM registrations").strip(), "Ada")

    def test_same_form_concurrently(self):
        for round_number in range(5):
            browser = Browser(self.server)
            fields = open_form(browser, self.event.slug).fields(lists=self.event.list_ids)
            barrier = threading.Barrier(5)

            def submit(_):
                barrier.wait(timeout=30)
                return self.post(browser, fields)

            responses = harness.run_threads(submit, range(5), 5)
            tokens = {ticket_token(r) for r in responses}
            self.assertEqual(len(tokens), 1, "round %d: %s" % (round_number, tokens))
            self.assertEqual(self.stored(), (round_number + 1, 3 * (round_number + 1)))

        def register_notes():
            return [line.get("note") for line in self.server.request_lines()
                    if line["route"] == "/events/:slug/register"]

        self.assertTrue(harness.wait_until(lambda: len(register_notes()) == 25))
        notes = register_notes()
        self.assertEqual(notes.count("created"), 5)
        self.assertEqual(notes.count("duplicate"), 20)

    def resend_mails(self):
        return int(self.db.sql("SELECT count(*) FROM mail_outbox WHERE kind = 'resend'").strip())

    def test_same_email_new_form(self):
        # An address already registered: no second registration, and the page does not say the
        # address is registered; it answers as the resend form does ("check your email"), and
        # the address's owner is emailed the links to their tickets (the resend message, under
        # its limits: 3 an hour per address).
        browser, fields, response = register(self.server, self.event.slug)
        token = ticket_token(response)
        resend = Browser(self.server)
        page = resend.get("/tickets/resend")
        unknown = resend.post("/tickets/resend", {
            "csrf_token": harness.hidden_field(page.text, "csrf_token"),
            "email": "nobody-%s" % fields["email"]})
        self.assertEqual(unknown.status, 200)
        for n, email in enumerate([fields["email"], fields["email"].upper(),
                                   " %s " % fields["email"], fields["email"]]):
            before = self.stored()
            _, _, again = register(self.server, self.event.slug, email=email,
                                   given_name="Someone", family_name="Else")
            self.assertEqual(again.status, 200, email)
            self.assertSecurityHeaders(again)
            self.assertEqual(again.header("Cache-Control"), "no-store")
            self.assertIn("<h1 class=\"page-title\">Check your email</h1>", again.text)
            self.assertIn("If this address is registered, we have sent its ticket links",
                          again.text)
            self.assertIn("Each email address registers once for", again.text)
            self.assertNotIn("already registered", again.text)
            self.assertNotIn(token, again.text)
            self.assertIn('href="/events/%s"' % self.event.slug, again.text)
            self.assertIn('href="/tickets/resend"', again.text)
            # The resend form's answer for an address nobody registered has the same notice.
            notice = re.search(r'<div class="notice notice-success".*?</div>', unknown.text,
                               re.S).group(0)
            self.assertIn(notice.replace("nobody-" + fields["email"], email.strip()), again.text)
            self.assertEqual(self.stored(), before)
            # Queued for the registered address, three times in the hour, then throttled.
            self.assertEqual(self.resend_mails(), min(n + 1, 3))
        recipients = self.db.sql("SELECT DISTINCT recipient FROM mail_outbox WHERE kind = "
                                 "'resend'").split()
        self.assertEqual(recipients, [fields["email"]])
        # Another event is another matter.
        other = create_event(self.db.dsn)
        ticket_token(register(self.server, other.slug, email=fields["email"])[2])
        # Cancelled, the same address can register again: a new registration, a new ticket.
        page = browser.get("/tickets/%s/cancel" % token)
        csrf = harness.hidden_field(page.text, "csrf_token")
        cancelled = browser.post("/tickets/%s/cancel" % token, {"csrf_token": csrf})
        self.assertEqual(cancelled.status, 303)
        _, _, again = register(self.server, self.event.slug, email=fields["email"])
        new_token = ticket_token(again)
        self.assertNotEqual(new_token, token)
        rows = self.db.sql("SELECT status FROM registrations WHERE email = '%s' AND event_id = %d"
                           " ORDER BY id" % (fields["email"], self.event.id)).split()
        self.assertEqual(rows, ["cancelled", "confirmed"])
        # And the live one blocks the address again.
        _, _, third = register(self.server, self.event.slug, email=fields["email"])
        self.assertEqual(third.status, 200)
        self.assertIn("Check your email", third.text)

    def test_same_email_concurrently(self):
        email = attendee_fields()["email"]
        forms = []
        for _ in range(6):
            browser = Browser(self.server)
            forms.append((browser, open_form(browser, self.event.slug).fields(email=email)))
        barrier = threading.Barrier(len(forms))

        def submit(item):
            barrier.wait(timeout=30)
            return self.post(*item)

        statuses = sorted(r.status for r in harness.run_threads(submit, forms, len(forms)))
        self.assertEqual(statuses, [200] * 5 + [303])
        self.assertEqual(self.stored(), (1, 1))


if __name__ == "__main__":
    harness.main()
