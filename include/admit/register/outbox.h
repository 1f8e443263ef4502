/* The e-mail outbox seen from outside the mail room: how much waits, for /metrics of admitd and
 * of admit mailer (the outbox itself is written by the registration functions in SQL and
 * delivered by lib/mail). */
#ifndef ADMIT_OUTBOX_H
#define ADMIT_OUTBOX_H

#include "admit/core/db.h"
#include "admit/core/rc.h"

struct admit_outbox_backlog {
    unsigned long long messages; /* pending or being sent */
    double oldest_seconds;       /* age of the oldest of them; 0 when there is none */
};

/* Reads the backlog (sql/queries/outbox_backlog.sql) into *out. Database errors as
 * admit_db_query; *out is zero on error. */
enum admit_rc admit_outbox_backlog(struct admit_db *db,
                                   struct admit_outbox_backlog *out) ADMIT_MUST_CHECK;

/* Appends the backlog as the metrics admit_outbox_messages and
 * admit_outbox_oldest_message_age_seconds (admit/core/metrics.h): the same names in admitd's
 * scrape and the mailer's. */
struct admit_buf;
enum admit_rc
admit_outbox_metrics_write(struct admit_buf *out,
                           const struct admit_outbox_backlog *backlog) ADMIT_MUST_CHECK;

#endif
