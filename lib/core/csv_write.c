/* CSV out: neutralising what a spreadsheet would run as a formula, and the streaming writer.
 * Reading: csv_read.c. */
#include "admit/core/csv.h"

#include <stdarg.h>
#include <string.h>

#include "admit/core/mem.h"

static const char bom[3] = ADMIT_CSV_BOM;

static bool starts_formula(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

bool admit_csv_needs_neutralising(const char *value, size_t len)
{
    size_t i = 0;
    while (i < len && value[i] == '\'')
        i++;
    return i < len && starts_formula(value[i]);
}

bool admit_csv_is_neutralised(const char *value, size_t len)
{
    return len > 0 && value[0] == '\'' && admit_csv_needs_neutralising(value, len);
}

enum admit_rc admit_csv_neutralise(struct admit_buf *out, const char *value, size_t len)
{
    size_t before = out->len;
    enum admit_rc rc = ADMIT_OK;
    if (admit_csv_needs_neutralising(value, len))
        rc = admit_buf_putc(out, '\'');
    if (rc == ADMIT_OK)
        rc = admit_buf_append(out, value, len);
    if (rc != ADMIT_OK)
        admit_buf_truncate(out, before);
    return rc;
}

enum admit_rc admit_csv_unneutralise(struct admit_buf *out, const char *value, size_t len)
{
    if (admit_csv_is_neutralised(value, len))
        return admit_buf_append(out, value + 1, len - 1);
    return admit_buf_append(out, value, len);
}

/* Writing. Bytes collect in w->buf and go to the sink when it is full. The first failure is kept
 * in w->rc; the helpers below do nothing once it is set, so callers check it once at the end. */

/* Bytes that force a field into quotes. Both separators are listed whatever the flavour, so that
 * the reader's separator detection, which counts unquoted separators, finds the right one. */
static const bool special[256] = {
    [','] = true, [';'] = true, ['"'] = true, ['\r'] = true, ['\n'] = true,
};

void admit_csv_writer_init(struct admit_csv_writer *w, enum admit_csv_flavour flavour,
                           admit_csv_sink sink, void *ctx)
{
    w->write = sink;
    w->ctx = ctx;
    w->separator = flavour == ADMIT_CSV_EXCEL ? ';' : ',';
    w->rc = ADMIT_OK;
    w->in_row = false;
    w->first_field_empty = false;
    w->fields = 0;
    w->len = 0;
    if (flavour == ADMIT_CSV_EXCEL) {
        memcpy(w->buf, bom, sizeof bom);
        w->len = sizeof bom;
    }
}

static void drain(struct admit_csv_writer *w)
{
    if (w->rc != ADMIT_OK || w->len == 0)
        return;
    w->rc = w->write(w->ctx, w->buf, w->len);
    w->len = 0;
}

static void put(struct admit_csv_writer *w, const char *p, size_t n)
{
    if (w->rc != ADMIT_OK || n == 0)
        return;
    if (n > sizeof w->buf - w->len) {
        drain(w);
        if (w->rc != ADMIT_OK)
            return;
        /* Bigger than the whole buffer: straight through, no copy. */
        if (n >= sizeof w->buf) {
            w->rc = w->write(w->ctx, p, n);
            return;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_char(struct admit_csv_writer *w, char c)
{
    if (w->len == sizeof w->buf)
        drain(w);
    if (w->rc == ADMIT_OK)
        w->buf[w->len++] = c;
}

static bool needs_quotes(const char *v, size_t len)
{
    if (len == 0)
        return false;
    if (v[0] == ' ' || v[len - 1] == ' ')
        return true;
    if (len >= sizeof bom && memcmp(v, bom, sizeof bom) == 0)
        return true;
    for (size_t i = 0; i < len; i++) {
        if (special[(unsigned char)v[i]])
            return true;
    }
    return false;
}

/* The checks every field shares, and the separator before all but the first. */
static enum admit_rc start_field(struct admit_csv_writer *w, bool empty)
{
    if (w->rc != ADMIT_OK)
        return w->rc;
    if (!w->in_row) {
        w->rc = ADMIT_ERR_STATE;
        return w->rc;
    }
    if (w->fields > 0)
        put_char(w, w->separator);
    else
        w->first_field_empty = empty;
    w->fields++;
    return w->rc;
}

enum admit_rc admit_csv_begin_row(struct admit_csv_writer *w)
{
    if (w->rc == ADMIT_OK && w->in_row)
        w->rc = ADMIT_ERR_STATE;
    if (w->rc != ADMIT_OK)
        return w->rc;
    w->in_row = true;
    w->fields = 0;
    return ADMIT_OK;
}

enum admit_rc admit_csv_add_field(struct admit_csv_writer *w, const char *value, size_t len)
{
    if (value == NULL)
        len = 0;
    if (start_field(w, len == 0) != ADMIT_OK)
        return w->rc;
    bool quoted = needs_quotes(value, len);
    if (quoted)
        put_char(w, '"');
    if (admit_csv_needs_neutralising(value, len))
        put_char(w, '\'');
    if (!quoted) {
        put(w, value, len);
        return w->rc;
    }
    /* Each quote is written with the text before it, then once more. */
    while (len > 0) {
        const char *q = memchr(value, '"', len);
        size_t n = q != NULL ? (size_t)(q - value) + 1 : len;
        put(w, value, n);
        if (q != NULL)
            put_char(w, '"');
        value += n;
        len -= n;
    }
    put_char(w, '"');
    return w->rc;
}

enum admit_rc admit_csv_add_int(struct admit_csv_writer *w, int64_t value)
{
    char digits[24];
    size_t i = sizeof digits;
    uint64_t u = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do {
        digits[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (value < 0)
        digits[--i] = '-';
    if (start_field(w, false) == ADMIT_OK)
        put(w, digits + i, sizeof digits - i);
    return w->rc;
}

enum admit_rc admit_csv_end_row(struct admit_csv_writer *w)
{
    if (w->rc == ADMIT_OK && !w->in_row)
        w->rc = ADMIT_ERR_STATE;
    if (w->rc == ADMIT_OK && w->fields == 0)
        w->rc = ADMIT_ERR_INVALID;
    if (w->rc != ADMIT_OK)
        return w->rc;
    /* A lone empty field would otherwise be a blank line, which readers skip. */
    if (w->fields == 1 && w->first_field_empty)
        put(w, "\"\"", 2);
    put(w, "\r\n", 2);
    w->in_row = false;
    w->fields = 0;
    return w->rc;
}

enum admit_rc admit_csv_write_row(struct admit_csv_writer *w, const char *const *fields, size_t n)
{
    enum admit_rc rc = admit_csv_begin_row(w);
    for (size_t i = 0; i < n && rc == ADMIT_OK; i++) {
        const char *f = fields[i];
        rc = admit_csv_add_field(w, f, f != NULL ? strlen(f) : 0);
    }
    if (rc == ADMIT_OK)
        rc = admit_csv_end_row(w);
    return rc;
}

enum admit_rc admit_csv_flush(struct admit_csv_writer *w)
{
    drain(w);
    return w->rc;
}

enum admit_rc admit_csv_sink_file(void *ctx, const char *data, size_t len)
{
    FILE *file = ctx;
    return fwrite(data, 1, len, file) == len ? ADMIT_OK : ADMIT_ERR_IO;
}

enum admit_rc admit_csv_sink_buf(void *ctx, const char *data, size_t len)
{
    return admit_buf_append(ctx, data, len);
}
