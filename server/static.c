#include "static.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <sodium.h>

#include "admit/core/buf.h"
#include "admit/core/fileio.h"
#include "admit/core/mem.h"
#include "http.h"
#include "router.h"

/* Quoted 16 hex digits. */
#define ETAG_SIZE 19

struct static_asset {
    char *name; /* owned: the file name, as in /static/NAME */
    const char *content_type;
    char *data; /* owned */
    size_t len;
    char etag[ETAG_SIZE];
};

struct static_assets {
    struct static_asset *items; /* owned, sorted by name */
    size_t count;
};

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/vnd.microsoft.icon"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".webp", "image/webp"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
};

static const char *content_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof content_types / sizeof content_types[0]; i++)
        if (strcasecmp(dot, content_types[i].ext) == 0)
            return content_types[i].type;
    return NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct static_asset *)a)->name, ((const struct static_asset *)b)->name);
}

void static_assets_free(struct static_assets *assets)
{
    if (assets == NULL)
        return;
    for (size_t i = 0; i < assets->count; i++) {
        free(assets->items[i].name);
        free(assets->items[i].data);
    }
    free(assets->items);
    free(assets);
}

static enum admit_rc load_one(struct static_assets *set, const char *dir, const char *name,
                              struct admit_error *err)
{
    struct admit_buf path;
    struct admit_buf data;
    struct stat st;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    admit_buf_init(&path, 4096);
    admit_buf_init(&data, STATIC_MAX_FILE);
    const char *type = content_type_of(name);
    if (admit_buf_printf(&path, "%s/%s", dir, name) != ADMIT_OK) {
        admit_error_set(err, "%s/%s: path too long", dir, name);
        goto done;
    }
    if (stat(admit_buf_cstr(&path), &st) != 0) {
        rc = ADMIT_ERR_IO;
        admit_error_set(err, "%s: %s", admit_buf_cstr(&path), strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        admit_error_set(err, "%s: static assets may not be in subfolders", admit_buf_cstr(&path));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ADMIT_OK; /* sockets, fifos: not assets */
        goto done;
    }
    if (type == NULL) {
        admit_error_set(err,
                        "%s: unknown extension (assets are .css .svg .png .ico .jpg .jpeg "
                        ".webp .woff2 .txt .js)",
                        admit_buf_cstr(&path));
        goto done;
    }
    rc = admit_file_read(admit_buf_cstr(&path), &data);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "%s: %s", admit_buf_cstr(&path),
                        rc == ADMIT_ERR_TOO_LARGE ? "larger than the 4 MiB an asset may have"
                                                  : strerror(errno));
        goto done;
    }
    set->items = admit_xrealloc(set->items, (set->count + 1) * sizeof *set->items);
    struct static_asset *a = &set->items[set->count++];
    unsigned char hash[8];
    char hex[17];
    a->name = admit_xstrdup(name);
    a->content_type = type;
    a->len = data.len;
    a->data = admit_buf_steal(&data, NULL);
    crypto_generichash(hash, sizeof hash, (const unsigned char *)a->data, a->len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    snprintf(a->etag, sizeof a->etag, "\"%s\"", hex);
done:
    admit_buf_free(&path);
    admit_buf_free(&data);
    return rc;
}

enum admit_rc static_assets_load(const char *dir, struct static_assets **out, size_t *count,
                                 struct admit_error *err)
{
    struct static_assets *set = admit_xcalloc(1, sizeof *set);
    enum admit_rc rc = ADMIT_OK;
    admit_error_clear(err);
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL && errno != ENOENT) {
        admit_error_set(err, "%s: cannot open folder: %s", dir, strerror(errno));
        rc = ADMIT_ERR_IO;
    }
    while (d != NULL && rc == ADMIT_OK) {
        errno = 0;
        const struct dirent *entry = readdir(d);
        if (entry == NULL) {
            if (errno != 0) {
                admit_error_set(err, "%s: cannot list folder: %s", dir, strerror(errno));
                rc = ADMIT_ERR_IO;
            }
            break;
        }
        if (entry->d_name[0] != '.')
            rc = load_one(set, dir, entry->d_name, err);
    }
    if (d != NULL)
        closedir(d);
    if (rc != ADMIT_OK) {
        static_assets_free(set);
        return rc;
    }
    if (set->count > 0)
        qsort(set->items, set->count, sizeof *set->items, by_name);
    *out = set;
    *count = set->count;
    return ADMIT_OK;
}

static const struct static_asset *find(const struct static_assets *set, const char *name)
{
    struct static_asset key = {.name = (char *)name};
    if (set == NULL || set->count == 0)
        return NULL;
    return bsearch(&key, set->items, set->count, sizeof *set->items, by_name);
}

/* Whether an If-None-Match header ("\"a\", W/\"b\"" or "*") names etag. */
static bool etag_matches(const char *header, const char *etag)
{
    size_t etag_len = strlen(etag);
    const char *p = header;
    while (*p != '\0') {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t trimmed = n;
        while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
            trimmed--;
        const char *tag = p;
        if (trimmed >= 2 && strncmp(tag, "W/", 2) == 0) {
            tag += 2;
            trimmed -= 2;
        }
        if ((trimmed == 1 && tag[0] == '*') ||
            (trimmed == etag_len && memcmp(tag, etag, etag_len) == 0))
            return true;
        p += n;
    }
    return false;
}

static void serve(struct http_request *req)
{
    const struct static_asset *a = find(http_server(req)->assets, http_param(req, "name"));
    if (a == NULL) {
        http_respond_error(req, 404, "Page not found", "There is no file at this address.");
        return;
    }
    const char *inm = http_header(req, "If-None-Match");
    if (inm != NULL && etag_matches(inm, a->etag))
        http_respond_bytes(req, 304, NULL, "", 0, HTTP_STATIC);
    else
        http_respond_bytes(req, 200, a->content_type, a->data, a->len, HTTP_STATIC);
    http_set_header(req, "ETag", a->etag);
    http_set_header(req, "Cache-Control", "public, max-age=3600");
}

const struct http_route static_routes[] = {
    {HTTP_GET, "/static/:name", serve, 0},
    {0},
};
