#!/usr/bin/python3
"""Sessions with seats (issue 17, migration 18), black box: a check-in list with its own
capacity and waiting list, exact under concurrency (300 people at once over HTTP for a 20-place
session inside a 200-seat event); promotion, with its email, when a place frees up (a
cancellation, an edit dropping the session, a capacity raised); two sessions at the same time
refused by the form (422 on the lists field, values kept); the door refusing a person who only
waits for a session, online and offline (the sync snapshot); the per-session figures.

Debian's /usr/bin/python3 runs this file (python3-aiosmtpd for the promotion email).

Capacities and times are set with admit_list_session_set (the SQL function the organisers'
form calls); registrations go through the form (HTTP) or admit_register (register_sql)."""

import http.client
from urllib.parse import quote
import time

import harness
from harness import (Browser, ServerTestCase, TicketSigner, add_device, api_call, checkin_event,
                     create_event, open_form, psql, register, register_sql, run_threads,
                     seat_counts, ticket_token)

PEOPLE = 300
EVENT_SEATS = 200
SESSION_PLACES = 20


def patiently(call, attempts=5):
    """call() again when the connection fails (a shared 2-core machine); the form nonce makes
    a POST sent twice one registration."""
    for attempt in range(attempts):
        try:
            return call()
        except (OSError, http.client.HTTPException):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


class SessionCase(ServerTestCase):

    def set_session(self, list_id, capacity, starts=None, ends=None):
        cap = "NULL" if capacity is None else str(int(capacity))
        times = ", ".join("NULL" if t is None else "'%s'::timestamptz" % t
                          for t in (starts, ends))
        return psql(self.db.dsn, "SELECT admit_list_session_set(%d, %s, %s)"
                    % (list_id, cap, times)).strip()

    def holders(self, list_id):
        return [int(x) for x in psql(self.db.dsn, (
            "SELECT rl.registration_id FROM registration_lists rl JOIN registrations r"
            " ON r.id = rl.registration_id WHERE rl.list_id = %d AND r.status <> 'cancelled'"
            " ORDER BY 1") % list_id).split()]

    def waiting(self, list_id):
        return [int(x) for x in psql(self.db.dsn, (
            "SELECT registration_id FROM registration_list_waits WHERE list_id = %d ORDER BY id")
            % list_id).split()]

    def free(self, list_id):
        return int(psql(self.db.dsn, "SELECT coalesce(sum(free), 0) FROM list_seats"
                                     " WHERE list_id = %d" % list_id).strip())

    def promoted_mails(self):
        return psql(self.db.dsn, "SELECT registration_id, details->>'session' FROM mail_outbox"
                                 " WHERE kind = 'session_promoted' ORDER BY id").splitlines()


class Concurrency(SessionCase):

    def register_one(self, server, slug, lists, number):
        browser = Browser(server)
        form = patiently(lambda: open_form(browser, slug))
        fields = form.fields(lists=lists, given_name="Person%d" % number,
                             email="p%d.%s@example.org" % (number, slug))
        response = patiently(lambda: browser.post("/events/%s/register" % slug, fields))
        return ticket_token(response)

    def test_session_places_are_exact_under_concurrency(self):
        event = create_event(self.db.dsn, capacity=EVENT_SEATS, name="Cluster Conference")
        day1, cluster = event.list_ids[0], event.list_ids[-1]
        self.assertEqual(self.set_session(cluster, SESSION_PLACES), "saved")
        server = self.start_admitd("--threads", "16")
        started = time.monotonic()
        tokens = run_threads(lambda n: self.register_one(server, event.slug, [day1, cluster], n),
                             range(PEOPLE), 50)
        elapsed = time.monotonic() - started
        self.assertEqual(len(set(tokens)), PEOPLE)
        confirmed, waitlisted, _, free, capacity = seat_counts(self.db, event.id)
        self.assertEqual((confirmed, waitlisted), (EVENT_SEATS, PEOPLE - EVENT_SEATS))
        self.assertEqual(confirmed + free, capacity)
        holders = self.holders(cluster)
        self.assertEqual(len(holders), SESSION_PLACES)
        self.assertEqual(self.free(cluster), 0, "session place invariant")
        waits_confirmed = int(psql(self.db.dsn, (
            "SELECT count(*) FROM registration_list_waits w JOIN registrations r"
            " ON r.id = w.registration_id WHERE w.list_id = %d AND r.status = 'confirmed'")
            % cluster).strip())
        self.assertEqual(waits_confirmed, EVENT_SEATS - SESSION_PLACES)
        # Everyone holding the event holds Day 1 (no capacity); nobody waiting for the event
        # holds a session place.
        self.assertEqual(len(self.holders(day1)), PEOPLE)
        self.assertEqual(psql(self.db.dsn, (
            "SELECT count(*) FROM registration_lists rl JOIN registrations r"
            " ON r.id = rl.registration_id WHERE rl.list_id = %d AND r.status <> 'confirmed'")
            % cluster).strip(), "0")
        statuses = [line["status"] for line in server.request_lines()
                    if line["route"] == "/events/:slug/register"]
        self.assertEqual(set(statuses), {"303"})
        print("%d registrations in %.1f s" % (PEOPLE, elapsed), flush=True)


