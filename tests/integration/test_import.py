#!/usr/bin/env python3
"""admit import: invited guests from CSV, the columns of the registrations export. A file
exported from one event imports into another; every row is validated with line numbers in the
errors; nothing at all is stored unless everything is (bad rows, emails taken, unknown lists,
more guests than free seats); each guest gets a confirmed seat and a working ticket link; the
progress bar shows on a terminal only.
"""

import csv
import io
import os
import pty
import subprocess

import harness
from harness import ServerTestCase, create_event, register
from test_export import TRICKY, add_tricky, parse, stored_registrations

HEADER = "given_name,family_name,email,organisation,organisation_type,country,lists"


PUBLIC_URL = "https://tickets.example.org"


def run_import(dsn, slug, path, *extra, stderr=subprocess.PIPE, env=None):
    """admit import; --public-url PUBLIC_URL unless extra or env gives one."""
    env = dict(os.environ if env is None else env)
    if "--public-url" not in extra and "ADMIT_PUBLIC_URL" not in env:
        extra = ("--public-url", PUBLIC_URL) + tuple(extra)
    return subprocess.run([harness.ADMIT_BIN, "import", "--db", dsn, "--event", slug, path]
                          + list(extra), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=stderr, timeout=300, env=env)


def refused_import(test, slug, rows):
    """Imports HEADER and rows (CSV text) into event slug for test (a ServerTestCase), expecting
    the file to be refused whole: exit status 1, no registration stored. Returns stderr."""
    path = os.path.join(test.work, "refused-%d.csv" % len(os.listdir(test.work)))
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\r\n" + rows)
    done = run_import(test.db.dsn, slug, path)
    test.assertEqual(done.returncode, 1, done.stderr)
    test.assertEqual(test.db.sql("SELECT count(*) FROM registrations").strip(), "0")
    return done.stderr.decode()


