#!/usr/bin/env python3
"""Text that spoofs its own display, black box (issue 14, item 8): bidirectional controls
(U+202A-202E, U+2066-2069), zero-width and other invisible format characters (Unicode category
Cf), line and paragraph separators and the other default-ignorable characters are refused in
every text people type that others see, by one rule (lib/core/text.c), from every entry point: the
registration form, `admit import`, the organisers' event form, `admit event create`, device
names, and the check-in API's list and gate names. A value made only of invisible characters or
blanks does not count as filled in. Scripts that need a joiner (Persian, Indic, emoji sequences)
keep it. A %00 in a path is a 400, not the page of the path cut at the NUL.
"""


import harness
from harness import (ServerTestCase, TicketSigner, add_device, api_call, checkin_event,
                     create_event, new_nonce, psql, register, register_sql,
                     registration_form_state, run_admit)
from test_admin import add_admin, admin_post, logged_in
from test_admin_pages import event_fields
from test_import import refused_import

INVISIBLE = ("This holds invisible characters (such as a right-to-left mark or a zero-width "
             "space) that can make it show as something else: type it again rather than "
             "pasting it")

# One of each kind the rule refuses, inside otherwise ordinary text.
SPOOFS = {
    "right-to-left override": "Ada\u202eecilA",
    "left-to-right embedding": "\u202aAda",
    "pop directional formatting": "Ada\u202c",
    "first-strong isolate": "\u2068Ada\u2069",
    "right-to-left isolate": "\u2067Ada\u2069",
    "right-to-left mark": "Ada\u200f",
    "zero-width space": "A\u200bda",
    "zero-width no-break space": "\ufeffAda",
    "word joiner": "A\u2060da",
    "soft hyphen": "Lov\u00adelace",
    "Arabic letter mark": "Ada\u061c",
    "tag character": "Ada\U000e0041",
    "line separator": "Ada\u2028Lovelace",
    "paragraph separator": "Ada\u2029",
    "Hangul filler": "Ada\u3164",
    "zero-width joiner between Latin and a space": "Ada\u200d Lovelace",
}

# Accepted: joiners where a script or an emoji sequence needs them, and ordinary text.
GOOD_NAMES = [
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with a zero-width non-joiner
    "\u0915\u094d\u200d\u0937",                            # Devanagari, with a zero-width joiner
    "\U0001f469\u200d\U0001f52c Ada",                      # emoji ZWJ sequence
    "\u2764\ufe0f Z\u00f6e",                               # variation selector
    "Ren\u00e9e O'Brien-Smith",
]

BLANKS = ["\u00a0\u00a0", "\u3000", "\u2800", "\u0301", "\u200b\u200b"]


