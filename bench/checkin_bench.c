/* checkin_bench: what a door scanner adds on top of raw Ed25519 when it decides offline.
 *
 * Baseline: libsodium crypto_sign_verify_detached on the very message a ticket signs (checked at
 * start-up, as ticket_bench does). Candidates, each interleaved with the baseline in rounds
 * (baseline first in even rounds, candidate first in odd ones), as in ticket_bench.c:
 *     offline_verdict  what admit scan does for a line when the server does not answer: copy and
 *                      normalise the line as typed (CR LF, lower case), then
 *                      admit_scan_offline_decide against a synced snapshot of --registrations
 *                      registrations (a quarter of them admitted): signature, event, list,
 *                      registration and admission lookups, and the answer object
 *     verify_path      the same line through admit_ticket_normalize + admit_ticket_verify only
 * Single-threaded. Target (DESIGN.md): offline verification at least 0.9 of raw verify.
 *
 *   checkin_bench [--rounds N] [--seconds-per-round S] [--registrations N] [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "admit/core/base45.h"
#include "admit/core/keys.h"
#include "admit/core/mem.h"
#include "admit/door/scan_offline.h"
#include "admit/core/ticket.h"

#define EVENT_ID 42u
#define LIST_ID  7
#define TARGET   0.90
#define DOMAIN   "admit/ticket/v1"
#define FIELDS   14

static volatile unsigned long sink;

struct state {
    struct admit_signing_key key;
    struct admit_keyring ring;
    struct admit_scan_offline *k;
    uint8_t message[sizeof DOMAIN + FIELDS];
    uint8_t signature[crypto_sign_BYTES];
    char line[ADMIT_TICKET_TEXT_MAX + 8]; /* the ticket as a keyboard wedge types it */
    size_t line_len;
};

static void die(const char *what)
{
    fprintf(stderr, "checkin_bench: %s\n", what);
    exit(1);
}

static void op_raw_verify(struct state *s)
{
    if (crypto_sign_verify_detached(s->signature, s->message, sizeof s->message, s->key.pk) != 0)
        die("raw verify failed");
    sink += 1;
}

static void op_verify_path(struct state *s)
{
    char text[sizeof s->line];
    struct admit_ticket t;
    memcpy(text, s->line, s->line_len);
    size_t n = admit_ticket_normalize(text, s->line_len);
    if (admit_ticket_verify(text, n, &s->ring, &t) != ADMIT_TICKET_VALID)
        die("verify failed");
    sink += t.attendee_id;
}

