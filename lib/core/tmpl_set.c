/* Building a template set: files to templates, names to escaping, partials to templates. The
 * parser and the renderer are in tmpl.c. */
#include "admit/core/tmpl.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admit/core/fileio.h"
#include "admit/core/mem.h"
#include "tmpl_internal.h"

struct admit_tmpl_set {
    struct tmpl **items; /* owned, sorted by name */
    size_t count;
    size_t cap;
};

static const struct {
    const char *extension;
    enum admit_escape escape;
} extensions[] = {
    {".html", ADMIT_ESCAPE_HTML}, {".htm", ADMIT_ESCAPE_HTML}, {".svg", ADMIT_ESCAPE_HTML},
    {".xml", ADMIT_ESCAPE_HTML},  {".txt", ADMIT_ESCAPE_NONE}, {".ics", ADMIT_ESCAPE_ICS},
};

/* The escaping for a template name, by the extension of its last path segment. */
static enum admit_rc escape_for(const char *name, enum admit_escape *escape,
                                struct admit_error *err)
{
    const char *base = strrchr(name, '/');
    const char *dot = strrchr(base != NULL ? base : name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof extensions / sizeof extensions[0]; i++) {
        if (strcmp(dot, extensions[i].extension) == 0) {
            *escape = extensions[i].escape;
            return ADMIT_OK;
        }
    }
    admit_error_set(err,
                    "%s: unknown template extension; the escaping is chosen by it and must be "
                    "one of .html .htm .svg .xml .txt .ics",
                    name);
    return ADMIT_ERR_INVALID;
}

static void tmpl_free(struct tmpl *t)
{
    if (t == NULL)
        return;
    free(t->name);
    free(t->source);
    free(t->nodes);
    admit_buf_free(&t->names);
    free(t);
}

/* Parses len bytes of text as template name into *out (owned by the caller). */
static enum admit_rc tmpl_new(const char *name, const char *text, size_t len, struct tmpl **out,
                              struct admit_error *err)
{
    enum admit_escape escape = ADMIT_ESCAPE_NONE;
    struct tmpl *t = NULL;
    enum admit_rc rc = escape_for(name, &escape, err);
    *out = NULL;
    if (rc != ADMIT_OK)
        goto done;
    rc = ADMIT_ERR_TOO_LARGE;
    if (len > ADMIT_TMPL_MAX_SIZE) {
        admit_error_set(err, "%s: larger than %d bytes", name, ADMIT_TMPL_MAX_SIZE);
        goto done;
    }
    t = admit_xcalloc(1, sizeof *t);
    t->name = admit_xstrdup(name);
    t->escape = escape;
    t->source = admit_xstrndup(text, len);
    t->source_len = len;
    admit_buf_init(&t->names, len + 1); /* names are shorter than their tags */
    rc = tmpl_parse(t, err);
done:
    if (rc == ADMIT_OK)
        *out = t;
    else
        tmpl_free(t);
    return rc;
}

