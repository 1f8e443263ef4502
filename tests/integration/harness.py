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

    def __init__(self, work, dsn, keys, args=(), env=None, templates=None, program=None):
        self.log_path = os.path.join(work, "admitd-%s.log" % secrets.token_hex(4))
        self.host = "127.0.0.1"
        self.port = None
        # program: the command that runs admitd (an installed one, in a namespace), if not ours.
        cmd = list(program or [ADMITD_BIN]) + ["--keys", keys]
        if dsn is not None:  # None: from the environment (ADMIT_DATABASE_URL or its _FILE)
            cmd += ["--db", dsn]
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

    def wait_request_lines(self, keep, count, timeout=10.0):
        """The request log lines for which keep(line) is true, once there are at least count of
        them (or timeout seconds passed). A request's line is written when libmicrohttpd reports
        it completed, which can be just after the client has read the response."""
        def kept():
            return [line for line in self.request_lines() if keep(line)]
        wait_until(lambda: len(kept()) >= count, timeout)
        return kept()

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

    def crash(self):
        """Stops PostgreSQL as a crash would (pg_ctl stop -m immediate): every backend is
        killed at once, clients see their connections break, the next start recovers."""
        self._pg("crash")

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
        self.assertEqual(response.header("Referrer-Policy"), "same-origin")
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


# Registration helpers: events, the registration form, tickets and their QR codes. Used by the
# test_registration*.py files and by tests/browser/run.py; usable by any test that needs an event
# or a registered attendee.

EVENT_TIME_ZONE = "Europe/Brussels"


class Event:
    """An event made by create_event: id, slug, name, capacity, lists [(id, name)], starts
    (a datetime.date), venue, address."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    @property
    def list_ids(self):
        return [list_id for list_id, _ in self.lists]

    def __repr__(self):
        return "<Event %d %s>" % (self.id, self.slug)


def local_time(days_from_now, hour=9):
    """"YYYY-MM-DD HH:00", days_from_now days from today (a negative number: in the past)."""
    import datetime
    day = datetime.date.today() + datetime.timedelta(days=days_from_now)
    return "%s %02d:00" % (day.isoformat(), hour)


def create_event(dsn, slug=None, name="Research Conference", capacity=100, days_ahead=300,
                 days=2, lists=None, opens=None, closes=None, venue="Natural History Museum",
                 address="Rue Vautier 29, 1000 Brussels", extra=()):
    """Creates an event with `admit event create` (dates relative to today, so the tests never
    go stale) and returns an Event. lists: names ("Cluster session") or (name, day offset)
    pairs; by default one list per day plus a "Cluster session" tied to no day. opens/closes:
    local times ("2027-10-29 09:00", see local_time) or None."""
    import datetime
    slug = slug or "ev-" + secrets.token_hex(4)
    start = datetime.date.today() + datetime.timedelta(days=days_ahead)
    if lists is None:
        lists = [("Day %d" % (i + 1), i) for i in range(days)] + ["Cluster session"]
    args = ["event", "create", "--db", dsn, "--slug", slug, "--name", name,
            "--starts", "%s 09:00" % start.isoformat(),
            "--ends", "%s 18:00" % (start + datetime.timedelta(days=days - 1)).isoformat(),
            "--capacity", str(capacity), "--tz", EVENT_TIME_ZONE]
    if venue:
        args += ["--venue", venue]
    if address:
        args += ["--address", address]
    if opens:
        args += ["--opens", opens]
    if closes:
        args += ["--closes", closes]
    for item in lists:
        if isinstance(item, tuple):
            day = start + datetime.timedelta(days=item[1])
            args += ["--list", "%s@%s" % (item[0], day.isoformat())]
        else:
            args += ["--list", item]
    args += list(extra)
    out = run_admit(*args).stdout
    m = re.search(r"event (\d+) created", out)
    if not m:
        raise AssertionError("admit event create said: %r" % out)
    event_id = int(m.group(1))
    rows = psql(dsn, "SELECT id, name FROM checkin_lists WHERE event_id = %d ORDER BY position"
                % event_id)
    found = [(int(r.split("|", 1)[0]), r.split("|", 1)[1]) for r in rows.splitlines() if r]
    return Event(id=event_id, slug=slug, name=name, capacity=capacity, lists=found, starts=start,
                 venue=venue, address=address)


def attendee_fields(**overrides):
    """A valid set of registration fields for a new attendee (a unique email address), without
    the hidden fields and lists; overrides replace or add fields (None removes one)."""
    fields = {"given_name": "Ada", "family_name": "Lovelace",
              "email": "ada.%s@example.org" % secrets.token_hex(6),
              "organisation": "Analytical Engine Society", "organisation_type": "research",
              "country": "BE", "dietary": "", "accessibility": "", "consent": "yes"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


class RegistrationForm:
    """The hidden fields and list choices of a registration form page."""

    def __init__(self, html):
        self.html = html
        self.csrf_token = hidden_field(html, "csrf_token")
        self.form_nonce = hidden_field(html, "form_nonce")
        self.list_ids = [int(v) for v in re.findall(r'name="lists" value="(\d+)"', html)]

    def fields(self, lists=None, **attendee):
        """The whole form to post: hidden fields, attendee_fields(**attendee) and lists (by
        default the first list of the event)."""
        form = {"csrf_token": self.csrf_token, "form_nonce": self.form_nonce}
        form.update(attendee_fields(**attendee))
        form["lists"] = [str(i) for i in (self.list_ids[:1] if lists is None else lists)]
        return form


def open_form(browser, slug):
    """GETs the event page in browser (a Browser); returns its RegistrationForm. Fails the
    test's assertion when the page or its form is missing."""
    response = browser.get("/events/" + slug)
    if response.status != 200:
        raise AssertionError("GET /events/%s: %d" % (slug, response.status))
    form = RegistrationForm(response.text)
    if form.csrf_token is None or form.form_nonce is None:
        raise AssertionError("no registration form on /events/%s" % slug)
    return form


