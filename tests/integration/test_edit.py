#!/usr/bin/python3
"""Editing a registration (issue 16), over real HTTP and PostgreSQL: the attendee edits from the
ticket page until the event's deadline and is refused after it; bad values answer 422 with the
values kept; a new email address takes effect only through the link sent to it (once); a
removed list reaches the door at once (online) and at the next sync (offline); organisers edit
any registration without a deadline; every change is in the change log (who, when, old -> new)
with a summary email queued; a form older than the registration answers 409 with the current
values.
"""

import json
import re

import harness
from harness import (Browser, ServerTestCase, SmtpSink, add_device, api_call, create_event,
                     hidden_field, new_nonce, parse_html, register, run_admit, start_mailer,
                     ticket_token)
from test_admin import add_admin, admin_post, logged_in


def edit_form(browser, token, path=None):
    """GETs the attendee's edit page (or the organisers' one at path); returns (response, the
    fields of its form as they are)."""
    page = browser.get(path or "/tickets/%s/edit" % token)
    html = page.text
    fields = {"csrf_token": hidden_field(html, "csrf_token"),
              "version": hidden_field(html, "version")}
    for name in ("given_name", "family_name", "email", "organisation"):
        fields[name] = hidden_field(html, name)
    for name in ("dietary", "accessibility"):
        m = re.search(r'name="%s"[^>]*>\n(.*?)</textarea>' % name, html, re.S)
        fields[name] = m.group(1) if m else None
    for name in ("organisation_type", "country"):
        m = re.search(r'<select[^>]*name="%s".*?</select>' % name, html, re.S)
        chosen = re.search(r'<option value="([^"]*)" selected>', m.group(0)) if m else None
        fields[name] = chosen.group(1) if chosen else ""
    fields["lists"] = re.findall(r'name="lists" value="(\d+)" checked', html)
    return page, fields


def unescape(text):
    import html
    return html.unescape(text)


class EditCase(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Soil Health Conference",
                                  extra=["--contact", "events@soil.example"])
        self.day1, self.day2, self.cluster = [i for i, _ in self.event.lists]
        self.server = self.start_admitd()

    def registered(self, lists=None, **attendee):
        browser, form, r = register(self.server, self.event.slug, lists=lists, **attendee)
        return browser, ticket_token(r), form

    def row(self, token, columns="given_name, family_name, email, organisation, "
                                 "organisation_type, country, dietary, accessibility, version"):
        return self.db.sql("SELECT %s FROM registrations WHERE token = '%s'"
                           % (columns, token)).strip()

    def lists_of(self, token):
        out = self.db.sql("SELECT list_id FROM registration_lists rl JOIN registrations r "
                          "ON r.id = rl.registration_id WHERE r.token = '%s' ORDER BY list_id"
                          % token)
        return [int(x) for x in out.split()]

    def changes_of(self, token):
        out = self.db.sql("SELECT coalesce(json_agg(json_build_object('by', c.by_admin_email, "
                          "'changes', c.changes) ORDER BY c.id), '[]') FROM registration_changes c"
                          " JOIN registrations r ON r.id = c.registration_id"
                          " WHERE r.token = '%s'" % token)
        return json.loads(out)

    def outbox(self, kind):
        out = self.db.sql("SELECT coalesce(json_agg(json_build_object('recipient', recipient, "
                          "'details', details) ORDER BY id), '[]') FROM mail_outbox "
                          "WHERE kind = '%s'" % kind)
        return json.loads(out)


