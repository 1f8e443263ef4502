#include "admit/register/ticket_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/core/mem.h"
#include "admit/core/qr.h"
#include "admit/core/ticket.h"
#include "admit/core/token.h"

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

enum admit_rc admit_ticket_image_make(struct admit_db *db, const struct admit_signing_key *key,
                                      const struct admit_ticket_version *v, struct admit_buf *svg,
                                      struct admit_buf *png)
{
    struct admit_buf png_local;
    struct admit_buf *png_out = png != NULL ? png : &png_local;
    if (v->registration_id <= 0 || v->event_id <= 0 || v->reissue < 0 || v->reissue > 65535)
        return ADMIT_ERR_INVALID;
    admit_buf_init(&png_local, ADMIT_TICKET_IMAGE_MAX);
    enum admit_rc rc =
        admit_ticket_image_render(key, (uint32_t)v->event_id, (uint32_t)v->registration_id,
                                  (uint16_t)v->reissue, svg, png_out);
    if (rc == ADMIT_OK)
        rc = admit_ticket_image_store(db, v->registration_id, v->reissue, svg, png_out);
    admit_buf_free(&png_local);
    return rc;
}

enum admit_rc admit_ticket_image_png(struct admit_db *db, const struct admit_signing_key *key,
                                     const char *token, struct admit_buf *png, bool *rendered)
{
    const char *params[1] = {token};
    struct admit_buf svg;
    PGresult *res = NULL;
    *rendered = false;
    if (!admit_token_valid(token))
        return ADMIT_ERR_NOT_FOUND;
    admit_buf_init(&svg, ADMIT_TICKET_IMAGE_MAX);
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_TICKET_PNG, 1, params, &res);
    if (rc != ADMIT_OK)
        goto done;
    rc = ADMIT_ERR_NOT_FOUND;
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 3), "confirmed") != 0)
        goto done;
    if (PQgetisnull(res, 0, 4)) {
        struct admit_ticket_version v = {atoi(PQgetvalue(res, 0, 0)), atoi(PQgetvalue(res, 0, 1)),
                                         atoi(PQgetvalue(res, 0, 2))};
        rc = admit_ticket_image_make(db, key, &v, &svg, png);
        *rendered = rc == ADMIT_OK;
        goto done;
    }
    size_t len = 0;
    unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 4), &len);
    rc = bytes != NULL ? admit_buf_append(png, bytes, len) : ADMIT_ERR_INVALID;
    PQfreemem(bytes);
done:
    PQclear(res);
    admit_buf_free(&svg);
    return rc;
}
