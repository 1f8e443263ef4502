/* CSV export and import: quoting, flavours, formula neutralisation, streaming, strict reading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/csv.h"

#define BOM "\xEF\xBB\xBF"

/* Writes rows (NULL-terminated arrays of NULL-terminated lists) into a new string. */
static char *write_rows(enum admit_csv_flavour flavour, const char *const *const *rows, size_t *len)
{
    struct admit_buf out;
    struct admit_csv_writer w;
    admit_buf_init(&out, 1 << 24);
    admit_csv_writer_init(&w, flavour, admit_csv_sink_buf, &out);
    for (size_t i = 0; rows[i] != NULL; i++) {
        size_t n = 0;
        while (rows[i][n] != NULL)
            n++;
        assert_int_equal(admit_csv_write_row(&w, rows[i], n), ADMIT_OK);
    }
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    return admit_buf_steal(&out, len);
}

/* The bytes one field becomes, written as the first of a two-field row. */
static void check_field(enum admit_csv_flavour flavour, const char *value, const char *expected)
{
    struct admit_buf out, want;
    struct admit_csv_writer w;
    admit_buf_init(&out, 1 << 16);
    admit_buf_init(&want, 1 << 16);
    admit_csv_writer_init(&w, flavour, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_begin_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_add_field(&w, value, strlen(value)), ADMIT_OK);
    assert_int_equal(admit_csv_add_field(&w, "x", 1), ADMIT_OK);
    assert_int_equal(admit_csv_end_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_int_equal(admit_buf_printf(&want, "%s%s%cx\r\n", flavour == ADMIT_CSV_EXCEL ? BOM : "",
                                      expected, flavour == ADMIT_CSV_EXCEL ? ';' : ','),
                     ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), admit_buf_cstr(&want));
    admit_buf_free(&out);
    admit_buf_free(&want);
}

static void test_quoting(void **state)
{
    (void)state;
    static const struct {
        const char *value, *written;
    } cases[] = {
        {"plain", "plain"},
        {"two words", "two words"},
        {"Dupont, Ann", "\"Dupont, Ann\""},
        {"Dupont; Ann", "\"Dupont; Ann\""}, /* both separators, whatever the flavour */
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
        {"a\rb", "\"a\rb\""},
        {"a\nb", "\"a\nb\""},
        {"a\r\nb", "\"a\r\nb\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
        {" ", "\" \""},
        {BOM "x", "\"" BOM "x\""}, /* a reader would drop it at the start of a file */
        {"x" BOM, "x" BOM},
        {"Ελληνικά 中文 العربية 🎟",
         "Ελληνικά 中文 العربية 🎟"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_field(ADMIT_CSV_RFC4180, cases[i].value, cases[i].written);
        check_field(ADMIT_CSV_EXCEL, cases[i].value, cases[i].written);
    }
}

static void test_empty_fields(void **state)
{
    (void)state;
    static const char *const lone[] = {"", NULL};
    static const char *const two[] = {"", "", NULL};
    static const char *const *const rows[] = {lone, two, NULL};
    size_t len;
    char *text = write_rows(ADMIT_CSV_RFC4180, rows, &len);
    /* A lone empty field is quoted, or the row would be a blank line, which readers skip. */
    assert_string_equal(text, "\"\"\r\n,\r\n");
    free(text);

    struct admit_buf out;
    struct admit_csv_writer w;
    admit_buf_init(&out, 100);
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_begin_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_add_field(&w, NULL, 42), ADMIT_OK); /* NULL: empty */
    assert_int_equal(admit_csv_add_field(&w, "a", 1), ADMIT_OK);
    assert_int_equal(admit_csv_end_row(&w), ADMIT_OK);
    static const char *const with_null[] = {"b", NULL, "c"}; /* a NULL entry: empty */
    assert_int_equal(admit_csv_write_row(&w, with_null, 3), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), ",a\r\nb,,c\r\n");
    admit_buf_free(&out);
}

static const char *const header[] = {"id", "name", "email", "note", NULL};
static const char *const row1[] = {"1", "Ann-Marie Dupont", "ann@example.org", "say \"hi\"", NULL};
static const char *const row2[] = {"2", "O'Brien, Pat", "pat@example.org", "line1\nline2", NULL};
static const char *const row3[] = {"3", "=HYPERLINK(\"x\")", "", " padded ", NULL};
static const char *const row4[] = {"4", "Müller; Jörg", "", "+33 6 12 34 56 78", NULL};

static void test_export_rfc4180_bytes(void **state)
{
    (void)state;
    static const char *const *const rows[] = {header, row1, row2, row3, row4, NULL};
    size_t len;
    char *text = write_rows(ADMIT_CSV_RFC4180, rows, &len);
    assert_string_equal(text, "id,name,email,note\r\n"
                              "1,Ann-Marie Dupont,ann@example.org,\"say \"\"hi\"\"\"\r\n"
                              "2,\"O'Brien, Pat\",pat@example.org,\"line1\nline2\"\r\n"
                              "3,\"'=HYPERLINK(\"\"x\"\")\",,\" padded \"\r\n"
                              "4,\"Müller; Jörg\",,'+33 6 12 34 56 78\r\n");
    assert_int_equal(len, strlen(text));
    free(text);
}

