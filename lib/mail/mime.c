/* Writing MIME messages.
 *
 * Why not GMime 3 (Debian's libgmime-3.0-dev): it would do all of this, and parse mail too, but
 * it brings GLib, GObject, gpgme and libidn2 into libadmit, which every admit binary links; a
 * second ownership and error model (GObject reference counts, GError) beside enum admit_rc and
 * admit_buf; and process-wide state (g_mime_init). What admit needs is narrower: it only writes,
 * one fixed structure, from text it rendered itself. That is four encoders and a boundary
 * writer, each checked here by unit tests and end to end by a real MIME parser (Python's email
 * package in tests/integration/test_mail.py). The iCalendar folding and the SMTP conversation,
 * the other subtle parts, GMime would not have done anyway. */
#include "admit/mail/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/email.h"

static const char base64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char hex_digits[] = "0123456789ABCDEF";

/* Base64 characters per encoded line (RFC 2045: at most 76). */
#define BASE64_LINE 76
/* Quoted-printable: characters of a line before a soft break's '=' (76 with it). */
#define QP_LINE 75
/* An encoded word is at most 75 characters (RFC 2047 section 2), "=?UTF-8?B?" and "?=" are 12. */
#define WORD_MAX      75
#define WORD_OVERHEAD 12

enum admit_rc admit_mime_base64(struct admit_buf *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    char line[BASE64_LINE + 2];
    size_t n = 0;
    enum admit_rc rc = ADMIT_OK;
    for (size_t i = 0; i < len && rc == ADMIT_OK; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        line[n++] = base64_digits[(v >> 18) & 63];
        line[n++] = base64_digits[(v >> 12) & 63];
        line[n++] = i + 1 < len ? base64_digits[(v >> 6) & 63] : '=';
        line[n++] = i + 2 < len ? base64_digits[v & 63] : '=';
        if (n == BASE64_LINE || i + 3 >= len) {
            line[n++] = '\r';
            line[n++] = '\n';
            rc = admit_buf_append(out, line, n);
            n = 0;
        }
    }
    return rc;
}

/* Whether text[i] is the start of a line break: LF, or CR LF. Sets *width to its length. */
static int line_break_at(const char *text, size_t len, size_t i, size_t *width)
{
    if (text[i] == '\n') {
        *width = 1;
        return 1;
    }
    if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') {
        *width = 2;
        return 1;
    }
    return 0;
}

enum admit_rc admit_mime_quoted_printable(struct admit_buf *out, const char *text, size_t len)
{
    size_t col = 0, width = 0;
    enum admit_rc rc = ADMIT_OK;
    for (size_t i = 0; i < len && rc == ADMIT_OK; i++) {
        if (line_break_at(text, len, i, &width)) {
            rc = admit_buf_append(out, "\r\n", 2);
            i += width - 1;
            col = 0;
            continue;
        }
        unsigned char c = (unsigned char)text[i];
        int last = i + 1 == len || line_break_at(text, len, i + 1, &width);
        char token[3];
        size_t k = 1;
        if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
            token[0] = (char)c;
        } else {
            token[0] = '=';
            token[1] = hex_digits[c >> 4];
            token[2] = hex_digits[c & 15];
            k = 3;
        }
        /* The last token of a line may use the 76th column: no soft break follows it. */
        if (col + k > QP_LINE && !(last && col + k <= QP_LINE + 1)) {
            rc = admit_buf_append(out, "=\r\n", 3);
            col = 0;
        }
        if (rc == ADMIT_OK)
            rc = admit_buf_append(out, token, k);
        col += k;
    }
    return rc;
}

/* The length of the UTF-8 sequence at s (at most left bytes), or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    size_t n;
    unsigned long cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence((const unsigned char *)s + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

static int header_name_valid(const char *name)
{
    if (name[0] == '\0' || strlen(name) > 40)
        return 0;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return 0;
    return 1;
}

/* Whether s can go into a header as it is: printable ASCII (space included), and no "=?" that
 * a reader would take for the start of an encoded word. */
static int plain_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7E || (c == '=' && i + 1 < len && s[i + 1] == '?'))
            return 0;
    }
    return 1;
}

static enum admit_rc append_base64_word(struct admit_buf *out, const unsigned char *p, size_t n)
{
    char word[WORD_MAX + 1];
    size_t k = 0;
    memcpy(word, "=?UTF-8?B?", 10);
    k = 10;
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        word[k++] = base64_digits[(v >> 18) & 63];
        word[k++] = base64_digits[(v >> 12) & 63];
        word[k++] = i + 1 < n ? base64_digits[(v >> 6) & 63] : '=';
        word[k++] = i + 2 < n ? base64_digits[v & 63] : '=';
    }
    word[k++] = '?';
    word[k++] = '=';
    return admit_buf_append(out, word, k);
}

