#!/usr/bin/env python3
"""Registration pages against a hostile client, black box (issue 3): CSRF refusals on every form
route, request bodies over the limit, script in every text a person can type, the security
headers and caching of each page, and a request log free of secrets and personal data.

Each test gets a fresh database, an event and its own admitd (see test_registration.py).
"""

import secrets
from urllib.parse import urlencode

import harness
from harness import (Browser, ServerTestCase, create_event, decode_qr_png, open_form, parse_html,
                     raw_exchange, register, registration_form_state, ticket_token)

FORBIDDEN_TITLE = "Form not accepted"


class SecurityCase(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Research Conference 2027")
        self.server = self.start_admitd()
        self.register_path = "/events/%s/register" % self.event.slug

    def stored(self):
        row = self.db.sql("SELECT (SELECT count(*) FROM registrations),"
                          " (SELECT count(*) FROM registration_lists),"
                          " (SELECT count(*) FROM registrations WHERE status = 'cancelled')")
        return tuple(int(v) for v in row.strip().split("|"))

    def assertForbidden(self, response, label):
        self.assertEqual(response.status, 403, "%s: %r %s" % (label, response,
                                                                response.text[:200]))
        self.assertIn(FORBIDDEN_TITLE, response.text, label)
        self.assertIsNone(response.header("Location"), label)
        self.assertSecurityHeaders(response)

    def origin(self):
        return "http://%s:%d" % (self.server.host, self.server.port)


class Csrf(SecurityCase):

    def cancel_form_token(self, browser, token):
        page = browser.get("/tickets/%s/cancel" % token)
        self.assertEqual(page.status, 200)
        return harness.hidden_field(page.text, "csrf_token")

    def test_register_route(self):
        mine, theirs = Browser(self.server), Browser(self.server)
        form, their_form = open_form(mine, self.event.slug), open_form(theirs, self.event.slug)
        self.assertNotEqual(mine.cookies, theirs.cookies)
        # A ticket, so that this browser can get a token of the other form (cancel).
        _, _, response = register(self.server, self.event.slug)
        cancel_token = self.cancel_form_token(mine, ticket_token(response))
        before = self.stored()

        fields = form.fields()
        body = urlencode(fields, doseq=True)
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        self.assertForbidden(self.server.request("POST", self.register_path, body, form_type),
                             "no cookie")
        self.assertForbidden(self.server.request(
            "POST", self.register_path, body,
            dict(form_type, Cookie="admit_csrf=" + secrets.token_urlsafe(16))),
            "a cookie of our own")
        self.assertForbidden(mine.post(self.register_path,
                                       dict(fields, csrf_token=their_form.csrf_token)),
                             "another browser's token")
        self.assertForbidden(theirs.post(self.register_path, fields), "token sent by another")
        self.assertForbidden(mine.post(self.register_path, dict(fields, csrf_token=cancel_token)),
                             "the cancel form's token")
        for token in [None, "", "x", form.csrf_token[:-1], form.csrf_token + "A",
                      form.csrf_token.swapcase()]:
            changed = dict(fields)
            if token is None:
                del changed["csrf_token"]
            else:
                changed["csrf_token"] = token
            self.assertForbidden(mine.post(self.register_path, changed), "token %r" % token)
        for origin in ["http://evil.example", "https://evil.example", "null",
                       "http://%s:%d" % (self.server.host, self.server.port + 1),
                       "http://localhost:%d" % self.server.port,
                       self.origin() + ".evil.example", "http://evil.example/" + self.origin()]:
            self.assertForbidden(mine.post(self.register_path, fields, {"Origin": origin}),
                                 "Origin %s" % origin)
        self.assertEqual(self.stored(), before, "a refused form stored something")
        # Wait for the seven Origin refusals, the last requests, to be logged.
        self.server.wait_request_lines(lambda line: line.get("note") == "csrf-origin", 7)
        notes = {line.get("note") for line in self.server.request_lines()
                 if line["status"] == "403"}
        self.assertEqual(notes, {"csrf-no-cookie", "csrf-token", "csrf-origin"})

        # The right cookie and token pass, with or without this site's Origin.
        ticket_token(mine.post(self.register_path, fields))
        ticket_token(mine.post(self.register_path, open_form(mine, self.event.slug).fields(),
                               {"Origin": self.origin()}))
        self.assertEqual(self.stored()[0], before[0] + 2)

    def test_cancel_route(self):
        mine, theirs = Browser(self.server), Browser(self.server)
        _, _, response = register(self.server, self.event.slug)
        token = ticket_token(response)
        _, _, response = register(self.server, self.event.slug)
        their_ticket = ticket_token(response)
        cancel_token = self.cancel_form_token(mine, token)
        their_token = self.cancel_form_token(theirs, their_ticket)
        register_token = open_form(mine, self.event.slug).csrf_token
        path = "/tickets/%s/cancel" % token
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        before = self.stored()

        self.assertForbidden(self.server.request("POST", path, "csrf_token=" + cancel_token,
                                                 form_type), "no cookie")
        self.assertForbidden(mine.post(path, {"csrf_token": their_token}),
                             "another browser's token")
        self.assertForbidden(theirs.post(path, {"csrf_token": cancel_token}),
                             "token sent by another")
        self.assertForbidden(mine.post(path, {"csrf_token": register_token}),
                             "the register form's token")
        self.assertForbidden(mine.post(path, {}), "no token")
        self.assertForbidden(mine.request("POST", path), "no body")
        for origin in ["http://evil.example", "null", "http://localhost:%d" % self.server.port]:
            self.assertForbidden(mine.post(path, {"csrf_token": cancel_token},
                                           {"Origin": origin}), "Origin %s" % origin)
        self.assertEqual(self.stored(), before)
        self.assertEqual(self.db.sql("SELECT status, cancelled_at IS NULL FROM registrations"
                                     " WHERE token = '%s'" % token).strip(), "confirmed|t")

        done = mine.post(path, {"csrf_token": cancel_token}, {"Origin": self.origin()})
        self.assertEqual(done.status, 303)
        self.assertEqual(done.header("Location"), "/tickets/%s?cancelled=1" % token)
        self.assertEqual(self.db.sql("SELECT status FROM registrations WHERE token = '%s'"
                                     % token).strip(), "cancelled")
        self.assertEqual(self.db.sql("SELECT status FROM registrations WHERE token = '%s'"
                                     % their_ticket).strip(), "confirmed")

    def test_host_prefix_under_https(self):
        """Issue 14, item 9: under an https --public-url the CSRF cookie is __Host-admit_csrf
        (Secure, Path=/, no Domain), as the session cookie is; a plain admit_csrf cookie (which
        a sibling domain or a plain-http page could have planted) counts for nothing."""
        server = self.start_admitd("--public-url", "https://tickets.example.org")
        browser = Browser(server)
        page = browser.get("/events/" + self.event.slug)
        self.assertEqual(page.status, 200)
        cookie = page.header("Set-Cookie")
        self.assertRegex(cookie, r"^__Host-admit_csrf=[A-Za-z0-9_-]{22}; Path=/; HttpOnly; "
                                 r"SameSite=Strict; Secure$")
        self.assertNotIn("admit_csrf", browser.cookies)
        form = harness.RegistrationForm(page.text).fields()
        planted = Browser(server)
        planted.cookies["admit_csrf"] = browser.cookies["__Host-admit_csrf"]
        self.assertForbidden(planted.post(self.register_path, form), "the plain cookie name")
        self.assertEqual(self.stored()[0], 0)
        done = browser.post(self.register_path, form)
        ticket_token(done)
        # The admin login form uses the same cookie.
        login = Browser(server)
        self.assertRegex(login.get("/admin/login").header("Set-Cookie") or "",
                         r"^__Host-admit_csrf=")


class BodyLimit(SecurityCase):
    """admitd's default --body-limit is 65536 bytes."""

    LIMIT = 65536

    def test_oversize_registration(self):
        browser = Browser(self.server)
        form = open_form(browser, self.event.slug)
        before = self.stored()
        # Declared with Content-Length: refused before the body is read.
        response = browser.post(self.register_path, form.fields(dietary="x" * 70000))
        self.assertEqual(response.status, 413)
        self.assertIn("at most %d bytes" % self.LIMIT, response.text)
        self.assertSecurityHeaders(response)
        self.assertEqual(self.stored(), before)
        # Chunked, without a length: counted as it arrives, 413 at its end.
        body = urlencode(form.fields(accessibility="y" * 80000), doseq=True).encode()
        head = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/x-www-form-"
                "urlencoded\r\nTransfer-Encoding: chunked\r\nCookie: admit_csrf=%s\r\n"
                "Connection: close\r\n\r\n" % (self.register_path, self.server.host,
                                               self.server.port, browser.cookies["admit_csrf"]))
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 4096]), body[i:i + 4096])
                          for i in range(0, len(body), 4096))
        with self.server.socket(timeout=30) as s:
            data = raw_exchange(s, head.encode() + chunks + b"0\r\n\r\n", timeout=30)
        self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:200])
        self.assertEqual(self.stored(), before)
        # At the limit exactly the form is read (an unknown field pads it), and registers.
        fields = form.fields()
        body = urlencode(fields, doseq=True) + "&padding="
        fields["padding"] = "p" * (self.LIMIT - len(body))
        self.assertEqual(len(urlencode(fields, doseq=True)), self.LIMIT)
        ticket_token(browser.post(self.register_path, fields))
        # One byte more is too much.
        fields = open_form(browser, self.event.slug).fields()
        body = urlencode(fields, doseq=True) + "&padding="
        fields["padding"] = "p" * (self.LIMIT + 1 - len(body))
        self.assertEqual(browser.post(self.register_path, fields).status, 413)
        self.assertEqual(self.stored()[0], before[0] + 1)
        self.assertEqual(self.server.get("/healthz").status, 200)


