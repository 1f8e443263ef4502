#!/usr/bin/env python3
"""CSV exports over HTTP (/admin/events/SLUG/registrations.csv, attendance.csv, scans.csv) and
from the shell (admit export), read back by an independent parser (Python's csv module): every
value round-trips, names with commas, quotes, line breaks, non-Latin scripts and formula-looking
text included; RFC 4180 (header, CRLF, quoting) and the Excel flavour (BOM, ';'); no cell a
spreadsheet would run as a formula; streamed (chunked, constant memory) whatever the size.
"""

import csv
import io
import json
import os
import re
import socket
import subprocess

import harness
from harness import ServerTestCase, create_event, register
from test_admin import add_admin, admin_act, admin_post, logged_in, new_key, registration_id

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Attendees stored through the SQL function the form uses, so that values the web form would
# trim (leading tabs, spaces) reach the export too.
TRICKY = [
    ("Anne, Marie", 'O"Brien', "anne@example.org", '=HYPERLINK("http://evil.example","x")',
     "line 1\nline 2\r\nline 3", "-5 steps at the door"),
    ("+Zoë", "@handle", "zoe@example.org", "'=already quoted", "\ttab first", "\rcarriage first"),
    ("李", "小龙", "li@example.org", "北京大学", "素食", ""),
    ("Ζωή", "Παπαδοπούλου", "zoi@example.org", "Πανεπιστήμιο Αθηνών", "", ""),
    ("فاطمة", "الزهراء", "fatima@example.org", "جامعة القاهرة", "", ""),
    ("😀 Smile", "-", "smile@example.org", "'t Hooft & Co; Ltd", " spaced ", "@"),
    ("=1+1", "'@x", "formula@example.org", "+33 1 23", "=cmd|' /C calc'!A0", "'''-lots"),
]


def unneutralise(value):
    """The reader side of the formula neutralisation (include/admit/core/csv.h)."""
    if re.match(r"^'+[=+\-@\t\r]", value):
        return value[1:]
    return value


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"


def add_tricky(db, slug, list_names):
    for i, (given, family, email, org, dietary, access) in enumerate(TRICKY):
        db.sql("SELECT admit_register(%s, 'tricky-nonce-%02d-xxxxxxx', 'tricky-token-%02d-xxxxxxxx',"
               " %s, %s, %s, %s, 'research', 'BE', %s, %s, ARRAY(SELECT l.id FROM checkin_lists l"
               " JOIN events e ON e.id = l.event_id WHERE e.slug = %s AND l.name = ANY(%s)))"
               % (sql_literal(slug), i, i, sql_literal(given), sql_literal(family),
                  sql_literal(email), sql_literal(org), sql_literal(dietary), sql_literal(access),
                  sql_literal(slug), "ARRAY[%s]" % ", ".join(sql_literal(n) for n in list_names)))
    if int(db.sql("SELECT count(*) FROM registrations WHERE email LIKE '%%@example.org' AND"
                  " token LIKE 'tricky-token-%%'").strip()) < len(TRICKY):
        raise AssertionError("the tricky attendees were not all registered")


def stored_registrations(db, event_id):
    """Every registration of the event as the export should show it, by id (JSON, so that no
    value has to survive psql's own text format)."""
    text = db.sql("SELECT json_agg(json_build_object('id', r.id::text, 'status', r.status,"
                  " 'given_name', r.given_name, 'family_name', r.family_name, 'email', r.email,"
                  " 'organisation', r.organisation, 'organisation_type', r.organisation_type,"
                  " 'country', r.country, 'dietary', r.dietary, 'accessibility',"
                  " r.accessibility, 'source', r.source, 'lists', coalesce((SELECT"
                  " string_agg(l.name, '; ' ORDER BY l.position) FROM registration_lists rl"
                  " JOIN checkin_lists l ON l.id = rl.list_id WHERE rl.registration_id = r.id),"
                  " '')) ORDER BY r.id) FROM registrations r WHERE r.event_id = %d" % event_id)
    return {row["id"]: row for row in json.loads(text)}


