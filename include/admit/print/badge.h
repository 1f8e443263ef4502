/* Name badges as PDF: layouts read from templates/print/badges.txt, each badge drawn with cairo
 * and pango (any script, the fonts' own fallback), and a document streamed page by page to a
 * writer, so that 2,000 badges take the memory of one page.
 *
 * A badge shows the name in large type (shrunk and wrapped until it fits: it never leaves the
 * badge), the organisation, the organisation type and the ticket's QR code, which a door
 * scanner accepts like the ticket itself. */
#ifndef ADMIT_PRINT_BADGE_H
#define ADMIT_PRINT_BADGE_H

#include <stdbool.h>
#include <stddef.h>

#include "admit/core/error.h"
#include "admit/core/rc.h"

#define ADMIT_BADGE_LAYOUT_NAME_MAX 32
#define ADMIT_BADGE_LAYOUTS_MAX     16
#define ADMIT_BADGE_LAYOUTS_FILE    "print/badges.txt"

/* One line of the layouts file; lengths in millimetres, type sizes in points. */
struct admit_badge_layout {
    char name[ADMIT_BADGE_LAYOUT_NAME_MAX];
    double width_mm, height_mm;
    double name_pt, org_pt, type_pt;
    double qr_mm;
};

struct admit_badge_layouts {
    struct admit_badge_layout items[ADMIT_BADGE_LAYOUTS_MAX];
    size_t count;
};

/* Reads the layouts of len bytes of text (the file's content; source names it in messages) into
 * *out. ADMIT_ERR_INVALID with err naming the line when a line is not a layout (a size outside
 * 20..300 mm, a type size outside 4..120 pt, a QR code that does not fit the badge), or when
 * there are more than ADMIT_BADGE_LAYOUTS_MAX. */
enum admit_rc admit_badge_layouts_parse(const char *text, size_t len, const char *source,
                                        struct admit_badge_layouts *out,
                                        struct admit_error *err) ADMIT_MUST_CHECK;

/* The same for the file at path: ADMIT_ERR_IO (errno kept) when it cannot be read. */
enum admit_rc admit_badge_layouts_load(const char *path, struct admit_badge_layouts *out,
                                       struct admit_error *err) ADMIT_MUST_CHECK;

/* The layout called name, or NULL. */
const struct admit_badge_layout *admit_badge_layout_find(const struct admit_badge_layouts *set,
                                                         const char *name);

/* What one badge shows: UTF-8 text, none NULL ("" leaves a line out). qr_text: the ticket's
 * text form (admit/core/ticket.h), or "" for no code. */
struct admit_badge {
    const char *given_name;
    const char *family_name;
    const char *organisation;
    const char *type;
    const char *qr_text;
    const char *marker; /* consents not given, e.g. "✗ Photos of me may be published" (NULL or
                           "": none), in bold under the type */
};

/* Where the PDF's bytes go: returns 0 when all len bytes were taken, -1 to stop (the document
 * then fails with ADMIT_ERR_IO). */
typedef int (*admit_print_write_fn)(void *closure, const unsigned char *data, size_t len);

struct admit_badge_doc_options {
    bool sheet;      /* true: as many badges as fit on each A4 page; false: a page per badge */
    bool crop_marks; /* on a sheet, marks at the corners of each badge for cutting */
};

struct admit_badge_doc;

/* Starts a PDF of badges in layout (copied), written through write(closure, ...) as pages
 * complete. On ADMIT_OK *out is a document to finish with admit_badge_doc_close; ADMIT_ERR_IO
 * when cairo cannot make the surface (*out NULL). */
enum admit_rc admit_badge_doc_open(struct admit_badge_doc **out,
                                   const struct admit_badge_layout *layout,
                                   const struct admit_badge_doc_options *options,
                                   admit_print_write_fn write, void *closure) ADMIT_MUST_CHECK;

/* Adds one badge. ADMIT_ERR_QR when its QR text cannot be encoded; ADMIT_ERR_IO when the writer
 * stopped or cairo failed (the document is then broken: close it and discard the bytes). */
enum admit_rc admit_badge_doc_add(struct admit_badge_doc *doc,
                                  const struct admit_badge *badge) ADMIT_MUST_CHECK;

/* Finishes the document (the last page, fonts, the cross-reference table), writes the rest and
 * frees doc (NULL: ADMIT_OK). ADMIT_ERR_IO when anything failed on the way; the number of
 * badges is in *count when count is not NULL. A document without badges is one empty page. */
enum admit_rc admit_badge_doc_close(struct admit_badge_doc *doc, size_t *count) ADMIT_MUST_CHECK;

#endif
