#!/usr/bin/env python3
"""Door devices from /admin, over real HTTP and PostgreSQL: an organiser adds a device, reads
its token off the page once (as text, and from the inline QR code with zbarimg), the door syncs
with it, the organiser revokes it after a confirmation page and the API refuses it from then on.
An organiser without that event gets 404; a form without its CSRF token changes nothing.
The CLI (`admit device list`) sees the same devices.
"""

import re
import struct
import zlib

import harness
from harness import ServerTestCase, create_event, parse_html, api_call
from test_admin import add_admin, admin_post, logged_in

TOKEN_RE = re.compile(r'<code id="device-token">([A-Za-z0-9_-]{22})</code>')
SVG_RE = re.compile(r'<svg [^>]*viewBox="0 0 (\d+) (\d+)"[^>]*aria-label="Device token QR code"'
                    r'.*?<path fill="#000" d="([^"]*)"/></svg>', re.S)


def svg_qr_to_png(html, scale=6):
    """Draws the inline QR code SVG of a page (admit_qr_svg's shape: one path of runs
    "Mx yhNv1h-Nz" on a white square) as a greyscale PNG, so that zbarimg reads what a phone
    camera would."""
    m = SVG_RE.search(html)
    if not m:
        raise AssertionError("no device token QR code on the page")
    side = int(m.group(1))
    dark = [[False] * side for _ in range(side)]
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z", m.group(3))
    if not runs or "".join("M%s %sh%sv1h-%sz" % r for r in runs) != m.group(3):
        raise AssertionError("the QR path is not made of runs: %r" % m.group(3)[:80])
    for x, y, n, _ in runs:
        for dx in range(int(n)):
            dark[int(y)][int(x) + dx] = True
    rows = b""
    for y in range(side * scale):
        row = bytes(0 if dark[y // scale][x // scale] else 255 for x in range(side * scale))
        rows += b"\x00" + row

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", side * scale, side * scale, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Devices(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Door Conference")
        self.other = create_event(self.db.dsn, name="Another Event")
        add_admin(self.db.dsn, "jo@example.org", events=[self.event.slug])
        add_admin(self.db.dsn, "ann@example.org", events=[self.other.slug])
        self.server = self.start_admitd()
        self.base = "/admin/events/%s/devices" % self.event.slug

    def add_device(self, browser, name):
        return admin_post(browser, self.base, self.base, {"name": name})

    def test_add_scan_with_the_token_and_revoke(self):
        browser = logged_in(self.server, "jo@example.org")
        overview = browser.get("/admin/events/%s" % self.event.slug)
        self.assertIn('href="%s"' % self.base, overview.text, "no Door devices tab")
        page = browser.get(self.base)
        self.assertEqual(page.status, 200)
        self.assertIn("No door device yet", page.text)

        r = self.add_device(browser, "Gate A")
        self.assertEqual(r.status, 200, r.text[:500])
        self.assertEqual(r.header("Cache-Control"), "no-store")
        m = TOKEN_RE.search(r.text)
        self.assertIsNotNone(m, r.text[:1500])
        token = m.group(1)
        self.assertIn("only time the token is shown", r.text)
        self.assertIn('Device “Gate A” added', r.text)
        self.assertIn('href="%s"' % self.base, r.text)
        # The QR code on the page carries exactly the token.
        self.assertEqual(harness.decode_qr_png(svg_qr_to_png(r.text), self.work), token)

        # The door works with it.
        resp, body = api_call(self.server, "GET", "/api/v1/events/%s/sync" % self.event.slug,
                              token)
        self.assertEqual(resp.status, 200, resp.body[:300])
        self.assertEqual(body["device"]["name"], "Gate A")
        # A scan (of a made-up ticket: refused, but the device is seen).
        resp, body = api_call(self.server, "POST", "/api/v1/checkins", token,
                              {"payload": "NOT-A-TICKET", "list": "Day 1",
                               "nonce": harness.new_nonce()})
        self.assertEqual(resp.status, 200, resp.body[:300])

        # Listed with when it was last seen; the token is shown nowhere again, nor logged.
        page = browser.get(self.base)
        self.assertNotIn(token, page.text)
        row = [tr for tr in parse_html(page.text).find_all("tr") if "Gate A" in tr.text()][0]
        self.assertIn("working", row.text())
        self.assertNotIn("never", row.text())
        self.assertNotIn(token, self.server.log_text())
        # The CLI sees the same device.
        listed = harness.run_admit("device", "list", "--db", self.db.dsn, "--event",
                                   self.event.slug).stdout
        self.assertRegex(listed, r"Gate A\s+active")

        # Revoke: a confirmation page first, which changes nothing.
        device_id = int(self.db.sql("SELECT id FROM devices WHERE name = 'Gate A'").strip())
        confirm_path = "%s/%d/revoke" % (self.base, device_id)
        confirm = browser.get(confirm_path)
        self.assertEqual(confirm.status, 200)
        self.assertIn("stops working at once", confirm.text)
        resp, _ = api_call(self.server, "GET", "/api/v1/device", token)
        self.assertEqual(resp.status, 200)
        # Without the CSRF token: refused, nothing revoked.
        r = browser.post(confirm_path, {})
        self.assertEqual(r.status, 403)
        resp, _ = api_call(self.server, "GET", "/api/v1/device", token)
        self.assertEqual(resp.status, 200)
        r = admin_post(browser, confirm_path, confirm_path)
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertEqual(r.header("Location"), self.base + "?revoked=1")
        self.assertIn("The device is revoked", browser.get(self.base + "?revoked=1").text)
        for method, path in [("GET", "/api/v1/device"),
                             ("GET", "/api/v1/events/%s/sync" % self.event.slug)]:
            resp, _ = api_call(self.server, method, path, token)
            self.assertEqual(resp.status, 401, path)
        # Sent again (a double click): nothing more happens, and the page says why.
        r = admin_post(browser, self.base, confirm_path)
        self.assertEqual(r.status, 404)
        self.assertIn("revoked already", r.text)
        self.assertIn("revoked", browser.get(confirm_path).text)

    def test_bad_names_and_taken_names_are_refused_with_the_value_kept(self):
        browser = logged_in(self.server, "jo@example.org")
        for name, message in [("", "cannot be empty"), ("x" * 101, "at most 100 characters"),
                              ("Gate\u200bB", "invisible characters")]:
            r = self.add_device(browser, name)
            self.assertEqual(r.status, 422, name)
            self.assertIn(message, r.text)
            self.assertIsNone(TOKEN_RE.search(r.text))
        self.assertEqual(self.db.sql("SELECT count(*) FROM devices").strip(), "0")
        self.assertEqual(self.add_device(browser, "North").status, 200)
        r = self.add_device(browser, "North")
        self.assertEqual(r.status, 422)
        self.assertIn("has this name already", r.text)
        self.assertIn('value="North"', r.text)
        self.assertEqual(self.db.sql("SELECT count(*) FROM devices").strip(), "1")

    def test_an_organiser_of_another_event_gets_404_and_nothing_happens(self):
        jo = logged_in(self.server, "jo@example.org")
        self.assertEqual(self.add_device(jo, "Gate A").status, 200)
        device_id = int(self.db.sql("SELECT id FROM devices").strip())
        ann = logged_in(self.server, "ann@example.org")
        theirs, unknown = ann.get(self.base), ann.get("/admin/events/no-such-event/devices")
        self.assertEqual((theirs.status, unknown.status), (404, 404))
        # Exactly as for an event that does not exist: nothing tells her it does.
        main = lambda r: r.text.split("<main")[1].split("</main>")[0]  # noqa: E731
        self.assertEqual(main(theirs), main(unknown))
        self.assertNotIn("Door Conference", theirs.text)
        self.assertEqual(ann.get("%s/%d/revoke" % (self.base, device_id)).status, 404)
        # Her own event's page gives her a CSRF token; posting to jo's event is still a 404.
        own = "/admin/events/%s/devices" % self.other.slug
        self.assertEqual(ann.get(own).status, 200)
        self.assertEqual(admin_post(ann, own, self.base, {"name": "Sneaky"}).status, 404)
        r = admin_post(ann, own, "%s/%d/revoke" % (self.base, device_id))
        self.assertEqual(r.status, 404)
        self.assertEqual(self.db.sql("SELECT count(*) FROM devices WHERE revoked_at IS NULL")
                         .strip(), "1")
        # Her own event cannot revoke jo's device either (the id is not of that event).
        r = admin_post(ann, own, "%s/%d/revoke" % (own, device_id))
        self.assertEqual(r.status, 404)
        self.assertEqual(self.db.sql("SELECT count(*) FROM devices WHERE revoked_at IS NULL")
                         .strip(), "1")
        # Without a session: to the login page; without CSRF: refused.
        anon = harness.Browser(self.server)
        r = anon.get(self.base)
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/admin/login?next=" + self.base)
        r = jo.post(self.base, {"name": "No token"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.db.sql("SELECT count(*) FROM devices").strip(), "1")


if __name__ == "__main__":
    harness.main()
