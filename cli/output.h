/* The files admit export and admit import write: beside their final name and renamed into
 * place when complete (cli/output.c). */
#ifndef ADMIT_CLI_OUTPUT_H
#define ADMIT_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "admit/core/buf.h"
#include "admit/core/opts.h"

/* A file written beside its final name and renamed into place when complete, so that a failed
 * run never leaves a file that looks whole. stdout when path is NULL or "-"; a path that exists
 * and is not a regular file (/dev/null, a FIFO, a terminal) is written in place: renaming over
 * it would replace the device itself. */
struct cli_output {
    const char *path; /* NULL for stdout */
    bool in_place;    /* written directly, nothing to rename */
    struct admit_buf partial;
    FILE *f;
};

/* Opens o for path (NULL or "-": stdout). Returns 0, or -1 after one line on stderr. */
int cli_output_open(const struct cli_args *args, struct cli_output *o, const char *path);
/* Finishes o: renamed into place when ok, removed otherwise. Returns 0, or -1 after one line on
 * stderr (the output is not complete). */
int cli_output_close(const struct cli_args *args, struct cli_output *o, int ok);

#endif
