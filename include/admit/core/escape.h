/* Escaping text for the formats admit produces: HTML/XML and iCalendar TEXT values. The template
 * engine (admit/tmpl.h) applies these by itself according to a template's file extension; other
 * modules call them directly when they put a value into one of these formats.
 *
 * All functions append to out (bounded by out->max) and pass every byte they do not escape through
 * unchanged: UTF-8, invalid UTF-8 and NUL bytes alike. On ADMIT_ERR_TOO_LARGE nothing is appended
 * (out is left as it was), like admit_buf_append. */
#ifndef ADMIT_ESCAPE_H
#define ADMIT_ESCAPE_H

#include <stddef.h>

#include "admit/core/buf.h"
#include "admit/core/rc.h"

enum admit_escape {
    ADMIT_ESCAPE_NONE = 0, /* plain text: bytes as they are */
    ADMIT_ESCAPE_HTML,     /* HTML and XML: admit_escape_html */
    ADMIT_ESCAPE_ICS,      /* iCalendar TEXT property values: admit_escape_ics */
};

/* Appends len bytes of s with & < > " ' replaced by &amp; &lt; &gt; &quot; &#39;. The result is
 * safe in element content and in quoted attribute values (single or double quotes) of HTML and
 * XML. It is NOT safe in unquoted attributes, URLs (javascript:), <script> or <style>. */
enum admit_rc admit_escape_html(struct admit_buf *out, const char *s, size_t len) ADMIT_MUST_CHECK;

/* Appends len bytes of s as an iCalendar TEXT value (RFC 5545 section 3.3.11): backslash,
 * semicolon and comma get a backslash before them, a line feed becomes the two characters "\n",
 * a carriage return is dropped, and so are the other control characters (U+0000-U+001F except
 * tab, and U+007F), which TEXT does not allow. Line folding at 75 octets is not done here: it
 * applies to whole content lines, after rendering. */
enum admit_rc admit_escape_ics(struct admit_buf *out, const char *s, size_t len) ADMIT_MUST_CHECK;

/* Appends len bytes of s escaped for mode (ADMIT_ESCAPE_NONE: unchanged). ADMIT_ERR_INVALID for
 * a mode outside the enum. */
enum admit_rc admit_escape_append(struct admit_buf *out, enum admit_escape mode, const char *s,
                                  size_t len) ADMIT_MUST_CHECK;

/* "none", "html" or "ics"; static storage ("unknown" outside the enum). */
const char *admit_escape_name(enum admit_escape mode);

#endif
