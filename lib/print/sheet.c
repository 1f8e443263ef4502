/* Attendance sheets (admit/print/sheet.h): one A4 landscape PDF per check-in list, a table of
 * the people on it with a signature column, then the totals, every page headed with the event
 * and footed with "page N of M". */
#include <cairo-pdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/mem.h"
#include "admit/print/sheet.h"
#include "print_internal.h"

#define PAGE_W        (297.0 * PT_PER_MM)
#define PAGE_H        (210.0 * PT_PER_MM)
#define MARGIN        (12.0 * PT_PER_MM)
#define TABLE_TOP     (40.0 * PT_PER_MM)
#define ROW_H         (9.0 * PT_PER_MM)
#define ROWS_A_PAGE   16
#define TOTALS_A_PAGE 36
#define TOTAL_H       (4.0 * PT_PER_MM)
#define KEYS_MAX      300

enum column { C_NUMBER, C_NAME, C_ORG, C_TYPE, C_COUNTRY, C_TIME, C_SIGN, C_COUNT };
static const struct {
    const char *title;
    double mm;
} columns[C_COUNT] = {{"#", 10},       {"Name", 62},       {"Organisation", 62}, {"Type", 26},
                      {"Country", 17}, {"Checked in", 22}, {"Signature", 74}};

/* The rows of one list in the query's result: [first, end). */
struct sheet {
    const PGresult *res;
    int first, end;
    int page, pages;
    cairo_t *cr;
};

/* Counts per key (an organisation type or a country): registered, and checked in. */
struct tally {
    char key[KEYS_MAX][48];
    int registered[KEYS_MAX], came[KEYS_MAX];
    int count;
};

static void tally_add(struct tally *t, const char *key, int came)
{
    int i = 0;
    while (i < t->count && strcmp(t->key[i], key) != 0)
        i++;
    if (i == t->count) {
        if (t->count == KEYS_MAX)
            return; /* more than ISO 3166 has: never */
        snprintf(t->key[t->count++], sizeof t->key[0], "%s", key);
    }
    t->registered[i]++;
    t->came[i] += came;
}

static void cell(cairo_t *cr, const char *text, double x, double y, double w, double pt, bool bold)
{
    struct print_box box = {
        x + 1.5 * PT_PER_MM, w - 3 * PT_PER_MM, ROW_H - 2, pt, 6.5, 1, bold, false};
    double top = y + 2.2 * PT_PER_MM;
    print_text(cr, text, &box, &top);
}

static const char *value(const struct sheet *s, int row, int col)
{
    return PQgetvalue(s->res, row, col);
}

static void frame(struct sheet *s)
{
    cairo_t *cr = s->cr;
    char text[800];
    double y = MARGIN;
    struct print_box title = {MARGIN, PAGE_W - 2 * MARGIN, 20, 14, 7, 1, true, false};
    print_text(cr, value(s, s->first, 8), &title, &y);
    snprintf(text, sizeof text, "%s%s%s%s%s", value(s, s->first, 9),
             value(s, s->first, 10)[0] ? " · " : "", value(s, s->first, 10),
             value(s, s->first, 11)[0] ? " · organised by " : "", value(s, s->first, 11));
    struct print_box line = {MARGIN, PAGE_W - 2 * MARGIN, 14, 10, 6, 1, false, false};
    print_text(cr, text, &line, &y);
    snprintf(text, sizeof text, "Attendance sheet: %s%s%s", value(s, s->first, 1),
             value(s, s->first, 2)[0] ? ", " : "", value(s, s->first, 2));
    struct print_box list = {MARGIN, PAGE_W - 2 * MARGIN, 18, 13, 7, 1, true, false};
    print_text(cr, text, &list, &y);
    double fy = PAGE_H - MARGIN;
    snprintf(text, sizeof text, "Page %d of %d", s->page, s->pages);
    struct print_box foot = {MARGIN, PAGE_W - 2 * MARGIN, 12, 9, 6, 1, false, false};
    print_text(cr, text, &foot, &fy);
}

static void table_head(cairo_t *cr, double y)
{
    double x = MARGIN;
    for (int c = 0; c < C_COUNT; c++) {
        cell(cr, columns[c].title, x, y, columns[c].mm * PT_PER_MM, 9, true);
        x += columns[c].mm * PT_PER_MM;
    }
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, MARGIN, y + ROW_H);
    cairo_line_to(cr, PAGE_W - MARGIN, y + ROW_H);
    cairo_stroke(cr);
}

static void person(struct sheet *s, int row, double y)
{
    cairo_t *cr = s->cr;
    char number[16];
    snprintf(number, sizeof number, "%d", row - s->first + 1);
    const char *texts[C_COUNT] = {number,
                                  value(s, row, 3),
                                  value(s, row, 4),
                                  value(s, row, 5),
                                  value(s, row, 6),
                                  value(s, row, 7),
                                  ""};
    double x = MARGIN;
    for (int c = 0; c < C_COUNT; c++) {
        cell(cr, texts[c], x, y, columns[c].mm * PT_PER_MM, 9, false);
        x += columns[c].mm * PT_PER_MM;
    }
    cairo_set_line_width(cr, 0.3);
    cairo_move_to(cr, MARGIN, y + ROW_H);
    cairo_line_to(cr, PAGE_W - MARGIN, y + ROW_H);
    cairo_stroke(cr);
}

