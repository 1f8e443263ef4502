#include "pages.h"

#include <string.h>

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

void pages_load_failed(struct http_request *req, enum admit_rc rc)
{
    if (rc == ADMIT_ERR_INVALID) {
        http_log_note(req, "bad-json");
        http_respond_error(req, 500, "Internal error", "This page could not be shown.");
        return;
    }
    http_respond_db_error(req, rc);
}