# Text a person may type, that must come back as text.
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
QUOTE = "' onmouseover='x"
ESCAPED = "&lt;b&gt; already &amp; escaped &#39;"
SVG = "<svg onload=alert(1)>"


class Escaping(SecurityCase):

    def assertInert(self, html, raw, label):
        """No payload made it into the page as markup."""
        for payload in [SCRIPT, IMG, QUOTE, SVG, "<script", "<img src=x", "<svg onload"]:
            self.assertFalse(payload in html, "%s: %r appears raw" % (label, payload))
        for escaped in raw:
            self.assertTrue(escaped in html, "%s: %r missing" % (label, escaped))
        # And as markup: no script element, no event-handler attribute anywhere.
        doc = parse_html(html)
        self.assertEqual(doc.find_all("script"), [], label)
        for node in doc.iter():
            self.assertFalse([a for a in node.attrs if a.startswith("on")],
                             "%s: %r" % (label, node))
            self.assertNotEqual(node.attrs.get("src"), "x", label)
        return doc

    def test_ticket_cancel_and_waitlist_pages(self):
        browser, fields, response = register(
            self.server, self.event.slug, given_name=SCRIPT, family_name=IMG,
            organisation=QUOTE, dietary=ESCAPED, accessibility=SVG)
        token = ticket_token(response)
        escaped = ["&lt;script&gt;alert(1)&lt;/script&gt;",
                   "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;", "&#39; onmouseover=&#39;x"]
        page = browser.get("/tickets/%s?welcome=1" % token)
        doc = self.assertInert(page.text, escaped, "ticket page")
        self.assertEqual(doc.find(class_="ticket-name").text(), "%s %s" % (SCRIPT, IMG))
        self.assertEqual(doc.find(class_="ticket-org").text(), QUOTE.strip())
        self.assertIn("Welcome, &lt;script&gt;", page.text)
        page = browser.get("/tickets/%s/cancel" % token)
        self.assertInert(page.text, escaped, "cancel page")
        # Stored as typed: escaping is the page's job, not the database's.
        self.assertEqual(self.db.sql("SELECT given_name || '|' || dietary FROM registrations"
                                     " WHERE token = '%s'" % token).strip(),
                         SCRIPT + "|" + ESCAPED)
        # The waiting-list page shows the email address too, which may hold ' and &.
        full = create_event(self.db.dsn, capacity=0, name='<b>Full</b> & "Co"')
        email = "o'brien&x='y@example.org"
        browser, _, response = register(self.server, full.slug, given_name=SCRIPT,
                                        family_name=IMG, organisation=QUOTE, email=email)
        page = browser.get("/tickets/%s?welcome=1" % ticket_token(response))
        self.assertIn("You are on the waiting list", page.text)
        self.assertInert(page.text, escaped + ["o&#39;brien&amp;x=&#39;y@example.org",
                                               "&lt;b&gt;Full&lt;/b&gt; &amp; &quot;Co&quot;"],
                         "waiting list page")
        self.assertNotIn("<b>Full</b>", page.text)
        event_page = self.server.get("/events/" + full.slug)
        self.assertNotIn("<b>Full</b>", event_page.text)
        self.assertIn("&lt;b&gt;Full&lt;/b&gt;", event_page.text)

    def test_form_shown_again(self):
        browser = Browser(self.server)
        fields = open_form(browser, self.event.slug).fields(
            given_name=SCRIPT, family_name=IMG, organisation=QUOTE, dietary=ESCAPED,
            accessibility=SVG + "\n" + IMG, consent=None)
        response = browser.post(self.register_path, fields)
        self.assertEqual(response.status, 422)
        self.assertInert(response.text, ["&lt;script&gt;alert(1)&lt;/script&gt;",
                                         "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
                                         "&#39; onmouseover=&#39;x",
                                         "&amp;lt;b&amp;gt; already &amp;amp; escaped"],
                         "form shown again")
        state = registration_form_state(response.text)
        self.assertEqual(state["values"]["given_name"], SCRIPT)
        self.assertEqual(state["values"]["family_name"], IMG)
        self.assertEqual(state["values"]["organisation"], QUOTE.strip())
        self.assertEqual(state["values"]["dietary"], ESCAPED)
        self.assertEqual(state["values"]["accessibility"], SVG + "\n" + IMG)
        self.assertEqual(self.stored(), (0, 0, 0))


