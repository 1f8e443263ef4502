#!/usr/bin/env python3
"""Signed attendance sheets and the evidence pack (issue 20): admit evidence writes the sheets
(every person on a list, check-in time or blank, a signature column, totals by organisation type
and country, the event and page N of M on every page), attendance.csv, report.csv and a manifest
signed with the event's key; admit evidence verify names any file that changed.
"""

import os
import re
import subprocess

import harness
from harness import ServerTestCase, create_event, run_admit
from test_admin import add_admin, admin_act, logged_in
from test_print import PdfChecks, add_people, squash, tool

class Evidence(ServerTestCase, PdfChecks):
    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, name="Soil Health Conference",
                                  extra=["--organiser", "EU Soil Mission"])
        add_people(self.db, self.event.slug)
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()
        admin = logged_in(self.server, "boss@example.org")
        rid = int(self.db.sql("SELECT id FROM registrations WHERE given_name = 'Алексей'"))
        r = admin_act(admin, "/admin/events/%s/attendees/%d/checkin" % (self.event.slug, rid),
                      {"list": str(self.event.list_ids[0])})
        self.assertEqual(r.status, 303)
        self.pack = os.path.join(self.work, "pack")
        self.pub = os.path.join(self.keys, "ticket-signing.pub")
        done = run_admit("evidence", "--db", self.db.dsn, "--event", self.event.slug, "--out",
                         self.pack, "--key", os.path.join(self.keys, "ticket-signing.key"))
        self.assertIn("3 attendance sheets", done.stderr)

    def verify(self, pub=None):
        return run_admit("evidence", "verify", "--pub", pub or self.pub, self.pack, check=False)

    def test_sheets_list_everyone_with_totals_and_the_event_on_every_page(self):
        day1, day2, cluster = self.event.list_ids
        sheets = sorted(os.listdir(os.path.join(self.pack, "sheets")))
        self.assertEqual(sheets, ["list-%d-day-1.pdf" % day1, "list-%d-day-2.pdf" % day2,
                                  "list-%d-cluster-session.pdf" % cluster])
        text = self.check_pdf(os.path.join(self.pack, "sheets", sheets[0]))
        pages = [p for p in text.split("\f") if p.strip()]
        self.assertGreaterEqual(len(pages), 2)
        for n, page in enumerate(pages, 1):
            self.assertIn("Soil Health Conference", page)
            self.assertIn("EU Soil Mission", page)
            self.assertIn("Attendance sheet: Day 1", page)
            self.assertIn("Page %d of %d" % (n, len(pages)), page)
        for heading in ("Name", "Organisation", "Type", "Country", "Checked in", "Signature"):
            self.assertIn(heading, pages[0])
        self.assertIn("Смирнов-Черноморский, Алексей", text)
        self.assertIn("Παπαδοπούλου, Ζωή", text)
        self.assertRegex(squash(text), r"Смирнов.*\d\d/\d\d\d\d:\d\d")
        self.assertIn("Everyone: 6 registered, 1 checked in", text)
        self.assertIn("Research: 2 registered, 1 checked in", text)
        self.assertIn("BE: 6 registered, 1 checked in", text)
        with open(os.path.join(self.pack, "attendance.csv"), encoding="utf-8") as f:
            self.assertIn("Смирнов-Черноморский", f.read())
        self.assertTrue(os.path.getsize(os.path.join(self.pack, "report.csv")) > 0)

    def test_verify_names_what_changed(self):
        done = self.verify()
        self.assertEqual(done.returncode, 0, done.stdout)
        self.assertIn("whole", done.stdout)
        done = subprocess.run(["sha256sum", "--quiet", "-c", "manifest.txt"], cwd=self.pack,
                              capture_output=True, text=True, timeout=60)
        self.assertNotIn("FAILED", done.stdout)
        sheet = sorted(os.listdir(os.path.join(self.pack, "sheets")))[1]
        with open(os.path.join(self.pack, "sheets", sheet), "r+b") as f:
            f.seek(200)
            byte = f.read(1)
            f.seek(200)
            f.write(bytes([byte[0] ^ 1]))
        os.remove(os.path.join(self.pack, "report.csv"))
        with open(os.path.join(self.pack, "notes.txt"), "w") as f:
            f.write("added later\n")
        done = self.verify()
        self.assertEqual(done.returncode, 1)
        self.assertEqual(sorted(done.stdout.splitlines()),
                         ["notes.txt: not in the manifest (added later)",
                          "report.csv: missing",
                          "sheets/%s: changed since the manifest was signed" % sheet])

    def test_a_changed_manifest_or_another_key_is_refused(self):
        other = harness.make_keys(os.path.join(self.work, "other-keys"))
        done = self.verify(os.path.join(other, "ticket-signing.pub"))
        self.assertEqual(done.returncode, 1)
        self.assertIn("not signed by this key", done.stdout)
        path = os.path.join(self.pack, "attendance.csv")
        with open(path, "a") as f:
            f.write("999,Forged,Person\n")
        manifest = os.path.join(self.pack, "manifest.txt")
        text = open(manifest).read()
        digest = tool("sha256sum", path).stdout.split()[0]
        text = re.sub(r"^[0-9a-f]{64}(  attendance\.csv)$", digest + r"\1", text, flags=re.M)
        open(manifest, "w").write(text)
        done = self.verify()
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.stdout.strip(),
                         "the manifest is not signed by this key (or changed)")

    def test_a_sheet_from_admin(self):
        admin = logged_in(self.server, "boss@example.org")
        day1 = self.event.list_ids[0]
        url = "/admin/events/%s/sheets/%d" % (self.event.slug, day1)
        self.assertIn(url, admin.get("/admin/events/" + self.event.slug).text)
        r = admin.get(url)
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertEqual(r.header("Content-Type"), "application/pdf")
        path = os.path.join(self.work, "sheet.pdf")
        with open(path, "wb") as f:
            f.write(r.body)
        text = self.check_pdf(path)
        self.assertIn("Attendance sheet: Day 1", text)
        self.assertIn("Смирнов-Черноморский, Алексей", text)
        self.assertEqual(self.server.get(url).status, 401)
        other = create_event(self.db.dsn)
        self.assertEqual(admin.get("/admin/events/%s/sheets/%d"
                                   % (self.event.slug, other.list_ids[0])).status, 404)
        self.assertEqual(admin.get("/admin/events/%s/sheets/x" % self.event.slug).status, 404)

    def test_the_pack_from_admin(self):
        admin = logged_in(self.server, "boss@example.org")
        url = "/admin/events/%s/evidence.tar" % self.event.slug
        self.assertIn(url, admin.get("/admin/events/" + self.event.slug).text)
        self.assertEqual(self.server.get(url).status, 401)
        r = admin.get(url)
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertEqual(r.header("Content-Type"), "application/x-tar")
        self.assertEqual(r.header("Content-Disposition"),
                         'attachment; filename="%s-evidence.tar"' % self.event.slug)
        archive = os.path.join(self.work, "pack.tar")
        with open(archive, "wb") as f:
            f.write(r.body)
        out = os.path.join(self.work, "from-admin")
        os.mkdir(out)
        tool("tar", "-xf", archive, "-C", out)  # GNU tar reads it
        folder = os.path.join(out, "%s-evidence" % self.event.slug)
        self.assertEqual(sorted(os.listdir(folder)), ["attendance.csv", "manifest.sig",
                                                      "manifest.txt", "report.csv", "sheets"])
        done = run_admit("evidence", "verify", "--pub", self.pub, folder, check=False)
        self.assertEqual(done.returncode, 0, done.stdout)
        self.check_pdf(os.path.join(folder, "sheets", sorted(os.listdir(
            os.path.join(folder, "sheets")))[0]))
        self.assertEqual([n for n in os.listdir("/tmp") if n.startswith("admit-evidence-")
                          and os.path.exists(os.path.join("/tmp", n, "pack", "manifest.txt"))
                          and self.event.slug in open(os.path.join("/tmp", n, "pack",
                                                                   "manifest.txt")).read()], [])

    def test_the_folder_must_be_new(self):
        done = run_admit("evidence", "--db", self.db.dsn, "--event", self.event.slug, "--out",
                         self.pack, "--key", os.path.join(self.keys, "ticket-signing.key"),
                         check=False)
        self.assertEqual(done.returncode, 2)
        self.assertIn("cannot make the folder", done.stderr)
        done = run_admit("evidence", "--db", self.db.dsn, "--event", "nope", "--out",
                         self.pack + "2", "--key", os.path.join(self.keys, "ticket-signing.key"),
                         check=False)
        self.assertIn('no event has the slug "nope"', done.stderr)

if __name__ == "__main__":
    harness.main()
