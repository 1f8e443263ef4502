/* The badge layouts file (templates/print/badges.txt): one layout a line, checked as read. */
#include <stdio.h>
#include <string.h>

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

enum admit_rc admit_badge_layouts_load(const char *path, struct admit_badge_layouts *out,
                                       struct admit_error *err)
{
    enum admit_rc rc = ADMIT_ERR_IO;
    char line[LINE_MAX_LEN];
    unsigned long number = 0;
    admit_error_clear(err);
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        admit_error_set(err, "cannot read the badge layouts %s", path);
        goto done;
    }
    rc = ADMIT_ERR_INVALID;
    while (fgets(line, sizeof line, f) != NULL) {
        number++;
        size_t skip = strspn(line, " \t");
        if (line[skip] == '#' || line[skip] == '\n' || line[skip] == '\0')
            continue;
        if (out->count == ADMIT_BADGE_LAYOUTS_MAX || strchr(line, '\n') == NULL ||
            !parse_line(line, &out->items[out->count])) {
            admit_error_set(err, "%s, line %lu: not a badge layout (see the comment at the top)",
                            path, number);
            if (err != NULL)
                err->line = number;
            goto done;
        }
        out->count++;
    }
    rc = ferror(f) ? ADMIT_ERR_IO : ADMIT_OK;
done:
    if (f != NULL)
        fclose(f);
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
