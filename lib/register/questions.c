/* The answers to an event's own questions on the registration form: checked here, stored by
 * admit_answers_save in the registration's statement (sql/queries/register.sql). */
#include "admit/register/questions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/formdata.h"
#include "admit/sql.h"

enum admit_rc admit_questions_load(struct admit_db *db, const char *slug, json_t **out)
{
    const char *params[1] = {slug};
    return admit_db_query_json(db, ADMIT_Q_QUESTIONS_FORM, 1, params, out);
}

static const char *qstr(json_t *q, const char *key)
{
    const char *s = json_string_value(json_object_get(q, key));
    return s != NULL ? s : "";
}

static bool is_option(json_t *q, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(q, "options"), i, o)
    {
        if (strcmp(json_string_value(o), value) == 0)
            return true;
    }
    return false;
}

/* A number as people type it: an optional minus, digits, an optional decimal point. */
static bool valid_number(const char *s)
{
    size_t digits = 0, points = 0, len = strlen(s);
    if (len > 20)
        return false;
    for (const char *p = s + (*s == '-'); *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p == '.' && points++ == 0)
            continue;
        else
            return false;
    }
    return digits > 0;
}

/* A date as the date input sends it: YYYY-MM-DD, a day that exists. */
static bool valid_date(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    char end;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) != 3 || y < 1900 || y > 2200 || m < 1 ||
        m > 12 || d < 1 || d > days[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* The several choices of q as sent, checked and joined into out. Returns the message, or NULL. */
static const char *read_multi(json_t *q, struct admit_form_values *v, const char *name,
                              struct admit_buf *out)
{
    const char *values[ADMIT_QUESTION_OPTIONS_MAX + 1];
    char *split = NULL;
    size_t n = 0, i;
    json_t *o;
    if (v->raw != NULL) {
        n = admit_formdata_get_all(v->raw, name, values, ADMIT_QUESTION_OPTIONS_MAX + 1);
    } else {
        /* No form (admit import): one value, the choices joined as the export joins them. */
        const char *joined = admit_form_values_get(v, name);
        split = strdup(joined != NULL ? joined : "");
        if (split == NULL)
            abort();
        for (char *p = split; *p != '\0' && n <= ADMIT_QUESTION_OPTIONS_MAX;) {
            char *sep = strstr(p, ADMIT_ANSWER_SEPARATOR);
            if (sep != NULL)
                *sep = '\0';
            values[n++] = p;
            p = sep != NULL ? sep + strlen(ADMIT_ANSWER_SEPARATOR) : p + strlen(p);
        }
    }
    const char *msg = n > ADMIT_QUESTION_OPTIONS_MAX ? "Choose answers from the list" : NULL;
    for (i = 0; i < n && msg == NULL; i++)
        if (!is_option(q, values[i]))
            msg = "Choose answers from the list";
    /* In the order of the options, whatever the order sent. */
    json_array_foreach(json_object_get(q, "options"), i, o)
    {
        for (size_t j = 0; j < n && msg == NULL; j++)
            if (strcmp(values[j], json_string_value(o)) == 0) {
                if ((out->len > 0 && admit_buf_puts(out, ADMIT_ANSWER_SEPARATOR) != ADMIT_OK) ||
                    admit_buf_puts(out, values[j]) != ADMIT_OK)
                    msg = "Choose fewer answers";
                break;
            }
    }
    free(split);
    return msg;
}

/* Checks one answer; the value to store goes to out (empty: none). Returns the message or NULL. */
static const char *check_one(json_t *q, struct admit_form_values *v, const char *name,
                             struct admit_buf *out)
{
    const char *kind = qstr(q, "kind");
    bool required = json_is_true(json_object_get(q, "required"));
    if (strcmp(kind, "multi") == 0) {
        const char *msg = read_multi(q, v, name, out);
        if (msg == NULL && required && out->len == 0)
            msg = "Choose at least one answer";
        return msg;
    }
    const char *value = admit_form_values_get(v, name);
    if (value == NULL || value[0] == '\0') {
        if (!required)
            return NULL;
        if (strcmp(kind, "consent") == 0)
            return "Tick this box to register: the organiser requires this agreement";
        if (!strcmp(kind, "radio") || !strcmp(kind, "select") || !strcmp(kind, "yes_no"))
            return "Choose an answer";
        return "Answer this question";
    }
    const char *msg = NULL;
    if (strcmp(kind, "short_text") == 0)
        msg = admit_form_valid_line(value, ADMIT_ANSWER_LINE_MAX);
    else if (strcmp(kind, "long_text") == 0)
        msg = admit_form_valid_paragraph(value, ADMIT_ANSWER_TEXT_MAX);
    else if (strcmp(kind, "radio") == 0 || strcmp(kind, "select") == 0)
        msg = is_option(q, value) ? NULL : "Choose an answer from the list";
    else if (strcmp(kind, "yes_no") == 0)
        msg = strcmp(value, "yes") == 0 || strcmp(value, "no") == 0 ? NULL : "Choose yes or no";
    else if (strcmp(kind, "number") == 0)
        msg = valid_number(value) ? NULL : "Enter a number, like 42 or 3.5";
    else if (strcmp(kind, "date") == 0)
        msg = valid_date(value) ? NULL : "Enter a date as year-month-day, like 2027-03-14";
    else if (strcmp(kind, "consent") == 0)
        msg = strcmp(value, "yes") == 0 ? NULL : "Tick the box, or leave it empty";
    if (msg == NULL && admit_buf_puts(out, value) != ADMIT_OK)
        msg = "This answer is too long";
    return msg;
}

size_t admit_questions_check(json_t *questions, struct admit_form_values *v,
                             struct admit_form_errors *errs, char **answers)
{
    size_t before = errs->count, i;
    json_t *q, *stored = json_object();
    struct admit_buf value;
    admit_buf_init(&value, 64u << 10);
    *answers = NULL;
    json_array_foreach(questions, i, q)
    {
        char name[24], key[16];
        long long id = json_integer_value(json_object_get(q, "id"));
        snprintf(name, sizeof name, "q%lld", id);
        snprintf(key, sizeof key, "%lld", id);
        value.len = 0;
        const char *msg = check_one(q, v, name, &value);
        if (msg != NULL)
            admit_form_add_error(errs, name, msg);
        else if (value.len > 0)
            json_object_set_new(stored, key, json_string(admit_buf_cstr(&value)));
    }
    if (errs->count == before)
        *answers = json_dumps(stored, JSON_COMPACT);
    json_decref(stored);
    admit_buf_free(&value);
    return errs->count - before;
}

/* The value(s) of q as submitted, for the form shown again: "value" and, for choices, each
 * option with its "selected" flag. */
static void view_values(json_t *item, json_t *q, struct admit_form_values *v, const char *name)
{
    const char *sent[ADMIT_QUESTION_OPTIONS_MAX];
    size_t nsent = 0, i;
    const char *value = v != NULL ? admit_form_values_get(v, name) : NULL;
    if (v != NULL && v->raw != NULL)
        nsent = admit_formdata_get_all(v->raw, name, sent, ADMIT_QUESTION_OPTIONS_MAX);
    json_object_set_new(item, "value", json_string(value != NULL ? value : ""));
    json_object_set_new(item, "checked", json_boolean(value != NULL && !strcmp(value, "yes")));
    json_object_set_new(item, "is_yes", json_boolean(value != NULL && !strcmp(value, "yes")));
    json_object_set_new(item, "is_no", json_boolean(value != NULL && !strcmp(value, "no")));
    json_t *options = json_array(), *o;
    json_array_foreach(json_object_get(q, "options"), i, o)
    {
        bool selected = false;
        for (size_t j = 0; j < nsent; j++)
            selected |= strcmp(sent[j], json_string_value(o)) == 0;
        json_array_append_new(options, json_pack("{s:O, s:b, s:I}", "label", o, "selected",
                                                 selected, "n", (json_int_t)i));
    }
    json_object_set_new(item, "options", options);
}

json_t *admit_questions_form_view(json_t *questions, struct admit_form_values *v,
                                  const struct admit_form_errors *errs)
{
    static const char *kinds[] = {"short_text", "long_text", "radio", "select", "multi",
                                  "yes_no",     "number",    "date",  "consent"};
    json_t *out = json_array(), *q;
    size_t i;
    json_array_foreach(questions, i, q)
    {
        char name[24], flag[24];
        snprintf(name, sizeof name, "q%lld",
                 (long long)json_integer_value(json_object_get(q, "id")));
        json_t *item = json_deep_copy(q);
        json_object_set_new(item, "name", json_string(name));
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            snprintf(flag, sizeof flag, "is_%s", kinds[k]);
            json_object_set_new(item, flag, json_boolean(!strcmp(qstr(q, "kind"), kinds[k])));
        }
        view_values(item, q, v, name);
        for (size_t e = 0; errs != NULL && e < errs->count; e++)
            if (strcmp(errs->items[e].field, name) == 0)
                json_object_set_new(item, "error", json_string(errs->items[e].message));
        json_array_append_new(out, item);
    }
    return out;
}

enum admit_rc admit_consent_withdraw(struct admit_db *db, const char *token, int question_id,
                                     bool *done)
{
    char id[16];
    PGresult *res = NULL;
    snprintf(id, sizeof id, "%d", question_id);
    const char *params[2] = {token, id};
    *done = false;
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_CONSENT_WITHDRAW, 2, params, &res);
    if (rc == ADMIT_OK)
        *done = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}
