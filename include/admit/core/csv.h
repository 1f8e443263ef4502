/* CSV export and import: registrations, attendance and scan logs out; invited guests in.
 *
 * Writing (RFC 4180): fields are separated by the flavour's separator and records end with CRLF.
 * A field is quoted ("...", inner quotes doubled) when it contains ',' or ';' (either flavour's
 * separator, so that the importer's separator detection cannot be fooled by the data), a double
 * quote, CR or LF, when it starts or ends with a space, when it starts with a UTF-8 byte order mark
 * (which a reader would drop at the start of a file), and when it is the only, empty field of its
 * row (an unquoted one would be a blank line). UTF-8 passes through unchanged. The writer streams:
 * it holds at most ADMIT_CSV_WRITER_BUF bytes and hands them to a sink callback, so exporting any
 * number of rows takes constant memory.
 *
 * Formula neutralisation (CSV injection): a spreadsheet runs a cell that starts with = + - @ (and
 * some also after a leading TAB or CR) as a formula. The writer prefixes such a value with an
 * apostrophe, and the reader removes it again, with a rule chosen so that every value round-trips
 * exactly through our own export and import:
 *
 *     neutralise(v)   = "'" + v                 when v matches ^'*[=+\-@\t\r]
 *     unneutralise(v) = v without its first byte when v matches ^'+[=+\-@\t\r]
 *     otherwise both leave v unchanged.
 *
 * So "=1+1" is written "'=1+1", "'=1+1" is written "''=1+1", and both read back as they were;
 * names that merely start with an apostrophe ("'t Hooft") or contain a minus ("Ann-Marie") are
 * left alone. A file from elsewhere with a cell "'=x" is read as "=x": harmless for us, since the
 * database and HTML escaping do not care about formulas.
 *
 * Reading (import) is strict RFC 4180 on top of libcsv. The separator is detected from the first
 * line, after an optional UTF-8 BOM: the one of ',' and ';' found more often outside quotes, and
 * on a tie (one column) ';' if there was a BOM, as in our Excel flavour, else ','. Fields may be
 * quoted and then hold separators, quotes, CR
 * and LF; anything else (a quote inside an unquoted field, text after a closing quote, a quote
 * never closed) is an error. Spaces are kept as they are. Blank lines are skipped. Every field must
 * be valid UTF-8 without NUL bytes. Sizes are bounded, memory is constant in the number of
 * records, and every error names the line: "line 17: unterminated quoted field". Lines are
 * counted as editors do: LF, CRLF and a lone CR each end one. */
#ifndef ADMIT_CSV_H
#define ADMIT_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "admit/core/buf.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"

enum admit_csv_flavour {
    ADMIT_CSV_RFC4180, /* ',' separator, CRLF, no byte order mark */
    ADMIT_CSV_EXCEL,   /* UTF-8 BOM once at the start, ';' separator, CRLF: what spreadsheets
                        * set up for much of Europe open correctly on double-click */
};

/* The UTF-8 byte order mark the Excel flavour starts with (3 bytes). */
#define ADMIT_CSV_BOM "\xEF\xBB\xBF"

/* True when value (len bytes) matches ^'*[=+\-@\t\r]: when neutralise adds an apostrophe. */
bool admit_csv_needs_neutralising(const char *value, size_t len);
/* True when value matches ^'+[=+\-@\t\r]: a value neutralise produced, which unneutralise
 * shortens by one byte (the reader and the writer share this rule). */
bool admit_csv_is_neutralised(const char *value, size_t len);

/* Appends neutralise(value) to out (see the rule above). value may be NULL when len is 0.
 * ADMIT_ERR_TOO_LARGE (nothing appended) when out would exceed its maximum. */
enum admit_rc admit_csv_neutralise(struct admit_buf *out, const char *value,
                                   size_t len) ADMIT_MUST_CHECK;

/* Appends unneutralise(value) to out; the inverse of admit_csv_neutralise for every value.
 * ADMIT_ERR_TOO_LARGE (nothing appended) when out would exceed its maximum. */
