#!/usr/bin/env python3
"""Badges at the door (issue 20): `admit scan --badge-dir DIR` writes a one-page badge PDF for
each valid entry, beside the scan loop, online and offline (the synced snapshot holds the name
and organisation), and none for a refused scan or an exit; `--print-badge PRINTER` hands each to
a real CUPS daemon the test starts (cupsd with its own configuration and spool under the test's
folder, a raw queue), whose spooled jobs are checked. Each PDF checked with qpdf, pdftotext,
pdffonts, and its QR code (zbarimg) is the scanned ticket.
"""

import os
import shutil
import subprocess
import time
import unittest

import harness
from harness import run_scan
from test_print import PdfChecks
from test_scan import SLOW, ScanCase


class BadgeChecks(PdfChecks):
    def check_badge(self, path, ticket, name):
        text = self.check_pdf(path)
        self.assertIn(name, text)
        self.assertEqual(self.qr_texts(path), [ticket])


class DoorBadges(ScanCase, BadgeChecks):
    def badges(self, folder):
        return sorted(n for n in os.listdir(folder) if n.endswith(".pdf"))

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


CUPSD_CONF = """Listen %(root)s/cups.sock
LogLevel info
WebInterface No
PreserveJobFiles Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Location /admin>
  Order allow,deny
  Allow all
</Location>
"""
CUPS_FILES_CONF = """ServerRoot %(root)s
RequestRoot %(root)s/spool
TempDir %(root)s/tmp
CacheDir %(root)s/cache
StateDir %(root)s/state
ErrorLog %(root)s/log/error_log
AccessLog %(root)s/log/access_log
PageLog %(root)s/log/page_log
Sandboxing Relaxed
"""


class PrivateCups:
    """cupsd in the foreground with its configuration, spool and socket in root; a raw queue
    "door" whose jobs stay in the spool (PreserveJobFiles) to be read back."""

    def __init__(self, root):
        self.root = root
        for sub in ("spool", "tmp", "cache", "state", "log"):
            os.makedirs(os.path.join(root, sub))
        os.chmod(root, 0o755)
        with open(os.path.join(root, "cupsd.conf"), "w") as f:
            f.write(CUPSD_CONF % {"root": root})
        with open(os.path.join(root, "cups-files.conf"), "w") as f:
            f.write(CUPS_FILES_CONF % {"root": root})
        self.env = dict(os.environ, CUPS_SERVER=os.path.join(root, "cups.sock"))
        self.proc = subprocess.Popen(["cupsd", "-f", "-c", os.path.join(root, "cupsd.conf"),
                                      "-s", os.path.join(root, "cups-files.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not harness.wait_until(lambda: os.path.exists(self.env["CUPS_SERVER"]), 20):
            raise AssertionError("cupsd did not start: %s" % self.log())
        done = subprocess.run(["lpadmin", "-p", "door", "-E", "-v", "file:///dev/null", "-m",
                               "raw"], env=self.env, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise AssertionError("lpadmin: %s" % done.stderr)

    def log(self):
        try:
            with open(os.path.join(self.root, "log", "error_log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def jobs(self):
        spool = os.path.join(self.root, "spool")
        return sorted(os.path.join(spool, n) for n in os.listdir(spool) if n.startswith("d"))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


@unittest.skipUnless(shutil.which("cupsd") and os.geteuid() == 0,
                     "needs cupsd (Debian: cups-daemon) and root, as cupsd runs its queues")
class PrintedAtTheDoor(ScanCase, BadgeChecks):
    def test_each_valid_entry_is_printed(self):
        cups = PrivateCups(os.path.join(self.work, "cups"))
        self.addCleanup(cups.stop)
        t = self.tickets
        started = time.monotonic()
        done = run_scan(self.args("--timeout", SLOW, "--print-badge", "door", token=self.token),
                        [t[0], "hello", t[1], t[1]], state=self.state, env=cups.env)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertNotIn("could not be written or printed", done.stderr)
        self.assertTrue(harness.wait_until(lambda: len(cups.jobs()) == 2, 30), cups.log())
        self.assertLess(time.monotonic() - started, 60)
        for job, ticket, name in zip(cups.jobs(), t, ("Guest Number 1", "Guest Number 2")):
            self.check_badge(job, ticket, name)
        queued = subprocess.run(["lpstat", "-W", "all", "-o", "door"], env=cups.env,
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(queued.returncode, 0, queued.stderr)

    def test_an_unknown_printer_is_said_and_the_scans_go_on(self):
        cups = PrivateCups(os.path.join(self.work, "cups"))
        self.addCleanup(cups.stop)
        done = run_scan(self.args("--timeout", SLOW, "--print-badge", "nope", token=self.token),
                        [self.tickets[0]], state=self.state, env=cups.env)
        self.assertIn("VALID", done.stdout)
        self.assertIn("1 badge could not be written or printed", done.stderr)


if __name__ == "__main__":
    harness.main()