/* Writes s as encoded words, starting at column *col of the current line; each word takes as
 * many whole characters as fit the line, and further words go on continuation lines. */
static enum admit_rc encoded_words(struct admit_buf *out, const char *s, size_t len, size_t *col)
{
    const unsigned char *p = (const unsigned char *)s;
    enum admit_rc rc = ADMIT_OK;
    size_t i = 0;
    /* An empty value is still one (empty) word, so that a phrase is never empty. */
    do {
        size_t room = ADMIT_MIME_LINE_MAX > *col ? ADMIT_MIME_LINE_MAX - *col : 0;
        if (room > WORD_MAX)
            room = WORD_MAX;
        if (room < WORD_OVERHEAD + 8) { /* not even one 4-byte character fits: next line */
            rc = admit_buf_append(out, "\r\n ", 3);
            *col = 1;
            continue;
        }
        size_t max_bytes = (room - WORD_OVERHEAD) / 4 * 3;
        size_t n = 0;
        while (i + n < len) {
            size_t c = utf8_sequence(p + i + n, len - i - n);
            if (c == 0 || n + c > max_bytes)
                break;
            n += c;
        }
        rc = append_base64_word(out, p + i, n);
        *col += WORD_OVERHEAD + (n + 2) / 3 * 4;
        i += n;
        if (rc == ADMIT_OK && i < len) {
            rc = admit_buf_append(out, "\r\n ", 3);
            *col = 1;
        }
    } while (rc == ADMIT_OK && i < len);
    return rc;
}

/* Writes printable ASCII text, folding at spaces so that lines stay within the limit where the
 * words allow it. */
static enum admit_rc folded_ascii(struct admit_buf *out, const char *s, size_t len, size_t *col)
{
    enum admit_rc rc = ADMIT_OK;
    size_t i = 0;
    int first = 1;
    while (i <= len && rc == ADMIT_OK) {
        size_t end = i;
        while (end < len && s[end] != ' ')
            end++;
        size_t word = end - i;
        if (!first) {
            /* The space before the word is the folding white space when the line is full. */
            if (*col + 1 + word > ADMIT_MIME_LINE_MAX && *col > 1) {
                rc = admit_buf_append(out, "\r\n", 2);
                *col = 0;
            }
            if (rc == ADMIT_OK)
                rc = admit_buf_putc(out, ' ');
            *col += 1;
        }
        if (rc == ADMIT_OK)
            rc = admit_buf_append(out, s + i, word);
        *col += word;
        first = 0;
        i = end + 1;
    }
    return rc;
}

enum admit_rc admit_mime_header_text(struct admit_buf *out, const char *name, const char *value)
{
    size_t len = strlen(value), longest = 0, run = 0;
    if (!header_name_valid(name) || !utf8_valid(value, len))
        return ADMIT_ERR_INVALID;
    for (size_t i = 0; i < len; i++) {
        run = value[i] == ' ' ? 0 : run + 1;
        longest = run > longest ? run : longest;
    }
    size_t col = strlen(name) + 2;
    enum admit_rc rc = admit_buf_printf(out, "%s: ", name);
    /* A word too long to fold within the hard limit is encoded: encoded words can be split. */
    if (rc == ADMIT_OK && plain_ascii(value, len) && longest + 2 <= ADMIT_MIME_LINE_LIMIT - col)
        rc = folded_ascii(out, value, len, &col);
    else if (rc == ADMIT_OK)
        rc = encoded_words(out, value, len, &col);
    if (rc == ADMIT_OK)
        rc = admit_buf_append(out, "\r\n", 2);
    return rc;
}

