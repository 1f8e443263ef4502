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

#include "admit/core/buf.h"
#include "admit/checkin/checkin.h"
#include "admit/register/event.h"
#include "admit/core/mem.h"

/* Opening. */

/* The event of the folder name "KEY_slug" with prefix "KEY_". */
static const char *slug_of(const char *folder, const char *prefix)
{
    return folder + strlen(prefix);
}

/* Asks the server which event cfg->token is for (a device set up here for the first time): into
 * *slug (a new string) and the answer into *device. */
static enum admit_rc ask_event(const struct admit_scan_config *cfg,
                               struct admit_checkin_client *client, char **slug, json_t **device,
                               struct admit_error *err)
{
    struct admit_error why;
    json_t *answer = NULL;
    long timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    enum admit_client_status status =
        admit_checkin_client_call(client, "GET", "/api/v1/device", NULL, timeout_ms, &answer, &why);
    const char *event =
        json_string_value(json_object_get(json_object_get(answer, "event"), "slug"));
    if (status == ADMIT_CLIENT_OK && event != NULL && admit_event_slug_valid(event)) {
        *slug = admit_xstrdup(event);
        *device = answer;
        return ADMIT_OK;
    }
    json_decref(answer);
    if (status == ADMIT_CLIENT_REFUSED) {
        admit_error_set(err, "the server refused this device token (unknown or revoked)");
        return ADMIT_ERR_PERMISSION;
    }
    if (status == ADMIT_CLIENT_UNREACHABLE || status == ADMIT_CLIENT_UNAVAILABLE) {
        admit_error_set(err, "cannot reach %s to set this device up (%s); connect once first",
                        cfg->server, why.message);
        return ADMIT_ERR_NOT_FOUND;
    }
    admit_error_set(err, "cannot learn this token's event from %s: %s", cfg->server, why.message);
    return ADMIT_ERR_INVALID;
}

/* Finds the folder of cfg: into *slug (a new string), and the server's answer into *device when
 * it was asked. What this computer holds comes first: a door set up before opens without the
 * network. */