class Promotion(SessionCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, capacity=100, name="Dinner Conference")
        self.day1, self.dinner = self.event.list_ids[0], self.event.list_ids[-1]
        self.assertEqual(self.set_session(self.dinner, 1), "saved")
        self.server = self.start_admitd("--threads", "4")
        self.tokens = []
        for n in range(3):
            _, _, response = register(self.server, self.event.slug, [self.day1, self.dinner],
                                      email="diner%d@example.org" % n)
            self.tokens.append(ticket_token(response))
        self.ids = [int(psql(self.db.dsn, "SELECT id FROM registrations WHERE token = '%s'" % t))
                    for t in self.tokens]
        self.assertEqual(self.holders(self.dinner), self.ids[:1])
        self.assertEqual(self.waiting(self.dinner), self.ids[1:])

    def test_ticket_page_says_waiting(self):
        page = self.server.get("/tickets/" + self.tokens[1])
        self.assertEqual(page.status, 200)
        self.assertTrue("on the waiting list for" in page.text, "no session waiting list shown")
        self.assertTrue("Cluster session" in page.text)
        page = self.server.get("/tickets/" + self.tokens[0])
        self.assertFalse("waiting list for" in page.text, "a holder shown as waiting")

    def test_cancellation_promotes_the_first_waiting(self):
        browser = Browser(self.server)
        page = browser.get("/tickets/%s/cancel" % self.tokens[0])
        csrf = harness.hidden_field(page.text, "csrf_token")
        response = browser.post("/tickets/%s/cancel" % self.tokens[0], {"csrf_token": csrf})
        self.assertEqual(response.status, 303)
        self.assertEqual(self.holders(self.dinner), [self.ids[1]])
        self.assertEqual(self.waiting(self.dinner), [self.ids[2]])
        self.assertEqual(self.free(self.dinner), 0)
        self.assertEqual(self.promoted_mails(), ["%d|Cluster session" % self.ids[1]])
        # The promoted person still holds the event and Day 1; nobody else got mail about it.
        self.assertIn(self.day1, [int(x) for x in psql(self.db.dsn, (
            "SELECT list_id FROM registration_lists WHERE registration_id = %d")
            % self.ids[1]).split()])

    def test_the_promoted_person_gets_the_email(self):
        import email
        import email.policy
        sink = harness.SmtpSink()
        self.addCleanup(sink.stop)
        harness.start_mailer(self, sink.url, self.server.url)
        sink.wait_for(3)  # the three confirmations
        psql(self.db.dsn, "SELECT admit_cancel('%s')" % self.tokens[0])
        raws = sink.wait_for(5)[3:]  # the cancellation, then the place
        messages = [email.message_from_bytes(raw,
                                             policy=email.policy.default) for raw in raws]
        promoted = [m for m in messages if m["Subject"].startswith("A place is yours")]
        self.assertEqual(len(promoted), 1, [m["Subject"] for m in messages])
        self.assertEqual(promoted[0]["Subject"],
                         "A place is yours: Cluster session at Dinner Conference")
        self.assertEqual(promoted[0]["To"].addresses[0].addr_spec, "diner1@example.org")
        text = promoted[0].get_body(("plain",)).get_content()
        self.assertIn("/tickets/" + self.tokens[1], text)

    def test_a_cancelled_waiting_person_leaves_the_line(self):
        psql(self.db.dsn, "SELECT admit_cancel('%s')" % self.tokens[1])
        self.assertEqual(self.waiting(self.dinner), [self.ids[2]])
        self.assertEqual(self.holders(self.dinner), self.ids[:1])
        self.assertEqual(self.free(self.dinner), 0)
        self.assertEqual(self.promoted_mails(), [])

    def edit_lists(self, token, lists):
        return psql(self.db.dsn, (
            "SELECT (admit_registration_edit(r.token, NULL, NULL, NULL, r.version, r.given_name,"
            " r.family_name, r.email, r.organisation, r.organisation_type, r.country, r.dietary,"
            " r.accessibility, '{%s}', 'confirm-token-0123456789')).outcome"
            " FROM registrations r WHERE r.token = '%s'")
            % (",".join(str(i) for i in lists), token)).strip()

    def test_edit_dropping_the_session_promotes(self):
        self.assertEqual(self.edit_lists(self.tokens[0], [self.day1]), "saved")
        self.assertEqual(self.holders(self.dinner), [self.ids[1]])
        self.assertEqual(self.waiting(self.dinner), [self.ids[2]])
        self.assertEqual(self.promoted_mails(), ["%d|Cluster session" % self.ids[1]])
        # A waiting person's edit dropping the session leaves the line (no list held changes:
        # 'unchanged'); adding it back joins it at the end.
        self.assertEqual(self.edit_lists(self.tokens[2], [self.day1]), "unchanged")
        self.assertEqual(self.waiting(self.dinner), [])
        # (The lists held do not change either: the edit answers 'unchanged'.)
        self.assertEqual(self.edit_lists(self.tokens[0], [self.day1, self.dinner]), "unchanged")
        self.assertEqual(self.waiting(self.dinner), [self.ids[0]])
        self.assertEqual(self.free(self.dinner), 0)

    def test_an_edit_keeps_the_place_in_line(self):
        """The edit form shows a waited-for session as chosen; saving it with another change
        keeps the person waiting, in the same place."""
        browser = Browser(self.server)
        page = browser.get("/tickets/%s/edit" % self.tokens[1])
        self.assertEqual(page.status, 200)
        state = harness.registration_form_state(page.text)
        self.assertEqual(sorted(state["lists"]), sorted([self.day1, self.dinner]))
        self.assertEqual(self.edit_lists(self.tokens[1], [self.day1, self.dinner]), "unchanged")
        out = psql(self.db.dsn, (
            "SELECT (admit_registration_edit(r.token, NULL, NULL, NULL, r.version, 'New name',"
            " r.family_name, r.email, r.organisation, r.organisation_type, r.country, r.dietary,"
            " r.accessibility, '{%d,%d}', 'confirm-token-0123456789')).outcome"
            " FROM registrations r WHERE r.token = '%s'")
            % (self.day1, self.dinner, self.tokens[1])).strip()
        self.assertEqual(out, "saved")
        self.assertEqual(self.waiting(self.dinner), self.ids[1:])
        self.assertEqual(self.holders(self.dinner), self.ids[:1])
        self.assertEqual(self.free(self.dinner), 0)

    def test_capacity_raised_promotes_in_order(self):
        self.assertEqual(self.set_session(self.dinner, 2), "saved")
        self.assertEqual(self.holders(self.dinner), self.ids[:2])
        self.assertEqual(self.waiting(self.dinner), self.ids[2:])
        self.assertEqual(self.set_session(self.dinner, 10), "saved")
        self.assertEqual(self.holders(self.dinner), self.ids)
        self.assertEqual(self.free(self.dinner), 7)
        self.assertEqual(self.promoted_mails(), ["%d|Cluster session" % i for i in self.ids[1:]])
        # Below the places taken: refused, nothing changed.
        self.assertEqual(self.set_session(self.dinner, 2), "below_taken")
        self.assertEqual(psql(self.db.dsn, "SELECT capacity FROM checkin_lists WHERE id = %d"
                              % self.dinner).strip(), "10")
        self.assertEqual(self.free(self.dinner), 7)
        # Unlimited again: everyone on, no shards.
        self.assertEqual(self.set_session(self.dinner, None), "saved")
        self.assertEqual(self.free(self.dinner), 0)

    def test_report_figures(self):
        psql(self.db.dsn, "SELECT admit_cancel('%s')" % self.tokens[2])
        rows = psql(self.db.dsn, "SELECT name, capacity, registered, waiting, checked_in,"
                                 " no_shows FROM admit_session_figures(%d)"
                                 % self.event.id).split("\n")
        self.assertIn("Cluster session|1|1|1|0|1", rows)
        self.assertIn("Day 1||2|0|0|2", rows)
        # The attendance report and its CSV: registered, attended, waiting, no-shows.
        from test_admin import add_admin, logged_in
        add_admin(self.db.dsn, "boss@example.org")
        browser = logged_in(self.server, "boss@example.org")
        csv_text = browser.get("/admin/events/%s/report.csv" % self.event.slug).text
        rows = [line.split(",") for line in csv_text.split("\r\n") if line]
        self.assertEqual(rows[0][5:], ["registered", "attended", "waiting", "no_shows"])
        totals = {r[0]: r[5:] for r in rows[1:] if r[2] == "total"}
        self.assertEqual(totals["Cluster session"], ["1", "0", "1", "1"])
        self.assertEqual(totals["Day 1"], ["2", "0", "0", "2"])
        self.assertEqual(totals["Whole event"], ["2", "0", "0", "2"])
        page = browser.get("/admin/events/%s/report" % self.event.slug).text
        self.assertIn("<strong>1</strong> on the waiting list", page)