enum admit_rc admit_csv_unneutralise(struct admit_buf *out, const char *value,
                                     size_t len) ADMIT_MUST_CHECK;

/* Bytes the writer buffers before handing them to its sink. */
#define ADMIT_CSV_WRITER_BUF 16384

/* Where a writer's bytes go. Returns ADMIT_OK when all len bytes were taken; any other value
 * stops the writer, and every later call on it returns that value. */
typedef enum admit_rc (*admit_csv_sink)(void *ctx, const char *data, size_t len);

/* A streaming CSV writer. Allocate it anywhere (it holds its buffer inline, no heap), set it up
 * with admit_csv_writer_init and leave its members alone. It owns nothing, so there is nothing to
 * free; call admit_csv_flush when done, or buffered rows are lost. */
struct admit_csv_writer {
    admit_csv_sink write;
    void *ctx;
    char separator;
    enum admit_rc rc; /* first failure: every later call returns it without writing */
    bool in_row;
    bool first_field_empty;
    size_t fields; /* fields in the current row */
    size_t len;    /* bytes waiting in buf */
    char buf[ADMIT_CSV_WRITER_BUF];
};

/* Prepares w to write the given flavour to sink(ctx, ...). The Excel flavour's byte order mark is
 * buffered at once, so even an export without rows is a UTF-8 file for spreadsheets. */
void admit_csv_writer_init(struct admit_csv_writer *w, enum admit_csv_flavour flavour,
                           admit_csv_sink sink, void *ctx);

/* Starts a row. ADMIT_ERR_STATE if a row is already open. */
enum admit_rc admit_csv_begin_row(struct admit_csv_writer *w) ADMIT_MUST_CHECK;

/* Adds a text field of len bytes to the open row, neutralised and quoted as described above.
 * value NULL (with any len) is an empty field. ADMIT_ERR_STATE when no row is open; otherwise the
 * sink's error if a flush failed. */
enum admit_rc admit_csv_add_field(struct admit_csv_writer *w, const char *value,
                                  size_t len) ADMIT_MUST_CHECK;

/* Adds an integer field in decimal. Numbers are not neutralised: "-5" is a number to a
 * spreadsheet, not a formula, and reads back as "-5". Errors as admit_csv_add_field. */
enum admit_rc admit_csv_add_int(struct admit_csv_writer *w, int64_t value) ADMIT_MUST_CHECK;

/* Ends the open row with CRLF. ADMIT_ERR_STATE when no row is open, ADMIT_ERR_INVALID when it
 * has no field (CSV cannot express a row without fields). */
enum admit_rc admit_csv_end_row(struct admit_csv_writer *w) ADMIT_MUST_CHECK;

/* Writes a whole row of n NUL-terminated fields (a NULL entry is an empty field); n must be at
 * least 1. Same as begin_row, add_field for each, end_row. */
enum admit_rc admit_csv_write_row(struct admit_csv_writer *w, const char *const *fields,
                                  size_t n) ADMIT_MUST_CHECK;

/* Hands every buffered byte to the sink (a row still open is written up to its last field).
 * Does not flush the sink itself (fflush a FILE yourself). Returns the writer's first error. */
enum admit_rc admit_csv_flush(struct admit_csv_writer *w) ADMIT_MUST_CHECK;

/* Sinks for admit_csv_writer_init. */
/* ctx is a FILE * opened for writing; ADMIT_ERR_IO (errno set) on a short write. */
enum admit_rc admit_csv_sink_file(void *ctx, const char *data, size_t len) ADMIT_MUST_CHECK;
/* ctx is a struct admit_buf *; ADMIT_ERR_TOO_LARGE past its maximum. */
enum admit_rc admit_csv_sink_buf(void *ctx, const char *data, size_t len) ADMIT_MUST_CHECK;

