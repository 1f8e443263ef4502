#include "admit/mail/mail_outbox.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/print/certificates.h"
#include "admit/print/ticket_pdf.h"
#include "admit/register/ticket_image.h"

enum admit_rc admit_mail_claim(struct admit_db *db, unsigned lease_seconds,
                               struct admit_mail_claim *out, int *found)
{
    char lease[16];
    PGresult *res = NULL;
    json_error_t error;
    memset(out, 0, sizeof *out);
    *found = 0;
    snprintf(lease, sizeof lease, "%u", lease_seconds);
    const char *params[1] = {lease};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_MAIL_CLAIM, 1, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    if (PQntuples(res) == 1) {
        out->id = atoll(PQgetvalue(res, 0, 0));
        out->attempt = atoi(PQgetvalue(res, 0, 1));
        out->payload = json_loads(PQgetvalue(res, 0, 2), JSON_REJECT_DUPLICATES, &error);
        if (out->payload == NULL)
            rc = ADMIT_ERR_INVALID;
        *found = 1;
    }
    PQclear(res);
    return rc;
}

enum admit_rc admit_mail_finish(struct admit_db *db, long long id, int attempt,
                                enum admit_mail_outcome outcome, const char *reason,
                                const struct admit_mail_backoff *backoff, int *recorded)
{
    static const char *const outcomes[] = {"sent", "failed", "superseded", "retry"};
    char id_text[24], attempt_text[16], min_text[16], max_text[16];
    PGresult *res = NULL;
    *recorded = 0;
    if ((unsigned)outcome >= sizeof outcomes / sizeof outcomes[0])
        return ADMIT_ERR_INVALID;
    snprintf(id_text, sizeof id_text, "%lld", id);
    snprintf(attempt_text, sizeof attempt_text, "%d", attempt);
    snprintf(min_text, sizeof min_text, "%u", backoff != NULL ? backoff->min_seconds : 30u);
    snprintf(max_text, sizeof max_text, "%u", backoff != NULL ? backoff->max_seconds : 3600u);
    const char *params[6] = {id_text,  attempt_text, outcomes[outcome], reason ? reason : "",
                             min_text, max_text};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_MAIL_FINISH, 6, params, &res);
    if (rc == ADMIT_OK)
        *recorded = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}

/* Decodes PostgreSQL's hex text of bytea (without the \x) into png. */
static enum admit_rc append_hex(struct admit_buf *png, const char *hex)
{
    size_t n = strlen(hex), len = 0;
    if (n % 2 != 0)
        return ADMIT_ERR_INVALID;
    unsigned char *bytes = malloc(n / 2 + 1);
    if (bytes == NULL)
        abort();
    enum admit_rc rc = ADMIT_ERR_INVALID;
    if (sodium_hex2bin(bytes, n / 2 + 1, hex, n, NULL, &len, NULL) == 0 && len == n / 2)
        rc = admit_buf_append(png, bytes, len);
    free(bytes);
    return rc;
}

enum admit_rc admit_mail_ticket_png(struct admit_db *db, const struct admit_signing_key *key,
                                    const json_t *payload, struct admit_buf *png)
{
    const json_t *registration = json_object_get(payload, "registration");
    const char *cached = json_string_value(json_object_get(payload, "png"));
    struct admit_buf svg;
    if (!json_is_object(registration))
        return ADMIT_ERR_INVALID;
    if (cached != NULL)
        return append_hex(png, cached);
    json_int_t id = json_integer_value(json_object_get(registration, "id"));
    json_int_t event = json_integer_value(json_object_get(registration, "event_id"));
    json_int_t reissue = json_integer_value(json_object_get(registration, "reissue"));
    if (id <= 0 || id > INT_MAX || event <= 0 || event > INT_MAX || reissue < 0 || reissue > 65535)
        return ADMIT_ERR_INVALID;
    struct admit_ticket_version v = {(int)id, (int)event, (int)reissue};
    /* Stored as the web pages store it: their next view needs no rendering. */
    admit_buf_init(&svg, ADMIT_TICKET_IMAGE_MAX);
    enum admit_rc rc = admit_ticket_image_make(db, key, &v, &svg, png);
    admit_buf_free(&svg);
    return rc;
}

enum admit_rc admit_mail_ticket_pdf(struct admit_db *db, const struct admit_signing_key *key,
                                    const json_t *payload, struct admit_buf *pdf)
{
    const json_t *registration = json_object_get(payload, "registration");
    const char *token = json_string_value(json_object_get(registration, "token"));
    json_int_t event = json_integer_value(json_object_get(registration, "event_id"));
    char event_text[24];
    PGresult *res = NULL;
    bool confirmed = false;
    if (token == NULL || event <= 0 || event > INT_MAX)
        return ADMIT_ERR_INVALID;
    snprintf(event_text, sizeof event_text, "%lld", (long long)event);
    const char *params[1] = {event_text};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_MAIL_TICKET_PDF_WANTED, 1, params, &res);
    bool wanted = rc == ADMIT_OK && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (rc == ADMIT_OK && wanted)
        rc = admit_ticket_pdf_make(db, token, key, pdf, &confirmed);
    return rc;
}

enum admit_rc admit_mail_certificate_pdf(struct admit_db *db, const struct admit_signing_key *key,
                                         const char *verify_url, const json_t *payload,
                                         struct admit_buf *pdf, bool *given)
{
    const json_t *registration = json_object_get(payload, "registration");
    const char *token = json_string_value(json_object_get(registration, "token"));
    enum admit_certificate_refusal refusal = ADMIT_CERTIFICATE_NOT_ADMITTED;
    json_t *page = NULL;
    *given = false;
    if (token == NULL)
        return ADMIT_ERR_INVALID;
    enum admit_rc rc = admit_certificate_make(db, token, key, verify_url, pdf, &refusal, &page);
    *given = rc == ADMIT_OK && refusal == ADMIT_CERTIFICATE_GIVEN;
    json_decref(page);
    return rc;
}
