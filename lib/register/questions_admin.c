/* The organisers' side of an event's questions: reading their form (with the limits of
 * admit/register/questions.h), and adding, changing, removing and moving questions, each one
 * round trip (admit_question_save, admit_question_act in sql/migrations/017_questions.sql). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/text.h"
#include "admit/register/questions.h"
#include "admit/sql.h"

static const char *const kinds[] = {"short_text", "long_text", "radio", "select", "multi",
                                    "yes_no",     "number",    "date",  "consent"};

static bool has_options(const char *kind)
{
    return !strcmp(kind, "radio") || !strcmp(kind, "select") || !strcmp(kind, "multi");
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* Appends one option to the text[] literal in out, quoted (backslash before " and \\). */
static enum admit_rc put_option(struct admit_buf *out, const char *start, size_t len)
{
    enum admit_rc rc = admit_buf_putc(out, out->len > 0 ? ',' : '{');
    if (rc == ADMIT_OK)
        rc = admit_buf_putc(out, '"');
    for (size_t i = 0; rc == ADMIT_OK && i < len; i++) {
        if (start[i] == '"' || start[i] == '\\')
            rc = admit_buf_putc(out, '\\');
        if (rc == ADMIT_OK)
            rc = admit_buf_putc(out, start[i]);
    }
    return rc == ADMIT_OK ? admit_buf_putc(out, '"') : rc;
}

/* One option per line of text: each checked; the literal (or NULL) in *literal. */
static const char *read_options(const char *text, char **literal)
{
    struct admit_buf out;
    char seen[ADMIT_QUESTION_OPTIONS_MAX][ADMIT_QUESTION_OPTION_MAX * 4 + 1];
    size_t n = 0;
    const char *msg = NULL;
    admit_buf_init(&out, 64u << 10);
    for (const char *line = text; *line != '\0' && msg == NULL;) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char *option = strndup(line, len);
        char *trimmed = admit_form_normalise(option);
        free(option);
        if (trimmed[0] == '\0') {
            /* a blank line: skipped */
        } else if (n == ADMIT_QUESTION_OPTIONS_MAX) {
            msg = "Give at most 50 options";
        } else if (admit_form_valid_line(trimmed, ADMIT_QUESTION_OPTION_MAX) != NULL ||
                   strchr(trimmed, '|') != NULL || strlen(trimmed) >= sizeof seen[0]) {
            msg = "Each option is one line of at most 200 characters, without the character |";
        } else {
            for (size_t i = 0; i < n && msg == NULL; i++)
                if (strcmp(seen[i], trimmed) == 0)
                    msg = "Give each option once";
            if (msg == NULL) {
                snprintf(seen[n++], sizeof seen[0], "%s", trimmed);
                if (put_option(&out, trimmed, strlen(trimmed)) != ADMIT_OK)
                    msg = "The options are too long";
            }
        }
        free(trimmed);
        line = end != NULL ? end + 1 : line + len;
    }
    if (msg == NULL && n < 2)
        msg = "Give at least two options, one per line";
    if (msg == NULL && admit_buf_putc(&out, '}') == ADMIT_OK)
        *literal = admit_buf_steal(&out, NULL);
    admit_buf_free(&out);
    return msg;
}

size_t admit_question_read(struct admit_form_values *v, struct admit_question *out,
                           struct admit_form_errors *errs)
{
    static const struct admit_form_field fields[] = {
        {"label", "Question", "Write the question", ADMIT_QUESTION_LABEL_MAX,
         admit_form_valid_line},
        {"help", "Help text", NULL, ADMIT_QUESTION_HELP_MAX, admit_form_valid_paragraph},
    };
    size_t before = errs->count;
    bool known = false;
    memset(out, 0, sizeof *out);
    out->kind = or_empty(admit_form_values_get(v, "kind"));
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        known |= strcmp(out->kind, kinds[i]) == 0;
    if (!known)
        admit_form_add_error(errs, "kind", "Choose the kind of answer from the list");
    admit_form_validate(fields, 2, admit_form_values_get, v, errs);
    out->label = or_empty(admit_form_values_get(v, "label"));
    out->help = or_empty(admit_form_values_get(v, "help"));
    out->options_text = or_empty(admit_form_values_get(v, "options"));
    out->required = strcmp(or_empty(admit_form_values_get(v, "required")), "yes") == 0;
    out->at_door = strcmp(or_empty(admit_form_values_get(v, "at_door")), "yes") == 0;
    if (known && has_options(out->kind)) {
        const char *msg = read_options(out->options_text, &out->options);
        if (msg != NULL)
            admit_form_add_error(errs, "options", msg);
    } else {
        out->options = strdup("{}");
    }
    return errs->count - before;
}

void admit_question_free(struct admit_question *q)
{
    free(q->options);
    q->options = NULL;
}

enum admit_rc admit_question_page(struct admit_db *db, int admin_id, const char *slug, json_t **out)
{
    char admin[16];
    snprintf(admin, sizeof admin, "%d", admin_id);
    const char *params[2] = {admin, slug};
    return admit_db_query_json(db, ADMIT_Q_QUESTION_PAGE, 2, params, out);
}

enum admit_rc admit_question_save(struct admit_db *db, int admin_id, const char *slug, int id,
                                  const struct admit_question *q,
                                  enum admit_question_outcome *outcome)
{
    char admin[16], qid[16];
    PGresult *res = NULL;
    snprintf(admin, sizeof admin, "%d", admin_id);
    snprintf(qid, sizeof qid, "%d", id);
    const char *params[9] = {admin,
                             slug,
                             id > 0 ? qid : NULL,
                             q->kind,
                             q->label,
                             q->help,
                             q->required ? "true" : "false",
                             q->options != NULL ? q->options : "{}",
                             q->at_door ? "true" : "false"};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_QUESTION_SAVE, 9, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    const char *o = PQgetvalue(res, 0, 0);
    *outcome = !strcmp(o, "saved")           ? ADMIT_QUESTION_SAVED
               : !strcmp(o, "too_many")      ? ADMIT_QUESTION_TOO_MANY
               : !strcmp(o, "too_many_door") ? ADMIT_QUESTION_TOO_MANY_DOOR
                                             : ADMIT_QUESTION_NOT_FOUND;
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_question_act(struct admit_db *db, int admin_id, const char *slug, int id,
                                 const char *action, bool *done)
{
    char admin[16], qid[16];
    PGresult *res = NULL;
    snprintf(admin, sizeof admin, "%d", admin_id);
    snprintf(qid, sizeof qid, "%d", id);
    const char *params[4] = {admin, slug, qid, action};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_QUESTION_ACT, 4, params, &res);
    if (rc == ADMIT_OK)
        *done = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}
