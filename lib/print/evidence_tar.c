/* The evidence pack as one download: a POSIX tar (ustar) archive of its folder, the manifest
 * and its signature first, then the files the manifest lists (admit/print/evidence.h). Tar is
 * 512-byte headers and the files' bytes padded to 512: written here, read by any tar. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admit/core/buf.h"
#include "admit/core/fileio.h"
#include "admit/print/evidence.h"

#define BLOCK 512

typedef int (*writer)(void *closure, const unsigned char *data, size_t len);

static enum admit_rc header(const char *path, size_t size, writer write, void *closure)
{
    unsigned char h[BLOCK];
    unsigned sum = 0;
    memset(h, 0, sizeof h);
    if (strlen(path) >= 100)
        return ADMIT_ERR_INVALID;
    memcpy(h, path, strlen(path));
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011lo", (unsigned long)size);
    snprintf((char *)h + 136, 12, "%011lo", (unsigned long)time(NULL));
    memset(h + 148, ' ', 8); /* the checksum counts its own field as spaces */
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    for (size_t i = 0; i < BLOCK; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
    return write(closure, h, BLOCK) == 0 ? ADMIT_OK : ADMIT_ERR_IO;
}

/* One file: its header, its bytes, the padding. */
static enum admit_rc entry(const char *dir, const char *name, const char *rel, writer write,
                           void *closure)
{
    static const unsigned char zeros[BLOCK];
    char path[4200], inside[4200];
    struct admit_buf data;
    admit_buf_init(&data, 256u << 20);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(inside, sizeof inside, "%s/%s", name, rel);
    enum admit_rc rc = admit_file_read(path, &data);
    if (rc == ADMIT_OK)
        rc = header(inside, data.len, write, closure);
    if (rc == ADMIT_OK && data.len > 0 && write(closure, (unsigned char *)data.data, data.len))
        rc = ADMIT_ERR_IO;
    if (rc == ADMIT_OK && data.len % BLOCK != 0 &&
        write(closure, zeros, BLOCK - data.len % BLOCK) != 0)
        rc = ADMIT_ERR_IO;
    admit_buf_free(&data);
    return rc;
}

enum admit_rc admit_evidence_tar(const char *dir, const char *name,
                                 int (*write)(void *closure, const unsigned char *data, size_t len),
                                 void *closure)
{
    static const unsigned char zeros[2 * BLOCK];
    struct admit_buf manifest;
    char path[4200];
    admit_buf_init(&manifest, 4u << 20);
    snprintf(path, sizeof path, "%s/%s", dir, ADMIT_EVIDENCE_MANIFEST);
    enum admit_rc rc = admit_file_read(path, &manifest);
    if (rc == ADMIT_OK)
        rc = entry(dir, name, ADMIT_EVIDENCE_MANIFEST, write, closure);
    if (rc == ADMIT_OK)
        rc = entry(dir, name, ADMIT_EVIDENCE_SIGNATURE, write, closure);
    int line = 0;
    for (char *at = (char *)admit_buf_cstr(&manifest); rc == ADMIT_OK && *at != '\0';) {
        char *nl = strchr(at, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        if (++line > 3 && strlen(at) > 66) /* "SHA256HEX  PATH" */
            rc = entry(dir, name, at + 66, write, closure);
        at = nl + 1;
    }
    if (rc == ADMIT_OK && write(closure, zeros, sizeof zeros) != 0)
        rc = ADMIT_ERR_IO;
    admit_buf_free(&manifest);
    return rc;
}
