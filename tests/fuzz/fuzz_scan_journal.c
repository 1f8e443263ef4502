/* Fuzz target for the door scanner's journal reader (lib/door/scan_state.c): journal.jsonl is read
 * back at every start, after crashes, power cuts and disks that lie, so any bytes must parse
 * without harm.
 *
 * Properties: every record handed to the callback is a JSON object of one of the four kinds with
 * the fields the header promises (a valid nonce, time and verdict where they belong); the
 * records, bad lines and torn tail together account for every line of the input; a complete
 * journal (ending in a newline) has no torn tail. The seed corpus (corpus/scan_journal/) holds
 * journals written by admit scan, with torn and damaged lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/checkin/checkin.h"
#include "admit/door/scan_state.h"
#include "fuzz.h"

struct tally {
    size_t records;
};

static void nonce_ok(const json_t *r)
{
    const char *nonce = json_string_value(json_object_get(r, "nonce"));
    CHECK(nonce != NULL);
    CHECK(strlen(nonce) >= ADMIT_CHECKIN_NONCE_MIN && strlen(nonce) <= ADMIT_CHECKIN_NONCE_MAX);
}

static void on_record(void *ctx, enum admit_journal_kind kind, json_t *record)
{
    struct tally *t = ctx;
    t->records++;
    CHECK(json_is_object(record));
    switch (kind) {
    case ADMIT_JOURNAL_SCAN: {
        nonce_ok(record);
        CHECK(admit_checkin_time_valid(json_string_value(json_object_get(record, "scanned_at"))));
        const json_t *local = json_object_get(record, "local");
        CHECK(local == NULL || admit_scan_answer_valid(local));
        CHECK(json_is_string(json_object_get(record, "payload")));
        break;
    }
    case ADMIT_JOURNAL_LOCAL:
    case ADMIT_JOURNAL_SERVER:
        nonce_ok(record);
        CHECK(admit_scan_answer_valid(json_object_get(record, "answer")));
        CHECK(admit_verdict_parse(json_string_value(
                  json_object_get(json_object_get(record, "answer"), "verdict"))) >= 0);
        break;
    case ADMIT_JOURNAL_SYNC:
        break;
    default:
        CHECK(!"unknown kind");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tally t = {0};
    size_t bad = 0, torn = 0;
    if (size > (1u << 20))
        return 0;
    admit_scan_journal_parse((const char *)data, size, on_record, &t, &bad, &torn);
    size_t lines = 0, blank = 0, start = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '\n')
            continue;
        if (i == start)
            blank++;
        lines++;
        start = i + 1;
    }
    CHECK(t.records + bad + blank == lines);
    CHECK(torn == size - start);
    CHECK(size == 0 || data[size - 1] != '\n' || torn == 0);
    return 0;
}