class Attendee(EditCase):

    def test_edit_within_the_deadline_and_refused_after_it(self):
        browser, token, _ = self.registered(lists=[self.day1], given_name="Ada",
                                            family_name="Lovelace", email="ada@example.org")
        ticket = browser.get("/tickets/%s" % token)
        self.assertIn("Change my registration", ticket.text)
        self.assertIn('href="/tickets/%s/edit"' % token, ticket.text)
        self.assertIn("until <strong>", ticket.text)
        page, fields = edit_form(browser, token)
        self.assertEqual(page.status, 200)
        self.assertEqual(page.header("Cache-Control"), "no-store")
        self.assertEqual((fields["given_name"], fields["email"], fields["version"]),
                         ("Ada", "ada@example.org", "1"))
        self.assertEqual(fields["lists"], [str(self.day1)])
        fields.update(given_name="Augusta Ada", family_name="King", organisation="Royal Society",
                      organisation_type="public_body", country="GB",
                      dietary="Vegetarian\nno nuts", accessibility="Step-free access",
                      lists=[str(self.day1), str(self.cluster)])
        r = browser.post("/tickets/%s/edit" % token, fields)
        self.assertEqual(r.status, 303, r.text[:600])
        self.assertEqual(r.header("Location"), "/tickets/%s?changed=1" % token)
        shown = browser.get(r.header("Location"))
        self.assertIn("Your changes are saved", shown.text)
        self.assertIn("Augusta Ada King", shown.text)
        self.assertIn("Cluster session", shown.text)
        self.assertEqual(self.row(token),
                         "Augusta Ada|King|ada@example.org|Royal Society|public_body|GB|"
                         "Vegetarian\nno nuts|Step-free access|2")
        self.assertEqual(self.lists_of(token), sorted([self.day1, self.cluster]))
        # The change log: by the attendee, each field old -> new.
        log = self.changes_of(token)
        self.assertEqual(len(log), 1)
        self.assertIsNone(log[0]["by"])
        got = {c["field"]: (c["old"], c["new"]) for c in log[0]["changes"]}
        self.assertEqual(got, {
            "given_name": ("Ada", "Augusta Ada"), "family_name": ("Lovelace", "King"),
            "organisation": ("Analytical Engine Society", "Royal Society"),
            "organisation_type": ("research", "public_body"), "country": ("BE", "GB"),
            "dietary": ("", "Vegetarian\nno nuts"), "accessibility": ("", "Step-free access"),
            "lists": ("Day 1", "Day 1, Cluster session")})
        # The summary is queued to the attendee.
        mails = self.outbox("changed")
        self.assertEqual([m["recipient"] for m in mails], ["ada@example.org"])
        self.assertEqual(mails[0]["details"]["changes"], log[0]["changes"])
        self.assertFalse(mails[0]["details"]["by_organiser"])

        # Past the deadline: the page says so and nothing is saved.
        self.db.sql("UPDATE events SET edits_close_at = now() - interval '1 minute'")
        page, _ = edit_form(browser, token)
        self.assertEqual(page.status, 200)
        self.assertIn("Changes closed on", page.text)
        self.assertIn("events@soil.example", page.text)
        self.assertNotIn('name="version"', page.text)
        fields.update(given_name="Too Late", version="2")
        r = browser.post("/tickets/%s/edit" % token, fields)
        self.assertEqual(r.status, 403)
        self.assertIn("Changes closed on", r.text)
        self.assertIn("nothing was changed", r.text)
        self.assertTrue(self.row(token).startswith("Augusta Ada|"))
        self.assertEqual(len(self.changes_of(token)), 1)
        self.assertIn("Changes closed on", browser.get("/tickets/%s" % token).text)
        self.assertNotIn("Change my registration", browser.get("/tickets/%s" % token).text)

    def test_the_deadline_defaults_to_when_registration_closes(self):
        event = create_event(self.db.dsn, closes=harness.local_time(100, 12))
        _, _, r = register(self.server, event.slug)
        token = ticket_token(r)
        doc = Browser(self.server).get("/tickets/%s" % token).text
        self.assertIn(self.db.sql(
            "SELECT to_char(registration_closes_at AT TIME ZONE time_zone, "
            "'FMDD FMMonth YYYY, HH24:MI') FROM events WHERE slug = '%s'" % event.slug).strip(),
            doc)

    def test_invalid_values_answer_422_with_the_values_kept(self):
        browser, token, _ = self.registered(lists=[self.day1])
        before = self.row(token)
        _, good = edit_form(browser, token)
        cases = [
            ({"given_name": "  "}, "given_name", "Enter your given name"),
            ({"family_name": "x" * 101}, "family_name", ""),
            ({"email": "not-an-address"}, "email", "Enter an email address"),
            ({"country": "ZZ"}, "country", "Choose a country from the list"),
            ({"organisation_type": "pirates"}, "organisation_type", "Choose a type from the list"),
            ({"lists": ["nine"]}, "lists", "Choose days and sessions from the list"),
            ({"lists": []}, "lists", "Choose at least one day or session"),
            ({"lists": ["999999"]}, "lists", "Choose days and sessions from the list"),
            ({"dietary": "a\u200bb"}, "dietary", ""),
            ({"version": "x"}, "version", "This form has expired"),
        ]
        for change, field, message in cases:
            fields = dict(good, organisation="Kept Organisation \u00e9")
            fields.update(change)
            r = browser.post("/tickets/%s/edit" % token, fields)
            self.assertEqual(r.status, 422, "%s: %d %s" % (change, r.status, r.text[:300]))
            page = parse_html(r.text)
            error = page.by_id("error-" + field)
            self.assertIsNotNone(error, "%s: no message next to %s" % (change, field))
            self.assertIn(message, error.text())
            self.assertIn("There is a problem with the changes", r.text)
            self.assertIn('value="Kept Organisation \u00e9"', r.text)
        self.assertEqual(self.row(token), before)
        self.assertEqual(self.changes_of(token), [])
        self.assertEqual(self.outbox("changed"), [])

    def test_an_address_taken_by_another_registration_is_refused_at_confirmation(self):
        # The edit answers as for any new address (it does not tell a ticket holder which
        # addresses are registered); the link then cannot confirm it.
        self.registered(email="first@example.org")
        browser, token, _ = self.registered(email="second@example.org")
        _, fields = edit_form(browser, token)
        r = browser.post("/tickets/%s/edit" % token, dict(fields, email="FIRST@example.org"))
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/tickets/%s?changed=1&email_sent=1" % token)
        link = self.outbox("email_confirm")[0]["details"]["confirm_token"]
        other = Browser(self.server)
        page = other.get("/email/confirm/%s" % link)
        r = other.post("/email/confirm/%s" % link,
                       {"csrf_token": hidden_field(page.text, "csrf_token")})
        self.assertEqual(r.status, 409)
        self.assertIn("Another registration for this event uses this address now", r.text)
        self.assertEqual(self.row(token, "email"), "second@example.org")

    def test_the_same_values_change_nothing(self):
        browser, token, _ = self.registered()
        _, fields = edit_form(browser, token)
        r = browser.post("/tickets/%s/edit" % token, fields)
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/tickets/%s?unchanged=1" % token)
        self.assertIn("Nothing was changed", browser.get(r.header("Location")).text)
        self.assertEqual(self.changes_of(token), [])
        self.assertEqual(self.outbox("changed"), [])
        self.assertTrue(self.row(token).endswith("|1"))

    def test_email_changes_only_through_the_link_sent_to_the_new_address(self):
        browser, token, _ = self.registered(email="old@example.org")
        _, fields = edit_form(browser, token)
        r = browser.post("/tickets/%s/edit" % token, dict(fields, email="new@example.org"))
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertEqual(r.header("Location"), "/tickets/%s?changed=1&email_sent=1" % token)
        self.assertIn("takes effect when you follow the link",
                      browser.get(r.header("Location")).text)
        # Not yet in effect.
        self.assertEqual(self.row(token, "email"), "old@example.org")
        page, _ = edit_form(browser, token)
        self.assertIn("Waiting for confirmation: <strong>new@example.org</strong>", page.text)
        # The link goes to the new address; the old one is told of the request.
        confirm = self.outbox("email_confirm")
        self.assertEqual([m["recipient"] for m in confirm], ["new@example.org"])
        link_token = confirm[0]["details"]["confirm_token"]
        self.assertRegex(link_token, r"^[A-Za-z0-9_-]{22}$")
        # Only its hash is kept with the request.
        self.assertEqual(self.db.sql("SELECT count(*) FROM email_changes WHERE token_hash = "
                                     "sha256(convert_to('%s', 'UTF8'))" % link_token).strip(), "1")
        summary = self.outbox("changed")
        self.assertEqual([m["recipient"] for m in summary], ["old@example.org"])
        self.assertEqual(summary[0]["details"]["changes"][0]["field"], "email_requested")

        # Following the link: a page with a button (mail scanners that open links change
        # nothing), then the address is the new one, once.
        other = Browser(self.server)
        page = other.get("/email/confirm/%s" % link_token)
        self.assertEqual(page.status, 200)
        self.assertEqual(self.row(token, "email"), "old@example.org")
        form = {"csrf_token": hidden_field(page.text, "csrf_token")}
        r = other.post("/email/confirm/%s" % link_token, form)
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertEqual(r.header("Location"), "/tickets/%s?email_confirmed=1" % token)
        self.assertIn("Your new email address is confirmed", other.get(r.header("Location")).text)
        self.assertEqual(self.row(token, "email"), "new@example.org")
        log = self.changes_of(token)
        self.assertEqual([c["field"] for c in log[-1]["changes"]], ["email"])
        self.assertEqual((log[-1]["changes"][0]["old"], log[-1]["changes"][0]["new"]),
                         ("old@example.org", "new@example.org"))
        self.assertEqual([m["recipient"] for m in self.outbox("changed")],
                         ["old@example.org", "new@example.org"])
        # Once.
        again = other.post("/email/confirm/%s" % link_token, form)
        self.assertEqual(again.status, 410)
        self.assertIn("This link was used already", unescape(again.text))
        self.assertEqual(len(self.changes_of(token)), 2)
        r = other.post("/email/confirm/%s" % ("A" * 22), form)
        self.assertEqual(r.status, 404)
        self.assertIn("This confirmation link is not valid", r.text)

    def test_a_newer_request_replaces_the_older_link_and_links_expire(self):
        browser, token, _ = self.registered(email="old@example.org")
        _, fields = edit_form(browser, token)
        browser.post("/tickets/%s/edit" % token, dict(fields, email="first@example.org"))
        _, fields = edit_form(browser, token)
        browser.post("/tickets/%s/edit" % token, dict(fields, email="second@example.org"))
        first, second = [m["details"]["confirm_token"] for m in self.outbox("email_confirm")]
        other = Browser(self.server)
        form = {"csrf_token": hidden_field(other.get("/email/confirm/%s" % first).text,
                                           "csrf_token")}
        r = other.post("/email/confirm/%s" % first, form)
        self.assertEqual(r.status, 410)
        self.assertIn("A newer address was asked for", r.text)
        self.db.sql("UPDATE email_changes SET expires_at = now() - interval '1 second'")
        r = other.post("/email/confirm/%s" % second, form)
        self.assertEqual(r.status, 410)
        self.assertIn("This link has expired", r.text)
        self.assertEqual(self.row(token, "email"), "old@example.org")

    def test_confirmation_email_through_the_mailer(self):
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        start_mailer(self, sink.url, self.server.url, "--from", "Tickets <t@soil.example>")
        browser, token, _ = self.registered(given_name="Zo\u00eb", email="zoe@example.org")
        sink.wait_for(1)  # the ticket
        _, fields = edit_form(browser, token)
        browser.post("/tickets/%s/edit" % token,
                     dict(fields, email="zoe@new.example", dietary="Vegan"))
        import email
        import email.policy
        messages = [email.message_from_bytes(raw, policy=email.policy.default)
                    for raw in sink.wait_for(3)[1:]]
        by_to = {m["To"].addresses[0].addr_spec: m for m in messages}
        confirm = by_to["zoe@new.example"]
        self.assertEqual(confirm["Subject"],
                         "Confirm your new email address for Soil Health Conference")
        text = confirm.get_body(("plain",)).get_content()
        m = re.search(r"%s/email/confirm/([A-Za-z0-9_-]{22})" % re.escape(self.server.url), text)
        self.assertIsNotNone(m, text)
        summary = by_to["zoe@example.org"]
        self.assertEqual(summary["Subject"], "Your registration for Soil Health Conference was "
                                             "changed")
        text = summary.get_body(("plain",)).get_content()
        self.assertIn("Dietary requirements:  -> Vegan", text)
        self.assertIn("zoe@example.org -> zoe@new.example", text)
        self.assertIn("/tickets/%s" % token, text)
        # The link works from the email.
        other = Browser(self.server)
        path = "/email/confirm/" + m.group(1)
        r = other.post(path, {"csrf_token": hidden_field(other.get(path).text, "csrf_token")})
        self.assertEqual(r.status, 303)
        self.assertEqual(self.row(token, "email"), "zoe@new.example")

    def test_a_stale_form_answers_409_with_the_current_values(self):
        browser, token, _ = self.registered(given_name="Ada", lists=[self.day1])
        _, first = edit_form(browser, token)
        _, second = edit_form(browser, token)
        r = browser.post("/tickets/%s/edit" % token, dict(first, given_name="Augusta"))
        self.assertEqual(r.status, 303)
        r = browser.post("/tickets/%s/edit" % token,
                         dict(second, given_name="Countess", lists=[str(self.day2)]))
        self.assertEqual(r.status, 409)
        self.assertIn("Someone else changed this registration meanwhile", r.text)
        self.assertEqual(hidden_field(r.text, "given_name"), "Augusta")
        self.assertEqual(hidden_field(r.text, "version"), "2")
        self.assertIn('name="lists" value="%d" checked' % self.day1, r.text)
        self.assertTrue(self.row(token).startswith("Augusta|"))
        self.assertEqual(self.lists_of(token), [self.day1])
        self.assertEqual(len(self.changes_of(token)), 1)

    def test_two_different_edits_at_once_one_wins_the_other_is_stale(self):
        browser, token, _ = self.registered(given_name="Ada")
        _, fields = edit_form(browser, token)
        names = ["Name %d" % i for i in range(6)]
        answers = harness.run_threads(
            lambda name: browser.post("/tickets/%s/edit" % token, dict(fields, given_name=name)),
            names, len(names))
        statuses = sorted(r.status for r in answers)
        self.assertEqual(statuses, [303] + [409] * (len(names) - 1))
        log = self.changes_of(token)
        self.assertEqual(len(log), 1)
        winner = log[0]["changes"][0]["new"]
        self.assertEqual(self.row(token, "given_name, version"), "%s|2" % winner)
        for r in answers:
            if r.status == 409:
                self.assertEqual(hidden_field(r.text, "given_name"), winner)

    def test_the_same_form_sent_twice_is_one_change(self):
        browser, token, _ = self.registered(lists=[self.day1])
        _, fields = edit_form(browser, token)
        fields.update(family_name="Twice", email="twice@example.org",
                      lists=[str(self.day1), str(self.day2)])
        answers = [browser.post("/tickets/%s/edit" % token, fields) for _ in range(2)]
        for r in answers:
            self.assertEqual(r.status, 303, r.text[:300])
            self.assertEqual(r.header("Location"), "/tickets/%s?changed=1&email_sent=1" % token)
        self.assertEqual(len(self.changes_of(token)), 1)
        self.assertEqual(len(self.outbox("changed")), 1)
        self.assertEqual(len(self.outbox("email_confirm")), 1)
        self.assertTrue(self.row(token).endswith("|2"))

    def test_erasure_forgets_the_values_of_the_change_log(self):
        browser, token, _ = self.registered(given_name="Ada", email="ada@example.org")
        _, fields = edit_form(browser, token)
        browser.post("/tickets/%s/edit" % token,
                     dict(fields, given_name="Augusta", email="ada@new.example"))
        reg = int(self.row(token, "id"))
        self.db.sql("SELECT admit_edit_forget(%d)" % reg)
        log = self.changes_of(token)
        self.assertEqual([sorted(c) for c in log[0]["changes"]], [["field", "label"]] * 2)
        self.assertEqual(self.db.sql("SELECT count(*) FROM email_changes").strip(), "0")
        self.assertEqual(self.db.sql("SELECT count(*) FROM mail_outbox WHERE details IS NOT NULL"
                                     " OR (kind IN ('changed', 'email_confirm')"
                                     " AND state = 'pending')").strip(), "0")
        for value in ("Augusta", "ada@new.example"):
            self.assertEqual(self.db.sql(
                "SELECT count(*) FROM registration_changes WHERE changes::text LIKE '%%%s%%'"
                % value).strip(), "0")

    def test_a_cancelled_registration_is_not_edited(self):
        browser, token, _ = self.registered()
        _, fields = edit_form(browser, token)
        self.db.sql("SELECT admit_cancel('%s')" % token)
        r = browser.get("/tickets/%s/edit" % token)
        self.assertEqual((r.status, r.header("Location")), (303, "/tickets/%s" % token))
        r = browser.post("/tickets/%s/edit" % token, dict(fields, given_name="Ghost"))
        self.assertEqual(r.status, 409)
        self.assertIn("This registration is cancelled", r.text)
        self.assertEqual(self.changes_of(token), [])

    def test_unknown_tickets_and_forged_forms(self):
        r = self.server.get("/tickets/%s/edit" % ("B" * 22))
        self.assertEqual(r.status, 404)
        r = self.server.get("/tickets/short/edit")
        self.assertEqual(r.status, 404)
        browser, token, _ = self.registered()
        _, fields = edit_form(browser, token)
        # No CSRF token, or another site's: refused, nothing changed.
        r = Browser(self.server).post("/tickets/%s/edit" % token,
                                      dict(fields, given_name="Mallory"))
        self.assertEqual(r.status, 403)
        self.assertEqual(self.changes_of(token), [])


