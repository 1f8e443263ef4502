/* Writing Internet messages (RFC 5322) with MIME bodies (RFC 2045-2047): the encoders, header
 * lines and a multipart writer that the mailer's messages are made of. Writing only: admit
 * never parses mail.
 *
 * Every line written ends with CRLF and is at most ADMIT_MIME_LINE_MAX characters long (the
 * RFC 5322 SHOULD), except a header holding one address or a parameter longer than that, which
 * stays within ADMIT_MIME_LINE_LIMIT (the MUST). Bodies go out as quoted-printable or base64, so
 * the message is 7-bit whatever the text; non-ASCII in headers becomes RFC 2047 encoded words
 * (UTF-8, "B" encoding, never splitting a character), which also neutralises CR and LF.
 *
 * Why not GMime: see lib/mail/mime.c. All functions append to out (bounded by out->max); on an
 * error other than ADMIT_ERR_INVALID out may hold a partial line (the caller drops the message). */
#ifndef ADMIT_MIME_H
#define ADMIT_MIME_H

#include <stddef.h>
#include <time.h>

#include "admit/core/buf.h"
#include "admit/core/rc.h"

#define ADMIT_MIME_LINE_MAX   78
#define ADMIT_MIME_LINE_LIMIT 998

enum admit_mime_encoding {
    ADMIT_MIME_QUOTED_PRINTABLE, /* text: readable, lines of at most 76 characters */
    ADMIT_MIME_BASE64,           /* images, and text that must arrive byte for byte */
};

/* Appends len bytes as base64 (RFC 2045 6.8) in lines of 76 characters, each ending in CRLF. */
enum admit_rc admit_mime_base64(struct admit_buf *out, const void *data,
                                size_t len) ADMIT_MUST_CHECK;

/* Appends len bytes of text as quoted-printable (RFC 2045 6.7). Line breaks in text (LF or
 * CRLF; a lone CR is encoded) become CRLF; bytes outside printable ASCII, '=' and white space
 * at the end of a line are encoded; soft line breaks keep every line within 76 characters and
 * never split an =XX sequence. Ends with CRLF when text ends with a line break. */
enum admit_rc admit_mime_quoted_printable(struct admit_buf *out, const char *text,
                                          size_t len) ADMIT_MUST_CHECK;

/* Appends the unstructured header "name: value" CRLF (Subject, ...). value is UTF-8 (checked:
 * ADMIT_ERR_INVALID otherwise). Printable ASCII is written as it is, folded at spaces; anything
 * else (non-ASCII, control characters, "=?") makes the whole value a series of encoded words,
 * one per line. name must be a header name: letters, digits and '-'. */
enum admit_rc admit_mime_header_text(struct admit_buf *out, const char *name,
                                     const char *value) ADMIT_MUST_CHECK;

/* Appends "name: display <addr>" CRLF (From, To, Reply-To). display (UTF-8, may be NULL or "")
 * is written as an atom phrase, a quoted string or encoded words, whichever it needs.
 * ADMIT_ERR_INVALID when addr is not an address admit sends to (admit_email_problem) or display
 * is not UTF-8. */
enum admit_rc admit_mime_header_address(struct admit_buf *out, const char *name,
                                        const char *display, const char *addr) ADMIT_MUST_CHECK;

/* Splits "Display Name <addr>" (or a bare "addr") as an operator writes it in --from. name gets
 * the display name without surrounding quotes and spaces ("" when none); both are
 * NUL-terminated. ADMIT_ERR_INVALID when the address is not one admit sends to
 * (admit_email_problem) or the text
 * is malformed; ADMIT_ERR_TOO_LARGE when a part does not fit its buffer. */
enum admit_rc admit_mime_parse_mailbox(const char *text, char *name, size_t namelen, char *addr,
                                       size_t addrlen) ADMIT_MUST_CHECK;

/* Appends t as an RFC 5322 date in UTC: "Sat, 28 Nov 2026 09:05:03 +0000" (no CRLF). English
 * day and month names whatever the locale. */
enum admit_rc admit_mime_date(struct admit_buf *out, time_t t) ADMIT_MUST_CHECK;

/* Multipart bodies, nested up to ADMIT_MIME_MAX_DEPTH levels.
 *
 *     admit_mime_init(&m, out, seed);     (after the message's own header lines)
 *     admit_mime_multipart_begin(&m, "mixed", NULL);
 *       admit_mime_multipart_begin(&m, "alternative", NULL);
 *         admit_mime_part(&m, &text); admit_mime_part(&m, &html);
 *       admit_mime_multipart_end(&m);
 *       admit_mime_part(&m, &attachment);
 *     admit_mime_multipart_end(&m);
 *
 * The outermost multipart writes its Content-Type header line and the empty line that ends the
 * message's header; the others open a body part of their parent. Boundaries are "=_" (which
 * neither quoted-printable nor base64 output can contain), the seed and a counter. A part alone
 * at the top (no multipart) is written by admit_mime_part with depth 0: its header lines, the
 * empty line and its body. */
#define ADMIT_MIME_MAX_DEPTH    4
#define ADMIT_MIME_BOUNDARY_MAX 70

struct admit_mime {
    struct admit_buf *out;
    char seed[48];
    unsigned counter;
    size_t depth;
    char boundary[ADMIT_MIME_MAX_DEPTH][ADMIT_MIME_BOUNDARY_MAX + 1];
};

struct admit_mime_part {
    /* The Content-Type value, parameters included: "text/plain; charset=utf-8". Printable
     * ASCII; folded at "; " when the line would be too long. */
    const char *content_type;
    enum admit_mime_encoding encoding;
    const char *content_id;  /* "qr@host" (written as <qr@host>), or NULL */
    const char *disposition; /* "inline" or "attachment", or NULL */
    const char *filename;    /* a plain ASCII file name for the disposition, or NULL */
    const void *body;
    size_t len;
};

/* Starts writing into out; seed (letters, digits, '-', at most 40 characters: the message's
 * UUID, for instance) makes boundaries unique to the message and the same on every attempt.
 * Aborts on a bad seed (a code bug). */
void admit_mime_init(struct admit_mime *m, struct admit_buf *out, const char *seed);

/* Opens a multipart entity of subtype ("mixed", "related", "alternative"); params (or NULL) are
 * more Content-Type parameters ("type=\"multipart/alternative\""). ADMIT_ERR_STATE when nested
 * deeper than ADMIT_MIME_MAX_DEPTH. */
enum admit_rc admit_mime_multipart_begin(struct admit_mime *m, const char *subtype,
                                         const char *params) ADMIT_MUST_CHECK;
/* Closes the innermost multipart. ADMIT_ERR_STATE when none is open. */
enum admit_rc admit_mime_multipart_end(struct admit_mime *m) ADMIT_MUST_CHECK;
/* Writes one part (its headers, an empty line, the encoded body). ADMIT_ERR_INVALID for header
 * values with characters outside printable ASCII, or a content id with < > or spaces. */
enum admit_rc admit_mime_part(struct admit_mime *m,
                              const struct admit_mime_part *part) ADMIT_MUST_CHECK;

#endif
