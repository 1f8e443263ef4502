#!/usr/bin/env python3
"""Bugs found while testing registration (issue 3), each shown by a test that fails until it is
fixed. They are kept apart so that the ctest tests of the issue's own list stay meaningful; once
a bug is fixed its test stays here as a regression test.

1. Real browsers cannot post any form: pages carry Referrer-Policy: no-referrer, under which a
   browser sends "Origin: null" with a same-site form POST, and admitd refuses "null" as
   another site (403, note=csrf-origin). tests/browser (browser_registration) shows it in
   Chromium.
2. A textarea note at its maxlength with a line break in it is refused: the browser counts a
   line break as one character, sends it as CR LF, and admitd counts two.
3. A statement that fails in PostgreSQL (not a lost connection) makes admit_db_query read the
   SQLSTATE out of the result it has just freed (lib/core/db.c: PQclear(res), then
   strcmp(state, "23505")): a heap use-after-free, which the sanitizer build turns into a
   crash of admitd. The test fails in the ASan build (and passes by luck in the normal one).
"""

import harness
from harness import Browser, ServerTestCase, create_event, open_form, ticket_token


class RegistrationBugs(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn)
        self.server = self.start_admitd()
        self.register_path = "/events/%s/register" % self.event.slug

    def stored(self):
        return int(self.db.sql("SELECT count(*) FROM registrations").strip())

    def test_what_browsers_send_with_a_form(self):
        """Bug 1. Fetch standard, "serializing a request origin": when the request's referrer
        policy is no-referrer, a POST carries "Origin: null" even to its own site. Chromium 156
        sends exactly that, with Sec-Fetch-Site: same-origin (which pages cannot forge), and gets
        403 "This form was sent from another site" on /events/SLUG/register and
        /tickets/TOKEN/cancel. This test sends what a browser sends under the Referrer-Policy
        the pages really carry, so it passes with either fix: a policy under which same-site
        posts keep their Origin (same-origin, strict-origin, ...: the ticket token never
        leaves the site under those either), or accepting "Origin: null" when Sec-Fetch-Site
        is same-origin."""
        browser = Browser(self.server)
        page = browser.get("/events/" + self.event.slug)

        def browser_headers(response, site="same-origin"):
            policy = response.header("Referrer-Policy")
            origin = "http://%s:%d" % (self.server.host, self.server.port)
            if policy == "no-referrer" or site != "same-origin":
                origin = "null"
            return {"Origin": origin, "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate",
                    "Sec-Fetch-Dest": "document", "Sec-Fetch-User": "?1"}

        fields = harness.RegistrationForm(page.text).fields()
        # From another site the same post must stay refused, whatever the fix.
        refused = browser.post(self.register_path, fields, browser_headers(page, "cross-site"))
        self.assertEqual(refused.status, 403)
        self.assertEqual(self.stored(), 0)
        response = browser.post(self.register_path, fields, browser_headers(page))
        self.assertEqual(response.status, 303, "a browser's own form post was refused (%d)"
                         % response.status)
        token = ticket_token(response)
        page = browser.get("/tickets/%s/cancel" % token)
        csrf = harness.hidden_field(page.text, "csrf_token")
        response = browser.post("/tickets/%s/cancel" % token, {"csrf_token": csrf},
                                browser_headers(page))
        self.assertEqual(response.status, 303, "a browser's cancel form was refused")

    def test_line_breaks_count_as_one_character(self):
        """Bug 2. The textareas say maxlength="500", and a browser counts a line break there as
        one character, but sends it as CR LF (HTML form submission); admitd counts two and
        answers 422 "This is too long" to a note the browser let through (Chromium 156: 300
        characters, a line break and 199 more have value.length 500 and validity.tooLong
        false). Line breaks should be normalised to LF (as the HTML standard's textarea value
        is) before a value is checked and stored: the database's length CHECK counts the same
        way."""
        browser = Browser(self.server)
        fields = open_form(browser, self.event.slug).fields(
            dietary="a" * 300 + "\r\n" + "b" * 199)  # as the browser sends it
        response = browser.post(self.register_path, fields)
        self.assertEqual(response.status, 303, "a note the browser accepted was refused (%d)"
                         % response.status)
        token = ticket_token(response)
        self.assertEqual(self.db.sql("SELECT length(dietary) FROM registrations WHERE token ="
                                     " '%s'" % token).strip(), "500")

    def test_database_error_answers_500(self):
        """Bug 3. Faults injected with psql: a CHECK constraint (SQLSTATE 23514) and a trigger
        that raises unique_violation (23505, the ADMIT_ERR_CONFLICT path). Each registration
        must get a 500 page, store nothing and leave admitd running; at the end admitd must
        still exit 0 on SIGTERM (in the ASan build the use-after-free aborts it at the first
        one). The fix is one line in admit_db_query: compare db->sqlstate, which set_error
        copied, instead of state, which points into the freed result."""
        self.db.sql("ALTER TABLE registrations ADD CONSTRAINT test_no_mallory"
                    " CHECK (given_name <> 'Mallory')")
        self.db.sql("CREATE FUNCTION test_refuse_eve() RETURNS trigger LANGUAGE plpgsql AS $$"
                    " BEGIN IF NEW.given_name = 'Eve' THEN RAISE unique_violation"
                    " USING MESSAGE = 'injected'; END IF; RETURN NEW; END $$")
        self.db.sql("CREATE TRIGGER test_refuse_eve BEFORE INSERT ON registrations"
                    " FOR EACH ROW EXECUTE FUNCTION test_refuse_eve()")
        for name, sqlstate in [("Mallory", "23514"), ("Eve", "23505")]:
            browser = Browser(self.server)
            fields = open_form(browser, self.event.slug).fields(given_name=name)
            response = browser.post(self.register_path, fields)
            self.assertEqual(response.status, 500, name)
            self.assertIn("Internal error", response.text)
            self.assertTrue(self.server.alive(), "admitd died: %s" % self.server.log_text()[-3000:])
            self.assertEqual(self.stored(), 0)
            self.assertTrue(harness.wait_until(
                lambda: "sqlstate=" + sqlstate in self.server.log_text()))
        self.assertEqual(self.server.get("/healthz").status, 200)
        self.assertEqual(self.server.stop(), 0, self.server.log_text()[-3000:])


if __name__ == "__main__":
    harness.main()