/* Default bounds of a reader, generous for a guest list. */
#define ADMIT_CSV_MAX_FIELD_LEN  4096  /* bytes of one field, as in the file */
#define ADMIT_CSV_MAX_FIELDS     64    /* fields of one record */
#define ADMIT_CSV_MAX_RECORD_LEN 65536 /* bytes of all the fields of one record */

struct admit_csv_read_options {
    char separator;        /* ',' or ';'; 0 detects it from the first line */
    size_t max_field_len;  /* 0: ADMIT_CSV_MAX_FIELD_LEN */
    size_t max_fields;     /* 0: ADMIT_CSV_MAX_FIELDS */
    size_t max_record_len; /* 0: ADMIT_CSV_MAX_RECORD_LEN */
};

/* Why reading stopped. */
enum admit_csv_problem {
    ADMIT_CSV_NO_PROBLEM = 0,
    ADMIT_CSV_UNTERMINATED_QUOTE, /* a quoted field runs to the end of the file */
    ADMIT_CSV_BAD_QUOTE,          /* a quote inside an unquoted field */
    ADMIT_CSV_TEXT_AFTER_QUOTE,   /* a closing quote followed by more than a separator or EOL */
    ADMIT_CSV_FIELD_TOO_LONG,
    ADMIT_CSV_TOO_MANY_FIELDS,
    ADMIT_CSV_RECORD_TOO_LONG,
    ADMIT_CSV_INVALID_UTF8,
    ADMIT_CSV_NUL_BYTE,
    ADMIT_CSV_READ_FAILED, /* the FILE reported an error; errno kept */
};

/* One record, owned by the reader and valid until the next call on it. */
struct admit_csv_record {
    const char *const *fields; /* count NUL-terminated UTF-8 strings, already unneutralised */
    const size_t *lens;        /* their lengths */
    size_t count;              /* at least 1 */
    unsigned long line;        /* 1-based line on which the record starts */
};

struct admit_csv_reader;

/* Opens a reader on file (not closed by the reader; read from its current position) or on len
 * bytes of data (not copied: keep it alive until admit_csv_reader_close). options may be NULL for
 * separator detection and the default bounds. Stores a reader to close in *out. ADMIT_ERR_INVALID
 * for a separator other than ',' ';' or 0; ADMIT_ERR_IO (errno set) when the first read fails;
 * then *out is NULL. */
enum admit_rc
admit_csv_reader_open_file(struct admit_csv_reader **out, FILE *file,
                           const struct admit_csv_read_options *options) ADMIT_MUST_CHECK;
enum admit_rc
admit_csv_reader_open_mem(struct admit_csv_reader **out, const char *data, size_t len,
                          const struct admit_csv_read_options *options) ADMIT_MUST_CHECK;

/* Reads the next record into *rec. ADMIT_OK with a record; ADMIT_ERR_NOT_FOUND at the end of the
 * input (no more records: not an error); on a problem ADMIT_ERR_INVALID (malformed CSV, bad
 * UTF-8), ADMIT_ERR_TOO_LARGE (a bound was hit) or ADMIT_ERR_IO (read failed), with the detail in
 * admit_csv_reader_error. Reading does not resume after a problem: every later call returns the
 * same result. */
enum admit_rc admit_csv_read_record(struct admit_csv_reader *r,
                                    struct admit_csv_record *rec) ADMIT_MUST_CHECK;

/* The flavour whose separator the reader uses (detected or given). */
enum admit_csv_flavour admit_csv_reader_flavour(const struct admit_csv_reader *r);

/* What went wrong, if anything: the message for humans ("line 17: unterminated quoted field";
 * "" if none) and its line (1-based; 0 when there is none). Points into r, valid until
 * admit_csv_reader_close. */
const struct admit_error *admit_csv_reader_error(const struct admit_csv_reader *r);
/* Which problem stopped the reading; ADMIT_CSV_NO_PROBLEM if none. */
enum admit_csv_problem admit_csv_reader_problem(const struct admit_csv_reader *r);

/* Frees r and everything it owns (records included); NULL is a no-op. */
void admit_csv_reader_close(struct admit_csv_reader *r);

#endif
