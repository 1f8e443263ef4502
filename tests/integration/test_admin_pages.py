#!/usr/bin/env python3
"""What organisers do in /admin, over real HTTP and PostgreSQL: create and edit events (and the
public pages follow), find attendees, cancel, reissue, move from the waiting list, check in by
name (forced check-ins flagged), the live door view with its arrivals chart, the attendance
report, and bad input answered with a clear message and a 4xx, never a half-done change.
"""

import datetime
import json
import re
import xml.etree.ElementTree as ET

import harness
from harness import ServerTestCase, create_event, register, parse_html
from test_admin import (add_admin, admin_act, admin_post, csrf_of, logged_in, new_key,
                        registration_id)


def event_fields(**overrides):
    day = datetime.date.today() + datetime.timedelta(days=200)
    fields = {"slug": "summit-2030", "name": "Open Science Summit", "description": "Two days.",
              "venue": "Museum", "venue_address": "Rue Vautier 29", "organiser": "Project X",
              "contact_email": "events@example.org", "time_zone": "Europe/Brussels",
              "starts": "%sT09:00" % day.isoformat(),
              "ends": "%sT17:30" % (day + datetime.timedelta(days=1)).isoformat(),
              "opens": "", "closes": "", "capacity": "50", "waitlist": "yes",
              "list_id": ["", ""], "list_name": ["Day 1", "Cluster session"],
              "list_day": [day.isoformat(), ""]}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