/* Index of the first template whose name is not below name. */
static size_t lower_bound(const struct admit_tmpl_set *set, const char *name)
{
    size_t lo = 0;
    size_t hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(set->items[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct tmpl *tmpl_set_find(const struct admit_tmpl_set *set, const char *name)
{
    size_t i = lower_bound(set, name);
    return i < set->count && strcmp(set->items[i]->name, name) == 0 ? set->items[i] : NULL;
}

bool admit_tmpl_set_has(const struct admit_tmpl_set *set, const char *name)
{
    return tmpl_set_find(set, name) != NULL;
}

/* Adds t (the set takes it) unless its name is taken. */
static enum admit_rc insert(struct admit_tmpl_set *set, struct tmpl *t, struct admit_error *err)
{
    size_t i = lower_bound(set, t->name);
    if (i < set->count && strcmp(set->items[i]->name, t->name) == 0) {
        admit_error_set(err, "%s: a template of that name is already in the set", t->name);
        return ADMIT_ERR_EXISTS;
    }
    if (set->count == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 16;
        set->items = admit_xrealloc(set->items, set->cap * sizeof *set->items);
    }
    memmove(&set->items[i + 1], &set->items[i], (set->count - i) * sizeof *set->items);
    set->items[i] = t;
    set->count++;
    return ADMIT_OK;
}

/* Takes t out of the set again (the caller gets it back). */
static void remove_template(struct admit_tmpl_set *set, const struct tmpl *t)
{
    size_t i = lower_bound(set, t->name);
    if (i < set->count && set->items[i] == t) {
        memmove(&set->items[i], &set->items[i + 1], (set->count - i - 1) * sizeof *set->items);
        set->count--;
    }
}

/* Points every partial node of t at its template. */
static enum admit_rc resolve_partials(const struct admit_tmpl_set *set, struct tmpl *t,
                                      struct admit_error *err)
{
    for (size_t i = 0; i < t->n_nodes; i++) {
        struct node *n = &t->nodes[i];
        if (n->kind != NODE_PARTIAL)
            continue;
        const char *name = t->names.data + n->off;
        size_t at = lower_bound(set, name);
        if (at == set->count || strcmp(set->items[at]->name, name) != 0) {
            admit_error_set(err,
                            "%s:%u: partial {{> %s}} not found (a partial is named by its full "
                            "name, extension included)",
                            t->name, n->line, name);
            return ADMIT_ERR_INVALID;
        }
        n->partial = set->items[at];
        if (n->partial->escape != t->escape) {
            admit_error_set(err, "%s:%u: partial %s escapes as %s, but %s escapes as %s", t->name,
                            n->line, name, admit_escape_name(n->partial->escape), t->name,
                            admit_escape_name(t->escape));
            return ADMIT_ERR_INVALID;
        }
    }
    return ADMIT_OK;
}

/* "a.html -> b.html -> c.html" for an error message. */
static void chain_error(struct admit_error *err, const struct tmpl *t, const struct node *n,
                        const char *what, struct tmpl *const *path, size_t depth, bool more)
{
    struct admit_buf chain;
    admit_buf_init(&chain, sizeof err->message);
    enum admit_rc rc = ADMIT_OK;
    for (size_t i = 0; i <= depth && rc == ADMIT_OK; i++)
        rc = admit_buf_printf(&chain, "%s -> ", path[i]->name);
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(&chain, "%s%s", n->partial->name, more ? " -> ..." : "");
    admit_error_set(err, "%s:%u: %s: %s", t->name, n->line, what, admit_buf_cstr(&chain));
    admit_buf_free(&chain);
}

/* Depth-first walk of the partials below t (path[depth]): finds cycles, and chains longer than
 * ADMIT_TMPL_MAX_PARTIAL_DEPTH below any template, with t->height memoised so that each
 * template is walked once. Recursion is bounded by the depth limit. */
static enum admit_rc check_partials(struct tmpl *t, struct tmpl **path, size_t depth,
                                    struct admit_error *err)
{
    enum admit_rc rc = ADMIT_OK;
    path[depth] = t;
    t->mark = 1;
    t->height = 1;
    for (size_t i = 0; i < t->n_nodes && rc == ADMIT_OK; i++) {
        const struct node *n = &t->nodes[i];
        if (n->kind != NODE_PARTIAL)
            continue;
        struct tmpl *p = n->partial;
        rc = ADMIT_ERR_INVALID;
        if (p->mark == 1) {
            chain_error(err, t, n, "partial cycle", path, depth, false);
            break;
        }
        if (p->mark == 0 && depth + 1 > ADMIT_TMPL_MAX_PARTIAL_DEPTH) {
            chain_error(err, t, n, "partials nested too deep", path, depth, true);
            break;
        }
        rc = p->mark == 0 ? check_partials(p, path, depth + 1, err) : ADMIT_OK;
        if (rc == ADMIT_OK && depth + 1 + p->height > ADMIT_TMPL_MAX_PARTIAL_DEPTH + 1) {
            chain_error(err, t, n, "partials nested too deep", path, depth, p->height > 1);
            rc = ADMIT_ERR_INVALID;
        }
        if (t->height < 1 + p->height)
            t->height = 1 + p->height;
    }
    t->mark = 2;
    return rc;
}

struct admit_tmpl_set *admit_tmpl_set_new(void)
{
    return admit_xcalloc(1, sizeof(struct admit_tmpl_set));
}

void admit_tmpl_set_free(struct admit_tmpl_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->count; i++)
        tmpl_free(set->items[i]);
    free(set->items);
    free(set);
}

enum admit_rc admit_tmpl_set_parse_string(struct admit_tmpl_set *set, const char *name,
                                          const char *text, size_t len, struct admit_error *err)
{
    struct tmpl *path[ADMIT_TMPL_MAX_PARTIAL_DEPTH + 1];
    struct tmpl *t = NULL;
    enum admit_rc rc = ADMIT_ERR_EXISTS;
    admit_error_clear(err);
    if (admit_tmpl_set_has(set, name)) {
        admit_error_set(err, "%s: a template of that name is already in the set", name);
        goto done;
    }
    rc = tmpl_new(name, text, len, &t, err);
    if (rc != ADMIT_OK)
        goto done;
    rc = insert(set, t, err);
    if (rc != ADMIT_OK)
        goto done;
    rc = resolve_partials(set, t, err);
    if (rc == ADMIT_OK)
        rc = check_partials(t, path, 0, err);
    if (rc != ADMIT_OK)
        remove_template(set, t);
done:
    if (rc != ADMIT_OK)
        tmpl_free(t);
    return rc;
}

static enum admit_rc load_file(struct admit_tmpl_set *set, const char *path, const char *name,
                               struct admit_error *err)
{
    enum admit_escape escape = ADMIT_ESCAPE_NONE;
    struct tmpl *t = NULL;
    struct admit_buf text;
    admit_buf_init(&text, ADMIT_TMPL_MAX_SIZE);
    enum admit_rc rc = escape_for(name, &escape, err);
    if (rc != ADMIT_OK)
        goto done;
    rc = admit_file_read(path, &text);
    if (rc == ADMIT_ERR_IO) {
        int saved = errno;
        admit_error_set(err, "%s: cannot read: %s", path, strerror(saved));
        errno = saved;
    } else if (rc == ADMIT_ERR_TOO_LARGE) {
        admit_error_set(err, "%s: larger than %d bytes", path, ADMIT_TMPL_MAX_SIZE);
    }
    if (rc != ADMIT_OK)
        goto done;
    rc = tmpl_new(name, admit_buf_cstr(&text), text.len, &t, err);
    if (rc != ADMIT_OK)
        goto done;
    rc = insert(set, t, err);
    if (rc == ADMIT_OK)
        t = NULL; /* the set has it */
done:
    tmpl_free(t);
    admit_buf_free(&text);
    return rc;
}

/* Loads the templates of folder dir, named prefix + file name; prefix is "" at the top and
 * "sub/" in a subfolder, where folders are refused. */
static enum admit_rc load_folder(struct admit_tmpl_set *set, const char *dir, const char *prefix,
                                 struct admit_error *err)
{
    struct admit_buf path;
    struct admit_buf name;
    admit_buf_init(&path, 4096);
    admit_buf_init(&name, 4096);
    enum admit_rc rc = ADMIT_ERR_IO;
    DIR *d = opendir(dir);
    if (d == NULL) {
        int saved = errno;
        admit_error_set(err, "%s: cannot open folder: %s", dir, strerror(saved));
        errno = saved;
        goto done;
    }
    for (;;) {
        errno = 0;
        const struct dirent *entry = readdir(d);
        if (entry == NULL) {
            rc = errno == 0 ? ADMIT_OK : ADMIT_ERR_IO;
            if (rc != ADMIT_OK)
                admit_error_set(err, "%s: cannot list folder: %s", dir, strerror(errno));
            break;
        }
        if (entry->d_name[0] == '.')
            continue; /* ".", ".." and hidden files (editor swap files) */
        admit_buf_reset(&path);
        admit_buf_reset(&name);
        rc = admit_buf_printf(&path, "%s/%s", dir, entry->d_name);
        if (rc == ADMIT_OK)
            rc = admit_buf_printf(&name, "%s%s", prefix, entry->d_name);
        if (rc != ADMIT_OK) {
            admit_error_set(err, "%s: path too long", dir);
            break;
        }
        struct stat st;
        if (stat(admit_buf_cstr(&path), &st) != 0) {
            int saved = errno;
            rc = ADMIT_ERR_IO;
            admit_error_set(err, "%s: %s", admit_buf_cstr(&path), strerror(saved));
            errno = saved;
            break;
        }
        if (S_ISDIR(st.st_mode) && prefix[0] == '\0' && strcmp(entry->d_name, "static") == 0) {
            /* templates/static/ holds the CSS, images and icons that admitd serves as they are
             * at /static/NAME (server/static.c): assets, not templates. */
            continue;
        }
        if (S_ISDIR(st.st_mode) && prefix[0] != '\0') {
            rc = ADMIT_ERR_INVALID;
            admit_error_set(err, "%s: templates may be one folder deep at most",
                            admit_buf_cstr(&path));
        } else if (S_ISDIR(st.st_mode)) {
            rc = admit_buf_putc(&name, '/');
            if (rc == ADMIT_OK)
                rc = load_folder(set, admit_buf_cstr(&path), admit_buf_cstr(&name), err);
        } else if (S_ISREG(st.st_mode)) {
            rc = load_file(set, admit_buf_cstr(&path), admit_buf_cstr(&name), err);
        }
        if (rc != ADMIT_OK)
            break;
    }
done:
    if (d != NULL)
        closedir(d);
    admit_buf_free(&path);
    admit_buf_free(&name);
    return rc;
}

enum admit_rc admit_tmpl_set_load_dir(const char *dir, struct admit_tmpl_set **out,
                                      struct admit_error *err)
{
    struct tmpl *path[ADMIT_TMPL_MAX_PARTIAL_DEPTH + 1];
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    admit_error_clear(err);
    *out = NULL;
    enum admit_rc rc = load_folder(set, dir, "", err);
    for (size_t i = 0; i < set->count && rc == ADMIT_OK; i++)
        rc = resolve_partials(set, set->items[i], err);
    for (size_t i = 0; i < set->count && rc == ADMIT_OK; i++)
        rc = set->items[i]->mark == 0 ? check_partials(set->items[i], path, 0, err) : ADMIT_OK;
    if (rc == ADMIT_OK)
        *out = set;
    else
        admit_tmpl_set_free(set);
    return rc;
}
