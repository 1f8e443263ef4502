#include "admit/core/escape.h"

#include <string.h>

/* Replacement for each byte; NULL keeps the byte, "" drops it. Constant tables keep escaping
 * reentrant with no initialisation step. */
static const char *const html_table[256] = {
    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
};

static const char *const ics_table[256] = {
    [0x00] = "", [0x01] = "", [0x02] = "",   [0x03] = "",    [0x04] = "",     [0x05] = "",
    [0x06] = "", [0x07] = "", [0x08] = "",   ['\n'] = "\\n", [0x0b] = "",     [0x0c] = "",
    ['\r'] = "", [0x0e] = "", [0x0f] = "",   [0x10] = "",    [0x11] = "",     [0x12] = "",
    [0x13] = "", [0x14] = "", [0x15] = "",   [0x16] = "",    [0x17] = "",     [0x18] = "",
    [0x19] = "", [0x1a] = "", [0x1b] = "",   [0x1c] = "",    [0x1d] = "",     [0x1e] = "",
    [0x1f] = "", [0x7f] = "", [','] = "\\,", [';'] = "\\;",  ['\\'] = "\\\\",
};

/* Escapes into a small local chunk, appended to out whenever it fills: one append per few
 * hundred bytes rather than one per run or per entity. */
static enum admit_rc escape_with(struct admit_buf *out, const char *const table[256], const char *s,
                                 size_t len)
{
    char chunk[512];
    size_t used = 0;
    size_t start_len = out->len;
    enum admit_rc rc = ADMIT_OK;
    for (size_t i = 0; i < len && rc == ADMIT_OK; i++) {
        const char *repl = table[(unsigned char)s[i]];
        if (used + 8 > sizeof chunk) { /* room for the longest replacement, "&quot;" */
            rc = admit_buf_append(out, chunk, used);
            used = 0;
        }
        if (repl == NULL) {
            chunk[used++] = s[i];
            continue;
        }
        while (*repl != '\0')
            chunk[used++] = *repl++;
    }
    if (rc == ADMIT_OK)
        rc = admit_buf_append(out, chunk, used);
    if (rc != ADMIT_OK)
        admit_buf_truncate(out, start_len);
    return rc;
}

enum admit_rc admit_escape_html(struct admit_buf *out, const char *s, size_t len)
{
    return escape_with(out, html_table, s, len);
}

enum admit_rc admit_escape_ics(struct admit_buf *out, const char *s, size_t len)
{
    return escape_with(out, ics_table, s, len);
}

enum admit_rc admit_escape_append(struct admit_buf *out, enum admit_escape mode, const char *s,
                                  size_t len)
{
    switch (mode) {
    case ADMIT_ESCAPE_NONE:
        return admit_buf_append(out, s, len);
    case ADMIT_ESCAPE_HTML:
        return admit_escape_html(out, s, len);
    case ADMIT_ESCAPE_ICS:
        return admit_escape_ics(out, s, len);
    }
    return ADMIT_ERR_INVALID;
}

const char *admit_escape_name(enum admit_escape mode)
{
    switch (mode) {
    case ADMIT_ESCAPE_NONE:
        return "none";
    case ADMIT_ESCAPE_HTML:
        return "html";
    case ADMIT_ESCAPE_ICS:
        return "ics";
    }
    return "unknown";
}
