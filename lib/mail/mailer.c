/* Setting the mailer up: its settings checked, its templates, key and SMTP handle loaded, its
 * database checked. The delivery loop is lib/mail/mailer_loop.c. */
#include "admit/mail/mailer.h"

#include <stdlib.h>
#include <string.h>

#include "admit/core/mem.h"
#include "admit/core/startup.h"
#include "admit/mail/mime.h"
#include "mailer_impl.h"

/* The rules between the settings; the messages name admit mailer's options. */
static enum admit_rc check_settings(const struct admit_mailer_settings *st, struct admit_mailer *m,
                                    struct admit_error *err)
{
    const char *url = st->smtp.url;
    if (admit_mime_parse_mailbox(st->from, m->from_name, sizeof m->from_name, m->from_addr,
                                 sizeof m->from_addr) != ADMIT_OK) {
        admit_error_set(
            err, "--from \"%s\": expected \"Name <address>\" with a plain ASCII address", st->from);
        return ADMIT_ERR_INVALID;
    }
    if (st->public_url == NULL) {
        admit_error_set(err,
                        "--public-url is required: ticket links in the messages start with it");
        return ADMIT_ERR_INVALID;
    }
    if (admit_startup_public_url(st->public_url, &m->public_url, err) != ADMIT_OK)
        return ADMIT_ERR_INVALID;
    if (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0) {
        admit_error_set(err, "--smtp-url: expected smtp://HOST:PORT or smtps://HOST:PORT");
        return ADMIT_ERR_INVALID;
    }
    if (st->smtp.user != NULL && strncmp(url, "smtps://", 8) != 0 &&
        st->smtp.tls != ADMIT_SMTP_TLS_REQUIRE && !admit_smtp_url_loopback(url)) {
        admit_error_set(err, "SMTP credentials are only sent over TLS: use smtps:// or "
                             "--starttls require (or a loopback server)");
        return ADMIT_ERR_INVALID;
    }
    if (st->lease_seconds < 2 * (unsigned long)st->smtp.timeout_seconds) {
        admit_error_set(err, "--lease must be at least twice --smtp-timeout: a message must never "
                             "be taken over while it is being sent");
        return ADMIT_ERR_INVALID;
    }
    if (st->backoff.max_seconds < st->backoff.min_seconds) {
        admit_error_set(err, "--retry-max must be at least --retry-min");
        return ADMIT_ERR_INVALID;
    }
    m->lease = st->lease_seconds;
    m->backoff = st->backoff;
    return ADMIT_OK;
}

enum admit_rc admit_mailer_new(const struct admit_mailer_settings *settings,
                               struct admit_mailer **out, struct admit_error *err)
{
    struct admit_mailer *m = admit_xcalloc(1, sizeof *m);
    admit_error_clear(err);
    *out = NULL;
    enum admit_rc rc = check_settings(settings, m, err);
    if (rc == ADMIT_OK)
        rc = admit_startup_templates(settings->templates_dir, admit_mail_templates, &m->templates,
                                     err);
    if (rc == ADMIT_OK)
        rc = admit_startup_keys(settings->keys_dir, &m->key, NULL, err);
    if (rc == ADMIT_OK) {
        rc = admit_smtp_new(&settings->smtp, &m->smtp);
        if (rc != ADMIT_OK)
            admit_error_set(err, "--smtp-url: libcurl does not accept this URL or its options");
    }
    if (rc != ADMIT_OK) {
        admit_mailer_free(m);
        return rc;
    }
    m->sender = (struct admit_mail_sender){.from_name = m->from_name,
                                           .from_addr = m->from_addr,
                                           .public_url = m->public_url,
                                           .templates = m->templates};
    *out = m;
    return ADMIT_OK;
}

enum admit_rc admit_mailer_connect(struct admit_mailer *m, const char *dsn, struct admit_error *err)
{
    admit_db_free(m->db);
    m->db = admit_db_new(dsn);
    return admit_startup_database(m->db, "admit", err);
}

void admit_mailer_free(struct admit_mailer *m)
{
    if (m == NULL)
        return;
    admit_db_free(m->db);
    admit_smtp_free(m->smtp);
    admit_tmpl_set_free(m->templates);
    admit_key_wipe(&m->key);
    free(m->public_url);
    free(m);
}
