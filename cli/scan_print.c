/* admit scan --badge-dir and --print-badge (cli/scan_print.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "admit/core/ticket.h"
#include "cli.h"
#include "scan_print.h"

int scan_print_start(const struct cli_args *args, struct admit_badge_queue **out)
{
    struct admit_badge_layouts set;
    struct admit_error err;
    struct stat st;
    char path[4096];
    const char *dir = cli_get(args, "badge-dir");
    const char *printer = cli_get(args, "print-badge");
    *out = NULL;
    if (dir == NULL && printer == NULL)
        return 0;
    if (dir != NULL && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        cli_error(args, "--badge-dir %s: no such folder", dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", cli_templates_dir(args), ADMIT_BADGE_LAYOUTS_FILE);
    if (admit_badge_layouts_load(path, &set, &err) != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        return -1;
    }
    const struct admit_badge_layout *layout =
        admit_badge_layout_find(&set, cli_get(args, "badge-size"));
    if (layout == NULL) {
        cli_error(args, "--badge-size %s: no such badge layout in %s", cli_get(args, "badge-size"),
                  path);
        return -1;
    }
    if (admit_badge_queue_start(dir, printer, layout, out) != ADMIT_OK) {
        cli_error(args, "cannot start the badge printer");
        return -1;
    }
    return 0;
}

void scan_print_badge(const struct cli_args *args, struct admit_badge_queue *q,
                      const struct admit_scan_answer *answer, const char *line, size_t len)
{
    char text[ADMIT_TICKET_TEXT_MAX + 64], name[64];
    if (q == NULL || answer->error_code != NULL || answer->exit ||
        answer->verdict != ADMIT_VERDICT_VALID || len >= sizeof text)
        return;
    memcpy(text, line, len);
    len = admit_ticket_normalize(text, len);
    struct admit_badge badge = {answer->name, "", answer->organisation, "", text, ""};
    snprintf(name, sizeof name, "badge-%lld-%s", answer->registration_id,
             answer->nonce[0] ? answer->nonce : "scan");
    if (!admit_badge_queue_submit(q, &badge, name))
        cli_error(args, "the badge printer is behind: no badge for this entry");
}

void scan_print_stop(const struct cli_args *args, struct admit_badge_queue *q)
{
    unsigned failed = 0;
    const char *why = "";
    admit_badge_queue_stop(q, &failed, &why);
    if (failed > 0)
        cli_error(args, "%u badge%s could not be written or printed (%s)", failed,
                  failed == 1 ? "" : "s", why);
}
