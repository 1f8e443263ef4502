#include "admit/register/registration.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/formdata.h"

static const char *valid_organisation_type(const char *value, size_t max_chars);

const struct admit_form_field admit_registration_fields[] = {
    {"given_name", "Given name", "Enter your given name", 100, admit_form_valid_line},
    {"family_name", "Family name", "Enter your family name", 100, admit_form_valid_line},
    {"email", "Email", "Enter your email address", 254, admit_form_valid_email},
    {"organisation", "Organisation", "Enter your organisation (or \"none\")", 200,
     admit_form_valid_line},
    {"organisation_type", "Type of organisation", "Choose the type of your organisation", 32,
     valid_organisation_type},
    {"country", "Country", "Choose the country you come from", 2, admit_form_valid_country},
    {"dietary", "Dietary requirements", NULL, 500, admit_form_valid_paragraph},
    {"accessibility", "Accessibility needs", NULL, 500, admit_form_valid_paragraph},
};
const size_t admit_registration_field_count =
    sizeof admit_registration_fields / sizeof admit_registration_fields[0];

const struct admit_organisation_type admit_organisation_types[] = {
    {"research", "University or research organisation"},
    {"industry", "Industry (company)"},
    {"public_body", "Public body"},
    {"association", "Association or NGO"},
    {"other", "Other"},
};
const size_t admit_organisation_type_count =
    sizeof admit_organisation_types / sizeof admit_organisation_types[0];

