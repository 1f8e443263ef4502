#!/usr/bin/env python3
"""Organisers' actions that cannot be undone ask first and happen once (issue 16), over real
HTTP and PostgreSQL: each action's address shows a confirmation page that says in words what
will happen; its form carries a key, and posting the same key again (one after the other, or
from several threads at once) acts once: one email queued, one row in the action log, the same
answer. Actions that make no sense for a registration's state are not offered, and refused with
a 409 when posted anyway. After a reissue the page shows the absolute ticket link.
"""

import threading

import harness
from harness import ServerTestCase, create_event, hidden_field, register
from test_admin import add_admin, admin_act, admin_post, csrf_of, logged_in, new_key
from test_admin import registration_id

PUBLIC_URL = "http://tickets.example.org"


class Confirm(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, capacity=1, name="Tiny Seminar")
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd("--public-url", PUBLIC_URL)
        register(self.server, self.event.slug, given_name="Ada", family_name="Lovelace",
                 email="ada@example.org")
        register(self.server, self.event.slug, given_name="Émile", family_name="Zola",
                 email="emile@example.org")
        self.ada = registration_id(self.db, "ada@example.org")
        self.emile = registration_id(self.db, "emile@example.org")
        self.browser = logged_in(self.server, "boss@example.org")
        self.base = "/admin/events/%s/attendees" % self.event.slug

    def url(self, reg, action=""):
        return "%s/%d%s" % (self.base, reg, "/" + action if action else "")

    def mails(self, reg, kind):
        return int(self.db.sql("SELECT count(*) FROM mail_outbox WHERE registration_id = %d "
                               "AND kind = '%s'" % (reg, kind)).strip())

    def actions(self, reg, action):
        return int(self.db.sql("SELECT count(*) FROM admin_actions WHERE registration_id = %d "
                               "AND action = '%s'" % (reg, action)).strip())

    def confirmation(self, reg, action, query=""):
        page = self.browser.get(self.url(reg, action) + query)
        self.assertEqual(page.status, 200, page.text[:500])
        return page

    def test_each_confirmation_page_says_what_will_happen(self):
        page = self.confirmation(self.ada, "cancel")
        text = harness.parse_html(page.text).text()
        self.assertIn("Cancel the registration of Ada Lovelace?", text)
        self.assertIn("Ada gets an email at ada@example.org", text)
        self.assertIn("QR code stop working", text)
        self.assertIn("the first in line gets the seat and an email", text)
        self.assertIn("cannot be undone", text)
        self.assertIn('action="%s"' % self.url(self.ada, "cancel"), page.text)
        self.assertEqual(len(hidden_field(page.text, "key")), 22)
        self.assertNotEqual(hidden_field(self.confirmation(self.ada, "cancel").text, "key"),
                            hidden_field(page.text, "key"))  # a fresh key per view
        text = harness.parse_html(self.confirmation(self.ada, "reissue").text).text()
        self.assertIn("Issue a new ticket for Ada Lovelace?", text)
        self.assertIn("The old QR code stops working at the door", text)
        self.assertIn("The old ticket link stops working too", text)
        self.assertIn("email at ada@example.org with the new ticket link", text)
        text = harness.parse_html(self.confirmation(self.emile, "promote").text).text()
        self.assertIn("Move Émile Zola from the waiting list?", text)
        self.assertIn("saying they have a seat", text)
        day1, day2, _ = self.event.list_ids
        text = harness.parse_html(self.confirmation(self.ada, "checkin",
                                                    "?list=%d" % day1).text).text()
        self.assertIn("Check in Ada Lovelace on Day 1?", text)
        self.assertIn("No email is sent", text)
        self.assertNotIn("Flagged scans", text.split("Check in Ada")[1])
        forced = self.confirmation(self.ada, "checkin", "?list=%d" % day2)
        self.assertIn("Force the check-in", forced.text)
        self.assertIn("listed on the Flagged scans page", forced.text)
        self.assertEqual(hidden_field(forced.text, "force"), "yes")
        # Looking changes nothing.
        self.assertEqual(self.db.sql("SELECT string_agg(status::text, ',' ORDER BY id) "
                                     "FROM registrations").strip(), "confirmed,waitlisted")
        self.assertEqual(self.db.sql("SELECT count(*) FROM scans").strip(), "0")
        self.assertEqual(self.actions(self.ada, "cancel"), 0)
        # The attendee page's buttons lead to these pages, by GET.
        attendee = self.browser.get(self.url(self.ada)).text
        self.assertIn('<form method="get" action="%s">' % self.url(self.ada, "cancel"), attendee)
        self.assertIn('<form method="get" action="%s">' % self.url(self.ada, "reissue"), attendee)

    def test_the_same_form_sent_twice_cancels_once(self):
        page = self.confirmation(self.ada, "cancel")
        form = {"csrf_token": csrf_of(page), "key": hidden_field(page.text, "key")}
        first = self.browser.post(self.url(self.ada, "cancel"), form)
        second = self.browser.post(self.url(self.ada, "cancel"), form)
        self.assertEqual(first.status, 303)
        self.assertEqual(second.status, 303)  # the first one's answer, not an error
        self.assertEqual(second.header("Location"), first.header("Location"))
        self.assertTrue(first.header("Location").endswith("?done=promoted"))
        self.assertIn("the seat went to the next person",
                      self.browser.get(second.header("Location")).text)
        self.assertEqual(self.mails(self.ada, "cancelled"), 1)
        self.assertEqual(self.mails(self.emile, "promoted"), 1)
        self.assertEqual(self.actions(self.ada, "cancel"), 1)
        self.assertEqual(self.db.sql("SELECT a.email, r.outcome, r.promoted_id FROM admin_actions "
                                     "r JOIN admins a ON a.id = r.admin_id").strip(),
                         "boss@example.org|cancelled|%d" % self.emile)

    def test_the_same_form_sent_at_once_from_threads_reissues_once(self):
        old = self.db.sql("SELECT token FROM registrations WHERE id = %d" % self.ada).strip()
        page = self.confirmation(self.ada, "reissue")
        form = {"csrf_token": csrf_of(page), "key": hidden_field(page.text, "key")}
        start = threading.Barrier(4)
        answers = []

        def send():
            start.wait()
            answers.append(self.browser.post(self.url(self.ada, "reissue"), form))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([a.status for a in answers], [303] * 4)
        self.assertEqual(len({a.header("Location") for a in answers}), 1)
        self.assertEqual(self.db.sql("SELECT reissue FROM registrations WHERE id = %d"
                                     % self.ada).strip(), "1")
        self.assertEqual(self.mails(self.ada, "reissued"), 1)
        self.assertEqual(self.actions(self.ada, "reissue"), 1)
        # The page after it shows the new ticket link, absolute, to copy.
        new = self.db.sql("SELECT token FROM registrations WHERE id = %d" % self.ada).strip()
        self.assertNotEqual(new, old)
        done = self.browser.get(answers[0].header("Location"))
        self.assertIn("A new ticket was issued", done.text)
        self.assertIn('id="new-ticket-link">%s/tickets/%s</a>' % (PUBLIC_URL, new), done.text)
        # Another confirmation (a new key) is another reissue.
        self.assertEqual(admin_act(self.browser, self.url(self.ada, "reissue")).status, 303)
        self.assertEqual(self.mails(self.ada, "reissued"), 2)

    def test_a_forced_check_in_sent_twice_is_one_entry(self):
        day2 = self.event.list_ids[1]  # Ada is not on it: forced, flagged for review
        page = self.confirmation(self.ada, "checkin", "?list=%d" % day2)
        form = {"csrf_token": csrf_of(page), "key": hidden_field(page.text, "key"),
                "list": hidden_field(page.text, "list"), "force": hidden_field(page.text, "force")}
        answers = [self.browser.post(self.url(self.ada, "checkin"), form) for _ in range(2)]
        self.assertEqual([a.status for a in answers], [303, 303])
        self.assertTrue(answers[1].header("Location").endswith("?done=checked_in"))
        self.assertEqual(self.db.sql("SELECT count(*), bool_and(flagged) FROM scans").strip(),
                         "1|t")
        self.assertEqual(self.db.sql("SELECT count(*) FROM admissions").strip(), "1")
        self.assertEqual(self.actions(self.ada, "checkin"), 1)
        # Checked in now: not offered again on that list.
        r = self.browser.get(self.url(self.ada, "checkin") + "?list=%d" % day2)
        self.assertEqual(r.status, 409)
        self.assertIn("Already checked in on this list", r.text)

    def test_a_missing_forged_or_reused_key_or_token_is_refused(self):
        page = self.confirmation(self.ada, "cancel")
        token, key = csrf_of(page), hidden_field(page.text, "key")
        url = self.url(self.ada, "cancel")
        for bad in [{}, {"key": ""}, {"key": "not a key"}, {"key": "x" * 200}]:
            r = self.browser.post(url, dict(bad, csrf_token=token))
            self.assertEqual(r.status, 400, bad)
            self.assertIn("no valid confirmation key, so nothing was done", r.text)
        r = self.browser.post(url, {"key": key})
        self.assertEqual(r.status, 403)
        self.assertIn("This form has expired or was changed", r.text)
        r = self.browser.post(url, {"key": key, "csrf_token": "x" * 43})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.db.sql("SELECT status FROM registrations WHERE id = %d"
                                     % self.ada).strip(), "confirmed")
        # A key used for one action does not do another.
        self.assertEqual(self.browser.post(url, {"key": key, "csrf_token": token}).status, 303)
        r = self.browser.post(self.url(self.emile, "cancel"), {"key": key, "csrf_token": token})
        self.assertEqual(r.status, 422)
        self.assertIn("belongs to another action or attendee", r.text)
        self.assertEqual(self.db.sql("SELECT status FROM registrations WHERE id = %d"
                                     % self.emile).strip(), "confirmed")  # promoted, not cancelled

    def test_actions_that_make_no_sense_are_not_offered_and_refused(self):
        day1 = self.event.list_ids[0]
        waitlisted = self.browser.get(self.url(self.emile)).text
        self.assertIn("Move from the waiting list", waitlisted)
        self.assertNotIn("Reissue", waitlisted)
        self.assertNotIn("Check in", waitlisted)
        self.assertIn("Cancel the registration", waitlisted)
        confirmed = self.browser.get(self.url(self.ada)).text
        self.assertNotIn("Move from the waiting list", confirmed)
        self.assertIn("Reissue the ticket", confirmed)
        self.assertIn("Check in", confirmed)
        # Their confirmation pages answer 409 with the reason.
        for reg, action, query, message in [
                (self.emile, "reissue", "", "On the waiting list, without a seat"),
                (self.emile, "checkin", "?list=%d" % day1, "On the waiting list, without a seat"),
                (self.ada, "promote", "", "not on the waiting list")]:
            r = self.browser.get(self.url(reg, action) + query)
            self.assertEqual(r.status, 409, action)
            self.assertIn(message, r.text)
        # Posted anyway (a forged form with a fresh key): 409 and nothing done.
        for reg, action, fields, message in [
                (self.emile, "reissue", {}, "On the waiting list, without a seat"),
                (self.emile, "checkin", {"list": str(day1)}, "On the waiting list"),
                (self.ada, "promote", {}, "not on the waiting list")]:
            r = admin_post(self.browser, self.url(reg), self.url(reg, action),
                           dict(fields, key=new_key()))
            self.assertEqual(r.status, 409, action)
            self.assertIn(message, r.text)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_actions").strip(), "0")
        self.assertEqual(self.db.sql("SELECT string_agg(status || '/' || reissue, ',' ORDER BY id)"
                                     " FROM registrations").strip(),
                         "confirmed/0,waitlisted/0")
        self.assertEqual(self.db.sql("SELECT count(*) FROM admissions").strip(), "0")
        # A cancelled registration offers nothing, and refuses everything.
        self.assertEqual(admin_act(self.browser, self.url(self.ada, "cancel")).status, 303)
        cancelled = self.browser.get(self.url(self.ada)).text
        for offer in ["Reissue", "Check in", "Move from the waiting list",
                      "Cancel the registration"]:
            self.assertNotIn(offer, cancelled)
        self.assertIn("nothing more can be done with it", cancelled)
        for action, fields, message in [
                ("reissue", {}, "This registration is cancelled"),
                ("cancel", {}, "already cancelled"),
                ("checkin", {"list": str(day1)}, "This registration is cancelled")]:
            r = admin_post(self.browser, self.url(self.ada), self.url(self.ada, action),
                           dict(fields, key=new_key()))
            self.assertEqual(r.status, 409, action)
            self.assertIn(message, r.text)
        self.assertEqual(self.mails(self.ada, "cancelled"), 1)
        self.assertEqual(self.mails(self.ada, "reissued"), 0)


if __name__ == "__main__":
    harness.main()
