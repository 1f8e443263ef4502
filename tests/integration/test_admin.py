#!/usr/bin/env python3
"""The organisers' area over real HTTP and PostgreSQL: logging in and out, sessions, login
throttling, CSRF, no page or export without a session, and the permission model (an admin limited
to some events gets 404 for every other event, as if it did not exist). test_admin_pages.py covers
what organisers do; test_export.py and test_import.py the CSV files. The helpers here (admins,
logged-in browsers) are imported by those files too.
"""

import base64
import os
import re
import subprocess
import time

import harness
from harness import Browser, ServerTestCase, create_event, hidden_field

PASSWORD = "correct horse battery staple"


def add_admin(dsn, email, password=PASSWORD, events=()):
    """`admit admin add` with the password on standard input (not a terminal)."""
    args = [harness.ADMIT_BIN, "admin", "add", "--db", dsn, "--email", email]
    for slug in events:
        args += ["--event", slug]
    done = subprocess.run(args, input=password + "\n", capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise AssertionError("admit admin add: %s" % done.stderr.strip())
    return done


def csrf_of(response):
    token = hidden_field(response.text, "csrf_token")
    if not token:
        raise AssertionError("no csrf_token on the page (%d): %s" % (response.status,
                                                                     response.text[:300]))
    return token


def login(server, email, password=PASSWORD, browser=None, next_path=None, headers=None):
    """Opens the login page and posts it; returns (browser, response of the POST)."""
    browser = browser or Browser(server)
    page = browser.get("/admin/login" + ("?next=" + next_path if next_path else ""))
    form = {"csrf_token": csrf_of(page), "email": email, "password": password,
            "next": hidden_field(page.text, "next")}
    return browser, browser.post("/admin/login", form, headers=headers)


def logged_in(server, email, password=PASSWORD):
    """A Browser with a live admin session; fails unless the login succeeded."""
    browser, response = login(server, email, password)
    if response.status != 303:
        raise AssertionError("login of %s: %d %s" % (email, response.status, response.text[:300]))
    return browser


def admin_post(browser, page_path, action_path, fields=None):
    """GETs an admin page for its CSRF token, then posts fields to action_path."""
    token = csrf_of(browser.get(page_path))
    form = {"csrf_token": token}
    form.update(fields or {})
    return browser.post(action_path, form)


def admin_act(browser, action_path, fields=None):
    """Does an organiser's action as a person does: GETs its confirmation page (with the list
    of a check-in in the query), then posts the page's CSRF token and key with fields. Returns
    the confirmation page itself when it is not a 200 (the action is not offered)."""
    fields = dict(fields or {})
    query = "?list=" + fields["list"] if "list" in fields else ""
    page = browser.get(action_path + query)
    if page.status != 200:
        return page
    form = {"csrf_token": csrf_of(page), "key": hidden_field(page.text, "key")}
    form.update(fields)
    return browser.post(action_path, form)


def new_key():
    """A form key of the shape admitd makes (a token: 22 base64url characters)."""
    return base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


def session_cookie(browser):
    return browser.cookies.get("admit_session") or browser.cookies.get("__Host-admit_session")


def registration_id(db, email):
    return int(db.sql("SELECT id FROM registrations WHERE email = '%s'" % email).strip())


class Login(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Soil Health Conference")
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()

    def test_login_good_and_bad(self):
        server = self.server
        r = server.get("/admin")
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/admin/login?next=/admin")
        page = server.get("/admin/login")
        self.assertEqual(page.status, 200)
        self.assertIn("script-src 'self'", page.header("Content-Security-Policy"))
        self.assertNotIn("unsafe-inline", page.header("Content-Security-Policy"))
        self.assertEqual(page.header("Cache-Control"), "no-store")
        self.assertIn('autocomplete="current-password"', page.text)

        # Wrong password, unknown account: the same answer, and no session.
        for email, password in [("boss@example.org", "wrong password!!"),
                                ("nobody@example.org", PASSWORD)]:
            browser, r = login(server, email, password)
            self.assertEqual(r.status, 401, r.text[:300])
            self.assertIn("The email address or the password is not right.", r.text)
            self.assertIsNone(session_cookie(browser))
            self.assertEqual(browser.get("/admin").status, 303)
        # Empty fields: messages next to the fields, nothing counted.
        browser = Browser(server)
        token = csrf_of(browser.get("/admin/login"))
        r = browser.post("/admin/login", {"csrf_token": token, "email": "", "password": ""})
        self.assertEqual(r.status, 422)
        self.assertIn("Enter your email address", r.text)
        self.assertIn("Enter your password", r.text)
        self.assertIn('id="error-email"', r.text)

        # The right password: a session cookie, HttpOnly, SameSite=Strict, Path=/, not Secure
        # over plain http (and so without the __Host- prefix, which requires Secure).
        browser, r = login(server, "BOSS@example.org")
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertEqual(r.header("Location"), "/admin")
        cookie = [c for c in r.headers.get_all("Set-Cookie") if c.startswith("admit_session=")]
        self.assertEqual(len(cookie), 1, r.headers.get_all("Set-Cookie"))
        attrs = [a.strip() for a in cookie[0].split(";")]
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Strict", attrs)
        self.assertIn("Path=/", attrs)
        self.assertNotIn("Secure", attrs)
        session_id = session_cookie(browser)
        self.assertRegex(session_id, r"^[A-Za-z0-9_-]{22}$")
        home = browser.get("/admin")
        self.assertEqual(home.status, 200)
        self.assertIn("Soil Health Conference", home.text)
        self.assertIn("boss@example.org", home.text)
        # The database holds only a hash of the session id.
        stored = self.db.sql("SELECT encode(id_hash, 'hex') FROM admin_sessions").split()
        self.assertEqual(len(stored), 1)
        self.assertNotIn(session_id, stored[0])
        self.assertEqual(len(stored[0]), 64)
        # The password is stored as an argon2id hash.
        hashed = self.db.sql("SELECT password_hash FROM admins").strip()
        self.assertTrue(hashed.startswith("$argon2id$"), hashed)
        self.assertNotIn(PASSWORD, hashed)

    def test_next_and_new_session_id_at_login(self):
        server = self.server
        path = "/admin/events/%s/attendees" % self.event.slug
        r = server.get(path)
        self.assertEqual(r.header("Location"), "/admin/login?next=" + path)
        browser, r = login(server, "boss@example.org", next_path=path)
        self.assertEqual(r.header("Location"), path)
        # Another site is never a place to go after login.
        for evil in ["//evil.example/admin", "https://evil.example", "/admin/../x",
                     "/elsewhere", "/administer"]:
            b, r = login(server, "boss@example.org", next_path=evil)
            self.assertEqual(r.status, 303)
            self.assertEqual(r.header("Location"), "/admin", evil)
        # Logging in again gives a new session id; the one the browser came with is ended.
        first = session_cookie(browser)
        browser, r = login(server, "boss@example.org", browser=browser)
        second = session_cookie(browser)
        self.assertNotEqual(first, second)
        stale = Browser(server)
        stale.cookies["admit_session"] = first
        self.assertEqual(stale.get("/admin").status, 303)
        self.assertEqual(browser.get("/admin").status, 200)

    def test_secure_cookie_over_https(self):
        server = self.start_admitd("--public-url", "https://tickets.example.org")
        browser, r = login(server, "boss@example.org")
        self.assertEqual(r.status, 303)
        cookies = r.headers.get_all("Set-Cookie")
        session = [c for c in cookies if c.startswith("__Host-admit_session=")]
        self.assertEqual(len(session), 1, cookies)
        attrs = [a.strip() for a in session[0].split(";")]
        for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"]:
            self.assertIn(attr, attrs)
        self.assertFalse(any(a.lower().startswith("domain=") for a in attrs))
        self.assertEqual(browser.get("/admin").status, 200)
        # The plain name means nothing to this server.
        other = Browser(server)
        other.cookies["admit_session"] = session_cookie(browser)
        self.assertEqual(other.get("/admin").status, 303)


class Throttling(ServerTestCase):

    def setUp(self):
        super().setUp()
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()

    def bump(self, kind):
        """Two more failures for kind: the wait becomes seconds rather than the first 1 s, which
        a slow (sanitizer) build could outlast between two requests."""
        self.db.sql("UPDATE admin_login_throttle SET failures = failures + 2 WHERE kind = '%s'"
                    % kind)

    def age_failures(self, seconds):
        """Moves every recorded failure back in time (instead of sleeping)."""
        self.db.sql("UPDATE admin_login_throttle SET last_failure_at = last_failure_at"
                    " - interval '%d seconds'" % seconds)

    def test_per_account_delay_is_capped_and_reset_by_success(self):
        server = self.server
        # Three failures are free, the fourth attempt must wait.
        for _ in range(3):
            _, r = login(server, "boss@example.org", "not the password")
            self.assertEqual(r.status, 401)
        _, r = login(server, "boss@example.org", "not the password")
        self.assertEqual(r.status, 401)  # the 4th failure is counted...
        self.bump("account")
        _, r = login(server, "boss@example.org")  # ...and now even the right password waits
        self.assertEqual(r.status, 429, r.text[:200])
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        self.assertIn("Too many failed attempts", r.text)
        self.assertIsNone(session_cookie(_))
        # An attacker keeps failing: the delay grows, but never beyond a minute.
        self.db.sql("UPDATE admin_login_throttle SET failures = 500 WHERE kind = 'account'")
        _, r = login(server, "boss@example.org")
        self.assertEqual(r.status, 429)
        self.assertLessEqual(int(r.header("Retry-After")), 60)
        self.assertGreater(int(r.header("Retry-After")), 30)
        # A minute later the real user gets in, and that resets the account's counter.
        self.age_failures(61)
        browser, r = login(server, "boss@example.org")
        self.assertEqual(r.status, 303, r.text[:200])
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_login_throttle"
                                     " WHERE kind = 'account'").strip(), "0")
        # Throttled attempts were refused without a password check: still 500 + 1 counted
        # before the reset, none after.
        self.assertIn("admitd: ", server.log_text())
        self.assertGreaterEqual(server.log_text().count("note=throttled"), 2)

    def test_unknown_accounts_are_throttled_alike(self):
        for email in ["boss@example.org", "ghost@example.org"]:
            for _ in range(4):
                login(self.server, email, "not the password")
            self.bump("account")
            _, r = login(self.server, email, "not the password")
            self.assertEqual(r.status, 429, email)
            self.age_failures(3600)

    def test_a_success_is_not_a_failure(self):
        """Each attempt is counted before its password is checked (issue 14); a success takes
        its count back: the address keeps exactly its failures and the time of the last one,
        the account's are forgotten, and a throttled attempt counts nothing."""
        for email in ["a@example.org", "b@example.org", "boss@example.org"]:
            _, r = login(self.server, email, "not the password")
            self.assertEqual(r.status, 401)
        ip = "SELECT failures || '|' || last_failure_at FROM admin_login_throttle WHERE kind = 'ip'"
        before = self.db.sql(ip).strip()
        self.assertTrue(before.startswith("3|"), before)
        browser, r = login(self.server, "boss@example.org")
        self.assertEqual(r.status, 303)
        self.assertEqual(self.db.sql(ip).strip(), before)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_login_throttle"
                                     " WHERE key = 'boss@example.org'").strip(), "0")
        self.db.sql("UPDATE admin_login_throttle SET failures = 12 WHERE kind = 'ip'")
        _, r = login(self.server, "fresh@example.org", "not the password")
        self.assertEqual(r.status, 429)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_login_throttle"
                                     " WHERE key = 'fresh@example.org'").strip(), "0")
        self.assertEqual(self.db.sql("SELECT failures FROM admin_login_throttle"
                                     " WHERE kind = 'ip'").strip(), "12")

    def test_per_address_is_harsher(self):
        server = self.server
        # One address trying many accounts: ten failures are free, then everything from that
        # address waits, even a first try at another account, and up to ten minutes.
        for i in range(10):
            _, r = login(server, "user%d@example.org" % i, "not the password")
            self.assertEqual(r.status, 401)
        _, r = login(server, "fresh@example.org", "not the password")
        self.assertEqual(r.status, 401)
        self.bump("ip")
        _, r = login(server, "boss@example.org")
        self.assertEqual(r.status, 429)
        self.db.sql("UPDATE admin_login_throttle SET failures = 500 WHERE kind = 'ip'")
        _, r = login(server, "boss@example.org")
        retry = int(r.header("Retry-After"))
        self.assertGreater(retry, 60)
        self.assertLessEqual(retry, 600)
        self.age_failures(601)
        _, r = login(server, "boss@example.org")
        self.assertEqual(r.status, 303)