class EventWaitingList(SessionCase):

    def test_people_waiting_for_the_event_take_no_session_place_until_they_get_a_seat(self):
        event = create_event(self.db.dsn, capacity=1, name="Tiny Conference")
        day1, cluster = event.list_ids[0], event.list_ids[-1]
        self.assertEqual(self.set_session(cluster, 5), "saved")
        first, second = register_sql(self.db.dsn, event.slug, 2, [day1, cluster])
        self.assertEqual(self.holders(cluster), [first])
        self.assertEqual(self.waiting(cluster), [second])  # waits for the event, so for it too
        self.assertEqual(self.free(cluster), 4)
        psql(self.db.dsn, "SELECT admit_cancel(token) FROM registrations WHERE id = %d" % first)
        # The event seat goes to the second person, and with it a free session place.
        self.assertEqual(psql(self.db.dsn, "SELECT status FROM registrations WHERE id = %d"
                              % second).strip(), "confirmed")
        self.assertEqual(self.holders(cluster), [second])
        self.assertEqual(self.waiting(cluster), [])
        self.assertEqual(self.free(cluster), 4)


class Overlap(SessionCase):

    def test_two_sessions_at_the_same_time_are_refused(self):
        event = create_event(self.db.dsn, lists=["Workshop A", "Workshop B", "Workshop C"])
        a, b, c = event.list_ids
        self.assertEqual(self.set_session(a, None, "2030-01-01 10:00Z", "2030-01-01 12:00Z"),
                         "saved")
        self.assertEqual(self.set_session(b, 5, "2030-01-01 11:00Z", "2030-01-01 13:00Z"),
                         "saved")
        self.assertEqual(self.set_session(c, 5, "2030-01-01 12:00Z", "2030-01-01 13:00Z"),
                         "saved")
        self.assertEqual(self.set_session(c, 5, "2030-01-01 12:00Z", None), "bad_times")
        self.assertEqual(self.set_session(c, 5, "2030-01-01 12:00Z", "2030-01-01 11:00Z"),
                         "bad_times")
        server = self.start_admitd()
        _, _, response = register(server, event.slug, [a, b], given_name="Ada",
                                  email="ada@example.org")
        self.assertEqual(response.status, 422)
        state = harness.registration_form_state(response.text)
        self.assertIn("same time", state["errors"].get("lists", ""))
        self.assertEqual(sorted(state["lists"]), sorted([a, b]))
        self.assertEqual(state["values"].get("given_name"), "Ada")
        self.assertEqual(psql(self.db.dsn, "SELECT count(*) FROM registrations").strip(), "0")
        self.assertEqual(self.free(b), 5)
        # Back to back is no overlap.
        _, _, response = register(server, event.slug, [a, c], email="ada@example.org")
        token = ticket_token(response)
        # The same refusal for an edit; nothing saved.
        out = psql(self.db.dsn, (
            "SELECT (admit_registration_edit(r.token, NULL, NULL, NULL, r.version, r.given_name,"
            " r.family_name, r.email, r.organisation, r.organisation_type, r.country, r.dietary,"
            " r.accessibility, '{%d,%d,%d}', 'confirm-token-0123456789')).outcome"
            " FROM registrations r WHERE r.token = '%s'") % (a, b, c, token)).strip()
        self.assertEqual(out, "overlap")
        self.assertEqual(self.holders(b), [])
        self.assertEqual(self.free(b), 5)


