/* Opening a door's session: finding its state folder (one per server and event) with the
 * device's answer to "who am I", loading the snapshot and replaying the journal; closing it,
 * and what the caller may ask of an open session. */
#include "scan_session_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "admit/buf.h"
#include "admit/checkin.h"
#include "admit/event.h"
#include "admit/mem.h"

/* Opening. */

/* The event of the folder name "KEY_slug" with prefix "KEY_". */
static const char *slug_of(const char *folder, const char *prefix)
{
    return folder + strlen(prefix);
}

/* Finds the folder of cfg: into *slug (a new string) and the whoami answer into *device (when the
 * server was asked). */
static enum admit_rc find_event(const struct admit_scan_config *cfg, const char *root,
                                const char *key, struct admit_checkin_client *client, char **slug,
                                json_t **device, char *err, size_t errlen)
{
    char prefix[ADMIT_CLIENT_SERVER_KEY_SIZE + 1];
    char why[512];
    char **names = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    long timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1500;
    why[0] = '\0';
    *slug = NULL;
    *device = NULL;
    snprintf(prefix, sizeof prefix, "%s_", key);
    if (cfg->event != NULL) {
        if (!admit_event_slug_valid(cfg->event)) {
            scan_session_set_err(err, errlen, "--event \"%s\" is not an event slug", cfg->event);
            return ADMIT_ERR_INVALID;
        }
        *slug = admit_xstrdup(cfg->event);
        return ADMIT_OK;
    }
    if (cfg->token != NULL) {
        json_t *answer = NULL;
        enum admit_client_status status = admit_checkin_client_call(
            client, "GET", "/api/v1/device", NULL, timeout_ms, &answer, why, sizeof why);
        const char *event =
            json_string_value(json_object_get(json_object_get(answer, "event"), "slug"));
        if (status == ADMIT_CLIENT_OK && event != NULL && admit_event_slug_valid(event)) {
            *slug = admit_xstrdup(event);
            *device = answer;
            return ADMIT_OK;
        }
        json_decref(answer);
        if (status == ADMIT_CLIENT_REFUSED) {
            scan_session_set_err(err, errlen,
                                 "the server refused this device token (unknown or revoked)");
            return ADMIT_ERR_PERMISSION;
        }
        if (status != ADMIT_CLIENT_UNREACHABLE) {
            scan_session_set_err(err, errlen, "cannot learn this token's event from %s: %s",
                                 cfg->server, why);
            return ADMIT_ERR_INVALID;
        }
    }
    if (admit_scan_state_find(root, prefix, &names) != ADMIT_OK) {
        scan_session_set_err(err, errlen, "cannot list %s: %s", root, strerror(errno));
        return ADMIT_ERR_IO;
    }
    size_t count = 0;
    for (size_t i = 0; names[i] != NULL; i++) {
        char token[ADMIT_TOKEN_SIZE];
        struct admit_buf dir;
        admit_buf_init(&dir, 8192);
        enum admit_rc peek = ADMIT_ERR_NOT_FOUND;
        if (admit_event_slug_valid(slug_of(names[i], prefix)) &&
            admit_buf_printf(&dir, "%s/%s", root, names[i]) == ADMIT_OK)
            peek = admit_scan_state_peek_token(admit_buf_cstr(&dir), token);
        /* A token file others may read still marks a set-up folder: opening it says so. */
        if ((peek == ADMIT_OK &&
             (cfg->token == NULL || sodium_memcmp(token, cfg->token, ADMIT_TOKEN_SIZE) == 0)) ||
            (peek == ADMIT_ERR_PERMISSION && cfg->token == NULL)) {
            if (count++ == 0)
                *slug = admit_xstrdup(slug_of(names[i], prefix));
        }
        sodium_memzero(token, sizeof token);
        admit_buf_free(&dir);
    }
    if (count == 1) {
        rc = ADMIT_OK;
    } else if (count > 1) {
        scan_session_set_err(err, errlen,
                             "this computer scans for several events of %s: choose one with "
                             "--event SLUG",
                             cfg->server);
    } else if (cfg->token != NULL) {
        scan_session_set_err(err, errlen,
                             "cannot reach %s to set this device up (%s); connect once first",
                             cfg->server, why);
        rc = ADMIT_ERR_NOT_FOUND;
    } else {
        scan_session_set_err(err, errlen,
                             "no scanner is set up here for %s: give the device token once "
                             "with --token or ADMIT_SCAN_TOKEN",
                             cfg->server);
    }
    if (rc != ADMIT_OK) {
        free(*slug);
        *slug = NULL;
    }
    admit_scan_state_names_free(names);
    return rc;
}

/* The lists of the snapshot as "Day 1, Day 2" into out. */
static void list_names(const json_t *snapshot, char *out, size_t outlen)
{
    size_t i, used = 0;
    const json_t *l;
    out[0] = '\0';
    json_array_foreach(json_object_get(snapshot, "lists"), i, l)
    {
        int w = snprintf(out + used, outlen - used, "%s\"%s\"", i ? ", " : "",
                         scan_session_str(l, "name"));
        if (w < 0 || (size_t)w >= outlen - used)
            break;
        used += (size_t)w;
    }
}

