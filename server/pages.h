/* Shared by the handlers that render the library's page documents (public.c, tickets.c,
 * admin*.c): the booleans templates need, and the answer when loading a page failed. */
#ifndef ADMITD_PAGES_H
#define ADMITD_PAGES_H

#include <jansson.h>

#include "http.h"

/* Adds the booleans templates need to an event object from admit_event_json: is_open,
 * is_not_open, is_closed, full. Returns event. */
json_t *pages_decorate_event(json_t *event);

/* Answers a page document that could not be loaded (rc not ADMIT_OK nor ADMIT_ERR_NOT_FOUND,
 * which each page answers its own way): 500 for a document that is not JSON (a bug), else as
 * http_respond_db_error. */
void pages_load_failed(struct http_request *req, enum admit_rc rc);

/* The form's choices, for the registration and edit forms: every country ({"code", "name",
 * "selected"}), every organisation type ({"value", "label", "selected"}) and the event's lists
 * (a copy of event's "lists", each with "checked" when its id is among the n chosen). selected
 * may be NULL. Each returns a new array the caller owns. */
json_t *pages_countries_json(const char *selected);
json_t *pages_organisation_types_json(const char *selected);
json_t *pages_lists_json(json_t *event, const int *chosen, size_t n);

#endif
