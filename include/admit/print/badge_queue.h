/* Badges printed at the door, beside the scan loop: a worker thread takes badges from a short
 * queue and writes each as a one-page PDF into a folder (admit scan --badge-dir) and/or hands it
 * to a CUPS printer (admit scan --print-badge, libcups), so a verdict never waits for pango,
 * cairo, a disk or the print server. */
#ifndef ADMIT_PRINT_BADGE_QUEUE_H
#define ADMIT_PRINT_BADGE_QUEUE_H

#include <stdbool.h>

#include "admit/print/badge.h"

#define ADMIT_BADGE_QUEUE_MAX 64

struct admit_badge_queue;

/* Starts the worker writing badges of layout (copied) into dir (which must exist; NULL: a
 * temporary folder, emptied as badges are printed) and, when printer is not NULL, printing each
 * on that CUPS printer (the CUPS server as libcups finds it: CUPS_SERVER, client.conf). On
 * ADMIT_OK *out is a queue to stop with admit_badge_queue_stop; ADMIT_ERR_IO when the folder or
 * the thread cannot be made. */
enum admit_rc admit_badge_queue_start(const char *dir, const char *printer,
                                      const struct admit_badge_layout *layout,
                                      struct admit_badge_queue **out) ADMIT_MUST_CHECK;

/* Queues badge (its strings are copied) to be written as DIR/name.pdf (name: letters, digits,
 * '-' and '_' only), beside the caller: returns at once. false when the queue already holds
 * ADMIT_BADGE_QUEUE_MAX badges or name is not such a name (nothing queued). */
bool admit_badge_queue_submit(struct admit_badge_queue *q, const struct admit_badge *badge,
                              const char *name);

/* Writes (and prints) what is queued, stops the worker and frees q (NULL: nothing). Returns how
 * many badges could not be written or printed (each tried once), through *failed when not NULL;
 * the last failure's reason in why (static storage, or "") when not NULL. */
void admit_badge_queue_stop(struct admit_badge_queue *q, unsigned *failed, const char **why);

#endif
