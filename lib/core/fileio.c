#include "admit/core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum admit_rc admit_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return ADMIT_ERR_IO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return ADMIT_ERR_IO;
    enum admit_rc rc = ADMIT_ERR_IO;
    const char *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto done;
        off += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto done;
    rc = ADMIT_OK;
done:
    if (close(fd) != 0 && rc == ADMIT_OK)
        rc = ADMIT_ERR_IO;
    if (rc == ADMIT_OK && rename(tmp, path) != 0)
        rc = ADMIT_ERR_IO;
    if (rc != ADMIT_OK) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    return rc;
}

enum admit_rc admit_file_read(const char *path, struct admit_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ADMIT_ERR_IO;
    enum admit_rc rc = ADMIT_OK;
    char chunk[8192];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ADMIT_ERR_IO;
            break;
        }
        if (r == 0)
            break;
        rc = admit_buf_append(out, chunk, (size_t)r);
        if (rc != ADMIT_OK)
            break;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
