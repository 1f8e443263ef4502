#include "admit/register/admin.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/core/buf.h"
#include "admit/register/form.h"

#if ADMIT_ADMIN_HASH_SIZE != crypto_pwhash_STRBYTES
#error "ADMIT_ADMIN_HASH_SIZE must be crypto_pwhash_STRBYTES"
#endif

const char *admit_admin_password_problem(const char *password)
{
    size_t n = strlen(password);
    if (n < ADMIT_ADMIN_PASSWORD_MIN)
        return "Use at least 12 characters (a few words make a good password)";
    if (n > ADMIT_ADMIN_PASSWORD_MAX)
        return "Use at most 1024 characters";
    if (admit_form_text_chars(password, 0) < 0)
        return "Use ordinary text on one line (no control characters)";
    return NULL;
}

enum admit_rc admit_admin_password_hash(const char *password, char out[ADMIT_ADMIN_HASH_SIZE])
{
    if (crypto_pwhash_str_alg(out, password, strlen(password), ADMIT_ADMIN_PWHASH_OPS,
                              ADMIT_ADMIN_PWHASH_MEM, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ADMIT_ERR_CRYPTO;
    return ADMIT_OK;
}

/* The hash an unknown account is checked against: a random password nobody knows, with the
 * same parameters as real hashes, made once per process. */
static char dummy_hash[ADMIT_ADMIN_HASH_SIZE];
static bool dummy_ok;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    char password[ADMIT_TOKEN_SIZE];
    admit_token_new(password);
    dummy_ok = admit_admin_password_hash(password, dummy_hash) == ADMIT_OK;
    sodium_memzero(password, sizeof password);
}

bool admit_admin_password_verify(const char *hash, const char *password)
{
    size_t n = strlen(password);
    if (hash == NULL) {
        pthread_once(&dummy_once, make_dummy);
        /* The work is the point; the answer is no whatever it says. */
        volatile int ignored = dummy_ok ? crypto_pwhash_str_verify(dummy_hash, password, n) : -1;
        (void)ignored;
        return false;
    }
    return crypto_pwhash_str_verify(hash, password, n) == 0;
}

void admit_admin_session_hash(const char *session_id, char out[ADMIT_ADMIN_SESSION_HASH_SIZE])
{
    admit_token_hash(session_id, out);
}

static bool email_ok(const char *email)
{
    size_t n = strlen(email);
    return n > 0 && n <= ADMIT_ADMIN_EMAIL_MAX;
}

/* Bytes of a timestamptz as PostgreSQL writes it, with its terminator. */
#define TIMESTAMP_TEXT_SIZE 64

enum admit_rc admit_admin_login(struct admit_db *db, const char *email, const char *password,
                                const char *client, const char *old_session_id,
                                struct admit_login_result *out)
{
    PGresult *res = NULL;
    char new_hash[ADMIT_ADMIN_SESSION_HASH_SIZE], old_hash[ADMIT_ADMIN_SESSION_HASH_SIZE];
    char admin_id[16] = "", attempt_at[TIMESTAMP_TEXT_SIZE], ip_failure_before[TIMESTAMP_TEXT_SIZE];
    sodium_memzero(out, sizeof *out);
    out->outcome = ADMIT_LOGIN_FAILED;
    if (!email_ok(email) || client == NULL || client[0] == '\0')
        return ADMIT_ERR_INVALID;

    /* The wait checked and, when there is none, this attempt counted as a failure in the same
     * statement, before the password is: parallel guesses queue there, not here. */
    const char *begin[2] = {email, client};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ADMIN_LOGIN_BEGIN, 2, begin, &res);
    if (rc != ADMIT_OK)
        return rc;
    int retry_after = atoi(PQgetvalue(res, 0, 0));
    if (retry_after > 0) {
        /* Not even checked: a throttled guess must cost the attacker a wait, not us a hash. */
        out->outcome = ADMIT_LOGIN_THROTTLED;
        out->retry_after = retry_after;
        PQclear(res);
        return ADMIT_OK;
    }
    bool known = !PQgetisnull(res, 0, 1);
    if (known)
        snprintf(admin_id, sizeof admin_id, "%s", PQgetvalue(res, 0, 1));
    snprintf(attempt_at, sizeof attempt_at, "%s", PQgetvalue(res, 0, 3));
    bool had_failure = !PQgetisnull(res, 0, 4);
    snprintf(ip_failure_before, sizeof ip_failure_before, "%s", PQgetvalue(res, 0, 4));
    bool ok = admit_admin_password_verify(known ? PQgetvalue(res, 0, 2) : NULL, password);
    PQclear(res);
    res = NULL;
    if (!ok)
        return ADMIT_OK; /* counted already */

    admit_token_new(out->session_id);
    admit_admin_session_hash(out->session_id, new_hash);
    bool had_old = old_session_id != NULL && admit_token_valid(old_session_id);
    if (had_old)
        admit_admin_session_hash(old_session_id, old_hash);
    const char *succeeded[7] = {email,
                                client,
                                admin_id,
                                new_hash,
                                had_old ? old_hash : NULL,
                                attempt_at,
                                had_failure ? ip_failure_before : NULL};
    rc = admit_db_query(db, ADMIT_Q_ADMIN_LOGIN_SUCCEEDED, 7, succeeded, &res);
    PQclear(res);
    if (rc != ADMIT_OK) {
        sodium_memzero(out, sizeof *out);
        out->outcome = ADMIT_LOGIN_FAILED;
        return rc;
    }
    out->outcome = ADMIT_LOGIN_OK;
    return ADMIT_OK;
}

