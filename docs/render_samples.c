/* The pictures of docs/paper.md, rendered by the build: a sample badge (the a6 layout of
 * templates/print/badges.txt) and a sample certificate of attendance, drawn by the same lib/print
 * code as the PDFs, on cairo image surfaces, written as PNG. The QR codes carry real signed
 * texts, made with a key generated for the run: its public half is kept beside the pictures
 * (OUT_DIR/sample-key/ticket-signing.pub, so that a test can `admit verify` them), its secret
 * half is deleted.
 *
 * Usage: admit_render_samples LAYOUTS_FILE OUT_DIR   (writes OUT_DIR/badge.png,
 *        OUT_DIR/certificate.png and the public key; exit 1 with a line on stderr when anything
 *        fails) */
#include <cairo.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit/core/keys.h"
#include "admit/core/ticket.h"
#include "admit/print/badge.h"
#include "admit/print/certificate.h"
#include "print_internal.h"

#define DPI 150.0

/* A white image surface of width x height millimetres at DPI, and a context drawing on it in
 * points. */
static cairo_t *white_page(double width_mm, double height_mm, cairo_surface_t **surface)
{
    double scale = DPI / 72.0;
    *surface =
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(width_mm * PT_PER_MM * scale + 0.5),
                                   (int)(height_mm * PT_PER_MM * scale + 0.5));
    cairo_t *cr = cairo_create(*surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    cairo_set_source_rgb(cr, 0, 0, 0);
    return cr;
}

/* Writes the page of cr to path and frees both; false (said on stderr) when anything failed. */
static bool finish(cairo_t *cr, cairo_surface_t *surface, enum admit_rc rc, const char *path)
{
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    cairo_status_t status = cairo_surface_write_to_png(surface, path);
    cairo_surface_destroy(surface);
    if (rc != ADMIT_OK || status != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "admit_render_samples: %s: %s\n", path,
                rc != ADMIT_OK ? admit_strerror(rc) : cairo_status_to_string(status));
        return false;
    }
    return true;
}

static bool badge(const struct admit_signing_key *key, const char *layouts_file, const char *dir)
{
    struct admit_badge_layouts layouts;
    struct admit_error err;
    char text[ADMIT_TICKET_TEXT_MAX], path[4096];
    if (admit_badge_layouts_load(layouts_file, &layouts, &err) != ADMIT_OK) {
        fprintf(stderr, "admit_render_samples: %s\n", err.message);
        return false;
    }
    const struct admit_badge_layout *layout = admit_badge_layout_find(&layouts, "a6");
    if (layout == NULL || admit_ticket_sign(key, 1, 42, 0, text) != ADMIT_OK) {
        fprintf(stderr, "admit_render_samples: no a6 layout in %s\n", layouts_file);
        return false;
    }
    const struct admit_badge person = {"Anne-Sophie",
                                       "de la Tour d'Auvergne",
                                       "Bundesanstalt für Materialforschung und -prüfung",
                                       "Research",
                                       text,
                                       "\u2717 Photos of me may be published"};
    cairo_surface_t *surface;
    cairo_t *cr = white_page(layout->width_mm, layout->height_mm, &surface);
    enum admit_rc rc = print_badge_draw(cr, layout, &person);
    snprintf(path, sizeof path, "%s/badge.png", dir);
    return finish(cr, surface, rc, path);
}

static bool certificate(const struct admit_signing_key *key, const char *dir)
{
    char text[ADMIT_CERTIFICATE_TEXT_MAX], path[4096];
    const struct admit_certificate c = {
        .event_id = 1, .attendee_id = 42, .list_count = 3, .list_ids = {1, 2, 3}};
    if (admit_certificate_sign(key, &c, text) != ADMIT_OK) {
        fprintf(stderr, "admit_render_samples: the sample certificate cannot be signed\n");
        return false;
    }
    json_t *page = json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}, "
        "{s:s, s:s, s:s}]}",
        "given_name", "Ζωή", "family_name", "Παπαδοπούλου", "organisation",
        "Πανεπιστήμιο Αθηνών (University of Athens)", "event", "name",
        "TERRA 2027: Soil Science and Policy", "venue", "Natural History Museum, Brussels", "dates",
        "28–29 October 2027", "organiser", "The TERRA consortium", "lists", "name", "Day 1", "day",
        "Thursday 28 October 2027", "first", "28 October 2027, 08:52", "name", "Day 2", "day",
        "Friday 29 October 2027", "first", "29 October 2027, 09:05", "name", "Cluster session",
        "day", "", "first", "29 October 2027, 14:01");
    cairo_surface_t *surface;
    cairo_t *cr = white_page(210.0, 297.0, &surface);
    enum admit_rc rc =
        print_certificate_draw(cr, page, text, "https://tickets.terra.example/verify");
    json_decref(page);
    snprintf(path, sizeof path, "%s/certificate.png", dir);
    return finish(cr, surface, rc, path);
}

/* A new sample key whose public half is written to DIR/sample-key/ (the files of the run
 * before replaced); false (said on stderr) when it cannot be. */
static bool sample_key(const char *dir, struct admit_signing_key *key)
{
    char keydir[4096], secret[4200], public[4200];
    snprintf(keydir, sizeof keydir, "%s/sample-key", dir);
    snprintf(secret, sizeof secret, "%s/" ADMIT_KEY_SECRET_FILE, keydir);
    snprintf(public, sizeof public, "%s/" ADMIT_KEY_PUBLIC_FILE, keydir);
    unlink(secret);
    unlink(public);
    mkdir(keydir, 0755);
    admit_key_generate(key);
    if (admit_key_write_files(keydir, key) != ADMIT_OK) {
        fprintf(stderr, "admit_render_samples: cannot write the sample key into %s\n", keydir);
        return false;
    }
    unlink(secret);
    return true;
}

int main(int argc, char **argv)
{
    struct admit_signing_key key;
    if (argc != 3) {
        fprintf(stderr, "usage: admit_render_samples LAYOUTS_FILE OUT_DIR\n");
        return 2;
    }
    if (admit_init() != ADMIT_OK)
        return 1;
    bool ok = sample_key(argv[2], &key);
    ok = ok && badge(&key, argv[1], argv[2]);
    ok = ok && certificate(&key, argv[2]);
    admit_key_wipe(&key);
    return ok ? 0 : 1;
}
