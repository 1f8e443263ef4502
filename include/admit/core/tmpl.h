/* Templates: the one way admit produces HTML pages, e-mail bodies and calendar files.
 *
 * Syntax: a strict subset of Mustache.
 *     {{name}}               the value, escaped for the template's format (see below)
 *     {{{name}}}  {{& name}} the value unescaped: the only two ways to emit raw text
 *     {{#name}}...{{/name}}  section          {{^name}}...{{/name}}  inverted section
 *     {{> partial.html}}     another template of the set, by its full name (see Partials)
 *     {{! comment }}         dropped (may span lines)
 * Spaces, tabs and line breaks around the name are allowed ({{ name }}). A name is "." (the
 * current item) or segments of [A-Za-z0-9_-] joined by single dots ("event.venue.city"); any other
 * character is a parse error, which catches typos such as {{first name}}. Set-delimiter tags and
 * lambdas are not supported. A line holding nothing but one section, inverted, closing, comment or
 * partial tag (and spaces or tabs) is removed entirely, line break included ("standalone" tags,
 * as in Mustache), so that templates of line-oriented formats (.txt, .ics) do not grow blank lines;
 * partials are not re-indented.
 *
 * Data: a jansson json_t. A name is looked up in the context stack from the innermost context
 * outwards (the root context is the outermost); for "a.b.c" the first context that has "a" is
 * used and "b", "c" are looked up in it only (a miss is "missing", no further search). "." is the
 * innermost context. Values render as: strings byte for byte, integers in decimal, reals in the
 * shortest %g form that reads back as the same double ("19.99", "1e+21"), true and false as
 * "true" and "false", and null, missing, objects and arrays as nothing.
 * Sections: a non-empty array renders its content once per item with the item pushed on the
 * context stack; an object, a non-empty string or a number (0 included) renders once with the
 * value pushed; true renders once with the stack unchanged; false, null, missing, an empty array
 * and an empty string render nothing. An inverted section renders once (stack unchanged) exactly
 * when the section would render nothing.
 *
 * Escaping is chosen by the template's file extension, so no caller can forget it:
 *     .html .htm .svg .xml   HTML escaping (admit_escape_html)
 *     .txt                   none (plain-text e-mail bodies)
 *     .ics                   iCalendar TEXT escaping (admit_escape_ics)
 * Any other extension (.csv included, upper case included) is refused with ADMIT_ERR_INVALID
 * rather than guessed. {{{ }}} and {{& }} bypass escaping in every format.
 *
 * Partials: {{> name}} names a template of the same set by its full name, extension included,
 * exactly as admit_tmpl_render takes it ("layout_head.html", "email/footer.txt"); there is no
 * relative or extension-less lookup. A partial must use the same escaping as the template that
 * includes it (an .html page may include an .svg icon, not a .txt file). Partials are resolved
 * once, when the set is built: a missing partial, a partial with other escaping, a cycle
 * (a.html -> b.html -> a.html, or a template including itself) and chains of partials deeper than
 * ADMIT_TMPL_MAX_PARTIAL_DEPTH are errors there, never at render time.
 *
 * Threads: a set is built by one thread (load_dir, parse_string); once built it is never modified
 * by rendering, and any number of threads may render from it at once. There is no global state. */
#ifndef ADMIT_TMPL_H
#define ADMIT_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/core/buf.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"

/* Sections open at once within one template. */
#define ADMIT_TMPL_MAX_NESTING 32
/* Partials within partials below a rendered template (a chain t -> p1 -> ... -> p16). */
#define ADMIT_TMPL_MAX_PARTIAL_DEPTH 16
/* Largest template source, in bytes. */
#define ADMIT_TMPL_MAX_SIZE (1024 * 1024)
/* Work bound of one admit_tmpl_render call: tags, text pieces and loop iterations visited. A
 * render that needs more (e.g. empty nested loops over large arrays) fails with
 * ADMIT_ERR_TOO_LARGE instead of running for minutes. */
#define ADMIT_TMPL_MAX_STEPS (1UL << 24)

/* A compiled, immutable-once-built collection of templates, looked up by name. Opaque. */
struct admit_tmpl_set;

/* A new, empty set; free it with admit_tmpl_set_free. Aborts on out of memory. */
struct admit_tmpl_set *admit_tmpl_set_new(void);

/* Frees set and every template in it. NULL is a no-op. No render may be running on it. */
void admit_tmpl_set_free(struct admit_tmpl_set *set);

/* Builds a set from the files of directory dir: every regular file whose name does not start with
 * "." is a template named by its file name ("event.html"), and so is every such file of each
 * direct subfolder, named "folder/file" ("email/confirm.txt"). Deeper folders, and files with an
 * extension outside the table above, are refused (ADMIT_ERR_INVALID) rather than skipped, so that
 * a template cannot silently fail to load. The one exception is the subfolder "static" of dir,
 * which holds the assets admitd serves as they are (CSS, images): it is skipped whole. Each file
 * is parsed once (at most ADMIT_TMPL_MAX_SIZE bytes); then partials are resolved and checked
 * across the whole set.
 * On ADMIT_OK *out is a new set the caller frees with admit_tmpl_set_free. On error *out is NULL,
 * err (if not NULL) says which file, which line and why, and the result is ADMIT_ERR_IO (errno
 * set: dir or a file unreadable), ADMIT_ERR_INVALID (parse, extension or partial error) or
 * ADMIT_ERR_TOO_LARGE (a file over ADMIT_TMPL_MAX_SIZE). */
enum admit_rc admit_tmpl_set_load_dir(const char *dir, struct admit_tmpl_set **out,
                                      struct admit_error *err) ADMIT_MUST_CHECK;

/* Parses len bytes of text as the template name (its extension chooses the escaping) and adds it
 * to set. The text is copied; the caller keeps text and name. Its partials must already be in set
 * (add them first); a template including itself is a cycle. On error the set is unchanged, err
 * (if not NULL) explains, and the result is ADMIT_ERR_INVALID (bad name or extension, parse or
 * partial error), ADMIT_ERR_EXISTS (name already in set) or ADMIT_ERR_TOO_LARGE (len over
 * ADMIT_TMPL_MAX_SIZE). Not thread-safe: build the set before sharing it. */
enum admit_rc admit_tmpl_set_parse_string(struct admit_tmpl_set *set, const char *name,
                                          const char *text, size_t len,
                                          struct admit_error *err) ADMIT_MUST_CHECK;

/* Whether set holds a template called name. */
bool admit_tmpl_set_has(const struct admit_tmpl_set *set, const char *name);

/* Renders the template name of set with context (any JSON value; NULL acts like an empty object)
 * and appends the result to out. The caller keeps context and out; nothing is retained.
 * ADMIT_ERR_NOT_FOUND for an unknown name; ADMIT_ERR_TOO_LARGE when the output would exceed
 * out->max or the render exceeds ADMIT_TMPL_MAX_STEPS. On error out is restored to its length at
 * entry. Safe to call from many threads at once on the same set. */
enum admit_rc admit_tmpl_render(const struct admit_tmpl_set *set, const char *name,
                                const json_t *context, struct admit_buf *out) ADMIT_MUST_CHECK;

#endif