static void test_export_excel_bytes(void **state)
{
    (void)state;
    static const char *const *const rows[] = {header, row1, row2, row3, row4, NULL};
    size_t len;
    char *text = write_rows(ADMIT_CSV_EXCEL, rows, &len);
    assert_string_equal(text, BOM "id;name;email;note\r\n"
                                  "1;Ann-Marie Dupont;ann@example.org;\"say \"\"hi\"\"\"\r\n"
                                  "2;\"O'Brien, Pat\";pat@example.org;\"line1\nline2\"\r\n"
                                  "3;\"'=HYPERLINK(\"\"x\"\")\";;\" padded \"\r\n"
                                  "4;\"Müller; Jörg\";;'+33 6 12 34 56 78\r\n");
    free(text);
}

/* The BOM is written once, at the very start, however the output is flushed. */
static void test_excel_bom_once(void **state)
{
    (void)state;
    struct admit_buf out;
    struct admit_csv_writer w;
    admit_buf_init(&out, 1 << 24);
    admit_csv_writer_init(&w, ADMIT_CSV_EXCEL, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), BOM); /* an export with no rows is still UTF-8 */
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(admit_csv_write_row(&w, row1, 4), ADMIT_OK);
        if (i % 1000 == 0)
            assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    }
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_memory_equal(out.data, BOM, 3);
    size_t boms = 0;
    for (const char *p = out.data; (p = strstr(p, BOM)) != NULL; p += 3)
        boms++;
    assert_int_equal(boms, 1);
    admit_buf_free(&out);

    admit_buf_init(&out, 100);
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_write_row(&w, row1, 1), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), "1\r\n");
    admit_buf_free(&out);
}

static void test_integers(void **state)
{
    (void)state;
    struct admit_buf out;
    struct admit_csv_writer w;
    admit_buf_init(&out, 1000);
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_begin_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_add_int(&w, 0), ADMIT_OK);
    assert_int_equal(admit_csv_add_int(&w, 42), ADMIT_OK);
    assert_int_equal(admit_csv_add_int(&w, -5), ADMIT_OK); /* a number, not a formula */
    assert_int_equal(admit_csv_add_int(&w, INT64_MAX), ADMIT_OK);
    assert_int_equal(admit_csv_add_int(&w, INT64_MIN), ADMIT_OK);
    assert_int_equal(admit_csv_end_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_begin_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_add_int(&w, 7), ADMIT_OK);
    assert_int_equal(admit_csv_end_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out),
                        "0,42,-5,9223372036854775807,-9223372036854775808\r\n7\r\n");
    admit_buf_free(&out);
}

static void test_neutralise_cells(void **state)
{
    (void)state;
    static const struct {
        const char *value, *written;
    } cases[] = {
        {"=1+1", "'=1+1"},
        {"+33 6 12", "'+33 6 12"},
        {"-5", "'-5"},
        {"@SUM(A1:A9)", "'@SUM(A1:A9)"},
        {"\t=1", "'\t=1"},
        {"\r=1", "\"'\r=1\""}, /* neutralised, then quoted for the CR */
        {"'=1", "''=1"},
        {"''+x", "'''+x"},
        {"=", "'="},
        /* Left alone: */
        {"'t Hooft", "'t Hooft"},
        {"Ann-Marie", "Ann-Marie"},
        {"O'Brien", "O'Brien"},
        {"'", "'"},
        {"''", "''"},
        {"a=b", "a=b"},
        {" =1", "\" =1\""}, /* not leading: the space comes first (and is quoted) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_field(ADMIT_CSV_RFC4180, cases[i].value, cases[i].written);
        check_field(ADMIT_CSV_EXCEL, cases[i].value, cases[i].written);
    }
    assert_true(admit_csv_needs_neutralising("=", 1));
    assert_true(admit_csv_needs_neutralising("'''@", 4));
    assert_false(admit_csv_needs_neutralising("'''", 3));
    assert_false(admit_csv_needs_neutralising(NULL, 0));
    assert_false(admit_csv_needs_neutralising("=", 0));
}

static void check_inverse(const char *value, size_t len)
{
    struct admit_buf n, u;
    admit_buf_init(&n, 1 << 16);
    admit_buf_init(&u, 1 << 16);
    assert_int_equal(admit_csv_neutralise(&n, value, len), ADMIT_OK);
    assert_int_equal(admit_csv_unneutralise(&u, n.data != NULL ? n.data : "", n.len), ADMIT_OK);
    assert_int_equal(u.len, len);
    if (len > 0)
        assert_memory_equal(u.data, value, len);
    /* Neutralised text never starts like a formula. */
    if (n.len > 0)
        assert_false(n.data[0] == '=' || n.data[0] == '+' || n.data[0] == '-' || n.data[0] == '@' ||
                     n.data[0] == '\t' || n.data[0] == '\r');
    assert_int_equal(n.len, len + (admit_csv_needs_neutralising(value, len) ? 1 : 0));
    admit_buf_free(&n);
    admit_buf_free(&u);
}

static void test_unneutralise_inverts(void **state)
{
    (void)state;
    static const char *const tricky[] = {
        "",     "'",   "''",     "'''",      "=",       "'=",        "''=",     "'''=",
        "+",    "-",   "@",      "\t",       "\r",      "'\t",       "'\r",     "''\r\n",
        "'t",   "'a=", "a'=",    "=='",      "'-'",     "'t Hooft",  "O'Brien", "Ann-Marie",
        "-'-",  " =",  "' =",    "'' '=",    "=SUM(1)", "'=SUM(1)",  "@@",      "'@'@",
        "'\n=", "\n=", "'\"=\"", "Ελληνικά", "'中文",   "'=العربية", "🎟=",   "'🎟",
    };
    for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++)
        check_inverse(tricky[i], strlen(tricky[i]));

    struct admit_buf out;
    admit_buf_init(&out, 100);
    assert_int_equal(admit_csv_unneutralise(&out, "'=1", 3), ADMIT_OK);
    assert_int_equal(admit_csv_unneutralise(&out, ",'t", 3), ADMIT_OK);
    assert_int_equal(admit_csv_unneutralise(&out, ",''@", 4), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), "=1,'t,''@");
    admit_buf_free(&out);

    /* At the buffer's limit nothing is appended. */
    admit_buf_init(&out, 3);
    assert_int_equal(admit_csv_neutralise(&out, "=12", 3), ADMIT_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    admit_buf_free(&out);
}