class Door(SessionCase):

    def test_a_waiting_person_is_not_admitted_online_or_offline(self):
        event_id, lists = checkin_event(self.db.dsn, "door")
        cluster = lists["Cluster session"]
        self.assertEqual(self.set_session(cluster, 1), "saved")
        holder, waiter = register_sql(self.db.dsn, "door", 2, [lists["Day 1"], cluster])
        self.assertEqual(self.waiting(cluster), [waiter])
        signer = TicketSigner(self.keys)
        token = add_device(self.db.dsn, "door", "Gate A")
        server = self.start_admitd("--threads", "2")

        def scan(reg, list_name, nonce):
            body = {"payload": signer.ticket(event_id, reg, 0), "list": list_name,
                    "nonce": nonce}
            r, answer = api_call(server, "POST", "/api/v1/checkins", token, body)
            self.assertEqual(r.status, 200, r.text)
            return answer["verdict"]

        self.assertEqual(scan(waiter, "Cluster session", "nonce-waiter-1"), "not_on_list")
        self.assertEqual(scan(waiter, "Day 1", "nonce-waiter-2"), "valid")
        self.assertEqual(scan(holder, "Cluster session", "nonce-holder-1"), "valid")
        r, snapshot = api_call(server, "GET", "/api/v1/events/door/sync", token)
        self.assertEqual(r.status, 200, r.text)
        by_id = {x["id"]: x for x in snapshot["registrations"]}
        self.assertEqual(by_id[waiter]["lists"], [lists["Day 1"]])
        self.assertEqual(sorted(by_id[holder]["lists"]), sorted([lists["Day 1"], cluster]))
        # Promoted: the door's next sync has the session.
        psql(self.db.dsn, "SELECT admit_cancel(token) FROM registrations WHERE id = %d" % holder)
        r, delta = api_call(server, "GET", "/api/v1/events/door/sync?since=" + quote(snapshot["cursor"]),
                            token)
        by_id = {x["id"]: x for x in delta["registrations"]}
        self.assertEqual(sorted(by_id[waiter]["lists"]), sorted([lists["Day 1"], cluster]))
        self.assertEqual(scan(waiter, "Cluster session", "nonce-waiter-3"), "valid")


