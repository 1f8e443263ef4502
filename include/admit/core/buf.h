/* A growable byte buffer with a maximum size: the one way libadmit builds text. The content is
 * always NUL-terminated (the terminator is not counted in len), so it can be used as a C string
 * when no NUL was appended. */
#ifndef ADMIT_BUF_H
#define ADMIT_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "admit/core/rc.h"

struct admit_buf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes used, excluding the terminator */
    size_t cap; /* bytes allocated */
    size_t max; /* appends that would make len exceed max fail with ADMIT_ERR_TOO_LARGE */
};

/* Prepares an empty buffer that may hold up to max bytes. Allocates nothing. */
void admit_buf_init(struct admit_buf *b, size_t max);
/* Frees the content and leaves the buffer empty and reusable (max kept). */
void admit_buf_free(struct admit_buf *b);
/* Empties the buffer, keeping its allocation. */
void admit_buf_reset(struct admit_buf *b);

/* Shortens the content to len bytes (no-op if it is already shorter). */
void admit_buf_truncate(struct admit_buf *b, size_t len);

/* Append n bytes / a C string / one byte. On ADMIT_ERR_TOO_LARGE nothing is appended. */
enum admit_rc admit_buf_append(struct admit_buf *b, const void *p, size_t n) ADMIT_MUST_CHECK;
enum admit_rc admit_buf_puts(struct admit_buf *b, const char *s) ADMIT_MUST_CHECK;
enum admit_rc admit_buf_putc(struct admit_buf *b, char c) ADMIT_MUST_CHECK;
/* Formatted append (vsnprintf rules). On ADMIT_ERR_TOO_LARGE nothing is appended. */
enum admit_rc admit_buf_printf(struct admit_buf *b, const char *fmt, ...) ADMIT_MUST_CHECK
    __attribute__((format(printf, 2, 3)));
enum admit_rc admit_buf_vprintf(struct admit_buf *b, const char *fmt, va_list ap) ADMIT_MUST_CHECK
    __attribute__((format(printf, 2, 0)));

/* Hands the content to the caller (free() it; never NULL: "" when empty) and empties b. */
char *admit_buf_steal(struct admit_buf *b, size_t *len);

/* The content as a C string; "" when nothing was appended. Valid until the next change. */
const char *admit_buf_cstr(const struct admit_buf *b);

#endif
