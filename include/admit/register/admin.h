/* Organisers' accounts: argon2id passwords, login with throttling, and browser sessions.
 *
 * Passwords are hashed with libsodium's crypto_pwhash_str (argon2id) at ADMIT_ADMIN_PWHASH_OPS
 * passes over ADMIT_ADMIN_PWHASH_MEM bytes (OWASP's recommended minimum for argon2id: 2 passes,
 * 19 MiB, so that a login costs a server thread tens of milliseconds and bounded memory); the
 * parameters are stored in the hash, so raising them later only affects new hashes.
 *
 * A login starts with one round trip, admit_admin_login_begin: how long this account and this
 * address must still wait after recent failures and, when there is no wait, the attempt counted
 * as a failure there and then, under the lock of both counters, before the password is checked
 * (so guesses sent at once are counted one after the other, exactly as sequential ones), with
 * the admin's hash. A wrong password needs nothing more; the right one a second round trip,
 * admit_admin_login_succeeded, which takes the count back and opens the session. An unknown
 * email is checked against a dummy hash with the same parameters, so the answer takes as long
 * and says the same thing whether or not the account exists. The rules (free attempts, the
 * delay that doubles, its cap: a minute per account, ten per address) are in
 * sql/migrations/003_admin.sql; counting before checking in 007_issue14.sql.
 *
 * Sessions: a fresh 128-bit id (admit/token.h) at each login, in a cookie; the database keeps
 * only its SHA-256, with an idle timeout and an absolute lifetime; logging out deletes it. */
#ifndef ADMIT_ADMIN_H
#define ADMIT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"
#include "admit/core/token.h"

#define ADMIT_ADMIN_PWHASH_OPS 2
#define ADMIT_ADMIN_PWHASH_MEM (19u << 20)
/* Bytes of a stored hash with its terminator (crypto_pwhash_STRBYTES). */
#define ADMIT_ADMIN_HASH_SIZE 128
/* Password length bounds, in bytes. */
#define ADMIT_ADMIN_PASSWORD_MIN 12
#define ADMIT_ADMIN_PASSWORD_MAX 1024
#define ADMIT_ADMIN_EMAIL_MAX    254

/* Why password is not acceptable for an admin ("Use at least 12 characters"), or NULL. */
const char *admit_admin_password_problem(const char *password);

/* Hashes password (NUL-terminated) into out. ADMIT_ERR_CRYPTO when libsodium fails (out of
 * memory for argon2). */
enum admit_rc admit_admin_password_hash(const char *password,
                                        char out[ADMIT_ADMIN_HASH_SIZE]) ADMIT_MUST_CHECK;

/* Whether password matches hash. hash NULL (no such admin) checks against a dummy hash of the
 * same cost and returns false, so that both cases take as long. */
bool admit_admin_password_verify(const char *hash, const char *password);

/* The admin a request acts for. */
struct admit_admin {
    int id;
    char email[ADMIT_ADMIN_EMAIL_MAX + 1];
    bool all_events; /* false: only the events of admin_events */
};

enum admit_login_outcome {
    ADMIT_LOGIN_OK,        /* session_id holds the new session's id */
    ADMIT_LOGIN_FAILED,    /* wrong email or password (never says which) */
    ADMIT_LOGIN_THROTTLED, /* too many recent failures: retry_after seconds to wait */
};

struct admit_login_result {
    enum admit_login_outcome outcome;
    int retry_after;
    char session_id[ADMIT_TOKEN_SIZE];
};

/* Checks email and password for a login from address client (any text, e.g. "127.0.0.1").
 * old_session_id (may be NULL) is the session the browser came with: ended on success. The
 * caller wipes password; *out is wiped before it is filled. ADMIT_ERR_INVALID when email is
 * empty or longer than ADMIT_ADMIN_EMAIL_MAX or client is empty; database errors as
 * admit_db_query. */
enum admit_rc admit_admin_login(struct admit_db *db, const char *email, const char *password,
                                const char *client, const char *old_session_id,
                                struct admit_login_result *out) ADMIT_MUST_CHECK;

/* The admin behind session_id when the session is alive (its last-seen time is refreshed):
 * ADMIT_OK with *out filled; ADMIT_ERR_NOT_FOUND for a missing, malformed, expired or ended
 * session; database errors as admit_db_query. */
enum admit_rc admit_admin_session(struct admit_db *db, const char *session_id,
                                  struct admit_admin *out) ADMIT_MUST_CHECK;

/* Ends session_id on the server (a no-op for an unknown or malformed id). */
enum admit_rc admit_admin_logout(struct admit_db *db, const char *session_id) ADMIT_MUST_CHECK;

/* Writes the stored form of a session id, the hex bytea literal of its SHA-256
 * ("\x" and 64 hex digits), into out. */
#define ADMIT_ADMIN_SESSION_HASH_SIZE ADMIT_TOKEN_HASH_SIZE
void admit_admin_session_hash(const char *session_id, char out[ADMIT_ADMIN_SESSION_HASH_SIZE]);

/* Creates an admin (admit admin add) who may see the events of slugs (n of them), or every event
 * when n is 0. password is hashed here. ADMIT_ERR_INVALID (bad email or password, or an
 * unknown slug) and ADMIT_ERR_EXISTS (the email is taken), with one line for a person in err
 * (admit/core/error.h); database errors as admit_db_query. */
enum admit_rc admit_admin_add(struct admit_db *db, const char *email, const char *password,
                              const char *const *slugs, size_t n,
                              struct admit_error *err) ADMIT_MUST_CHECK;

/* Replaces an admin's password and ends their sessions. ADMIT_ERR_NOT_FOUND for an unknown
 * email, ADMIT_ERR_INVALID for a bad password (err says why). */
enum admit_rc admit_admin_set_password(struct admit_db *db, const char *email, const char *password,
                                       struct admit_error *err) ADMIT_MUST_CHECK;

/* Removes an admin with their sessions. ADMIT_ERR_NOT_FOUND for an unknown email. */
enum admit_rc admit_admin_remove(struct admit_db *db, const char *email) ADMIT_MUST_CHECK;

/* One organiser as admit admin list shows them: the events they may see ("*": every event; the
 * slugs separated by spaces) and how many sessions they have open. */
struct admit_admin_entry {
    const char *email, *events;
    long sessions;
};

/* Calls each(ctx, entry) for every organiser, by email; the strings live until each returns.
 * Database errors as admit_db_query, with err holding PostgreSQL's message. */
enum admit_rc admit_admin_list(struct admit_db *db,
                               void (*each)(void *ctx, const struct admit_admin_entry *entry),
                               void *ctx, struct admit_error *err) ADMIT_MUST_CHECK;

#endif