static void op_offline_verdict(struct state *s)
{
    char text[sizeof s->line];
    memcpy(text, s->line, s->line_len);
    size_t n = admit_ticket_normalize(text, s->line_len);
    json_t *answer = admit_scan_offline_decide(s->k, text, n, "Day 1", false);
    const char *v = json_string_value(json_object_get(answer, "verdict"));
    if (v == NULL || strcmp(v, "valid") != 0)
        die("the offline verdict is not valid");
    sink += (unsigned long)v[0];
    json_decref(answer);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double measure(void (*op)(struct state *), struct state *s, double seconds)
{
    unsigned long n = 0;
    double start = now(), elapsed;
    do {
        for (int i = 0; i < 4; i++)
            op(s);
        n += 4;
        elapsed = now() - start;
    } while (elapsed < seconds);
    return (double)n / elapsed;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, compare);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos, hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

/* A synced snapshot of nregs registrations on Day 1, every fourth one admitted; the ticket
 * checked is registration nregs / 2 + 1 (not admitted). */
static json_t *snapshot(const struct state *s, long nregs)
{
    char id[ADMIT_KEY_ID_STRLEN], hex[ADMIT_KEY_PUBLIC_HEXLEN];
    struct admit_public_key pub = {.key_id = s->key.key_id};
    memcpy(pub.pk, s->key.pk, 32);
    admit_key_id_format(pub.key_id, id);
    admit_key_public_format(&pub, hex);
    json_t *regs = json_array(), *adms = json_array();
    for (long i = 1; i <= nregs; i++) {
        json_array_append_new(regs,
                              json_pack("{s:i, s:s, s:i, s:s, s:s, s:[i]}", "id", (int)i, "status",
                                        "confirmed", "reissue", 0, "name", "Ada Lovelace",
                                        "organisation", "Analytical Engines", "lists", LIST_ID));
        if (i % 4 == 0 && i != nregs / 2 + 1)
            json_array_append_new(adms, json_pack("{s:i, s:i, s:s, s:s, s:b}", "registration_id",
                                                  (int)i, "list_id", LIST_ID, "first_at",
                                                  "2027-10-29T08:00:00.000Z", "first_gate",
                                                  "Gate A", "inside", 1));
    }
    return json_pack("{s:{s:i, s:s}, s:s, s:b, s:[{s:s, s:s}], s:[{s:i, s:s}], s:o, s:o}", "event",
                     "id", EVENT_ID, "slug", "bench", "cursor", "1:1:", "full", 1, "keys", "key_id",
                     id, "public_key", hex, "lists", "id", LIST_ID, "name", "Day 1",
                     "registrations", regs, "admissions", adms);
}

static const char *arg_of(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

int main(int argc, char **argv)
{
    struct state s;
    char ticket[ADMIT_TICKET_TEXT_MAX];
    uint8_t binary[FIELDS + crypto_sign_BYTES];
    size_t binary_len = 0;
    long rounds = atol(arg_of(argc, argv, "--rounds", "15"));
    double seconds = atof(arg_of(argc, argv, "--seconds-per-round", "0.2"));
    long nregs = atol(arg_of(argc, argv, "--registrations", "2000"));
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: checkin_bench [--rounds N] [--seconds-per-round S] "
                   "[--registrations N] [--json]\n");
            return 0;
        }
    }
    if (rounds < 1 || seconds <= 0 || nregs < 4)
        die("usage: checkin_bench [--rounds N>=1] [--seconds-per-round S>0] "
            "[--registrations N>=4] [--json]");
    memset(&s, 0, sizeof s);
    if (admit_init() != ADMIT_OK)
        die("cannot initialise libsodium");
    admit_key_generate(&s.key);
    admit_keyring_init(&s.ring);
    admit_keyring_add_public_of(&s.ring, &s.key);
    uint32_t attendee = (uint32_t)(nregs / 2 + 1);
    if (admit_ticket_sign(&s.key, EVENT_ID, attendee, 0, ticket) != ADMIT_OK)
        die("cannot sign");
    /* The baseline verifies the very message the ticket signs (checked: Ed25519 is
     * deterministic, so signing it again must give the ticket's signature). */
    if (admit_base45_decode(ticket + 4, ADMIT_TICKET_TEXT_LEN - 4, binary, sizeof binary,
                            &binary_len) != ADMIT_BASE45_OK ||
        binary_len != sizeof binary)
        die("the ticket format changed: update bench/checkin_bench.c");
    memcpy(s.message, DOMAIN, sizeof DOMAIN);
    memcpy(s.message + sizeof DOMAIN, binary, FIELDS);
    crypto_sign_detached(s.signature, NULL, s.message, sizeof s.message, s.key.sk);
    if (memcmp(s.signature, binary + FIELDS, crypto_sign_BYTES) != 0)
        die("the ticket signs another message: update bench/checkin_bench.c");
    /* As typed: lower case (Caps Lock off on the scanner), CR LF. */
    s.line_len = (size_t)snprintf(s.line, sizeof s.line, "%s\r\n", ticket);
    for (size_t i = 0; i < s.line_len; i++)
        if (s.line[i] >= 'A' && s.line[i] <= 'Z')
            s.line[i] = (char)(s.line[i] - 'A' + 'a');
    s.k = admit_scan_offline_new();
    json_t *snap = snapshot(&s, nregs);
    if (admit_scan_offline_load(s.k, snap) != ADMIT_OK)
        die("the snapshot does not load");
    json_decref(snap);

    struct {
        const char *name;
        void (*op)(struct state *);
    } candidates[] = {{"offline_verdict", op_offline_verdict}, {"verify_path", op_verify_path}};
    double *base_ops = admit_xcalloc((size_t)rounds * 2, sizeof(double));
    double *cand_ops[2], *ratios[2];
    size_t nbase = 0;
    for (int c = 0; c < 2; c++) {
        cand_ops[c] = admit_xcalloc((size_t)rounds, sizeof(double));
        ratios[c] = admit_xcalloc((size_t)rounds, sizeof(double));
        measure(candidates[c].op, &s, 0.05); /* warm-up */
    }
    measure(op_raw_verify, &s, 0.05);
    for (long r = 0; r < rounds; r++) {
        for (int c = 0; c < 2; c++) {
            double b, x;
            if (r % 2 == 0) {
                b = measure(op_raw_verify, &s, seconds);
                x = measure(candidates[c].op, &s, seconds);
            } else {
                x = measure(candidates[c].op, &s, seconds);
                b = measure(op_raw_verify, &s, seconds);
            }
            base_ops[nbase++] = b;
            cand_ops[c][r] = x;
            ratios[c][r] = x / b;
        }
    }
    double base = quantile(base_ops, nbase, 0.5);
    double med[2], p25[2], p75[2], ops[2];
    for (int c = 0; c < 2; c++) {
        ops[c] = quantile(cand_ops[c], (size_t)rounds, 0.5);
        p25[c] = quantile(ratios[c], (size_t)rounds, 0.25);
        p75[c] = quantile(ratios[c], (size_t)rounds, 0.75);
        med[c] = quantile(ratios[c], (size_t)rounds, 0.5);
    }
    if (json) {
        printf(
            "{\"rounds\":%ld,\"seconds_per_round\":%.3f,\"registrations\":%ld,"
            "\"raw_verify_ops\":%.0f,\"offline_verdict_ops\":%.0f,\"offline_verdict_ratio\":%.3f,"
            "\"verify_path_ops\":%.0f,\"verify_path_ratio\":%.3f,\"target\":%.2f,"
            "\"target_met\":%s}\n",
            rounds, seconds, nregs, base, ops[0], med[0], ops[1], med[1], TARGET,
            med[0] >= TARGET ? "true" : "false");
    } else {
        printf("checkin_bench: %ld rounds, %.2f s per measurement, snapshot of %ld "
               "registrations; medians; ratio = median of per-round candidate/raw_verify\n\n",
               rounds, seconds, nregs);
        printf("%-16s %12s %8s %7s %14s\n", "name", "median op/s", "us/op", "ratio", "(p25-p75)");
        printf("%-16s %12.0f %8.1f %7s %14s\n", "raw_verify", base, 1e6 / base, "1", "");
        for (int c = 0; c < 2; c++)
            printf("%-16s %12.0f %8.1f %7.3f  (%.3f-%.3f)\n", candidates[c].name, ops[c],
                   1e6 / ops[c], med[c], p25[c], p75[c]);
        printf("\noffline verification / raw verify: %.3f (target >= %.2f): %s\n", med[0], TARGET,
               med[0] >= TARGET ? "met" : "NOT met");
    }
    for (int c = 0; c < 2; c++) {
        free(cand_ops[c]);
        free(ratios[c]);
    }
    free(base_ops);
    admit_scan_offline_free(s.k);
    admit_keyring_free(&s.ring);
    admit_key_wipe(&s.key);
    return 0;
}
