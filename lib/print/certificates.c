/* Certificates of attendance from the database (admit/print/certificates.h): deciding whether
 * there is one, signing its payload and drawing it; checking a scanned one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/ticket.h"
#include "admit/core/token.h"
#include "admit/print/certificates.h"
#include "print_internal.h"

/* The payload of page's lists into *c; the refusal when there is none to give. */
static enum admit_certificate_refusal payload_of(json_t *page, struct admit_certificate *c)
{
    json_t *lists = json_object_get(page, "lists");
    const char *state = json_string_value(json_object_get(page, "certificate_state"));
    memset(c, 0, sizeof *c);
    if (state == NULL || strcmp(state, "not_yet") == 0)
        return ADMIT_CERTIFICATE_NOT_YET;
    if (json_array_size(lists) == 0)
        return ADMIT_CERTIFICATE_NOT_ADMITTED;
    if (json_array_size(lists) > ADMIT_CERTIFICATE_LISTS_MAX)
        return ADMIT_CERTIFICATE_TOO_MANY;
    c->event_id = (uint32_t)json_integer_value(json_object_get(page, "event_id"));
    c->attendee_id = (uint32_t)json_integer_value(json_object_get(page, "registration_id"));
    c->list_count = json_array_size(lists);
    for (size_t i = 0; i < c->list_count; i++) /* sorted by id in the query */
        c->list_ids[i] =
            (uint32_t)json_integer_value(json_object_get(json_array_get(lists, i), "id"));
    return ADMIT_CERTIFICATE_GIVEN;
}

enum admit_rc admit_certificate_make(struct admit_db *db, const char *token,
                                     const struct admit_signing_key *key, const char *verify_url,
                                     struct admit_buf *pdf, enum admit_certificate_refusal *refusal,
                                     json_t **page)
{
    struct admit_certificate c;
    char payload[ADMIT_CERTIFICATE_TEXT_MAX];
    const char *params[] = {token};
    *page = NULL;
    if (!admit_token_valid(token))
        return ADMIT_ERR_NOT_FOUND;
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_CERTIFICATE_PAGE, 1, params, page);
    if (rc != ADMIT_OK)
        return rc;
    *refusal = payload_of(*page, &c);
    if (*refusal != ADMIT_CERTIFICATE_GIVEN)
        return ADMIT_OK;
    rc = admit_certificate_sign(key, &c, payload);
    if (rc == ADMIT_OK)
        rc = print_certificate_pdf(*page, payload, verify_url, pdf);
    if (rc != ADMIT_OK) {
        json_decref(*page);
        *page = NULL;
    }
    return rc;
}

enum admit_rc admit_certificate_check(struct admit_db *db, const char *text, size_t len,
                                      const struct admit_keyring *ring,
                                      enum admit_certificate_error *error, json_t **facts)
{
    char copy[ADMIT_CERTIFICATE_TEXT_MAX];
    struct admit_certificate c;
    char event[16], attendee[16], ids[ADMIT_CERTIFICATE_LISTS_MAX * 12 + 3];
    *facts = NULL;
    if (len >= sizeof copy) {
        *error = ADMIT_CERTIFICATE_MALFORMED;
        return ADMIT_OK;
    }
    memcpy(copy, text, len);
    len = admit_ticket_normalize(copy, len);
    *error = admit_certificate_verify(copy, len, ring, &c);
    if (*error != ADMIT_CERTIFICATE_VALID)
        return ADMIT_OK;
    snprintf(event, sizeof event, "%u", (unsigned)c.event_id);
    snprintf(attendee, sizeof attendee, "%u", (unsigned)c.attendee_id);
    size_t at = (size_t)snprintf(ids, sizeof ids, "{");
    for (size_t i = 0; i < c.list_count; i++)
        at += (size_t)snprintf(ids + at, sizeof ids - at, "%s%u", i ? "," : "",
                               (unsigned)c.list_ids[i]);
    snprintf(ids + at, sizeof ids - at, "}");
    const char *params[] = {event, attendee, ids};
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_CERTIFICATE_CHECK, 3, params, facts);
    return rc == ADMIT_ERR_NOT_FOUND ? ADMIT_OK : rc;
}

enum admit_rc admit_certificates_release(struct admit_db *db, const char *slug, bool released)
{
    PGresult *res = NULL;
    const char *params[] = {slug, released ? "true" : "false"};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_CERTIFICATES_RELEASE, 2, params, &res);
    if (rc == ADMIT_OK && PQntuples(res) != 1)
        rc = ADMIT_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}

enum admit_rc admit_certificates_send(struct admit_db *db, int admin_id, const char *slug,
                                      struct admit_certificates_sent *out)
{
    PGresult *res = NULL;
    char admin[16];
    snprintf(admin, sizeof admin, "%d", admin_id);
    const char *params[] = {admin_id > 0 ? admin : NULL, slug};
    memset(out, 0, sizeof *out);
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_CERTIFICATES_SEND, 2, params, &res);
    if (rc == ADMIT_OK && (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "not_found") == 0))
        rc = ADMIT_ERR_NOT_FOUND;
    if (rc == ADMIT_OK) {
        out->not_yet = strcmp(PQgetvalue(res, 0, 0), "not_yet") == 0;
        out->queued = atol(PQgetvalue(res, 0, 1));
        out->already = atol(PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return rc;
}
