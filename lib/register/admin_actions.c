#include "admit/register/admin_actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *text; /* as the SQL functions say it */
    enum admit_admin_outcome outcome;
    const char *message;
} outcomes[] = {
    {"cancelled", ADMIT_ADMIN_DONE, "The registration is cancelled."},
    {"reissued", ADMIT_ADMIN_DONE, "A new ticket was issued."},
    {"promoted", ADMIT_ADMIN_DONE, "Moved from the waiting list: the seat is confirmed."},
    {"checked_in", ADMIT_ADMIN_DONE, "Checked in."},
    {"not_found", ADMIT_ADMIN_NOT_FOUND, "There is no such attendee or list."},
    {"already_cancelled", ADMIT_ADMIN_ALREADY_CANCELLED,
     "This registration was already cancelled."},
    {"is_cancelled", ADMIT_ADMIN_IS_CANCELLED, "This registration is cancelled."},
    {"limit", ADMIT_ADMIN_REISSUE_LIMIT, "This ticket cannot be reissued again."},
    {"not_waitlisted", ADMIT_ADMIN_NOT_WAITLISTED, "This attendee is not on the waiting list."},
    {"full", ADMIT_ADMIN_FULL,
     "There is no free seat: raise the capacity first (Edit event), then move them."},
    {"already_checked_in", ADMIT_ADMIN_ALREADY_CHECKED_IN, "Already checked in on this list."},
    {"not_on_list", ADMIT_ADMIN_NOT_ON_LIST,
     "Not registered for this list. Use \"Force check-in\" to let them in all the same."},
    {"waitlisted", ADMIT_ADMIN_IS_WAITLISTED,
     "On the waiting list, without a seat: move them from the waiting list first."},
};

const char *admit_admin_outcome_message(enum admit_admin_outcome outcome)
{
    /* The first entry of an outcome carries its generic message; DONE is said by the caller. */
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        if (outcomes[i].outcome == outcome && outcome != ADMIT_ADMIN_DONE)
            return outcomes[i].message;
    return "Done.";
}

/* The reissue and check-in functions call a cancelled registration "cancelled"; cancel calls
 * its own success that too. */
static enum admit_admin_outcome parse(const char *text, bool cancel)
{
    if (!cancel && strcmp(text, "cancelled") == 0)
        return ADMIT_ADMIN_IS_CANCELLED;
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        if (strcmp(outcomes[i].text, text) == 0)
            return outcomes[i].outcome;
    return ADMIT_ADMIN_NOT_FOUND;
}

/* Runs q with the admin, slug and registration parameters (and extra ones after them). */
static enum admit_rc run(struct admit_db *db, enum admit_query q, int admin_id, const char *slug,
                         int registration_id, const char *const *extra, int nextra, PGresult **res)
{
    char admin[16], reg[16];
    const char *params[8];
    snprintf(admin, sizeof admin, "%d", admin_id);
    snprintf(reg, sizeof reg, "%d", registration_id);
    params[0] = admin;
    params[1] = slug;
    params[2] = reg;
    for (int i = 0; i < nextra && i < 5; i++)
        params[3 + i] = extra[i];
    return admit_db_query(db, q, 3 + nextra, params, res);
}

enum admit_rc admit_admin_cancel(struct admit_db *db, int admin_id, const char *slug,
                                 int registration_id, struct admit_admin_result *out)
{
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    enum admit_rc rc =
        run(db, ADMIT_Q_ADMIN_CANCEL, admin_id, slug, registration_id, NULL, 0, &res);
    if (rc != ADMIT_OK)
        return rc;
    out->outcome = parse(PQgetvalue(res, 0, 0), true);
    out->promoted_id = PQgetisnull(res, 0, 1) ? 0 : atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_admin_reissue(struct admit_db *db, int admin_id, const char *slug,
                                  int registration_id, struct admit_admin_result *out)
{
    PGresult *res = NULL;
    char token[ADMIT_TOKEN_SIZE];
    memset(out, 0, sizeof *out);
    admit_token_new(token);
    const char *extra[1] = {token};
    enum admit_rc rc =
        run(db, ADMIT_Q_ADMIN_REISSUE, admin_id, slug, registration_id, extra, 1, &res);
    if (rc != ADMIT_OK)
        return rc;
    out->outcome = parse(PQgetvalue(res, 0, 0), false);
    if (out->outcome == ADMIT_ADMIN_DONE) {
        out->reissue = atoi(PQgetvalue(res, 0, 1));
        snprintf(out->token, sizeof out->token, "%s", PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_admin_promote(struct admit_db *db, int admin_id, const char *slug,
                                  int registration_id, struct admit_admin_result *out)
{
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    enum admit_rc rc =
        run(db, ADMIT_Q_ADMIN_PROMOTE, admin_id, slug, registration_id, NULL, 0, &res);
    if (rc != ADMIT_OK)
        return rc;
    out->outcome = parse(PQgetvalue(res, 0, 0), false);
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_admin_checkin(struct admit_db *db, int admin_id, const char *slug,
                                  int registration_id, int list_id, bool force,
                                  struct admit_admin_result *out)
{
    PGresult *res = NULL;
    char list[16], nonce[ADMIT_TOKEN_SIZE];
    memset(out, 0, sizeof *out);
    snprintf(list, sizeof list, "%d", list_id);
    admit_token_new(nonce);
    const char *extra[3] = {list, force ? "t" : "f", nonce};
    enum admit_rc rc =
        run(db, ADMIT_Q_ADMIN_CHECKIN, admin_id, slug, registration_id, extra, 3, &res);
    if (rc != ADMIT_OK)
        return rc;
    out->outcome = parse(PQgetvalue(res, 0, 0), false);
    snprintf(out->first_at, sizeof out->first_at, "%s", PQgetvalue(res, 0, 1));
    snprintf(out->first_gate, sizeof out->first_gate, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    return ADMIT_OK;
}
