#!/usr/bin/env python3
"""Badges at the door (issue 20): `admit scan --badge-dir DIR` writes a one-page badge PDF for
each valid entry, beside the scan loop, online and offline (the synced snapshot holds the name
and organisation), and none for a refused scan or an exit. Each PDF checked with qpdf,
pdftotext, pdffonts, and its QR code (zbarimg) is the scanned ticket. Printing through CUPS
(--print-badge) is not built yet.
"""

import os

import harness
from harness import run_scan
from test_print import PdfChecks
from test_scan import SLOW, ScanCase


class DoorBadges(ScanCase, PdfChecks):
    def badges(self, folder):
        return sorted(n for n in os.listdir(folder) if n.endswith(".pdf"))

    def check_badge(self, path, ticket, name):
        text = self.check_pdf(path)
        self.assertIn(name, text)
        self.assertEqual(self.qr_texts(path), [ticket])

    def test_online_and_offline(self):
        t = self.tickets
        folder = os.path.join(self.work, "badges")
        os.mkdir(folder)
        done = run_scan(self.args("--timeout", SLOW, "--badge-dir", folder, token=self.token),
                        [t[0], t[0], "hello", t[1]], state=self.state)
        self.assertEqual(done.returncode, 1, done.stderr)  # a scan was refused
        self.assertEqual(done.stdout.splitlines()[0], "✔ VALID  Guest Number 1 — Org 1")
        names = self.badges(folder)
        self.assertEqual(len(names), 2, names)
        self.assertTrue(names[0].startswith("badge-%d-" % self.regs[0]), names)
        self.check_badge(os.path.join(folder, names[0]), t[0], "Guest Number 1")
        self.check_badge(os.path.join(folder, names[1]), t[1], "Guest Number 2")
        self.assertEqual(int(harness.subprocess.run(
            ["qpdf", "--show-npages", os.path.join(folder, names[0])], capture_output=True,
            text=True).stdout), 1)
        # Offline: admitd gone, the snapshot decides and still knows the name.
        self.assertEqual(self.server.stop(), 0)
        done = run_scan(self.args("--timeout", "500", "--badge-dir", folder), [t[2]],
                        state=self.state)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("VALID", done.stdout)
        names = [n for n in self.badges(folder) if n.startswith("badge-%d-" % self.regs[2])]
        self.assertEqual(len(names), 1, self.badges(folder))
        self.check_badge(os.path.join(folder, names[0]), t[2], "Guest Number 3")

    def test_usage_errors(self):
        done = run_scan(self.args("--badge-dir", os.path.join(self.work, "nope"),
                                  token=self.token), [], state=self.state)
        self.assertEqual(done.returncode, 2)
        self.assertIn("no such folder", done.stderr)
        done = run_scan(self.args("--badge-dir", self.work, "--badge-size", "a0",
                                  token=self.token), [], state=self.state)
        self.assertEqual(done.returncode, 2)
        self.assertIn("--badge-size a0: no such badge layout", done.stderr)


if __name__ == "__main__":
    harness.main()
