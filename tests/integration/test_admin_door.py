#!/usr/bin/env python3
"""What the organisers' pages say about the door (issue 16), over real HTTP and PostgreSQL with
real door scans (the check-in API, as test_checkin.py drives it): an attendee's page names the
country and the type of organisation in words and groups the ticket's scans per check-in list,
entries and exits apart; the flagged-scans page explains each case in words, shows the flagged
scan as the door showed it, and lets an organiser mark a case reviewed with a note (who and
when recorded), with a filter for the open cases.
"""

import harness
from harness import (ServerTestCase, TicketSigner, add_device, api_call, create_event,
                     new_nonce, parse_html, register)
from test_admin import add_admin, admin_post, csrf_of, logged_in, registration_id

CHECKINS = "/api/v1/checkins"


class DoorCase(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Door Days")
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()
        self.day1, self.day2, self.cluster = self.event.list_ids
        register(self.server, self.event.slug, lists=[self.day1, self.day2], given_name="Grace",
                 family_name="Hopper", email="grace@example.org", organisation="Navy",
                 organisation_type="public_body", country="BE")
        self.grace = registration_id(self.db, "grace@example.org")
        self.signer = TicketSigner(self.keys)
        self.gate_a = add_device(self.db.dsn, self.event.slug, "Gate A")
        self.gate_b = add_device(self.db.dsn, self.event.slug, "Gate B")
        self.browser = logged_in(self.server, "boss@example.org")
        self.page = "/admin/events/%s/attendees/%d" % (self.event.slug, self.grace)

    def scan(self, token, list_name, at, **fields):
        body = {"payload": self.signer.ticket(self.event.id, self.grace, 0), "list": list_name,
                "nonce": new_nonce(), "scanned_at": at, "gate": fields.pop("gate", None)}
        body = {k: v for k, v in body.items() if v is not None}
        body.update(fields)
        r, answer = api_call(self.server, "POST", CHECKINS, token, body)
        self.assertEqual(r.status, 200, r.text)
        return answer


class AttendeePage(DoorCase):

    def test_codes_in_words_and_scans_per_list_entries_and_exits(self):
        self.assertEqual(self.scan(self.gate_a, "Day 1", "2030-05-01T08:00:00Z")["verdict"],
                         "valid")
        self.assertEqual(self.scan(self.gate_a, "Day 1", "2030-05-01T10:00:00Z",
                                   direction="exit")["reason"], "")
        self.assertEqual(self.scan(self.gate_b, "Day 1", "2030-05-01T11:00:00Z")["reason"],
                         "re_entry")
        self.assertEqual(self.scan(self.gate_b, "Day 2", "2030-05-02T08:00:00Z")["verdict"],
                         "valid")
        page = self.browser.get(self.page)
        self.assertEqual(page.status, 200)
        html = parse_html(page.text)
        summary = {dt.text(): dt.parent.find("dd").text() for dt in html.find_all("dt")}
        self.assertEqual(summary["Country"], "Belgium")
        self.assertEqual(summary["Type of organisation"], "Public body")
        self.assertEqual(summary["Organisation"], "Navy")
        self.assertNotIn("public_body", page.text)
        sections = html.find_all("section", **{"class": "scan-list"})
        self.assertEqual([s.find("h3").text() for s in sections],
                         ["Day 1: 2 entries, 1 exit", "Day 2: 1 entry, 0 exits"])
        day1 = {t.find("caption").text(): [tr.text() for tr in t.find("tbody").find_all("tr")]
                for t in sections[0].find_all("table")}
        self.assertEqual(list(day1), ["Entries on Day 1", "Exits from Day 1"])
        self.assertEqual(len(day1["Entries on Day 1"]), 2)
        self.assertIn("Gate A", day1["Entries on Day 1"][0])  # in time order
        self.assertIn("re_entry", day1["Entries on Day 1"][1])
        self.assertEqual(len(day1["Exits from Day 1"]), 1)
        self.assertIn("Gate A", day1["Exits from Day 1"][0])
        day2 = [t.find("caption").text() for t in sections[1].find_all("table")]
        self.assertEqual(day2, ["Entries on Day 2"])  # no empty exits table

    def test_no_scans_yet(self):
        page = self.browser.get(self.page)
        self.assertIn("No scan of this ticket yet.", page.text)
        self.assertNotIn('class="scan-list"', page.text)


class DoorReview(DoorCase):

    def setUp(self):
        super().setUp()
        register(self.server, self.event.slug, lists=[self.day1], given_name="Alan",
                 family_name="Turing", email="alan@example.org", organisation="Bletchley")
        self.alan = registration_id(self.db, "alan@example.org")
        self.review = "/admin/events/%s/flagged" % self.event.slug
        # Gate A lets Grace in online at 10:00 (Brussels time); Gate B, offline, had let her in
        # at 09:58: the earlier entry counts and Gate A's is flagged.
        self.assertEqual(self.scan(self.gate_a, "Day 1", "2030-05-01T08:00:00Z",
                                   gate="North door")["verdict"], "valid")
        self.assertEqual(self.scan(self.gate_b, "Day 1", "2030-05-01T07:58:00Z", offline=True,
                                   door_verdict="valid", gate="South door")["verdict"], "valid")
        # Gate B, still offline, lets her in again at 11:00: a duplicate, flagged.
        r = self.scan(self.gate_b, "Day 1", "2030-05-01T09:00:00Z", offline=True,
                      door_verdict="valid", gate="South door")
        self.assertEqual((r["verdict"], r["flagged"]), ("already_checked_in", True))
        # Alan cancelled, but Gate B (offline) let his ticket through at 12:00.
        self.db.sql("SELECT admit_cancel(token) FROM registrations WHERE id = %d" % self.alan)
        payload = self.signer.ticket(self.event.id, self.alan, 0)
        r, answer = api_call(self.server, "POST", CHECKINS, self.gate_b,
                             {"payload": payload, "list": "Day 1", "nonce": new_nonce(),
                              "scanned_at": "2030-05-01T10:00:00Z", "offline": True,
                              "door_verdict": "valid", "gate": "South door"})
        self.assertEqual((answer["verdict"], answer["flagged"]), ("revoked", True))
        self.scans = dict(
            (row.split("|")[1] + "|" + row.split("|")[2], int(row.split("|")[0]))
            for row in self.db.sql("SELECT id, registration_id, to_char(scanned_at AT TIME ZONE "
                                   "'UTC', 'HH24:MI') FROM scans WHERE flagged").split())

    def case(self, page, scan_id):
        node = parse_html(page.text).by_id("case-%d" % scan_id)
        self.assertIsNotNone(node, "case %d not on the page" % scan_id)
        return node

    def test_each_case_explained_and_shown_as_the_door_showed_it(self):
        page = self.browser.get(self.review)
        self.assertEqual(page.status, 200)
        self.assertIn("All cases (3)", page.text)
        self.assertIn("Open cases only (3)", page.text)
        displaced = self.case(page, self.scans["%d|08:00" % self.grace])
        self.assertIn("North door (device Gate A) let Grace Hopper in on Day 1 at 1 May, "
                      "10:00:00, but the ticket had already been used on this list: the entry "
                      "that counts is the one at South door (device Gate B) at 1 May, 09:58:00, "
                      "scanned while offline.", displaced.text())
        duplicate = self.case(page, self.scans["%d|09:00" % self.grace])
        self.assertIn("South door (device Gate B) let Grace Hopper in on Day 1 at 1 May, "
                      "11:00:00 while offline, but the ticket had already been used on this list:"
                      " the entry that counts is the one at South door (device Gate B) at 1 May,"
                      " 09:58:00, scanned while offline.", duplicate.text())
        door = duplicate.find("div", **{"class": "door-screen"}).text()
        self.assertIn("What the door showed ✓ Admitted Grace Hopper, Navy", door)
        self.assertIn("Day 1 · entry · South door · Gate B · 1 May, 11:00:00 · offline", door)
        self.assertIn("The server's verdict: already_checked_in (offline_conflict)", door)
        cancelled = self.case(page, self.scans["%d|10:00" % self.alan])
        self.assertIn("South door (device Gate B) let Alan Turing in on Day 1 at 1 May, 12:00:00"
                      " while offline, but the server refuses the ticket: the registration had "
                      "been cancelled. No entry counts on this list.", cancelled.text())
        self.assertIn('href="/admin/events/%s/attendees/%d"' % (self.event.slug, self.alan),
                      page.text)

    def test_mark_reviewed_with_a_note_who_and_when_and_the_open_filter(self):
        scan = self.scans["%d|09:00" % self.grace]
        page = self.browser.get(self.review)
        url = "%s/%d/review" % (self.review, scan)
        note = "Same person came back in through the south door; door staff told."
        r = self.browser.post(url, {"csrf_token": csrf_of(page), "note": "  " + note + "\n",
                                    "show": "all"})
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "%s#case-%d" % (self.review, scan))
        row = self.db.sql("SELECT reviewer, note, a.email, now() - reviewed_at < interval '1 min'"
                          " FROM scan_reviews v JOIN admins a ON a.id = v.admin_id "
                          "WHERE scan_id = %d" % scan).strip()
        self.assertEqual(row, "boss@example.org|%s|boss@example.org|t" % note)
        page = self.browser.get(self.review)
        done = self.case(page, scan).text()
        self.assertRegex(done, r"Reviewed by boss@example\.org on \d+ \w+ \d{4}, \d\d:\d\d: "
                         + note.replace(".", r"\."))
        self.assertIn("reviewed", done)
        self.assertIsNone(self.case(page, scan).find("form"))
        self.assertIn("All cases (3)", page.text)
        self.assertIn("Open cases only (2)", page.text)
        # The filter: open cases only.
        open_page = self.browser.get(self.review + "?show=open")
        self.assertEqual(open_page.status, 200)
        shown = [n.attrs["id"] for n in parse_html(open_page.text).find_all("section")
                 if n.attrs.get("id", "").startswith("case-")]
        self.assertEqual(len(shown), 2)
        self.assertNotIn("case-%d" % scan, shown)
        # Sent again (a double click): the first review stands, nothing more recorded.
        r = self.browser.post(url, {"csrf_token": csrf_of(page), "note": "another note"})
        self.assertEqual(r.status, 303)
        self.assertEqual(self.db.sql("SELECT count(*), min(note) FROM scan_reviews").strip(),
                         "1|%s" % note)
        # Review the other two from the filtered page: it comes back filtered, and empty.
        for other in shown:
            r = self.browser.post("%s/%s/review" % (self.review, other[5:]),
                                  {"csrf_token": csrf_of(open_page), "note": "Checked.",
                                   "show": "open"})
            self.assertEqual(r.status, 303)
            self.assertTrue(r.header("Location").startswith(self.review + "?show=open#case-"))
        empty = self.browser.get(self.review + "?show=open")
        self.assertIn("No open case: everything is reviewed.", empty.text)
        self.assertIn("Open cases only (0)", empty.text)

    def test_bad_review_requests(self):
        scan = self.scans["%d|09:00" % self.grace]
        page = self.browser.get(self.review)
        token = csrf_of(page)
        url = "%s/%d/review" % (self.review, scan)
        for note, message in [("", "Write a note: what you found"),
                              ("   \n ", "Write a note: what you found"),
                              ("x" * 1001, "The note is too long: write at most 1000 characters"),
                              ("bad\x01", "Use ordinary text")]:
            r = self.browser.post(url, {"csrf_token": token, "note": note})
            self.assertEqual(r.status, 422, repr(note))
            case = self.case(r, scan)
            self.assertIn(message, case.text())
            textarea = case.find("textarea")
            self.assertEqual(textarea.attrs.get("aria-invalid"), "true")
            if note.strip() and "\x01" not in note:
                self.assertEqual(textarea.raw_text().strip(), note)  # kept
        # A case not on the page (here: none with that number) gets the message on top.
        r = self.browser.post("%s/999999/review" % self.review, {"csrf_token": token, "note": ""})
        self.assertEqual(r.status, 422)
        self.assertIn("Write a note: what you found", parse_html(r.text).find(role="alert").text())
        self.assertEqual(self.browser.post(url, {"note": "ok"}).status, 403)  # no CSRF token
        for path in ["%s/999999/review" % self.review, "%s/abc/review" % self.review]:
            r = self.browser.post(path, {"csrf_token": token, "note": "ok"})
            self.assertEqual(r.status, 404, path)
        # A scan that is not flagged is not a case.
        plain = int(self.db.sql("SELECT min(id) FROM scans WHERE NOT flagged").strip())
        r = self.browser.post("%s/%d/review" % (self.review, plain),
                              {"csrf_token": token, "note": "ok"})
        self.assertEqual(r.status, 404)
        r = self.browser.get(self.review + "?show=maybe")
        self.assertEqual(r.status, 400)
        self.assertIn("show all cases, or the open ones only", r.text)
        # An organiser of another event sees no case of this one, and reviews none.
        other = create_event(self.db.dsn, name="Other")
        add_admin(self.db.dsn, "other@example.org", events=[other.slug])
        limited = logged_in(self.server, "other@example.org")
        self.assertEqual(limited.get(self.review).status, 404)
        r = admin_post(limited, "/admin/events/%s/flagged" % other.slug, url, {"note": "mine"})
        self.assertEqual(r.status, 404)
        self.assertEqual(self.db.sql("SELECT count(*) FROM scan_reviews").strip(), "0")


if __name__ == "__main__":
    harness.main()
