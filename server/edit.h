/* The edit form of a registration, shared by the attendee's pages (edit.c) and the organisers'
 * (admin_edit.c): its template context and the answer to each outcome of a save. */
#ifndef ADMITD_EDIT_H
#define ADMITD_EDIT_H

#include <jansson.h>

#include "admit/register/edit.h"
#include "http.h"

/* The form of the edit document doc (admit_edit_form_load) as "form", with its choices
 * ("organisation_types", "countries", "lists"), added to context: the stored values when v is
 * NULL, else the submitted ones (in, the read edit, for the lists) with errs. action, back
 * (where "Leave without saving" goes) and csrf_token go in the form as they are. */
void edit_form_context(json_t *context, json_t *doc, struct admit_form_values *v,
                       const struct admit_edit *in, const struct admit_form_errors *errs,
                       const char *action, const char *back, const char *csrf_token);

/* Adds the refusal of a save (BAD_LIST, NO_LIST: an error on its field) to errs.
 * Returns true when the outcome was one of those. */
bool edit_outcome_error(const struct admit_edit_result *result, struct admit_form_errors *errs);

#endif
