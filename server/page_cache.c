/* The cache of rendered pages (page_cache.h): a small table of keys under one mutex, held only
 * to look up or swap a pointer; pages are reference-counted so that a request can keep using a
 * page that the cache has meanwhile replaced. */
#include "page_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admit/core/mem.h"

struct page_cache_page {
    struct admit_splice *splice;
    atomic_int refs; /* the cache's slot, if it still holds the page, and each taker */
};

struct slot {
    char *key; /* NULL: free slot */
    struct page_cache_page *page;
    long long fresh_until;     /* monotonic ns */
    bool rebuilding;           /* a thread got NULL from page_cache_get and builds the page */
    long long rebuild_started; /* monotonic ns */
};

struct page_cache {
    pthread_mutex_t lock;
    long long ttl_ns;
    size_t capacity;
    struct slot *slots;
};

/* page_cache_counts: every cache of the process counts here. */
static atomic_ullong count_hits, count_misses;

void page_cache_counts(unsigned long long *hits, unsigned long long *misses)
{
    *hits = atomic_load(&count_hits);
    *misses = atomic_load(&count_misses);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct page_cache *page_cache_new(long long ttl_ns, size_t capacity)
{
    struct page_cache *c = admit_xcalloc(1, sizeof *c);
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        abort();
    c->ttl_ns = ttl_ns;
    c->capacity = capacity > 0 ? capacity : 1;
    c->slots = admit_xcalloc(c->capacity, sizeof *c->slots);
    return c;
}

void page_cache_release(struct page_cache_page *p)
{
    if (p != NULL && atomic_fetch_sub(&p->refs, 1) == 1) {
        admit_splice_free(p->splice);
        free(p);
    }
}

static void take(struct page_cache_page *p)
{
    atomic_fetch_add(&p->refs, 1);
}

static void clear_slot(struct slot *s)
{
    free(s->key);
    page_cache_release(s->page);
    memset(s, 0, sizeof *s);
}

void page_cache_free(struct page_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->capacity; i++)
        clear_slot(&c->slots[i]);
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Called with the lock held. */
static struct slot *find(struct page_cache *c, const char *key)
{
    for (size_t i = 0; i < c->capacity; i++)
        if (c->slots[i].key != NULL && strcmp(c->slots[i].key, key) == 0)
            return &c->slots[i];
    return NULL;
}

struct page_cache_page *page_cache_get(struct page_cache *c, const char *key)
{
    struct page_cache_page *page = NULL;
    long long now = now_ns();
    pthread_mutex_lock(&c->lock);
    struct slot *s = find(c, key);
    if (s != NULL) {
        if (now < s->fresh_until ||
            (s->rebuilding && now - s->rebuild_started < PAGE_CACHE_GRACE_NS)) {
            page = s->page;
            take(page);
        } else {
            s->rebuilding = true;
            s->rebuild_started = now;
        }
    }
    pthread_mutex_unlock(&c->lock);
    atomic_fetch_add(page != NULL ? &count_hits : &count_misses, 1);
    return page;
}

struct page_cache_page *page_cache_put(struct page_cache *c, const char *key,
                                       struct admit_splice *splice)
{
    struct page_cache_page *page = admit_xcalloc(1, sizeof *page);
    struct page_cache_page *old = NULL;
    page->splice = splice;
    atomic_init(&page->refs, 2); /* the slot's and the caller's */
    pthread_mutex_lock(&c->lock);
    struct slot *s = find(c, key);
    if (s == NULL) {
        /* A free slot, or else the one that expires first. */
        s = &c->slots[0];
        for (size_t i = 0; i < c->capacity && s->key != NULL; i++)
            if (c->slots[i].key == NULL || c->slots[i].fresh_until < s->fresh_until)
                s = &c->slots[i];
        old = s->page;
        free(s->key);
        s->key = admit_xstrdup(key);
    } else {
        old = s->page;
    }
    s->page = page;
    s->fresh_until = now_ns() + c->ttl_ns;
    s->rebuilding = false;
    pthread_mutex_unlock(&c->lock);
    page_cache_release(old);
    return page;
}

void page_cache_abandon(struct page_cache *c, const char *key)
{
    pthread_mutex_lock(&c->lock);
    struct slot *s = find(c, key);
    if (s != NULL)
        s->rebuilding = false;
    pthread_mutex_unlock(&c->lock);
}

const struct admit_splice *page_cache_splice(const struct page_cache_page *p)
{
    return p->splice;
}
