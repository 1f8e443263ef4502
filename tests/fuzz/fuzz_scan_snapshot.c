/* Fuzz target for the door scanner's offline knowledge (lib/door/scan_offline.c): the sync answers
 * it downloads and the snapshot.json it reads back at start.
 *
 * Each input is parsed as JSON and, when it passes admit_scan_offline_snapshot_valid, loaded and
 * merged into a fixed valid snapshot (as an incremental sync); both must then decide a real
 * ticket without harm. Properties: a snapshot the validator refuses is refused by load and merge
 * too (and changes nothing); one it accepts loads; a merge keeps the snapshot valid; every
 * decision is an answer object with a known verdict. Seeds: corpus/scan_snapshot/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/checkin/checkin.h"
#include "admit/core/keys.h"
#include "admit/door/scan_offline.h"
#include "admit/door/scan_state.h"
#include "admit/core/ticket.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static char ticket[ADMIT_TICKET_TEXT_MAX];
static json_t *base;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct admit_signing_key key;
    static const char seed[33] = "admit fuzz ticket key: current!!";
    char id[ADMIT_KEY_ID_STRLEN], hex[ADMIT_KEY_PUBLIC_HEXLEN];
    (void)argc;
    (void)argv;
    CHECK(admit_init() == ADMIT_OK);
    CHECK(crypto_sign_seed_keypair(key.pk, key.sk, (const unsigned char *)seed) == 0);
    key.key_id = admit_key_id(key.pk);
    CHECK(admit_ticket_sign(&key, 1, 1, 0, ticket) == ADMIT_OK);
    struct admit_public_key pub = {.key_id = key.key_id};
    memcpy(pub.pk, key.pk, 32);
    admit_key_id_format(key.key_id, id);
    admit_key_public_format(&pub, hex);
    admit_key_wipe(&key);
    base = json_pack("{s:{s:i, s:s}, s:s, s:b, s:[{s:s, s:s}], s:[{s:i, s:s}], "
                     "s:[{s:i, s:s, s:i, s:s, s:s, s:[i]}], s:[]}",
                     "event", "id", 1, "slug", "conf", "cursor", "1:1:", "full", 1, "keys",
                     "key_id", id, "public_key", hex, "lists", "id", 1, "name", "Day 1",
                     "registrations", "id", 1, "status", "confirmed", "reissue", 0, "name", "A",
                     "organisation", "O", "lists", 1, "admissions");
    CHECK(admit_scan_offline_snapshot_valid(base));
    return 0;
}

static void decide_all(const struct admit_scan_offline *k)
{
    static const char *const lists[] = {"Day 1", "Day 2", ""};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (int exit = 0; exit < 2; exit++) {
            json_t *a = admit_scan_offline_decide(k, ticket, strlen(ticket), lists[i], exit);
            CHECK(admit_scan_answer_valid(a));
            json_decref(a);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    if (size > (1u << 20))
        return 0;
    json_t *input = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (input == NULL)
        return 0;
    bool valid = admit_scan_offline_snapshot_valid(input);
    struct admit_scan_offline *k = admit_scan_offline_new();
    CHECK((admit_scan_offline_load(k, input) == ADMIT_OK) == valid);
    decide_all(k);

    json_t *merged = json_deep_copy(base);
    json_t *before = json_deep_copy(base);
    enum admit_rc rc = admit_scan_offline_merge(&merged, input);
    CHECK((rc == ADMIT_OK) == valid);
    if (rc == ADMIT_OK) {
        CHECK(admit_scan_offline_snapshot_valid(merged));
        CHECK(admit_scan_offline_load(k, merged) == ADMIT_OK);
        decide_all(k);
        /* Own scans laid over it. */
        json_t *answer = admit_scan_offline_decide(k, ticket, strlen(ticket), "Day 1", false);
        admit_scan_offline_apply(k, answer, "Day 1", false, "2027-10-29T09:00:00Z", "G");
        json_decref(answer);
        decide_all(k);
    } else {
        CHECK(json_equal(merged, before));
    }
    json_decref(before);
    json_decref(merged);
    admit_scan_offline_free(k);
    json_decref(input);
    return 0;
}
