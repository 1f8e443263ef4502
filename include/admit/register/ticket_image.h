/* A ticket's QR code images, rendered once per ticket version and kept in the database
 * (ticket_images): QR encoding costs more than signing, and the image only changes when the
 * ticket is reissued. */
#ifndef ADMIT_TICKET_IMAGE_H
#define ADMIT_TICKET_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/core/rc.h"

/* Pixels per QR module in the downloadable PNG: (37 + 8) * 10 = 450 px for a version-5 code. */
#define ADMIT_TICKET_IMAGE_PNG_MODULE_PX 10
/* Largest image, SVG or PNG (a version-7 code is a few KB). */
#define ADMIT_TICKET_IMAGE_MAX (1u << 20)

/* One version of a registration's ticket: what its images are made of. */
struct admit_ticket_version {
    int registration_id;
    int event_id;
    int reissue;
};

/* Signs the ticket (event, attendee, reissue) with key and appends its QR code as SVG to svg and
 * as PNG to png. ADMIT_ERR_CRYPTO, ADMIT_ERR_QR or ADMIT_ERR_TOO_LARGE on failure. */
enum admit_rc admit_ticket_image_render(const struct admit_signing_key *key, uint32_t event_id,
                                        uint32_t attendee_id, uint16_t reissue,
                                        struct admit_buf *svg,
                                        struct admit_buf *png) ADMIT_MUST_CHECK;

/* Stores the images of version reissue of a registration's ticket; an image of an older version
 * never replaces a newer one. */
enum admit_rc admit_ticket_image_store(struct admit_db *db, int registration_id, int reissue,
                                       const struct admit_buf *svg,
                                       const struct admit_buf *png) ADMIT_MUST_CHECK;

/* Renders the images of ticket version v with key (admit_ticket_image_render) and stores them
 * (admit_ticket_image_store), so that later views and emails need no rendering; svg and png get
 * them (png may be NULL when only the SVG is wanted). ADMIT_ERR_INVALID for a version out of
 * range; otherwise the errors of those two. */
enum admit_rc admit_ticket_image_make(struct admit_db *db, const struct admit_signing_key *key,
                                      const struct admit_ticket_version *v, struct admit_buf *svg,
                                      struct admit_buf *png) ADMIT_MUST_CHECK;

/* The PNG of the confirmed ticket behind the access token, appended to png: the stored one of
 * its current version, or else made now (admit_ticket_image_make; *rendered is then true).
 * ADMIT_ERR_NOT_FOUND when no confirmed registration has this token (a malformed token
 * included); ADMIT_ERR_INVALID when the stored image cannot be read; otherwise the errors of
 * admit_ticket_image_make. */
enum admit_rc admit_ticket_image_png(struct admit_db *db, const struct admit_signing_key *key,
                                     const char *token, struct admit_buf *png,
                                     bool *rendered) ADMIT_MUST_CHECK;

#endif