static enum admit_rc find_event(const struct admit_scan_config *cfg, const char *root,
                                const char *key, struct admit_checkin_client *client, char **slug,
                                json_t **device, struct admit_error *err)
{
    char prefix[ADMIT_CLIENT_SERVER_KEY_SIZE + 1];
    char **names = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    *slug = NULL;
    *device = NULL;
    snprintf(prefix, sizeof prefix, "%s_", key);
    if (cfg->event != NULL) {
        if (!admit_event_slug_valid(cfg->event)) {
            admit_error_set(err, "--event \"%s\" is not an event slug", cfg->event);
            return ADMIT_ERR_INVALID;
        }
        *slug = admit_xstrdup(cfg->event);
        return ADMIT_OK;
    }
    if (admit_scan_state_find(root, prefix, &names) != ADMIT_OK) {
        admit_error_set(err, "cannot list %s: %s", root, strerror(errno));
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
    admit_scan_state_names_free(names);
    if (count == 1)
        return ADMIT_OK;
    free(*slug);
    *slug = NULL;
    if (count > 1) {
        admit_error_set(err,
                        "this computer scans for several events of %s: choose one with "
                        "--event SLUG",
                        cfg->server);
    } else if (cfg->token != NULL) {
        rc = ask_event(cfg, client, slug, device, err);
    } else {
        admit_error_set(err,
                        "no scanner is set up here for %s: give the device token once "
                        "with --token or ADMIT_SCAN_TOKEN",
                        cfg->server);
    }
    return rc;
}

/* The gate of a door set up but never synced: the device's name the server gave at set-up. */
static void gate_from_device(struct admit_scan_session *s, const json_t *device)
{
    json_t *stored = NULL;
    if (s->gate_given || s->gate[0] != '\0')
        return;
    if (device == NULL && admit_scan_state_json_read(s->st, DEVICE_FILE, &stored) == ADMIT_OK)
        device = stored;
    const char *name = scan_session_str(json_object_get(device, "device"), "name");
    free(s->gate);
    s->gate = admit_xstrdup(name);
    json_decref(stored);
}

/* A session for cfg with nothing opened yet. */
static struct admit_scan_session *session_new(const struct admit_scan_config *cfg)
{
    struct admit_scan_session *s = admit_xcalloc(1, sizeof *s);
    s->list = admit_xstrdup(cfg->list != NULL ? cfg->list : "");
    s->list_given = admit_xstrdup(cfg->list != NULL ? cfg->list : "");
    s->gate_given = cfg->gate != NULL && cfg->gate[0] != '\0';
    s->gate = admit_xstrdup(s->gate_given ? cfg->gate : "");
    s->exit = cfg->exit;
    s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    s->notify = cfg->notify;
    s->notify_ctx = cfg->notify_ctx;
    s->k = admit_scan_offline_new();
    s->backoff_ms = RETRY_FIRST_MS;
    s->link = LINK_UNKNOWN;
    s->fatal = ADMIT_OK;
    return s;
}

/* Opens and locks the folder dir, stores the token given (or reads the one stored) and makes
 * the session's client with it; device (the server's answer when it was asked) is saved. */
static enum admit_rc open_folder(struct admit_scan_session *s, const struct admit_scan_config *cfg,
                                 const char *dir, json_t *device, struct admit_error *err)
{
    char token[ADMIT_TOKEN_SIZE];
    enum admit_rc rc = admit_scan_state_open(dir, &s->st);
    token[0] = '\0';
    if (rc == ADMIT_ERR_STATE) {
        admit_error_set(err, "another admit scan or admit sync is using %s", dir);
        return rc;
    }
    if (rc != ADMIT_OK) {
        admit_error_set(err, "cannot open %s: %s", dir, strerror(errno));
        return rc;
    }
    if (cfg->token != NULL) {
        rc = admit_scan_state_token_write(s->st, cfg->token);
        memcpy(token, cfg->token, ADMIT_TOKEN_SIZE);
    } else {
        rc = admit_scan_state_token_read(s->st, token);
    }
    if (rc == ADMIT_ERR_PERMISSION) {
        admit_error_set(err, "%s/token may be read by other users: chmod 600 it", dir);
    } else if (rc == ADMIT_ERR_NOT_FOUND || rc == ADMIT_ERR_INVALID) {
        admit_error_set(err,
                        "no device token in %s: give it once with --token or "
                        "ADMIT_SCAN_TOKEN",
                        dir);
        rc = ADMIT_ERR_INVALID;
    } else if (rc != ADMIT_OK) {
        admit_error_set(err, "cannot store the device token in %s: %s", dir, strerror(errno));
    }
    if (rc == ADMIT_OK)
        rc = admit_checkin_client_new(cfg->server, token, cfg->ca_file, &s->client);
    sodium_memzero(token, sizeof token);
    if (rc == ADMIT_OK && device != NULL) {
        json_object_set_new(device, "server", json_string(cfg->server));
        rc = admit_scan_state_json_write(s->st, DEVICE_FILE, device);
        if (rc != ADMIT_OK)
            admit_error_set(err, "cannot write %s/%s: %s", dir, DEVICE_FILE, strerror(errno));
    }
    return rc;
}

/* What is on disk: the last sync, then this device's scans laid over it. */
static enum admit_rc load_disk(struct admit_scan_session *s, const char *dir, const json_t *device,
                               struct admit_error *err)
{
    json_t *snapshot = NULL;
    size_t bad = 0;
    enum admit_rc rc = admit_scan_state_json_read(s->st, SNAPSHOT_FILE, &snapshot);
    if (rc == ADMIT_OK && admit_scan_offline_load(s->k, snapshot) == ADMIT_OK)
        s->snapshot = json_incref(snapshot);
    else if (rc != ADMIT_ERR_NOT_FOUND)
        scan_session_notify(s, ADMIT_SCAN_EVENT_WARNING,
                            "%s/%s is unreadable: it will be synced again", dir, SNAPSHOT_FILE);
    json_decref(snapshot);
    rc = admit_scan_state_journal_read(s->st, scan_session_on_record, s, &bad);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "cannot read the journal in %s: %s", dir, strerror(errno));
        return rc;
    }
    if (bad > 0)
        scan_session_notify(s, ADMIT_SCAN_EVENT_WARNING, "%zu unreadable journal line%s skipped",
                            bad, bad == 1 ? "" : "s");
    scan_session_overlay(s, true);
    scan_session_set_gate(s);
    gate_from_device(s, device);
    return ADMIT_OK;
}

/* Checks cfg->list against the snapshot; one the snapshot lacks may have been added since the
 * last sync: with connect, the first sync is waited for (at most a budget) and asked again. */
