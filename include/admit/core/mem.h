/* Allocation wrappers: running out of memory aborts the process with a message, so callers
 * never handle NULL from these. Everything else that can fail returns enum admit_rc. */
#ifndef ADMIT_MEM_H
#define ADMIT_MEM_H

#include <stddef.h>

/* malloc(n) or abort; n == 0 allocates one byte. Free with free(). */
void *admit_xmalloc(size_t n);
/* calloc(count, size) or abort (also on multiplication overflow). */
void *admit_xcalloc(size_t count, size_t size);
/* realloc(p, n) or abort. */
void *admit_xrealloc(void *p, size_t n);
/* strdup(s) or abort. */
char *admit_xstrdup(const char *s);
/* A copy of the first n bytes of s, NUL-terminated, or abort. */
char *admit_xstrndup(const char *s, size_t n);

#endif
