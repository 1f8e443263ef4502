#!/usr/bin/env python3
"""Browser test of registration (issue 3), ctest `browser_registration`.

The Python harness of the integration tests sets everything up (a fresh migrated database in the
ctest cluster, signing keys, an event, admitd on a free port); register.mjs then registers in
headless Chromium (playwright-core, Debian's browser) and keeps the QR code twice: a screenshot
of the QR element and qr.png downloaded through the page's link. Both must decode with zbarimg
to a payload `admit verify` accepts, whose attendee id is the registration's id in the database.

Artefacts (screenshots of the form, of the form with errors, of the ticket page, the QR images)
are left in ADMIT_BUILD_DIR/tests/artifacts/browser_registration/.
Environment: as the integration tests (tests/CMakeLists.txt), plus ADMIT_BROWSER_MODULES, the
folder where `npm ci` installed playwright-core (tests/browser/CMakeLists.txt sets it).
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from harness import create_event, decode_qr_png, verify_ticket  # noqa: E402

NODE_TIMEOUT = 300


class BrowserRegistration(harness.ServerTestCase):

    def test_register_in_chromium(self):
        artifacts = os.path.join(harness.BUILD_DIR or HERE, "tests", "artifacts",
                                 "browser_registration")
        shutil.rmtree(artifacts, ignore_errors=True)
        os.makedirs(artifacts)
        event = create_event(self.db.dsn, name="Browser Conference 2027")
        server = self.start_admitd()
        env = dict(os.environ)
        env.setdefault("ADMIT_BROWSER_MODULES", HERE)
        done = subprocess.run(["node", os.path.join(HERE, "register.mjs"), server.url,
                               event.slug, artifacts], capture_output=True, text=True,
                              timeout=NODE_TIMEOUT, env=env)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        lines = done.stdout.strip().splitlines()
        result = json.loads(lines[-1]) if lines else {}
        csp = [m for m in result.get("console", []) if "Content Security Policy" in m]
        self.assertEqual(done.returncode, 0, "register.mjs failed (artefacts in %s): %s"
                         % (artifacts, done.stderr.strip().splitlines()[-1:]))
        self.assertEqual(csp, [], "the pages break their own Content-Security-Policy")

        # The registration as stored: what was typed, once (the first, incomplete send stored
        # nothing).
        token = result["ticket_url"].rsplit("/", 1)[1].split("?")[0]
        row = self.db.sql("SELECT id, status, given_name, family_name, email, organisation,"
                          " organisation_type, country, dietary FROM registrations"
                          " WHERE token = '%s'" % token).strip().split("|")
        self.assertEqual(row[1:], ["confirmed", "Ada", "Lovelace", "ada.browser@example.org",
                                   "Analytical Engine Society", "research", "BE",
                                   "Vegetarian, no nuts"])
        self.assertEqual(self.db.sql("SELECT count(*) FROM registrations").strip(), "1")
        lists = self.db.sql("SELECT l.name FROM registration_lists r JOIN checkin_lists l"
                            " ON l.id = r.list_id WHERE r.registration_id = %s ORDER BY l.position"
                            % row[0]).split("\n")
        self.assertEqual([name for name in lists if name], ["Day 1", "Cluster session"])

        # The QR code as the page shows it, and as the download link gives it.
        self.assertEqual(result["download_name"], "ticket.png")
        for image in [result["qr_element"], result["qr_download"]]:
            with open(image, "rb") as f:
                payload = decode_qr_png(f.read(), self.work)
            self.assertIsNotNone(payload, "zbarimg read no QR code in %s" % image)
            status, fields = verify_ticket(self.keys, payload)
            self.assertEqual(status, 0, "%s: %s" % (image, payload))
            self.assertEqual(int(fields["attendee"]), int(row[0]))
            self.assertEqual(int(fields["event"]), event.id)
        for name in ["form.png", "form-errors.png", "ticket.png"]:
            self.assertTrue(os.path.getsize(os.path.join(artifacts, name)) > 1000, name)


if __name__ == "__main__":
    harness.main()