class HeadersAndLog(SecurityCase):

    def test_pages_headers_and_log(self):
        browser = Browser(self.server)
        seen = []  # (label, response, must it be no-store)

        def get(label, path, no_store, status=200, client=None):
            response = (client or browser).get(path)
            self.assertEqual(response.status, status, "%s: %r" % (label, response))
            seen.append((label, response, no_store))
            return response

        get("home", "/", False)
        page = get("event page", "/events/" + self.event.slug, True)
        form = harness.RegistrationForm(page.text)
        fields = form.fields(given_name="Zenobia", family_name="Quartermaine",
                             organisation="Xylophone Institute", dietary="kosher-ish")
        response = browser.post(self.register_path, fields)
        seen.append(("registered", response, False))
        token = ticket_token(response)
        get("ticket page", "/tickets/%s?welcome=1" % token, True)
        png = get("qr.png", "/tickets/%s/qr.png" % token, True)
        payload = decode_qr_png(png.body, self.work)
        self.assertIsNotNone(payload)
        get("qr.svg", "/tickets/%s/qr.svg" % token, True)
        cancel_page = get("cancel page", "/tickets/%s/cancel" % token, True)
        refused = browser.post(self.register_path, open_form(browser, self.event.slug).fields(
            email="nope"))
        seen.append(("422", refused, True))
        seen.append(("email taken", register(self.server, self.event.slug,
                                             email=fields["email"])[2], True))
        seen.append(("403", self.server.request("POST", self.register_path), False))
        cancelled = browser.post("/tickets/%s/cancel" % token, {
            "csrf_token": harness.hidden_field(cancel_page.text, "csrf_token")})
        self.assertEqual(cancelled.status, 303)
        seen.append(("cancelled", cancelled, True))
        get("cancelled ticket page", "/tickets/%s?cancelled=1" % token, True)
        get("cancelled qr.png", "/tickets/%s/qr.png" % token, True, 404)
        get("unknown ticket", "/tickets/" + secrets.token_urlsafe(16), True, 404)
        get("unknown event", "/events/no-such-event", False, 404)
        for label, response, no_store in seen:
            self.assertSecurityHeaders(response)
            if no_store:
                self.assertEqual(response.header("Cache-Control"), "no-store", label)
            if response.status >= 400:
                self.assertIn("text/html", response.header("Content-Type"), label)

        # The log: one line per request, and none of the secrets or personal data.
        self.assertTrue(harness.wait_until(lambda: len(self.server.request_lines()) >= 16))
        log = self.server.log_text()
        secrets_seen = [token, form.form_nonce, form.csrf_token, browser.cookies["admit_csrf"],
                        payload, payload[4:40], fields["email"], fields["email"].split("@")[0],
                        "Zenobia", "Quartermaine", "Xylophone", "kosher",
                        harness.hidden_field(cancel_page.text, "csrf_token")]
        for secret in secrets_seen:
            self.assertNotIn(secret, log)
        for line in self.server.request_lines():
            self.assertNotIn("/tickets/" + token[:4], line["route"])
            self.assertIn(line["route"], {"/", "/events/:slug", "/events/:slug/register",
                                          "/tickets/:token", "/tickets/:token/qr.png",
                                          "/tickets/:token/qr.svg", "/tickets/:token/cancel"})


if __name__ == "__main__":
    harness.main()