static int atext(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* How a display name goes into a header: 0 as atoms, 1 as a quoted string, 2 encoded. */
static int phrase_form(const char *s, size_t len)
{
    int atoms = len > 0 && s[0] != ' ' && s[len - 1] != ' ';
    if (!plain_ascii(s, len))
        return 2;
    for (size_t i = 0; i < len; i++)
        if (!atext(s[i]) && !(s[i] == ' ' && i > 0 && s[i - 1] != ' '))
            atoms = 0;
    return atoms ? 0 : 1;
}

enum admit_rc admit_mime_header_address(struct admit_buf *out, const char *name,
                                        const char *display, const char *addr)
{
    size_t len = display != NULL ? strlen(display) : 0;
    size_t addr_len = strlen(addr);
    if (!header_name_valid(name) || admit_email_problem(addr) != NULL ||
        (len > 0 && !utf8_valid(display, len)))
        return ADMIT_ERR_INVALID;
    size_t col = strlen(name) + 2;
    enum admit_rc rc = admit_buf_printf(out, "%s: ", name);
    if (rc == ADMIT_OK && len > 0) {
        int form = phrase_form(display, len);
        /* A quoted string's length with its quotes and escapes. */
        size_t quoted = len + 2;
        for (size_t i = 0; i < len; i++)
            quoted += display[i] == '"' || display[i] == '\\';
        if (form != 2 && col + (form ? quoted : len) > ADMIT_MIME_LINE_MAX - 2)
            form = 2; /* too long for one line: encoded words fold */
        if (form == 0) {
            rc = admit_buf_append(out, display, len);
            col += len;
        } else if (form == 1) {
            rc = admit_buf_putc(out, '"');
            for (size_t i = 0; i < len && rc == ADMIT_OK; i++) {
                if (display[i] == '"' || display[i] == '\\')
                    rc = admit_buf_putc(out, '\\');
                if (rc == ADMIT_OK)
                    rc = admit_buf_putc(out, display[i]);
            }
            if (rc == ADMIT_OK)
                rc = admit_buf_putc(out, '"');
            col += quoted;
        } else {
            rc = encoded_words(out, display, len, &col);
        }
        if (rc == ADMIT_OK && col + 1 + addr_len + 2 > ADMIT_MIME_LINE_MAX) {
            rc = admit_buf_append(out, "\r\n", 2);
            col = 0;
        }
        if (rc == ADMIT_OK)
            rc = admit_buf_putc(out, ' ');
    }
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(out, "<%s>\r\n", addr);
    return rc;
}

static void trim(const char **start, const char **end)
{
    while (*start < *end && (**start == ' ' || **start == '\t'))
        (*start)++;
    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

static enum admit_rc copy_span(const char *start, const char *end, char *out, size_t outlen)
{
    size_t n = (size_t)(end - start);
    if (n >= outlen)
        return ADMIT_ERR_TOO_LARGE;
    memcpy(out, start, n);
    out[n] = '\0';
    return ADMIT_OK;
}

enum admit_rc admit_mime_parse_mailbox(const char *text, char *name, size_t namelen, char *addr,
                                       size_t addrlen)
{
    const char *start = text, *end = text + strlen(text);
    const char *name_start = start, *name_end = start;
    enum admit_rc rc;
    if (namelen == 0 || addrlen == 0)
        return ADMIT_ERR_TOO_LARGE;
    name[0] = addr[0] = '\0';
    trim(&start, &end);
    if (end > start && end[-1] == '>') {
        const char *open = end - 1;
        while (open > start && *open != '<')
            open--;
        if (*open != '<')
            return ADMIT_ERR_INVALID;
        name_start = start;
        name_end = open;
        trim(&name_start, &name_end);
        if (name_end - name_start >= 2 && name_start[0] == '"' && name_end[-1] == '"') {
            name_start++;
            name_end--;
        }
        start = open + 1;
        end--;
    }
    for (const char *p = name_start; p < name_end; p++)
        if ((unsigned char)*p < 0x20 || *p == '"' || *p == '<' || *p == '>')
            return ADMIT_ERR_INVALID;
    rc = copy_span(name_start, name_end, name, namelen);
    if (rc == ADMIT_OK)
        rc = copy_span(start, end, addr, addrlen);
    if (rc == ADMIT_OK && admit_email_problem(addr) != NULL)
        rc = ADMIT_ERR_INVALID;
    if (rc == ADMIT_OK && !utf8_valid(name, strlen(name)))
        rc = ADMIT_ERR_INVALID;
    if (rc != ADMIT_OK)
        name[0] = addr[0] = '\0';
    return rc;
}

enum admit_rc admit_mime_date(struct admit_buf *out, time_t t)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return ADMIT_ERR_INVALID;
    return admit_buf_printf(out, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                            tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                            tm.tm_sec);
}

void admit_mime_init(struct admit_mime *m, struct admit_buf *out, const char *seed)
{
    size_t n = strlen(seed);
    if (n == 0 || n > 40)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!((seed[i] >= 'a' && seed[i] <= 'z') || (seed[i] >= 'A' && seed[i] <= 'Z') ||
              (seed[i] >= '0' && seed[i] <= '9') || seed[i] == '-'))
            abort();
    memset(m, 0, sizeof *m);
    m->out = out;
    memcpy(m->seed, seed, n + 1);
}

/* Header values of parts: printable ASCII only. */
static int header_value_valid(const char *s)
{
    return s != NULL && plain_ascii(s, strlen(s)) && strstr(s, "=?") == NULL;
}

