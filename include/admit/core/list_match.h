/* Finding a check-in list from what a person typed at a door or in a command: "day 1 - plenary"
 * for a list called "Day 1 – Plenary" (an en dash looks like a hyphen), or the list's number as
 * the error listing the lists shows it ("1" for the first). The one rule for it.
 *
 * A typed name matches a list when both are equal after folding: letter case (Unicode, simple
 * case mapping), every dash and minus sign read as '-' with the spaces around it ignored, and
 * every other run of spaces (any Unicode space) read as one, ignored at both ends. An exact name
 * wins over the folded rule, and a name over a number. */
#ifndef ADMIT_LIST_MATCH_H
#define ADMIT_LIST_MATCH_H

#include <stddef.h>

#include "admit/core/rc.h"

/* The folded form of name (NUL-terminated UTF-8) into key (keylen bytes, truncated to fit).
 * Bytes that are not UTF-8 are kept as they are. */
void admit_list_name_fold(const char *name, char *key, size_t keylen);

/* Finds typed among names (n lists, in the event's order). ADMIT_OK with *index; else
 * ADMIT_ERR_NOT_FOUND (no list), ADMIT_ERR_CONFLICT (several lists fold to typed: only an exact
 * name or the number can choose). */
enum admit_rc admit_list_match(const char *const *names, size_t n, const char *typed,
                               size_t *index) ADMIT_MUST_CHECK;

#endif
