#!/usr/bin/python3
"""Personal data over real HTTP, PostgreSQL and the admit CLI (issue 18): the registration form's
privacy notice gives the event's retention; `admit purge` anonymises an event past its
retention (--dry-run first, then for real, then idempotent) and the report and attendance
exports are the same before and after but for the erased columns; `admit erase` erases a
person at once (their ticket link dies, the door refuses their QR); and after it all, no log
or table of the run holds the erased people's names or emails.
"""

import csv
import io
import os
import re

import harness
from harness import (ServerTestCase, SmtpSink, add_device, create_event, register, run_admit,
                     run_scan, scan_answers, start_mailer, ticket_token, wait_until)
from test_admin import add_admin, logged_in

ADMIN = "organiser@example.org"


class Privacy(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.server = self.start_admitd()
        self.event = create_event(self.db.dsn, days_ahead=30, extra=[
            "--retention-days", "7", "--privacy-notice", "https://example.org/notice",
            "--controller", "Research Consortium, dpo@example.org"])
        add_admin(self.db.dsn, ADMIN)
        self.people = []
        for i in range(4):
            fields = {"given_name": "Zelda%d" % i, "family_name": "Quuxley%d" % i,
                      "email": "zq%d.privacy@example.org" % i, "organisation": "Secret Org %d" % i,
                      "country": ["BE", "FR"][i % 2], "dietary": "no nuts %d" % i}
            _, _, response = register(self.server, self.event.slug,
                                      lists=self.event.list_ids[: 1 + i % 2], **fields)
            fields["token"] = ticket_token(response)
            fields["id"] = int(self.db.sql("SELECT id FROM registrations WHERE email = '%s'"
                                           % fields["email"]).strip())
            self.people.append(fields)

    def check_in(self, person, list_id):
        self.db.sql("SELECT outcome FROM admit_admin_checkin((SELECT min(id) FROM admins), "
                    "'%s', %d, %d, false, 'privacy-%d-%d')"
                    % (self.event.slug, person["id"], list_id, person["id"], list_id))

    def move_into_the_past(self, days_ago):
        self.db.sql("UPDATE events SET registration_opens_at = NULL, registration_closes_at = "
                    "NULL, starts_at = now() - interval '%d days', ends_at = now() - "
                    "interval '%d days' WHERE id = %d" % (days_ago + 1, days_ago, self.event.id))

    def exports(self, browser):
        """The report CSV and the attendance CSV without its personal columns."""
        base = "/admin/events/%s/" % self.event.slug
        report = browser.get(base + "report.csv")
        self.assertEqual(report.status, 200)
        attendance = browser.get(base + "attendance.csv")
        self.assertEqual(attendance.status, 200)
        rows = list(csv.reader(io.StringIO(attendance.text)))
        header = rows[0]
        personal = {i for i, name in enumerate(header)
                    if re.search(r"name|email|^organisation$", name, re.I)}
        self.assertEqual(len(personal), 4, header)
        kept = [[c for i, c in enumerate(row) if i not in personal] for row in rows]
        self.assertIn("yes", [c for row in kept for c in row])  # someone attended
        return report.text, kept

    def assert_nothing_held(self, people):
        """No table row, no admitd log line and no ticket page holds these people's data."""
        dump = self.db.sql("SELECT string_agg(t::text, E'\\n') FROM (SELECT r::text AS t FROM "
                           "registrations r UNION ALL SELECT o::text FROM mail_outbox o UNION ALL "
                           "SELECT s::text FROM scans s UNION ALL SELECT a::text FROM audit_log a"
                           ") x")
        log = self.server.log_text()
        for p in people:
            for secret in [p["given_name"], p["family_name"], p["email"], p["organisation"],
                           p["token"]]:
                self.assertNotIn(secret, dump)
                self.assertNotIn(secret, log)
            self.assertEqual(self.server.get("/tickets/" + p["token"]).status, 404)

    def test_notice_gives_the_retention(self):
        page = self.server.get("/events/" + self.event.slug)
        self.assertIn("kept 7 days after the event", page.text)
        self.assertIn('href="https://example.org/notice"', page.text)
        self.assertIn("Research Consortium, dpo@example.org", page.text)
        # A version was recorded with each registration, with the time of consent.
        self.assertEqual(self.db.sql("SELECT DISTINCT notice_version::text || ' ' || "
                                     "(consent_at IS NOT NULL) FROM registrations").strip(),
                         "1 true")
        bad = run_admit("event", "create", "--db", self.db.dsn, "--slug", "bad-notice",
                        "--name", "X", "--starts", "2030-01-01 09:00", "--ends",
                        "2030-01-01 17:00", "--capacity", "5", "--privacy-notice",
                        "ftp://example.org", check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("https://", bad.stderr)

    def test_event_form_sets_the_retention(self):
        from test_admin import admin_post
        from test_admin_pages import event_fields
        browser = logged_in(self.server, ADMIN)
        page = browser.get("/admin/events/new")
        self.assertIn('name="retention_days" value="90"', page.text)
        r = admin_post(browser, "/admin/events/new", "/admin/events/new",
                       event_fields(retention_days="30"))
        self.assertEqual(r.status, 303, r.text[:500])
        kept = "SELECT retention_days FROM events WHERE slug = 'summit-2030'"
        self.assertEqual(self.db.sql(kept).strip(), "30")
        edit = "/admin/events/summit-2030/edit"
        ids = self.db.sql("SELECT string_agg(l.id::text, ',' ORDER BY l.position) FROM "
                          "checkin_lists l JOIN events e ON e.id = l.event_id "
                          "WHERE e.slug = 'summit-2030'").strip().split(",")

        def edited(days):
            return event_fields(slug=None, retention_days=days, list_id=ids)
        self.assertIn('name="retention_days" value="30"', browser.get(edit).text)
        for bad in ["3651", "-1", "ten"]:
            r = admin_post(browser, edit, edit, edited(bad))
            self.assertEqual(r.status, 422, bad)
            self.assertIn("Enter a whole number of days from 0 to 3650", r.text)
            self.assertIn('value="%s"' % bad, r.text)
        self.assertEqual(self.db.sql(kept).strip(), "30")
        r = admin_post(browser, edit, edit, edited(""))
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertEqual(self.db.sql(kept).strip(), "30")  # empty: unchanged
        r = admin_post(browser, edit, edit, edited("0"))
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertEqual(self.db.sql(kept).strip(), "0")
        self.assertTrue(harness.wait_until(
            lambda: "kept 0 days after" in self.server.get("/events/summit-2030").text, 5))
        # The notice's link and the controller; a new version of the notice each time.
        version = "SELECT privacy_notice_version FROM events WHERE slug = 'summit-2030'"
        before = int(self.db.sql(version))
        _, _, response = register(self.server, "summit-2030")
        first = ticket_token(response)
        r = admin_post(browser, edit, edit, dict(edited(""), privacy_notice_url="javascript:x"))
        self.assertEqual(r.status, 422)
        self.assertIn("starting with https://", r.text)
        r = admin_post(browser, edit, edit, dict(
            edited(""), privacy_notice_url="https://example.org/privacy?a=1&b=2",
            controller="Project X <dpo@example.org>"))
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertEqual(int(self.db.sql(version)), before + 1)
        self.assertTrue(harness.wait_until(
            lambda: "dpo@example.org" in self.server.get("/events/summit-2030").text, 5))
        page = self.server.get("/events/summit-2030").text
        self.assertIn('<a href="https://example.org/privacy?a=1&amp;b=2">', page)
        self.assertIn("Project X &lt;dpo@example.org&gt;", page)
        self.assertIn("version %d" % (before + 1), page)
        _, _, response = register(self.server, "summit-2030")
        token = ticket_token(response)
        recorded = "SELECT notice_version FROM registrations WHERE token = '%s'"
        self.assertEqual(self.db.sql(recorded % token).strip(), str(before + 1))
        self.assertEqual(self.db.sql(recorded % first).strip(), str(before))

    def test_purge_after_retention_keeps_the_reports(self):
        self.check_in(self.people[0], self.event.list_ids[0])
        self.check_in(self.people[1], self.event.list_ids[1])
        self.move_into_the_past(10)
        browser = logged_in(self.server, ADMIN)
        before = self.exports(browser)

        dry = run_admit("purge", "--db", self.db.dsn, "--dry-run").stdout
        self.assertIn("nothing was changed", dry)
        self.assertRegex(dry, r"\n\s+4 registrations anonymised")
        self.assertEqual(self.server.get("/tickets/" + self.people[0]["token"]).status, 200)

        done = run_admit("purge", "--db", self.db.dsn).stdout
        self.assertRegex(done, r"\n\s+4 registrations anonymised")
        self.assertEqual(before, self.exports(browser))
        self.assert_nothing_held(self.people)
        again = run_admit("purge", "--db", self.db.dsn).stdout
        self.assertRegex(again, r"\n\s+0 registrations anonymised")

    def test_purge_waits_for_the_retention(self):
        self.move_into_the_past(3)
        done = run_admit("purge", "--db", self.db.dsn).stdout
        self.assertRegex(done, r"\n\s+0 registrations anonymised")
        self.assertRegex(done, r"\n\s+4 registrations' dietary")
        self.assertEqual(self.server.get("/tickets/" + self.people[0]["token"]).status, 200)

    def test_erase_by_email_and_by_registration(self):
        zelda, other = self.people[0], self.people[1]
        done = run_admit("erase", "--db", self.db.dsn, "--email", zelda["email"].upper())
        self.assertEqual(done.stdout, "registration %d of %s erased\n"
                         % (zelda["id"], self.event.slug))
        again = run_admit("erase", "--db", self.db.dsn, "--email", zelda["email"], check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("no registration", again.stderr)
        done = run_admit("erase", "--db", self.db.dsn, "--event", self.event.slug,
                         "--registration", str(other["id"]))
        self.assertIn("erased", done.stdout)
        # Cancelled before the event: the seat is free again, the door refuses the ticket.
        self.assertEqual(self.db.sql("SELECT string_agg(status::text, ',' ORDER BY id) FROM "
                                     "registrations WHERE id IN (%d, %d)"
                                     % (zelda["id"], other["id"])).strip(),
                         "cancelled,cancelled")
        self.assert_nothing_held([zelda, other])
        self.assertIn("Zelda2", self.db.sql("SELECT string_agg(given_name, ',') FROM "
                                            "registrations"))
        self.assertEqual(self.db.sql("SELECT string_agg(action, ',' ORDER BY id) FROM "
                                     "audit_log").strip(), "erase.email,erase.registration")

    def test_admin_erases_one_registration(self):
        from test_admin import admin_post, csrf_of
        zelda = self.people[0]
        browser = logged_in(self.server, ADMIN)
        base = "/admin/events/%s/attendees/%d" % (self.event.slug, zelda["id"])
        self.assertIn('href="%s/erase"' % base, browser.get(base).text)
        page = browser.get(base + "/erase")
        self.assertEqual(page.status, 200)
        self.assertIn("Zelda0 Quuxley0", page.text)
        self.assertIn("cannot be undone", page.text)
        # Without the CSRF token, or without confirming: nothing is erased.
        r = browser.post(base + "/erase", {"confirm": "yes"})
        self.assertEqual(r.status, 403)
        r = admin_post(browser, base, base + "/erase", {})
        self.assertEqual(r.status, 200)
        self.assertIn("Erase for good", r.text)
        self.assertIn("Zelda0", self.db.sql("SELECT given_name FROM registrations WHERE id = %d"
                                            % zelda["id"]))
        r = browser.post(base + "/erase", {"csrf_token": csrf_of(page), "confirm": "yes"})
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertEqual(r.header("Location"), "/admin/privacy?erased=1")
        self.assertIn("Erased: 1 registration.", browser.get("/admin/privacy?erased=1").text)
        self.assertEqual(browser.get(base + "/erase").status, 404)
        self.assert_nothing_held([zelda])
        self.assertEqual(self.db.sql("SELECT actor || ' ' || action || ' ' || client FROM "
                                     "audit_log").strip(),
                         "%s erase.registration 127.0.0.1" % ADMIN)

    def test_admin_erases_by_email_in_their_events_only(self):
        from test_admin import admin_post
        zelda = self.people[0]
        other = create_event(self.db.dsn)
        _, _, response = register(self.server, other.slug, **{
            k: zelda[k] for k in ["given_name", "family_name", "email", "organisation"]})
        zelda_again = dict(zelda, token=ticket_token(response))
        add_admin(self.db.dsn, "limited@example.org", events=[other.slug])
        limited = logged_in(self.server, "limited@example.org")
        r = admin_post(limited, "/admin/privacy", "/admin/privacy/erase",
                       {"email": "not an address"})
        self.assertEqual(r.status, 422)
        self.assertIn('value="not an address"', r.text)
        r = admin_post(limited, "/admin/privacy", "/admin/privacy/erase",
                       {"email": self.people[1]["email"]})
        self.assertEqual(r.status, 404)  # in an event they may not see
        self.assertIn("nothing was erased", r.text)
        r = admin_post(limited, "/admin/privacy", "/admin/privacy/erase",
                       {"email": zelda["email"]})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.text.count("Zelda0 Quuxley0"), 1)  # only their event's
        r = admin_post(limited, "/admin/privacy", "/admin/privacy/erase",
                       {"email": zelda["email"], "confirm": "yes"})
        self.assertEqual(r.status, 303)
        self.assertEqual(self.server.get("/tickets/" + zelda_again["token"]).status, 404)
        self.assertEqual(self.server.get("/tickets/" + zelda["token"]).status, 200)
        everything = logged_in(self.server, ADMIN)
        r = admin_post(everything, "/admin/privacy", "/admin/privacy/erase",
                       {"email": zelda["email"], "confirm": "yes"})
        self.assertEqual(r.header("Location"), "/admin/privacy?erased=1")
        self.assert_nothing_held([zelda, zelda_again])

    def test_attendee_downloads_their_data(self):
        import json
        zelda = self.people[1]
        self.check_in(zelda, self.event.list_ids[1])
        ticket = self.server.get("/tickets/" + zelda["token"])
        self.assertIn('href="/tickets/%s/data"' % zelda["token"], ticket.text)
        r = self.server.get("/tickets/%s/data.json" % zelda["token"])
        self.assertEqual(r.status, 200)
        self.assertIn("attachment", r.header("Content-Disposition"))
        self.assertIn("no-store", r.header("Cache-Control"))
        data = json.loads(r.text)
        self.assertEqual(len(data["registrations"]), 1)
        one = data["registrations"][0]
        self.assertEqual(one["registration"]["email"], zelda["email"])
        self.assertEqual(one["registration"]["dietary"], "no nuts 1")
        self.assertEqual(one["event"]["retention_days"], 7)
        self.assertEqual([c["list"] for c in one["check_ins"]], [self.event.lists[1][1]])
        self.assertEqual(len(one["scans"]), 1)
        self.assertEqual([m["kind"] for m in one["emails"]], ["confirmation"])
        page = self.server.get("/tickets/%s/data" % zelda["token"])
        self.assertEqual(page.status, 200)
        for text in ["Zelda1 Quuxley1", zelda["email"], "no nuts 1", self.event.lists[1][1]]:
            self.assertIn(text, page.text)
        self.assertEqual(self.server.get("/tickets/%s/data.json" % ("x" * 22)).status, 404)
        self.assertEqual(self.server.get("/tickets/short/data").status, 404)
        # The organiser's copy, by email, from the shell: the same document, in the audit log.
        done = run_admit("access", "--db", self.db.dsn, "--email", zelda["email"].upper())
        self.assertEqual(json.loads(done.stdout)["registrations"], data["registrations"])
        self.assertEqual(self.db.sql("SELECT actor || ' ' || action FROM audit_log").strip(),
                         "shell access.email")
        # And from /admin, for the events the organiser may see, recorded with their address.
        from test_admin import admin_post
        boss = logged_in(self.server, ADMIN)
        r = admin_post(boss, "/admin/privacy", "/admin/privacy/access", {"email": zelda["email"]})
        self.assertEqual(r.status, 200)
        self.assertIn("attachment", r.header("Content-Disposition"))
        self.assertEqual(json.loads(r.text)["registrations"], data["registrations"])
        r = admin_post(boss, "/admin/privacy", "/admin/privacy/access",
                       {"email": "nobody@example.org"})
        self.assertEqual(r.status, 404)
        self.assertIn("nothing is held", r.text)
        self.assertEqual(boss.post("/admin/privacy/access", {"email": zelda["email"]}).status,
                         403)
        self.assertEqual(self.db.sql("SELECT string_agg(actor || ' ' || client, ',' ORDER BY id) "
                                     "FROM audit_log WHERE action = 'access.email'").strip(),
                         "shell ,%s 127.0.0.1" % ADMIN)
        missing = run_admit("access", "--db", self.db.dsn, "--email", "nobody@example.org",
                            check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertEqual(missing.stdout, "")
        run_admit("erase", "--db", self.db.dsn, "--email", zelda["email"])
        self.assertEqual(self.server.get("/tickets/%s/data.json" % zelda["token"]).status, 404)

    def test_audit_log(self):
        from test_admin import admin_post
        add_admin(self.db.dsn, "limited@example.org", events=[self.event.slug])
        limited = logged_in(self.server, "limited@example.org")
        base = "/admin/events/%s/" % self.event.slug
        self.assertEqual(limited.get(base + "scans.csv").status, 200)
        self.assertEqual(limited.get(base + "registrations.csv?excel=1").status, 200)
        admin_post(limited, "/admin/privacy", "/admin/privacy/erase",
                   {"email": self.people[0]["email"], "confirm": "yes"})
        # Only organisers of every event see it.
        self.assertEqual(limited.get("/admin/audit").status, 404)
        self.assertEqual(limited.get("/admin/audit.csv").status, 404)
        self.assertNotIn('href="/admin/audit"', limited.get("/admin/privacy").text)
        boss = logged_in(self.server, ADMIN)
        self.assertIn('href="/admin/audit"', boss.get("/admin/privacy").text)
        page = boss.get("/admin/audit")
        self.assertEqual(page.status, 200)
        for text in ["export.scans", "export.registrations", "erase.email",
                     "limited@example.org", "127.0.0.1"]:
            self.assertIn(text, page.text)
        r = boss.get("/admin/audit.csv")
        self.assertEqual(r.status, 200)
        rows = list(csv.reader(io.StringIO(r.text)))
        self.assertEqual(rows[0], ["id", "at", "actor", "action", "event", "registration_id",
                                   "detail", "client"])
        self.assertEqual([row[3] for row in rows[1:]],
                         ["erase.email", "export.registrations", "export.scans"])
        self.assertEqual(rows[1][4:6], [self.event.slug, str(self.people[0]["id"])])
        # Nothing personal in it: the erased person and the others alike.
        for p in self.people:
            for secret in [p["given_name"], p["family_name"], p["email"]]:
                self.assertNotIn(secret, r.text)
                self.assertNotIn(secret, page.text)
        self.assertEqual(self.server.get("/admin/audit.csv").status, 401)
        # An export from the shell is recorded too, by "shell".
        out = os.path.join(self.work, "shell-export.csv")
        run_admit("export", "--db", self.db.dsn, "--event", self.event.slug, "--what",
                  "attendance", "-o", out)
        self.assertEqual(self.db.sql("SELECT actor || ' ' || action || ' ' || (event_id = %d) "
                                     "FROM audit_log ORDER BY id DESC LIMIT 1"
                                     % self.event.id).strip(), "shell export.attendance true")
        # An organiser's changes to a registration, with the client address: a reissue, a
        # check-in by hand (no personal data in the rows: the registration's number).
        from test_admin import admin_act
        other = self.people[1]
        attendee = "/admin/events/%s/attendees/%d" % (self.event.slug, other["id"])
        self.assertEqual(admin_act(limited, attendee + "/reissue").status, 303)
        self.assertEqual(admin_act(limited, attendee + "/checkin",
                                   {"list": str(self.event.list_ids[0])}).status, 303)
        rows = self.db.sql("SELECT actor || ' ' || action || ' ' || registration_id || ' ' || "
                           "client FROM audit_log WHERE action LIKE 'registration.%' ORDER BY id")
        self.assertEqual(rows.split("\n")[:2],
                         ["limited@example.org registration.reissue %d 127.0.0.1" % other["id"],
                          "limited@example.org registration.checkin %d 127.0.0.1" % other["id"]])

    def test_erase_refuses_bad_requests(self):
        for args, status, words in [
                ([], 2, "either"),
                (["--email", "a@example.org", "--event", self.event.slug], 2, "either"),
                (["--event", self.event.slug], 2, "either"),
                (["--email", "not an address"], 2, "--email"),
                (["--event", "Bad Slug", "--registration", "1"], 2, "slug"),
                (["--event", self.event.slug, "--registration", "999999"], 1,
                 "no registration 999999")]:
            done = run_admit("erase", "--db", self.db.dsn, *args, check=False)
            self.assertEqual(done.returncode, status, (args, done.stderr))
            self.assertIn(words, done.stderr)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        self.assertEqual(self.db.sql("SELECT count(*) FROM registrations WHERE anonymised_at "
                                     "IS NOT NULL").strip(), "0")


class FullRun(ServerTestCase):
    """Registration over HTTP, confirmation emails through the mailer, the door scanning online
    and syncing for offline use; then the person is erased, the door syncs, everything is
    purged: no file of the run (admitd's, the mailer's and the scanner's logs, the scanner's
    journal, snapshot and other state) and no row of the database (a pg_dump) holds their name,
    email address, organisation or ticket link. The terminal lines the door printed before the
    erasure are the one place left (README.md, "Personal data")."""

    def test_nothing_left_after_erasure(self):
        import subprocess
        server = self.start_admitd()
        event = create_event(self.db.dsn, days_ahead=1, days=2)
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        start_mailer(self, sink.url, server.url)
        people = []
        for given, family in [("Quintessa", "Zwirbelhuber"), ("Kept", "Person")]:
            email = "%s.%s@example.org" % (given.lower(), family.lower())
            _, _, r = register(server, event.slug, given_name=given, family_name=family,
                               email=email, organisation="%s Institute" % family,
                               dietary="%s diet" % family)
            people.append({"given_name": given, "family_name": family, "email": email,
                           "organisation": "%s Institute" % family, "token": ticket_token(r)})
        sink.wait_for(2)
        erased, kept = people
        # The door: her QR code (as the ticket page serves it) scanned online, then a sync.
        qr = server.get("/tickets/%s/qr.png" % erased["token"])
        self.assertEqual(qr.status, 200)
        payload = harness.decode_qr_png(qr.body, self.work)
        token = add_device(self.db.dsn, event.slug, "Gate A")
        state = os.path.join(self.work, "state")
        args = ["--server", server.url, "--list", event.lists[0][1], "--color", "never",
                "--timeout", "20000"]
        done = run_scan(args + ["--token", token], [payload], state=state)
        self.assertIn("VALID  Quintessa Zwirbelhuber", done.stdout)
        run_admit("sync", "--server", server.url, env=dict(os.environ, XDG_STATE_HOME=state))

        run_admit("erase", "--db", self.db.dsn, "--email", erased["email"])
        sync = run_admit("sync", "--server", server.url,
                         env=dict(os.environ, XDG_STATE_HOME=state))
        done = run_scan(args + ["--json"], [payload], state=state)
        answer = scan_answers(done.stdout)[0]
        self.assertEqual(answer["verdict"], "revoked")
        run_admit("purge", "--db", self.db.dsn)

        dump = subprocess.run(["pg_dump", "--data-only", "-d", self.db.dsn],
                              capture_output=True, text=True, check=True).stdout
        texts = {"pg_dump": dump, "sync output": sync.stdout + sync.stderr,
                 "scan after erasure": done.stdout + done.stderr}
        for folder, _, files in os.walk(self.work):
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    texts[os.path.join(folder, name)] = f.read().decode("utf-8", "replace")
        self.assertTrue(any(name.endswith("journal.jsonl") for name in texts))
        self.assertTrue(any(name.endswith("snapshot.json") for name in texts))
        self.assertTrue(any("mailer-" in name for name in texts))
        for name, text in texts.items():
            for secret in erased.values():
                self.assertFalse(secret.lower() in text.lower(), "%s holds %r" % (name, secret))
        # The others are untouched: the search would have found them.
        self.assertIn(kept["email"], dump)
        self.assertTrue(any("Kept Person" in t for n, t in texts.items()
                            if n.endswith("snapshot.json")))


if __name__ == "__main__":
    harness.main()