/* xorshift64: the same "random" strings on every run and every machine. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static size_t random_value(uint64_t *seed, char *out, size_t max)
{
    static const char alphabet[] = "'=+-@\t\ra,\"\n";
    size_t len = next_random(seed) % (max + 1);
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[next_random(seed) % (sizeof alphabet - 1)];
    out[len] = '\0';
    return len;
}

static void test_unneutralise_property(void **state)
{
    (void)state;
    uint64_t seed = 0x9E3779B97F4A7C15u;
    char value[16];
    for (int i = 0; i < 200000; i++) {
        size_t len = random_value(&seed, value, 10);
        check_inverse(value, len);
    }
}

/* Reads every record of text and checks them against rows. */
static void check_read(struct admit_csv_reader *r, const char *const *const *rows)
{
    struct admit_csv_record rec;
    unsigned long last_line = 0;
    size_t i = 0;
    for (; rows[i] != NULL; i++) {
        assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_OK);
        assert_true(rec.line > last_line);
        last_line = rec.line;
        size_t n = 0;
        for (; rows[i][n] != NULL; n++) {
            assert_true(n < rec.count);
            assert_string_equal(rec.fields[n], rows[i][n]);
            assert_int_equal(rec.lens[n], strlen(rows[i][n]));
        }
        assert_int_equal(rec.count, n);
    }
    assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_csv_reader_problem(r), ADMIT_CSV_NO_PROBLEM);
    assert_string_equal(admit_csv_reader_error(r)->message, "");
}

static const char *const tricky1[] = {"Dupont, Ann", "\"Quoted\" \"\"twice\"\"", "a;b;c", NULL};
static const char *const tricky2[] = {"line 1\nline 2\r\nline 3\rline 4", "\r\n", "\n", NULL};
static const char *const tricky3[] = {"Ελληνικά", "中文", "العربية", "🎟️👩🏽‍💻",
                                      NULL};
static const char *const tricky4[] = {"=1+1", "'=1+1", "''=1+1", "+33 6", "-", "@x", NULL};
static const char *const tricky5[] = {"\t=cmd", "\r=cmd", "'t Hooft", "O'Brien", "'", "''", NULL};
static const char *const tricky6[] = {" spaced ", "  ", "\t", "", "'", "Ann-Marie", NULL};
static const char *const tricky7[] = {"", NULL};
static const char *const tricky8[] = {BOM "starts with a BOM", "x", NULL};
static const char *const *const tricky_rows[] = {tricky1, tricky2, tricky3, tricky4, tricky5,
                                                 tricky6, tricky7, tricky8, tricky1, NULL};

