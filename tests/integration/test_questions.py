#!/usr/bin/python3
"""An event's own questions (issue 17), over real HTTP and PostgreSQL: an organiser sets them up
from /admin/events/SLUG/questions (add, change, reorder, remove, with CSRF and limits, nothing
half-saved); attendees answer them on the registration form (422 with the values kept for bad
answers); answers are stored with the registration, a consent with its wording and time; a
removed question keeps its answers; organiser texts are escaped (hostile labels and options).
"""

import csv
import html
import io
import os
import re

import harness
import email
import email.policy

from harness import (Browser, ScannerProcess, ServerTestCase, SmtpSink, TicketSigner,
                     add_device, api_call, checkin_event, create_event, new_nonce, open_form,
                     psql, register_sql, run_scan, start_mailer, ticket_token)
from test_admin import add_admin, admin_post, logged_in

HOSTILE = '<script>alert("x")</script> \' "q" =cmd|\'/c calc\'!A1'
HOSTILE_OPTION = '=HYPERLINK("http://x") <b>"bold"</b> \'q\''  # options may not hold |


class Questions(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Question Conference")
        self.other = create_event(self.db.dsn, name="Other Event")
        add_admin(self.db.dsn, "jo@example.org", events=[self.event.slug])
        add_admin(self.db.dsn, "ann@example.org", events=[self.other.slug])
        self.server = self.start_admitd()
        self.base = "/admin/events/%s/questions" % self.event.slug
        self.browser = logged_in(self.server, "jo@example.org")

    def add(self, **fields):
        form = {"kind": "short_text", "label": "A question", "help": "", "options": ""}
        form.update(fields)
        return admin_post(self.browser, self.base, self.base, form)

    def questions(self):
        rows = self.db.sql("SELECT id, kind, label, position, removed_at IS NOT NULL FROM "
                           "event_questions ORDER BY position")
        return [line.split("|") for line in rows.strip().splitlines() if line]

    def qid(self, label):
        return self.db.sql("SELECT id FROM event_questions WHERE label = '%s'" % label).strip()

    def setup_questions(self):
        self.assertEqual(self.add(kind="select", label="Meal", required="yes",
                                  options="Vegetarian\nVegan\nEverything").status, 303)
        self.assertEqual(self.add(kind="multi", label="Workshops",
                                  options="Alpha\nBeta\nGamma").status, 303)
        self.assertEqual(self.add(kind="number", label="Age").status, 303)
        self.assertEqual(self.add(kind="date", label="Arrival").status, 303)
        self.assertEqual(self.add(kind="yes_no", label="Wheelchair", at_door="yes").status, 303)
        self.assertEqual(self.add(kind="consent", label="Photos of me may be published",
                                  help="By the organiser, on the event site.",
                                  at_door="yes").status, 303)
        self.assertEqual(self.add(kind="consent", label="I accept the code of conduct",
                                  required="yes").status, 303)
        self.assertEqual(self.add(kind="long_text", label="Anything else").status, 303)

    def form_page(self):
        browser = Browser(self.server)
        harness.wait_until(lambda: "Anything else" in browser.get("/events/" + self.event.slug).text,
                           timeout=5)
        return browser, open_form(browser, self.event.slug)

    def test_set_up_register_and_store(self):
        page = self.browser.get(self.base)
        self.assertEqual(page.status, 200)
        self.assertIn("No question of your own yet", page.text)
        overview = self.browser.get("/admin/events/%s" % self.event.slug)
        self.assertIn('href="%s"' % self.base, overview.text, "no Questions tab")
        self.setup_questions()
        page = self.browser.get(self.base)
        self.assertIn("Meal", page.text)
        self.assertEqual(len(self.questions()), 8)

        browser, form = self.form_page()
        meal, workshops, age, arrival, wheel, photos, coc, other = (
            self.qid(l) for l in ("Meal", "Workshops", "Age", "Arrival", "Wheelchair",
                                  "Photos of me may be published",
                                  "I accept the code of conduct", "Anything else"))
        self.assertIn('name="q%s"' % meal, form.html)
        self.assertIn('value="Vegan"', form.html)

        # Bad answers: 422, one message per field, the values kept, nothing stored.
        fields = form.fields()
        fields.update({"q" + meal: "Pizza", "q" + workshops: ["Beta", "Omega"],
                       "q" + age: "forty", "q" + arrival: "2027-02-30",
                       "q" + other: "kept <text>", "given_name": ""})
        r = browser.post("/events/%s/register" % self.event.slug, fields)
        self.assertEqual(r.status, 422, r.text[:300])
        for message in ("Choose an answer from the list", "Choose answers from the list",
                        "Enter a number", "Enter a date", "Enter your given name",
                        "Tick this box to register"):
            self.assertIn(message, r.text)
        self.assertIn("kept &lt;text&gt;", r.text)
        self.assertIn('value="forty"', r.text)
        self.assertEqual(self.db.sql("SELECT count(*) FROM registrations").strip(), "0")

        # Valid answers.
        fields = form.fields()
        fields.update({"q" + meal: "Vegan", "q" + workshops: ["Gamma", "Alpha"],
                       "q" + age: "42", "q" + arrival: "2027-03-14", "q" + wheel: "yes",
                       "q" + photos: "yes", "q" + coc: "yes", "q" + other: "line 1\nline 2"})
        r = browser.post("/events/%s/register" % self.event.slug, fields)
        token = ticket_token(r)
        stored = dict(line.split("|", 1) for line in self.db.sql(
            "SELECT q.label, replace(a.value, E'\\n', '\\n') FROM registration_answers a "
            "JOIN event_questions q "
            "ON q.id = a.question_id").strip().splitlines())
        self.assertEqual(stored["Meal"], "Vegan")
        self.assertEqual(stored["Workshops"], "Alpha | Gamma")  # option order, stable separator
        self.assertEqual(stored["Age"], "42")
        self.assertEqual(stored["Arrival"], "2027-03-14")
        self.assertEqual(stored["Wheelchair"], "yes")
        self.assertEqual(stored["Anything else"], "line 1\\nline 2")
        wording = self.db.sql("SELECT wording || '|' || (answered_at > now() - interval '1 minute')"
                              " FROM registration_answers WHERE question_id = %s" % photos)
        self.assertIn("Photos of me may be published\nBy the organiser, on the event site.|t",
                      wording)

        # The organisers' attendee page shows the answers, a consent with its wording.
        reg = self.db.sql("SELECT id FROM registrations").strip()
        page = self.browser.get("/admin/events/%s/attendees/%s" % (self.event.slug, reg))
        self.assertEqual(page.status, 200)
        self.assertIn("<dt>Workshops</dt><dd class=\"pre\">Alpha | Gamma", page.text)
        self.assertIn("Wording agreed to: “Photos of me may be published\nBy the organiser",
                      page.text)

        # The ticket page shows the consents; the optional one can be withdrawn, with its time.
        ticket = Browser(self.server)
        page = ticket.get("/tickets/" + token)
        self.assertIn("Photos of me may be published", page.text)
        self.assertIn("/tickets/%s/consents/%s/withdraw" % (token, photos), page.text)
        self.assertNotIn("/consents/%s/withdraw" % coc, page.text)  # required: not withdrawable
        csrf = harness.hidden_field(page.text, "csrf_token")
        path = "/tickets/%s/consents/%s/withdraw" % (token, photos)
        self.assertEqual(ticket.post(path, {}).status, 403)  # no CSRF token
        r = ticket.post(path, {"csrf_token": csrf})
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertIn("Your consent is withdrawn", ticket.get(r.header("Location")).text)
        self.assertEqual(ticket.post(path, {"csrf_token": csrf}).status, 404)  # done already
        coc_path = "/tickets/%s/consents/%s/withdraw" % (token, coc)
        self.assertEqual(ticket.post(coc_path, {"csrf_token": csrf}).status, 404)
        self.assertEqual(self.db.sql("SELECT withdrawn_at > now() - interval '1 minute' FROM "
                                     "registration_answers WHERE question_id = %s" % photos)
                         .strip(), "t")

        # The person's data download holds the answers, consents with wording and times.
        data = ticket.get("/tickets/%s/data.json" % token)
        self.assertEqual(data.status, 200)
        self.assertIn("By the organiser, on the event site.", data.text)
        self.assertIn("Alpha | Gamma", data.text)

        # A removed question leaves the form and keeps its answers.
        r = admin_post(self.browser, self.base, "%s/%s/remove" % (self.base, meal))
        self.assertEqual(r.status, 303)
        self.assertEqual(self.db.sql("SELECT count(*) FROM registration_answers WHERE "
                                     "question_id = %s" % meal).strip(), "1")
        self.assertIn("Meal", self.db.sql("SELECT admit_answers_json(id) FROM registrations"))
        harness.wait_until(lambda: 'name="q%s"' % meal not in Browser(self.server).get(
            "/events/" + self.event.slug).text, timeout=5)
        self.assertNotIn('name="q%s"' % meal, Browser(self.server).get(
            "/events/" + self.event.slug).text)
        self.assertTrue(token)

        # The export: one column per question, removed ones last and marked; several choices
        # joined by " | "; a consent with its time.
        r = self.browser.get("/admin/events/%s/registrations.csv" % self.event.slug)
        self.assertEqual(r.status, 200)
        rows = list(csv.reader(io.StringIO(r.text)))
        header, row = rows[0], rows[1]
        self.assertEqual(header[-8:], ["Workshops", "Age", "Arrival", "Wheelchair",
                                       "Photos of me may be published",
                                       "I accept the code of conduct", "Anything else",
                                       "Meal (removed)"])
        values = dict(zip(header, row))
        self.assertEqual(values["Workshops"], "Alpha | Gamma")
        self.assertEqual(values["Meal (removed)"], "Vegan")
        self.assertEqual(values["Anything else"], "line 1\nline 2")
        self.assertRegex(values["Photos of me may be published"],
                         r"^withdrawn \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(agreed \d{4}-")
        self.assertRegex(values["I accept the code of conduct"], r"^yes \(agreed \d{4}-")

        # Erasure on request erases the answers too, consents included.
        self.db.sql("SELECT admit_erase_ids(array_agg(id)) FROM registrations")
        self.assertEqual(self.db.sql("SELECT count(*) FROM registration_answers").strip(), "0")

    def test_edit_and_reorder(self):
        self.add(label="First")
        self.add(label="Second")
        first, second = self.qid("First"), self.qid("Second")
        r = admin_post(self.browser, self.base, "%s/%s/up" % (self.base, second))
        self.assertEqual(r.status, 303)
        self.assertEqual([q[2] for q in self.questions()], ["Second", "First"])
        page = self.browser.get("%s/%s" % (self.base, first))
        self.assertEqual(page.status, 200)
        self.assertIn('value="First"', page.text)
        r = admin_post(self.browser, "%s/%s" % (self.base, first), "%s/%s" % (self.base, first),
                       {"kind": "radio", "label": "First, changed", "options": "a\nb"})
        self.assertEqual(r.status, 303, r.text[:500])
        self.assertIn("First, changed", self.db.sql("SELECT label FROM event_questions"))
        # Bad edit: 422, values kept, nothing changed.
        r = admin_post(self.browser, "%s/%s" % (self.base, first), "%s/%s" % (self.base, first),
                       {"kind": "radio", "label": "Lost change", "options": "only one"})
        self.assertEqual(r.status, 422)
        self.assertIn("Give at least two options", r.text)
        self.assertIn('value="Lost change"', r.text)
        self.assertNotIn("Lost change", self.db.sql("SELECT label FROM event_questions"))

    def test_bad_input_and_limits(self):
        for fields, message in (
                ({"label": ""}, "Write the question"),
                ({"kind": "nonsense"}, "Choose the kind of answer"),
                ({"label": "x" * 501}, "too long"),
                ({"label": "bad\x01control"}, ""),
                ({"kind": "multi", "options": "a\na"}, "Give each option once"),
                ({"kind": "multi", "options": "a|b\nc"}, "without the character |"),
                ({"kind": "multi", "options": "\n".join("o%d" % i for i in range(51))},
                 "at most 50 options")):
            r = self.add(**fields)
            self.assertEqual(r.status, 422, (fields, r.text[:300]))
            self.assertIn(message, r.text)
        self.assertEqual(self.questions(), [])
        # Two at the door at most.
        self.add(label="d1", at_door="yes")
        self.add(label="d2", at_door="yes")
        r = self.add(label="d3", at_door="yes")
        self.assertEqual(r.status, 422)
        self.assertIn("Two questions are shown at the door already", r.text)
        # 50 questions at most.
        for i in range(47):
            self.db.sql("SELECT admit_question_save(NULL, '%s', NULL, 'short_text', 'n%d', '',"
                        " false, '{}', false)" % (self.event.slug, i))
        self.assertEqual(self.add(label="the 50th").status, 303)
        r = self.add(label="the 51st")
        self.assertEqual(r.status, 422)
        self.assertIn("50 questions, the most", r.text)
        self.assertEqual(len(self.questions()), 50)
        # No CSRF token: refused, nothing saved; another organiser's event: 404.
        r = self.browser.post(self.base, {"kind": "short_text", "label": "no csrf"})
        self.assertEqual(r.status, 403)
        other = logged_in(self.server, "ann@example.org")
        self.assertEqual(other.get(self.base).status, 404)
        self.assertEqual(len(self.questions()), 50)

    def test_hostile_texts_are_escaped(self):
        self.assertEqual(self.add(kind="radio", label=HOSTILE, help=HOSTILE,
                                  options=HOSTILE_OPTION + "\nplain").status, 303)
        page = self.browser.get(self.base)
        self.assertNotIn("<script>alert", page.text)
        self.assertIn("&lt;script&gt;", page.text)
        browser = Browser(self.server)
        harness.wait_until(lambda: "&lt;script&gt;" in browser.get("/events/" + self.event.slug).text,
                           timeout=5)
        form = open_form(browser, self.event.slug)
        self.assertNotIn("<script>alert", form.html)
        qid = self.db.sql("SELECT id FROM event_questions").strip()
        fields = form.fields()
        self.assertIn(html.escape(HOSTILE_OPTION, quote=True).replace("&#x27;", "&#39;")[:20],
                      form.html)
        fields["q" + qid] = HOSTILE_OPTION
        r = browser.post("/events/%s/register" % self.event.slug, fields)
        ticket_token(r)
        self.assertEqual(self.db.sql("SELECT value FROM registration_answers").strip(),
                         HOSTILE_OPTION)
        reg = self.db.sql("SELECT id FROM registrations").strip()
        page = self.browser.get("/admin/events/%s/attendees/%s" % (self.event.slug, reg))
        self.assertEqual(page.status, 200)
        self.assertNotIn("<script>alert", page.text)
        self.assertNotIn("<b>", page.text)
        self.assertIn("&lt;b&gt;", page.text)
        # In the CSV export, the formula prefixes of the label and the answer are neutralised.
        r = self.browser.get("/admin/events/%s/registrations.csv" % self.event.slug)
        rows = list(csv.reader(io.StringIO(r.text)))
        self.assertEqual(rows[0][-1], HOSTILE)  # "<": no formula prefix, kept as is
        self.assertEqual(rows[1][-1], "'" + HOSTILE_OPTION)

    def test_confirmation_email_lists_the_answers(self):
        self.add(kind="short_text", label=HOSTILE)
        self.add(kind="consent", label="Photos may be published")
        sink = SmtpSink()
        self.addCleanup(sink.stop)
        start_mailer(self, sink.url, self.server.url)
        browser = Browser(self.server)
        harness.wait_until(lambda: "Photos may be published" in browser.get(
            "/events/" + self.event.slug).text, timeout=5)
        form = open_form(browser, self.event.slug)
        text_q = self.db.sql("SELECT id FROM event_questions WHERE kind = 'short_text'").strip()
        photos = self.db.sql("SELECT id FROM event_questions WHERE kind = 'consent'").strip()
        fields = form.fields()
        fields.update({"q" + text_q: "<i>answer</i> & more", "q" + photos: "yes"})
        ticket_token(browser.post("/events/%s/register" % self.event.slug, fields))
        message = email.message_from_bytes(sink.wait_for(1)[0], policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()
        body = message.get_body(("html",)).get_content()
        self.assertIn("%s: <i>answer</i> & more" % HOSTILE, text)
        self.assertRegex(text, r"Photos may be published: yes \(agreed \d{4}-")
        self.assertIn("&lt;i&gt;answer&lt;/i&gt; &amp; more", body)
        self.assertIn("&lt;script&gt;", body)
        self.assertNotIn("<script>", body)

    def test_import_with_answer_columns(self):
        from test_import import run_import
        self.add(kind="multi", label="Workshops", options="Alpha\nBeta")
        self.add(kind="number", label="Age", required="yes")
        self.add(kind="consent", label=HOSTILE)
        base = ["given_name", "family_name", "email", "organisation", "organisation_type",
                "country", "Workshops", "Age", HOSTILE, "Gone (removed)"]

        def write(rows):
            path = os.path.join(self.work, "guests.csv")
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(base)
                w.writerows(rows)
            return path

        good = ["Ada", "L", "ada@example.org", "Org", "research", "BE"]
        # Bad answers: every line's problem said, nothing imported.
        done = run_import(self.db.dsn, self.event.slug, write([
            good + ["Alpha | Omega", "12", "yes", "x"],
            ["Bob", "M", "bob@example.org", "Org", "research", "BE", "", "", "maybe", ""]]))
        self.assertNotEqual(done.returncode, 0)
        err = done.stderr.decode()
        self.assertIn("line 2: Workshops: Choose answers from the list", err)
        self.assertIn("line 3: Age: Answer this question", err)
        self.assertIn("Tick the box", err)
        self.assertEqual(self.db.sql("SELECT count(*) FROM registrations").strip(), "0")
        # Valid: stored as the form stores them.
        done = run_import(self.db.dsn, self.event.slug, write([
            good + ["Beta | Alpha", "12", "yes", "ignored"]]))
        self.assertEqual(done.returncode, 0, done.stderr)
        stored = self.db.sql("SELECT string_agg(a.value, ',' ORDER BY q.position) FROM "
                             "registration_answers a JOIN event_questions q "
                             "ON q.id = a.question_id").strip()
        self.assertEqual(stored, "Alpha | Beta,12,yes")
        self.assertIn(HOSTILE, self.db.sql("SELECT wording FROM registration_answers "
                                           "WHERE wording IS NOT NULL"))


class Door(ServerTestCase):
    """The door shows the answers the organiser picked, online (the API's answer, `admit scan`)
    and offline (the sync snapshot), and a withdrawn consent as "no"."""

    def setUp(self):
        super().setUp()
        dsn = self.db.dsn
        self.event_id, self.lists = checkin_event(dsn, "conf", lists=("Day 1",))
        for label, kind in (("Wheelchair", "yes_no"), ("Photos may be published", "consent"),
                            ("Not at the door", "short_text")):
            psql(dsn, "SELECT admit_question_save(NULL, 'conf', NULL, '%s', '%s', '', false, "
                      "'{}', %s)" % (kind, label, "true" if label != "Not at the door" else
                                     "false"))
        self.regs = register_sql(dsn, "conf", 3, [self.lists["Day 1"]])
        ids = dict(line.split("|") for line in psql(
            dsn, "SELECT label, id FROM event_questions").strip().splitlines())
        # The first: wheelchair, photos agreed; the second: photos agreed then withdrawn; the
        # third: nothing answered.
        for reg, answers in ((self.regs[0], {"Wheelchair": "yes",
                                             "Photos may be published": "yes",
                                             "Not at the door": "secret"}),
                             (self.regs[1], {"Photos may be published": "yes"})):
            body = ",".join('"%s": "%s"' % (ids[k], v) for k, v in answers.items())
            psql(dsn, "SELECT admit_answers_save(%d, 'created', '{%s}')" % (reg, body))
        token = psql(dsn, "SELECT token FROM registrations WHERE id = %d" % self.regs[1]).strip()
        self.assertEqual(psql(dsn, "SELECT admit_consent_withdraw('%s', %s)"
                                   % (token, ids["Photos may be published"])).strip(), "t")
        signer = TicketSigner(self.keys)
        self.tickets = [signer.ticket(self.event_id, r) for r in self.regs]
        self.token = add_device(dsn, "conf", "Gate A")
        self.server = self.start_admitd()
        self.state = os.path.join(self.work, "state")
        self.expected = ["Wheelchair: yes · Photos may be published: yes",
                         "Wheelchair: — · Photos may be published: no",
                         "Wheelchair: — · Photos may be published: no"]

    def args(self, *extra):
        return ["--server", "http://127.0.0.1:%d" % self.server.port, "--list", "Day 1",
                "--color", "never", "--token", self.token] + list(extra)

    def test_online_api_and_scan_screen(self):
        r, body = api_call(self.server, "POST", "/api/v1/checkins", self.token, {
            "payload": self.tickets[0], "list": "Day 1", "nonce": new_nonce()})
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual((body["verdict"], body["door"]), ("valid", self.expected[0]))
        done = run_scan(self.args("--timeout", "20000"), self.tickets[1:2], state=self.state)
        self.assertIn("[%s]" % self.expected[1], done.stdout)
        self.assertNotIn("secret", done.stdout)

    def test_offline_snapshot(self):
        scanner = ScannerProcess(self.args("--timeout", "1500"), self.state, self.work)
        a = scanner.scan(self.tickets[2])
        self.assertEqual((a["verdict"], a["offline"], a.get("door")),
                         ("valid", False, self.expected[2]))
        self.assertEqual(self.server.stop(), 0)
        for i in (0, 1):
            a = scanner.scan(self.tickets[i])
            self.assertEqual((a["verdict"], a["offline"], a.get("door")),
                             ("valid", True, self.expected[i]))
        snapshot = "".join(open(os.path.join(root, f), errors="replace").read()
                           for root, _, files in os.walk(self.state) for f in files
                           if "snapshot" in f)
        self.assertNotIn("secret", snapshot)


if __name__ == "__main__":
    harness.main()
