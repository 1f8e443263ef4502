/* CSV in: the strict reader, libcsv's RFC 4180 state machine with the checks admit adds (UTF-8,
 * field and record limits, the separator detected, the apostrophe of a neutralised cell taken
 * off again). Writing: csv_write.c. */
#include "admit/core/csv.h"

#include <csv.h> /* libcsv */
#include <stdarg.h>
#include <string.h>

#include "admit/core/mem.h"

static const char bom[3] = ADMIT_CSV_BOM;

/* Reading, with libcsv in strict mode doing the RFC 4180 state machine. libcsv pushes fields
 * through callbacks and knows nothing of lines or limits, so the reader feeds it one line piece
 * at a time ("segments", each ending at the first CR or LF, at most READ_CHUNK bytes):
 *  - a record can only end on a CR or LF, so at most one record completes per segment, which
 *    gives a pull API without queueing records;
 *  - the reader counts raw lines itself and knows where each record starts (the first segment
 *    fed while no record is open), and where each field starts (record start plus the line breaks
 *    inside the fields before it: a quoted field keeps its CRs and LFs as they were, and what
 *    lies between two fields, quotes and a separator, holds none);
 *  - libcsv grows its field buffer without bound, so after each segment its size is checked
 *    against the field limit: its memory stays under max_field_len + READ_CHUNK + a few blocks. */

#define READ_CHUNK   16384
#define PARSER_BLOCK 1024 /* libcsv grows its field buffer by this much */
#define MESSAGE_MAX  256

struct admit_csv_reader {
    struct csv_parser parser;
    FILE *file;       /* NULL when reading from memory */
    char *chunk;      /* READ_CHUNK bytes, file input only */
    const char *data; /* current input: chunk, or the caller's memory */
    size_t len, pos;  /* bytes in data, bytes already fed */
    bool eof;         /* nothing more after data[len] */
    bool finished;    /* csv_fini was called */
    char separator;
    size_t max_field_len, max_fields, max_record_len;

    unsigned long line;        /* line of the next byte to feed */
    bool after_cr;             /* the last byte fed was a CR: an LF now ends no new line */
    bool in_record;            /* bytes of a record were fed and it has not ended */
    unsigned long record_line; /* where the open record starts */
    unsigned long field_line;  /* where its next field starts */

    /* The record being read: field texts, each NUL-terminated, one after the other. */
    struct admit_buf text;
    size_t *offsets;
    size_t *lens;
    const char **fields;
    size_t count, cap;
    size_t record_len;
    bool record_ready;

    enum admit_rc rc; /* sticky: a problem, or ADMIT_ERR_NOT_FOUND at the end */
    enum admit_csv_problem problem;
    struct admit_error error;
    struct admit_buf message; /* where error.message is made, within MESSAGE_MAX */
};

static void fail(struct admit_csv_reader *r, enum admit_rc rc, enum admit_csv_problem problem,
                 unsigned long line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records the first problem; later ones are consequences of it and are ignored. */
static void fail(struct admit_csv_reader *r, enum admit_rc rc, enum admit_csv_problem problem,
                 unsigned long line, const char *fmt, ...)
{
    if (r->rc != ADMIT_OK)
        return;
    r->rc = rc;
    r->problem = problem;
    r->error.line = line;
    va_list ap;
    va_start(ap, fmt);
    if (admit_buf_printf(&r->message, "line %lu: ", line) != ADMIT_OK ||
        admit_buf_vprintf(&r->message, fmt, ap) != ADMIT_OK) {
        admit_buf_reset(&r->message);
        if (admit_buf_printf(&r->message, "line %lu: malformed CSV", line) != ADMIT_OK)
            admit_buf_reset(&r->message);
    }
    va_end(ap);
    admit_error_set(&r->error, "%s", admit_buf_cstr(&r->message));
}

/* Line breaks in s, counted like the raw input: CR, LF, and CRLF as one. */
static unsigned long count_lines(const char *s, size_t n)
{
    unsigned long lines = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')))
            lines++;
    }
    return lines;
}

