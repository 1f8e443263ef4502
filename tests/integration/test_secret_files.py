#!/usr/bin/python3
"""Secrets from files: every setting with a variable (ADMIT_X) can be read from the file named by
ADMIT_X_FILE instead (lib/core/opts.c, for admitd and every admit command alike), which is also how
systemd credentials reach admitd and the mailer (ADMIT_X_FILE=%d/NAME in a unit: a file in
$CREDENTIALS_DIRECTORY). The value is used, and never shown: not in a log, not on a command
line, not in an error. A file that is missing, unreadable, open to others or holds no single
value stops the program with one line and exit status 2. /usr/bin/python3: the mailer test's
SMTP server is Debian's python3-aiosmtpd.
"""

import os
import secrets
import subprocess

import harness
from harness import Admitd, ServerTestCase, SmtpSink, create_event, register_sql, run_admit


def without(env, *names):
    return {k: v for k, v in env.items() if k not in names}


class SecretFiles(ServerTestCase):

    def setUp(self):
        super().setUp()
        # Laid out as systemd lays out $CREDENTIALS_DIRECTORY: a folder of 0500, files of 0400.
        self.credentials = os.path.join(self.work, "credentials")
        os.mkdir(self.credentials, 0o700)
        self.addCleanup(os.chmod, self.credentials, 0o700)
        self.secret = "pw-" + secrets.token_hex(8)

    def credential(self, name, content, mode=0o400):
        path = os.path.join(self.credentials, name)
        if os.path.exists(path):
            os.chmod(path, 0o600)
            os.unlink(path)
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, mode)
        return path

    def env(self, **variables):
        env = without(os.environ, "ADMIT_DATABASE_URL", "ADMIT_DATABASE_URL_FILE",
                      "ADMIT_SMTP_USER", "ADMIT_SMTP_PASSWORD", "ADMIT_SMTP_PASSWORD_FILE")
        env.update(variables, CREDENTIALS_DIRECTORY=self.credentials)
        return env

    def test_database_url_from_a_credential(self):
        # The password is ignored by the test cluster (trust), but it is part of the value.
        path = self.credential("database-url", "%s password=%s\n" % (self.db.dsn, self.secret))
        os.chmod(self.credentials, 0o500)
        env = self.env(ADMIT_DATABASE_URL_FILE=path)
        server = Admitd(self.work, None, self.keys, env=env)
        self.addCleanup(self._stop_cleanly, server)
        self.assertEqual(server.get("/healthz").status, 200)
        with open("/proc/%d/cmdline" % server.proc.pid, "rb") as f:
            self.assertNotIn(self.secret.encode(), f.read())
        with open("/proc/%d/environ" % server.proc.pid, "rb") as f:
            self.assertNotIn(self.secret.encode(), f.read())
        # The admit commands read it the same way.
        done = run_admit("migrate", env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(server.stop(), 0)
        self.assertNotIn(self.secret, server.log_text())

    def test_bad_files_stop_the_program_with_one_line(self):
        value = "%s password=%s\n" % (self.db.dsn, self.secret)
        good = self.credential("database-url", value)
        cases = [
            ("missing", os.path.join(self.credentials, "nothing-here"), {},
             "cannot read %s: No such file or directory"
             % os.path.join(self.credentials, "nothing-here")),
            ("open to others", self.credential("open", value, 0o604), {},
             "is open to others"),
            ("writable by others", self.credential("writable", value, 0o602), {},
             "is open to others"),
            ("empty", self.credential("empty", "\n"), {}, "must be a file holding the value"),
            ("two lines", self.credential("two", value + value), {},
             "must be a file holding the value"),
            ("a folder", self.credentials, {}, "must be a file holding the value"),
            ("both set", good, {"ADMIT_DATABASE_URL": self.db.dsn},
             "set ADMIT_DATABASE_URL or ADMIT_DATABASE_URL_FILE, not both"),
        ]
        for what, path, extra, message in cases:
            env = self.env(ADMIT_DATABASE_URL_FILE=path, **extra)
            for program in ([harness.ADMITD_BIN, "--keys", self.keys],
                            [harness.ADMIT_BIN, "migrate"]):
                done = subprocess.run(program, env=env, capture_output=True, text=True,
                                      timeout=60, stdin=subprocess.DEVNULL)
                self.assertEqual(done.returncode, 2, (what, program, done.stderr))
                self.assertIn("$ADMIT_DATABASE_URL_FILE: " if what != "both set" else "",
                              done.stderr, what)
                self.assertIn(message, done.stderr, what)
                self.assertEqual(len(done.stderr.splitlines()), 1, (what, done.stderr))
                self.assertNotIn(self.secret, done.stderr + done.stdout, what)

    def test_unreadable_file(self):
        path = self.credential("database-url", "%s password=%s\n" % (self.db.dsn, self.secret))
        program = [harness.ADMITD_BIN, "--keys", self.keys]
        if os.geteuid() == 0:  # root reads anything: run as a user who may not
            os.chmod(self.work, 0o711)
            os.chmod(self.credentials, 0o711)
            program = ["runuser", "-u", "nobody", "--"] + program
        else:
            os.chmod(path, 0o000)
        done = subprocess.run(program, env=self.env(ADMIT_DATABASE_URL_FILE=path),
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertEqual(done.stderr.strip(), "admitd: $ADMIT_DATABASE_URL_FILE: cannot read "
                         "%s: Permission denied" % path)

    def test_smtp_password_from_a_credential(self):
        sink = SmtpSink(credentials=("tickets", self.secret))
        self.addCleanup(sink.stop)
        event = create_event(self.db.dsn)
        register_sql(self.db.dsn, event.slug, 1, [event.list_ids[0]])
        path = self.credential("smtp-password", self.secret + "\n")
        base = ["mailer", "--db", self.db.dsn, "--keys", self.keys, "--public-url",
                "https://tickets.example.org", "--templates", harness.TEMPLATES_DIR,
                "--smtp-url", sink.url, "--from", "Tickets <tickets@terra.example>", "--once"]
        # A password is never a command-line option.
        done = run_admit(*(base + ["--smtp-password", self.secret]), check=False,
                         env=self.env(ADMIT_SMTP_USER="tickets"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("unknown option --smtp-password", done.stderr)
        # A user without a password (its file unset) is refused before anything is sent.
        done = run_admit(*base, check=False, env=self.env(ADMIT_SMTP_USER="tickets"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("ADMIT_SMTP_PASSWORD", done.stderr)
        self.assertEqual(sink.logins, [])
        done = run_admit(*base, env=self.env(ADMIT_SMTP_USER="tickets",
                                             ADMIT_SMTP_PASSWORD_FILE=path))
        self.assertEqual(sink.logins, [("tickets", self.secret)])
        self.assertEqual(sink.count(), 1)
        self.assertIn("sent message=", done.stderr)
        self.assertNotIn(self.secret, done.stderr + done.stdout)


if __name__ == "__main__":
    harness.main()
