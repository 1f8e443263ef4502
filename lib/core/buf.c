#include "admit/core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/mem.h"

void admit_buf_init(struct admit_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void admit_buf_free(struct admit_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void admit_buf_reset(struct admit_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void admit_buf_truncate(struct admit_buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

/* Makes room for n more bytes plus the terminator. */
static enum admit_rc reserve(struct admit_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return ADMIT_ERR_TOO_LARGE;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return ADMIT_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = admit_xrealloc(b->data, cap);
    b->cap = cap;
    return ADMIT_OK;
}

enum admit_rc admit_buf_append(struct admit_buf *b, const void *p, size_t n)
{
    enum admit_rc rc = reserve(b, n);
    if (rc != ADMIT_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ADMIT_OK;
}

enum admit_rc admit_buf_puts(struct admit_buf *b, const char *s)
{
    return admit_buf_append(b, s, strlen(s));
}

enum admit_rc admit_buf_putc(struct admit_buf *b, char c)
{
    return admit_buf_append(b, &c, 1);
}

enum admit_rc admit_buf_vprintf(struct admit_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return ADMIT_ERR_INVALID;
    enum admit_rc rc = reserve(b, (size_t)n);
    if (rc != ADMIT_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return ADMIT_OK;
}

enum admit_rc admit_buf_printf(struct admit_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum admit_rc rc = admit_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *admit_buf_steal(struct admit_buf *b, size_t *len)
{
    char *p = b->data != NULL ? b->data : admit_xstrdup("");
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *admit_buf_cstr(const struct admit_buf *b)
{
    return b->data != NULL ? b->data : "";
}