static void test_round_trip(void **state)
{
    (void)state;
    const enum admit_csv_flavour flavours[] = {ADMIT_CSV_RFC4180, ADMIT_CSV_EXCEL};
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        char *text = write_rows(flavours[f], tricky_rows, &len);
        struct admit_csv_reader *r = NULL;
        assert_int_equal(admit_csv_reader_open_mem(&r, text, len, NULL), ADMIT_OK);
        assert_int_equal(admit_csv_reader_flavour(r), flavours[f]);
        check_read(r, tricky_rows);
        admit_csv_reader_close(r);

        /* The same through a FILE. */
        FILE *file = tmpfile();
        assert_non_null(file);
        assert_int_equal(fwrite(text, 1, len, file), len);
        rewind(file);
        assert_int_equal(admit_csv_reader_open_file(&r, file, NULL), ADMIT_OK);
        assert_int_equal(admit_csv_reader_flavour(r), flavours[f]);
        check_read(r, tricky_rows);
        admit_csv_reader_close(r);
        fclose(file);
        free(text);
    }

    /* A file whose very first field starts with a BOM keeps it (the writer quotes it). */
    static const char *const *const bom_rows[] = {tricky8, tricky7, NULL};
    size_t len;
    char *text = write_rows(ADMIT_CSV_RFC4180, bom_rows, &len);
    assert_memory_equal(text, "\"" BOM, 4);
    struct admit_csv_reader *r = NULL;
    assert_int_equal(admit_csv_reader_open_mem(&r, text, len, NULL), ADMIT_OK);
    check_read(r, bom_rows);
    admit_csv_reader_close(r);
    free(text);
}

/* Random rows from the neutralisation alphabet, in both flavours, come back unchanged. */
static void test_round_trip_property(void **state)
{
    (void)state;
    uint64_t seed = 42;
    char values[200][16];
    const char *fields[201];
    const char *const *rows[41];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < 200; i++) {
            random_value(&seed, values[i], 12);
            fields[i] = values[i];
        }
        /* 40 rows of 1 to 5 fields (each row's list ends with a NULL taken from the next). */
        size_t used = 0;
        const char *lists[40][6];
        for (size_t row = 0; row < 40; row++) {
            size_t n = 1 + next_random(&seed) % 5;
            for (size_t k = 0; k < n; k++)
                lists[row][k] = fields[used++];
            lists[row][n] = NULL;
            rows[row] = lists[row];
        }
        rows[40] = NULL;
        for (int f = 0; f < 2; f++) {
            enum admit_csv_flavour flavour = f ? ADMIT_CSV_EXCEL : ADMIT_CSV_RFC4180;
            size_t len;
            char *text = write_rows(flavour, rows, &len);
            struct admit_csv_reader *r = NULL;
            assert_int_equal(admit_csv_reader_open_mem(&r, text, len, NULL), ADMIT_OK);
            check_read(r, rows);
            admit_csv_reader_close(r);
            free(text);
        }
    }
}

/* A sink that counts, and fails with ADMIT_ERR_IO once more than fail_after bytes came. */
struct counting_sink {
    size_t calls, bytes, biggest, fail_after;
};

static enum admit_rc count_bytes(void *ctx, const char *data, size_t len)
{
    struct counting_sink *s = ctx;
    (void)data;
    s->calls++;
    if (s->bytes + len > s->fail_after)
        return ADMIT_ERR_IO;
    s->bytes += len;
    if (len > s->biggest)
        s->biggest = len;
    return ADMIT_OK;
}

static void test_streaming_constant_memory(void **state)
{
    (void)state;
    static const char *const row[] = {"123456",
                                      "Ann-Marie Dupont",
                                      "ann-marie.dupont@example.org",
                                      "Dupont, Ann",
                                      "=not a formula",
                                      "2024-05-17T09:30:00Z",
                                      "checked in",
                                      "Gate \"B\"",
                                      "Ελληνικά",
                                      ""};
    /* 123456,Ann-Marie Dupont,ann-marie.dupont@example.org,"Dupont, Ann",'=not a formula,
     * 2024-05-17T09:30:00Z,checked in,"Gate ""B""",Ελληνικά,\r\n */
    size_t row_len = 7 + 17 + 29 + 14 + 16 + 21 + 11 + 13 + (strlen("Ελληνικά") + 1) + 0 + 2;
    struct counting_sink sink = {.fail_after = SIZE_MAX};
    struct admit_csv_writer w;
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, count_bytes, &sink);
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(admit_csv_write_row(&w, row, 10), ADMIT_OK);
        assert_true(w.len <= ADMIT_CSV_WRITER_BUF);
    }
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_int_equal(sink.bytes, 100000 * row_len);
    assert_true(sink.biggest <= ADMIT_CSV_WRITER_BUF);
    /* Each call hands over a nearly full buffer. */
    assert_true(sink.calls <= sink.bytes / (ADMIT_CSV_WRITER_BUF / 2) + 1);

    /* A field bigger than the buffer goes straight to the sink rather than being held. */
    size_t big_len = 3 * ADMIT_CSV_WRITER_BUF;
    char *big = malloc(big_len);
    assert_non_null(big);
    memset(big, 'x', big_len);
    sink = (struct counting_sink){.fail_after = SIZE_MAX};
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, count_bytes, &sink);
    assert_int_equal(admit_csv_begin_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_add_field(&w, big, big_len), ADMIT_OK);
    assert_int_equal(admit_csv_end_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_int_equal(sink.bytes, big_len + 2);
    assert_int_equal(sink.biggest, big_len);
    free(big);
}

