/* Settings read from files: a DSN with its password, an SMTP password. For the *_FILE variables
 * of every binary (lib/core/opts.c), which systemd credentials ($CREDENTIALS_DIRECTORY) feed too,
 * so that a secret never sits on a command line or in an environment file. */
#ifndef ADMIT_SECRET_FILE_H
#define ADMIT_SECRET_FILE_H

#include <stddef.h>

#include "admit/core/rc.h"

/* The longest secret file, in bytes (a connection string with its password). */
#define ADMIT_SECRET_FILE_MAX 4096

/* Reads the value held in the file at path into out (cap bytes; the value is NUL-terminated, so
 * at most cap - 1 bytes), *len its length. The value is the file's content without its
 * trailing line breaks ("\n", "\r\n"): what `echo` or an editor leaves. The caller owns out and
 * wipes it (sodium_memzero) when done; on every error out holds no byte of the file.
 * Errors: ADMIT_ERR_IO (errno set) when it cannot be opened or read; ADMIT_ERR_PERMISSION when
 * others (not the owner or the group) may read or write it; ADMIT_ERR_INVALID when it is not a
 * regular file, or the value is empty or holds a NUL or a line break; ADMIT_ERR_TOO_LARGE when
 * the file (line breaks included) is longer than cap - 1 bytes. */
enum admit_rc admit_secret_file_read(const char *path, char *out, size_t cap,
                                     size_t *len) ADMIT_MUST_CHECK;

#endif
