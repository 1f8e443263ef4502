/* The outbox's backlog (admit/register/outbox.h). */
#include "admit/register/outbox.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "admit/core/metrics.h"
#include "admit/sql.h"

enum admit_rc admit_outbox_backlog(struct admit_db *db, struct admit_outbox_backlog *out)
{
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_OUTBOX_BACKLOG, 0, NULL, &res);
    if (rc != ADMIT_OK)
        return rc;
    if (PQntuples(res) == 1) {
        out->messages = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        out->oldest_seconds = strtod(PQgetvalue(res, 0, 1), NULL);
    }
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_outbox_metrics_write(struct admit_buf *out,
                                         const struct admit_outbox_backlog *backlog)
{
    enum admit_rc rc = admit_metrics_family(out, "admit_outbox_messages", "gauge",
                                            "E-mails waiting in the outbox (pending or being "
                                            "sent).");
    if (rc == ADMIT_OK)
        rc = admit_metrics_sample(out, "admit_outbox_messages", NULL, (double)backlog->messages);
    if (rc == ADMIT_OK)
        rc = admit_metrics_family(out, "admit_outbox_oldest_message_age_seconds", "gauge",
                                  "Age of the oldest e-mail waiting in the outbox (0: none).");
    if (rc == ADMIT_OK)
        rc = admit_metrics_sample(out, "admit_outbox_oldest_message_age_seconds", NULL,
                                  backlog->oldest_seconds);
    return rc;
}
