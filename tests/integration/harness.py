"""Black-box test harness for admitd: real binaries, a real PostgreSQL, plain HTTP.

Every test of a ServerTestCase gets, in setUp:
  self.db     a fresh database t_<random> in the ctest cluster (ADMIT_TEST_DATABASE_URL), migrated
              with `admit migrate`, dropped at the end of the test
  self.keys   a folder with a ticket-signing key pair made by `admit keygen`
  self.work   a scratch folder, deleted at the end
and self.start_admitd(...) starts admitd on 127.0.0.1:0 against them, reads the port from its
"listening on" log line and keeps its stderr in a file (server.log_text()). At the end of the
test every server still running is stopped with SIGTERM and must exit with status 0 (which, in
the sanitizer build, also means no leak and no error report).

Tests that stop PostgreSQL use a PrivateCluster of their own (scripts/pg start DIR): the ctest
cluster is shared by tests running at the same time and is never stopped here.

Environment (set by tests/CMakeLists.txt): ADMIT_BIN, ADMITD_BIN, ADMIT_TEST_DATABASE_URL,
ADMIT_SOURCE_DIR, ADMIT_BUILD_DIR. Python standard library only.
"""

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

ADMIT_BIN = os.environ.get("ADMIT_BIN", "")
ADMITD_BIN = os.environ.get("ADMITD_BIN", "")
SOURCE_DIR = os.environ.get("ADMIT_SOURCE_DIR", "")
BUILD_DIR = os.environ.get("ADMIT_BUILD_DIR", "")
TEST_DSN = os.environ.get("ADMIT_TEST_DATABASE_URL", "")
TEMPLATES_DIR = os.path.join(SOURCE_DIR, "templates")

# Sanitizer builds start and answer more slowly: generous bounds, never sleeps of that length.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

LISTEN_RE = re.compile(r"admitd: listening on http://(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)")


def require_environment():
    missing = [name for name, value in [("ADMIT_BIN", ADMIT_BIN), ("ADMITD_BIN", ADMITD_BIN),
                                        ("ADMIT_TEST_DATABASE_URL", TEST_DSN),
                                        ("ADMIT_SOURCE_DIR", SOURCE_DIR)] if not value]
    if missing:
        raise SystemExit("harness: set %s (ctest does)" % ", ".join(missing))


def dsn_for(dsn, dbname):
    """dsn with its dbname replaced (or added)."""
    if re.search(r"(^|\s)dbname=\S+", dsn):
        return re.sub(r"(^|\s)dbname=\S+", r"\1dbname=" + dbname, dsn)
    return dsn + " dbname=" + dbname


def psql(dsn, sql):
    """Runs sql through psql on dsn; returns its output (unaligned, tuples only)."""
    done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn,
                           "-c", sql], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError("psql failed (%s): %s" % (sql, done.stderr.strip()))
    return done.stdout


def run_admit(*args, check=True, env=None):
    """Runs the admit CLI; returns the CompletedProcess (text)."""
    done = subprocess.run([ADMIT_BIN] + list(args), capture_output=True, text=True, timeout=120,
                          env=env)
    if check and done.returncode != 0:
        raise AssertionError("admit %s exited %d: %s" % (" ".join(args), done.returncode,
                                                         done.stderr.strip()))
    return done


class Database:
    """A fresh database beside the cluster's "admit" database; drop() removes it."""

    def __init__(self, cluster_dsn=None, migrate=True):
        self.cluster_dsn = cluster_dsn or TEST_DSN
        self.name = "t_" + secrets.token_hex(6)
        psql(self.cluster_dsn, "CREATE DATABASE %s" % self.name)
        self.dsn = dsn_for(self.cluster_dsn, self.name)
        if migrate:
            self.migrate()

    def migrate(self):
        run_admit("migrate", "--db", self.dsn)

    def sql(self, text):
        return psql(self.dsn, text)

    def drop(self):
        psql(self.cluster_dsn, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)


def make_keys(folder):
    """A keys folder made by admit keygen; returns its path."""
    run_admit("keygen", "--dir", folder)
    return folder


class Response:
    """What came back: status, headers (case-insensitive lookup) and the whole body."""

    def __init__(self, raw):
        self.status = raw.status
        self.reason = raw.reason
        self.headers = raw.headers
        self.body = raw.read()

    def header(self, name):
        return self.headers.get(name)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %d %s, %d bytes>" % (self.status, self.reason, len(self.body))


class Admitd:
    """One admitd process. Use ServerTestCase.start_admitd, which stops it after the test."""

    def __init__(self, work, dsn, keys, args=(), env=None, templates=None):
        self.log_path = os.path.join(work, "admitd-%s.log" % secrets.token_hex(4))
        self.host = "127.0.0.1"
        self.port = None
        cmd = [ADMITD_BIN, "--db", dsn, "--keys", keys]
        if "--listen" not in args:
            cmd += ["--listen", "127.0.0.1:0"]
        if templates is not None:
            cmd += ["--templates", templates]
        cmd += list(args)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._log, env=env)
        self._wait_listening()

    def _wait_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(self.log_text())
            if m:
                self.host = m.group(1).strip("[]")
                self.port = int(m.group(2))
                return
            if self.proc.poll() is not None:
                raise AssertionError("admitd exited %d before listening: %s"
                                     % (self.proc.returncode, self.log_text()))
            time.sleep(0.02)
        self.proc.kill()
        raise AssertionError("admitd did not log 'listening on' in %ds: %s"
                             % (START_TIMEOUT, self.log_text()))

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request_lines(self):
        """The per-request log lines, as dicts of their key=value fields."""
        lines = []
        for line in self.log_text().splitlines():
            if line.startswith("admitd: time="):
                lines.append(dict(f.split("=", 1) for f in line[len("admitd: "):].split(" ")))
        return lines

    def wait_log(self, pattern, timeout=10.0):
        """Waits until the log matches the regular expression pattern; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log_text())
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.02)

    def connection(self, timeout=10.0):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        """One request on a fresh connection; returns a Response."""
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            return Response(conn.getresponse())
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def socket(self, timeout=10.0):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def stop(self, sig=signal.SIGTERM):
        """Sends sig and waits; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.wait()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("admitd did not stop within %ds: %s"
                                 % (STOP_TIMEOUT, self.log_text()))


