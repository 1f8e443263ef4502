/* An event's own questions (issue 17): the organisers' page to set them up, and the answers on
 * the registration form, checked here with the per-field messages of admit/register/form.h and
 * stored with the registration in its own statement (admit_answers_save,
 * sql/migrations/017_questions.sql). Limits: ADMIT_QUESTIONS_MAX questions,
 * ADMIT_QUESTION_OPTIONS_MAX options each, the text sizes below; two questions at most are shown at
 * the door. README, "Questions and consent". */
#ifndef ADMIT_QUESTIONS_H
#define ADMIT_QUESTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/core/db.h"
#include "admit/core/rc.h"
#include "admit/register/form.h"

#define ADMIT_QUESTIONS_MAX        50
#define ADMIT_QUESTION_OPTIONS_MAX 50
#define ADMIT_QUESTION_LABEL_MAX   500
#define ADMIT_QUESTION_HELP_MAX    1000
#define ADMIT_QUESTION_OPTION_MAX  200
#define ADMIT_ANSWER_LINE_MAX      500
#define ADMIT_ANSWER_TEXT_MAX      2000
/* Several choices are stored and exported as one value, the options joined by this. Option
 * labels may not contain '|'. */
#define ADMIT_ANSWER_SEPARATOR " | "

/* The questions of the registration form of event slug, in order (JSON array, see
 * admit_questions_of in sql/migrations/017_questions.sql). ADMIT_ERR_NOT_FOUND: no such event. */
enum admit_rc admit_questions_load(struct admit_db *db, const char *slug,
                                   json_t **out) ADMIT_MUST_CHECK;

/* Checks the answers of v (fields "q<ID>"; several values for a multiple choice, or, when v
 * has no raw form (admit import), one value with the choices joined by ADMIT_ANSWER_SEPARATOR)
 * against
 * questions and appends one error per bad answer to errs (field "q<ID>"). On no error,
 * *answers is the JSON text to store (admit_registration.answers; the caller frees it), else
 * NULL. Returns the number of errors added. */
size_t admit_questions_check(json_t *questions, struct admit_form_values *v,
                             struct admit_form_errors *errs, char **answers);

/* The questions as the form template shows them: each question with its value(s) as submitted
 * (v may be NULL: an empty form), its error from errs, and a flag per kind (is_short_text, ...).
 * Returns a new reference. */
json_t *admit_questions_form_view(json_t *questions, struct admit_form_values *v,
                                  const struct admit_form_errors *errs);

/* A question as the organisers' form sends it. Strings point into the submitted values. */
struct admit_question {
    const char *kind, *label, *help, *options_text;
    bool required, at_door;
    char *options; /* text[] literal built from options_text (owned; admit_question_free) */
};

/* Reads and checks the organisers' question form; returns the number of errors added. */
size_t admit_question_read(struct admit_form_values *v, struct admit_question *out,
                           struct admit_form_errors *errs);
void admit_question_free(struct admit_question *q);

enum admit_question_outcome {
    ADMIT_QUESTION_SAVED,
    ADMIT_QUESTION_NOT_FOUND,
    ADMIT_QUESTION_TOO_MANY,      /* ADMIT_QUESTIONS_MAX already */
    ADMIT_QUESTION_TOO_MANY_DOOR, /* two at the door already */
};

/* The organisers' questions page ({event, questions, limits}) for admin_id. */
enum admit_rc admit_question_page(struct admit_db *db, int admin_id, const char *slug,
                                  json_t **out) ADMIT_MUST_CHECK;
/* Adds (id 0) or changes question id of event slug, as admin_id. */
enum admit_rc admit_question_save(struct admit_db *db, int admin_id, const char *slug, int id,
                                  const struct admit_question *q,
                                  enum admit_question_outcome *outcome) ADMIT_MUST_CHECK;
/* action "remove" (soft: the answers stay), "up" or "down"; *done false: no such question. */
enum admit_rc admit_question_act(struct admit_db *db, int admin_id, const char *slug, int id,
                                 const char *action, bool *done) ADMIT_MUST_CHECK;

/* Withdraws the optional consent question_id given with the registration of access token
 * token (its time is kept); *done false when there is none to withdraw. */
enum admit_rc admit_consent_withdraw(struct admit_db *db, const char *token, int question_id,
                                     bool *done) ADMIT_MUST_CHECK;

#endif
