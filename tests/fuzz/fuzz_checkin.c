/* Fuzz target for the check-in API's request parser (lib/checkin/checkin.c): what any client on the
 * network may send to POST /api/v1/checkins.
 *
 * Each input is parsed as a request body. Properties: a refusal comes with a 400 or 413, a
 * stable code from the header's list and a message, and leaves the request empty; an accepted
 * request has between 1 and ADMIT_CHECKIN_MAX_SCANS scans, each either refused alone (only in a
 * batch: a 400 with a known code, no fields kept but a valid nonce) or holding what the header
 * promises (a valid nonce, list and time, a known door verdict), and admit_checkin_prepare (the
 * signature checks, on a keyring of one fixed key) turns each scan not refused into an SQL
 * argument that is either what a genuine ticket says or a known refusal reason. The seed corpus
 * (corpus/checkin/) holds single scans, batches and near misses of each refusal; some carry a real
 * ticket signed with the seed below. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/checkin/checkin.h"
#include "admit/register/form.h"
#include "admit/core/keys.h"
#include "admit/core/ticket.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* admitd's default body limit: nothing longer reaches the parser. */
#define INPUT_MAX 65536

static struct admit_keyring ring;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct admit_signing_key key;
    static const char seed[33] = "admit fuzz ticket key: current!!";
    (void)argc;
    (void)argv;
    CHECK(admit_init() == ADMIT_OK);
    /* The same key as fuzz_ticket.c, so its valid seeds are valid tickets here too. */
    CHECK(crypto_sign_seed_keypair(key.pk, key.sk, (const unsigned char *)seed) == 0);
    key.key_id = admit_key_id(key.pk);
    admit_keyring_init(&ring);
    admit_keyring_add_public_of(&ring, &key);
    admit_key_wipe(&key);
    return 0;
}

static bool known_code(const char *code)
{
    static const char *const codes[] = {"invalid_json", "not_an_object", "unknown_field",
                                        "wrong_type",   "missing_field", "invalid_value",
                                        "empty_batch",  "too_many_scans"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

static bool known_reason(const char *reason)
{
    static const char *const reasons[] = {"not_a_ticket", "unknown_version", "wrong_length",
                                          "malformed",    "unknown_key",     "bad_signature"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcmp(reason, reasons[i]) == 0)
            return true;
    return false;
}

static void check_scan(const struct admit_checkin_scan *scan, const json_t *arg)
{
    size_t n = strlen(scan->nonce);
    long list_chars = admit_form_text_chars(scan->list, 0);
    CHECK(n >= ADMIT_CHECKIN_NONCE_MIN && n <= ADMIT_CHECKIN_NONCE_MAX);
    CHECK(list_chars >= 1 && list_chars <= ADMIT_CHECKIN_NAME_MAX);
    CHECK(scan->gate == NULL || admit_form_text_chars(scan->gate, 0) <= ADMIT_CHECKIN_NAME_MAX);
    CHECK(admit_checkin_time_valid(scan->scanned_at));
    CHECK(scan->door_verdict >= -1 && scan->door_verdict < ADMIT_VERDICT_COUNT);
    CHECK(scan->payload != NULL && strlen(scan->payload) == scan->payload_len);

    const char *invalid = json_string_value(json_object_get(arg, "invalid"));
    if (invalid != NULL) {
        CHECK(known_reason(invalid));
        CHECK(json_object_get(arg, "registration_id") == NULL);
    } else {
        CHECK(json_is_integer(json_object_get(arg, "event_id")));
        CHECK(json_is_integer(json_object_get(arg, "registration_id")));
        CHECK(json_is_integer(json_object_get(arg, "reissue")));
    }
    CHECK(strcmp(json_string_value(json_object_get(arg, "nonce")), scan->nonce) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct admit_checkin_request req;
    struct admit_error err;
    if (size > INPUT_MAX)
        return 0;
    enum admit_rc rc = admit_checkin_parse((const char *)data, size, &req, &err);
    if (rc != ADMIT_OK) {
        CHECK(rc == ADMIT_ERR_INVALID);
        CHECK(admit_checkin_error_status(&err) == 400 || admit_checkin_error_status(&err) == 413);
        CHECK(err.code != NULL && known_code(err.code));
        CHECK(err.message[0] != '\0');
        CHECK(req.root == NULL && req.scans == NULL && req.count == 0);
        admit_checkin_request_free(&req);
        return 0;
    }
    CHECK(req.count >= 1 && req.count <= ADMIT_CHECKIN_MAX_SCANS);
    json_t *args = admit_checkin_prepare(&req, &ring);
    size_t next = 0;
    for (size_t i = 0; i < req.count; i++) {
        const struct admit_checkin_scan *scan = &req.scans[i];
        if (scan->refused.code == NULL) {
            check_scan(scan, json_array_get(args, next++));
            continue;
        }
        /* A scan of a batch refused alone: a known code and a message, nothing else kept. */
        CHECK(req.batch);
        CHECK(admit_checkin_error_status(&scan->refused) == 400 && known_code(scan->refused.code));
        CHECK(scan->refused.message[0] != '\0');
        CHECK(scan->list == NULL && scan->payload == NULL);
        CHECK(scan->nonce == NULL || (strlen(scan->nonce) >= ADMIT_CHECKIN_NONCE_MIN &&
                                      strlen(scan->nonce) <= ADMIT_CHECKIN_NONCE_MAX));
        json_t *answer = admit_checkin_error_json(&scan->refused, scan->nonce);
        CHECK(admit_checkin_answer_status(answer) == 400);
        json_decref(answer);
    }
    CHECK(json_array_size(args) == next);
    char *text = json_dumps(args, JSON_COMPACT); /* what goes to PostgreSQL: valid JSON */
    CHECK(text != NULL);
    free(text);
    json_decref(args);
    admit_checkin_request_free(&req);
    return 0;
}