/* Length of the longest valid UTF-8 prefix of s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t more;
        unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return i;
        }
        if (n - i <= more || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        }
        i += more + 1;
    }
    return n;
}

static void grow_fields(struct admit_csv_reader *r)
{
    size_t cap = r->cap != 0 ? r->cap * 2 : 16;
    if (cap > r->max_fields)
        cap = r->max_fields;
    r->offsets = admit_xrealloc(r->offsets, cap * sizeof *r->offsets);
    r->lens = admit_xrealloc(r->lens, cap * sizeof *r->lens);
    r->fields = admit_xrealloc(r->fields, cap * sizeof *r->fields);
    r->cap = cap;
}

/* libcsv: a whole field (unquoted, quotes undoubled) of len bytes. */
static void on_field(void *s, size_t len, void *data)
{
    struct admit_csv_reader *r = data;
    const char *field = s != NULL ? s : "";
    size_t number = r->count + 1;

    if (r->rc != ADMIT_OK)
        return;
    if (r->count == r->max_fields) {
        fail(r, ADMIT_ERR_TOO_LARGE, ADMIT_CSV_TOO_MANY_FIELDS, r->record_line,
             "more than %zu fields", r->max_fields);
        return;
    }
    if (len > r->max_field_len) {
        fail(r, ADMIT_ERR_TOO_LARGE, ADMIT_CSV_FIELD_TOO_LONG, r->field_line,
             "field %zu is longer than %zu bytes", number, r->max_field_len);
        return;
    }
    const char *nul = memchr(field, '\0', len);
    if (nul != NULL) {
        fail(r, ADMIT_ERR_INVALID, ADMIT_CSV_NUL_BYTE,
             r->field_line + count_lines(field, (size_t)(nul - field)), "NUL byte in field %zu",
             number);
        return;
    }
    size_t valid = utf8_valid_len((const unsigned char *)field, len);
    if (valid < len) {
        fail(r, ADMIT_ERR_INVALID, ADMIT_CSV_INVALID_UTF8,
             r->field_line + count_lines(field, valid),
             "invalid UTF-8 in field %zu (save the file as \"CSV UTF-8\")", number);
        return;
    }
    size_t skip = admit_csv_is_neutralised(field, len) ? 1 : 0;
    if (len - skip > r->max_record_len - r->record_len) {
        fail(r, ADMIT_ERR_TOO_LARGE, ADMIT_CSV_RECORD_TOO_LONG, r->record_line,
             "record longer than %zu bytes", r->max_record_len);
        return;
    }
    if (r->count == r->cap)
        grow_fields(r);
    r->offsets[r->count] = r->text.len;
    r->lens[r->count] = len - skip;
    /* Cannot fail: text holds max_record_len bytes plus a terminator per field. */
    if (admit_buf_append(&r->text, field + skip, len - skip) != ADMIT_OK ||
        admit_buf_putc(&r->text, '\0') != ADMIT_OK) {
        fail(r, ADMIT_ERR_TOO_LARGE, ADMIT_CSV_RECORD_TOO_LONG, r->record_line,
             "record longer than %zu bytes", r->max_record_len);
        return;
    }
    r->record_len += len - skip;
    r->field_line += count_lines(field, len);
    r->count++;
}

/* libcsv: the record ended (on a CR or LF, or at the end of the input). */
static void on_record(int c, void *data)
{
    struct admit_csv_reader *r = data;
    (void)c;
    r->in_record = false;
    if (r->rc == ADMIT_OK && r->count > 0)
        r->record_ready = true;
}

/* Strict mode keeps spaces around fields as data (and so rejects '"a" ,'). */
static int never_space(unsigned char c)
{
    (void)c;
    return 0;
}

static size_t segment_len(const char *s, size_t n)
{
    if (n > READ_CHUNK)
        n = READ_CHUNK;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || s[i] == '\n')
            return i + 1;
    }
    return n;
}