static void test_sink_errors_propagate(void **state)
{
    (void)state;
    struct counting_sink sink = {.fail_after = 100000};
    struct admit_csv_writer w;
    admit_csv_writer_init(&w, ADMIT_CSV_EXCEL, count_bytes, &sink);
    enum admit_rc rc = ADMIT_OK;
    int rows = 0;
    while (rc == ADMIT_OK && rows < 100000) {
        rc = admit_csv_write_row(&w, row1, 4);
        rows++;
    }
    assert_int_equal(rc, ADMIT_ERR_IO);
    assert_true(rows < 100000);
    /* Failed for good, without bothering the sink again. */
    size_t calls = sink.calls;
    assert_int_equal(admit_csv_write_row(&w, row1, 4), ADMIT_ERR_IO);
    assert_int_equal(admit_csv_begin_row(&w), ADMIT_ERR_IO);
    assert_int_equal(admit_csv_add_int(&w, 1), ADMIT_ERR_IO);
    assert_int_equal(admit_csv_flush(&w), ADMIT_ERR_IO);
    assert_int_equal(sink.calls, calls);

    /* The error can also come from the final flush. */
    sink = (struct counting_sink){.fail_after = 10};
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, count_bytes, &sink);
    assert_int_equal(admit_csv_write_row(&w, row1, 4), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_ERR_IO);

    /* The admit_buf sink reports its limit. */
    struct admit_buf out;
    admit_buf_init(&out, 10);
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_write_row(&w, row1, 4), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_ERR_TOO_LARGE);
    admit_buf_free(&out);

    /* The FILE sink reports a failed write. */
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_file, ro);
    assert_int_equal(admit_csv_write_row(&w, row1, 4), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_ERR_IO);
    fclose(ro);
}

static void test_file_sink(void **state)
{
    (void)state;
    FILE *file = tmpfile();
    assert_non_null(file);
    struct admit_csv_writer w;
    admit_csv_writer_init(&w, ADMIT_CSV_EXCEL, admit_csv_sink_file, file);
    assert_int_equal(admit_csv_write_row(&w, header, 4), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    rewind(file);
    char got[64] = {0};
    assert_int_equal(fread(got, 1, sizeof got - 1, file), 3 + 20);
    assert_string_equal(got, BOM "id;name;email;note\r\n");
    fclose(file);
}

static void test_writer_misuse(void **state)
{
    (void)state;
    struct admit_buf out;
    struct admit_csv_writer w;
    admit_buf_init(&out, 100);

    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_add_field(&w, "a", 1), ADMIT_ERR_STATE);
    assert_int_equal(admit_csv_flush(&w), ADMIT_ERR_STATE); /* kept, so it is not missed */

    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_end_row(&w), ADMIT_ERR_STATE);

    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_begin_row(&w), ADMIT_OK);
    assert_int_equal(admit_csv_begin_row(&w), ADMIT_ERR_STATE);

    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_csv_write_row(&w, NULL, 0), ADMIT_ERR_INVALID);
    assert_int_equal(admit_csv_flush(&w), ADMIT_ERR_INVALID);
    assert_int_equal(out.len, 0);
    admit_buf_free(&out);
}

/* Opens text (a C string) with the given options, expecting success. */
static struct admit_csv_reader *open_text(const char *text,
                                          const struct admit_csv_read_options *options)
{
    struct admit_csv_reader *r = NULL;
    assert_int_equal(admit_csv_reader_open_mem(&r, text, strlen(text), options), ADMIT_OK);
    assert_non_null(r);
    return r;
}

static void test_reader_lines(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned long lines[3];
    } cases[] = {
        {"a,b\r\n\"x\r\ny\",z\r\n\r\nc,d\r\n", {1, 2, 5}},
        {"a,b\n\"x\ny\",z\n\nc,d", {1, 2, 5}},               /* LF, no final line break */
        {"a,b\r\"x\ry\",z\r\rc,d\r", {1, 2, 5}},             /* lone CR */
        {"a,b\r\n\"x\ny\",z\rc,d\n", {1, 2, 4}},             /* mixed */
        {"\r\n\n\ra,b\r\n\"\r\n\r\n\",z\r\nc,d", {4, 5, 8}}, /* blank lines first */
        {BOM "a,b\r\n\"x\r\n\r\ny\",z\r\n\"\"\"c\r\n\"\"\",d\r\n", {1, 2, 5}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct admit_csv_reader *r = open_text(cases[i].text, NULL);
        struct admit_csv_record rec;
        for (size_t k = 0; k < 3; k++) {
            assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_OK);
            assert_int_equal(rec.count, 2);
            assert_int_equal(rec.line, cases[i].lines[k]);
        }
        assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_ERR_NOT_FOUND);
        admit_csv_reader_close(r);
    }
}

