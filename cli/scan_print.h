/* admit scan --badge-dir and --print-badge: a badge for each valid entry, written or printed
 * beside the scan loop (lib/print/badge_queue.c). */
#ifndef ADMIT_CLI_SCAN_PRINT_H
#define ADMIT_CLI_SCAN_PRINT_H

#include <stddef.h>

#include "admit/core/opts.h"
#include "admit/door/scan_session.h"
#include "admit/print/badge_queue.h"

/* Starts the badge queue when --badge-dir or --print-badge is given (*out NULL otherwise). Returns
 * 0, or -1 after a line on stderr (a missing folder, an unknown --badge-size). */
int scan_print_start(const struct cli_args *args, struct admit_badge_queue **out);
/* Queues the badge of a valid entry (other answers: nothing); line is the scanned text, its QR
 * code on the badge. Never waits: a full queue is said on stderr and the scan goes on. */
void scan_print_badge(const struct cli_args *args, struct admit_badge_queue *q,
                      const struct admit_scan_answer *answer, const char *line, size_t len);
/* Writes what is queued and stops (q NULL: nothing); says on stderr how many failed. */
void scan_print_stop(const struct cli_args *args, struct admit_badge_queue *q);

#endif
