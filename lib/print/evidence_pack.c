/* The evidence pack (admit/print/evidence.h): the sheets, attendance.csv and report.csv written
 * into a new folder, then the signed manifest of them all. The same for admit evidence and
 * /admin's download. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit/core/fileio.h"
#include "admit/print/evidence.h"
#include "admit/print/sheet.h"
#include "admit/register/export.h"
#include "admit/register/report.h"

#define FILES_MAX 512
#define PATH_LEN  4200

struct pack {
    const char *dsn, *slug, *dir;
    struct admit_error *err;
    char *files[FILES_MAX]; /* relative paths written, for the manifest */
    size_t count, sheets;
};

static int write_file(void *closure, const unsigned char *data, size_t len)
{
    return fwrite(data, 1, len, closure) == len ? 0 : -1;
}

/* Opens DIR/rel for writing and remembers rel for the manifest; NULL after a line on stderr. */
static FILE *pack_open(struct pack *p, const char *rel)
{
    char path[PATH_LEN];
    snprintf(path, sizeof path, "%s/%s", p->dir, rel);
    FILE *f = p->count < FILES_MAX ? fopen(path, "wbx") : NULL;
    if (f == NULL) {
        admit_error_set(p->err, "cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    p->files[p->count++] = strdup(rel);
    return f;
}

static int pack_close(struct pack *p, FILE *f, int ok)
{
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ok = 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok)
        admit_error_set(p->err, "cannot write %s: %s", p->files[p->count - 1], strerror(errno));
    return ok ? 0 : -1;
}

static int sheet_open(void *sink, int list_id, const char *name, admit_print_write_fn *write,
                      void **closure)
{
    char rel[200];
    size_t at = (size_t)snprintf(rel, sizeof rel, "sheets/list-%d-", list_id);
    for (const char *c = name; *c != '\0' && at < 150; c++) /* a file name from the list's */
        if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
            rel[at++] = *c;
        else if (*c >= 'A' && *c <= 'Z')
            rel[at++] = (char)(*c - 'A' + 'a');
        else if (at > 0 && rel[at - 1] != '-')
            rel[at++] = '-';
    snprintf(rel + at, sizeof rel - at, ".pdf");
    *write = write_file;
    *closure = pack_open(sink, rel);
    return *closure != NULL ? 0 : -1;
}

static int sheet_done(void *sink, void *closure, int ok)
{
    return pack_close(sink, closure, ok);
}

static int attendance_csv(struct pack *p, int event_id)
{
    struct admit_export *x = NULL;
    struct admit_error err;
    if (admit_export_open(&x, p->dsn, ADMIT_EXPORT_ATTENDANCE, event_id, 0, ADMIT_CSV_RFC4180,
                          &err) != ADMIT_OK) {
        admit_error_set(p->err, "%s", err.message);
        return -1;
    }
    FILE *f = pack_open(p, "attendance.csv");
    int ok = f != NULL && admit_export_write_file(x, f) == ADMIT_OK;
    admit_export_close(x);
    return f != NULL ? pack_close(p, f, ok) : -1;
}

static int report_csv(struct pack *p, struct admit_db *db, int event_id)
{
    json_t *report = NULL;
    struct admit_csv_writer w;
    if (admit_report_load(db, event_id, &report) != ADMIT_OK) {
        admit_error_set(p->err, "cannot read the report: %s", admit_db_error(db));
        return -1;
    }
    FILE *f = pack_open(p, "report.csv");
    int ok = 0;
    if (f != NULL) {
        admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_file, f);
        ok = admit_report_write_csv(report, &w) == ADMIT_OK && admit_csv_flush(&w) == ADMIT_OK;
    }
    json_decref(report);
    return f != NULL ? pack_close(p, f, ok) : -1;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* manifest.txt (each file's SHA-256) and manifest.sig. */
static int manifest(struct pack *p, const struct admit_signing_key *key)
{
    struct admit_buf text;
    char path[PATH_LEN], hex[ADMIT_EVIDENCE_SHA_HEX], id[ADMIT_KEY_ID_STRLEN];
    char sig[ADMIT_EVIDENCE_SIG_HEX];
    int status = -1;
    admit_buf_init(&text, 4u << 20);
    admit_key_id_format(key->key_id, id);
    qsort(p->files, p->count, sizeof p->files[0], by_path);
    enum admit_rc rc =
        admit_buf_printf(&text, "admit evidence v1\nevent %s\nkey %s\n", p->slug, id);
    for (size_t i = 0; rc == ADMIT_OK && i < p->count; i++) {
        snprintf(path, sizeof path, "%s/%s", p->dir, p->files[i]);
        rc = admit_evidence_sha256_file(path, hex);
        if (rc == ADMIT_OK)
            rc = admit_buf_printf(&text, "%s  %s\n", hex, p->files[i]);
    }
    if (rc == ADMIT_OK)
        rc = admit_evidence_sign(key, text.data, text.len, sig);
    snprintf(path, sizeof path, "%s/%s", p->dir, ADMIT_EVIDENCE_MANIFEST);
    if (rc == ADMIT_OK)
        rc = admit_file_write_atomic(path, text.data, text.len, 0644);
    snprintf(path, sizeof path, "%s/%s", p->dir, ADMIT_EVIDENCE_SIGNATURE);
    if (rc == ADMIT_OK)
        rc = admit_file_write_atomic(path, sig, strlen(sig), 0644);
    if (rc != ADMIT_OK)
        admit_error_set(p->err, "cannot write the manifest: %s", admit_strerror(rc));
    else
        status = 0;
    admit_buf_free(&text);
    return status;
}

static int make_pack(struct pack *p, struct admit_db *db, int event_id,
                     const struct admit_signing_key *key)
{
    char sheets[PATH_LEN];
    struct admit_error err;
    size_t lists = 0;
    snprintf(sheets, sizeof sheets, "%s/sheets", p->dir);
    if (mkdir(p->dir, 0755) != 0 || mkdir(sheets, 0755) != 0) {
        admit_error_set(p->err, "cannot make the folder %s: %s", p->dir, strerror(errno));
        return -1;
    }
    struct admit_sheet_sink sink = {sheet_open, sheet_done, p};
    if (admit_sheets_write(db, event_id, 0, &sink, &lists, &err) != ADMIT_OK) {
        admit_error_set(p->err, "%s", err.message);
        return -1;
    }
    if (attendance_csv(p, event_id) != 0 || report_csv(p, db, event_id) != 0 ||
        manifest(p, key) != 0)
        return -1;
    fprintf(stderr,
            "admit evidence: %zu attendance sheet%s, attendance.csv, report.csv and the "
            "signed manifest written to %s\n",
            lists, lists == 1 ? "" : "s", p->dir);
    return 0;
}

enum admit_rc admit_evidence_pack_write(struct admit_db *db, const char *dsn, int event_id,
                                        const char *slug, const struct admit_signing_key *key,
                                        const char *dir, size_t *sheets, struct admit_error *err)
{
    struct pack p = {dsn, slug, dir, err, {0}, 0, 0};
    admit_error_clear(err);
    int rc = make_pack(&p, db, event_id, key);
    for (size_t i = 0; i < p.count; i++)
        free(p.files[i]);
    if (sheets != NULL)
        *sheets = p.sheets;
    return rc == 0 ? ADMIT_OK : ADMIT_ERR_IO;
}
