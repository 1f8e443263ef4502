#include "admit/core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "admit: out of memory allocating %zu bytes\n", n);
    abort();
}

void *admit_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        out_of_memory(n);
    return p;
}

void *admit_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        out_of_memory(count * size);
    return p;
}

void *admit_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        out_of_memory(n);
    return q;
}

char *admit_xstrdup(const char *s)
{
    return admit_xstrndup(s, strlen(s));
}

char *admit_xstrndup(const char *s, size_t n)
{
    char *p = admit_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