def register(server, slug, lists=None, **attendee):
    """A new browser that opens the form of event slug and registers; returns (browser, form
    fields posted, response). The response is not checked."""
    browser = Browser(server)
    form = open_form(browser, slug).fields(lists=lists, **attendee)
    return browser, form, browser.post("/events/%s/register" % slug, form)


TICKET_LOCATION_RE = re.compile(r"^/tickets/([A-Za-z0-9_-]{22})\?welcome=1$")


def ticket_token(response):
    """The access token of the 303 to a ticket page; fails unless response is one."""
    location = response.header("Location") or ""
    m = TICKET_LOCATION_RE.match(location)
    if response.status != 303 or not m:
        raise AssertionError("expected 303 to /tickets/TOKEN?welcome=1, got %d %r: %s"
                             % (response.status, location, response.text[:300]))
    return m.group(1)


def decode_qr_png(png, folder):
    """The text of the QR code in png (bytes) as `zbarimg --raw` reads it, or None."""
    path = os.path.join(folder, "qr-%s.png" % secrets.token_hex(4))
    with open(path, "wb") as f:
        f.write(png)
    done = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        return None
    return done.stdout.strip()


def verify_ticket(keys, payload):
    """Runs `admit verify --pub KEYS/ticket-signing.pub PAYLOAD`; returns (exit status, dict of
    the key=value fields of its "valid ..." line, or {} when it said invalid)."""
    done = run_admit("verify", "--pub", os.path.join(keys, "ticket-signing.pub"), payload,
                     check=False)
    fields = {}
    if done.stdout.startswith("valid "):
        fields = dict(f.split("=", 1) for f in done.stdout.split()[1:])
    return done.returncode, fields


def seat_counts(db, event_id):
    """(confirmed, waitlisted, cancelled, sum of event_seats.free, capacity) of an event."""
    row = db.sql("SELECT (SELECT count(*) FILTER (WHERE status = 'confirmed') FROM registrations"
                 " WHERE event_id = e.id), (SELECT count(*) FILTER (WHERE status = 'waitlisted')"
                 " FROM registrations WHERE event_id = e.id), (SELECT count(*) FILTER (WHERE"
                 " status = 'cancelled') FROM registrations WHERE event_id = e.id),"
                 " (SELECT coalesce(sum(free), 0) FROM event_seats WHERE event_id = e.id),"
                 " e.capacity FROM events e WHERE e.id = %d" % event_id).strip()
    return tuple(int(v) for v in row.split("|"))


