#!/usr/bin/env python3
"""Browser test: every organiser page fits a phone (issue 16), ctest `browser_layout`.

The integration harness sets up an event with attendees in every state (confirmed and checked
in, waiting, cancelled; long names and organisations), an organiser, and admitd; layout.mjs then
walks the admin area by its own links in headless Chromium and checks each page at 390 px and
1280 px wide for anything that needs sideways scrolling (see layout.mjs for the exact checks).
Screenshots of every page at both widths: ADMIT_BUILD_DIR/tests/artifacts/browser_layout/.
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
from test_admin import PASSWORD, add_admin, admin_act, logged_in, registration_id  # noqa: E402
from test_edit import edit_form  # noqa: E402

NODE_TIMEOUT = 600
PEOPLE = [("Grace", "Hopper", "Harvard University"),
          ("Maria Magdalena Konstantina", "Papadopoulou-Vasilopoulou",
           "Εθνικό και Καποδιστριακό Πανεπιστήμιο Αθηνών — Τμήμα Πληροφορικής και Τηλεπικοινωνιών"),
          ("Jean-Baptiste", "Lefèvre-Montmorency", "Université Paris-Saclay, Laboratoire "
           "Interdisciplinaire des Sciences du Numérique"),
          ("Ada", "Lovelace", "Analytical Engines Ltd")]


class BrowserLayout(harness.ServerTestCase):

    def test_every_admin_page_fits_a_phone(self):
        artifacts = os.path.join(harness.BUILD_DIR or HERE, "tests", "artifacts",
                                 "browser_layout")
        shutil.rmtree(artifacts, ignore_errors=True)
        os.makedirs(artifacts)
        event = create_event(self.db.dsn, capacity=2,
                             name="TERRA Final Conference on Earth Observation and Climate")
        add_admin(self.db.dsn, "organiser@example.org")
        server = self.start_admitd()
        for i, (given, family, organisation) in enumerate(PEOPLE):
            register(server, event.slug, given_name=given, family_name=family,
                     organisation=organisation, email="p%d@example.org" % i,
                     lists=event.list_ids[:2])
        # p0 checked in (and forced onto a list they are not on: flagged), p1 cancelled (p2
        # takes the seat), p3 waiting.
        browser = logged_in(server, "organiser@example.org")
        base = "/admin/events/%s/attendees" % event.slug
        hopper = registration_id(self.db, "p0@example.org")
        for fields in [{"list": str(event.list_ids[0])},
                       {"list": str(event.list_ids[2]), "force": "yes"}]:
            r = admin_act(browser, "%s/%d/checkin" % (base, hopper), fields)
            self.assertEqual(r.status, 303, r.text[:300])
        r = admin_act(browser, "%s/%d/cancel" % (base, registration_id(self.db, "p1@example.org")))
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertEqual(harness.seat_counts(self.db, event.id)[:3], (2, 1, 1))
        # p2's registration changed by the organiser: its change history holds long values.
        edit = "%s/%d/edit" % (base, registration_id(self.db, "p2@example.org"))
        _, fields = edit_form(browser, None, edit)
        r = browser.post(edit, dict(fields, organisation=PEOPLE[1][2],
                                    accessibility="Step-free access to every room, " * 8))
        self.assertEqual(r.status, 303, r.text[:300])

        env = dict(os.environ)
        env.setdefault("ADMIT_BROWSER_MODULES", HERE)
        done = subprocess.run(["node", os.path.join(HERE, "layout.mjs"), server.url,
                               "organiser@example.org", PASSWORD, artifacts],
                              capture_output=True, text=True, timeout=NODE_TIMEOUT, env=env)
        sys.stderr.write(done.stderr)
        lines = done.stdout.strip().splitlines()
        result = json.loads(lines[-1]) if lines else {}
        print(json.dumps(result, indent=1))
        pages = result.get("pages", [])
        # The walk reached every kind of page, then judged them all.
        for expected in ["/admin", "/admin/events/%s" % event.slug, base,
                         "%s/%d" % (base, hopper), "/admin/events/%s/live" % event.slug,
                         "/admin/events/%s/report" % event.slug,
                         "/admin/events/%s/edit" % event.slug, edit]:
            self.assertIn(expected, pages)
        self.assertEqual(result.get("problems"), [], "pages that need sideways scrolling "
                         "(screenshots in %s)" % artifacts)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(result["screenshots"], 2 * len(pages))


if __name__ == "__main__":
    harness.main()
