/* The evidence pack's manifest: each file's SHA-256, signed with the event's (the tickets') key.
 *
 * manifest.txt is text: the line "admit evidence v1", the line "event SLUG", the line
 * "key KEYID", then one line per file "SHA256HEX  PATH" (two spaces, as sha256sum writes, so
 * `sha256sum -c` checks it too), PATH relative to the pack's folder. manifest.sig is the hex of
 * an Ed25519 signature over the domain "admit/evidence/v1" (with its NUL) and manifest.txt's
 * bytes, and a newline. */
#ifndef ADMIT_PRINT_EVIDENCE_H
#define ADMIT_PRINT_EVIDENCE_H

#include <stddef.h>

#include "admit/core/buf.h"
#include "admit/core/keys.h"
#include "admit/core/rc.h"

#define ADMIT_EVIDENCE_MANIFEST  "manifest.txt"
#define ADMIT_EVIDENCE_SIGNATURE "manifest.sig"
#define ADMIT_EVIDENCE_SHA_HEX   65
#define ADMIT_EVIDENCE_SIG_HEX   130 /* 128 digits, newline, NUL */

/* The SHA-256 of the file at path as 64 lower-case hex digits. ADMIT_ERR_IO (errno kept). */
enum admit_rc admit_evidence_sha256_file(const char *path,
                                         char hex[ADMIT_EVIDENCE_SHA_HEX]) ADMIT_MUST_CHECK;

/* Signs len bytes of manifest: its signature as hex and a newline into sig. */
enum admit_rc admit_evidence_sign(const struct admit_signing_key *key, const char *manifest,
                                  size_t len, char sig[ADMIT_EVIDENCE_SIG_HEX]) ADMIT_MUST_CHECK;

/* What admit_evidence_check found about one file (or the signature: path NULL). */
enum admit_evidence_problem {
    ADMIT_EVIDENCE_CHANGED,       /* its SHA-256 is not the manifest's */
    ADMIT_EVIDENCE_MISSING,       /* in the manifest, not in the folder */
    ADMIT_EVIDENCE_EXTRA,         /* in the folder, not in the manifest */
    ADMIT_EVIDENCE_BAD_SIGNATURE, /* the manifest is not signed by a trusted key (path NULL) */
    ADMIT_EVIDENCE_MALFORMED,     /* the manifest or its signature cannot be read (path NULL) */
};

/* Checks the pack in folder dir against ring: the signature of its manifest, then every file.
 * report(ctx, problem, path) is called once per problem, paths relative to dir. Returns the
 * number of problems (0: the pack is whole and signed by a trusted key). */
size_t admit_evidence_check(const char *dir, const struct admit_keyring *ring,
                            void (*report)(void *ctx, enum admit_evidence_problem problem,
                                           const char *path),
                            void *ctx);

/* Writes the evidence pack of event event_id (slug names it in the manifest) into the new folder
 * dir (made here: ADMIT_ERR_IO when it exists): sheets/list-ID-NAME.pdf per check-in list
 * (admit/print/sheet.h), attendance.csv (read on a connection of its own to dsn), report.csv,
 * then manifest.txt and manifest.sig signed with key. *sheets (when not NULL) is the number of
 * sheets. ADMIT_ERR_IO for any failure, with err saying what; the folder is then incomplete. */
struct admit_db;
struct admit_error;
enum admit_rc admit_evidence_pack_write(struct admit_db *db, const char *dsn, int event_id,
                                        const char *slug, const struct admit_signing_key *key,
                                        const char *dir, size_t *sheets,
                                        struct admit_error *err) ADMIT_MUST_CHECK;

/* Writes the files of the pack in folder dir (the manifest first) as one POSIX tar (ustar)
 * archive through write(closure, ...), paths prefixed with "name/". ADMIT_ERR_IO when a file
 * cannot be read or the writer stops; ADMIT_ERR_INVALID for a path too long for ustar. */
enum admit_rc admit_evidence_tar(const char *dir, const char *name,
                                 int (*write)(void *closure, const unsigned char *data, size_t len),
                                 void *closure) ADMIT_MUST_CHECK;

#endif
