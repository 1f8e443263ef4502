#include "pages.h"

#include <string.h>

#include "admit/core/country.h"
#include "admit/register/registration.h"

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

json_t *pages_countries_json(const char *selected)
{
    json_t *list = json_array();
    for (size_t i = 0; i < admit_country_count(); i++) {
        const struct admit_country *c = admit_country_at(i);
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "code", c->code, "name", c->name,
                                              "selected", selected && !strcmp(selected, c->code)));
    }
    return list;
}

json_t *pages_organisation_types_json(const char *selected)
{
    json_t *list = json_array();
    for (size_t i = 0; i < admit_organisation_type_count; i++) {
        const struct admit_organisation_type *t = &admit_organisation_types[i];
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:b}", "value", t->value, "label", t->label,
                                        "selected", selected && !strcmp(selected, t->value)));
    }
    return list;
}

json_t *pages_lists_json(json_t *event, const int *chosen, size_t nchosen)
{
    json_t *lists = json_deep_copy(json_object_get(event, "lists"));
    size_t i;
    json_t *list;
    if (lists == NULL)
        return json_array();
    json_array_foreach(lists, i, list)
    {
        json_int_t id = json_integer_value(json_object_get(list, "id"));
        int checked = 0;
        for (size_t j = 0; j < nchosen; j++)
            checked |= chosen[j] == id;
        json_object_set_new(list, "checked", json_boolean(checked));
    }
    return lists;
}
