#!/usr/bin/env python3
"""Organisers managing organisers from /admin, over real HTTP and PostgreSQL: an all-events
organiser adds one (who chooses their password through a one-time link and logs in), makes a
password link for another (it works once; the old password and sessions end), and removes one
after a confirmation page (never themselves). Used, expired and unknown links say so in words;
organisers limited to some events get 403; forms without their CSRF token change nothing.
"""

import re
import threading

import harness
from harness import ServerTestCase, create_event, parse_html
from test_admin import PASSWORD, add_admin, admin_post, login, logged_in

PUBLIC_URL = "http://tickets.example.org"
LINK_RE = re.compile(r'<code id="password-link">%s(/admin/password/([A-Za-z0-9_-]{22}))</code>'
                     % re.escape(PUBLIC_URL))
NEW_PASSWORD = "a new password of some length"


class Organisers(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Terra Conference")
        self.other = create_event(self.db.dsn, name="Other Event")
        add_admin(self.db.dsn, "boss@example.org")
        add_admin(self.db.dsn, "jo@example.org", events=[self.event.slug])
        self.server = self.start_admitd("--public-url", PUBLIC_URL)
        self.boss = logged_in(self.server, "boss@example.org")

    def organiser_id(self, email):
        return int(self.db.sql("SELECT id FROM admins WHERE email = '%s'" % email).strip())

    def link_of(self, response):
        self.assertEqual(response.status, 200, response.text[:800])
        m = LINK_RE.search(response.text)
        self.assertIsNotNone(m, response.text[:1500])
        return m.group(1)

    def set_password(self, path, password=NEW_PASSWORD, again=None, browser=None):
        """Opens the link in browser (a new one by default) and posts the form, with the CSRF
        token of the page or, when the page has no form (a dead link), of the browser's earlier
        visit: the form sent again. Returns (page, answer to the post)."""
        browser = browser or harness.Browser(self.server)
        page = browser.get(path)
        form = {"password": password, "password_again": password if again is None else again}
        token = harness.hidden_field(page.text, "csrf_token") or getattr(browser, "token", None)
        if token is not None:
            form["csrf_token"] = browser.token = token
        return page, browser.post(path, form)

    def test_add_an_organiser_who_sets_a_password_through_the_link_and_logs_in(self):
        page = self.boss.get("/admin/organisers")
        self.assertEqual(page.status, 200)
        self.assertIn("jo@example.org", page.text)
        self.assertIn('href="/admin/organisers"', self.boss.get("/admin").text)
        r = admin_post(self.boss, "/admin/organisers", "/admin/organisers",
                       {"name": "Nora Newcomer", "email": "new@example.org", "scope": "some",
                        "events": [self.other.slug]})
        path = self.link_of(r)
        self.assertIn("new@example.org is added", r.text)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertNotIn(path.rsplit("/", 1)[1], self.server.log_text())
        listing = self.boss.get("/admin/organisers").text
        self.assertNotIn(path, listing)
        self.assertIn("Nora Newcomer", listing)
        # The link's token is stored as a hash only.
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_password_links WHERE"
                                     " token_hash = sha256(convert_to('%s', 'UTF8'))"
                                     % path.rsplit("/", 1)[1]).strip(), "1")
        # No password works before the link is used.
        self.assertEqual(login(self.server, "new@example.org", "")[1].status, 422)

        page = harness.Browser(self.server).get(path)
        self.assertEqual(page.status, 200)
        self.assertIn("For new@example.org", page.text)
        _, r = self.set_password(path, again="something else entirely")
        self.assertEqual(r.status, 422)
        self.assertIn("The two passwords differ", r.text)
        _, r = self.set_password(path, password="short", again="short")
        self.assertEqual(r.status, 422)
        self.assertIn("Use at least 12 characters", r.text)
        person = harness.Browser(self.server)
        _, r = self.set_password(path, browser=person)
        self.assertEqual(r.status, 200, r.text[:500])
        self.assertIn("Your password is set", r.text)

        newcomer = logged_in(self.server, "new@example.org", NEW_PASSWORD)
        self.assertEqual(newcomer.get("/admin/events/%s" % self.other.slug).status, 200)
        self.assertEqual(newcomer.get("/admin/events/%s" % self.event.slug).status, 404)
        self.assertEqual(newcomer.get("/admin/organisers").status, 403)
        listed = harness.run_admit("admin", "list", "--db", self.db.dsn).stdout
        self.assertIn("new@example.org\tevents=%s" % self.other.slug, listed)

        # The link is dead now, and says so.
        page, r = self.set_password(path, password="yet another long password", browser=person)
        self.assertEqual(page.status, 410)
        self.assertIn("This link has been used already", page.text)
        self.assertNotIn('name="password"', page.text)
        self.assertEqual(r.status, 410)
        logged_in(self.server, "new@example.org", NEW_PASSWORD)

    def test_every_event_scope_and_bad_input(self):
        r = admin_post(self.boss, "/admin/organisers", "/admin/organisers",
                       {"name": "Chief", "email": "chief@example.org", "scope": "all"})
        self.link_of(r)
        self.assertEqual(self.db.sql("SELECT all_events FROM admins WHERE email ="
                                     " 'chief@example.org'").strip(), "t")
        cases = [({"name": "N", "email": "not an email", "scope": "all"},
                  "cannot contain spaces"),
                 ({"name": "Jo again", "email": "JO@example.org", "scope": "all"},
                  "exists already"),
                 ({"name": "X", "email": "x@example.org", "scope": "some"},
                  "Choose at least one event"),
                 ({"name": "Y", "email": "y@example.org", "scope": "some",
                   "events": ["no-such-event"]}, "No event has the address name"),
                 ({"name": "  ", "email": "w@example.org", "scope": "all"}, "Enter their name"),
                 ({"name": "x" * 101, "email": "v@example.org", "scope": "all"},
                  "Use at most 100 characters"),
                 ({"name": "Eve\u202e", "email": "u@example.org", "scope": "all"},
                  "invisible")]
        for fields, message in cases:
            r = admin_post(self.boss, "/admin/organisers", "/admin/organisers", fields)
            self.assertEqual(r.status, 422, fields)
            self.assertIn(message, r.text)
            self.assertIsNone(LINK_RE.search(r.text))
            self.assertIn('value="%s"' % fields["email"], r.text)
            self.assertIn('value="%s"' % fields["name"], r.text)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admins").strip(), "3")
        # Without the CSRF token: refused, nobody added.
        r = self.boss.post("/admin/organisers", {"email": "z@example.org", "scope": "all"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admins").strip(), "3")

    def test_reset_link_works_once_and_ends_the_old_password_and_sessions(self):
        jo = logged_in(self.server, "jo@example.org")
        jo_id = self.organiser_id("jo@example.org")
        r = admin_post(self.boss, "/admin/organisers", "/admin/organisers/%d/link" % jo_id)
        path = self.link_of(r)
        # Until the link is used, nothing changes.
        self.assertEqual(jo.get("/admin").status, 200)
        person = harness.Browser(self.server)
        _, r = self.set_password(path, browser=person)
        self.assertEqual(r.status, 200, r.text[:500])
        self.assertEqual(jo.get("/admin").status, 303)  # the old session has ended
        self.assertEqual(login(self.server, "jo@example.org", PASSWORD)[1].status, 401)
        logged_in(self.server, "jo@example.org", NEW_PASSWORD)
        _, r = self.set_password(path, password="one more long password", browser=person)
        self.assertEqual(r.status, 410)
        self.assertIn("used already", r.text)
        logged_in(self.server, "jo@example.org", NEW_PASSWORD)

    def test_a_link_sent_twice_at_once_sets_the_password_once(self):
        jo_id = self.organiser_id("jo@example.org")
        path = self.link_of(admin_post(self.boss, "/admin/organisers",
                                       "/admin/organisers/%d/link" % jo_id))
        browsers = [harness.Browser(self.server) for _ in range(4)]
        forms = []
        for i, browser in enumerate(browsers):
            token = harness.hidden_field(browser.get(path).text, "csrf_token")
            password = "password number %d of four" % i
            forms.append({"csrf_token": token, "password": password, "password_again": password})
        answers = [None] * len(browsers)

        def send(i):
            answers[i] = browsers[i].post(path, forms[i]).status
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(browsers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(answers), [200, 410, 410, 410], answers)
        winner = answers.index(200)
        logged_in(self.server, "jo@example.org", forms[winner]["password"])
        for i, form in enumerate(forms):
            if i != winner:
                self.assertEqual(login(self.server, "jo@example.org", form["password"])[1].status,
                                 401)

    def test_expired_replaced_and_unknown_links_say_so(self):
        jo_id = self.organiser_id("jo@example.org")
        link = "/admin/organisers/%d/link" % jo_id
        first = self.link_of(admin_post(self.boss, "/admin/organisers", link))
        person = harness.Browser(self.server)
        opened = person.get(first)  # the form, opened in time
        self.assertEqual(opened.status, 200)
        person.token = harness.hidden_field(opened.text, "csrf_token")
        second = self.link_of(admin_post(self.boss, "/admin/organisers", link))
        # A newer link replaces the older one: that one has expired.
        page, r = self.set_password(first, browser=person)
        self.assertEqual(page.status, 410)
        self.assertIn("This link has expired", page.text)
        self.assertIn("only the newest one", page.text)
        self.assertEqual(r.status, 410)
        # A day later it has expired.
        self.db.sql("UPDATE admin_password_links SET expires_at = now() - interval '1 second'")
        page, r = self.set_password(second, browser=person)
        self.assertEqual(page.status, 410)
        self.assertIn("This link has expired", page.text)
        self.assertEqual(r.status, 410)
        logged_in(self.server, "jo@example.org", PASSWORD)  # nothing changed
        page = harness.Browser(self.server).get("/admin/password/" + "A" * 22)
        self.assertEqual(page.status, 404)
        self.assertIn("This link does not work", page.text)
        self.assertEqual(harness.Browser(self.server).get("/admin/password/x").status, 404)
        # Without the CSRF token a working link changes nothing.
        third = self.link_of(admin_post(self.boss, "/admin/organisers", link))
        r = harness.Browser(self.server).post(third, {"password": NEW_PASSWORD,
                                                      "password_again": NEW_PASSWORD})
        self.assertEqual(r.status, 403)
        logged_in(self.server, "jo@example.org", PASSWORD)

    def test_remove_after_confirmation_never_yourself(self):
        jo = logged_in(self.server, "jo@example.org")
        jo_id = self.organiser_id("jo@example.org")
        boss_id = self.organiser_id("boss@example.org")
        confirm = "/admin/organisers/%d/remove" % jo_id
        page = self.boss.get(confirm)
        self.assertEqual(page.status, 200)
        self.assertIn("Remove jo@example.org?", page.text)
        self.assertEqual(jo.get("/admin").status, 200)  # the page changed nothing
        self.assertEqual(self.boss.post(confirm, {}).status, 403)  # no CSRF token
        r = admin_post(self.boss, confirm, confirm)
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertEqual(r.header("Location"), "/admin/organisers?removed=1")
        self.assertIn("The organiser is removed", self.boss.get("/admin/organisers?removed=1").text)
        self.assertEqual(jo.get("/admin").status, 303)
        self.assertEqual(login(self.server, "jo@example.org")[1].status, 401)
        r = admin_post(self.boss, "/admin/organisers", confirm)
        self.assertEqual(r.status, 404)  # sent again: nothing more
        self.assertIn("removed already", r.text)

        mine = "/admin/organisers/%d/remove" % boss_id
        page = self.boss.get(mine)
        self.assertIn("You cannot remove yourself", page.text)
        self.assertIsNone(parse_html(page.text).find("form", action=mine))
        r = admin_post(self.boss, "/admin/organisers", mine)
        self.assertEqual(r.status, 409)
        self.assertEqual(self.boss.get("/admin/organisers").status, 200)

    def test_an_organiser_of_some_events_cannot_reach_these_pages(self):
        jo = logged_in(self.server, "jo@example.org")
        boss_id = self.organiser_id("boss@example.org")
        self.assertNotIn('href="/admin/organisers"', jo.get("/admin").text)
        self.assertEqual(jo.get("/admin/organisers").status, 403)
        self.assertEqual(jo.get("/admin/organisers/%d/remove" % boss_id).status, 403)
        own = "/admin/events/%s" % self.event.slug
        for path, fields in [("/admin/organisers", {"email": "z@example.org", "scope": "all"}),
                             ("/admin/organisers/%d/link" % boss_id, {}),
                             ("/admin/organisers/%d/remove" % boss_id, {})]:
            r = admin_post(jo, own, path, fields)
            self.assertEqual(r.status, 403, path)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admins").strip(), "2")
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_password_links").strip(), "0")
        # Without a session: the login page.
        r = harness.Browser(self.server).get("/admin/organisers")
        self.assertEqual(r.status, 303)


if __name__ == "__main__":
    harness.main()