class Events(ServerTestCase):

    def test_create_and_edit_an_event(self):
        add_admin(self.db.dsn, "boss@example.org")
        server = self.start_admitd()
        browser = logged_in(server, "boss@example.org")
        page = browser.get("/admin/events/new")
        self.assertEqual(page.status, 200)
        self.assertIn('name="slug"', page.text)
        r = admin_post(browser, "/admin/events/new", "/admin/events/new", event_fields())
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertEqual(r.header("Location"), "/admin/events/summit-2030?created=1")
        overview = browser.get("/admin/events/summit-2030?created=1")
        self.assertIn("The event is created", overview.text)
        # The public page and its registration form follow at once.
        public = server.get("/events/summit-2030")
        self.assertEqual(public.status, 200)
        self.assertIn("Open Science Summit", public.text)
        self.assertIn("Cluster session", public.text)
        self.assertIn("50 of 50 still free", public.text)

        # Edit: rename a list, add one, change the capacity and the name.
        form = parse_html(browser.get("/admin/events/summit-2030/edit").text)
        ids = [i.attrs["value"] for i in form.find_all("input", name="list_id")]
        self.assertEqual(len(ids), 5)  # two lists and three blank rows
        fields = event_fields(slug=None, name="Open Science Summit 2030", capacity="80",
                              list_id=[ids[0], ids[1], ""],
                              list_name=["Day 1 – plenary", "Cluster session", "Day 2"],
                              list_day=[event_fields()["list_day"][0], "", ""])
        r = admin_post(browser, "/admin/events/summit-2030/edit", "/admin/events/summit-2030/edit",
                       fields)
        self.assertEqual(r.status, 303, r.text[:800])
        # The public event page is cached for a second (server/public.c): it follows after that.
        self.assertTrue(harness.wait_until(
            lambda: "Open Science Summit 2030" in server.get("/events/summit-2030").text, 5))
        public = server.get("/events/summit-2030")
        self.assertIn("Day 1 – plenary", public.text)
        self.assertIn("Day 2", public.text)
        self.assertIn("80 of 80 still free", public.text)
        self.assertEqual(self.db.sql("SELECT sum(free) FROM event_seats e JOIN events v"
                                     " ON v.id = e.event_id WHERE v.slug = 'summit-2030'").strip(),
                         "80")

    def test_event_form_refuses_bad_input_next_to_the_field(self):
        event = create_event(self.db.dsn, capacity=2, name="Small Workshop")
        add_admin(self.db.dsn, "boss@example.org")
        server = self.start_admitd()
        for i in range(2):
            register(server, event.slug, email="p%d@example.org" % i)
        browser = logged_in(server, "boss@example.org")
        edit = "/admin/events/%s/edit" % event.slug
        form = parse_html(browser.get(edit).text)
        ids = [i.attrs["value"] for i in form.find_all("input", name="list_id")][:3]
        names = [i.attrs["value"] for i in form.find_all("input", name="list_name")][:3]
        days = [i.attrs["value"] for i in form.find_all("input", name="list_day")][:3]
        base = event_fields(slug=None, name="Small Workshop", list_id=ids, list_name=names,
                            list_day=days)
        cases = [
            ({"capacity": "1"}, "capacity", "2 registrations are confirmed"),
            ({"capacity": "lots"}, "capacity", "Enter a whole number of seats"),
            ({"starts": "2030-02-30T09:00"}, "starts", "This is not a real date and time"),
            ({"starts": "tomorrow"}, "starts", "Enter a date and time like"),
            ({"ends": base["starts"]}, "ends", "The event must end after it starts"),
            ({"time_zone": "Mars/Olympus"}, "time_zone", "Choose a time zone from the list"),
            ({"name": ""}, "name", "Enter the event"),
            ({"contact_email": "not-an-email"}, "contact_email", "Enter an email address"),
            ({"contact_email": "k\u00f6nig@example.org"}, "contact_email",
             "Our emails cannot reach an address with accents"),
            ({"list_name": [names[0], names[0], names[2]]}, "lists", "same name"),
            # Day 1 has registrations: it cannot be removed.
            ({"list_name": ["", names[1], names[2]]}, "lists", "cannot be removed"),
            ({"list_day": ["someday", "", ""]}, "lists", "Enter days like"),
        ]
        for change, field, message in cases:
            fields = dict(base)
            fields.update(change)
            r = admin_post(browser, edit, edit, fields)
            self.assertEqual(r.status, 422, "%s: %d" % (change, r.status))
            page = parse_html(r.text)
            error = page.by_id("error-" + field)
            self.assertIsNotNone(error, "%s: no message next to %s" % (change, field))
            self.assertIn(message, error.text())
            self.assertIn("There is a problem with the event", r.text)
        # Nothing of it was stored.
        row = self.db.sql("SELECT name, capacity, time_zone FROM events").strip()
        self.assertEqual(row, "Small Workshop|2|Europe/Brussels")
        self.assertEqual(self.db.sql("SELECT count(*) FROM checkin_lists").strip(), "3")
        # The unused list can go.
        r = admin_post(browser, edit, edit, dict(base, list_name=[names[0], names[1], ""]))
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertEqual(self.db.sql("SELECT count(*) FROM checkin_lists").strip(), "2")
        # A new event may not take an existing slug, or a malformed one.
        for slug, message in [(event.slug, "Another event has this address"),
                              ("Bad Slug!", "lower-case letters")]:
            r = admin_post(browser, "/admin/events/new", "/admin/events/new",
                           event_fields(slug=slug))
            self.assertEqual(r.status, 422)
            self.assertIn(message, parse_html(r.text).by_id("error-slug").text())
        # Mismatched list arrays are a malformed form.
        r = admin_post(browser, edit, edit, dict(base, list_day=[]))
        self.assertEqual(r.status, 400)


    def test_raising_the_capacity_serves_the_waiting_list(self):
        """Capacity 6, full, 3 waiting: raised to 8 in the event form, the first two waiting
        get the seats and a "you have a seat" email each, in the same transaction (migration
        9); the third still waits, and someone registering afterwards waits behind them."""
        event = create_event(self.db.dsn, capacity=6, name="Small Workshop")
        add_admin(self.db.dsn, "boss@example.org")
        server = self.start_admitd()
        for i in range(9):
            register(server, event.slug, email="p%d@example.org" % i)
        waiting = self.db.sql("SELECT id FROM registrations WHERE status = 'waitlisted' "
                              "ORDER BY id").split()
        self.assertEqual(len(waiting), 3)
        browser = logged_in(server, "boss@example.org")
        edit = "/admin/events/%s/edit" % event.slug
        form = parse_html(browser.get(edit).text)
        ids = [i.attrs["value"] for i in form.find_all("input", name="list_id")][:3]
        names = [i.attrs["value"] for i in form.find_all("input", name="list_name")][:3]
        days = [i.attrs["value"] for i in form.find_all("input", name="list_day")][:3]
        r = admin_post(browser, edit, edit,
                       event_fields(slug=None, name="Small Workshop", capacity="8", list_id=ids,
                                    list_name=names, list_day=days))
        self.assertEqual(r.status, 303, r.text[:500])
        rows = self.db.sql("SELECT id || ':' || status FROM registrations WHERE id IN (%s) "
                           "ORDER BY id" % ",".join(waiting)).split()
        self.assertEqual(rows, ["%s:confirmed" % waiting[0], "%s:confirmed" % waiting[1],
                                "%s:waitlisted" % waiting[2]])
        told = self.db.sql("SELECT registration_id FROM mail_outbox WHERE kind = 'promoted' "
                           "ORDER BY registration_id").split()
        self.assertEqual(told, waiting[:2])
        register(server, event.slug, email="late@example.org")
        self.assertEqual(self.db.sql("SELECT status FROM registrations "
                                     "WHERE email = 'late@example.org'").strip(), "waitlisted")
        self.assertEqual(self.db.sql("SELECT count(*) FROM registrations "
                                     "WHERE status = 'confirmed'").strip(), "8")


