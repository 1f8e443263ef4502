/* A per-process cache of rendered pages (admit/splice.h), by key, each kept for a short time.
 *
 * For pages read far more often than their data changes, such as an event page during a rush:
 * the first request after the time-to-live builds the page (a database query and a render) and
 * the others of the next TTL reuse it, so what the page shows may lag the database by the TTL.
 * While one thread rebuilds an expired page, the others keep serving the previous one rather
 * than all building it at once (at most PAGE_CACHE_GRACE_NS longer). Only built pages take
 * room, and at most the cache's capacity of them: a key that builds nothing (an unknown event)
 * costs nothing here. Thread-safe. */
#ifndef ADMITD_PAGE_CACHE_H
#define ADMITD_PAGE_CACHE_H

#include <stddef.h>

#include "admit/core/splice.h"

/* How long past its TTL a page may still be served while another thread rebuilds it; past
 * that, the rebuilder is presumed stuck (a database timeout) and the next request rebuilds. */
#define PAGE_CACHE_GRACE_NS 1000000000LL

struct page_cache;
/* A page taken from the cache: read it with page_cache_splice, give it back with
 * page_cache_release. It stays valid, unchanged, until then, even if the cache moves on. */
struct page_cache_page;

/* A new cache whose pages live ttl_ns nanoseconds, holding at most capacity keys. */
struct page_cache *page_cache_new(long long ttl_ns, size_t capacity);
/* Frees the cache; pages still taken are freed when released. NULL is a no-op. */
void page_cache_free(struct page_cache *c);

/* The page stored under key, taken, when it is fresh (or being rebuilt by another thread, see
 * above). NULL when the caller must build it: it then calls page_cache_put with the page, or
 * page_cache_abandon when there is none to build (unknown key, database error). */
struct page_cache_page *page_cache_get(struct page_cache *c, const char *key);
/* Stores page (taken over) under key (copied), fresh for the TTL from now, replacing the
 * previous one; returns it taken once more, for the caller's own answer. */
struct page_cache_page *page_cache_put(struct page_cache *c, const char *key,
                                       struct admit_splice *page);
/* The caller of a NULL page_cache_get builds nothing: the next request for key tries again. */
void page_cache_abandon(struct page_cache *c, const char *key);

/* Requests every cache of the process answered with a page (hits) or left to the caller to
 * build (misses), since the start, for /metrics. Thread-safe. */
void page_cache_counts(unsigned long long *hits, unsigned long long *misses);

const struct admit_splice *page_cache_splice(const struct page_cache_page *p);
void page_cache_release(struct page_cache_page *p);

#endif
