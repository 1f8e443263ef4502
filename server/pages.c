#include "pages.h"

#include <string.h>

json_t *pages_parse(const char *text)
{
    json_error_t error;
    return json_loads(text, JSON_REJECT_DUPLICATES, &error);
}

json_t *pages_decorate_event(json_t *event)
{
    const char *state = json_string_value(json_object_get(event, "state"));
    json_int_t free_seats = json_integer_value(json_object_get(event, "free_seats"));
    state = state != NULL ? state : "closed";
    json_object_set_new(event, "is_open", json_boolean(strcmp(state, "open") == 0));
    json_object_set_new(event, "is_not_open", json_boolean(strcmp(state, "not_open") == 0));
    json_object_set_new(event, "is_closed", json_boolean(strcmp(state, "closed") == 0));
    json_object_set_new(event, "full", json_boolean(free_seats <= 0));
    return event;
}

bool pages_query_params(struct http_request *req, enum admit_query q, int n,
                        const char *const *params, json_t **out)
{
    PGresult *res = NULL;
    *out = NULL;
    enum admit_rc rc = admit_db_query(http_db(req), q, n, params, &res);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return false;
    }
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        *out = pages_parse(PQgetvalue(res, 0, 0));
        if (*out == NULL) {
            PQclear(res);
            http_log_note(req, "bad-json");
            http_respond_error(req, 500, "Internal error", "This page could not be shown.");
            return false;
        }
    }
    PQclear(res);
    return true;
}

bool pages_query_json(struct http_request *req, enum admit_query q, const char *param, json_t **out)
{
    const char *params[1] = {param};
    return pages_query_params(req, q, param != NULL ? 1 : 0, params, out);
}