class AdminForm(SessionCase):

    def test_organisers_set_places_and_times_all_or_nothing(self):
        from test_admin import add_admin, admin_post, logged_in
        from test_admin_pages import event_fields
        add_admin(self.db.dsn, "boss@example.org")
        server = self.start_admitd()
        browser = logged_in(server, "boss@example.org")
        day = event_fields()["list_day"][0]
        fields = event_fields(list_id=["", "", ""],
                              list_name=["Day 1", "Cluster session", "Dinner"],
                              list_day=[day, day, day], list_capacity=["", "1", "120"],
                              list_starts=["", day + "T14:00", day + "T19:00"],
                              list_ends=["", day + "T16:00", day + "T23:00"])
        r = admin_post(browser, "/admin/events/new", "/admin/events/new", fields)
        self.assertEqual(r.status, 303, r.text[:500])
        rows = psql(self.db.dsn, "SELECT name, coalesce(capacity::text, '-'),"
                    " to_char(starts_at AT TIME ZONE 'Europe/Brussels', 'HH24:MI')"
                    " FROM checkin_lists ORDER BY position").splitlines()
        self.assertEqual(rows, ["Day 1|-|", "Cluster session|1|14:00", "Dinner|120|19:00"])
        edit = "/admin/events/summit-2030/edit"
        page = browser.get(edit)
        self.assertIn('name="list_capacity" value="120"', page.text)
        self.assertIn('value="%sT19:00"' % day, page.text)
        ids = psql(self.db.dsn, "SELECT id FROM checkin_lists ORDER BY position").split()
        # Two people for the one-place cluster session: one holds it, one waits.
        first = ticket_token(register(server, "summit-2030", [int(ids[0]), int(ids[1])],
                                      email="a@example.org")[2])
        second = ticket_token(register(server, "summit-2030", [int(ids[0]), int(ids[1])],
                                       email="b@example.org")[2])
        self.assertEqual(len(self.waiting(int(ids[1]))), 1)
        self.assertTrue(first and second)
        # The registration form tells places left and "waiting list" per session.
        # (The event page is cached for a second: wait for a fresh one.)
        self.assertTrue(harness.wait_until(
            lambda: "its waiting list" in server.get("/events/summit-2030").text, timeout=5))
        public = server.get("/events/summit-2030").text
        self.assertIn("120 places left", public)
        self.assertIn("14:00–16:00", public)
        base = event_fields(slug=None, list_id=ids, list_name=["Day 1", "Cluster session",
                                                               "Dinner"],
                            list_day=[day, day, day])
        bad = [
            (["", "0", "120"], ["", "", ""], ["", "", ""], "More people already hold a place"),
            (["", "x", "120"], ["", "", ""], ["", "", ""], "whole number"),
            (["", "1", "120"], [day + "T14:00", "", ""], ["", "", ""], "both a start and an end"),
            (["", "1", "120"], [day + "T16:00", "", ""], [day + "T14:00", "", ""], "end after"),
        ]
        for caps, starts, ends, message in bad:
            fields = dict(base, name="Renamed", list_capacity=caps, list_starts=starts,
                          list_ends=ends)
            r = admin_post(browser, edit, edit, fields)
            self.assertEqual(r.status, 422, message)
            self.assertIn(message, r.text)
            self.assertIn('value="Renamed"', r.text)  # values kept
            self.assertEqual(psql(self.db.dsn, "SELECT name FROM events").strip(),
                             "Open Science Summit", "half-saved")
        # The attendee page says who waits for the session.
        waiter = self.waiting(int(ids[1]))[0]
        page = browser.get("/admin/events/summit-2030/attendees/%d" % waiter).text
        self.assertIn("no: on its waiting list", page)
        # The overview shows each list's places and waiting line.
        overview = browser.get("/admin/events/summit-2030").text
        self.assertIn('data-label="Places">1</td><td class="num" data-label="Registered">1</td>'
                      '<td class="num" data-label="Waiting">1</td>', overview)
        self.assertIn('data-label="Places">no limit</td>', overview)
        # Raising the places from the form promotes the one waiting, with the email.
        fields = dict(base, list_capacity=["", "2", "120"],
                      list_starts=["", day + "T14:00", day + "T19:00"],
                      list_ends=["", day + "T16:00", day + "T23:00"])
        r = admin_post(browser, edit, edit, fields)
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertEqual(self.waiting(int(ids[1])), [])
        self.assertEqual(len(self.promoted_mails()), 1)


if __name__ == "__main__":
    harness.main()
