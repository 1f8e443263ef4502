#!/usr/bin/env python3
"""Browser test of the organisers' area (issue 5), ctest `browser_admin`.

The integration harness sets everything up (a fresh migrated database in the ctest cluster,
signing keys, an event with three registered attendees, an admin, admitd on a free port on
127.0.0.1, plain http); admin.mjs then logs in with headless Chromium (playwright-core, Debian's
browser), finds an attendee by name, checks them in by hand (through the confirmation page),
watches the live door view update without a reload, screenshots the live view and the arrivals
chart, and cancels a registration through its confirmation page (issue 16).

Over plain http the session cookie is "admit_session" without Secure; with an https
--public-url it is "__Host-admit_session" with Secure: both are checked here with the real
browser (test_secure_cookie_in_chromium explains why plain http is not Secure).

Artefacts (attendee.png, confirm.png, confirm-cancel.png, live.png, arrivals-chart.png, arrivals.png; failure.png when it fails)
are left in ADMIT_BUILD_DIR/tests/artifacts/browser_admin/.
Environment: as the integration tests, plus ADMIT_BROWSER_MODULES (where playwright-core is
installed; tests/browser itself by default).
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from harness import create_event, register  # noqa: E402
from test_admin import PASSWORD, add_admin  # noqa: E402

NODE_TIMEOUT = 300


class BrowserAdmin(harness.ServerTestCase):

    def test_check_in_by_name_live_view_and_a_confirmed_cancellation(self):
        artifacts = os.path.join(harness.BUILD_DIR or HERE, "tests", "artifacts",
                                 "browser_admin")
        shutil.rmtree(artifacts, ignore_errors=True)
        os.makedirs(artifacts)
        event = create_event(self.db.dsn, name="TERRA Final Conference")
        add_admin(self.db.dsn, "organiser@example.org")
        server = self.start_admitd()
        for given, family in [("Grace", "Hopper"), ("Ada", "Lovelace"), ("Alan", "Turing")]:
            register(server, event.slug, given_name=given, family_name=family,
                     email="%s@example.org" % given.lower(), lists=event.list_ids[:1])
        env = dict(os.environ)
        env.setdefault("ADMIT_BROWSER_MODULES", HERE)
        done = subprocess.run(["node", os.path.join(HERE, "admin.mjs"), server.url, event.slug,
                               "organiser@example.org", PASSWORD, artifacts],
                              capture_output=True, text=True, timeout=NODE_TIMEOUT, env=env)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        lines = done.stdout.strip().splitlines()
        result = json.loads(lines[-1]) if lines else {}
        self.assertEqual(done.returncode, 0, "admin.mjs failed (artefacts in %s): %s"
                         % (artifacts, done.stderr.strip().splitlines()[-1:]))
        self.assertTrue(result.get("ok"))
        csp = [m for m in result["console"] if "Content Security Policy" in m]
        self.assertEqual(csp, [], "the admin pages break their own Content-Security-Policy")
        # The only failed loads: the wrong password, and the favicon Chromium asks for by itself.
        errors = [m for m in result["console"] if m.startswith("error")
                  and "Failed to load resource" not in m]
        self.assertEqual(errors, [])
        self.assertEqual(sorted(set(result["failed"]) - {"GET /favicon.ico 404"}),
                         ["POST /admin/login 401"])
        session = [c for c in result["cookies"] if c["name"] == "admit_session"]
        self.assertEqual(len(session), 1, result["cookies"])
        self.assertTrue(session[0]["httpOnly"])
        self.assertEqual(session[0]["sameSite"], "Strict")
        self.assertTrue(result["live_updated"])
        self.assertEqual(result["chart_width"], 720)
        # What the browser did, as stored: two manual check-ins by the organiser, one failed
        # login, one session, ended at logout.
        scans = self.db.sql("SELECT r.family_name, s.source, s.device_id IS NULL, s.verdict"
                            " FROM scans s JOIN registrations r ON r.id = s.registration_id"
                            " ORDER BY s.id").split()
        self.assertEqual(scans, ["Hopper|manual|t|valid", "Lovelace|manual|t|valid"])
        self.assertEqual(self.db.sql("SELECT count(*) FROM admissions").strip(), "2")
        self.assertEqual(self.db.sql("SELECT count(*) FROM admin_sessions").strip(), "0")
        # The confirmed cancellation: once, by the organiser, with its email queued.
        self.assertTrue(result["cancelled"])
        self.assertEqual(self.db.sql("SELECT r.status, a.action, m.kind FROM registrations r "
                                     "JOIN admin_actions a ON a.registration_id = r.id "
                                     "JOIN mail_outbox m ON m.registration_id = r.id "
                                     "AND m.kind = 'cancelled' WHERE r.family_name = 'Turing'")
                         .split(), ["cancelled|cancel|cancelled"])
        for name in ["attendee.png", "confirm.png", "confirm-cancel.png", "live.png",
                     "arrivals-chart.png", "arrivals.png"]:
            self.assertGreater(os.path.getsize(os.path.join(artifacts, name)), 2000, name)


    def test_secure_cookie_in_chromium(self):
        # With an https --public-url the session cookie is __Host-admit_session with Secure.
        # Chromium keeps Secure cookies from loopback addresses even over plain http (they are
        # secure contexts), so this checks the https variant end to end in the real browser:
        # the prefix and attributes are accepted and the session works. Off loopback, plain http
        # (a door laptop reaching http://10.0.0.5:8080) would lose such a cookie: that is why
        # admitd names it admit_session, without Secure, when --public-url is not https.
        add_admin(self.db.dsn, "organiser@example.org")
        server = self.start_admitd("--public-url", "https://tickets.example.org")
        env = dict(os.environ)
        env.setdefault("ADMIT_BROWSER_MODULES", HERE)
        done = subprocess.run(["node", os.path.join(HERE, "admin.mjs"), "--secure-cookie",
                               server.url, "organiser@example.org", PASSWORD],
                              capture_output=True, text=True, timeout=NODE_TIMEOUT, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        self.assertEqual(result["post_status"], 303)
        self.assertIn("__Host-admit_session=", result["set_cookie"])
        self.assertIn("Secure", result["set_cookie"])
        self.assertIn("__Host-admit_session", result["cookies"])
        self.assertNotIn("admit_session", result["cookies"])
        self.assertEqual(result["landed_on"], "/admin")


if __name__ == "__main__":
    harness.main()