class ParallelGuesses(ServerTestCase):
    """Issue 14, item 3: the wait check and the counting of a failure were two round trips with
    the password check between them, so 60 guesses sent at once against one account got 20
    checked where sequential guessing gets 4. Now the attempt is counted in the same statement
    that checks the wait, before the password is: parallel guesses are checked exactly as
    sequential ones, per account and per address."""

    GUESSES = 60

    def setUp(self):
        super().setUp()
        add_admin(self.db.dsn, "boss@example.org")
        # Threads enough for the guesses to overlap inside admitd, where the race was.
        self.server = self.start_admitd("--threads", "8", "--per-ip-connections", "256")

    def burst(self, emails):
        """Posts one wrong guess per email, all at once (released together), with one browser's
        cookie and token; returns (statuses, seconds from the first to the last answer)."""
        import threading
        from urllib.parse import urlencode
        browser = Browser(self.server)
        token = csrf_of(browser.get("/admin/login"))
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Cookie": "; ".join("%s=%s" % kv for kv in browser.cookies.items())}
        start = threading.Barrier(len(emails))
        statuses = [None] * len(emails)
        times = [None] * len(emails)

        def guess(i):
            body = urlencode({"csrf_token": token, "email": emails[i],
                              "password": "not the password %d" % i})
            conn = self.server.connection(timeout=120)
            conn.connect()  # connected before the barrier: the requests leave together
            start.wait()
            try:
                conn.request("POST", "/admin/login", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                statuses[i] = response.status
                times[i] = time.monotonic()
            finally:
                conn.close()

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(emails))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return statuses, max(times) - min(times)

    def assertCheckedAsSequential(self, statuses, duration, free):
        """free failures pass, then one more (the wait is counted from it): each further one
        waits 1, 2, 4 ... seconds. A burst longer than those waits may have one more per wait
        that ran out meanwhile (a slow build); never the race's dozens."""
        self.assertEqual(set(statuses) - {401, 429}, set(), statuses)
        checked = statuses.count(401)
        allowed = free + 1 + sum(1 for total in (1, 3, 7, 15, 31) if duration >= total)
        self.assertGreaterEqual(checked, free + 1, statuses)
        self.assertLessEqual(checked, allowed, "%d checked in %.2f s" % (checked, duration))

    def test_one_account(self):
        statuses, duration = self.burst(["boss@example.org"] * self.GUESSES)
        self.assertCheckedAsSequential(statuses, duration, free=3)
        self.assertEqual(int(self.db.sql("SELECT failures FROM admin_login_throttle"
                                         " WHERE kind = 'account'")), statuses.count(401))
        # The real user waits as told (at most a minute) and gets in.
        _, r = login(self.server, "boss@example.org")
        self.assertEqual(r.status, 429)
        retry = int(r.header("Retry-After"))
        self.assertLessEqual(retry, 60)
        time.sleep(retry + 0.5)
        _, r = login(self.server, "boss@example.org")
        self.assertEqual(r.status, 303, r.text[:200])

    def test_one_address_many_accounts(self):
        emails = ["user%d@example.org" % i for i in range(self.GUESSES)]
        statuses, duration = self.burst(emails)
        self.assertCheckedAsSequential(statuses, duration, free=10)
        self.assertEqual(int(self.db.sql("SELECT failures FROM admin_login_throttle"
                                         " WHERE kind = 'ip'")), statuses.count(401))