class Door(EditCase):

    def test_a_removed_list_reaches_online_doors_at_once_and_offline_ones_at_sync(self):
        device = add_device(self.db.dsn, self.event.slug, "Gate A")
        signer = harness.TicketSigner(self.keys)
        browser, token, _ = self.registered(given_name="Ada", family_name="Lovelace",
                                            lists=[self.day1, self.day2])
        reg = int(self.row(token, "id"))
        other, other_token, _ = self.registered(lists=[self.day1])
        r, full = api_call(self.server, "GET", "/api/v1/events/%s/sync" % self.event.slug, device)
        self.assertEqual(r.status, 200)
        self.assertEqual([x["lists"] for x in full["registrations"] if x["id"] == reg],
                         [sorted([self.day1, self.day2])])
        registered_day2 = self.db.sql("SELECT count(*) FROM registration_lists WHERE list_id = %d"
                                      % self.day2).strip()
        self.assertEqual(registered_day2, "1")

        _, fields = edit_form(browser, token)
        r = browser.post("/tickets/%s/edit" % token,
                         dict(fields, given_name="Augusta Ada", lists=[str(self.day1)]))
        self.assertEqual(r.status, 303)
        # The place on Day 2 is free: nobody is on that list any more.
        self.assertEqual(self.db.sql("SELECT count(*) FROM registration_lists WHERE list_id = %d"
                                     % self.day2).strip(), "0")
        # Online, at once: the Day 2 door refuses the same QR code; Day 1 admits the new name.
        payload = signer.ticket(self.event.id, reg)
        day2_name = dict((i, n) for i, n in self.event.lists)[self.day2]
        body = {"payload": payload, "list": day2_name, "nonce": new_nonce()}
        r, answer = api_call(self.server, "POST", "/api/v1/checkins", device, body)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(answer["verdict"], "not_on_list")
        body = {"payload": payload, "list": "Day 1", "nonce": new_nonce()}
        r, answer = api_call(self.server, "POST", "/api/v1/checkins", device, body)
        self.assertEqual(answer["verdict"], "valid")
        self.assertIn("Augusta Ada Lovelace", json.dumps(answer, ensure_ascii=False))
        # Offline, at the next sync: the edit is in the delta, with the new lists and name.
        r, delta = api_call(self.server, "GET", "/api/v1/events/%s/sync?since=%s"
                            % (self.event.slug, full["cursor"].replace(":", "%3A")), device)
        self.assertEqual(r.status, 200)
        changed = [x for x in delta["registrations"] if x["id"] == reg]
        self.assertEqual(len(changed), 1, delta)
        self.assertEqual(changed[0]["lists"], [self.day1])
        self.assertEqual(changed[0]["name"], "Augusta Ada Lovelace")
        # The QR code was not reissued: the same payload, the same counter.
        self.assertEqual(changed[0]["reissue"], 0)