class InputRules(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, capacity=100, name="Input Rules")
        self.server = self.start_admitd()

    def count(self, sql):
        return int(self.db.sql(sql).strip())

    def test_registration_form(self):
        for kind, text in SPOOFS.items():
            for field in ["given_name", "family_name", "organisation", "dietary",
                          "accessibility"]:
                _, form, r = register(self.server, self.event.slug, **{field: text})
                self.assertEqual(r.status, 422, (kind, field))
                state = registration_form_state(r.text)
                self.assertEqual(state["errors"].get(field), INVISIBLE, (kind, field))
                self.assertEqual(state["values"][field], text)  # kept, as typed
        # Nothing visible: not filled in.
        for blank in BLANKS:
            _, _, r = register(self.server, self.event.slug, given_name=blank)
            self.assertEqual(r.status, 422, repr(blank))
            error = registration_form_state(r.text)["errors"]["given_name"]
            self.assertIn(error, ["Enter your given name", INVISIBLE], repr(blank))
        self.assertEqual(self.count("SELECT count(*) FROM registrations"), 0)
        for name in GOOD_NAMES:
            _, _, r = register(self.server, self.event.slug, given_name=name,
                               dietary="vegan " + name)
            harness.ticket_token(r)
        self.assertEqual(self.count("SELECT count(*) FROM registrations"), len(GOOD_NAMES))

    def test_import(self):
        err = refused_import(self, self.event.slug,
                             "Ada,Lovelace,ada@example.org,Engines,research,BE,\r\n"
                             "Eve,Evil\u202e,eve@example.org,Uni,research,DE,\r\n"
                             "\u200b,Blank,blank@example.org,Uni,research,FR,\r\n"
                             "\u00a0,Spaces,spaces@example.org,Uni,research,FR,\r\n")
        self.assertIn("line 3: family_name: " + INVISIBLE, err)
        self.assertIn("line 4: given_name: " + INVISIBLE, err)
        self.assertIn("line 5: given_name: Enter your given name", err)

    def test_admin_event_form_and_event_create(self):
        add_admin(self.db.dsn, "boss@example.org")
        browser = logged_in(self.server, "boss@example.org")
        cases = [({"name": "Summit\u202e"}, "name", INVISIBLE),
                 ({"venue": "Museum\u200b"}, "venue", INVISIBLE),
                 ({"description": "Two\u2066 days"}, "description", INVISIBLE),
                 ({"name": "\u2800"}, "name", "Enter the event"),
                 ({"list_name": ["Day 1", "Cluster\u2067 session"]}, "lists", INVISIBLE),
                 ({"list_name": ["Day 1", "\u00a0"]}, "lists", "cannot be blank")]
        for change, field, message in cases:
            r = admin_post(browser, "/admin/events/new", "/admin/events/new",
                           event_fields(**change))
            self.assertEqual(r.status, 422, change)
            error = harness.parse_html(r.text).by_id("error-" + field)
            self.assertIsNotNone(error, change)
            self.assertIn(message, error.text(), change)
        self.assertEqual(self.count("SELECT count(*) FROM events"), 1)
        # The command line: the same rule.
        for args, message in [(["--name", "Summit\u202e"], "invisible characters"),
                              (["--name", "\u200b"], "invisible characters"),
                              (["--name", "\u00a0"], "name: "),
                              (["--name", "Summit", "--list", "Day\u200b 1"],
                               "invisible characters")]:
            done = run_admit("event", "create", "--db", self.db.dsn, "--slug", "spoof",
                             "--starts", "2031-01-01 09:00", "--ends", "2031-01-01 18:00",
                             "--capacity", "10", "--tz", "Europe/Brussels",
                             *(args if "--name" in args else ["--name", "Summit"] + args),
                             check=False)
            self.assertEqual(done.returncode, 2, (args, done.stderr))
            self.assertIn(message, done.stderr)
        self.assertEqual(self.count("SELECT count(*) FROM events"), 1)

    def test_device_names_and_the_api(self):
        dsn = self.db.dsn
        _, lists = checkin_event(dsn, "conf")
        for name, message in [("Gate\u202eA", "invisible characters"),
                              ("\u200b", "invisible characters"),
                              ("\u00a0", "cannot be empty")]:
            done = run_admit("device", "add", "--db", dsn, "--event", "conf", "--name", name,
                             check=False)
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn(message, done.stderr)
        self.assertEqual(self.count("SELECT count(*) FROM devices"), 0)
        token = add_device(dsn, "conf", "Gate A")
        signer = TicketSigner(self.keys)
        event_id = int(psql(dsn, "SELECT id FROM events WHERE slug = 'conf'"))
        reg = register_sql(dsn, "conf", 1, [lists["Day 1"]])[0]
        ticket = signer.ticket(event_id, reg)
        for field, value in [("gate", "North\u202e"), ("gate", "\u2066x\u2069"),
                             ("list", "Day 1\u200b"), ("gate", "\u00a0")]:
            body = {"payload": ticket, "list": "Day 1", "nonce": new_nonce(), field: value}
            r, answer = api_call(self.server, "POST", "/api/v1/checkins", token, body)
            self.assertEqual(r.status, 400, (field, value, r.text))
            self.assertEqual(answer["error"]["code"], "invalid_value")
            self.assertIn('"%s"' % field, answer["error"]["message"])
        good = {"payload": ticket, "list": "Day 1", "nonce": new_nonce()}
        r, answer = api_call(self.server, "POST", "/api/v1/checkins", token,
                             {"scans": [dict(good, nonce=new_nonce(), gate="A\u200bB"), good]})
        self.assertEqual(r.status, 200)
        self.assertEqual(answer["results"][0]["error"]["code"], "invalid_value")
        self.assertIn("invisible", answer["results"][0]["error"]["message"])
        self.assertEqual(answer["results"][1]["verdict"], "valid")
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 1)

    def test_nul_in_a_path_is_400(self):
        slug = self.event.slug
        self.assertEqual(self.server.get("/events/%s" % slug).status, 200)
        for path in ["/events/%s%%00anything" % slug, "/events/%s%%00" % slug, "/healthz%00",
                     "/static/style.css%00.png", "/%00", "/events/%00/register"]:
            r = self.server.get(path)
            self.assertEqual(r.status, 400, path)
            self.assertSecurityHeaders(r)
            self.assertIn("%00", r.text)
        r = self.server.request("POST", "/admin/login%00", body="x=1",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 400)
        # An encoded NUL is refused wherever it is; other escapes are decoded as before.
        self.assertEqual(self.server.get("/events/%s%%2500" % slug).status, 404)
        self.assertEqual(self.server.get("/%%65vents/%s" % slug).status, 200)


if __name__ == "__main__":
    harness.main()
