/* admit evidence: the pack an organiser files with a funding body (the attendance sheets, the
 * attendance CSV, the report, and a manifest of SHA-256s signed with the event's key), and
 * admit evidence verify, which checks a pack and names any file that changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit/core/db.h"
#include "admit/core/fileio.h"
#include "admit/core/keys.h"
#include "admit/print/evidence.h"
#include "admit/print/sheet.h"
#include "admit/register/export.h"
#include "admit/register/report.h"
#include "cli.h"

#define FILES_MAX 512
#define PATH_LEN  4200

static const struct cli_opt evidence_opts[] = {
    CLI_OPT_DB,
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REQUIRED, "the event"},
    {"out", 'o', CLI_STRING, "DIR", NULL, NULL, 0, 0, CLI_REQUIRED,
     "the folder to make (it must not exist yet)"},
    {"key", 'k', CLI_STRING, "FILE", "ADMIT_SIGNING_KEY", NULL, 0, 0, CLI_REQUIRED,
     "secret ticket-signing key (mode 0600): it signs the manifest"},
    {0},
};

static int run_evidence(const struct cli_args *args)
{
    struct admit_signing_key key;
    struct admit_error why;
    size_t sheets = 0;
    int event_id = 0, list_id = 0, status = CLI_EXIT_USAGE;
    enum admit_rc rc = admit_key_load_secret(cli_get(args, "key"), &key);
    if (rc != ADMIT_OK) {
        cli_key_error(args, "signing key", cli_get(args, "key"), rc);
        return status;
    }
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    rc = admit_export_find(db, cli_get(args, "event"), NULL, 0, &event_id, &list_id);
    if (rc == ADMIT_ERR_NOT_FOUND)
        cli_error(args, "no event has the slug \"%s\"", cli_get(args, "event"));
    else if (rc != ADMIT_OK)
        cli_error(args, "%s", admit_db_error(db));
    else if (admit_evidence_pack_write(db, cli_get(args, "db"), event_id, cli_get(args, "event"),
                                       &key, cli_get(args, "out"), &sheets, &why) != ADMIT_OK)
        cli_error(args, "%s", why.message);
    else {
        fprintf(stderr,
                "admit evidence: %zu attendance sheet%s, attendance.csv, report.csv and "
                "the signed manifest written to %s\n",
                sheets, sheets == 1 ? "" : "s", cli_get(args, "out"));
        status = CLI_EXIT_OK;
    }
    admit_db_free(db);
    admit_key_wipe(&key);
    return status;
}

static const struct cli_opt verify_opts[] = {
    {"pub", 'p', CLI_STRING, "FILE", "ADMIT_PUBLIC_KEY", NULL, 0, 0, CLI_REQUIRED,
     "the event's public key file (a secret key file works too)"},
    {0},
};

static void report(void *ctx, enum admit_evidence_problem problem, const char *path)
{
    static const char *const words[] = {
        [ADMIT_EVIDENCE_CHANGED] = "changed since the manifest was signed",
        [ADMIT_EVIDENCE_MISSING] = "missing",
        [ADMIT_EVIDENCE_EXTRA] = "not in the manifest (added later)",
        [ADMIT_EVIDENCE_BAD_SIGNATURE] = "the manifest is not signed by this key (or changed)",
        [ADMIT_EVIDENCE_MALFORMED] = "the manifest or its signature cannot be read",
    };
    (void)ctx;
    if (path != NULL)
        printf("%s: %s\n", path, words[problem]);
    else
        printf("%s\n", words[problem]);
}

static int run_evidence_verify(const struct cli_args *args)
{
    struct admit_keyring ring;
    struct admit_public_key key;
    if (args->npositional != 1) {
        cli_error(args, "give the pack's folder");
        return CLI_EXIT_USAGE;
    }
    enum admit_rc rc = admit_key_load_public(cli_get(args, "pub"), &key);
    if (rc != ADMIT_OK) {
        cli_key_error(args, "public key", cli_get(args, "pub"), rc);
        return CLI_EXIT_USAGE;
    }
    admit_keyring_init(&ring);
    admit_keyring_add(&ring, &key);
    size_t problems = admit_evidence_check(args->positional[0], &ring, report, NULL);
    admit_keyring_free(&ring);
    if (problems == 0)
        printf("whole: every file is as signed\n");
    return problems == 0 ? CLI_EXIT_OK : CLI_EXIT_NEGATIVE;
}

const struct cli_cmd cli_evidence_cmd = {
    "evidence", NULL,
    "write an event's evidence pack: attendance sheets (PDF), attendance.csv, report.csv and a "
    "signed manifest",
    evidence_opts, run_evidence};

const struct cli_cmd cli_evidence_verify_cmd = {
    "evidence verify", "DIR",
    "check an evidence pack: the manifest's signature and every file (names any that changed)",
    verify_opts, run_evidence_verify};