static void test_reader_fields(void **state)
{
    (void)state;
    /* Spaces are data; a trailing separator is a last empty field; "" is an empty field;
     * neutralised cells are restored. */
    static const char *const r1[] = {" a ", "", "b", "", NULL};
    static const char *const r2[] = {"", NULL};
    static const char *const r3[] = {"=1", "'=2", "'t Hooft", "'", "-3", "\t", NULL};
    static const char *const r4[] = {"x,y", "say \"hi\"", "2\r\nlines", NULL};
    static const char *const *const rows[] = {r1, r2, r3, r4, NULL};
    struct admit_csv_reader *r = open_text(" a ,,b,\r\n"
                                           "\"\"\r\n"
                                           "'=1,''=2,'t Hooft,',-3,\t\n"
                                           "\"x,y\",\"say \"\"hi\"\"\",\"2\r\nlines\"",
                                           NULL);
    check_read(r, rows);
    admit_csv_reader_close(r);

    struct admit_csv_record rec;
    const char *const empties[] = {"", BOM, "\r\n\r\n", BOM "\n\n\r"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        r = open_text(empties[i], NULL);
        assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_ERR_NOT_FOUND);
        admit_csv_reader_close(r);
    }
    /* A FILE that cannot be read. */
    FILE *wo = fopen("/dev/null", "w");
    assert_non_null(wo);
    struct admit_csv_reader *old = open_text("x", NULL);
    r = old; /* must be reset to NULL */
    assert_int_equal(admit_csv_reader_open_file(&r, wo, NULL), ADMIT_ERR_IO);
    assert_null(r);
    admit_csv_reader_close(old);
    fclose(wo);

    assert_int_equal(admit_csv_reader_open_mem(&r, NULL, 0, NULL), ADMIT_OK);
    assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_ERR_NOT_FOUND);
    admit_csv_reader_close(r);
    admit_csv_reader_close(NULL);
}

static void test_reader_detects_separator(void **state)
{
    (void)state;
    static const char *const semi1[] = {"id", "name", NULL};
    static const char *const semi2[] = {"1", "Dupont, Ann", NULL};
    static const char *const *const semi_rows[] = {semi1, semi2, NULL};
    struct admit_csv_reader *r = open_text(BOM "id;name\r\n1;Dupont, Ann\r\n", NULL);
    assert_int_equal(admit_csv_reader_flavour(r), ADMIT_CSV_EXCEL);
    check_read(r, semi_rows);
    admit_csv_reader_close(r);

    /* Without a BOM too; separators inside quotes do not count. */
    static const char *const comma1[] = {"a;b;c", "d", NULL};
    static const char *const *const comma_rows[] = {comma1, NULL};
    r = open_text("\"a;b;c\",d\n", NULL);
    assert_int_equal(admit_csv_reader_flavour(r), ADMIT_CSV_RFC4180);
    check_read(r, comma_rows);
    admit_csv_reader_close(r);
    r = open_text("id;name\n", NULL);
    assert_int_equal(admit_csv_reader_flavour(r), ADMIT_CSV_EXCEL);
    admit_csv_reader_close(r);
    r = open_text("name\n", NULL);
    assert_int_equal(admit_csv_reader_flavour(r), ADMIT_CSV_RFC4180);
    admit_csv_reader_close(r);

    /* A separator given by the caller wins. */
    static const char *const forced1[] = {"a,b", "c", NULL};
    static const char *const *const forced_rows[] = {forced1, NULL};
    struct admit_csv_read_options options = {.separator = ';'};
    r = open_text("a,b;c\n", &options);
    assert_int_equal(admit_csv_reader_flavour(r), ADMIT_CSV_EXCEL);
    check_read(r, forced_rows);
    admit_csv_reader_close(r);

    /* One column: a BOM means our Excel flavour, whose other rows split on ';'. */
    static const char *const one1[] = {"name", NULL};
    static const char *const one2[] = {"a", "b", NULL};
    static const char *const *const one_rows[] = {one1, one2, NULL};
    r = open_text(BOM "name\r\na;b\r\n", NULL);
    assert_int_equal(admit_csv_reader_flavour(r), ADMIT_CSV_EXCEL);
    check_read(r, one_rows);
    admit_csv_reader_close(r);

    struct admit_csv_reader *old = open_text("x", NULL);
    r = old;
    options.separator = '\t';
    assert_int_equal(admit_csv_reader_open_mem(&r, "a", 1, &options), ADMIT_ERR_INVALID);
    assert_null(r);
    admit_csv_reader_close(old);
}

struct bad_input {
    const char *text;
    size_t len;  /* 0: strlen(text) */
    size_t good; /* records read before the problem */
    enum admit_csv_problem problem;
    enum admit_rc rc;
    const char *message;
};

