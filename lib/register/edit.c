#include "admit/register/edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/register/admin_view.h"

/* The who parameters of the edit queries: $1 token, $2 admin id, $3 slug, $4 registration id,
 * each NULL when it does not apply. admin and reg are the caller's buffers. */
static void who_params(const struct admit_edit_who *who, char admin[16], char reg[16],
                       const char *params[4])
{
    snprintf(admin, 16, "%d", who->admin_id);
    snprintf(reg, 16, "%d", who->registration_id);
    params[0] = who->admin_id == 0 ? who->token : NULL;
    params[1] = who->admin_id != 0 ? admin : NULL;
    params[2] = who->admin_id != 0 ? who->slug : NULL;
    params[3] = who->admin_id != 0 ? reg : NULL;
}

enum admit_rc admit_edit_form_load(struct admit_db *db, const struct admit_edit_who *who,
                                   json_t **out)
{
    char admin[16], reg[16];
    const char *params[4];
    *out = NULL;
    if (who->admin_id == 0 && (who->token == NULL || !admit_token_valid(who->token)))
        return ADMIT_ERR_NOT_FOUND;
    who_params(who, admin, reg, params);
    return admit_db_query_json(db, ADMIT_Q_EDIT_FORM, 4, params, out);
}

size_t admit_edit_read(struct admit_form_values *v, struct admit_edit *out,
                       struct admit_form_errors *errs)
{
    size_t before = errs->count;
    admit_registration_read_details(v, &out->details, errs);
    out->version = admit_admin_parse_id(admit_form_values_get(v, "version"));
    if (out->version == 0)
        admit_form_add_error(errs, "version",
                             "This form has expired: reload the page and make your changes again");
    return errs->count - before;
}

static const struct {
    const char *text; /* as admit_registration_edit says it */
    enum admit_edit_outcome outcome;
    const char *field; /* the field a refusal belongs to, or NULL */
    const char *message;
} edit_outcomes[] = {
    {"saved", ADMIT_EDIT_SAVED, NULL, NULL},
    {"unchanged", ADMIT_EDIT_UNCHANGED, NULL, NULL},
    {"stale", ADMIT_EDIT_STALE, NULL, NULL},
    {"closed", ADMIT_EDIT_CLOSED, NULL, NULL},
    {"cancelled", ADMIT_EDIT_CANCELLED, NULL, NULL},
    {"erased", ADMIT_EDIT_ERASED, NULL, NULL},
    {"bad_list", ADMIT_EDIT_BAD_LIST, "lists", "Choose days and sessions from the list"},
    {"no_list", ADMIT_EDIT_NO_LIST, "lists", "Choose at least one day or session"},
    {"overlap", ADMIT_EDIT_BAD_LIST, "lists",
     "Two of the sessions you chose take place at the same time: keep only one of them"},
    {"not_found", ADMIT_EDIT_NOT_FOUND, NULL, NULL},
};

static void read_outcome(const char *text, struct admit_edit_result *out)
{
    out->outcome = ADMIT_EDIT_NOT_FOUND;
    admit_error_clear(&out->error);
    for (size_t i = 0; i < sizeof edit_outcomes / sizeof edit_outcomes[0]; i++) {
        if (strcmp(text, edit_outcomes[i].text) != 0)
            continue;
        out->outcome = edit_outcomes[i].outcome;
        if (edit_outcomes[i].field != NULL) {
            admit_error_set_field(&out->error, edit_outcomes[i].field);
            admit_error_set(&out->error, "%s", edit_outcomes[i].message);
        }
    }
}

