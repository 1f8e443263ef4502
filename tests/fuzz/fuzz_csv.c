/* Fuzz target for CSV import and export (lib/core/csv_read.c, lib/core/csv_write.c).
 *
 * Every input is read as CSV twice, with the default bounds and with tiny ones (so that every
 * bound is hit), and each time:
 *  - every record obeys the reader's contract: at least one field, within the bounds, each field
 *    NUL-terminated at its length with no NUL inside, valid UTF-8, record lines never going
 *    backwards and within the input; a stop is the end (no problem) or a problem whose message
 *    starts with its line;
 *  - the records read go back through the writer in the detected flavour, and reading that
 *    export (same separator) gives back exactly the same records, then the end: quoting,
 *    neutralisation and the BOM round-trip whatever the data;
 *  - reading the same bytes through a FILE gives the same records and the same stop;
 * and neutralise then unneutralise gives back the input.
 * Checks abort() rather than assert(): the fuzz build defines NDEBUG (RelWithDebInfo). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/csv.h"
#include "fuzz.h"

/* Inputs longer than this add no coverage, only time. */
#define INPUT_MAX 8192

/* An independent decoder (the reader has its own validator): RFC 3629, no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i];
        size_t more;
        if (c < 0x80)
            more = 0;
        else if (c >= 0xC0 && c < 0xE0)
            more = 1;
        else if (c >= 0xE0 && c < 0xF0)
            more = 2;
        else if (c >= 0xF0 && c < 0xF8)
            more = 3;
        else
            return false;
        if (n - i <= more)
            return false;
        if (more > 0)
            c &= 0x3Fu >> more;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            c = c << 6 | (s[i + k] & 0x3Fu);
        }
        if (c < min[more] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        i += more + 1;
    }
    return true;
}

static unsigned long lines_in(const uint8_t *s, size_t n)
{
    unsigned long lines = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')))
            lines++;
    }
    return lines;
}

/* Records as bytes, to compare two readings: count, then each field's length and bytes. */
static void serialise(struct admit_buf *out, const struct admit_csv_record *rec)
{
    CHECK(admit_buf_append(out, &rec->count, sizeof rec->count) == ADMIT_OK);
    for (size_t i = 0; i < rec->count; i++) {
        CHECK(admit_buf_append(out, &rec->lens[i], sizeof rec->lens[i]) == ADMIT_OK);
        CHECK(admit_buf_append(out, rec->fields[i], rec->lens[i]) == ADMIT_OK);
    }
}

struct reading {
    struct admit_buf records; /* serialised */
    struct admit_buf lines;   /* each record's line */
    enum admit_rc rc;         /* how it stopped */
    enum admit_csv_problem problem;
    struct admit_error error; /* a copy: outlives the reader */
    enum admit_csv_flavour flavour;
};

/* Reads everything r gives, checking the contract; export, when not NULL, gets the records
 * written back as CSV. */
static void read_all(struct admit_csv_reader *r, const struct admit_csv_read_options *o,
                     unsigned long max_line, struct reading *out, struct admit_buf *export)
{
    struct admit_csv_record rec;
    struct admit_csv_writer w;
    unsigned long last_line = 0;

    admit_buf_init(&out->records, SIZE_MAX / 2);
    admit_buf_init(&out->lines, SIZE_MAX / 2);
    out->flavour = admit_csv_reader_flavour(r);
    if (export != NULL)
        admit_csv_writer_init(&w, out->flavour, admit_csv_sink_buf, export);
    for (;;) {
        out->rc = admit_csv_read_record(r, &rec);
        if (out->rc != ADMIT_OK)
            break;
        CHECK(rec.count >= 1 && rec.count <= o->max_fields);
        CHECK(rec.line >= 1 && rec.line > last_line && rec.line <= max_line);
        last_line = rec.line;
        size_t total = 0;
        for (size_t i = 0; i < rec.count; i++) {
            CHECK(rec.lens[i] <= o->max_field_len);
            CHECK(rec.fields[i][rec.lens[i]] == '\0');
            CHECK(strlen(rec.fields[i]) == rec.lens[i]);
            CHECK(valid_utf8((const unsigned char *)rec.fields[i], rec.lens[i]));
            total += rec.lens[i];
        }
        CHECK(total <= o->max_record_len);
        serialise(&out->records, &rec);
        CHECK(admit_buf_append(&out->lines, &rec.line, sizeof rec.line) == ADMIT_OK);
        if (export != NULL) {
            CHECK(admit_csv_begin_row(&w) == ADMIT_OK);
            for (size_t i = 0; i < rec.count; i++)
                CHECK(admit_csv_add_field(&w, rec.fields[i], rec.lens[i]) == ADMIT_OK);
            CHECK(admit_csv_end_row(&w) == ADMIT_OK);
        }
    }
    if (export != NULL)
        CHECK(admit_csv_flush(&w) == ADMIT_OK);

    /* Stopped for good, and said why. */
    struct admit_csv_record again;
    CHECK(admit_csv_read_record(r, &again) == out->rc);
    out->error = *admit_csv_reader_error(r);
    out->problem = admit_csv_reader_problem(r);
    if (out->rc == ADMIT_ERR_NOT_FOUND) {
        CHECK(out->problem == ADMIT_CSV_NO_PROBLEM);
        CHECK(out->error.line == 0 && out->error.message[0] == '\0');
    } else {
        CHECK(out->rc == ADMIT_ERR_INVALID || out->rc == ADMIT_ERR_TOO_LARGE);
        CHECK(out->problem != ADMIT_CSV_NO_PROBLEM);
        CHECK(out->problem != ADMIT_CSV_READ_FAILED);
        CHECK(out->error.line >= 1 && out->error.line <= max_line);
        CHECK(strncmp(out->error.message, "line ", 5) == 0);
    }
}