class BehindAProxy(ServerTestCase):
    """--trusted-proxy: the per-address throttle counts the client the proxy names (the last
    address of X-Forwarded-For), only for requests from that proxy, and only a valid address."""

    def setUp(self):
        super().setUp()
        add_admin(self.db.dsn, "boss@example.org")

    def throttled_addresses(self):
        return self.db.sql("SELECT string_agg(key, ',' ORDER BY key) FROM admin_login_throttle"
                           " WHERE kind = 'ip'").strip()

    def fail_once(self, server, forwarded):
        _, r = login(server, "boss@example.org", "not the password",
                     headers={"X-Forwarded-For": forwarded})
        self.assertEqual(r.status, 401)

    def test_forwarded_address_from_the_trusted_proxy(self):
        server = self.start_admitd("--trusted-proxy", "127.0.0.1")
        self.fail_once(server, "203.0.113.7")
        # A client-supplied first address is not believed; the proxy's own (last) one is.
        self.fail_once(server, "198.51.100.66, 2001:DB8:0:0::1")
        self.fail_once(server, "garbage")  # unusable: the proxy itself is the client
        self.assertEqual(self.throttled_addresses(), "127.0.0.1,2001:db8::1,203.0.113.7")

    def test_ignored_without_the_option_or_from_another_peer(self):
        server = self.start_admitd()
        self.fail_once(server, "203.0.113.7")
        self.assertEqual(self.throttled_addresses(), "127.0.0.1")
        self.db.sql("DELETE FROM admin_login_throttle")
        # Trusting some other proxy: this peer (127.0.0.1) is not it.
        other = self.start_admitd("--trusted-proxy", "10.0.0.2")
        self.fail_once(other, "203.0.113.7")
        self.assertEqual(self.throttled_addresses(), "127.0.0.1")

    def test_bad_option(self):
        status, err = harness.start_failure(["--db", self.db.dsn, "--keys", self.keys,
                                             "--trusted-proxy", "proxy.example.org"])
        self.assertEqual(status, 1)
        self.assertIn("--trusted-proxy", err)