/* "Content-Type: value" CRLF, folding after a "; " parameter separator when needed. */
static enum admit_rc content_type_header(struct admit_buf *out, const char *value)
{
    size_t col = strlen("Content-Type: ");
    enum admit_rc rc = admit_buf_puts(out, "Content-Type: ");
    const char *p = value;
    int first = 1;
    while (*p != '\0' && rc == ADMIT_OK) {
        const char *sep = strstr(p, "; ");
        size_t n = sep != NULL ? (size_t)(sep - p) + 1 : strlen(p);
        if (!first) {
            if (col + 1 + n > ADMIT_MIME_LINE_MAX) {
                rc = admit_buf_append(out, "\r\n", 2);
                col = 0;
            }
            if (rc == ADMIT_OK)
                rc = admit_buf_putc(out, ' ');
            col++;
        }
        if (rc == ADMIT_OK)
            rc = admit_buf_append(out, p, n);
        col += n;
        first = 0;
        p += sep != NULL ? n + 1 : n;
    }
    if (rc == ADMIT_OK)
        rc = admit_buf_append(out, "\r\n", 2);
    return rc;
}

/* Opens a body part of the innermost multipart (nothing at the top level). */
static enum admit_rc open_part(struct admit_mime *m)
{
    if (m->depth == 0)
        return ADMIT_OK;
    return admit_buf_printf(m->out, "--%s\r\n", m->boundary[m->depth - 1]);
}

enum admit_rc admit_mime_multipart_begin(struct admit_mime *m, const char *subtype,
                                         const char *params)
{
    struct admit_buf type;
    if (m->depth == ADMIT_MIME_MAX_DEPTH)
        return ADMIT_ERR_STATE;
    if (!header_value_valid(subtype) || (params != NULL && !header_value_valid(params)))
        return ADMIT_ERR_INVALID;
    char *boundary = m->boundary[m->depth];
    snprintf(boundary, ADMIT_MIME_BOUNDARY_MAX + 1, "=_admit-%s-%u", m->seed, m->counter++);
    admit_buf_init(&type, 512);
    enum admit_rc rc =
        admit_buf_printf(&type, "multipart/%s; %s%sboundary=\"%s\"", subtype,
                         params != NULL ? params : "", params != NULL ? "; " : "", boundary);
    if (rc == ADMIT_OK)
        rc = open_part(m);
    if (rc == ADMIT_OK)
        rc = content_type_header(m->out, admit_buf_cstr(&type));
    if (rc == ADMIT_OK)
        rc = admit_buf_append(m->out, "\r\n", 2);
    admit_buf_free(&type);
    if (rc == ADMIT_OK)
        m->depth++;
    return rc;
}

enum admit_rc admit_mime_multipart_end(struct admit_mime *m)
{
    if (m->depth == 0)
        return ADMIT_ERR_STATE;
    m->depth--;
    return admit_buf_printf(m->out, "--%s--\r\n", m->boundary[m->depth]);
}

static int content_id_valid(const char *id)
{
    if (!header_value_valid(id) || strchr(id, '@') == NULL)
        return 0;
    return strpbrk(id, "<> \t\"") == NULL;
}

static int filename_valid(const char *name)
{
    if (name[0] == '\0' || strlen(name) > 60)
        return 0;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

enum admit_rc admit_mime_part(struct admit_mime *m, const struct admit_mime_part *part)
{
    if (!header_value_valid(part->content_type) ||
        (part->content_id != NULL && !content_id_valid(part->content_id)) ||
        (part->disposition != NULL && strcmp(part->disposition, "inline") != 0 &&
         strcmp(part->disposition, "attachment") != 0) ||
        (part->filename != NULL && (part->disposition == NULL || !filename_valid(part->filename))))
        return ADMIT_ERR_INVALID;
    int qp = part->encoding == ADMIT_MIME_QUOTED_PRINTABLE;
    enum admit_rc rc = open_part(m);
    if (rc == ADMIT_OK)
        rc = content_type_header(m->out, part->content_type);
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(m->out, "Content-Transfer-Encoding: %s\r\n",
                              qp ? "quoted-printable" : "base64");
    if (rc == ADMIT_OK && part->content_id != NULL)
        rc = admit_buf_printf(m->out, "Content-ID: <%s>\r\n", part->content_id);
    if (rc == ADMIT_OK && part->disposition != NULL && part->filename != NULL)
        rc = admit_buf_printf(m->out, "Content-Disposition: %s; filename=\"%s\"\r\n",
                              part->disposition, part->filename);
    else if (rc == ADMIT_OK && part->disposition != NULL)
        rc = admit_buf_printf(m->out, "Content-Disposition: %s\r\n", part->disposition);
    if (rc == ADMIT_OK)
        rc = admit_buf_append(m->out, "\r\n", 2);
    if (rc == ADMIT_OK && qp)
        rc = admit_mime_quoted_printable(m->out, part->body, part->len);
    else if (rc == ADMIT_OK)
        rc = admit_mime_base64(m->out, part->body, part->len);
    /* The line break before the next boundary belongs to the boundary. */
    if (rc == ADMIT_OK && m->out->len > 0 && m->out->data[m->out->len - 1] != '\n')
        rc = admit_buf_append(m->out, "\r\n", 2);
    return rc;
}
