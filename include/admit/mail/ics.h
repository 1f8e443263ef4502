/* iCalendar (RFC 5545) files: the text comes from a template (templates/email/event.ics, whose
 * values the template engine escapes as iCalendar TEXT); this turns it into the form the RFC
 * requires on the wire. */
#ifndef ADMIT_ICS_H
#define ADMIT_ICS_H

#include <stddef.h>

#include "admit/core/buf.h"
#include "admit/core/rc.h"

/* Octets per line before folding (RFC 5545 section 3.1), line break excluded. */
#define ADMIT_ICS_LINE_OCTETS 75

/* Appends len bytes of rendered iCalendar text to out as content lines: every line (ended by LF
 * or CRLF in text; the last one may be unterminated) ends with CRLF, empty and blank lines are
 * dropped, and a line longer than ADMIT_ICS_LINE_OCTETS octets is folded: CRLF and one space
 * before each continuation, every physical line at most ADMIT_ICS_LINE_OCTETS octets with the
 * space, and never inside a UTF-8 sequence. ADMIT_ERR_INVALID for a lone CR (a template bug:
 * values are escaped). */
enum admit_rc admit_ics_fold(struct admit_buf *out, const char *text, size_t len) ADMIT_MUST_CHECK;

#endif
