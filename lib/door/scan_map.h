/* Internal to the scanner modules (scan_offline.c, scan_session.c): an open-addressing map from
 * 64-bit keys to array indexes, growing at half load. Not a public header: every function is
 * static, one copy per file that includes it. */
#ifndef ADMIT_LIB_SCAN_MAP_H
#define ADMIT_LIB_SCAN_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/mem.h"

struct map {
    uint64_t *keys; /* key + 1; 0 marks an empty slot */
    uint32_t *values;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

static inline uint64_t map_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static inline void map_free(struct map *m)
{
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

/* The slot of key: where it is, or the empty slot where it would go. */
static inline size_t map_slot(const struct map *m, uint64_t key)
{
    size_t i = (size_t)map_mix(key) & (m->cap - 1);
    while (m->keys[i] != 0 && m->keys[i] != key + 1)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static inline void map_insert(struct map *m, uint64_t key, uint32_t value)
{
    size_t i = map_slot(m, key);
    if (m->keys[i] == 0)
        m->count++;
    m->keys[i] = key + 1;
    m->values[i] = value;
}

static inline void map_put(struct map *m, uint64_t key, uint32_t value)
{
    if ((m->count + 1) * 2 > m->cap) {
        struct map bigger = {0};
        bigger.cap = m->cap ? m->cap * 2 : 64;
        bigger.keys = admit_xcalloc(bigger.cap, sizeof *bigger.keys);
        bigger.values = admit_xcalloc(bigger.cap, sizeof *bigger.values);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i] != 0)
                map_insert(&bigger, m->keys[i] - 1, m->values[i]);
        map_free(m);
        *m = bigger;
    }
    map_insert(m, key, value);
}

/* The value of key, or -1. */
static inline long map_get(const struct map *m, uint64_t key)
{
    if (m->cap == 0)
        return -1;
    size_t i = map_slot(m, key);
    return m->keys[i] != 0 ? (long)m->values[i] : -1;
}

/* FNV-1a of a string, for keys that are text (nonces). */
static inline uint64_t map_text_key(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h >> 1; /* below UINT64_MAX: key + 1 must not wrap to the empty mark */
}

#endif
