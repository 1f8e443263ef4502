#!/usr/bin/env python3
"""Badges (issue 20): as PDF from `admit print badges` and from /admin, checked with the
real tools: qpdf --check (structure), pdftotext (every name, Greek, Cyrillic and Arabic ones
included; -bbox: no word leaves its badge), pdffonts (every font embedded), pdftoppm + zbarimg
(the QR code decodes) and `admit verify` (it is the attendee's valid ticket).
"""

import os
import re
import subprocess
import unicodedata

import harness
from harness import ServerTestCase, create_event, run_admit
from test_admin import add_admin, logged_in
from test_export import sql_literal

LONGEST = "W" * 100  # the longest given and family names the form accepts (100 characters)
PEOPLE = [
    # given, family, organisation, type
    ("Ζωή", "Παπαδοπούλου", "Πανεπιστήμιο Αθηνών", "research"),
    ("Алексей", "Смирнов-Черноморский", "Московский государственный университет", "research"),
    ("فاطمة", "الزهراء", "جامعة القاهرة", "public_body"),
    ("Anne-Sophie", "de la Tour d'Auvergne", "Bundesanstalt für Materialforschung", "industry"),
    (LONGEST, "M" * 100, "Organisation " * 15 + "Ltd", "association"),
    ("Maximilian Alexander Friedrich Wilhelm", "von Hohenzollern-Sigmaringen-Hechingen",
     "O" * 200, "other"),
]
LAYOUTS = {"a6": (105.0, 148.0, 4), "a7": (105.0, 74.0, 8), "label-99x68": (99.1, 67.7, 8)}
MM = 72 / 25.4


def tool(*args, check=True):
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError("%s exited %d: %s" % (args[0], done.returncode, done.stderr))
    return done


def squash(text):
    """Text without white space, hyphens (pdftotext joins words hyphenated at a wrap) and
    format characters (its bidi marks), NFKC (Arabic presentation forms folded back)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if not c.isspace() and c != "-"
                   and unicodedata.category(c) != "Cf")


def add_people(db, slug, people=PEOPLE):
    for i, (given, family, org, kind) in enumerate(people):
        db.sql("SELECT admit_register(%s, 'print-nonce-%04d-xxxxxxx', 'print-token-%04d-xxxxA',"
               " %s, %s, 'p%d@example.org', %s, %s, 'BE', '', '', ARRAY(SELECT l.id FROM"
               " checkin_lists l JOIN events e ON e.id = l.event_id WHERE e.slug = %s))"
               % (sql_literal(slug), i, i, sql_literal(given), sql_literal(family), i,
                  sql_literal(org), sql_literal(kind), sql_literal(slug)))


class PdfChecks:
    def check_pdf(self, path):
        """qpdf --check passes and every font is embedded; returns pdftotext's text."""
        tool("qpdf", "--check", path)
        fonts = tool("pdffonts", path).stdout.splitlines()[2:]
        self.assertTrue(fonts, "no fonts in %s" % path)
        for line in fonts:
            # name type encoding emb sub uni object ID: "emb" is the fourth column from the end
            self.assertEqual(line.split()[-5], "yes", "font not embedded: %s" % line)
        return tool("pdftotext", "-enc", "UTF-8", path, "-").stdout

    def words_inside(self, path, width_mm, height_mm):
        """Every word pdftotext -bbox finds lies inside its page of width x height mm."""
        html = tool("pdftotext", "-bbox", path, "-").stdout
        pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S)
        self.assertTrue(pages)
        for w, h, body in pages:
            self.assertAlmostEqual(float(w), width_mm * MM, delta=1)
            self.assertAlmostEqual(float(h), height_mm * MM, delta=1)
            for box in re.findall(r'xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" '
                                  r'yMax="([\d.-]+)"', body):
                x0, y0, x1, y1 = map(float, box)
                self.assertTrue(x0 >= 0 and y0 >= 0 and x1 <= float(w) and y1 <= float(h),
                                "a word leaves the badge: %r on %s x %s" % (box, w, h))

    def qr_texts(self, pdf, first=1, last=1):
        """The QR codes' texts on pages first..last, as zbarimg reads them off the rendered page."""
        prefix = os.path.join(self.work, "page")
        tool("pdftoppm", "-r", "200", "-gray", "-png", "-f", str(first), "-l", str(last), pdf,
             prefix)
        texts = []
        for name in sorted(os.listdir(self.work)):
            if name.startswith("page") and name.endswith(".png"):
                done = tool("zbarimg", "--raw", "-q", os.path.join(self.work, name), check=False)
                texts += done.stdout.splitlines()  # Base45 has spaces
                os.remove(os.path.join(self.work, name))
        return texts