static void feed(struct admit_csv_reader *r)
{
    const char *seg = r->data + r->pos;
    size_t n = segment_len(seg, r->len - r->pos);
    char last = seg[n - 1];

    if (!r->in_record && seg[0] != '\r' && seg[0] != '\n') {
        r->in_record = true;
        r->record_line = r->line;
        r->field_line = r->line;
    }
    size_t done = csv_parse(&r->parser, seg, n, on_field, on_record, r);
    r->pos += n;
    if (r->rc != ADMIT_OK)
        return;
    if (done < n) {
        /* Strict mode stopped on seg[done], on this line (the segment's only line break is its
         * last byte, and a line break is never an error). Our allocator aborts rather than fail,
         * so CSV_EPARSE is the only possible cause. */
        if (seg[done] == '"')
            fail(r, ADMIT_ERR_INVALID, ADMIT_CSV_BAD_QUOTE, r->line,
                 "quote in unquoted field %zu (quote the whole field and double the quote)",
                 r->count + 1);
        else
            fail(r, ADMIT_ERR_INVALID, ADMIT_CSV_TEXT_AFTER_QUOTE, r->line,
                 "text after the closing quote of field %zu", r->count + 1);
        return;
    }
    if (n > 1)
        r->after_cr = false;
    if (last == '\r' || (last == '\n' && !r->after_cr))
        r->line++;
    r->after_cr = last == '\r';
    /* The open field has been growing in libcsv's buffer: stop it early. */
    if (csv_get_buffer_size(&r->parser) > r->max_field_len + 1 + PARSER_BLOCK)
        fail(r, ADMIT_ERR_TOO_LARGE, ADMIT_CSV_FIELD_TOO_LONG, r->field_line,
             "field %zu is longer than %zu bytes", r->count + 1, r->max_field_len);
}

static void refill(struct admit_csv_reader *r)
{
    size_t got = fread(r->chunk, 1, READ_CHUNK, r->file);
    if (got == 0 && ferror(r->file))
        fail(r, ADMIT_ERR_IO, ADMIT_CSV_READ_FAILED, r->line, "read error");
    r->eof = got == 0;
    r->data = r->chunk;
    r->len = got;
    r->pos = 0;
}

static void finish(struct admit_csv_reader *r)
{
    r->finished = true;
    if (csv_fini(&r->parser, on_field, on_record, r) != 0)
        fail(r, ADMIT_ERR_INVALID, ADMIT_CSV_UNTERMINATED_QUOTE, r->field_line,
             "unterminated quoted field (field %zu)", r->count + 1);
}

/* The separator that appears more often outside quotes on the first line. A tie (a single
 * column) is broken by the BOM, which our Excel flavour always writes: a one-column Excel export
 * must still split its other rows on ';'. */
static char detect_separator(const char *s, size_t n, bool had_bom)
{
    size_t commas = 0, semicolons = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && (c == '\r' || c == '\n'))
            break;
        else if (!quoted && c == ',')
            commas++;
        else if (!quoted && c == ';')
            semicolons++;
    }
    if (semicolons != commas)
        return semicolons > commas ? ';' : ',';
    return had_bom ? ';' : ',';
}

