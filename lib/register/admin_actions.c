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
    {"is_cancelled", ADMIT_ADMIN_IS_CANCELLED,
     "This registration is cancelled: its ticket cannot be reissued or used any more."},
    {"limit", ADMIT_ADMIN_REISSUE_LIMIT, "This ticket cannot be reissued again."},
    {"not_waitlisted", ADMIT_ADMIN_NOT_WAITLISTED,
     "This attendee is not on the waiting list: they have a seat already, or the "
     "registration is cancelled."},
    {"full", ADMIT_ADMIN_FULL,
     "There is no free seat: raise the capacity first (Edit event), then move them."},
    {"already_checked_in", ADMIT_ADMIN_ALREADY_CHECKED_IN, "Already checked in on this list."},
    {"not_on_list", ADMIT_ADMIN_NOT_ON_LIST,
     "Not registered for this list. Use \"Force check-in\" to let them in all the same."},
    {"waitlisted", ADMIT_ADMIN_IS_WAITLISTED,
     "On the waiting list, without a seat: move them from the waiting list first "
     "(they get their ticket then)."},
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

enum admit_admin_outcome admit_admin_outcome_of(const char *text, enum admit_admin_action_kind kind)
{
    return parse(text, kind == ADMIT_ADMIN_CANCEL);
}

const char *admit_admin_action_name(enum admit_admin_action_kind kind)
{
    static const char *const names[] = {
        [ADMIT_ADMIN_CANCEL] = "cancel",
        [ADMIT_ADMIN_REISSUE] = "reissue",
        [ADMIT_ADMIN_PROMOTE] = "promote",
        [ADMIT_ADMIN_CHECKIN] = "checkin",
    };
    return names[kind];
}

enum admit_rc admit_admin_act(struct admit_db *db, int admin_id, const char *slug,
                              int registration_id, const struct admit_admin_action *action,
                              struct admit_admin_result *out)
{
    PGresult *res = NULL;
    char admin[16], reg[16], list[16], secret[ADMIT_TOKEN_SIZE];
    memset(out, 0, sizeof *out);
    out->outcome = ADMIT_ADMIN_NOT_FOUND;
    if (action->key == NULL || !admit_token_valid(action->key))
        return ADMIT_ERR_INVALID;
    snprintf(admin, sizeof admin, "%d", admin_id);
    snprintf(reg, sizeof reg, "%d", registration_id);
    snprintf(list, sizeof list, "%d", action->list_id);
    admit_token_new(secret); /* a reissue's new access token, a check-in's scan nonce */
    bool checkin = action->kind == ADMIT_ADMIN_CHECKIN;
    const char *params[8] = {admin,
                             slug,
                             reg,
                             admit_admin_action_name(action->kind),
                             action->key,
                             checkin ? list : NULL,
                             action->force ? "t" : "f",
                             secret};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ADMIN_ACT, 8, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "key_reused") == 0) {
        rc = ADMIT_ERR_CONFLICT;
    } else {
        out->outcome = parse(outcome, action->kind == ADMIT_ADMIN_CANCEL);
        out->promoted_id = PQgetisnull(res, 0, 1) ? 0 : atoi(PQgetvalue(res, 0, 1));
        out->replayed = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    }
    PQclear(res);
    return rc;
}
