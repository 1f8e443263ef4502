#include "admit/register/admin_organisers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/core/buf.h"
#include "admit/core/text.h"
#include "admit/register/form.h"

/* An admin id as a query parameter. */
static const char *id_param(int id, char buf[16])
{
    snprintf(buf, 16, "%d", id);
    return buf;
}

enum admit_rc admit_admin_organisers(struct admit_db *db, int actor, json_t **out)
{
    char id[16];
    const char *params[1] = {id_param(actor, id)};
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_ADMIN_ORGANISERS, 1, params, out);
    return rc == ADMIT_ERR_NOT_FOUND ? ADMIT_ERR_PERMISSION : rc;
}

/* A password nobody knows, hashed: the account exists but only its link lets anyone in. */
static enum admit_rc unknown_password_hash(char hash[ADMIT_ADMIN_HASH_SIZE])
{
    char password[2 * ADMIT_TOKEN_SIZE];
    admit_token_new(password);
    admit_token_new(password + ADMIT_TOKEN_LEN);
    enum admit_rc rc = admit_admin_password_hash(password, hash);
    sodium_memzero(password, sizeof password);
    return rc;
}

/* Reads the answer of admin_invite into rc and err. */
static enum admit_rc invite_outcome(const PGresult *res, const char *email, int *admin_id,
                                    struct admit_error *err)
{
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "added") == 0) {
        *admin_id = atoi(PQgetvalue(res, 0, 2));
        return ADMIT_OK;
    }
    if (strcmp(outcome, "exists") == 0) {
        admit_error_set_field(err, "email");
        admit_error_set(err, "An organiser with the email address %s exists already", email);
        return ADMIT_ERR_EXISTS;
    }
    if (strcmp(outcome, "unknown_event") == 0) {
        admit_error_set_field(err, "events");
        admit_error_set(err, "No event has the address name \"%s\" (any more): reload the page",
                        PQgetvalue(res, 0, 1));
        return ADMIT_ERR_INVALID;
    }
    admit_error_set(err, "Only an organiser of every event manages organisers");
    return ADMIT_ERR_PERMISSION;
}

/* Why name and email cannot be an organiser's, into err; ADMIT_OK when they can. */
static enum admit_rc check_person(const char *name, const char *email, struct admit_error *err)
{
    enum admit_text_verdict verdict = admit_text_check(name, 0, ADMIT_ADMIN_NAME_MAX, NULL);
    const char *problem = NULL;
    const char *field = "name";
    if (verdict != ADMIT_TEXT_OK)
        problem = verdict == ADMIT_TEXT_TOO_LONG ? "Use at most 100 characters"
                                                 : admit_text_message(verdict, 0);
    else if (!admit_text_visible(name))
        problem = "Enter their name";
    else {
        field = "email";
        problem = admit_form_valid_email(email, ADMIT_ADMIN_EMAIL_MAX);
    }
    if (problem == NULL)
        return ADMIT_OK;
    admit_error_set_field(err, field);
    admit_error_set(err, "%s", problem);
    return ADMIT_ERR_INVALID;
}

enum admit_rc admit_admin_invite(struct admit_db *db, int actor, const char *name,
                                 const char *email, const char *const *slugs, size_t n,
                                 char token[ADMIT_TOKEN_SIZE], int *admin_id,
                                 struct admit_error *err)
{
    char hash[ADMIT_ADMIN_HASH_SIZE], link_hash[ADMIT_TOKEN_HASH_SIZE], id[16];
    struct admit_buf array;
    PGresult *res = NULL;
    admit_buf_init(&array, 1u << 20);
    admit_error_clear(err);
    *admin_id = 0;
    admit_token_new(token);
    enum admit_rc rc = check_person(name, email, err);
    if (rc != ADMIT_OK)
        goto done;
    rc = admit_db_array_literal(&array, slugs, n);
    if (rc == ADMIT_OK)
        rc = unknown_password_hash(hash);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "Cannot add the organiser now: try again");
        goto done;
    }
    admit_token_hash(token, link_hash);
    const char *params[6] = {id_param(actor, id),    name,     email, hash,
                             admit_buf_cstr(&array), link_hash};
    rc = admit_db_query(db, ADMIT_Q_ADMIN_INVITE, 6, params, &res);
    if (rc == ADMIT_OK)
        rc = invite_outcome(res, email, admin_id, err);
done:
    if (rc != ADMIT_OK)
        sodium_memzero(token, ADMIT_TOKEN_SIZE);
    sodium_memzero(hash, sizeof hash);
    PQclear(res);
    admit_buf_free(&array);
    return rc;
}