enum admit_rc admit_admin_session(struct admit_db *db, const char *session_id,
                                  struct admit_admin *out)
{
    char hash[ADMIT_ADMIN_SESSION_HASH_SIZE];
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    if (session_id == NULL || !admit_token_valid(session_id))
        return ADMIT_ERR_NOT_FOUND;
    admit_admin_session_hash(session_id, hash);
    const char *params[1] = {hash};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ADMIN_SESSION, 1, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return ADMIT_ERR_NOT_FOUND;
    }
    out->id = atoi(PQgetvalue(res, 0, 0));
    snprintf(out->email, sizeof out->email, "%s", PQgetvalue(res, 0, 1));
    out->all_events = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_admin_logout(struct admit_db *db, const char *session_id)
{
    char hash[ADMIT_ADMIN_SESSION_HASH_SIZE];
    PGresult *res = NULL;
    if (session_id == NULL || !admit_token_valid(session_id))
        return ADMIT_OK;
    admit_admin_session_hash(session_id, hash);
    const char *params[1] = {hash};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ADMIN_LOGOUT, 1, params, &res);
    PQclear(res);
    return rc;
}

static enum admit_rc check_account(const char *email, const char *password, struct admit_error *err)
{
    const char *problem = admit_form_valid_email(email, ADMIT_ADMIN_EMAIL_MAX);
    if (problem != NULL) {
        admit_error_set(err, "--email \"%s\": %s", email, problem);
        return ADMIT_ERR_INVALID;
    }
    problem = admit_admin_password_problem(password);
    if (problem != NULL) {
        admit_error_set(err, "password: %s", problem);
        return ADMIT_ERR_INVALID;
    }
    return ADMIT_OK;
}

enum admit_rc admit_admin_add(struct admit_db *db, const char *email, const char *password,
                              const char *const *slugs, size_t n, struct admit_error *err)
{
    char hash[ADMIT_ADMIN_HASH_SIZE];
    struct admit_buf array;
    PGresult *res = NULL;
    admit_buf_init(&array, 1u << 20);
    admit_error_clear(err);
    enum admit_rc rc = check_account(email, password, err);
    if (rc != ADMIT_OK)
        goto done;
    rc = admit_db_array_literal(&array, slugs, n);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "too many --event slugs");
        goto done;
    }
    rc = admit_admin_password_hash(password, hash);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "cannot hash the password (out of memory?)");
        goto done;
    }
    const char *params[3] = {email, hash, admit_buf_cstr(&array)};
    rc = admit_db_query(db, ADMIT_Q_ADMIN_ADD, 3, params, &res);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "%s", admit_db_error(db));
        goto done;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "exists") == 0) {
        admit_error_set(err,
                        "an admin with email %s already exists (admit admin password "
                        "changes a password)",
                        email);
        rc = ADMIT_ERR_EXISTS;
    } else if (strcmp(outcome, "unknown_event") == 0) {
        admit_error_set(err, "--event %s: no event has this slug", PQgetvalue(res, 0, 1));
        rc = ADMIT_ERR_INVALID;
    }
done:
    sodium_memzero(hash, sizeof hash);
    PQclear(res);
    admit_buf_free(&array);
    return rc;
}

enum admit_rc admit_admin_set_password(struct admit_db *db, const char *email, const char *password,
                                       struct admit_error *err)
{
    char hash[ADMIT_ADMIN_HASH_SIZE];
    PGresult *res = NULL;
    admit_error_clear(err);
    enum admit_rc rc = check_account(email, password, err);
    if (rc != ADMIT_OK)
        return rc;
    rc = admit_admin_password_hash(password, hash);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "cannot hash the password (out of memory?)");
        return rc;
    }
    const char *params[2] = {email, hash};
    rc = admit_db_query(db, ADMIT_Q_ADMIN_PASSWORD, 2, params, &res);
    sodium_memzero(hash, sizeof hash);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "%s", admit_db_error(db));
        return rc;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        admit_error_set(err, "no admin has the email %s", email);
        rc = ADMIT_ERR_NOT_FOUND;
    }
    PQclear(res);
    return rc;
}

enum admit_rc admit_admin_remove(struct admit_db *db, const char *email)
{
    PGresult *res = NULL;
    const char *params[1] = {email};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ADMIN_REMOVE, 1, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    rc = PQntuples(res) > 0 ? ADMIT_OK : ADMIT_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}

enum admit_rc admit_admin_list(struct admit_db *db,
                               void (*each)(void *ctx, const struct admit_admin_entry *entry),
                               void *ctx, struct admit_error *err)
{
    PGresult *res = NULL;
    admit_error_clear(err);
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ADMIN_LIST, 0, NULL, &res);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "%s", admit_db_error(db));
        return rc;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        struct admit_admin_entry e = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                                      atol(PQgetvalue(res, i, 2))};
        each(ctx, &e);
    }
    PQclear(res);
    return ADMIT_OK;
}