def parse(data, excel=False):
    """Decodes and parses a CSV file as a spreadsheet-agnostic reader would; returns the raw
    cells (still neutralised) as a list of rows."""
    if excel:
        assert data.startswith(b"\xef\xbb\xbf"), data[:10]
        data = data[3:]
    else:
        assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ",",
                           strict=True))


class Exports(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, capacity=100, name="Export Conference")
        add_admin(self.db.dsn, "boss@example.org")
        self.server = self.start_admitd()
        self.browser = logged_in(self.server, "boss@example.org")

    def check_registrations(self, data, excel=False):
        rows = parse(data, excel)
        header = rows[0]
        self.assertEqual(header, ["id", "status", "given_name", "family_name", "email",
                                  "organisation", "organisation_type", "country", "dietary",
                                  "accessibility", "lists", "source", "registered_at"])
        stored = stored_registrations(self.db, self.event.id)
        self.assertEqual(len(rows) - 1, len(stored))
        for raw in rows[1:]:
            for cell in raw:
                self.assertFalse(cell.startswith(FORMULA_START), "a formula cell: %r" % cell)
            row = dict(zip(header, [unneutralise(c) for c in raw]))
            want = stored[row["id"]]
            for key, value in want.items():
                self.assertEqual(row[key], value, "%s of %s" % (key, row["id"]))
            self.assertRegex(row["registered_at"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        return rows

    def test_registrations_round_trip(self):
        register(self.server, self.event.slug, given_name="Ada", family_name="Lovelace",
                 email="ada@example.org", organisation="Analytical, \"Engines\"",
                 dietary="No nuts,\nno shellfish")
        add_tricky(self.db, self.event.slug, ["Day 1", "Cluster session"])
        url = "/admin/events/%s/registrations.csv" % self.event.slug
        r = self.browser.get(url)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "text/csv; charset=utf-8")
        self.assertEqual(r.header("Transfer-Encoding"), "chunked")
        self.assertEqual(r.header("Content-Disposition"),
                         'attachment; filename="%s-registrations.csv"' % self.event.slug)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        # RFC 4180: every record ends with CRLF; the only bare LF are inside quoted fields.
        self.assertTrue(r.body.endswith(b"\r\n"))
        self.assertTrue(r.body.startswith(b"id,status,given_name,"))
        rows = self.check_registrations(r.body)
        self.assertEqual(len(rows), 1 + 1 + len(TRICKY))
        self.assertIn(b'"line 1\nline 2\r\nline 3"', r.body)
        self.assertIn(b"'=HYPERLINK", r.body)
        self.assertIn('"O""Brien"'.encode(), r.body)
        self.assertIn("李".encode(), r.body)
        self.assertIn(b"\"'t Hooft & Co; Ltd\"", r.body)  # ';' is quoted for either reader
        self.assertIn(b"'''-lots", r.body)  # '' then -: neutralised once more, read back exactly
        # The Excel flavour carries the same values.
        excel = self.browser.get(url + "?excel=1")
        self.check_registrations(excel.body, excel=True)
        self.assertTrue(self.server.wait_log(r"route=/admin/events/:slug/registrations\.csv .*note=stream"))
        # And the shell gives byte for byte the same file.
        path = os.path.join(self.work, "registrations.csv")
        done = harness.run_admit("export", "--db", self.db.dsn, "--event", self.event.slug,
                                 "--what", "registrations", "-o", path)
        self.assertIn("rows written to", done.stderr)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), r.body)
        done = subprocess.run([harness.ADMIT_BIN, "export", "--db", self.db.dsn, "--event",
                               self.event.slug, "--what", "registrations", "--excel"],
                              capture_output=True, timeout=120)
        self.assertEqual(done.returncode, 0)
        self.assertEqual(done.stdout, excel.body)

    def test_attendance_and_scan_log(self):
        for email in ["ada@example.org", "bob@example.org", "cy@example.org"]:
            register(self.server, self.event.slug, email=email, lists=self.event.list_ids[:1])
        day1 = self.event.list_ids[0]
        base = "/admin/events/%s/attendees/" % self.event.slug
        ada = registration_id(self.db, "ada@example.org")
        r = admin_act(self.browser, base + "%d/checkin" % ada, {"list": str(day1)})
        self.assertEqual(r.status, 303)
        # Again (not offered any more, posted all the same): logged as a duplicate.
        r = admin_post(self.browser, base + str(ada), base + "%d/checkin" % ada,
                       {"list": str(day1), "key": new_key()})
        self.assertEqual(r.status, 409)
        r = self.browser.get("/admin/events/%s/attendance.csv?list=Day%%201" % self.event.slug)
        self.assertEqual(r.status, 200)
        rows = parse(r.body)
        self.assertEqual(rows[0], ["id", "given_name", "family_name", "email", "organisation",
                                   "organisation_type", "country", "list", "attended",
                                   "first_entry", "gate"])
        by_email = {row[3]: row for row in rows[1:]}
        self.assertEqual(sorted(by_email), ["ada@example.org", "bob@example.org",
                                            "cy@example.org"])
        self.assertEqual(by_email["ada@example.org"][8:], [
            "yes", by_email["ada@example.org"][9], "manual"])
        self.assertRegex(by_email["ada@example.org"][9], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        self.assertEqual(by_email["bob@example.org"][8:], ["no", "", ""])
        # Every list when none is named; another list has nobody.
        everything = parse(self.browser.get("/admin/events/%s/attendance.csv"
                                            % self.event.slug).body)
        self.assertEqual(len(everything), 4)
        other = parse(self.browser.get("/admin/events/%s/attendance.csv?list=Day%%202"
                                       % self.event.slug).body)
        self.assertEqual(other, [rows[0]])
        r = self.browser.get("/admin/events/%s/attendance.csv?list=Nope" % self.event.slug)
        self.assertEqual(r.status, 404)
        self.assertIn("no check-in list of that name", r.text)
        # The scan log: the check-in and the duplicate, by hand.
        scans = parse(self.browser.get("/admin/events/%s/scans.csv" % self.event.slug).body)
        self.assertEqual(scans[0][:5], ["id", "scanned_at", "received_at", "list",
                                        "registration_id"])
        self.assertEqual([(s[3], s[8], s[11], s[12], s[13]) for s in scans[1:]],
                         [("Day 1", "valid", "manual", "no", "no"),
                          ("Day 1", "already_checked_in", "manual", "no", "no")])
        self.assertEqual(scans[1][14], "by boss@example.org")
        # The same from the shell, for one list.
        done = harness.run_admit("export", "--db", self.db.dsn, "--event", self.event.slug,
                                 "--what", "attendance", "--list", "Day 1")
        self.assertEqual(parse(done.stdout.encode()), rows)

    def test_output_to_a_device_is_written_in_place(self):
        # -o writes FILE.partial and renames it into place; /dev/null (or a FIFO) must be
        # written as it is, never replaced by a regular file.
        import stat
        harness.run_admit("export", "--db", self.db.dsn, "--event", self.event.slug, "--what",
                          "scans", "-o", "/dev/null")
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))
        self.assertFalse(os.path.exists("/dev/null.partial"))
        fifo = os.path.join(self.work, "fifo")
        os.mkfifo(fifo)
        reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE)
        harness.run_admit("export", "--db", self.db.dsn, "--event", self.event.slug, "--what",
                          "registrations", "-o", fifo)
        self.assertTrue(reader.communicate(timeout=60)[0].startswith(b"id,status,"))
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def test_plain_and_excel_downloads_have_different_names(self):
        # Both flavours of one export downloaded into one folder must not overwrite each other.
        slug = self.event.slug
        for what in ["registrations", "attendance", "scans", "report"]:
            url = "/admin/events/%s/%s.csv" % (slug, what)
            plain = self.browser.get(url)
            excel = self.browser.get(url + "?excel=1")
            self.assertEqual((plain.status, excel.status), (200, 200), what)
            self.assertEqual(plain.header("Content-Disposition"),
                             'attachment; filename="%s-%s.csv"' % (slug, what))
            self.assertEqual(excel.header("Content-Disposition"),
                             'attachment; filename="%s-%s-excel.csv"' % (slug, what))
            self.assertTrue(excel.body.startswith(b"\xef\xbb\xbf"), what)
        # admit export -o FOLDER names the files as the downloads are named.
        folder = os.path.join(self.work, "exports")
        os.mkdir(folder)
        harness.run_admit("export", "--db", self.db.dsn, "--event", slug, "--what",
                          "registrations", "-o", folder)
        done = harness.run_admit("export", "--db", self.db.dsn, "--event", slug, "--what",
                                 "registrations", "--excel", "-o", folder + "/")
        self.assertIn("0 rows written to %s/%s-registrations-excel.csv" % (folder, slug),
                      done.stderr)
        self.assertEqual(sorted(os.listdir(folder)), ["%s-registrations-excel.csv" % slug,
                                                      "%s-registrations.csv" % slug])
        with open(os.path.join(folder, "%s-registrations-excel.csv" % slug), "rb") as f:
            self.assertTrue(f.read().startswith(b"\xef\xbb\xbfid;status;"))

    def test_shell_errors(self):
        cases = [
            (["--event", "no-such", "--what", "registrations"], "no event has the slug"),
            (["--event", self.event.slug, "--what", "attendance", "--list", "Nope"],
             "has no check-in list named \"Nope\""),
            (["--event", self.event.slug, "--what", "registrations", "--list", "Day 1"],
             "--list goes with --what attendance"),
            (["--event", self.event.slug, "--what", "everything"], "expected registrations"),
            (["--event", self.event.slug, "--what", "scans", "-o",
              os.path.join(self.work, "missing", "x.csv")], "cannot write"),
        ]
        for args, message in cases:
            done = harness.run_admit("export", "--db", self.db.dsn, *args, check=False)
            self.assertEqual(done.returncode, 2, args)
            self.assertIn(message, done.stderr)
            self.assertEqual(done.stdout, "")
        self.assertFalse(os.path.exists(os.path.join(self.work, "missing")))
        done = harness.run_admit("export", "--db", "host=/nonexistent dbname=x", "--event",
                                 self.event.slug, "--what", "scans", check=False)
        self.assertEqual(done.returncode, 2)

    def test_large_export_is_streamed(self):
        rows = 20000
        day1 = self.event.list_ids[0]
        self.db.sql("INSERT INTO registrations (event_id, token, form_nonce, status, given_name,"
                    " family_name, email, organisation, organisation_type, country, consent_at,"
                    " confirmed_at) SELECT %d, 'bulk-token-' || lpad(i::text, 12, '0'),"
                    " 'bulk-nonce-' || lpad(i::text, 12, '0'), 'confirmed', 'Given ' || i, 'Family, ' || i,"
                    " 'person' || i || '@example.org', '=Org ' || i, 'research', 'BE', now(),"
                    " now() FROM generate_series(1, %d) i" % (self.event.id, rows))
        self.db.sql("INSERT INTO registration_lists SELECT id, %d FROM registrations" % day1)
        r = self.browser.get("/admin/events/%s/registrations.csv" % self.event.slug)
        self.assertEqual(r.header("Transfer-Encoding"), "chunked")
        parsed = parse(r.body)
        self.assertEqual(len(parsed), rows + 1)
        self.assertEqual(parsed[-1][2:6], ["Given %d" % rows, "Family, %d" % rows,
                                           "person%d@example.org" % rows, "'=Org %d" % rows])
        # HEAD: the headers without the body (the stream is never read, and still freed).
        head = self.server.request("HEAD", "/admin/events/%s/scans.csv" % self.event.slug,
                                   headers={"Cookie": "admit_session=%s"
                                            % self.browser.cookies["admit_session"]})
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        # A client that hangs up in the middle: the server frees the export and goes on.
        with self.server.socket() as s:
            s.sendall(("GET /admin/events/%s/attendance.csv HTTP/1.1\r\nHost: x\r\n"
                       "Cookie: admit_session=%s\r\n\r\n"
                       % (self.event.slug, self.browser.cookies["admit_session"])).encode())
            first = s.recv(4096)
            self.assertTrue(first.startswith(b"HTTP/1.1 200"), first[:50])
        self.assertEqual(self.server.get("/healthz").status, 200)
        self.assertEqual(len(parse(self.browser.get("/admin/events/%s/attendance.csv"
                                                    % self.event.slug).body)), rows + 1)


if __name__ == "__main__":
    harness.main()