def start_failure(args, env=None, timeout=60):
    """Runs admitd expecting it not to start; returns (exit status, stderr text)."""
    proc = subprocess.run([ADMITD_BIN] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, env=env)
    return proc.returncode, proc.stderr


def run_output(cmd, env=None, timeout=60):
    """Runs cmd; returns (exit status, stdout text)."""
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, env=env)
    return done.returncode, done.stdout


def raw_exchange(sock, data, timeout=10.0, timeout_ok=False):
    """Sends data, then reads until the server closes; returns the bytes read (a reset counts
    as a close). Running out of time raises socket.timeout, unless timeout_ok: then the bytes
    read so far are returned (for a server that answered and keeps the connection open)."""
    sock.settimeout(timeout)
    if data:
        sock.sendall(data)
    return read_until_close(sock, timeout, timeout_ok)


def read_until_close(sock, timeout=10.0, timeout_ok=False):
    """Reads until the server closes the connection; see raw_exchange."""
    sock.settimeout(timeout)
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        except socket.timeout:
            if not timeout_ok:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


class Browser:
    """A tiny cookie-keeping client for form flows: GET a form page, POST it back.
    Keeps cookies by name (one site only), sends them back, and can send an Origin header."""

    def __init__(self, server):
        self.server = server
        self.cookies = {}

    def request(self, method, path, form=None, headers=None):
        headers = dict(headers or {})
        body = None
        if form is not None:
            from urllib.parse import urlencode
            body = urlencode(form, doseq=True)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        response = self.server.request(method, path, body=body, headers=headers)
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, form, headers=None):
        return self.request("POST", path, form=form, headers=headers)


def hidden_field(html, name):
    """The value of <input ... name="NAME" ... value="..."> in a page, or None."""
    for tag in re.findall(r"<input\b[^>]*>", html):
        if re.search(r'\bname="%s"' % re.escape(name), tag):
            m = re.search(r'\bvalue="([^"]*)"', tag)
            return m.group(1) if m else ""
    return None


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (scripts/pg), which the test may stop and start.
    Its folder sits in /tmp: a Unix socket path must stay under 108 bytes."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="admit-pg-")
        self.script = os.path.join(SOURCE_DIR, "scripts", "pg")
        self.start()
        self.dsn = "host=%s/run dbname=admit user=admit" % self.dir

    def _pg(self, action):
        done = subprocess.run([self.script, action, self.dir], capture_output=True, text=True,
                              timeout=180)
        if done.returncode != 0:
            raise AssertionError("scripts/pg %s failed: %s" % (action, done.stderr.strip()))
        return done.stdout

    def start(self):
        self._pg("start")

    def stop(self):
        self._pg("stop")

    def destroy(self):
        self._pg("destroy")
        shutil.rmtree(self.dir, ignore_errors=True)


class ServerTestCase(unittest.TestCase):
    """A fresh migrated database, keys and a scratch folder per test; admitd on demand.
    With private_cluster = True the database lives in a PostgreSQL of the test's own
    (self.cluster), which the test may stop and start."""

    migrate = True
    private_cluster = False

    def setUp(self):
        require_environment()
        self.work = tempfile.mkdtemp(prefix="admit-it-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.cluster = None
        if self.private_cluster:
            self.cluster = PrivateCluster()
            self.addCleanup(self.cluster.destroy)
        self.db = Database(cluster_dsn=self.cluster.dsn if self.cluster else None,
                           migrate=self.migrate)
        if not self.cluster:
            self.addCleanup(self.db.drop)
        self.keys = make_keys(os.path.join(self.work, "keys"))

    def start_admitd(self, *args, dsn=None, keys=None, env=None, templates=None):
        """Starts admitd with extra args; at cleanup it must stop with status 0 on SIGTERM."""
        server = Admitd(self.work, dsn or self.db.dsn, keys or self.keys, args, env=env,
                        templates=templates)
        self.addCleanup(self._stop_cleanly, server)
        return server

    def _stop_cleanly(self, server):
        if server.proc.returncode is not None:
            return  # the test stopped it and checked the status itself
        status = server.stop()
        self.assertEqual(status, 0, "admitd exited %d on SIGTERM: %s" % (status,
                                                                        server.log_text()))

    def assertSecurityHeaders(self, response):
        csp = response.header("Content-Security-Policy") or ""
        self.assertIn("default-src 'none'", csp, response)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertIn("form-action 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("script-src", csp)  # default-src 'none' forbids every script
        self.assertEqual(response.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(response.header("Referrer-Policy"), "no-referrer")
        self.assertEqual(response.header("X-Frame-Options"), "DENY")


def wait_until(predicate, timeout=10.0, step=0.05):
    """Polls predicate until it is true or timeout seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def main():
    """Runs the unittest tests of the calling module; exit status 0 when all pass."""
    require_environment()
    unittest.main(module="__main__", verbosity=2)