class HtmlNode:
    """An element of a page parsed by parse_html: tag, attrs (dict), children, parent."""

    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []  # HtmlNode or str

    def text(self):
        """The text content, white space collapsed."""
        parts = []

        def walk(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)
        walk(self)
        return " ".join("".join(parts).split())

    def raw_text(self):
        """The text content as is (a textarea's value, after its first newline)."""
        return "".join(c if isinstance(c, str) else c.raw_text() for c in self.children)

    def iter(self):
        for child in self.children:
            if not isinstance(child, str):
                yield child
                yield from child.iter()

    def find_all(self, tag=None, **attrs):
        """Descendants with this tag (any when None) whose attributes have these values
        (class_ for class); an attribute given as True only has to be present."""
        wanted = {k.rstrip("_"): v for k, v in attrs.items()}
        return [n for n in self.iter()
                if (tag is None or n.tag == tag)
                and all((k in n.attrs) if v is True else n.attrs.get(k) == v
                        for k, v in wanted.items())]

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_id(self, element_id):
        return self.find(id=element_id)

    def has_class(self, name):
        return name in (self.attrs.get("class") or "").split()

    def __repr__(self):
        return "<%s %r>" % (self.tag, self.attrs)


def parse_html(text):
    """A small DOM of an HTML page (standard library only): returns the root HtmlNode. Character
    references are decoded in text and attribute values."""
    from html.parser import HTMLParser
    void = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    class Builder(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.root = HtmlNode("#root", {})
            self.current = self.root

        def handle_starttag(self, tag, attrs):
            node = HtmlNode(tag, [(k, "" if v is None else v) for k, v in attrs], self.current)
            self.current.children.append(node)
            if tag not in void:
                self.current = node

        def handle_startendtag(self, tag, attrs):
            node = HtmlNode(tag, [(k, "" if v is None else v) for k, v in attrs], self.current)
            self.current.children.append(node)

        def handle_endtag(self, tag):
            node = self.current
            while node is not None and node.tag != tag:
                node = node.parent
            if node is not None and node.parent is not None:
                self.current = node.parent

        def handle_data(self, data):
            self.current.children.append(data)

    builder = Builder()
    builder.feed(text)
    builder.close()
    return builder.root


def run_threads(worker, items, threads):
    """Calls worker(item) for every item on a pool of threads; returns the results in the order
    of items. An exception in a worker is raised here, after all have finished."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(worker, item) for item in items]
        return [f.result() for f in futures]


def registration_form_state(html):
    """What a rendered registration form shows, read from its HTML:
      summary    [(field, message)] of the error summary's links, in order ([] when none)
      errors     {field: message} of the messages next to the fields (without "Error: ")
      described  {field: the ids in aria-describedby of the element id="field-FIELD"}
      invalid    the names of form controls marked aria-invalid="true"
      values     {name: value} of the text inputs, selects (the selected option) and textareas
      lists      the checked list ids (ints); consent: whether the consent box is checked
      csrf_token, form_nonce, action."""
    doc = parse_html(html)
    form = doc.find("form", method="post")
    state = {"summary": [], "errors": {}, "described": {}, "invalid": set(), "values": {},
             "lists": [], "consent": False, "csrf_token": hidden_field(html, "csrf_token"),
             "form_nonce": hidden_field(html, "form_nonce"),
             "action": form.attrs.get("action") if form else None}
    summary = doc.find(class_="error-summary")
    if summary is not None:
        for a in summary.find_all("a"):
            state["summary"].append((a.attrs.get("href", "").replace("#field-", "", 1),
                                     a.text()))
    for node in doc.iter():
        node_id = node.attrs.get("id", "")
        if node_id.startswith("error-") and node.has_class("field-error"):
            text = node.text()
            state["errors"][node_id[len("error-"):]] = (text[len("Error: "):]
                                                       if text.startswith("Error: ") else text)
        if node_id.startswith("field-") and "aria-describedby" in node.attrs:
            state["described"][node_id[len("field-"):]] = node.attrs["aria-describedby"].split()
        name = node.attrs.get("name")
        if name is None or form is None:
            continue
        if node.attrs.get("aria-invalid") == "true":
            state["invalid"].add(name)
        if node.tag == "input" and node.attrs.get("type") == "checkbox":
            if "checked" in node.attrs:
                if name == "lists":
                    state["lists"].append(int(node.attrs["value"]))
                elif name == "consent":
                    state["consent"] = True
        elif node.tag == "input" and node.attrs.get("type") != "hidden":
            state["values"][name] = node.attrs.get("value", "")
        elif node.tag == "select":
            chosen = [o for o in node.find_all("option") if "selected" in o.attrs]
            state["values"][name] = chosen[0].attrs.get("value", "") if chosen else ""
        elif node.tag == "textarea":
            text = node.raw_text()
            state["values"][name] = text[1:] if text.startswith("\n") else text
    return state


# --- check-in helpers (issue 4: door scanners, the check-in API). Used by test_checkin*.py and
# test_scan*.py.

BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45_encode(data):
    """RFC 9285 Base45 of bytes."""
    out = []
    for i in range(0, len(data) - 1, 2):
        v = data[i] * 256 + data[i + 1]
        out += [BASE45_ALPHABET[v % 45], BASE45_ALPHABET[v // 45 % 45],
                BASE45_ALPHABET[v // 2025]]
    if len(data) % 2:
        out += [BASE45_ALPHABET[data[-1] % 45], BASE45_ALPHABET[data[-1] // 45]]
    return "".join(out)


class TicketSigner:
    """Signs version-1 tickets with the secret key of a keys folder (admit keygen), in-process
    through libsodium (ctypes): thousands per second, where `admit ticket` costs a process each.
    The format is written here independently of lib/core/ticket.c (README.md, "The ticket"); the
    tests compare one ticket with `admit ticket` to catch any drift."""

    def __init__(self, keys):
        import ctypes
        import ctypes.util
        import hashlib
        with open(os.path.join(keys, "ticket-signing.key")) as f:
            seed = bytes.fromhex(f.read().split()[1])
        self._sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
        if self._sodium.sodium_init() < 0:
            raise AssertionError("sodium_init failed")
        self._pk = ctypes.create_string_buffer(32)
        self._sk = ctypes.create_string_buffer(64)
        self._sodium.crypto_sign_seed_keypair(self._pk, self._sk, seed)
        self.key_id = hashlib.blake2b(b"admit/key-id/v1\0" + self._pk.raw,
                                      digest_size=32).digest()[:4]
        self._ctypes = ctypes

    def ticket(self, event_id, attendee_id, reissue=0):
        fields = (self.key_id + event_id.to_bytes(4, "big") + attendee_id.to_bytes(4, "big")
                  + reissue.to_bytes(2, "big"))
        message = b"admit/ticket/v1\0" + fields
        sig = self._ctypes.create_string_buffer(64)
        self._sodium.crypto_sign_detached(sig, None, message, self._ctypes.c_ulonglong(len(message)),
                                          self._sk)
        return "AD1:" + base45_encode(fields + sig.raw)


def add_device(dsn, slug, name):
    """`admit device add`; returns the token it printed."""
    token = run_admit("device", "add", "--db", dsn, "--event", slug, "--name", name).stdout.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{22}", token):
        raise AssertionError("admit device add printed %r" % token)
    return token


def register_sql(dsn, slug, count, list_ids):
    """Registers count attendees for event slug on the lists list_ids, through the same SQL
    function as the form (admit_register), in one psql call; returns their registration ids in
    order. Faster than the form when a test needs a crowd."""
    lists = "{%s}" % ",".join(str(i) for i in list_ids)
    rows = psql(dsn, (
        "SELECT (admit_register('%s', 'nonce-' || md5(random()::text || g), "
        "left(md5(random()::text || g), 21) || 'A', 'Guest', 'Number ' || g, "
        "'guest' || g || '-' || md5(random()::text) || '@example.org', 'Org ' || g, 'research', "
        "'BE', '', '', '%s')).registration_id FROM generate_series(1, %d) AS g ORDER BY g")
        % (slug, lists, count))
    return [int(r) for r in rows.split()]


def api_call(server, method, path, token=None, body=None, headers=None, timeout=30.0):
    """One check-in API call; returns (Response, parsed JSON body or None)."""
    import json
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    r = server.request(method, path, body=data, headers=h, timeout=timeout)
    try:
        parsed = json.loads(r.body) if r.body else None
    except ValueError:
        parsed = None
    return r, parsed


def new_nonce():
    return secrets.token_urlsafe(12)


def run_scan(args, lines=(), state=None, env=None, timeout=300, check=False):
    """Runs `admit scan ARGS` with lines on stdin and XDG_STATE_HOME=state; returns the
    CompletedProcess (text)."""
    e = dict(os.environ if env is None else env)
    if state is not None:
        e["XDG_STATE_HOME"] = state
    stdin = "".join(line + "\n" for line in lines)
    done = subprocess.run([ADMIT_BIN, "scan"] + list(args), input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=e)
    if check and done.returncode != 0:
        raise AssertionError("admit scan exited %d: %s" % (done.returncode, done.stderr))
    return done


def scan_answers(stdout):
    """The JSON objects `admit scan --json` printed, one per line."""
    import json
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def checkin_event(dsn, slug, capacity=5000, lists=("Day 1", "Day 2", "Cluster session"),
                  waitlist=True):
    """Creates an event a year ahead with `admit event create`; returns (event id, {list name:
    list id})."""
    import datetime
    start = datetime.date.today() + datetime.timedelta(days=365)
    args = ["event", "create", "--db", dsn, "--slug", slug, "--name", "Conference " + slug,
            "--starts", "%s 09:00" % start, "--ends",
            "%s 18:00" % (start + datetime.timedelta(days=1)), "--capacity", str(capacity),
            "--tz", "Europe/Brussels"]
    for name in lists:
        args += ["--list", name]
    out = run_admit(*args).stdout
    event_id = int(re.search(r"event (\d+) created", out).group(1))
    if not waitlist:
        psql(dsn, "UPDATE events SET waitlist = false WHERE id = %d" % event_id)
    rows = psql(dsn, "SELECT name || '|' || id FROM checkin_lists WHERE event_id = %d" % event_id)
    return event_id, {r.rsplit("|", 1)[0]: int(r.rsplit("|", 1)[1])
                      for r in rows.splitlines() if r}


# E-mail: a real SMTP server as the sink, and `admit mailer` processes. Used by test_mail.py and
# test_resend.py. aiosmtpd is Debian's python3-aiosmtpd, for Debian's /usr/bin/python3 (which
# those tests run with); it is imported only when a sink is made, so this module stays standard
# library only for every other test.

def free_port():
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TlsCertificate:
    """A self-signed certificate for 127.0.0.1 (openssl req), in folder: cert and key are PEM
    file paths; cert is also the CA file that trusts it."""

    def __init__(self, folder):
        os.makedirs(folder, exist_ok=True)
        self.cert = os.path.join(folder, "smtp-cert.pem")
        self.key = os.path.join(folder, "smtp-key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True)


class SmtpSink:
    """An SMTP server (aiosmtpd) on 127.0.0.1:port that keeps every message it accepts, in
    order, as (envelope sender, recipients, raw bytes). refuse: recipients answered "550 5.1.1"
    at RCPT. data_delay: seconds it waits before answering the end of DATA, after it has kept
    the message (to stop a mailer between a delivery and its record); data_delay_once: only
    for the first message. stop() and start() again on the same port: a server down for a
    while. tls: None (plain), "smtps" (TLS from the first byte) or "starttls" (plain, then
    STARTTLS, required before MAIL), with the certificate and key of a TlsCertificate.
    credentials: (user, password) that a client must log in with (AUTH, also over plain SMTP);
    every login tried is kept in logins as (user, password)."""

    def __init__(self, port=None, refuse=(), data_delay=0.0, data_delay_once=False, start=True,
                 tls=None, certificate=None, credentials=None):
        import threading
        self.port = port or free_port()
        self.tls = tls
        self.certificate = certificate
        self.refuse = {a.lower() for a in refuse}
        self.data_delay = data_delay
        self.data_delay_once = data_delay_once
        self.messages = []
        self.refused = []
        self.credentials = credentials
        self.logins = []
        self.lock = threading.Lock()
        self.received = threading.Event()  # set whenever a message is kept
        self.controller = None
        if start:
            self.start()

    def start(self):
        from aiosmtpd.controller import Controller
        import asyncio
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address.lower() in sink.refuse:
                    with sink.lock:
                        sink.refused.append(address)
                    return "550 5.1.1 <%s>: mailbox unknown" % address
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or envelope.content)))
                    delay = sink.data_delay
                    if sink.data_delay_once:
                        sink.data_delay = 0.0
                sink.received.set()
                if delay:
                    await asyncio.sleep(delay)
                return "250 2.0.0 Message accepted for delivery"

        kwargs = {}
        if self.tls is not None:
            import ssl
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificate.cert, self.certificate.key)
            if self.tls == "smtps":
                kwargs = {"ssl_context": context}
            else:
                kwargs = {"tls_context": context, "require_starttls": True}
        if self.credentials is not None:
            from aiosmtpd.smtp import AuthResult

            def authenticator(server, session, envelope, mechanism, auth_data):
                login = (auth_data.login.decode(), auth_data.password.decode())
                with sink.lock:
                    sink.logins.append(login)
                return AuthResult(success=login == tuple(sink.credentials))
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=False)
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("smtps" if self.tls == "smtps" else "smtp", self.port)

    def count(self):
        with self.lock:
            return len(self.messages)

    def wait_for(self, count, timeout=30.0):
        """Waits until at least count messages arrived; returns the list of raw messages."""
        wait_until(lambda: self.count() >= count, timeout=timeout)
        with self.lock:
            if len(self.messages) < count:
                raise AssertionError("%d messages arrived, expected %d" % (len(self.messages),
                                                                           count))
            return [m[2] for m in self.messages]


class Mailer:
    """One `admit mailer` process; ServerTestCase.start_mailer stops it after the test."""

    def __init__(self, work, dsn, keys, smtp_url, public_url, args=(), env=None):
        self.log_path = os.path.join(work, "mailer-%s.log" % secrets.token_hex(4))
        cmd = [ADMIT_BIN, "mailer", "--db", dsn, "--keys", keys, "--smtp-url", smtp_url,
               "--public-url", public_url, "--templates", TEMPLATES_DIR]
        if "--from" not in args:
            cmd += ["--from", "TERRA Conf\u00e9rence <tickets@terra.example>"]
        if "--poll-ms" not in args:
            cmd += ["--poll-ms", "50"]
        cmd += list(args)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._log, env=env)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log_text())
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM):
        """Sends sig and waits; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        finally:
            self._log.close()


def start_mailer(test, sink_url, public_url, *args, dsn=None, env=None):
    """Starts `admit mailer` for a ServerTestCase test; at cleanup it must stop with status 0
    on SIGTERM (unless the test stopped it itself)."""
    mailer = Mailer(test.work, dsn or test.db.dsn, test.keys, sink_url, public_url, args, env=env)

    def stop_cleanly():
        if mailer.proc.returncode is not None:
            return
        status = mailer.stop()
        test.assertEqual(status, 0, "admit mailer exited %d on SIGTERM: %s"
                         % (status, mailer.log_text()))
    test.addCleanup(stop_cleanly)
    return mailer


class ScannerProcess:
    """A running `admit scan --json ...`, fed one line at a time: scan(line) writes it and
    returns the JSON answer the scanner printed for it. Its stderr goes to a file (log())."""

    def __init__(self, args, state, work, env=None):
        e = dict(os.environ if env is None else env)
        e["XDG_STATE_HOME"] = state
        self.log_path = os.path.join(work, "scan-%s.log" % secrets.token_hex(4))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([ADMIT_BIN, "scan", "--json"] + list(args),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, env=e)
        self._buf = b""

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _line(self, timeout):
        import json
        import select
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("admit scan answered nothing in %ds: %s" % (timeout,
                                                                                 self.log()))
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("admit scan exited (%s): %s" % (self.proc.poll(),
                                                                         self.log()))
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def scan(self, line, timeout=60):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self._line(timeout)

    def wait_log(self, pattern, timeout=60):
        """Waits until the scanner's stderr matches pattern; returns the match or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log())
            if m:
                return m
            time.sleep(0.05)
        return None

    def _close(self):
        for f in (self.proc.stdin, self.proc.stdout, self._log):
            try:
                f.close()
            except OSError:
                pass

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._close()

    def finish(self, timeout=120):
        """Closes stdin (end of input) and waits; returns the exit status."""
        self.proc.stdin.close()
        status = self.proc.wait(timeout=timeout)
        self._close()
        return status