class BadgesFromTheShell(ServerTestCase, PdfChecks):
    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn)
        add_people(self.db, self.event.slug)
        self.key = os.path.join(self.keys, "ticket-signing.key")

    def print_badges(self, *extra, check=True):
        out = os.path.join(self.work, "badges.pdf")
        done = run_admit("print", "badges", "--db", self.db.dsn, "--event", self.event.slug,
                         "--out", out, "--key", self.key, *extra, check=check)
        return out, done

    def test_consents_not_given_are_marked(self):
        """A consent question (issue 17) not agreed to, or withdrawn, shows on the badge as
        "✗" and its words, for the photographer; an agreed one shows nothing."""
        event = self.event.id
        self.db.sql("INSERT INTO event_questions (event_id, position, kind, label) VALUES "
                    "(%d, 1, 'consent', 'Photos of me may be published'), "
                    "(%d, 2, 'yes_no', 'Wheelchair')" % (event, event))
        ids = self.db.sql("SELECT id FROM registrations ORDER BY id").split()
        photos = self.db.sql("SELECT id FROM event_questions WHERE kind = 'consent'").strip()
        # The first agreed, the second agreed then withdrew, the others said nothing.
        self.db.sql("INSERT INTO registration_answers (registration_id, question_id, value, "
                    "wording, withdrawn_at) VALUES (%s, %s, 'yes', 'Photos', NULL), "
                    "(%s, %s, 'yes', 'Photos', now())" % (ids[0], photos, ids[1], photos))
        pdf, _ = self.print_badges("--size", "a6", "--single")
        pages = self.check_pdf(pdf).split("\f")
        marked = [squash("✗ Photos of me may be published") in squash(page) for page in pages
                  if page.strip()]
        self.assertEqual(len(marked), len(PEOPLE))
        names = self.db.sql("SELECT family_name FROM registrations ORDER BY lower(family_name),"
                            " lower(given_name), id").splitlines()
        first = self.db.sql("SELECT family_name FROM registrations WHERE id = %s" % ids[0]).strip()
        expected = [name != first for name in names]
        self.assertEqual(marked, expected)
        self.assertNotIn("Wheelchair", self.check_pdf(pdf))
        w, h, _ = LAYOUTS["a6"]
        self.words_inside(pdf, w, h)

    def test_every_layout_alone_holds_every_name_inside_the_badge(self):
        for size, (w, h, _) in LAYOUTS.items():
            with self.subTest(size=size):
                pdf, done = self.print_badges("--size", size, "--single")
                self.assertIn("6 badges written", done.stderr)
                text = squash(self.check_pdf(pdf))
                for given, family, org, kind in PEOPLE:
                    self.assertIn(squash(given + family), text)
                    self.assertIn(squash(org[:40]), text)
                self.assertIn("Publicbody", text)
                self.words_inside(pdf, w, h)
                self.assertEqual(int(tool("qpdf", "--show-npages", pdf).stdout), 6)

    def test_sheets_hold_n_badges_a_page(self):
        for size, (w, h, per_page) in LAYOUTS.items():
            with self.subTest(size=size):
                pdf, _ = self.print_badges("--size", size, "--crop-marks")
                self.check_pdf(pdf)
                pages = -(-len(PEOPLE) // per_page)
                self.assertEqual(int(tool("qpdf", "--show-npages", pdf).stdout), pages)
                self.words_inside(pdf, 210, 297)

    def test_the_qr_codes_are_the_attendees_valid_tickets(self):
        pdf, _ = self.print_badges("--size", "a6")
        texts = self.qr_texts(pdf, 1, 2)
        self.assertEqual(len(texts), len(PEOPLE), texts)
        pub = os.path.join(self.keys, "ticket-signing.pub")
        for text in texts:
            done = run_admit("verify", "--pub", pub, text)
            self.assertTrue(done.stdout.startswith("valid "), done.stdout)
        ids = set(int(x) for x in self.db.sql(
            "SELECT id FROM registrations WHERE event_id = %d" % self.event.id).split())
        verified = subprocess.run([harness.ADMIT_BIN, "verify", "--pub", pub],
                                  input="\n".join(texts) + "\n", capture_output=True, text=True,
                                  timeout=60).stdout
        for rid in ids:
            self.assertRegex(verified, r"valid event=%d attendee=%d " % (self.event.id, rid))

    def test_only_confirmed_people_of_the_list(self):
        self.db.sql("UPDATE registrations SET status = 'cancelled', cancelled_at = now()"
                    " WHERE given_name = 'Ζωή'")
        pdf, done = self.print_badges("--single", "--list", "Day 1")
        self.assertIn("5 badges written", done.stderr)
        self.assertNotIn("Ζωή", self.check_pdf(pdf))

    def test_mistakes_say_what_is_wrong(self):
        out, done = self.print_badges("--size", "a5", check=False)
        self.assertEqual(done.returncode, 2)
        self.assertIn("--size a5: no such badge layout", done.stderr)
        self.assertFalse(os.path.exists(out))
        self.event.slug = "no-such-event"
        out, done = self.print_badges(check=False)
        self.assertEqual(done.returncode, 2)
        self.assertIn("no event no-such-event", done.stderr)
        self.assertFalse(os.path.exists(out))

    def test_an_event_without_people_is_one_empty_page(self):
        other = create_event(self.db.dsn)
        self.event = other
        pdf, done = self.print_badges()
        self.assertIn("0 badges written", done.stderr)
        tool("qpdf", "--check", pdf)
        self.assertEqual(int(tool("qpdf", "--show-npages", pdf).stdout), 1)


class BadgesFromAdmin(ServerTestCase, PdfChecks):
    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn)
        self.other = create_event(self.db.dsn)
        add_people(self.db, self.event.slug)
        add_admin(self.db.dsn, "boss@example.org")
        add_admin(self.db.dsn, "other@example.org", events=[self.other.slug])
        self.server = self.start_admitd()
        self.browser = logged_in(self.server, "boss@example.org")

    def save(self, response, name="download.pdf"):
        self.assertEqual(response.status, 200, response.text[:500])
        self.assertEqual(response.header("Content-Type"), "application/pdf")
        path = os.path.join(self.work, name)
        with open(path, "wb") as f:
            f.write(response.body)
        return path

    def test_all_badges_of_an_event_and_of_a_list(self):
        base = "/admin/events/%s" % self.event.slug
        self.assertIn(base + "/badges.pdf", self.browser.get(base).text)
        r = self.browser.get(base + "/badges.pdf?size=a7&crop=1")
        self.assertEqual(r.header("Content-Disposition"),
                         'attachment; filename="%s-badges-a7.pdf"' % self.event.slug)
        pdf = self.save(r)
        text = squash(self.check_pdf(pdf))
        for given, family, _, _ in PEOPLE:
            self.assertIn(squash(given + family), text)
        self.assertEqual(int(tool("qpdf", "--show-npages", pdf).stdout), 1)  # 8 a page
        self.db.sql("DELETE FROM registration_lists WHERE registration_id IN (SELECT id FROM"
                    " registrations WHERE given_name = 'Ζωή')")
        pdf = self.save(self.browser.get(base + "/badges.pdf?single=1&list=Day%201"))
        self.assertEqual(int(tool("qpdf", "--show-npages", pdf).stdout), len(PEOPLE) - 1)
        self.assertNotIn("Ζωή", self.check_pdf(pdf))
        r = self.browser.get(base + "/badges.pdf?list=No%20such%20list")
        self.assertEqual(r.status, 404)
        self.assertIn("no check-in list of that name", r.text)
        r = self.browser.get(base + "/badges.pdf?size=huge")
        self.assertEqual(r.status, 404)
        self.assertIn("no badge layout of that size", r.text)

    def test_one_attendees_badge_from_their_page(self):
        rid = int(self.db.sql("SELECT id FROM registrations WHERE given_name = 'Алексей'"))
        page = "/admin/events/%s/attendees/%d" % (self.event.slug, rid)
        self.assertIn(page + "/badge.pdf", self.browser.get(page).text)
        pdf = self.save(self.browser.get(page + "/badge.pdf"))
        self.assertEqual(int(tool("qpdf", "--show-npages", pdf).stdout), 1)
        self.assertIn("Смирнов", self.check_pdf(pdf))
        self.words_inside(pdf, 105, 148)
        [text] = self.qr_texts(pdf)
        done = run_admit("verify", "--pub", os.path.join(self.keys, "ticket-signing.pub"), text)
        self.assertIn("valid event=%d attendee=%d " % (self.event.id, rid), done.stdout)
        self.db.sql("UPDATE registrations SET status = 'cancelled', cancelled_at = now()"
                    " WHERE id = %d" % rid)
        r = self.browser.get(page + "/badge.pdf")
        self.assertEqual(r.status, 404)
        self.assertIn("no confirmed registration, so no badge", r.text)
        self.assertEqual(self.browser.get(page + "x/badge.pdf").status, 404)

    def test_only_organisers_of_the_event(self):
        url = "/admin/events/%s/badges.pdf" % self.event.slug
        self.assertEqual(self.server.get(url).status, 401)
        other = logged_in(self.server, "other@example.org")
        self.assertEqual(other.get(url).status, 404)
        self.assertEqual(other.get("/admin/events/%s/badges.pdf" % self.other.slug).status, 200)


if __name__ == "__main__":
    harness.main()