enum admit_rc admit_edit_save(struct admit_db *db, const struct admit_edit_who *who,
                              const struct admit_edit *in, struct admit_edit_result *out)
{
    char admin[16], reg[16], version[16], ids[ADMIT_EVENT_MAX_LISTS][16];
    char confirm[ADMIT_TOKEN_SIZE];
    const char *items[ADMIT_EVENT_MAX_LISTS];
    const char *params[15];
    const struct admit_registration *d = &in->details;
    struct admit_buf lists;
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    admit_buf_init(&lists, 16 * ADMIT_EVENT_MAX_LISTS);
    size_t n = d->nlists < ADMIT_EVENT_MAX_LISTS ? d->nlists : ADMIT_EVENT_MAX_LISTS;
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", d->list_ids[i]);
        items[i] = ids[i];
    }
    enum admit_rc rc = admit_db_array_literal(&lists, items, n);
    if (rc != ADMIT_OK)
        goto done;
    if (who->admin_id == 0 && (who->token == NULL || !admit_token_valid(who->token))) {
        out->outcome = ADMIT_EDIT_NOT_FOUND;
        goto done;
    }
    who_params(who, admin, reg, params);
    snprintf(version, sizeof version, "%d", in->version);
    /* Used only when the address changes: the link that confirms the new one. */
    admit_token_new(confirm);
    const char *rest[11] = {version,          d->given_name,          d->family_name, d->email,
                            d->organisation,  d->organisation_type,   d->country,     d->dietary,
                            d->accessibility, admit_buf_cstr(&lists), confirm};
    memcpy(params + 4, rest, sizeof rest);
    rc = admit_db_query(db, ADMIT_Q_EDIT_SAVE, 15, params, &res);
    if (rc != ADMIT_OK)
        goto done;
    read_outcome(PQgetvalue(res, 0, 0), out);
    if (!PQgetisnull(res, 0, 1)) {
        out->registration_id = atoi(PQgetvalue(res, 0, 1));
        snprintf(out->token, sizeof out->token, "%s", PQgetvalue(res, 0, 2));
        out->version = atoi(PQgetvalue(res, 0, 3));
    }
    out->email_pending = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
done:
    PQclear(res);
    admit_buf_free(&lists);
    return rc;
}

static const struct {
    const char *text;
    enum admit_email_confirm_outcome outcome;
    const char *message;
} confirm_outcomes[] = {
    {"confirmed", ADMIT_EMAIL_CONFIRMED, "Your new email address is confirmed."},
    {"used", ADMIT_EMAIL_USED,
     "This link was used already: the address it confirms is in your registration."},
    {"expired", ADMIT_EMAIL_EXPIRED,
     "This link has expired (links work for 48 hours). Change the address again from your "
     "ticket page to get a new one."},
    {"superseded", ADMIT_EMAIL_SUPERSEDED,
     "A newer address was asked for since this link was sent: use the link in the latest "
     "email instead."},
    {"cancelled", ADMIT_EMAIL_CANCELLED,
     "This registration is cancelled, so its address can no longer change."},
    {"email_taken", ADMIT_EMAIL_TAKEN,
     "Another registration for this event uses this address now, so it cannot be yours too. "
     "Change the address again from your ticket page."},
    {"not_found", ADMIT_EMAIL_NOT_FOUND,
     "This confirmation link is not valid. Check that you copied the whole link from the "
     "email."},
};

const char *admit_email_confirm_message(enum admit_email_confirm_outcome outcome)
{
    for (size_t i = 0; i < sizeof confirm_outcomes / sizeof confirm_outcomes[0]; i++)
        if (confirm_outcomes[i].outcome == outcome)
            return confirm_outcomes[i].message;
    return "";
}

enum admit_rc admit_edit_confirm_email(struct admit_db *db, const char *confirm_token,
                                       struct admit_email_confirm_result *out)
{
    PGresult *res = NULL;
    const char *params[1] = {confirm_token};
    memset(out, 0, sizeof *out);
    out->outcome = ADMIT_EMAIL_NOT_FOUND;
    if (confirm_token == NULL || !admit_token_valid(confirm_token))
        return ADMIT_OK;
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_EDIT_CONFIRM_EMAIL, 1, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    const char *text = PQgetvalue(res, 0, 0);
    for (size_t i = 0; i < sizeof confirm_outcomes / sizeof confirm_outcomes[0]; i++)
        if (strcmp(text, confirm_outcomes[i].text) == 0)
            out->outcome = confirm_outcomes[i].outcome;
    if (!PQgetisnull(res, 0, 1))
        snprintf(out->token, sizeof out->token, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return ADMIT_OK;
}