static void totals_section(struct sheet *s, const char *title, const struct tally *t, int *line)
{
    char text[160];
    for (int i = -1; i < t->count; i++) {
        if (*line == TOTALS_A_PAGE) {
            cairo_show_page(s->cr);
            s->page++;
            frame(s);
            *line = 0;
        }
        double y = TABLE_TOP + *line * TOTAL_H * 1.1;
        if (i < 0)
            snprintf(text, sizeof text, "%s: registered, checked in", title);
        else
            snprintf(text, sizeof text, "%s: %d registered, %d checked in", t->key[i],
                     t->registered[i], t->came[i]);
        struct print_box box = {
            MARGIN + (i < 0 ? 0 : 8 * PT_PER_MM), 150 * PT_PER_MM, TOTAL_H, 9, 6, 1, i < 0, false};
        print_text(s->cr, text, &box, &y);
        (*line)++;
    }
}

static void totals(struct sheet *s)
{
    /* on the heap: admitd's threads may write sheets at the same time */
    struct tally *types = admit_xcalloc(1, sizeof *types);
    struct tally *countries = admit_xcalloc(1, sizeof *countries);
    int came = 0;
    for (int row = s->first; row < s->end; row++) {
        int in = !PQgetisnull(s->res, row, 7);
        came += in;
        tally_add(types, value(s, row, 5), in);
        tally_add(countries, value(s, row, 6), in);
    }
    cairo_show_page(s->cr);
    s->page++;
    frame(s);
    int line = 0;
    char all[64];
    snprintf(all, sizeof all, "Everyone: %d registered, %d checked in", s->end - s->first, came);
    double y = TABLE_TOP - 8 * PT_PER_MM;
    struct print_box box = {MARGIN, 200 * PT_PER_MM, 14, 11, 6, 1, true, false};
    print_text(s->cr, all, &box, &y);
    totals_section(s, "By type of organisation", types, &line);
    line++;
    totals_section(s, "By country", countries, &line);
    free(types);
    free(countries);
}

static int count_keys(const struct sheet *s, int col)
{
    int n = 0;
    for (int row = s->first; row < s->end; row++) {
        int seen = 0;
        for (int before = s->first; before < row && !seen; before++)
            seen = strcmp(value(s, before, col), value(s, row, col)) == 0;
        n += !seen;
    }
    return n;
}

static void draw_sheet(struct sheet *s)
{
    int n = s->end - s->first;
    int lines = count_keys(s, 5) + count_keys(s, 6) + 3;
    s->pages = (n + ROWS_A_PAGE - 1) / ROWS_A_PAGE + (lines + TOTALS_A_PAGE - 1) / TOTALS_A_PAGE;
    s->page = 1;
    cairo_set_source_rgb(s->cr, 0, 0, 0);
    for (int row = s->first; row < s->end; row++) {
        int at = (row - s->first) % ROWS_A_PAGE;
        if (at == 0 && row > s->first) {
            cairo_show_page(s->cr);
            s->page++;
        }
        if (at == 0) {
            frame(s);
            table_head(s->cr, TABLE_TOP - ROW_H);
        }
        person(s, row, TABLE_TOP + at * ROW_H);
    }
    totals(s);
    cairo_show_page(s->cr);
}

struct stream {
    admit_print_write_fn write;
    void *closure;
};

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
    struct stream *st = closure;
    return st->write(st->closure, data, len) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* One list's PDF, rows [first, end) of res, through sink. */
static enum admit_rc one_sheet(const PGresult *res, int first, int end,
                               const struct admit_sheet_sink *sink)
{
    struct stream st = {NULL, NULL};
    if (sink->open(sink->sink, atoi(PQgetvalue(res, first, 0)), PQgetvalue(res, first, 1),
                   &st.write, &st.closure) != 0)
        return ADMIT_ERR_IO;
    cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(write_cb, &st, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "Attendance sheet");
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "admit");
    struct sheet s = {res, first, end, 0, 0, cairo_create(surface)};
    draw_sheet(&s);
    cairo_destroy(s.cr);
    cairo_surface_finish(surface);
    int ok = cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS;
    cairo_surface_destroy(surface);
    if (sink->done(sink->sink, st.closure, ok) != 0)
        ok = 0;
    return ok ? ADMIT_OK : ADMIT_ERR_IO;
}

enum admit_rc admit_sheets_write(struct admit_db *db, int event_id, int list_id,
                                 const struct admit_sheet_sink *sink, size_t *lists,
                                 struct admit_error *err)
{
    char event[16], list[16];
    PGresult *res = NULL;
    snprintf(event, sizeof event, "%d", event_id);
    snprintf(list, sizeof list, "%d", list_id);
    const char *params[] = {event, list_id ? list : NULL};
    admit_error_clear(err);
    if (lists != NULL)
        *lists = 0;
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_PRINT_SHEET, 2, params, &res);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "the database did not answer: %s", admit_db_error(db));
        return rc;
    }
    int rows = PQntuples(res);
    for (int first = 0; rc == ADMIT_OK && first < rows;) {
        int end = first + 1;
        while (end < rows && strcmp(PQgetvalue(res, end, 0), PQgetvalue(res, first, 0)) == 0)
            end++;
        rc = one_sheet(res, first, end, sink);
        if (rc == ADMIT_OK && lists != NULL)
            (*lists)++;
        first = end;
    }
    if (rc != ADMIT_OK)
        admit_error_set(err, "an attendance sheet could not be written");
    PQclear(res);
    return rc;
}
