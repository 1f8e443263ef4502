#include "admit/core/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* Reads at most cap bytes of fd into out; *len how many. A file longer than cap - 1 bytes reads
 * cap bytes, which the caller takes for too large. */
static enum admit_rc read_all(int fd, char *out, size_t cap, size_t *len)
{
    size_t off = 0;
    while (off < cap) {
        ssize_t n = read(fd, out + off, cap - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ADMIT_ERR_IO;
        if (n == 0)
            break;
        off += (size_t)n;
    }
    *len = off;
    return ADMIT_OK;
}

enum admit_rc admit_secret_file_read(const char *path, char *out, size_t cap, size_t *len)
{
    enum admit_rc rc = ADMIT_ERR_IO;
    struct stat st;
    size_t n = 0;
    int saved;
    *len = 0;
    if (cap == 0)
        return ADMIT_ERR_TOO_LARGE;
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ADMIT_ERR_IO;
    if (fstat(fd, &st) != 0)
        goto done;
    if (!S_ISREG(st.st_mode)) {
        rc = ADMIT_ERR_INVALID;
        goto done;
    }
    /* The group may read it: systemd credentials and root:admit 0640 files are the norm. */
    if ((st.st_mode & S_IRWXO) != 0) {
        rc = ADMIT_ERR_PERMISSION;
        goto done;
    }
    rc = read_all(fd, out, cap, &n);
    if (rc != ADMIT_OK)
        goto done;
    rc = ADMIT_ERR_TOO_LARGE;
    if (n >= cap)
        goto done;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        n--;
    rc = ADMIT_ERR_INVALID;
    if (n == 0 || memchr(out, '\0', n) != NULL || memchr(out, '\n', n) != NULL ||
        memchr(out, '\r', n) != NULL)
        goto done;
    out[n] = '\0';
    *len = n;
    rc = ADMIT_OK;
done:
    saved = errno;
    if (rc != ADMIT_OK)
        sodium_memzero(out, cap);
    close(fd);
    errno = saved;
    return rc;
}
