#!/usr/bin/env python3
"""Browser test of an attendee changing their registration (issue 16), ctest `browser_edit`.

The integration harness sets everything up (a fresh migrated database, keys, an event, admitd)
and registers Ada Lovelace for Day 1 through the form; edit.mjs then changes the registration
in headless Chromium from the ticket page (a mistake first, then the family name, the country
and the sessions). Checked here: the database holds the change, once, in the change log, with
its summary email queued, and the ticket was not reissued.

Artefacts (screenshots of the form, the form with errors, the changed ticket) are left in
ADMIT_BUILD_DIR/tests/artifacts/browser_edit/. Environment: as run.py.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from harness import create_event, register, ticket_token  # noqa: E402

NODE_TIMEOUT = 300


class BrowserEdit(harness.ServerTestCase):

    def test_attendee_changes_their_registration_in_chromium(self):
        artifacts = os.path.join(harness.BUILD_DIR or HERE, "tests", "artifacts", "browser_edit")
        shutil.rmtree(artifacts, ignore_errors=True)
        os.makedirs(artifacts)
        event = create_event(self.db.dsn, name="Browser Conference 2027")
        server = self.start_admitd()
        day1 = event.lists[0][0]
        _, _, r = register(server, event.slug, lists=[day1], given_name="Ada",
                           family_name="Lovelace", email="ada.edit@example.org")
        token = ticket_token(r)
        env = dict(os.environ)
        env.setdefault("ADMIT_BROWSER_MODULES", HERE)
        done = subprocess.run(["node", os.path.join(HERE, "edit.mjs"), server.url,
                               "/tickets/%s" % token, artifacts], capture_output=True, text=True,
                              timeout=NODE_TIMEOUT, env=env)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        lines = done.stdout.strip().splitlines()
        result = json.loads(lines[-1]) if lines else {}
        self.assertEqual(done.returncode, 0, "edit.mjs failed (artefacts in %s): %s"
                         % (artifacts, done.stderr.strip().splitlines()[-1:]))
        csp = [m for m in result.get("console", []) if "Content Security Policy" in m]
        self.assertEqual(csp, [], "the pages break their own Content-Security-Policy")

        row = self.db.sql("SELECT given_name, family_name, country, reissue, version"
                          " FROM registrations WHERE token = '%s'" % token).strip()
        self.assertEqual(row, "Ada|King|GB|0|2")
        lists = self.db.sql("SELECT l.name FROM registration_lists r JOIN checkin_lists l"
                            " ON l.id = r.list_id JOIN registrations g ON g.id = r.registration_id"
                            " WHERE g.token = '%s'" % token).split()
        self.assertEqual(" ".join(lists), "Day 2")
        changes = json.loads(self.db.sql("SELECT json_agg(changes) FROM registration_changes"))
        self.assertEqual(len(changes), 1, "the mistaken send stored a change")
        self.assertEqual(sorted(c["field"] for c in changes[0]),
                         ["country", "family_name", "lists"])
        self.assertEqual(self.db.sql("SELECT count(*) FROM mail_outbox WHERE kind = 'changed'")
                         .strip(), "1")
        for name in ["edit-form.png", "edit-errors.png", "ticket-changed.png"]:
            self.assertTrue(os.path.getsize(os.path.join(artifacts, name)) > 1000, name)


if __name__ == "__main__":
    harness.main()