static enum admit_rc check_list(struct admit_scan_session *s, bool connect, struct admit_error *err)
{
    enum admit_rc rc = scan_session_resolve_list(s, err);
    if (rc == ADMIT_ERR_NOT_FOUND && connect) {
        long long deadline = scan_session_now_ms() + s->timeout_ms;
        int before = s->generation;
        bool ready;
        while (s->generation == before && s->link != LINK_OFFLINE &&
               scan_session_now_ms() < deadline)
            if (admit_scan_session_run(s, -1, (long)(deadline - scan_session_now_ms()), &ready,
                                       NULL) != ADMIT_OK)
                break;
        rc = s->list_known ? ADMIT_OK : scan_session_resolve_list(s, err);
    }
    return rc == ADMIT_ERR_NOT_FOUND ? ADMIT_ERR_INVALID : rc;
}

enum admit_rc admit_scan_session_open(const struct admit_scan_config *cfg, bool connect,
                                      struct admit_scan_session **out, struct admit_error *err)
{
    char key[ADMIT_CLIENT_SERVER_KEY_SIZE];
    struct admit_buf root, dir;
    json_t *device = NULL;
    struct admit_checkin_client *probe = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    *out = NULL;
    admit_error_clear(err);
    admit_buf_init(&root, 4096);
    admit_buf_init(&dir, 8192);
    struct admit_scan_session *s = session_new(cfg);
    if (admit_checkin_client_server_key(cfg->server, key) != ADMIT_OK) {
        admit_error_set(err, "--server \"%s\": expected http://HOST:PORT or https://HOST",
                        cfg->server ? cfg->server : "");
        goto fail;
    }
    if (cfg->token != NULL && !admit_token_valid(cfg->token)) {
        admit_error_set(err, "the device token is malformed (22 characters from admit device "
                             "add)");
        goto fail;
    }
    rc = admit_scan_state_root(cfg->state_root, &root);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "no state directory: set XDG_STATE_HOME or HOME");
        goto fail;
    }
    rc = admit_checkin_client_new(cfg->server, cfg->token, cfg->ca_file, &probe);
    if (rc == ADMIT_OK)
        rc = find_event(cfg, admit_buf_cstr(&root), key, probe, &s->slug, &device, err);
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(&dir, "%s/%s_%s", admit_buf_cstr(&root), key, s->slug);
    if (rc != ADMIT_OK)
        goto fail;
    if (cfg->token == NULL && access(admit_buf_cstr(&dir), F_OK) != 0) {
        /* Only a token sets a folder up: a mistyped --event must not leave one behind. */
        rc = ADMIT_ERR_INVALID;
        admit_error_set(err,
                        "no scanner is set up here for event %s of %s: give the device "
                        "token once with --token or ADMIT_SCAN_TOKEN",
                        s->slug, cfg->server);
        goto fail;
    }
    rc = open_folder(s, cfg, admit_buf_cstr(&dir), device, err);
    if (rc == ADMIT_OK)
        rc = load_disk(s, admit_buf_cstr(&dir), device, err);
    if (rc != ADMIT_OK)
        goto fail;
    /* The door is ready at once, from what is on disk; the server is asked beside it. */
    if (connect)
        scan_session_schedule(s);
    if (cfg->list != NULL && s->snapshot != NULL) {
        rc = check_list(s, connect, err);
        if (rc != ADMIT_OK)
            goto fail;
    }
    rc = ADMIT_OK;
    *out = s;
    goto done;
fail:
    admit_scan_session_close(s);
done:
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
    scan_session_cancel_job(s);
    admit_checkin_client_free(s->client);
    admit_scan_state_close(s->st);
    free(s->list);
    free(s->list_given);
    free(s->gate);
    free(s->slug);
    free(s);
}

bool admit_scan_session_online(const struct admit_scan_session *s)
{
    return s->link == LINK_ONLINE;
}

bool admit_scan_session_synced(const struct admit_scan_session *s)
{
    return s->snapshot != NULL;
}

const char *admit_scan_session_list(const struct admit_scan_session *s)
{
    return s->list;
}

const char *admit_scan_session_time_zone(const struct admit_scan_session *s)
{
    const char *tz =
        json_string_value(json_object_get(json_object_get(s->snapshot, "event"), "time_zone"));
    return tz != NULL && tz[0] != '\0' ? tz : NULL;
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