static void set_gate(struct admit_scan_session *s, const struct admit_scan_config *cfg)
{
    const char *name = scan_session_str(json_object_get(s->snapshot, "device"), "name");
    if (s->gate_given)
        return;
    free(s->gate);
    s->gate = admit_xstrdup(cfg->gate != NULL ? cfg->gate : name);
}

enum admit_rc admit_scan_session_open(const struct admit_scan_config *cfg, bool connect,
                                      struct admit_scan_session **out, char *err, size_t errlen)
{
    char key[ADMIT_CLIENT_SERVER_KEY_SIZE];
    char token[ADMIT_TOKEN_SIZE];
    char why[512];
    struct admit_buf root, dir;
    json_t *device = NULL;
    struct admit_checkin_client *probe = NULL;
    size_t bad = 0;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    *out = NULL;
    token[0] = '\0';
    admit_buf_init(&root, 4096);
    admit_buf_init(&dir, 8192);
    struct admit_scan_session *s = admit_xcalloc(1, sizeof *s);
    s->list = admit_xstrdup(cfg->list != NULL ? cfg->list : "");
    s->gate_given = cfg->gate != NULL && cfg->gate[0] != '\0';
    s->gate = admit_xstrdup(s->gate_given ? cfg->gate : "");
    s->exit = cfg->exit;
    s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1500;
    s->notify = cfg->notify;
    s->notify_ctx = cfg->notify_ctx;
    s->k = admit_scan_offline_new();
    s->backoff_ms = RETRY_FIRST_MS;

    if (admit_checkin_client_server_key(cfg->server, key) != ADMIT_OK) {
        scan_session_set_err(err, errlen,
                             "--server \"%s\": expected http://HOST:PORT or https://HOST",
                             cfg->server ? cfg->server : "");
        goto fail;
    }
    if (cfg->token != NULL && !admit_token_valid(cfg->token)) {
        scan_session_set_err(err, errlen,
                             "the device token is malformed (22 characters from admit device "
                             "add)");
        goto fail;
    }
    rc = admit_scan_state_root(cfg->state_root, &root);
    if (rc != ADMIT_OK) {
        scan_session_set_err(err, errlen, "no state directory: set XDG_STATE_HOME or HOME");
        goto fail;
    }
    rc = admit_checkin_client_new(cfg->server, cfg->token, &probe);
    if (rc != ADMIT_OK)
        goto fail;
    rc = find_event(cfg, admit_buf_cstr(&root), key, probe, &s->slug, &device, err, errlen);
    if (rc != ADMIT_OK)
        goto fail;
    rc = admit_buf_printf(&dir, "%s/%s_%s", admit_buf_cstr(&root), key, s->slug);
    if (rc != ADMIT_OK)
        goto fail;
    if (cfg->token == NULL && access(admit_buf_cstr(&dir), F_OK) != 0) {
        /* Only a token sets a folder up: a mistyped --event must not leave one behind. */
        rc = ADMIT_ERR_INVALID;
        scan_session_set_err(err, errlen,
                             "no scanner is set up here for event %s of %s: give the device "
                             "token once with --token or ADMIT_SCAN_TOKEN",
                             s->slug, cfg->server);
        goto fail;
    }
    rc = admit_scan_state_open(admit_buf_cstr(&dir), &s->st);
    if (rc == ADMIT_ERR_STATE) {
        scan_session_set_err(err, errlen, "another admit scan or admit sync is using %s",
                             admit_buf_cstr(&dir));
        goto fail;
    }
    if (rc != ADMIT_OK) {
        scan_session_set_err(err, errlen, "cannot open %s: %s", admit_buf_cstr(&dir),
                             strerror(errno));
        goto fail;
    }
    if (cfg->token != NULL) {
        rc = admit_scan_state_token_write(s->st, cfg->token);
        memcpy(token, cfg->token, ADMIT_TOKEN_SIZE);
    } else {
        rc = admit_scan_state_token_read(s->st, token);
    }
    if (rc != ADMIT_OK) {
        if (rc == ADMIT_ERR_PERMISSION)
            scan_session_set_err(err, errlen, "%s/token may be read by other users: chmod 600 it",
                                 admit_buf_cstr(&dir));
        else if (rc == ADMIT_ERR_NOT_FOUND || rc == ADMIT_ERR_INVALID)
            scan_session_set_err(err, errlen,
                                 "no device token in %s: give it once with --token or "
                                 "ADMIT_SCAN_TOKEN",
                                 admit_buf_cstr(&dir));
        else
            scan_session_set_err(err, errlen, "cannot store the device token in %s: %s",
                                 admit_buf_cstr(&dir), strerror(errno));
        if (rc == ADMIT_ERR_NOT_FOUND)
            rc = ADMIT_ERR_INVALID;
        goto fail;
    }
    rc = admit_checkin_client_new(cfg->server, token, &s->client);
    if (rc != ADMIT_OK)
        goto fail;
    if (device != NULL) {
        json_object_set_new(device, "server", json_string(cfg->server));
        if (admit_scan_state_json_write(s->st, DEVICE_FILE, device) != ADMIT_OK) {
            rc = ADMIT_ERR_IO;
            scan_session_set_err(err, errlen, "cannot write %s/%s: %s", admit_buf_cstr(&dir),
                                 DEVICE_FILE, strerror(errno));
            goto fail;
        }
    }