class Attendees(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, capacity=1, name="Tiny Seminar")
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()
        register(self.server, self.event.slug, given_name="Ada", family_name="Lovelace",
                 email="ada@example.org", organisation="Analytical Engines")
        register(self.server, self.event.slug, given_name="Émile", family_name="Zola",
                 email="emile@example.org", organisation="Université de Paris")
        self.ada = registration_id(self.db, "ada@example.org")
        self.emile = registration_id(self.db, "emile@example.org")
        self.browser = logged_in(self.server, "boss@example.org")
        self.base = "/admin/events/%s/attendees" % self.event.slug

    def names(self, query):
        r = self.browser.get(self.base + query)
        self.assertEqual(r.status, 200, query)
        return [a.text() for a in parse_html(r.text).find_all("a")
                if re.match(r"^/admin/events/[^/]+/attendees/\d+$", a.attrs.get("href", ""))]

    def test_search_filters_and_pages(self):
        self.assertEqual(self.names(""), ["Lovelace, Ada", "Zola, Émile"])
        self.assertEqual(self.names("?q=ada+love"), ["Lovelace, Ada"])
        self.assertEqual(self.names("?q=LOVELACE"), ["Lovelace, Ada"])
        self.assertEqual(self.names("?q=zola+%C3%89mile"), ["Zola, Émile"])
        self.assertEqual(self.names("?q=emile%40example"), ["Zola, Émile"])
        self.assertEqual(self.names("?q=universit%C3%A9"), ["Zola, Émile"])
        # Accents and case as people type them (migration 10): "emile", "universite", "ÉMILE".
        self.assertEqual(self.names("?q=emile+zola"), ["Zola, Émile"])
        self.assertEqual(self.names("?q=universite"), ["Zola, Émile"])
        self.assertEqual(self.names("?q=%C3%89MILE"), ["Zola, Émile"])
        self.assertEqual(self.names("?q=lovelace+ada"), ["Lovelace, Ada"])  # either order
        self.assertEqual(self.names("?q=%25"), [])  # wildcards are searched as text
        self.assertEqual(self.names("?q=_"), [])
        self.assertEqual(self.names("?status=waitlisted"), ["Zola, Émile"])
        self.assertEqual(self.names("?status=confirmed"), ["Lovelace, Ada"])
        day1 = self.event.list_ids[0]
        self.assertEqual(self.names("?list=%d" % day1), ["Lovelace, Ada", "Zola, Émile"])
        self.assertEqual(self.names("?list=%d" % self.event.list_ids[1]), [])
        self.assertEqual(self.names("?list=%d&checked=no" % day1), ["Lovelace, Ada", "Zola, Émile"])
        r = admin_act(self.browser, "%s/%d/checkin" % (self.base, self.ada),
                      {"list": str(day1)})
        self.assertEqual(r.status, 303)
        self.assertEqual(self.names("?list=%d&checked=yes" % day1), ["Lovelace, Ada"])
        self.assertEqual(self.names("?checked=no"), ["Zola, Émile"])
        # Pages of 50.
        self.db.sql("SELECT admit_register('%s', 'nonce-' || i || '-xxxxxxxxxxxx', 'token-' || i"
                    " || '-xxxxxxxxxxxxxxxx', 'Guest', 'Number ' || lpad(i::text, 3, '0'),"
                    " 'guest' || i || '@example.org', 'Org', 'industry', 'DE', '', '',"
                    " ARRAY[%d]) FROM generate_series(1, 60) i" % (self.event.slug, day1))
        first = self.browser.get(self.base + "?q=guest")
        self.assertIn("60 matching registrations", first.text)
        self.assertIn("page 1 of 2", first.text)
        self.assertEqual(len(self.names("?q=guest")), 50)
        second = self.names("?q=guest&page=2")
        self.assertEqual(second[0], "Number 051, Guest")
        self.assertEqual(len(second), 10)
        self.assertIn('rel="next"', first.text)
        self.assertIn("page=2&amp;q=guest", first.text)
        self.assertEqual(self.names("?q=guest&page=3"), [])

    def test_names_sort_as_people_read_them(self):
        """Accented and lower-case family names sort with their letters (ICU's root collation),
        not after "Z" as byte order puts them."""
        for given, family in [("Oskar", "Öhman"), ("Anne", "de Wit"), ("Ivan", "Müller"),
                              ("Jan", "Muller"), ("Ana", "Ángel")]:
            self.db.sql("SELECT admit_register('%s', 'nonce-%s-xxxxxxxxxxxx', "
                        "'token-%s-xxxxxxxxxxxxxxxx', '%s', '%s', '%s@example.org', 'Org', "
                        "'industry', 'DE', '', '', ARRAY[%d])"
                        % (self.event.slug, given, given, given, family, given.lower(),
                           self.event.list_ids[0]))
        self.assertEqual(self.names(""), ["Ángel, Ana", "de Wit, Anne", "Lovelace, Ada",
                                          "Muller, Jan", "Müller, Ivan", "Öhman, Oskar",
                                          "Zola, Émile"])
        self.assertEqual(self.names("?q=muller"), ["Muller, Jan", "Müller, Ivan"])

    def test_bad_filters_are_400(self):
        for query in ["?status=bogus", "?checked=maybe", "?list=abc", "?list=-1", "?page=0",
                      "?page=x", "?q=" + "a" * 201, "?q=%01"]:
            r = self.browser.get(self.base + query)
            self.assertEqual(r.status, 400, query)
            self.assertIn("This search is not valid", r.text)
        for path in ["/abc", "/0", "/99999", "/1234567890"]:
            self.assertEqual(self.browser.get(self.base + path).status, 404, path)
        self.assertEqual(self.browser.get("/admin/events/NOT_A_SLUG/attendees").status, 404)
        r = admin_act(self.browser, "%s/%d/checkin" % (self.base, self.ada), {})
        self.assertEqual(r.status, 400)
        r = admin_act(self.browser, "%s/%d/checkin" % (self.base, self.ada),
                      {"list": "999999"})
        self.assertEqual(r.status, 404)

    def test_cancel_promotes_and_reissue_kills_the_old_ticket(self):
        page = self.browser.get("%s/%d" % (self.base, self.emile))
        self.assertIn("waitlisted", page.text)
        self.assertIn("Move from the waiting list", page.text)
        # No free seat: promote is refused with a clear message, nothing changes.
        r = admin_act(self.browser, "%s/%d/promote" % (self.base, self.emile))
        self.assertEqual(r.status, 409)
        self.assertIn("raise the capacity first", r.text)
        self.assertEqual(harness.seat_counts(self.db, self.event.id)[:2], (1, 1))
        # Cancelling Ada gives her seat to Émile.
        r = admin_act(self.browser, "%s/%d/cancel" % (self.base, self.ada))
        self.assertEqual(r.status, 303)
        self.assertTrue(r.header("Location").endswith("?done=promoted"))
        self.assertIn("the seat went to the next person",
                      self.browser.get(r.header("Location")).text)
        self.assertEqual(harness.seat_counts(self.db, self.event.id), (1, 0, 1, 0, 1))
        r = admin_act(self.browser, "%s/%d/cancel" % (self.base, self.ada))
        self.assertEqual(r.status, 409)
        self.assertIn("already cancelled", r.text)
        r = admin_act(self.browser, "%s/%d/reissue" % (self.base, self.ada))
        self.assertEqual(r.status, 409)
        # Reissue Émile's ticket: new counter, new link, the old link is dead.
        old = self.db.sql("SELECT token, reissue, change_seq FROM registrations WHERE id = %d"
                          % self.emile).strip().split("|")
        self.assertEqual(self.server.get("/tickets/%s" % old[0]).status, 200)
        r = admin_act(self.browser, "%s/%d/reissue" % (self.base, self.emile))
        self.assertEqual(r.status, 303)
        new = self.db.sql("SELECT token, reissue, change_seq FROM registrations WHERE id = %d"
                          % self.emile).strip().split("|")
        self.assertNotEqual(new[0], old[0])
        self.assertEqual(int(new[1]), int(old[1]) + 1)
        self.assertGreater(int(new[2]), int(old[2]))  # offline scanners learn it on sync
        self.assertEqual(self.server.get("/tickets/%s" % old[0]).status, 404)
        ticket = self.server.get("/tickets/%s" % new[0])
        self.assertEqual(ticket.status, 200)
        page = self.browser.get(r.header("Location"))
        self.assertIn("/tickets/%s" % new[0], page.text)
        self.assertIn("old QR code and ticket link no longer work", page.text)
        # The QR code of the new ticket carries the new counter.
        png = self.server.get("/tickets/%s/qr.png" % new[0]).body
        payload = harness.decode_qr_png(png, self.work)
        status, fields = harness.verify_ticket(self.keys, payload)
        self.assertEqual(status, 0)
        self.assertEqual(int(fields["reissue"]), int(new[1]))

    def test_raising_the_capacity_promotes_the_next_in_line(self):
        edit = "/admin/events/%s/edit" % self.event.slug
        form = parse_html(self.browser.get(edit).text)
        fields = {i.attrs["name"]: i.attrs.get("value", "")
                  for i in form.find_all("input") if i.attrs.get("type") not in ("checkbox",)
                  and not i.attrs.get("name", "").startswith("list_")
                  and i.attrs.get("name") != "csrf_token"}
        fields["capacity"] = "2"
        fields["description"] = ""
        for column in ("list_id", "list_name", "list_day", "list_capacity", "list_starts",
                       "list_ends"):
            fields[column] = [i.attrs.get("value", "") for i in form.find_all("input", name=column)]
        r = admin_post(self.browser, edit, edit, fields)
        self.assertEqual(r.status, 303, r.text[:600])
        # The new seat goes to the first person waiting at once (migration 9): nothing is left
        # for the organiser to move by hand.
        self.assertEqual(harness.seat_counts(self.db, self.event.id), (2, 0, 0, 0, 2))
        r = admin_act(self.browser, "%s/%d/promote" % (self.base, self.emile))
        self.assertEqual(r.status, 409)
        self.assertIn("not on the waiting list", r.text)

    def test_check_in_by_name(self):
        day1, day2, cluster = self.event.list_ids
        url = "%s/%d" % (self.base, self.ada)
        r = admin_act(self.browser, url + "/checkin", {"list": str(day1)})
        self.assertEqual(r.status, 303)
        self.assertIn("Checked in.", self.browser.get(r.header("Location")).text)
        scan = self.db.sql("SELECT source, device_id IS NULL, verdict, flagged, gate, reason,"
                           " admin_id IS NOT NULL FROM scans").strip()
        self.assertEqual(scan, "manual|t|valid|f|manual|by boss@example.org|t")
        self.assertEqual(self.db.sql("SELECT count(*) FROM admissions").strip(), "1")
        # Twice: not offered again; posted anyway (a fresh key), the first entry stands and the
        # second is logged as a duplicate.
        r = admin_act(self.browser, url + "/checkin", {"list": str(day1)})
        self.assertEqual(r.status, 409)
        self.assertIn("Already checked in", r.text)
        r = admin_post(self.browser, url, url + "/checkin", {"list": str(day1), "key": new_key()})
        self.assertEqual(r.status, 409)
        self.assertIn("Already checked in", r.text)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admissions").strip(), "1")
        # Not on the list: refused, unless forced, and a forced one is flagged for review.
        r = admin_act(self.browser, url + "/checkin", {"list": str(day2)})
        self.assertEqual(r.status, 409)
        self.assertIn("Force check-in", r.text)
        r = admin_act(self.browser, url + "/checkin",
                      {"list": str(day2), "force": "yes"})
        self.assertEqual(r.status, 303)
        flagged = self.db.sql("SELECT verdict, flagged, reason FROM scans WHERE list_id = %d"
                              " ORDER BY id" % day2).splitlines()
        self.assertEqual(flagged[-1].split("|")[:2], ["valid", "t"])
        # Someone on the waiting list has no seat to check in to.
        r = admin_act(self.browser, "%s/%d/checkin" % (self.base, self.emile),
                      {"list": str(day1), "force": "yes"})
        self.assertEqual(r.status, 409)
        self.assertIn("waiting list", r.text)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admissions").strip(), "2")
        # The attendee's page lists every scan: time, gate, device, online/offline, flagged.
        page = parse_html(self.browser.get(url).text)
        rows = [tr.text() for tr in page.find_all("tr")]
        self.assertTrue(any("by hand" in t and "online" in t and "flagged" in t for t in rows),
                        rows)
        self.assertTrue(any("already_checked_in" in t for t in rows), rows)
        self.assertTrue(any("not_on_list" in t for t in rows), rows)
        # The flagged scans page has the forced one, linked to the attendee.
        flagged_page = self.browser.get("/admin/events/%s/flagged" % self.event.slug)
        self.assertIn("forced by boss@example.org", flagged_page.text)
        self.assertIn('href="%s"' % url, flagged_page.text)


