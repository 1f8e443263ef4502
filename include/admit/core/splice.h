/* Pages rendered once and served many times with a few per-request tokens in them.
 *
 * A page that is the same for every visitor but for a few tokens (the event page: its form nonce
 * and its CSRF token) is rendered once with a placeholder, a "mark", where each token goes; the
 * result is cut at the marks; each request then gets the pieces with its own tokens in the
 * holes, which costs a copy instead of a database query and a template walk.
 *
 * Marks and values are made of the characters of admit/token.h ([A-Za-z0-9_-]), which no escaping
 * of admit/tmpl.h changes: so a filled page is byte for byte the page the template renders with
 * the values in place of the marks. Take fresh random marks for every cut (admit_token_new): no
 * other text of the page can then contain one by chance. */
#ifndef ADMIT_SPLICE_H
#define ADMIT_SPLICE_H

#include <stddef.h>

#include "admit/core/rc.h"

/* Marks (kinds of hole) of one splice at most. */
#define ADMIT_SPLICE_MAX_MARKS 8
/* Longest mark and longest value, in bytes. */
#define ADMIT_SPLICE_MAX_TOKEN 256

/* A text cut at its marks. Immutable once made: any number of threads may fill it at once. */
struct admit_splice;

/* Copies len bytes of text, cut at every occurrence of each of the nmarks marks (1 to
 * ADMIT_SPLICE_MAX_MARKS non-empty strings of token characters, at most ADMIT_SPLICE_MAX_TOKEN
 * bytes, none containing another). A mark may occur any number of times, none included (a page
 * that shows no form has no hole for its nonce). On ADMIT_OK *out is a new splice, freed with
 * admit_splice_free; ADMIT_ERR_INVALID (and *out NULL) for bad marks. Aborts on out of memory. */
enum admit_rc admit_splice_cut(const char *text, size_t len, const char *const *marks,
                               size_t nmarks, struct admit_splice **out) ADMIT_MUST_CHECK;

/* The text with values[i] in every hole of marks[i] (values: as many as there were marks, each
 * a string of token characters of at most ADMIT_SPLICE_MAX_TOKEN bytes). On ADMIT_OK *out is a
 * new malloc()ed, NUL-terminated buffer the caller frees, and *len its length without the
 * terminator. ADMIT_ERR_INVALID (and *out NULL) when a value is not made of token characters:
 * inserting anything else could break the page's escaping. Aborts on out of memory. */
enum admit_rc admit_splice_fill(const struct admit_splice *s, const char *const *values, char **out,
                                size_t *len) ADMIT_MUST_CHECK;

/* How many holes mark number i (in the order given to admit_splice_cut) left; 0 past the last
 * mark. */
size_t admit_splice_holes(const struct admit_splice *s, size_t i);

/* Frees s; NULL is a no-op. */
void admit_splice_free(struct admit_splice *s);

#endif
