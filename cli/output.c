#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_output_open(const struct cli_args *args, struct cli_output *o, const char *path)
{
    memset(o, 0, sizeof *o);
    admit_buf_init(&o->partial, 4096);
    if (path == NULL || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    o->path = path;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        o->in_place = true;
        o->f = fopen(path, "wb");
        if (o->f == NULL) {
            cli_error(args, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (admit_buf_printf(&o->partial, "%s.partial", path) != ADMIT_OK) {
        cli_error(args, "%s: path too long", path);
        return -1;
    }
    o->f = fopen(admit_buf_cstr(&o->partial), "wb");
    if (o->f == NULL) {
        cli_error(args, "cannot write %s: %s", admit_buf_cstr(&o->partial), strerror(errno));
        return -1;
    }
    return 0;
}

int cli_output_close(const struct cli_args *args, struct cli_output *o, int ok)
{
    int status = 0;
    if (o->f == stdout) {
        if (fflush(stdout) != 0 && ok) {
            cli_error(args, "cannot write to standard output: %s", strerror(errno));
            status = -1;
        }
    } else if (o->f != NULL) {
        if (fclose(o->f) != 0 && ok) {
            cli_error(args, "cannot write %s: %s", o->path, strerror(errno));
            ok = 0;
            status = -1;
        }
        if (o->in_place) {
            /* nothing to rename or remove */
        } else if (ok && rename(admit_buf_cstr(&o->partial), o->path) != 0) {
            cli_error(args, "cannot rename to %s: %s", o->path, strerror(errno));
            status = -1;
            ok = 0;
        }
        if (!ok && !o->in_place)
            unlink(admit_buf_cstr(&o->partial));
    }
    admit_buf_free(&o->partial);
    return status;
}
