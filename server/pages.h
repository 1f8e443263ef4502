/* Shared by the attendee-facing handlers (public.c, tickets.c): turning the JSON that the SQL
 * queries return into template contexts. */
#ifndef ADMITD_PAGES_H
#define ADMITD_PAGES_H

#include <jansson.h>

#include "http.h"

/* Parses the JSON text of a query result (NULL on a parse error, which is a bug: logged by the
 * caller as a 500). The caller owns the result. */
json_t *pages_parse(const char *text);

/* Adds the booleans templates need to an event object from admit_event_json: is_open,
 * is_not_open, is_closed, full. Returns event. */
json_t *pages_decorate_event(json_t *event);

/* Runs q with n text parameters; its single value is JSON text. On success *out is the parsed
 * value, or NULL when there was no row. On failure answers (503/500) and returns false. */
bool pages_query_params(struct http_request *req, enum admit_query q, int n,
                        const char *const *params, json_t **out);
/* The same with one parameter (none when param is NULL). */
bool pages_query_json(struct http_request *req, enum admit_query q, const char *param,
                      json_t **out);

#endif
