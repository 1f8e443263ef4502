/* The detail of a failure, for a person: the one shape every public function uses when its
 * enum admit_rc alone does not say enough ("which field, which line, why": STYLE.md, "Errors and
 * cleanup").
 *
 * The rules:
 * - A function that can explain a failure takes `struct admit_error *err` as its last
 *   parameter. The caller owns the struct (on its stack, usually) and may pass NULL when it
 *   does not want the detail.
 * - The function clears *err on entry and fills it only on a failure its contract names; on
 *   ADMIT_OK the message is "". So a caller never reads a stale message.
 * - message is one line for a person, in the words the user sees (tests check them word for
 *   word), without a trailing newline; it is cut at ADMIT_ERROR_MESSAGE_SIZE - 1 bytes (never in
 *   the middle of a UTF-8 character). It never holds a secret (a token, a password).
 * - field names the input at fault when there is one: a form field ("email"), a JSON member, a
 *   command-line option; "" when none. line is the 1-based line of an input file (a CSV file, a
 *   template) at fault, 0 when none. code is a stable name for programs ("invalid_json",
 *   "nonce_reused": the API's error codes), static storage, or NULL when the room has none.
 * - Database failures keep their detail on the handle (admit_db_error): a function copies it
 *   into err only when its contract says so.
 * - Several problems at once (a form with three bad fields) are an array of these
 *   (struct admit_form_errors, admit/register/form.h), not another shape.
 * Why a struct and not a char buffer and its length: the field and the line travel with the
 * message (the forms put the message next to the field; the API sends the code), and the size
 * is in one place. */
#ifndef ADMIT_ERROR_H
#define ADMIT_ERROR_H

#define ADMIT_ERROR_MESSAGE_SIZE 512
#define ADMIT_ERROR_FIELD_SIZE   48

struct admit_error {
    char message[ADMIT_ERROR_MESSAGE_SIZE]; /* one line for a person; "" when nothing to say */
    char field[ADMIT_ERROR_FIELD_SIZE];     /* the input field at fault; "" when none */
    const char *code;                       /* stable code for programs, static; or NULL */
    unsigned long line;                     /* 1-based line of the input at fault; or 0 */
};

/* Empties *err (message and field "", code NULL, line 0). err may be NULL. */
void admit_error_clear(struct admit_error *err);

/* Sets the message of *err from a printf format (field, code and line unchanged), cut as said
 * above. err may be NULL. */
void admit_error_set(struct admit_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets the field of *err (copied; cut at ADMIT_ERROR_FIELD_SIZE - 1 bytes; NULL: ""). err may
 * be NULL. */
void admit_error_set_field(struct admit_error *err, const char *field);

#endif
