#include "admit/core/splice.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/mem.h"

struct hole {
    size_t at;     /* offset in text where the value goes */
    unsigned mark; /* index of the mark, and so of the value */
};

struct admit_splice {
    char *text; /* the cut text: every piece between holes, back to back */
    size_t len;
    struct hole *holes; /* in order of offset */
    size_t nholes;
    size_t nmarks;
    size_t per_mark[ADMIT_SPLICE_MAX_MARKS]; /* holes of each mark */
};

/* Whether s (n bytes) is 1 to ADMIT_SPLICE_MAX_TOKEN characters of [A-Za-z0-9_-]. */
static int token_chars(const char *s, size_t n)
{
    if (n == 0 || n > ADMIT_SPLICE_MAX_TOKEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* strnlen bounded just past the longest token, so that an over-long one is detected cheaply. */
static size_t token_len(const char *s)
{
    return strnlen(s, ADMIT_SPLICE_MAX_TOKEN + 1);
}

/* The first occurrence of needle (m > 0 bytes) in the n bytes at hay, or NULL. (memmem is a GNU
 * extension, outside the POSIX set the project compiles against.) */
static const char *find(const char *hay, size_t n, const char *needle, size_t m)
{
    const char *end = hay + n;
    while (hay != NULL && (size_t)(end - hay) >= m) {
        if (memcmp(hay, needle, m) == 0)
            return hay;
        hay = memchr(hay + 1, needle[0], (size_t)(end - hay) - 1);
    }
    return NULL;
}

static int marks_valid(const char *const *marks, size_t nmarks)
{
    if (marks == NULL || nmarks == 0 || nmarks > ADMIT_SPLICE_MAX_MARKS)
        return 0;
    for (size_t i = 0; i < nmarks; i++)
        if (marks[i] == NULL || !token_chars(marks[i], token_len(marks[i])))
            return 0;
    /* A mark inside another would make the cut depend on the order of the search. */
    for (size_t i = 0; i < nmarks; i++)
        for (size_t j = 0; j < nmarks; j++)
            if (i != j && strstr(marks[i], marks[j]) != NULL)
                return 0;
    return 1;
}

enum admit_rc admit_splice_cut(const char *text, size_t len, const char *const *marks,
                               size_t nmarks, struct admit_splice **out)
{
    size_t mark_len[ADMIT_SPLICE_MAX_MARKS];
    const char *next[ADMIT_SPLICE_MAX_MARKS]; /* next occurrence of each mark, or NULL */
    size_t cap = 0, pos = 0;

    *out = NULL;
    if (!marks_valid(marks, nmarks) || (text == NULL && len > 0))
        return ADMIT_ERR_INVALID;
    if (text == NULL)
        text = "";
    struct admit_splice *s = admit_xcalloc(1, sizeof *s);
    s->nmarks = nmarks;
    s->text = admit_xmalloc(len + 1);
    for (size_t i = 0; i < nmarks; i++) {
        mark_len[i] = strlen(marks[i]);
        next[i] = find(text, len, marks[i], mark_len[i]);
    }
    for (;;) {
        size_t first = nmarks;
        for (size_t i = 0; i < nmarks; i++)
            if (next[i] != NULL && (first == nmarks || next[i] < next[first]))
                first = i;
        size_t end = first == nmarks ? len : (size_t)(next[first] - text);
        memcpy(s->text + s->len, text + pos, end - pos);
        s->len += end - pos;
        if (first == nmarks)
            break;
        if (s->nholes == cap) {
            cap = cap ? cap * 2 : 8;
            s->holes = admit_xrealloc(s->holes, cap * sizeof *s->holes);
        }
        s->holes[s->nholes].at = s->len;
        s->holes[s->nholes].mark = (unsigned)first;
        s->nholes++;
        s->per_mark[first]++;
        pos = end + mark_len[first];
        next[first] = find(text + pos, len - pos, marks[first], mark_len[first]);
        /* Another mark found earlier may start inside the one just cut (an end of one is the
         * start of the other): that occurrence is gone, look again past the cut. */
        for (size_t i = 0; i < nmarks; i++)
            if (i != first && next[i] != NULL && next[i] < text + pos)
                next[i] = find(text + pos, len - pos, marks[i], mark_len[i]);
    }
    s->text[s->len] = '\0';
    *out = s;
    return ADMIT_OK;
}

enum admit_rc admit_splice_fill(const struct admit_splice *s, const char *const *values, char **out,
                                size_t *len)
{
    size_t value_len[ADMIT_SPLICE_MAX_MARKS];
    size_t total = s->len;

    *out = NULL;
    *len = 0;
    if (values == NULL)
        return ADMIT_ERR_INVALID;
    for (size_t i = 0; i < s->nmarks; i++) {
        if (values[i] == NULL)
            return ADMIT_ERR_INVALID;
        value_len[i] = token_len(values[i]);
        if (!token_chars(values[i], value_len[i]))
            return ADMIT_ERR_INVALID;
        /* No overflow: at most ADMIT_SPLICE_MAX_TOKEN bytes per hole, and the holes are fewer
         * than the bytes of the text they were cut from. */
        total += s->per_mark[i] * value_len[i];
    }
    char *page = admit_xmalloc(total + 1);
    size_t from = 0, to = 0;
    for (size_t h = 0; h < s->nholes; h++) {
        const struct hole *hole = &s->holes[h];
        memcpy(page + to, s->text + from, hole->at - from);
        to += hole->at - from;
        from = hole->at;
        memcpy(page + to, values[hole->mark], value_len[hole->mark]);
        to += value_len[hole->mark];
    }
    memcpy(page + to, s->text + from, s->len - from);
    to += s->len - from;
    page[to] = '\0';
    *out = page;
    *len = to;
    return ADMIT_OK;
}

size_t admit_splice_holes(const struct admit_splice *s, size_t i)
{
    return i < s->nmarks ? s->per_mark[i] : 0;
}

void admit_splice_free(struct admit_splice *s)
{
    if (s == NULL)
        return;
    free(s->text);
    free(s->holes);
    free(s);
}