static enum admit_rc open_reader(struct admit_csv_reader **out, FILE *file, const char *data,
                                 size_t len, const struct admit_csv_read_options *options)
{
    static const struct admit_csv_read_options defaults = {0};
    enum admit_rc rc = ADMIT_ERR_INVALID;
    struct admit_csv_reader *r = NULL;

    *out = NULL;
    if (options == NULL)
        options = &defaults;
    if (options->separator != 0 && options->separator != ',' && options->separator != ';')
        goto fail;
    r = admit_xcalloc(1, sizeof *r);
    r->max_field_len = options->max_field_len ? options->max_field_len : ADMIT_CSV_MAX_FIELD_LEN;
    r->max_fields = options->max_fields ? options->max_fields : ADMIT_CSV_MAX_FIELDS;
    r->max_record_len =
        options->max_record_len ? options->max_record_len : ADMIT_CSV_MAX_RECORD_LEN;
    if (r->max_record_len > SIZE_MAX / 2 || r->max_fields > SIZE_MAX / 2 / sizeof(size_t) ||
        r->max_field_len > SIZE_MAX / 2)
        goto fail;
    /* csv_init only fails on a NULL parser. */
    csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI);
    csv_set_space_func(&r->parser, never_space);
    csv_set_realloc_func(&r->parser, admit_xrealloc);
    csv_set_blk_size(&r->parser, PARSER_BLOCK);
    admit_buf_init(&r->text, r->max_record_len + r->max_fields);
    admit_buf_init(&r->message, MESSAGE_MAX);
    admit_error_clear(&r->error);
    r->line = 1;
    r->rc = ADMIT_OK;

    if (file != NULL) {
        r->file = file;
        r->chunk = admit_xmalloc(READ_CHUNK);
        refill(r);
        if (r->rc != ADMIT_OK) {
            rc = r->rc;
            goto fail;
        }
    } else {
        r->data = data != NULL ? data : "";
        r->len = data != NULL ? len : 0;
        r->eof = true;
    }
    if (r->len >= sizeof bom && memcmp(r->data, bom, sizeof bom) == 0)
        r->pos = sizeof bom;
    r->separator = options->separator;
    if (r->separator == 0)
        r->separator = detect_separator(r->data + r->pos, r->len - r->pos, r->pos > 0);
    csv_set_delim(&r->parser, (unsigned char)r->separator);
    *out = r;
    return ADMIT_OK;

fail:
    admit_csv_reader_close(r);
    return rc;
}

enum admit_rc admit_csv_reader_open_file(struct admit_csv_reader **out, FILE *file,
                                         const struct admit_csv_read_options *options)
{
    return open_reader(out, file, NULL, 0, options);
}

enum admit_rc admit_csv_reader_open_mem(struct admit_csv_reader **out, const char *data, size_t len,
                                        const struct admit_csv_read_options *options)
{
    return open_reader(out, NULL, data, len, options);
}

enum admit_rc admit_csv_read_record(struct admit_csv_reader *r, struct admit_csv_record *rec)
{
    if (r->rc != ADMIT_OK)
        return r->rc;
    r->count = 0;
    r->record_len = 0;
    r->record_ready = false;
    admit_buf_reset(&r->text);
    while (!r->record_ready && r->rc == ADMIT_OK) {
        if (r->pos < r->len)
            feed(r);
        else if (!r->eof)
            refill(r);
        else if (!r->finished)
            finish(r);
        else
            r->rc = ADMIT_ERR_NOT_FOUND;
    }
    if (r->rc != ADMIT_OK)
        return r->rc;
    for (size_t i = 0; i < r->count; i++)
        r->fields[i] = r->text.data + r->offsets[i];
    rec->fields = r->fields;
    rec->lens = r->lens;
    rec->count = r->count;
    rec->line = r->record_line;
    return ADMIT_OK;
}

enum admit_csv_flavour admit_csv_reader_flavour(const struct admit_csv_reader *r)
{
    return r->separator == ';' ? ADMIT_CSV_EXCEL : ADMIT_CSV_RFC4180;
}

const struct admit_error *admit_csv_reader_error(const struct admit_csv_reader *r)
{
    return &r->error;
}

enum admit_csv_problem admit_csv_reader_problem(const struct admit_csv_reader *r)
{
    return r->problem;
}

void admit_csv_reader_close(struct admit_csv_reader *r)
{
    if (r == NULL)
        return;
    csv_free(&r->parser);
    free(r->chunk);
    free(r->offsets);
    free(r->lens);
    free(r->fields);
    admit_buf_free(&r->text);
    admit_buf_free(&r->message);
    free(r);
}
