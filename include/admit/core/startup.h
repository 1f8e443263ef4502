/* What a long-running admit process checks before it starts, each step written once for admitd
 * (server/main.c) and the mailer (cli/mailer.c): the ticket-signing key (and, for admitd, the
 * public keys tickets may be signed with), the public URL, the templates, and a database that is
 * reachable, migrated to exactly this binary's migrations and accepts its statements. Nothing
 * here prints: each function returns an error with one line for a person in err (the program
 * prints it after its name). */
#ifndef ADMIT_STARTUP_H
#define ADMIT_STARTUP_H

#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/keys.h"
#include "admit/core/rc.h"
#include "admit/core/tmpl.h"

/* Loads dir/ticket-signing.key (ADMIT_KEY_SECRET_FILE) into *key. With ring not NULL, also
 * trusts the key itself (admit_keyring_add_own: key must outlive ring) and every dir/NAME.pub
 * file. The caller wipes *key (admit_key_wipe) and frees ring on every path. Errors, with err
 * naming the file: ADMIT_ERR_PERMISSION (the key file is readable by group or others: "chmod 600
 * it"), ADMIT_ERR_IO (errno set: a file or the folder cannot be read; for the key file, err says
 * how to create one), ADMIT_ERR_INVALID (not a key file), ADMIT_ERR_TOO_LARGE (path too long). */
enum admit_rc admit_startup_keys(const char *dir, struct admit_signing_key *key,
                                 struct admit_keyring *ring,
                                 struct admit_error *err) ADMIT_MUST_CHECK;

/* The address people reach admitd at, as --public-url gives it ("https://tickets.example.org/"),
 * checked (http:// or https:// and a host, no spaces, quotes or angle brackets) and without its
 * trailing slashes, into *out: a new string the caller frees. url NULL gives "" (not
 * configured). ADMIT_ERR_INVALID (and *out NULL) when it is not such an address. */
enum admit_rc admit_startup_public_url(const char *url, char **out,
                                       struct admit_error *err) ADMIT_MUST_CHECK;

/* Loads the templates of dir (admit_tmpl_set_load_dir) into *out and checks that each name of
 * required (NULL-terminated; NULL for none) is among them. On error *out is NULL: the errors of
 * admit_tmpl_set_load_dir ("cannot load the templates: ..."), or ADMIT_ERR_NOT_FOUND with err
 * "DIR/NAME is missing" (its field the missing name). */
enum admit_rc admit_startup_templates(const char *dir, const char *const *required,
                                      struct admit_tmpl_set **out,
                                      struct admit_error *err) ADMIT_MUST_CHECK;

/* Connects db and checks that this binary can work with the database: reachable
 * (ADMIT_ERR_DB_UNAVAILABLE, or ADMIT_ERR_DB when it refuses the connection), migrated to
 * exactly the migrations compiled in (ADMIT_ERR_STATE: behind, "run admit migrate"; or ahead,
 * "upgrade PROGRAM"), and accepting every named statement (ADMIT_ERR_DB). program names the
 * binary in the messages ("admitd", "admit"). db stays connected. */
enum admit_rc admit_startup_database(struct admit_db *db, const char *program,
                                     struct admit_error *err) ADMIT_MUST_CHECK;

#endif
