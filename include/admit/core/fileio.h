/* Small file helpers shared by the CLI and the server. */
#ifndef ADMIT_FILEIO_H
#define ADMIT_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "admit/core/buf.h"
#include "admit/core/rc.h"

/* Replaces path with exactly len bytes, atomically: writes a temporary file beside it with the
 * given mode, fsyncs it and renames it over path. ADMIT_ERR_IO with errno set on failure, in
 * which case path is untouched and no temporary file is left. */
enum admit_rc admit_file_write_atomic(const char *path, const void *data, size_t len,
                                      mode_t mode) ADMIT_MUST_CHECK;

/* Appends the whole content of path to out (bounded by out->max). ADMIT_ERR_IO with errno set,
 * or ADMIT_ERR_TOO_LARGE. */
enum admit_rc admit_file_read(const char *path, struct admit_buf *out) ADMIT_MUST_CHECK;

#endif