class Sessions(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn)
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()

    def test_idle_and_absolute_expiry(self):
        browser = logged_in(self.server, "boss@example.org")
        token = csrf_of(browser.get("/admin"))
        # Idle for more than two hours: gone, and deleted.
        self.db.sql("UPDATE admin_sessions SET last_seen_at = now() - interval '2 hours 1 minute'")
        r = browser.get("/admin/events/%s" % self.event.slug)
        self.assertEqual(r.status, 303)
        self.assertTrue(r.header("Location").startswith("/admin/login?next="))
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_sessions").strip(), "0")
        self.assertEqual(browser.get("/admin/events/%s/registrations.csv"
                                     % self.event.slug).status, 401)
        # A form sent after the session ended leads to the login, and then to the start (its
        # own address takes no GET).
        r = browser.post("/admin/events/%s/edit" % self.event.slug,
                         {"csrf_token": token, "name": "Late"})
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/admin/login?next=/admin")
        # Active all along, but past its twelve hours: gone too.
        browser = logged_in(self.server, "boss@example.org")
        self.db.sql("UPDATE admin_sessions SET expires_at = now() - interval '1 second'")
        self.assertEqual(browser.get("/admin").status, 303)
        # Activity keeps a session alive (last_seen_at moves on).
        browser = logged_in(self.server, "boss@example.org")
        self.db.sql("UPDATE admin_sessions SET last_seen_at = now() - interval '90 minutes'")
        self.assertEqual(browser.get("/admin").status, 200)
        seen = self.db.sql("SELECT now() - last_seen_at < interval '1 minute'"
                           " FROM admin_sessions").strip()
        self.assertEqual(seen, "t")

    def test_logout_ends_the_session_on_the_server(self):
        browser = logged_in(self.server, "boss@example.org")
        session_id = session_cookie(browser)
        r = admin_post(browser, "/admin", "/admin/logout")
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/admin/login?logged_out=1")
        cleared = [c for c in r.headers.get_all("Set-Cookie") if c.startswith("admit_session=")]
        self.assertEqual(len(cleared), 1)
        self.assertIn("Max-Age=0", cleared[0])
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_sessions").strip(), "0")
        self.assertIn("You are logged out", browser.get("/admin/login?logged_out=1").text)
        # A copy of the old cookie is worth nothing now.
        thief = Browser(self.server)
        thief.cookies["admit_session"] = session_id
        self.assertEqual(thief.get("/admin").status, 303)

    def test_password_change_and_removal_end_sessions(self):
        browser = logged_in(self.server, "boss@example.org")
        done = subprocess.run([harness.ADMIT_BIN, "admin", "password", "--db", self.db.dsn,
                               "--email", "boss@example.org"], input="a brand new password\n",
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(browser.get("/admin").status, 303)
        _, r = login(self.server, "boss@example.org")
        self.assertEqual(r.status, 401)
        browser = logged_in(self.server, "boss@example.org", "a brand new password")
        listing = harness.run_admit("admin", "list", "--db", self.db.dsn).stdout
        self.assertIn("boss@example.org\tevents=*\tsessions=1", listing)
        harness.run_admit("admin", "remove", "--db", self.db.dsn, "--email", "boss@example.org")
        self.assertEqual(browser.get("/admin").status, 303)
        done = harness.run_admit("admin", "remove", "--db", self.db.dsn, "--email",
                                 "boss@example.org", check=False)
        self.assertEqual(done.returncode, 1)
        self.assertIn("no admin has the email", done.stderr)


class AdminCli(ServerTestCase):

    def test_admin_add_refuses_bad_input(self):
        event = create_event(self.db.dsn)
        cases = [
            (["--email", "not-an-email"], PASSWORD, "Enter an email address"),
            (["--email", "a@example.org"], "short", "at least 12 characters"),
            (["--email", "a@example.org", "--event", "no-such-event"], PASSWORD,
             "--event no-such-event: no event has this slug"),
        ]
        for extra, password, message in cases:
            done = subprocess.run([harness.ADMIT_BIN, "admin", "add", "--db", self.db.dsn]
                                  + extra, input=password + "\n", capture_output=True, text=True,
                                  timeout=120)
            self.assertEqual(done.returncode, 2, extra)
            self.assertIn(message, done.stderr)
        add_admin(self.db.dsn, "a@example.org", events=[event.slug])
        done = subprocess.run([harness.ADMIT_BIN, "admin", "add", "--db", self.db.dsn,
                               "--email", "A@example.org"], input=PASSWORD + "\n",
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 2)
        self.assertIn("already exists", done.stderr)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admins").strip(), "1")
        listing = harness.run_admit("admin", "list", "--db", self.db.dsn).stdout
        self.assertIn("a@example.org\tevents=%s\t" % event.slug, listing)
        # No password on standard input at all.
        done = subprocess.run([harness.ADMIT_BIN, "admin", "add", "--db", self.db.dsn,
                               "--email", "b@example.org"], input="", capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(done.returncode, 2)
        self.assertIn("password", done.stderr)


class Csrf(ServerTestCase):

    def test_every_admin_post_needs_its_token(self):
        event = create_event(self.db.dsn)
        add_admin(self.db.dsn, "boss@example.org")
        server = self.start_admitd()
        _, _, r = harness.register(server, event.slug, email="ada@example.org")
        reg = registration_id(self.db, "ada@example.org")
        browser = logged_in(server, "boss@example.org")
        base = "/admin/events/%s/attendees/%d" % (event.slug, reg)
        posts = [(base + "/checkin", {"list": str(event.list_ids[0])}), (base + "/cancel", {}),
                 (base + "/reissue", {}), (base + "/promote", {}),
                 ("/admin/events/%s/edit" % event.slug, {"name": "Hijacked"}),
                 ("/admin/events/new", {"slug": "evil", "name": "Evil"}), ("/admin/logout", {})]
        for path, fields in posts:
            for token in [None, "x" * 43, csrf_of(browser.get("/admin/login"))]:
                form = dict(fields)
                if token is not None:
                    form["csrf_token"] = token  # missing, forged, or another form's token
                r = browser.post(path, form)
                self.assertEqual(r.status, 403, "%s with %r" % (path, token))
        # Another site's page posting with the browser's cookies (Origin check).
        r = admin_act(browser, base + "/cancel")  # the real token, but...
        self.assertEqual(r.status, 303)  # ...this one was ours: allowed
        token = csrf_of(browser.get(base))
        r = browser.post(base + "/reissue", {"csrf_token": token},
                         headers={"Origin": "https://evil.example"})
        self.assertEqual(r.status, 403)
        # Nothing happened but the one allowed cancellation.
        self.assertEqual(self.db.sql("SELECT count(*) FROM scans").strip(), "0")
        self.assertEqual(self.db.sql("SELECT reissue FROM registrations").strip(), "0")
        self.assertEqual(self.db.sql("SELECT count(*) FROM events").strip(), "1")
        self.assertEqual(browser.get("/admin").status, 200)  # logout was refused too
        # The login form has its own token.
        b = Browser(server)
        b.get("/admin/login")
        r = b.post("/admin/login", {"email": "boss@example.org", "password": PASSWORD})
        self.assertEqual(r.status, 403)


class NoSession(ServerTestCase):

    def test_no_admin_page_or_export_without_a_session(self):
        event = create_event(self.db.dsn)
        server = self.start_admitd()
        slug = event.slug
        pages = ["/admin", "/admin/events/new", "/admin/events/%s" % slug,
                 "/admin/events/%s/edit" % slug, "/admin/events/%s/attendees" % slug,
                 "/admin/events/%s/attendees/1" % slug, "/admin/events/%s/live" % slug,
                 "/admin/events/%s/report" % slug, "/admin/events/%s/flagged" % slug]
        data = ["/admin/events/%s/registrations.csv" % slug,
                "/admin/events/%s/attendance.csv?list=Day%%201" % slug,
                "/admin/events/%s/scans.csv" % slug, "/admin/events/%s/report.csv" % slug,
                "/admin/events/%s/live.json" % slug, "/admin/events/%s/arrivals.svg" % slug]
        for cookie in [None, "admit_session=" + "A" * 22, "admit_session=garbage"]:
            headers = {"Cookie": cookie} if cookie else {}
            for path in pages:
                r = server.get(path, headers=headers)
                self.assertEqual(r.status, 303, path)
                self.assertTrue(r.header("Location").startswith("/admin/login?next=/admin"),
                                r.header("Location"))
            for path in data:
                r = server.get(path, headers=headers)
                self.assertEqual(r.status, 401, path)
                self.assertNotIn(b"Day 1", r.body)
        r = server.get("/admin/events/%s/live.json" % slug)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertIn(b'"code":"unauthorized"', r.body)


class Permissions(ServerTestCase):
    """An admin either has every event or a list of events; for a limited admin the other
    events do not exist (404, like an unknown slug), in every page, action and export."""

    def test_limited_admin_sees_only_their_events(self):
        mine = create_event(self.db.dsn, name="My Workshop")
        theirs = create_event(self.db.dsn, name="Secret Summit")
        add_admin(self.db.dsn, "limited@example.org", events=[mine.slug])
        add_admin(self.db.dsn, "all@example.org")
        server = self.start_admitd()
        harness.register(server, mine.slug, email="mine@example.org")
        harness.register(server, theirs.slug, email="theirs@example.org")
        their_reg = registration_id(self.db, "theirs@example.org")

        limited = logged_in(server, "limited@example.org")
        home = limited.get("/admin")
        self.assertIn("My Workshop", home.text)
        self.assertNotIn("Secret Summit", home.text)
        self.assertNotIn("New event", home.text)
        unknown = limited.get("/admin/events/no-such-event")
        self.assertEqual(unknown.status, 404)
        s = theirs.slug
        for path in ["/admin/events/%s" % s, "/admin/events/%s/edit" % s,
                     "/admin/events/%s/attendees" % s,
                     "/admin/events/%s/attendees/%d" % (s, their_reg),
                     "/admin/events/%s/live" % s, "/admin/events/%s/live.json" % s,
                     "/admin/events/%s/arrivals.svg" % s, "/admin/events/%s/report" % s,
                     "/admin/events/%s/report.csv" % s, "/admin/events/%s/flagged" % s,
                     "/admin/events/%s/registrations.csv" % s,
                     "/admin/events/%s/attendance.csv" % s, "/admin/events/%s/scans.csv" % s,
                     # their attendee through my event's address
                     "/admin/events/%s/attendees/%d" % (mine.slug, their_reg),
                     "/admin/events/new"]:
            r = limited.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertNotIn(b"Secret Summit", r.body)
            self.assertNotIn(b"theirs@example.org", r.body)
            if not path.endswith((".json", ".csv", ".svg")):
                self.assertEqual(r.text.split("<main")[1].split("</main>")[0],
                                 unknown.text.split("<main")[1].split("</main>")[0], path)
        # Actions on the other event's attendee change nothing.
        page = "/admin/events/%s" % mine.slug
        for base in ["/admin/events/%s/attendees/%d" % (s, their_reg),
                     "/admin/events/%s/attendees/%d" % (mine.slug, their_reg)]:
            for action, fields in [("checkin", {"list": str(theirs.list_ids[0])}),
                                   ("cancel", {}), ("reissue", {}), ("promote", {})]:
                r = admin_act(limited, base + "/" + action, fields)
                self.assertEqual(r.status, 404, base + "/" + action)
                r = admin_post(limited, page, base + "/" + action, dict(fields, key=new_key()))
                self.assertEqual(r.status, 404, base + "/" + action)
        r = admin_post(limited, page, "/admin/events/%s/edit" % s,
                       {"name": "Renamed", "time_zone": "Europe/Brussels",
                        "starts": "2030-01-01 09:00", "ends": "2030-01-01 17:00",
                        "capacity": "10"})
        self.assertEqual(r.status, 404)
        row = self.db.sql("SELECT status, reissue FROM registrations WHERE id = %d"
                          % their_reg).strip()
        self.assertEqual(row, "confirmed|0")
        self.assertEqual(self.db.sql("SELECT count(*) FROM scans").strip(), "0")
        self.assertEqual(self.db.sql("SELECT name FROM events WHERE slug = '%s'" % s).strip(),
                         "Secret Summit")
        # Their own event works.
        self.assertEqual(limited.get("/admin/events/%s/attendees" % mine.slug).status, 200)
        self.assertEqual(limited.get("/admin/events/%s/registrations.csv" % mine.slug).status,
                         200)

        everything = logged_in(server, "all@example.org")
        home = everything.get("/admin")
        self.assertIn("My Workshop", home.text)
        self.assertIn("Secret Summit", home.text)
        self.assertIn("New event", home.text)
        self.assertEqual(everything.get("/admin/events/%s/attendees/%d" % (s, their_reg)).status,
                         200)


if __name__ == "__main__":
    harness.main()
