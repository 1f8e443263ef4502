/* A ticket's QR code images, rendered once per ticket version and kept in the database
 * (ticket_images): QR encoding costs more than signing, and the image only changes when the
 * ticket is reissued. */
#ifndef ADMIT_TICKET_IMAGE_H
#define ADMIT_TICKET_IMAGE_H

#include <stdint.h>

#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/core/rc.h"

/* Pixels per QR module in the downloadable PNG: (37 + 8) * 10 = 450 px for a version-5 code. */
#define ADMIT_TICKET_IMAGE_PNG_MODULE_PX 10

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

#endif