static const char *valid_organisation_type(const char *value, size_t max_chars)
{
    (void)max_chars;
    for (size_t i = 0; i < admit_organisation_type_count; i++)
        if (strcmp(value, admit_organisation_types[i].value) == 0)
            return NULL;
    return "Choose a type from the list";
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* A list id: a positive decimal integer that fits an int. */
static int parse_id(const char *text, int *out)
{
    long v = 0;
    if (text[0] == '\0' || strlen(text) > 9)
        return 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    if (v < 1)
        return 0;
    *out = (int)v;
    return 1;
}

size_t admit_registration_lists_check(const char *const *list_values, size_t nlist_values,
                                      struct admit_registration *out,
                                      struct admit_form_errors *errs)
{
    size_t before = errs->count;
    out->nlists = 0;
    for (size_t i = 0; i < nlist_values; i++) {
        int id = 0;
        if (!parse_id(list_values[i], &id)) {
            admit_form_add_error(errs, "lists", "Choose days and sessions from the list");
            break;
        }
        int seen = 0;
        for (size_t j = 0; j < out->nlists; j++)
            seen |= out->list_ids[j] == id;
        if (seen)
            continue;
        if (out->nlists == ADMIT_EVENT_MAX_LISTS) {
            admit_form_add_error(errs, "lists", "Choose days and sessions from the list");
            break;
        }
        out->list_ids[out->nlists++] = id;
    }
    return errs->count - before;
}

/* The fields of admit_registration_fields and the lists: what the registration form and the
 * edit form share. */
static void check_details(admit_form_lookup get, void *ctx, const char *const *list_values,
                          size_t nlist_values, struct admit_registration *out,
                          struct admit_form_errors *errs)
{
    memset(out, 0, sizeof *out);
    admit_form_validate(admit_registration_fields, admit_registration_field_count, get, ctx, errs);

    out->given_name = or_empty(get(ctx, "given_name"));
    out->family_name = or_empty(get(ctx, "family_name"));
    out->email = or_empty(get(ctx, "email"));
    out->organisation = or_empty(get(ctx, "organisation"));
    out->organisation_type = or_empty(get(ctx, "organisation_type"));
    out->country = or_empty(get(ctx, "country"));
    out->dietary = or_empty(get(ctx, "dietary"));
    out->accessibility = or_empty(get(ctx, "accessibility"));
    out->form_nonce = or_empty(get(ctx, "form_nonce"));
    out->source = "web";
    admit_registration_lists_check(list_values, nlist_values, out, errs);
}

size_t admit_registration_check(admit_form_lookup get, void *ctx, const char *const *list_values,
                                size_t nlist_values, int require_list,
                                struct admit_registration *out, struct admit_form_errors *errs)
{
    size_t before = errs->count;
    check_details(get, ctx, list_values, nlist_values, out, errs);
    if (require_list && nlist_values == 0)
        admit_form_add_error(errs, "lists", "Choose at least one day or session");

    const char *consent = get(ctx, "consent");
    if (consent == NULL || strcmp(consent, "yes") != 0)
        admit_form_add_error(errs, "consent",
                             "Agree to the privacy notice to register: we cannot admit you "
                             "without storing your name");
    /* The nonce is generated by the form page; anything else means the page is not ours. */
    if (!admit_token_valid(out->form_nonce))
        admit_form_add_error(errs, "form_nonce",
                             "This form has expired: reload the page and submit it again");
    return errs->count - before;
}

/* Reads the submitted lists ("lists", several values) of v; more than ADMIT_EVENT_MAX_LISTS is
 * an error on "lists". Returns how many to check (at most ADMIT_EVENT_MAX_LISTS). */
static size_t read_lists(struct admit_form_values *v, const char **lists,
                         struct admit_form_errors *errs)
{
    size_t nlists = v->raw != NULL
                        ? admit_formdata_get_all(v->raw, "lists", lists, ADMIT_EVENT_MAX_LISTS + 1)
                        : 0;
    if (nlists > ADMIT_EVENT_MAX_LISTS) {
        admit_form_add_error(errs, "lists", "Choose days and sessions from the list");
        nlists = ADMIT_EVENT_MAX_LISTS;
    }
    return nlists;
}

size_t admit_registration_read(struct admit_form_values *v, struct admit_registration *out,
                               struct admit_form_errors *errs)
{
    const char *lists[ADMIT_EVENT_MAX_LISTS + 1] = {NULL};
    struct admit_form_errors list_errs = {.count = 0};
    size_t before = errs->count;
    size_t nlists = read_lists(v, lists, &list_errs);
    admit_registration_check(admit_form_values_get, v, lists, nlists, 0, out, errs);
    for (size_t i = 0; i < list_errs.count; i++)
        admit_form_add_error(errs, list_errs.items[i].field, list_errs.items[i].message);
    return errs->count - before;
}

size_t admit_registration_read_details(struct admit_form_values *v, struct admit_registration *out,
                                       struct admit_form_errors *errs)
{
    const char *lists[ADMIT_EVENT_MAX_LISTS + 1] = {NULL};
    struct admit_form_errors list_errs = {.count = 0};
    size_t before = errs->count;
    size_t nlists = read_lists(v, lists, &list_errs);
    check_details(admit_form_values_get, v, lists, nlists, out, errs);
    for (size_t i = 0; i < list_errs.count; i++)
        admit_form_add_error(errs, list_errs.items[i].field, list_errs.items[i].message);
    return errs->count - before;
}

static enum admit_registration_outcome parse_outcome(const char *s)
{
    static const struct {
        const char *text;
        enum admit_registration_outcome outcome;
    } table[] = {
        {"created", ADMIT_REG_CREATED},
        {"duplicate", ADMIT_REG_DUPLICATE},
        {"email_taken", ADMIT_REG_EMAIL_TAKEN},
        {"not_found", ADMIT_REG_NOT_FOUND},
        {"not_open", ADMIT_REG_NOT_OPEN},
        {"closed", ADMIT_REG_CLOSED},
        {"full", ADMIT_REG_FULL},
        {"bad_list", ADMIT_REG_BAD_LIST},
        {"no_list", ADMIT_REG_NO_LIST},
        {"overlap", ADMIT_REG_BAD_LIST},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(s, table[i].text) == 0)
            return table[i].outcome;
    return ADMIT_REG_NOT_FOUND;
}

static int by_id(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

enum admit_rc admit_registration_submit(struct admit_db *db, const char *slug,
                                        const struct admit_registration *in,
                                        struct admit_registration_result *out)
{
    char token[ADMIT_TOKEN_SIZE];
    struct admit_buf lists;
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    admit_buf_init(&lists, 16 * ADMIT_EVENT_MAX_LISTS);
    char ids[ADMIT_EVENT_MAX_LISTS][16];
    const char *items[ADMIT_EVENT_MAX_LISTS];
    /* In id order: sessions with places (migration 18) take their lists' locks in this order,
     * as a cancellation gives them back, so the two cannot wait for each other in a cycle. */
    int sorted[ADMIT_EVENT_MAX_LISTS];
    size_t nsorted = in->nlists < ADMIT_EVENT_MAX_LISTS ? in->nlists : ADMIT_EVENT_MAX_LISTS;
    memcpy(sorted, in->list_ids, nsorted * sizeof sorted[0]);
    qsort(sorted, nsorted, sizeof sorted[0], by_id);
    for (size_t i = 0; i < nsorted; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", sorted[i]);
        items[i] = ids[i];
    }
    enum admit_rc rc = admit_db_array_literal(
        &lists, items, in->nlists < ADMIT_EVENT_MAX_LISTS ? in->nlists : ADMIT_EVENT_MAX_LISTS);
    if (rc != ADMIT_OK)
        goto done;
    /* A fresh token per attempt; a duplicate submission gets the stored one back instead. */
    admit_token_new(token);
    const char *params[14] = {slug,
                              in->form_nonce,
                              token,
                              in->given_name,
                              in->family_name,
                              in->email,
                              in->organisation,
                              in->organisation_type,
                              in->country,
                              in->dietary,
                              in->accessibility,
                              admit_buf_cstr(&lists),
                              in->source ? in->source : "web",
                              in->answers ? in->answers : "{}"};
    rc = admit_db_query(db, ADMIT_Q_REGISTER, 14, params, &res);
    if (rc != ADMIT_OK)
        goto done;
    out->outcome = parse_outcome(PQgetvalue(res, 0, 0));
    admit_error_clear(&out->error);
    if (out->outcome == ADMIT_REG_BAD_LIST || out->outcome == ADMIT_REG_NO_LIST) {
        admit_error_set_field(&out->error, "lists");
        const char *outcome = PQgetvalue(res, 0, 0);
        admit_error_set(&out->error, "%s",
                        strcmp(outcome, "overlap") == 0
                            ? "Two of the sessions you chose take place at the same time: keep "
                              "only one of them"
                        : out->outcome == ADMIT_REG_BAD_LIST
                            ? "Choose days and sessions from the list"
                            : "Choose at least one day or session");
    }
    if (!PQgetisnull(res, 0, 1)) {
        out->registration_id = atoi(PQgetvalue(res, 0, 1));
        snprintf(out->token, sizeof out->token, "%s", PQgetvalue(res, 0, 2));
        out->waitlisted = strcmp(PQgetvalue(res, 0, 3), "waitlisted") == 0;
    }
done:
    PQclear(res);
    admit_buf_free(&lists);
    return rc;
}

enum admit_rc admit_registration_cancel(struct admit_db *db, const char *token,
                                        struct admit_cancel_result *out)
{
    PGresult *res = NULL;
    const char *params[1] = {token};
    memset(out, 0, sizeof *out);
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_CANCEL, 1, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    const char *outcome = PQgetvalue(res, 0, 0);
    out->outcome = strcmp(outcome, "cancelled") == 0           ? ADMIT_CANCEL_DONE
                   : strcmp(outcome, "already_cancelled") == 0 ? ADMIT_CANCEL_ALREADY
                                                               : ADMIT_CANCEL_NOT_FOUND;
    out->registration_id = PQgetisnull(res, 0, 1) ? 0 : atoi(PQgetvalue(res, 0, 1));
    out->promoted_id = PQgetisnull(res, 0, 2) ? 0 : atoi(PQgetvalue(res, 0, 2));
    PQclear(res);
    return ADMIT_OK;
}
