#!/usr/bin/env python3
"""`cmake --install` of this build into a staging folder (DESTDIR), checked as a server would
use it: every file in place; the man pages clean under `man --warnings` and listing every
option of every --help; the systemd units passing `systemd-analyze verify` (also with the
credential drop-ins their comments document) with a low exposure in `systemd-analyze
security`; the environment file naming only variables that exist; and the installed admitd
and mailer finding their templates at the compiled-in default under the prefix, while a binary
run from the build folder uses the checkout's.
"""

import gzip
import os
import re
import shutil
import subprocess
import tempfile

from installed import (cache_value, harness, overlay_problem, overlay_program, serve_installed,
                       tree)
from installed import read as installed_read
from harness import ServerTestCase

BUILD = harness.BUILD_DIR
PREFIX = None
STAGE = None
INSTALLED = None  # every file installed, relative to STAGE
ADMITD_BIN = harness.ADMITD_BIN


def setUpModule():
    global PREFIX, STAGE, INSTALLED
    PREFIX = cache_value(BUILD, "CMAKE_INSTALL_PREFIX")
    STAGE = tempfile.mkdtemp(prefix="admit-stage-")
    done = subprocess.run(["cmake", "--install", BUILD], env=dict(os.environ, DESTDIR=STAGE),
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise AssertionError("cmake --install failed: %s" % done.stderr)
    INSTALLED = {os.path.join(root, name)[len(STAGE):]
                 for root, _, names in os.walk(STAGE) for name in names}


def tearDownModule():
    shutil.rmtree(STAGE, ignore_errors=True)


def staged(*parts):
    return os.path.join(STAGE + PREFIX, *parts)


def etc():
    """GNUInstallDirs' sysconfdir: /etc for the prefix /usr, PREFIX/etc otherwise."""
    return "/etc" if PREFIX == "/usr" else os.path.join(PREFIX, "etc")


def help_options(program):
    """The long options and variables a --help lists."""
    out = subprocess.run(program + ["--help"], capture_output=True, text=True, timeout=60).stdout
    options = set(re.findall(r"^ +(?:-\w, )?--([a-z][a-z0-9-]*)", out, re.M))
    variables = set(re.findall(r"\[env: (ADMIT_[A-Z_]+)\]", out))
    variables |= set(re.findall(r"^ +\$(ADMIT_[A-Z_]+)", out, re.M))
    return options - {"help", "help-man"}, variables


def admit_commands():
    out = subprocess.run([harness.ADMIT_BIN, "--help"], capture_output=True, text=True,
                         timeout=60).stdout
    return re.findall(r"^  ([a-z]+(?: [a-z]+)?)  +\S", out, re.M)


class InstallTree(ServerTestCase):

    def unit(self, name):
        return os.path.join(STAGE + self.unit_dir(), name)

    def unit_dir(self):
        return cache_value(BUILD, "ADMIT_SYSTEMD_UNIT_DIR")

    def test_files_in_place(self):
        for path in ["sbin/admitd", "bin/admit"]:
            self.assertTrue(os.access(staged(path), os.X_OK), path)
        self.assertEqual(tree(staged("share", "admit", "templates")),
                         tree(os.path.join(harness.SOURCE_DIR, "templates")))
        for path in ["share/man/man8/admitd.8.gz", "share/man/man1/admit.1.gz",
                     "share/doc/admit/examples/nginx-admit.conf", "share/doc/admit/copyright",
                     "share/doc/admit/changelog.gz"]:
            self.assertTrue(os.path.isfile(staged(path)), path)
        for name in ["admitd.service", "admit-mailer.service", "admit-purge.service",
                     "admit-purge.timer"]:
            self.assertTrue(os.path.isfile(self.unit(name)), name)
        for folder in ["sysusers.d", "tmpfiles.d"]:
            self.assertTrue(os.path.isfile(staged("lib", folder, "admit.conf")), folder)
        env = STAGE + os.path.join(etc(), "admit", "admit.env")
        self.assertEqual(os.stat(env).st_mode & 0o777, 0o640)
        # Nothing else: no library, header, test or benchmark.
        templates = os.path.join(PREFIX, "share", "admit", "templates") + "/"
        expected = {os.path.join(PREFIX, p) for p in [
            "sbin/admitd", "bin/admit", "share/man/man8/admitd.8.gz", "share/man/man1/admit.1.gz",
            "share/doc/admit/examples/nginx-admit.conf",
            "share/doc/admit/examples/after-restore.sql", "share/doc/admit/copyright",
            "share/doc/admit/changelog.gz"]}
        expected |= {os.path.join(self.unit_dir(), "admitd.service"),
                     os.path.join(self.unit_dir(), "admit-mailer.service"),
                     os.path.join(self.unit_dir(), "admit-purge.service"),
                     os.path.join(self.unit_dir(), "admit-purge.timer"),
                     os.path.join(cache_value(BUILD, "ADMIT_SYSUSERS_DIR"), "admit.conf"),
                     os.path.join(cache_value(BUILD, "ADMIT_TMPFILES_DIR"), "admit.conf"),
                     os.path.join(etc(), "admit", "admit.env")}
        self.assertEqual({p for p in INSTALLED if not p.startswith(templates)}, expected)

    def test_man_pages(self):
        pages = {"admitd": (staged("share/man/man8/admitd.8.gz"), [ADMITD_BIN]),
                 "admit": (staged("share/man/man1/admit.1.gz"), None)}
        for name, (page, program) in pages.items():
            done = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z",
                                   page], capture_output=True, text=True, timeout=60)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stderr, "", "man --warnings on %s" % name)
            # The source, where no line is broken inside a word.
            with gzip.open(page, "rt") as f:
                source = f.read()
            programs = [program] if program else [[harness.ADMIT_BIN] + c.split()
                                                  for c in admit_commands()]
            for p in programs:
                options, variables = help_options(p)
                for option in options:
                    self.assertIn("\\-\\-" + option.replace("-", "\\-"), source, (name, p))
                for variable in variables:
                    self.assertIn(variable, source, (name, p))
            if name == "admit":
                for command in admit_commands():
                    self.assertIn('.SS "admit %s"' % command, source)
            else:
                self.assertIn("/livez", source)

    def test_environment_file_names_real_variables(self):
        known = set()
        for program in [[ADMITD_BIN], [harness.ADMIT_BIN, "mailer"]]:
            known |= help_options(program)[1]
        with open(STAGE + os.path.join(etc(), "admit", "admit.env")) as f:
            lines = [line.strip().lstrip("#") for line in f]
        variables = [line.split("=", 1)[0] for line in lines if re.match(r"ADMIT_[A-Z_]+=", line)]
        self.assertGreater(len(variables), 8)
        for variable in variables:
            self.assertIn(variable, known)
        self.assertFalse([v for v in variables if "PASSWORD" in v])

    def test_systemd_units(self):
        units = [self.unit("admitd.service"), self.unit("admit-mailer.service")]
        purge = [self.unit("admit-purge.service"), self.unit("admit-purge.timer")]
        text = {u: installed_read(u).decode() for u in units + purge}
        for unit in units + purge[:1]:
            for line in ["User=admit", "ProtectSystem=strict", "ProtectHome=yes",
                         "PrivateTmp=yes", "NoNewPrivileges=yes", "StateDirectory=admit",
                         "CapabilityBoundingSet=",
                         "EnvironmentFile=%s/admit/admit.env" % etc()]:
                self.assertIn("\n" + line + "\n", text[unit], (unit, line))
            exec_start = re.search(r"^ExecStart=(.*)$", text[unit], re.M).group(1)
            self.assertNotIn("--", exec_start)  # every setting from the environment file
        self.assertIn("ExecStart=%s/sbin/admitd\n" % PREFIX, text[units[0]])
        self.assertIn("ExecStart=%s/bin/admit mailer\n" % PREFIX, text[units[1]])
        self.assertIn("ExecStart=%s/bin/admit purge\n" % PREFIX, text[purge[0]])
        self.assertIn("\nPersistent=true\n", text[purge[1]])
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is missing (Debian package systemd): the units were "
                          "not verified")
        # systemd-analyze --root looks for everything below the root: the system's own units
        # (sysinit.target, ...) are copied beside the staged ones.
        shutil.copytree("/usr/lib/systemd/system", os.path.join(STAGE, "usr/lib/systemd/system"),
                        symlinks=True, dirs_exist_ok=True)
        env = dict(os.environ, MANPATH=staged("share/man"))  # Documentation=man:... checked

        def verify(*names):
            done = subprocess.run(["systemd-analyze", "verify", "--root=" + STAGE] + list(names),
                                  capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual((done.returncode, done.stderr.strip()), (0, ""),
                             "systemd-analyze verify %s" % " ".join(names))
        verify(*units, *purge)
        # The credential drop-ins the units' comments document, as an operator would write them.
        for unit in units:
            block = re.search(r"^#   \[Service\]\n((?:#   .*\n)+)", text[unit], re.M)
            self.assertIsNotNone(block, unit)
            dropin = "[Service]\n" + re.sub(r"^#   ", "", block.group(1), flags=re.M)
            self.assertIn("LoadCredential=", dropin)
            self.assertRegex(dropin, r"Environment=ADMIT_[A-Z_]+_FILE=%d/")
            folder = os.path.join(STAGE, "etc/systemd/system", os.path.basename(unit) + ".d")
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "credentials.conf"), "w") as f:
                f.write(dropin)
        verify(*units)
        for unit in units + purge[:1]:
            done = subprocess.run(["systemd-analyze", "security", "--offline=true",
                                   "--root=" + STAGE, unit], capture_output=True, text=True,
                                  timeout=120)
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout)
            self.assertIsNotNone(m, done.stdout + done.stderr)
            self.assertLessEqual(float(m.group(1)), 2.0, done.stdout)

    def test_installed_programs_find_their_templates(self):
        templates = os.path.join(PREFIX, "share", "admit", "templates")
        out = subprocess.run([staged("sbin/admitd"), "--help"], capture_output=True,
                             text=True).stdout
        self.assertIn("[default: %s]" % templates, out)
        problem = overlay_problem(staged("share"), os.path.join(PREFIX, "share"))
        if problem:
            self.skipTest("the installed admitd was not run (%s)" % problem)
        serve_installed(self, overlay_program(staged("share"), os.path.join(PREFIX, "share"),
                                              [staged("sbin/admitd")]))
        # The mailer loads its e-mail templates from there too, then finds nothing to send.
        done = subprocess.run(overlay_program(staged("share"), os.path.join(PREFIX, "share"), [
            staged("bin/admit"), "mailer", "--db", self.db.dsn, "--keys", self.keys,
            "--smtp-url", "smtp://127.0.0.1:1", "--from", "T <t@example.org>",
            "--public-url", "https://tickets.example.org", "--once"]),
            capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        # Without the overlay, the installed admitd has no templates: it does not fall back to
        # the checkout.
        done = subprocess.run([staged("sbin/admitd"), "--db", self.db.dsn, "--keys", self.keys],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 1)
        self.assertIn(templates, done.stderr)

    def test_build_tree_uses_the_checkout(self):
        serve_installed(self, [ADMITD_BIN])


if __name__ == "__main__":
    harness.main()
