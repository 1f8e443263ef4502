#include "admit/register/admin_review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/register/form.h"

/* Why the server refuses a scan the door let through, in words: by its reason first, then by
 * its verdict (the codes of sql/migrations/002_checkin.sql and later). */
static const struct {
    const char *code;
    const char *words;
} reasons[] =
    {
        {"cancelled", "the registration had been cancelled"},
        {"reissued", "the QR code was an old one: the ticket had been reissued since"},
        {"unknown_reissue", "the QR code carries an issue number the server does not know"},
        {"unknown_attendee", "the QR code names no registration of this event"},
        {"unknown_list", "the door scanned for a list this event does not have"},
        {"offline_conflict", "the ticket had already been used on this list"},
},
  verdicts[] = {
      {"already_checked_in", "the ticket had already been used on this list"},
      {"revoked", "the ticket is no longer valid"},
      {"waitlisted", "the attendee is on the waiting list, without a seat"},
      {"not_on_list", "the attendee is not registered for this list"},
      {"wrong_event", "the ticket is for another event"},
      {"invalid", "the QR code is not a valid ticket"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *why(const char *verdict, const char *reason)
{
    for (size_t i = 0; reason != NULL && i < COUNT(reasons); i++)
        if (strcmp(reason, reasons[i].code) == 0)
            return reasons[i].words;
    for (size_t i = 0; verdict != NULL && i < COUNT(verdicts); i++)
        if (strcmp(verdict, verdicts[i].code) == 0)
            return verdicts[i].words;
    return "";
}

enum admit_rc admit_admin_review_view(struct admit_db *db, int admin_id, const char *slug,
                                      bool open_only, json_t **out)
{
    char id[16];
    snprintf(id, sizeof id, "%d", admin_id);
    const char *params[3] = {id, slug, open_only ? "t" : "f"};
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_ADMIN_FLAGGED, 3, params, out);
    if (rc != ADMIT_OK)
        return rc;
    size_t i;
    json_t *one;
    json_array_foreach(json_object_get(*out, "cases"), i, one)
    {
        json_t *scan = json_object_get(one, "scan");
        const char *words = why(json_string_value(json_object_get(scan, "verdict")),
                                json_string_value(json_object_get(scan, "reason")));
        json_object_set_new(one, "why", json_string(words));
    }
    return ADMIT_OK;
}

/* Whether text (normalised) will do as a note; if not, err says why. */
static bool note_valid(const char *text, struct admit_error *err)
{
    const char *problem = admit_form_valid_paragraph(text, ADMIT_REVIEW_NOTE_MAX);
    admit_error_clear(err);
    admit_error_set_field(err, "note");
    if (text[0] == '\0')
        admit_error_set(err, "Write a note: what you found, and what was done about it.");
    else if (admit_form_text_chars(text, 1) > ADMIT_REVIEW_NOTE_MAX)
        admit_error_set(err, "The note is too long: write at most %d characters.",
                        ADMIT_REVIEW_NOTE_MAX);
    else if (problem != NULL)
        admit_error_set(err, "%s.", problem);
    else
        admit_error_clear(err);
    return text[0] != '\0' && problem == NULL;
}

enum admit_rc admit_admin_review_scan(struct admit_db *db, int admin_id, const char *slug,
                                      long scan_id, const char *note,
                                      enum admit_review_outcome *out, struct admit_error *err)
{
    char id[16], scan[24];
    PGresult *res = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    char *text = admit_form_normalise(note != NULL ? note : "");
    *out = ADMIT_REVIEW_NOT_FOUND;
    if (!note_valid(text, err))
        goto done;
    snprintf(id, sizeof id, "%d", admin_id);
    snprintf(scan, sizeof scan, "%ld", scan_id);
    const char *params[4] = {id, slug, scan, text};
    rc = admit_db_query(db, ADMIT_Q_ADMIN_SCAN_REVIEW, 4, params, &res);
    if (rc != ADMIT_OK)
        goto done;
    const char *outcome = PQgetvalue(res, 0, 0);
    *out = strcmp(outcome, "reviewed") == 0           ? ADMIT_REVIEW_DONE
           : strcmp(outcome, "already_reviewed") == 0 ? ADMIT_REVIEW_ALREADY
                                                      : ADMIT_REVIEW_NOT_FOUND;
    PQclear(res);
done:
    free(text);
    return rc;
}