class Import(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, capacity=100, name="Guests Welcome")

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.work, name)
        with open(path, "w", encoding=encoding, newline="") as f:
            f.write(text)
        return path

    def count(self):
        return int(self.db.sql("SELECT count(*) FROM registrations").strip())

    def test_export_then_import_into_another_event(self):
        source = create_event(self.db.dsn, capacity=100, name="Last Year")
        server = self.start_admitd()
        register(server, source.slug, email="ada@example.org", lists=source.list_ids[:2])
        add_tricky(self.db, source.slug, ["Day 1", "Cluster session"])
        exported = os.path.join(self.work, "last-year.csv")
        harness.run_admit("export", "--db", self.db.dsn, "--event", source.slug, "--what",
                          "registrations", "-o", exported)
        links = os.path.join(self.work, "links.csv")
        done = run_import(self.db.dsn, self.event.slug, exported, "-o", links, "--public-url",
                          "https://tickets.example.org/")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(b"%d guests imported" % (1 + len(TRICKY)), done.stderr)
        self.assertNotIn(b"importing [", done.stderr)  # stderr is no terminal here
        before = stored_registrations(self.db, source.id)
        after = stored_registrations(self.db, self.event.id)
        fields = ["given_name", "family_name", "email", "organisation", "organisation_type",
                  "country", "dietary", "accessibility", "lists"]
        self.assertEqual(sorted(tuple(r[f] for f in fields) for r in before.values()),
                         sorted(tuple(r[f] for f in fields) for r in after.values()))
        for row in after.values():
            self.assertEqual((row["status"], row["source"]), ("confirmed", "import"))
        self.assertEqual(harness.seat_counts(self.db, self.event.id),
                         (1 + len(TRICKY), 0, 0, 99 - len(TRICKY), 100))
        # The ticket links: one per guest, each a working ticket page.
        with open(links, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], ["email", "given_name", "family_name", "ticket_url"])
        self.assertEqual(len(rows), 2 + len(TRICKY))
        for email, _, _, url in rows[1:]:
            self.assertTrue(url.startswith("https://tickets.example.org/tickets/"), url)
            token = url.rsplit("/", 1)[1]
            self.assertEqual(server.get("/tickets/" + token).status, 200)
            self.assertEqual(self.db.sql("SELECT email FROM registrations WHERE token = '%s'"
                                         % token).strip(), email)
        # The Excel flavour imports just as well (BOM, ';' detected), to stdout this time, the
        # public URL read from where admitd reads it too (ADMIT_PUBLIC_URL).
        excel = os.path.join(self.work, "excel.csv")
        harness.run_admit("export", "--db", self.db.dsn, "--event", source.slug, "--what",
                          "registrations", "--excel", "-o", excel)
        third = create_event(self.db.dsn, capacity=100)
        env = dict(os.environ, ADMIT_PUBLIC_URL="http://10.0.0.2:8080/")
        done = run_import(self.db.dsn, third.slug, excel, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        out = list(csv.reader(io.StringIO(done.stdout.decode(), newline="")))
        self.assertEqual(len(out), 2 + len(TRICKY))
        self.assertTrue(out[1][3].startswith("http://10.0.0.2:8080/tickets/"), out[1])

    def test_every_problem_with_its_line_and_nothing_stored(self):
        path = self.write("guests.csv",
                          HEADER + "\r\n"
                          "Ada,Lovelace,ada@example.org,Engines,research,BE,Day 1\r\n"
                          "Bob,Builder,not-an-email,Bob Ltd,industry,DE,\r\n"
                          "Cy,Young,cy@example.org,Uni,research,Belgium,\r\n"
                          "Di,Lee,di@example.org,Uni,uni,FR,\r\n"
                          "Ed,\"Multi\nline\",ed@example.org,Uni,research,FR,\r\n"
                          ",Nobody,nobody@example.org,Uni,research,FR,\r\n"
                          "Fi,Short,fi@example.org\r\n")
        before = self.count()
        done = run_import(self.db.dsn, self.event.slug, path)
        self.assertEqual(done.returncode, 1)
        err = done.stderr.decode()
        for expected in ["line 3: email: Enter an email address like name@example.org",
                         "line 4: country \"Belgium\": use a two-letter code like BE",
                         "line 5: organisation_type \"uni\": use research, industry",
                         "line 6: family_name: Use ordinary text on one line",
                         "line 8: given_name: Enter your given name",
                         "line 9: 3 fields where the header has 7",
                         "6 problems in %s: nothing was imported" % path]:
            self.assertIn(expected, err)
        self.assertEqual(done.stdout, b"")
        self.assertEqual(self.count(), before)

    def test_problems_found_by_the_database(self):
        server = self.start_admitd()
        register(server, self.event.slug, email="taken@example.org")
        before = self.count()
        cases = [
            ("Ada,Lovelace,ada@example.org,E,research,BE,Day 1; Nowhere\r\n",
             "line 2: the event has no check-in list named \"Nowhere\""),
            ("Ada,Lovelace,ada@example.org,E,research,BE,\r\n"
             "Ada,Again,ADA@example.org,E,research,BE,\r\n",
             "line 3: ADA@example.org is also on line 2: keep one of the two lines"),
            ("Tom,Taken,taken@example.org,E,research,BE,\r\n",
             "line 2: taken@example.org is already registered for this event: remove the line"),
        ]
        for rows, message in cases:
            done = run_import(self.db.dsn, self.event.slug, self.write("g.csv", HEADER + "\r\n"
                                                                       + rows))
            self.assertEqual(done.returncode, 1, rows)
            self.assertIn(message, done.stderr.decode())
            self.assertEqual(self.count(), before)

    def test_every_kind_of_problem_in_one_pass(self):
        # Problems of every kind on several lines, the database's among them (an email taken by a
        # registration or by an earlier line, an unknown list, seats), reported together after
        # one run, each with its line and what to do; nothing imported.
        small = create_event(self.db.dsn, capacity=3)
        server = self.start_admitd()
        register(server, small.slug, email="taken@example.org")
        path = self.write("all.csv",
                          HEADER + ",shoe_size\r\n"
                          "Ada,Lovelace,ada@example.org,E,research,BE,,42\r\n"        # 2 ok
                          "Bob,Builder,not-an-email,Bob Ltd,industry,DE,,42\r\n"      # 3
                          "Cy,Young,ADA@example.org,Uni,research,BE,,42\r\n"          # 4
                          "Tom,Taken,taken@example.org,Uni,research,BE,,42\r\n"       # 5
                          "Di,Lee,di@example.org,Uni,research,FR,Nowhere,42\r\n"      # 6
                          "Ed,Ok,ed@example.org,Uni,research,FR,,42\r\n"              # 7 ok
                          "Fi,Late,fi@example.org,Uni,research,FR,,42\r\n"            # 8 full
                          "Gus,Later,gus@example.org,Uni,research,FR,,42\r\n"         # 9 full
                          "Hal,Short,hal@example.org\r\n"                             # 10
                          "Ida,Bad,ed@example.org,Uni,uni,Belgium,,42\r\n")           # 11
        done = run_import(self.db.dsn, small.slug, path)
        self.assertEqual(done.returncode, 1, done.stderr)
        err = done.stderr.decode()
        expected = [
            "line 1: unknown column \"shoe_size\": rename it to one of the columns of "
            "registrations.csv, or remove it",
            "line 3: email: Enter an email address like name@example.org",
            "line 4: ADA@example.org is also on line 2: keep one of the two lines",
            "line 5: taken@example.org is already registered for this event: remove the line",
            "line 6: the event has no check-in list named \"Nowhere\": correct the name",
            "line 8: no free seat is left for this guest and the others after it: the event has "
            "2 free seats for 4 guests; raise the capacity by 2 first, or import fewer guests",
            "line 10: 3 fields where the header has 8: give the line the header's columns",
            "line 11: organisation_type \"uni\": use research, industry",
            "line 11: country \"Belgium\": use a two-letter code like BE",
            "line 11: ed@example.org is also on line 7: keep one of the two lines",
            "10 problems in %s: nothing was imported; correct them and import the whole file "
            "again" % path,
        ]
        for message in expected:
            self.assertIn("admit import: " + message, err)
        self.assertEqual(len(err.strip().splitlines()), len(expected), err)
        self.assertEqual(done.stdout, b"")
        self.assertEqual(harness.seat_counts(self.db, small.id), (1, 0, 0, 2, 3))
        self.assertEqual(self.count(), 1)
        # A missing column is said once, not on every line; the lines' other problems still are.
        path = self.write("nocountry.csv",
                          "given_name,family_name,email,organisation,organisation_type\r\n"
                          "A,B,a@example.org,O,other\r\n"
                          "C,D,nope,O,other\r\n")
        done = run_import(self.db.dsn, small.slug, path)
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.stderr.decode().strip().splitlines(), [
            "admit import: line 1: the column \"country\" is missing: add it to the header",
            "admit import: line 3: email: Enter an email address like name@example.org",
            "admit import: 2 problems in %s: nothing was imported; correct them and import the "
            "whole file again" % path])
        self.assertEqual(self.count(), 1)

    def test_public_url_is_required(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADMIT_PUBLIC_URL")}
        path = self.write("one.csv", HEADER + "\r\nA,B,a@example.org,O,other,BE,\r\n")
        done = subprocess.run([harness.ADMIT_BIN, "import", "--db", self.db.dsn, "--event",
                               self.event.slug, path], capture_output=True, env=env, timeout=60)
        self.assertEqual(done.returncode, 2)
        self.assertIn(b"--public-url is required (or set ADMIT_PUBLIC_URL)", done.stderr)
        done = run_import(self.db.dsn, self.event.slug, path, "--public-url", "tickets.example")
        self.assertEqual(done.returncode, 2)
        self.assertIn(b"expected http://HOST or https://HOST", done.stderr)
        self.assertEqual(self.count(), 0)

    def test_header_and_file_problems(self):
        cases = [
            ("", "line 1: the file is empty"),
            (HEADER + "\r\n", "the file has a header but no guests"),
            ("given_name,family_name,email,organisation,organisation_type,country,shoe_size\r\n"
             "A,B,a@example.org,O,other,BE,42\r\n", "line 1: unknown column \"shoe_size\""),
            ("given_name,family_name,email,organisation,organisation_type\r\n"
             "A,B,a@example.org,O,other\r\n", "line 1: the column \"country\" is missing"),
            ("given_name,given_name,family_name,email,organisation,organisation_type,country\r\n",
             "the column \"given_name\" appears twice"),
            (HEADER + "\r\nA,\"B,a@example.org,O,other,BE,\r\n",
             "line 2: unterminated quoted field"),
        ]
        for text, message in cases:
            done = run_import(self.db.dsn, self.event.slug, self.write("h.csv", text))
            self.assertEqual(done.returncode, 1, text)
            self.assertIn(message, done.stderr.decode())
        self.assertEqual(self.count(), 0)
        done = run_import(self.db.dsn, "no-such-event", self.write("x.csv", HEADER + "\r\n"))
        self.assertEqual(done.returncode, 2)
        self.assertIn(b"no event has the slug", done.stderr)
        done = run_import(self.db.dsn, self.event.slug, os.path.join(self.work, "missing.csv"))
        self.assertEqual(done.returncode, 2)
        self.assertIn(b"cannot read", done.stderr)

    def test_more_guests_than_free_seats_is_refused_whole(self):
        small = create_event(self.db.dsn, capacity=3)
        server = self.start_admitd()
        register(server, small.slug, email="first@example.org")
        rows = "".join("G%d,Guest,g%d@example.org,Org,other,BE,\r\n" % (i, i) for i in range(3))
        links = os.path.join(self.work, "links.csv")
        done = run_import(self.db.dsn, small.slug, self.write("g.csv", HEADER + "\r\n" + rows),
                          "-o", links)
        self.assertEqual(done.returncode, 1)
        self.assertIn(b"line 4: no free seat is left for this guest: the event has 2 free seats"
                      b" for 3 guests; raise the capacity by 1 first", done.stderr)
        self.assertIn(b"1 problem in ", done.stderr)
        self.assertEqual(harness.seat_counts(self.db, small.id), (1, 0, 0, 2, 3))
        self.assertFalse(os.path.exists(links))
        self.assertFalse(os.path.exists(links + ".partial"))
        # Two fit.
        done = run_import(self.db.dsn, small.slug,
                          self.write("g2.csv", HEADER + "\r\n" + rows.split("\r\n", 1)[1]))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(b"2 guests imported", done.stderr)
        self.assertEqual(harness.seat_counts(self.db, small.id), (3, 0, 0, 0, 3))
        one = create_event(self.db.dsn, capacity=3)
        done = run_import(self.db.dsn, one.slug,
                          self.write("g3.csv", HEADER + "\r\n" + rows.split("\r\n", 1)[0]))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(b"admit import: 1 guest imported into", done.stderr)

    def test_empty_lists_means_every_list_and_progress_on_a_terminal(self):
        big = create_event(self.db.dsn, capacity=1000)
        rows = "".join("G%d,Guest,g%d@example.org,Org,other,BE,\r\n" % (i, i) for i in range(600))
        path = self.write("many.csv", HEADER + "\r\n" + rows)
        master, slave = pty.openpty()
        try:
            done = run_import(self.db.dsn, big.slug, path, stderr=slave)
            os.close(slave)
            slave = None
            seen = b""
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(done.returncode, 0, seen)
        self.assertIn(b"importing [", seen)
        self.assertIn(b"100%", seen)
        self.assertIn(b"600 guests imported", seen)
        lists = self.db.sql("SELECT count(*) FROM registration_lists").strip()
        self.assertEqual(int(lists), 600 * len(big.list_ids))
        self.assertEqual(len(parse(done.stdout)), 601)


if __name__ == "__main__":
    harness.main()
