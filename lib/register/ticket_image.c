#include "admit/register/ticket_image.h"

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "admit/core/mem.h"
#include "admit/core/qr.h"
#include "admit/core/ticket.h"

enum admit_rc admit_ticket_image_render(const struct admit_signing_key *key, uint32_t event_id,
                                        uint32_t attendee_id, uint16_t reissue,
                                        struct admit_buf *svg, struct admit_buf *png)
{
    char text[ADMIT_TICKET_TEXT_MAX];
    struct admit_qr *qr = NULL;
    enum admit_rc rc = admit_ticket_sign(key, event_id, attendee_id, reissue, text);
    if (rc == ADMIT_OK)
        rc = admit_qr_encode(text, &qr);
    if (rc == ADMIT_OK)
        rc = admit_qr_svg(qr, svg);
    if (rc == ADMIT_OK)
        rc = admit_qr_png(qr, ADMIT_TICKET_IMAGE_PNG_MODULE_PX, png);
    admit_qr_free(qr);
    sodium_memzero(text, sizeof text);
    return rc;
}

enum admit_rc admit_ticket_image_store(struct admit_db *db, int registration_id, int reissue,
                                       const struct admit_buf *svg, const struct admit_buf *png)
{
    char id[16], version[16];
    PGresult *res = NULL;

    /* bytea in its text form: \x followed by two hex digits per byte. */
    char *hex = admit_xmalloc(2 * png->len + 3);
    hex[0] = '\\';
    hex[1] = 'x';
    sodium_bin2hex(hex + 2, 2 * png->len + 1, (const unsigned char *)png->data, png->len);
    snprintf(id, sizeof id, "%d", registration_id);
    snprintf(version, sizeof version, "%d", reissue);
    const char *params[4] = {id, version, admit_buf_cstr(svg), hex};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_TICKET_IMAGE_STORE, 4, params, &res);
    PQclear(res);
    free(hex);
    return rc;
}