class Organiser(EditCase):

    def setUp(self):
        super().setUp()
        add_admin(self.db.dsn, "boss@example.org")
        self.admin = logged_in(self.server, "boss@example.org")

    def test_organiser_edits_any_registration_without_deadline(self):
        browser, token, _ = self.registered(given_name="Ada", email="ada@example.org",
                                            lists=[self.day1])
        reg = int(self.row(token, "id"))
        base = "/admin/events/%s/attendees/%d" % (self.event.slug, reg)
        attendee_page = self.admin.get(base)
        self.assertIn('href="%s/edit"' % base, attendee_page.text)
        # The attendee changes something first; the deadline then passes.
        _, fields = edit_form(browser, token)
        browser.post("/tickets/%s/edit" % token, dict(fields, dietary="Vegan"))
        self.db.sql("UPDATE events SET edits_close_at = now() - interval '1 day'")
        page = self.admin.get(base + "/edit")
        self.assertEqual(page.status, 200)
        self.assertEqual(hidden_field(page.text, "given_name"), "Ada")
        self.assertIn("Change history", page.text)
        self.assertIn("the attendee", page.text)
        fields = {"csrf_token": hidden_field(page.text, "csrf_token"),
                  "version": hidden_field(page.text, "version"), "given_name": "Ada",
                  "family_name": "Byron", "email": "ada@example.org",
                  "organisation": "Analytical Engine Society", "organisation_type": "research",
                  "country": "BE", "dietary": "Vegan", "accessibility": "",
                  "lists": [str(self.day1), str(self.day2)]}
        r = self.admin.post(base + "/edit", fields)
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertEqual(r.header("Location"), base + "/edit?saved=1")
        self.assertEqual(self.db.sql("SELECT actor || ' ' || action || ' ' || registration_id "
                                     "FROM audit_log").strip(),
                         "boss@example.org registration.edit %d" % reg)
        page = self.admin.get(r.header("Location"))
        self.assertIn("The attendee was emailed a summary of the change", page.text)
        self.assertIn("boss@example.org", page.text)
        self.assertIn("Family name", page.text)
        self.assertIn("Lovelace", page.text)
        self.assertIn("Byron", page.text)
        self.assertEqual(self.lists_of(token), sorted([self.day1, self.day2]))
        log = self.changes_of(token)
        self.assertEqual([entry["by"] for entry in log], [None, "boss@example.org"])
        self.assertEqual({c["field"] for c in log[1]["changes"]}, {"family_name", "lists"})
        mails = self.outbox("changed")
        self.assertEqual(len(mails), 2)
        self.assertTrue(mails[1]["details"]["by_organiser"])

        # The same validation: 422 with the values kept.
        page = self.admin.get(base + "/edit")
        bad = dict(fields, csrf_token=hidden_field(page.text, "csrf_token"),
                   version=hidden_field(page.text, "version"), country="XX",
                   organisation="Kept \u00e9")
        r = self.admin.post(base + "/edit", bad)
        self.assertEqual(r.status, 422)
        self.assertIn("Choose a country from the list",
                      parse_html(r.text).by_id("error-country").text())
        self.assertIn('value="Kept \u00e9"', r.text)
        # A stale form: 409 with the current values.
        r = self.admin.post(base + "/edit", dict(bad, country="FR", version="1"))
        self.assertEqual(r.status, 409)
        self.assertIn("Someone else changed this registration meanwhile", r.text)
        self.assertEqual(hidden_field(r.text, "family_name"), "Byron")
        # An organiser's new address also waits for its confirmation.
        page = self.admin.get(base + "/edit")
        r = self.admin.post(base + "/edit", dict(fields, csrf_token=hidden_field(
            page.text, "csrf_token"), version=hidden_field(page.text, "version"),
            email="ada@new.example"))
        self.assertEqual(r.header("Location"), base + "/edit?saved=email")
        self.assertEqual(self.row(token, "email"), "ada@example.org")
        self.assertTrue(self.outbox("email_confirm")[0]["details"]["by_organiser"])

    def test_the_deadline_is_set_in_the_event_form_and_shown_on_the_ticket(self):
        from test_admin_pages import event_fields
        _, token, _ = self.registered()
        path = "/admin/events/%s/edit" % self.event.slug
        page = parse_html(self.admin.get(path).text)
        ids = [i.attrs["value"] for i in page.find_all("input", name="list_id")][:3]
        names = [i.attrs["value"] for i in page.find_all("input", name="list_name")][:3]
        days = [i.attrs["value"] for i in page.find_all("input", name="list_day")][:3]
        starts = self.event.starts
        base = event_fields(slug=None, name=self.event.name, list_id=ids, list_name=names,
                            list_day=days, starts="%sT09:00" % starts.isoformat(),
                            ends="%sT18:00" % starts.isoformat(), closes="")
        for value, message in [("soon", "Enter a date and time like"),
                               ("%sT20:00" % starts.isoformat(), "before the event ends"),
                               ("2030-02-30T10:00", "This is not a real date and time")]:
            r = admin_post(self.admin, path, path, dict(base, edits_close=value))
            self.assertEqual(r.status, 422, value)
            self.assertIn(message, parse_html(r.text).by_id("error-edits_close").text())
            self.assertEqual(self.db.sql("SELECT edits_close_at IS NULL FROM events WHERE slug"
                                         " = '%s'" % self.event.slug).strip(), "t")
        r = admin_post(self.admin, path, path,
                       dict(base, edits_close="%sT08:30" % starts.isoformat()))
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertIn('value="%sT08:30"' % starts.isoformat(), self.admin.get(path).text)
        ticket = Browser(self.server).get("/tickets/%s" % token).text
        self.assertIn("%d %s %d, 08:30" % (starts.day, starts.strftime("%B"), starts.year),
                      ticket)
        # Emptied again: the default (the start of the event, registration having no end).
        r = admin_post(self.admin, path, path, dict(base, edits_close=""))
        self.assertEqual(r.status, 303)
        ticket = Browser(self.server).get("/tickets/%s" % token).text
        self.assertIn("%d %s %d, 09:00" % (starts.day, starts.strftime("%B"), starts.year),
                      ticket)

    def test_an_organiser_of_other_events_sees_nothing(self):
        other = create_event(self.db.dsn, name="Other Event")
        add_admin(self.db.dsn, "jo@example.org", events=[other.slug])
        jo = logged_in(self.server, "jo@example.org")
        _, token, _ = self.registered()
        reg = int(self.row(token, "id"))
        path = "/admin/events/%s/attendees/%d/edit" % (self.event.slug, reg)
        self.assertEqual(jo.get(path).status, 404)
        page = jo.get("/admin/events/%s" % other.slug)
        r = jo.post(path, {"csrf_token": hidden_field(page.text, "csrf_token"), "version": "1",
                           "given_name": "X"})
        self.assertEqual(r.status, 404)
        # Wrong event in the path for a real id: 404 too.
        r = self.admin.get("/admin/events/%s/attendees/%d/edit" % (other.slug, reg))
        self.assertEqual(r.status, 404)
        self.assertEqual(self.changes_of(token), [])
        # Without a session: the login page.
        r = Browser(self.server).get(path)
        self.assertEqual(r.status, 303)

    def test_an_erased_registration_gets_no_data_back(self):
        """After the event an erasure keeps the registration (for the reports) without its
        personal data (migration 14); the organisers' edit, which has no deadline, must not
        put any back: 409, nothing saved."""
        _, token, _ = self.registered(given_name="Ada", email="ada@example.org",
                                      lists=[self.day1])
        reg = int(self.row(token, "id"))
        self.db.sql("UPDATE events SET registration_opens_at = NULL, registration_closes_at = "
                    "NULL, starts_at = now() - interval '3 days', ends_at = now() - "
                    "interval '2 days' WHERE id = %d" % self.event.id)
        base = "/admin/events/%s/attendees/%d" % (self.event.slug, reg)
        page = self.admin.get(base + "/edit")
        run_admit("erase", "--db", self.db.dsn, "--event", self.event.slug, "--registration",
                  str(reg))
        fields = {"csrf_token": hidden_field(page.text, "csrf_token"),
                  "version": hidden_field(page.text, "version"), "given_name": "Ada",
                  "family_name": "Lovelace", "email": "ada@example.org", "organisation": "AES",
                  "organisation_type": "research", "country": "BE", "dietary": "",
                  "accessibility": "", "lists": [str(self.day1)]}
        r = self.admin.post(base + "/edit", fields)
        self.assertEqual(r.status, 409, r.text[:500])
        self.assertIn("This registration was erased", r.text)
        row = self.db.sql("SELECT status, given_name, email, anonymised_at IS NOT NULL "
                          "FROM registrations WHERE id = %d" % reg).strip()
        self.assertNotIn("Ada", row)
        self.assertNotIn("ada@example.org", row)
        self.assertTrue(row.endswith("|t"), row)


if __name__ == "__main__":
    harness.main()
