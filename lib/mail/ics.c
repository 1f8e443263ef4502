#include "admit/mail/ics.h"

/* Whether byte c continues a UTF-8 sequence (10xxxxxx). */
static int continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* Writes one content line (without its line break), folded. */
static enum admit_rc fold_line(struct admit_buf *out, const char *line, size_t n)
{
    enum admit_rc rc = ADMIT_OK;
    size_t room = ADMIT_ICS_LINE_OCTETS; /* the first physical line has no leading space */
    while (n > 0 && rc == ADMIT_OK) {
        size_t take = n <= room ? n : room;
        /* Back up to the start of a character; a sequence is at most 4 octets, room >= 74. */
        while (take < n && take > 0 && continuation((unsigned char)line[take]))
            take--;
        if (take == 0) /* not UTF-8 at all: split where the octets run out */
            take = n <= room ? n : room;
        rc = admit_buf_append(out, line, take);
        line += take;
        n -= take;
        if (rc == ADMIT_OK && n > 0)
            rc = admit_buf_append(out, "\r\n ", 3);
        room = ADMIT_ICS_LINE_OCTETS - 1;
    }
    if (rc == ADMIT_OK)
        rc = admit_buf_append(out, "\r\n", 2);
    return rc;
}

enum admit_rc admit_ics_fold(struct admit_buf *out, const char *text, size_t len)
{
    size_t start = 0, at_entry = out->len;
    enum admit_rc rc = ADMIT_OK;
    while (start < len && rc == ADMIT_OK) {
        size_t end = start;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = end - start;
        if (n > 0 && text[start + n - 1] == '\r')
            n--;
        for (size_t i = start; i < start + n; i++)
            if (text[i] == '\r')
                rc = ADMIT_ERR_INVALID;
        if (rc == ADMIT_OK && !blank(text + start, n))
            rc = fold_line(out, text + start, n);
        start = end + 1;
    }
    if (rc != ADMIT_OK)
        admit_buf_truncate(out, at_entry);
    return rc;
}
