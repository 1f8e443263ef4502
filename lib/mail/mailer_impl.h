/* Inside the mailer (admit/mail/mailer.h): what lib/mail/mailer.c sets up and
 * lib/mail/mailer_loop.c delivers with. */
#ifndef ADMIT_MAILER_IMPL_H
#define ADMIT_MAILER_IMPL_H

#include "admit/core/db.h"
#include "admit/core/email.h"
#include "admit/core/keys.h"
#include "admit/core/tmpl.h"
#include "admit/mail/mail.h"
#include "admit/mail/mailer.h"

struct admit_mailer {
    struct admit_db *db;
    struct admit_smtp *smtp;
    struct admit_tmpl_set *templates;
    struct admit_signing_key key;
    struct admit_mail_sender sender; /* points into the fields below */
    struct admit_mail_backoff backoff;
    char from_name[256];
    char from_addr[ADMIT_EMAIL_MAX + 1];
    char *public_url;
    unsigned lease;
    const struct admit_mailer_loop *loop; /* while admit_mailer_run runs */
};

#endif