static void check_bad(const struct bad_input *bad, const struct admit_csv_read_options *options)
{
    struct admit_csv_reader *r = NULL;
    struct admit_csv_record rec;
    size_t len = bad->len != 0 ? bad->len : strlen(bad->text);
    assert_int_equal(admit_csv_reader_open_mem(&r, bad->text, len, options), ADMIT_OK);
    for (size_t i = 0; i < bad->good; i++)
        assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_OK);
    assert_int_equal(admit_csv_read_record(r, &rec), bad->rc);
    const struct admit_error *e = admit_csv_reader_error(r);
    assert_int_equal(admit_csv_reader_problem(r), bad->problem);
    assert_string_equal(e->message, bad->message);
    unsigned long line = strtoul(bad->message + strlen("line "), NULL, 10);
    assert_int_equal(e->line, line);
    /* Reading does not go on past a problem. */
    assert_int_equal(admit_csv_read_record(r, &rec), bad->rc);
    assert_int_equal(admit_csv_reader_problem(r), bad->problem);
    admit_csv_reader_close(r);
}

static void test_reader_errors(void **state)
{
    (void)state;
    static const struct bad_input syntax[] = {
        {"id,name\r\n1,\"open\r\nand never\r\nclosed\r\n", 0, 1, ADMIT_CSV_UNTERMINATED_QUOTE,
         ADMIT_ERR_INVALID, "line 2: unterminated quoted field (field 2)"},
        {"id,name\r\n\"a\r\nb\",\"c\r\nd\r\n", 0, 1, ADMIT_CSV_UNTERMINATED_QUOTE,
         ADMIT_ERR_INVALID, "line 3: unterminated quoted field (field 2)"},
        {"id,name\r\n\"\"\"\r\n", 0, 1, ADMIT_CSV_UNTERMINATED_QUOTE, ADMIT_ERR_INVALID,
         "line 2: unterminated quoted field (field 1)"},
        {"id,name\r\n1,Ann \"Nan\" Lee\r\n", 0, 1, ADMIT_CSV_BAD_QUOTE, ADMIT_ERR_INVALID,
         "line 2: quote in unquoted field 2 (quote the whole field and double the quote)"},
        {"id,name\r\n1, \"Lee\"\r\n", 0, 1, ADMIT_CSV_BAD_QUOTE, ADMIT_ERR_INVALID,
         "line 2: quote in unquoted field 2 (quote the whole field and double the quote)"},
        {"id,name\r\n1,\"multi\r\nline\"x\r\n", 0, 1, ADMIT_CSV_TEXT_AFTER_QUOTE, ADMIT_ERR_INVALID,
         "line 3: text after the closing quote of field 2"},
        {"id,name\r\n\"1\" ,x\r\n", 0, 1, ADMIT_CSV_TEXT_AFTER_QUOTE, ADMIT_ERR_INVALID,
         "line 2: text after the closing quote of field 1"},
        {"id\r\n1\r\n\"2\r\nJos\xE9\"\r\n", 0, 2, ADMIT_CSV_INVALID_UTF8, ADMIT_ERR_INVALID,
         "line 4: invalid UTF-8 in field 1 (save the file as \"CSV UTF-8\")"},
        {"a,\xC0\xAF\n", 0, 0, ADMIT_CSV_INVALID_UTF8, ADMIT_ERR_INVALID, /* overlong '/' */
         "line 1: invalid UTF-8 in field 2 (save the file as \"CSV UTF-8\")"},
        {"a,\xED\xA0\x80\n", 0, 0, ADMIT_CSV_INVALID_UTF8, ADMIT_ERR_INVALID, /* surrogate */
         "line 1: invalid UTF-8 in field 2 (save the file as \"CSV UTF-8\")"},
        {"a,\xF4\x90\x80\x80\n", 0, 0, ADMIT_CSV_INVALID_UTF8, ADMIT_ERR_INVALID, /* > U+10FFFF */
         "line 1: invalid UTF-8 in field 2 (save the file as \"CSV UTF-8\")"},
        {"a,\xE2\x82\n", 0, 0, ADMIT_CSV_INVALID_UTF8, ADMIT_ERR_INVALID, /* truncated */
         "line 1: invalid UTF-8 in field 2 (save the file as \"CSV UTF-8\")"},
        {"a,b\nc,d\0e\n", 10, 1, ADMIT_CSV_NUL_BYTE, ADMIT_ERR_INVALID,
         "line 2: NUL byte in field 2"},
    };
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++)
        check_bad(&syntax[i], NULL);

    struct admit_csv_read_options limits = {
        .max_field_len = 5, .max_fields = 3, .max_record_len = 12};
    static const struct bad_input bounds[] = {
        {"abc,defgh,1234\r\nab,\"1\n234\",\"1\n2345\"\r\n", 0, 1, ADMIT_CSV_FIELD_TOO_LONG,
         ADMIT_ERR_TOO_LARGE, "line 3: field 3 is longer than 5 bytes"},
        {"a,b,c\r\na,b,c,d\r\n", 0, 1, ADMIT_CSV_TOO_MANY_FIELDS, ADMIT_ERR_TOO_LARGE,
         "line 2: more than 3 fields"},
        {"abc,def\r\n12345,12345,123\r\n", 0, 1, ADMIT_CSV_RECORD_TOO_LONG, ADMIT_ERR_TOO_LARGE,
         "line 2: record longer than 12 bytes"},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
        check_bad(&bounds[i], &limits);

    /* Exactly at the bounds is fine; the neutralising apostrophe counts in the field's length
     * (bytes as in the file) but not in the record's. */
    static const char *const at1[] = {"12345", "=234", "abc", NULL};
    static const char *const *const at_rows[] = {at1, NULL};
    struct admit_csv_reader *r = open_text("12345,'=234,abc\r\n", &limits);
    check_read(r, at_rows);
    admit_csv_reader_close(r);
}