enum admit_rc admit_admin_link_create(struct admit_db *db, int actor, int admin_id,
                                      char token[ADMIT_TOKEN_SIZE],
                                      char email[ADMIT_ADMIN_EMAIL_MAX + 1])
{
    char link_hash[ADMIT_TOKEN_HASH_SIZE], actor_id[16], id[16];
    PGresult *res = NULL;
    email[0] = '\0';
    admit_token_new(token);
    admit_token_hash(token, link_hash);
    const char *params[3] = {id_param(actor, actor_id), id_param(admin_id, id), link_hash};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ADMIN_LINK_CREATE, 3, params, &res);
    if (rc == ADMIT_OK) {
        const char *outcome = PQgetvalue(res, 0, 0);
        if (strcmp(outcome, "created") == 0)
            snprintf(email, ADMIT_ADMIN_EMAIL_MAX + 1, "%s", PQgetvalue(res, 0, 1));
        else
            rc = strcmp(outcome, "forbidden") == 0 ? ADMIT_ERR_PERMISSION : ADMIT_ERR_NOT_FOUND;
    }
    if (rc != ADMIT_OK)
        sodium_memzero(token, ADMIT_TOKEN_SIZE);
    PQclear(res);
    return rc;
}

static enum admit_admin_link_state state_of(const char *text)
{
    if (strcmp(text, "ok") == 0)
        return ADMIT_ADMIN_LINK_OK;
    if (strcmp(text, "used") == 0)
        return ADMIT_ADMIN_LINK_USED;
    if (strcmp(text, "expired") == 0)
        return ADMIT_ADMIN_LINK_EXPIRED;
    return ADMIT_ADMIN_LINK_UNKNOWN;
}

/* Runs q (link_status or link_use) for token with the second parameter hash (NULL for
 * link_status); the state and email into the caller's. */
static enum admit_rc link_query(struct admit_db *db, enum admit_query q, const char *token,
                                const char *hash, enum admit_admin_link_state *state,
                                char email[ADMIT_ADMIN_EMAIL_MAX + 1])
{
    char link_hash[ADMIT_TOKEN_HASH_SIZE];
    PGresult *res = NULL;
    *state = ADMIT_ADMIN_LINK_UNKNOWN;
    email[0] = '\0';
    if (token == NULL || !admit_token_valid(token))
        return ADMIT_OK;
    admit_token_hash(token, link_hash);
    const char *params[2] = {link_hash, hash};
    enum admit_rc rc = admit_db_query(db, q, hash == NULL ? 1 : 2, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    *state = state_of(PQgetvalue(res, 0, 0));
    snprintf(email, ADMIT_ADMIN_EMAIL_MAX + 1, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_admin_link_status(struct admit_db *db, const char *token,
                                      enum admit_admin_link_state *state,
                                      char email[ADMIT_ADMIN_EMAIL_MAX + 1])
{
    return link_query(db, ADMIT_Q_ADMIN_LINK_STATUS, token, NULL, state, email);
}

enum admit_rc admit_admin_link_use(struct admit_db *db, const char *token, const char *password,
                                   enum admit_admin_link_state *state,
                                   char email[ADMIT_ADMIN_EMAIL_MAX + 1], struct admit_error *err)
{
    char hash[ADMIT_ADMIN_HASH_SIZE];
    admit_error_clear(err);
    *state = ADMIT_ADMIN_LINK_UNKNOWN;
    email[0] = '\0';
    const char *problem = admit_admin_password_problem(password);
    if (problem != NULL) {
        admit_error_set_field(err, "password");
        admit_error_set(err, "%s", problem);
        return ADMIT_ERR_INVALID;
    }
    enum admit_rc rc = admit_admin_password_hash(password, hash);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "Cannot set the password now: try again");
        return rc;
    }
    rc = link_query(db, ADMIT_Q_ADMIN_LINK_USE, token, hash, state, email);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

enum admit_rc admit_admin_remove_as(struct admit_db *db, int actor, int admin_id,
                                    char email[ADMIT_ADMIN_EMAIL_MAX + 1])
{
    char actor_id[16], id[16];
    PGresult *res = NULL;
    email[0] = '\0';
    const char *params[2] = {id_param(actor, actor_id), id_param(admin_id, id)};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ADMIN_REMOVE_AS, 2, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "removed") == 0)
        snprintf(email, ADMIT_ADMIN_EMAIL_MAX + 1, "%s", PQgetvalue(res, 0, 1));
    else if (strcmp(outcome, "self") == 0)
        rc = ADMIT_ERR_STATE;
    else if (strcmp(outcome, "forbidden") == 0)
        rc = ADMIT_ERR_PERMISSION;
    else
        rc = ADMIT_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}
