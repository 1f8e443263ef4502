/* The badge layouts file (templates/print/badges.txt): one layout a line, checked as read. */
#include <stdio.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/fileio.h"
#include "admit/print/badge.h"

#define LINE_MAX_LEN 256

static bool name_ok(const char *name)
{
    if (name[0] == '\0')
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

/* Parses one non-comment line into *l; false when it is not a sensible layout. */
static bool parse_line(const char *line, struct admit_badge_layout *l)
{
    char name[ADMIT_BADGE_LAYOUT_NAME_MAX];
    char extra[2];
    int n = sscanf(line, "%31s %lf %lf %lf %lf %lf %lf %1s", name, &l->width_mm, &l->height_mm,
                   &l->name_pt, &l->org_pt, &l->type_pt, &l->qr_mm, extra);
    if (n != 7 || !name_ok(name))
        return false;
    memcpy(l->name, name, sizeof name);
    double sizes[] = {l->width_mm, l->height_mm};
    double types[] = {l->name_pt, l->org_pt, l->type_pt};
    for (size_t i = 0; i < 2; i++)
        if (!(sizes[i] >= 20.0 && sizes[i] <= 300.0))
            return false;
    for (size_t i = 0; i < 3; i++)
        if (!(types[i] >= 4.0 && types[i] <= 120.0))
            return false;
    double shorter = l->width_mm < l->height_mm ? l->width_mm : l->height_mm;
    return l->qr_mm >= 15.0 && l->qr_mm <= shorter - 6.0;
}

enum admit_rc admit_badge_layouts_parse(const char *text, size_t len, const char *source,
                                        struct admit_badge_layouts *out, struct admit_error *err)
{
    char line[LINE_MAX_LEN];
    unsigned long number = 0;
    admit_error_clear(err);
    memset(out, 0, sizeof *out);
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl != NULL ? (size_t)(nl - (text + at)) : len - at;
        number++;
        bool fits = n < sizeof line;
        if (fits) {
            memcpy(line, text + at, n);
            line[n] = '\0';
        }
        at += n + 1;
        size_t skip = fits ? strspn(line, " \t\r") : 0;
        if (fits && (line[skip] == '#' || line[skip] == '\0'))
            continue;
        if (!fits || memchr(line, '\0', n) != NULL || out->count == ADMIT_BADGE_LAYOUTS_MAX ||
            !parse_line(line, &out->items[out->count])) {
            admit_error_set(err, "%s, line %lu: not a badge layout (see the comment at the top)",
                            source, number);
            if (err != NULL)
                err->line = number;
            return ADMIT_ERR_INVALID;
        }
        out->count++;
    }
    return ADMIT_OK;
}

enum admit_rc admit_badge_layouts_load(const char *path, struct admit_badge_layouts *out,
                                       struct admit_error *err)
{
    struct admit_buf text;
    admit_buf_init(&text, 64 * 1024);
    enum admit_rc rc = admit_file_read(path, &text);
    if (rc != ADMIT_OK) {
        memset(out, 0, sizeof *out);
        admit_error_clear(err);
        admit_error_set(err, "cannot read the badge layouts %s", path);
    } else {
        rc = admit_badge_layouts_parse(admit_buf_cstr(&text), text.len, path, out, err);
    }
    admit_buf_free(&text);
    return rc;
}

const struct admit_badge_layout *admit_badge_layout_find(const struct admit_badge_layouts *set,
                                                         const char *name)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].name, name) == 0)
            return &set->items[i];
    return NULL;
}
