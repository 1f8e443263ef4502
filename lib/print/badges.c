/* The badges of an event from the database into a badge document (admit/print/badges.h). */
#include <stdio.h>
#include <stdlib.h>

#include "admit/core/ticket.h"
#include "admit/print/badges.h"

static enum admit_rc add_row(struct admit_badge_doc *doc, const PGresult *res, int row,
                             const struct admit_signing_key *key)
{
    char text[ADMIT_TICKET_TEXT_MAX];
    uint32_t event_id = (uint32_t)atol(PQgetvalue(res, row, 0));
    uint32_t attendee = (uint32_t)atol(PQgetvalue(res, row, 1));
    uint16_t reissue = (uint16_t)atoi(PQgetvalue(res, row, 2));
    enum admit_rc rc = admit_ticket_sign(key, event_id, attendee, reissue, text);
    if (rc != ADMIT_OK)
        return rc;
    struct admit_badge badge = {PQgetvalue(res, row, 3),
                                PQgetvalue(res, row, 4),
                                PQgetvalue(res, row, 5),
                                PQgetvalue(res, row, 6),
                                text,
                                PQgetvalue(res, row, 7)};
    return admit_badge_doc_add(doc, &badge);
}

enum admit_rc admit_badges_write(struct admit_db *db, const struct admit_badges_query *q,
                                 const struct admit_signing_key *key,
                                 const struct admit_badge_layout *layout,
                                 const struct admit_badge_doc_options *options,
                                 admit_print_write_fn write, void *closure, size_t *count,
                                 struct admit_error *err)
{
    char admin[16], registration[16];
    snprintf(admin, sizeof admin, "%d", q->admin_id);
    snprintf(registration, sizeof registration, "%d", q->registration_id);
    const char *params[] = {q->slug, q->list_name, q->admin_id ? admin : NULL,
                            q->registration_id ? registration : NULL};
    PGresult *res = NULL;
    struct admit_badge_doc *doc = NULL;
    admit_error_clear(err);
    if (count != NULL)
        *count = 0;
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_PRINT_BADGES, 4, params, &res);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "the database did not answer: %s", admit_db_error(db));
        goto done;
    }
    int rows = PQntuples(res);
    rc = ADMIT_ERR_NOT_FOUND;
    if (rows == 0 || (q->registration_id != 0 && PQgetisnull(res, 0, 1))) {
        if (q->registration_id != 0)
            admit_error_set(err, "no confirmed registration %d in event %s", q->registration_id,
                            q->slug);
        else if (q->list_name != NULL)
            admit_error_set(err, "no event %s with a check-in list \"%s\"", q->slug, q->list_name);
        else
            admit_error_set(err, "no event %s", q->slug);
        goto done;
    }
    rc = admit_badge_doc_open(&doc, layout, options, write, closure);
    for (int row = 0; rc == ADMIT_OK && row < rows; row++)
        if (!PQgetisnull(res, row, 1))
            rc = add_row(doc, res, row, key);
    enum admit_rc closed = admit_badge_doc_close(doc, count);
    if (rc == ADMIT_OK)
        rc = closed;
    if (rc != ADMIT_OK)
        admit_error_set(err, "the badges could not be written (%s)", admit_strerror(rc));
done:
    PQclear(res);
    return rc;
}