class LiveAndReport(ServerTestCase):

    def test_live_view_chart_and_report(self):
        event = create_event(self.db.dsn, capacity=10, name="Big Day")
        add_admin(self.db.dsn, "boss@example.org")
        server = self.start_admitd()
        people = [("ada@example.org", "research", "BE"), ("bob@example.org", "industry", "DE"),
                  ("cy@example.org", "industry", "DE"), ("di@example.org", "public_body", "FR")]
        for email, kind, country in people:
            register(server, event.slug, email=email, organisation_type=kind, country=country,
                     lists=event.list_ids[:2])
        browser = logged_in(server, "boss@example.org")
        live = browser.get("/admin/events/%s/live" % event.slug)
        self.assertEqual(live.status, 200)
        csp = live.header("Content-Security-Policy")
        self.assertIn("script-src 'self'", csp)
        self.assertIn("connect-src 'self'", csp)
        self.assertNotIn("unsafe", csp)
        self.assertIn('<script src="/static/admin-live.js" defer></script>', live.text)
        self.assertNotIn("<script>", live.text)
        self.assertNotIn(" style=", live.text)
        self.assertIn('href="/admin/events/%s/live">Refresh' % event.slug, live.text)
        js = server.get("/static/admin-live.js")
        self.assertEqual(js.status, 200)
        self.assertTrue(js.header("Content-Type").startswith("text/javascript"))
        # Nobody in yet: the chart says so.
        svg = browser.get("/admin/events/%s/arrivals.svg" % event.slug)
        self.assertEqual(svg.header("Content-Type"), "image/svg+xml")
        self.assertIn(b"No check-ins yet.", svg.body)
        ET.fromstring(svg.body)

        day1, day2 = event.list_ids[:2]
        base = "/admin/events/%s/attendees/" % event.slug
        for email, _, _ in people[:3]:
            reg = registration_id(self.db, email)
            r = admin_act(browser, base + "%d/checkin" % reg,
                          {"list": str(day1)})
            self.assertEqual(r.status, 303)
        reg = registration_id(self.db, "ada@example.org")
        admin_act(browser, base + "%d/checkin" % reg, {"list": str(day2)})
        figures = json.loads(browser.get("/admin/events/%s/live.json" % event.slug).body)
        by_name = {f["name"]: f for f in figures["lists"]}
        self.assertEqual((by_name["Day 1"]["registered"], by_name["Day 1"]["checked_in"],
                          by_name["Day 1"]["inside"]), (4, 3, 3))
        self.assertEqual(by_name["Day 2"]["checked_in"], 1)
        self.assertRegex(figures["updated"], r"^\d\d:\d\d:\d\d$")
        page = parse_html(browser.get("/admin/events/%s/live" % event.slug).text)
        cell = page.find("td", **{"data-list": str(day1), "data-field": "checked_in"})
        self.assertEqual(cell.text(), "3")

        # The chart: valid SVG, one bar per list with arrivals, titled with its figures.
        svg = browser.get("/admin/events/%s/arrivals.svg" % event.slug)
        root = ET.fromstring(svg.body)
        ns = "{http://www.w3.org/2000/svg}"
        titles = [t.text for t in root.iter(ns + "title")]
        self.assertTrue(any(t and t.endswith("Day 1: 3") for t in titles), titles)
        self.assertTrue(any(t and t.endswith("Day 2: 1") for t in titles), titles)
        self.assertEqual(len([r for r in root.iter(ns + "rect") if r.find(ns + "title")
                              is not None]), 2)
        legend = [t.text for t in root.iter(ns + "text")]
        self.assertIn("Cluster session", legend)
        self.assertEqual(browser.get("/admin/events/%s/arrivals.svg?day=%s" % (
            event.slug, datetime.date.today().isoformat())).status, 200)
        self.assertEqual(browser.get("/admin/events/%s/arrivals.svg?day=yesterday"
                                     % event.slug).status, 400)

        # The report: per list and for the whole event, by organisation type and country.
        report = parse_html(browser.get("/admin/events/%s/report" % event.slug).text)
        text = report.text()
        self.assertIn("3 attended of 4 registered", text)
        csv_text = browser.get("/admin/events/%s/report.csv" % event.slug).text
        rows = [line.split(",") for line in csv_text.split("\r\n") if line]
        self.assertEqual(rows[0], ["section", "day", "dimension", "key", "label", "registered",
                                   "attended", "waiting", "no_shows"])
        def find(section, dimension, key):
            return [r[5:7] for r in rows if r[0] == section and r[2] == dimension and r[3] == key]
        self.assertEqual(find("Whole event", "total", ""), [["4", "3"]])
        self.assertEqual(find("Day 1", "organisation_type", "industry"), [["2", "2"]])
        self.assertEqual(find("Day 1", "country", "DE"), [["2", "2"]])
        self.assertEqual(find("Day 1", "country", "FR"), [["1", "0"]])
        self.assertEqual(find("Day 2", "total", ""), [["4", "1"]])
        self.assertEqual(find("Day 2", "organisation_type", "other"), [["0", "0"]])
        # A list nobody chose still has its section, with zeros.
        self.assertEqual(find("Cluster session", "total", ""), [["0", "0"]])
        self.assertEqual(find("Cluster session", "organisation_type", "research"), [["0", "0"]])
        self.assertEqual([r for r in rows if r[0] == "Cluster session" and r[2] == "country"], [])
        excel = browser.get("/admin/events/%s/report.csv?excel=1" % event.slug).body
        self.assertTrue(excel.startswith(b"\xef\xbb\xbfsection;day;"))


if __name__ == "__main__":
    harness.main()