static void free_reading(struct reading *reading)
{
    admit_buf_free(&reading->records);
    admit_buf_free(&reading->lines);
}

static bool same_bytes(const struct admit_buf *a, const struct admit_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void check_reading(const uint8_t *data, size_t size, const struct admit_csv_read_options *o)
{
    struct admit_csv_reader *r = NULL;
    struct reading first, from_file, back;
    struct admit_buf export;
    unsigned long max_line = lines_in(data, size);

    admit_buf_init(&export, SIZE_MAX / 2);
    CHECK(admit_csv_reader_open_mem(&r, (const char *)data, size, o) == ADMIT_OK);
    read_all(r, o, max_line, &first, &export);
    admit_csv_reader_close(r);

    /* Through a FILE: the same. */
    if (size > 0) {
        FILE *file = fmemopen((void *)data, size, "rb");
        CHECK(file != NULL);
        CHECK(admit_csv_reader_open_file(&r, file, o) == ADMIT_OK);
        read_all(r, o, max_line, &from_file, NULL);
        admit_csv_reader_close(r);
        fclose(file);
        CHECK(from_file.flavour == first.flavour);
        CHECK(same_bytes(&from_file.records, &first.records));
        CHECK(same_bytes(&from_file.lines, &first.lines));
        CHECK(from_file.rc == first.rc);
        CHECK(from_file.problem == first.problem);
        CHECK(from_file.error.line == first.error.line);
        CHECK(strcmp(from_file.error.message, first.error.message) == 0);
        free_reading(&from_file);
    }

    /* Export and import again: the same records, then the end. Neutralising may add one byte
     * to a field as written in the file. */
    struct admit_csv_read_options again = *o;
    again.separator = first.flavour == ADMIT_CSV_EXCEL ? ';' : ',';
    again.max_field_len = o->max_field_len + 1;
    CHECK(admit_csv_reader_open_mem(&r, export.data != NULL ? export.data : "", export.len,
                                    &again) == ADMIT_OK);
    read_all(r, &again, lines_in((const uint8_t *)admit_buf_cstr(&export), export.len), &back,
             NULL);
    admit_csv_reader_close(r);
    CHECK(back.rc == ADMIT_ERR_NOT_FOUND);
    CHECK(same_bytes(&back.records, &first.records));

    free_reading(&back);
    free_reading(&first);
    admit_buf_free(&export);
}

static void check_neutralise(const char *value, size_t len)
{
    struct admit_buf n, u;
    admit_buf_init(&n, SIZE_MAX / 2);
    admit_buf_init(&u, SIZE_MAX / 2);
    CHECK(admit_csv_neutralise(&n, value, len) == ADMIT_OK);
    CHECK(admit_csv_unneutralise(&u, admit_buf_cstr(&n), n.len) == ADMIT_OK);
    CHECK(u.len == len && (len == 0 || memcmp(u.data, value, len) == 0));
    admit_buf_free(&n);
    admit_buf_free(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct admit_csv_read_options defaults = {
        .max_field_len = ADMIT_CSV_MAX_FIELD_LEN,
        .max_fields = ADMIT_CSV_MAX_FIELDS,
        .max_record_len = ADMIT_CSV_MAX_RECORD_LEN,
    };
    static const struct admit_csv_read_options tiny = {
        .max_field_len = 8,
        .max_fields = 4,
        .max_record_len = 16,
    };
    if (size > INPUT_MAX)
        return -1; /* keep it out of the corpus */
    check_reading(data, size, &defaults);
    check_reading(data, size, &tiny);
    check_neutralise((const char *)data, size);
    return 0;
}