/* A field that never ends is stopped at the bound, not read into memory to the end. */
static void test_reader_huge_field(void **state)
{
    (void)state;
    size_t len = 10 * 1024 * 1024;
    char *text = malloc(len);
    assert_non_null(text);
    memcpy(text, "id,name\r\n1,\"", 12);
    memset(text + 12, 'x', len - 12);
    for (size_t i = 100; i < len; i += 100)
        text[i] = '\n';
    FILE *file = tmpfile();
    assert_non_null(file);
    assert_int_equal(fwrite(text, 1, len, file), len);
    rewind(file);
    struct admit_csv_reader *r = NULL;
    struct admit_csv_record rec;
    assert_int_equal(admit_csv_reader_open_file(&r, file, NULL), ADMIT_OK);
    assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_OK);
    assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_ERR_TOO_LARGE);
    assert_int_equal(admit_csv_reader_problem(r), ADMIT_CSV_FIELD_TOO_LONG);
    assert_string_equal(admit_csv_reader_error(r)->message,
                        "line 2: field 2 is longer than 4096 bytes");
    /* It stopped within a few chunks of the bound, long before the end of the file. */
    assert_true(ftell(file) < 64 * 1024);
    admit_csv_reader_close(r);
    fclose(file);
    free(text);
}

/* Many records through a FILE, so that records, quoted line breaks and CRLF pairs straddle the
 * reader's chunks; every value and line number must come back. */
static void test_reader_file_chunks(void **state)
{
    (void)state;
    FILE *file = tmpfile();
    assert_non_null(file);
    struct admit_csv_writer w;
    admit_csv_writer_init(&w, ADMIT_CSV_EXCEL, admit_csv_sink_file, file);
    char a[64], b[64];
    for (int i = 0; i < 5000; i++) {
        int na = snprintf(a, sizeof a, "%s%d\r\nΕλληνικά", i % 3 ? "=" : "'t ", i);
        int nb = snprintf(b, sizeof b, "line\n%d;\"%d\"", i, i * 7);
        assert_int_equal(admit_csv_begin_row(&w), ADMIT_OK);
        assert_int_equal(admit_csv_add_int(&w, i), ADMIT_OK);
        assert_int_equal(admit_csv_add_field(&w, a, (size_t)na), ADMIT_OK);
        assert_int_equal(admit_csv_add_field(&w, b, (size_t)nb), ADMIT_OK);
        assert_int_equal(admit_csv_end_row(&w), ADMIT_OK);
    }
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_true(ftell(file) > 8 * 16384);
    rewind(file);

    struct admit_csv_reader *r = NULL;
    struct admit_csv_record rec;
    assert_int_equal(admit_csv_reader_open_file(&r, file, NULL), ADMIT_OK);
    assert_int_equal(admit_csv_reader_flavour(r), ADMIT_CSV_EXCEL);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_OK);
        assert_int_equal(rec.line, 3 * i + 1); /* each record spans three lines */
        assert_int_equal(rec.count, 3);
        assert_int_equal(strtol(rec.fields[0], NULL, 10), i);
        int na = snprintf(a, sizeof a, "%s%d\r\nΕλληνικά", i % 3 ? "=" : "'t ", i);
        int nb = snprintf(b, sizeof b, "line\n%d;\"%d\"", i, i * 7);
        assert_int_equal(rec.lens[1], (size_t)na);
        assert_string_equal(rec.fields[1], a);
        assert_int_equal(rec.lens[2], (size_t)nb);
        assert_string_equal(rec.fields[2], b);
    }
    assert_int_equal(admit_csv_read_record(r, &rec), ADMIT_ERR_NOT_FOUND);
    admit_csv_reader_close(r);
    fclose(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_empty_fields),
        cmocka_unit_test(test_export_rfc4180_bytes),
        cmocka_unit_test(test_export_excel_bytes),
        cmocka_unit_test(test_excel_bom_once),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_neutralise_cells),
        cmocka_unit_test(test_unneutralise_inverts),
        cmocka_unit_test(test_unneutralise_property),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_property),
        cmocka_unit_test(test_streaming_constant_memory),
        cmocka_unit_test(test_sink_errors_propagate),
        cmocka_unit_test(test_file_sink),
        cmocka_unit_test(test_writer_misuse),
        cmocka_unit_test(test_reader_lines),
        cmocka_unit_test(test_reader_fields),
        cmocka_unit_test(test_reader_detects_separator),
        cmocka_unit_test(test_reader_errors),
        cmocka_unit_test(test_reader_huge_field),
        cmocka_unit_test(test_reader_file_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