    /* What is on disk: the last sync, then this device's scans. */
    json_t *snapshot = NULL;
    rc = admit_scan_state_json_read(s->st, SNAPSHOT_FILE, &snapshot);
    if (rc == ADMIT_OK && admit_scan_offline_load(s->k, snapshot) == ADMIT_OK)
        s->snapshot = json_incref(snapshot);
    else if (rc != ADMIT_ERR_NOT_FOUND)
        scan_session_notify(s, ADMIT_SCAN_EVENT_WARNING,
                            "%s/%s is unreadable: it will be synced again", admit_buf_cstr(&dir),
                            SNAPSHOT_FILE);
    json_decref(snapshot);
    rc = admit_scan_state_journal_read(s->st, scan_session_on_record, s, &bad);
    if (rc != ADMIT_OK) {
        scan_session_set_err(err, errlen, "cannot read the journal in %s: %s", admit_buf_cstr(&dir),
                             strerror(errno));
        goto fail;
    }
    if (bad > 0)
        scan_session_notify(s, ADMIT_SCAN_EVENT_WARNING, "%zu unreadable journal line%s skipped",
                            bad, bad == 1 ? "" : "s");
    scan_session_overlay(s, true);
    set_gate(s, cfg);

    s->online = true; /* until the server fails to answer */
    if (connect) {
        enum admit_scan_link link = admit_scan_session_sync(s, why, sizeof why);
        if (link == ADMIT_SCAN_LINK_OK && s->pending > 0)
            link = admit_scan_session_upload(s, NULL, NULL, why, sizeof why);
        if (link == ADMIT_SCAN_LINK_REFUSED) {
            rc = ADMIT_ERR_PERMISSION;
            scan_session_set_err(err, errlen,
                                 "the server refused this device token (unknown or revoked)");
            goto fail;
        }
        if (link == ADMIT_SCAN_LINK_FAILED && !s->io_failed && s->snapshot == NULL) {
            rc = ADMIT_ERR_INVALID;
            scan_session_set_err(err, errlen, "cannot sync event %s from %s: %s", s->slug,
                                 cfg->server, why);
            goto fail;
        }
        if (s->io_failed) {
            rc = ADMIT_ERR_IO;
            scan_session_set_err(err, errlen, "%s", why);
            goto fail;
        }
        if (link != ADMIT_SCAN_LINK_OK)
            scan_session_go_offline(s, why);
        set_gate(s, cfg);
    }
    if (cfg->list != NULL) {
        if (s->snapshot == NULL) {
            rc = ADMIT_ERR_NOT_FOUND;
            scan_session_set_err(err, errlen,
                                 "this scanner has never synced event %s and cannot reach %s: "
                                 "connect once first",
                                 s->slug, cfg->server);
            goto fail;
        }
        if (admit_scan_offline_list_id(s->k, cfg->list) < 0) {
            char names[400];
            list_names(s->snapshot, names, sizeof names);
            rc = ADMIT_ERR_INVALID;
            scan_session_set_err(err, errlen,
                                 "event %s has no check-in list \"%s\" (its lists: %s)", s->slug,
                                 cfg->list, names);
            goto fail;
        }
    }
    rc = ADMIT_OK;
    *out = s;
    goto done;
fail:
    admit_scan_session_close(s);
done:
    sodium_memzero(token, sizeof token);
    admit_checkin_client_free(probe);
    json_decref(device);
    admit_buf_free(&root);
    admit_buf_free(&dir);
    return rc;
}

void admit_scan_session_close(struct admit_scan_session *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nentries; i++) {
        json_decref(s->entries[i].scan);
        json_decref(s->entries[i].answer);
    }
    free(s->entries);
    map_free(&s->by_nonce);
    admit_scan_offline_free(s->k);
    json_decref(s->snapshot);
    admit_checkin_client_free(s->client);
    admit_scan_state_close(s->st);
    free(s->list);
    free(s->gate);
    free(s->slug);
    free(s);
}

bool admit_scan_session_online(const struct admit_scan_session *s)
{
    return s->online;
}

size_t admit_scan_session_pending(const struct admit_scan_session *s)
{
    return s->pending;
}

const char *admit_scan_session_dir(const struct admit_scan_session *s)
{
    return admit_scan_state_dir(s->st);
}

const char *admit_scan_session_event(const struct admit_scan_session *s)
{
    return s->slug;
}

const char *admit_scan_session_gate(const struct admit_scan_session *s)
{
    return s->gate;
}

void admit_scan_session_counts(const struct admit_scan_session *s, size_t *registrations,
                               size_t *admissions)
{
    scan_session_count_snapshot(s->snapshot, registrations, admissions);
}
