/* ticket_bench: what admit adds on top of raw Ed25519 when it issues and verifies tickets.
 *
 * Each candidate is measured in rounds against its baseline, back to back (baseline then
 * candidate, then the other way round in the next round, so a drift in CPU speed favours
 * neither), because CPU-bound figures on the project machine move by a quarter from one minute
 * to the next. A result is the median ops/s over the rounds and the median of the per-round
 * ratios candidate/baseline; only the ratio is comparable between runs.
 *
 * Baselines: raw libsodium crypto_sign_detached / crypto_sign_verify_detached on the very
 * message a ticket signs (checked at start-up: the raw signature must equal the one inside the
 * ticket). Candidates: the admit paths that wrap them (see bench/README.md). Single-threaded. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admit/core/base45.h"
#include "admit/core/buf.h"
#include "admit/core/keys.h"
#include "admit/core/mem.h"
#include "admit/core/qr.h"
#include "admit/core/ticket.h"

#define EVENT_ID      42u
#define ATTENDEE_ID   1337u
#define REISSUE       3u
#define PNG_PX        8u /* pixels per module, as `admit ticket --png` draws by default */
#define IMAGE_MAX     (4u << 20)
#define VERIFY_TARGET 0.90

/* The message a version-1 ticket signs: "admit/ticket/v1" with its NUL, then 14 bytes of
 * fields (lib/core/ticket.c). 30 bytes. */
#define DOMAIN      "admit/ticket/v1"
#define FIELDS_LEN  14
#define MESSAGE_LEN (sizeof DOMAIN + FIELDS_LEN)
#define BINARY_LEN  (FIELDS_LEN + crypto_sign_BYTES)
#define PREFIX_LEN  (sizeof ADMIT_TICKET_PREFIX - 1)

/* Results flow into this so that no call can be optimised away. */
static volatile uint64_t sink;

/* Everything the operations work on; built once, reused by every call. */
struct bench_state {
    struct admit_signing_key key;
    struct admit_keyring ring1;    /* the signing key only */
    struct admit_keyring ring3;    /* two other keys first, then the signing key: after rotation */
    struct admit_keyring ring_own; /* the signing key as admitd holds it: checked by signing */
    uint8_t message[MESSAGE_LEN];
    uint8_t signature[crypto_sign_BYTES];
    char ticket[ADMIT_TICKET_TEXT_MAX];
    struct admit_qr *qr; /* of ticket, for the render-only benchmarks */
    struct admit_buf image;
};

static void die(const char *what)
{
    fprintf(stderr, "ticket_bench: %s\n", what);
    exit(1);
}

static void op_raw_sign(struct bench_state *s)
{
    if (crypto_sign_detached(s->signature, NULL, s->message, sizeof s->message, s->key.sk) != 0)
        die("crypto_sign_detached failed");
    sink += s->signature[0];
}

static void op_raw_verify(struct bench_state *s)
{
    if (crypto_sign_verify_detached(s->signature, s->message, sizeof s->message, s->key.pk) != 0)
        die("crypto_sign_verify_detached rejected the signature");
    sink += 1;
}

static void op_ticket_sign(struct bench_state *s)
{
    char text[ADMIT_TICKET_TEXT_MAX];
    if (admit_ticket_sign(&s->key, EVENT_ID, ATTENDEE_ID, REISSUE, text) != ADMIT_OK)
        die("admit_ticket_sign failed");
    sink += (unsigned char)text[ADMIT_TICKET_TEXT_LEN - 1];
}

/* What the server does when it issues a ticket: sign it, encode the QR code, render it. */
static void op_issue_path(struct bench_state *s)
{
    char text[ADMIT_TICKET_TEXT_MAX];
    struct admit_qr *qr = NULL;
    if (admit_ticket_sign(&s->key, EVENT_ID, ATTENDEE_ID, REISSUE, text) != ADMIT_OK)
        die("admit_ticket_sign failed");
    if (admit_qr_encode(text, &qr) != ADMIT_OK)
        die("admit_qr_encode failed");
    admit_buf_reset(&s->image);
    if (admit_qr_svg(qr, &s->image) != ADMIT_OK)
        die("admit_qr_svg failed");
    sink += s->image.len;
    admit_qr_free(qr);
}

static void op_qr_encode(struct bench_state *s)
{
    struct admit_qr *qr = NULL;
    if (admit_qr_encode(s->ticket, &qr) != ADMIT_OK)
        die("admit_qr_encode failed");
    sink += (uint64_t)qr->width;
    admit_qr_free(qr);
}

static void op_qr_svg(struct bench_state *s)
{
    admit_buf_reset(&s->image);
    if (admit_qr_svg(s->qr, &s->image) != ADMIT_OK)
        die("admit_qr_svg failed");
    sink += s->image.len;
}

static void op_qr_png(struct bench_state *s)
{
    admit_buf_reset(&s->image);
    if (admit_qr_png(s->qr, PNG_PX, &s->image) != ADMIT_OK)
        die("admit_qr_png failed");
    sink += s->image.len;
}

static void verify_with(const struct bench_state *s, const struct admit_keyring *ring)
{
    struct admit_ticket t;
    if (admit_ticket_verify(s->ticket, ADMIT_TICKET_TEXT_LEN, ring, &t) != ADMIT_TICKET_VALID)
        die("admit_ticket_verify rejected the ticket");
    sink += t.attendee_id;
}

static void op_verify_1(struct bench_state *s)
{
    verify_with(s, &s->ring1);
}

static void op_verify_3(struct bench_state *s)
{
    verify_with(s, &s->ring3);
}

static void op_verify_own(struct bench_state *s)
{
    verify_with(s, &s->ring_own);
}

enum bench_id {
    RAW_SIGN,
    TICKET_SIGN,
    ISSUE_PATH,
    QR_ENCODE,
    QR_SVG,
    QR_PNG,
    RAW_VERIFY,
    VERIFY_1,
    VERIFY_3,
    VERIFY_OWN,
    BENCH_COUNT
};

struct bench {
    const char *name;
    const char *what;
    int baseline; /* enum bench_id, or -1 for a baseline */
    void (*op)(struct bench_state *);
};

static const struct bench benches[BENCH_COUNT] = {
    [RAW_SIGN] = {"raw_sign", "libsodium crypto_sign_detached, 30-byte message", -1, op_raw_sign},
    [TICKET_SIGN] = {"ticket_sign", "admit_ticket_sign (sign + Base45 text)", RAW_SIGN,
                     op_ticket_sign},
    [ISSUE_PATH] = {"issue_path", "ticket_sign + qr_encode + qr_svg (reused buffer)", RAW_SIGN,
                    op_issue_path},
    [QR_ENCODE] = {"qr_encode", "admit_qr_encode alone (libqrencode, level M)", RAW_SIGN,
                   op_qr_encode},
    [QR_SVG] = {"qr_svg", "admit_qr_svg alone (reused buffer)", RAW_SIGN, op_qr_svg},
    [QR_PNG] = {"qr_png", "admit_qr_png alone, 8 px/module (reused buffer)", RAW_SIGN, op_qr_png},
    [RAW_VERIFY] = {"raw_verify", "libsodium crypto_sign_verify_detached, 30-byte message", -1,
                    op_raw_verify},
    [VERIFY_1] = {"verify_path_1key", "admit_ticket_verify on the text, keyring of 1", RAW_VERIFY,
                  op_verify_1},
    [VERIFY_3] = {"verify_path_3keys", "admit_ticket_verify on the text, keyring of 3", RAW_VERIFY,
                  op_verify_3},
    [VERIFY_OWN] = {"verify_path_own", "admit_ticket_verify, admitd's ring (own key: signs again)",
                    RAW_VERIFY, op_verify_own},
};

/* Settings: one table, from which --help is printed. */
struct settings {
    long rounds;
    double seconds;
    int json;
};

enum opt_kind { OPT_LONG, OPT_DOUBLE, OPT_FLAG };

struct opt {
    const char *name;
    enum opt_kind kind;
    size_t offset;
    double min, max;
    const char *help;
};

static const struct opt opts[] = {
    {"rounds", OPT_LONG, offsetof(struct settings, rounds), 1, 1000,
     "rounds of every baseline/candidate pair (default 15)"},
    {"seconds-per-round", OPT_DOUBLE, offsetof(struct settings, seconds), 0.01, 60,
     "seconds of each measurement in a round (default 0.2)"},
    {"json", OPT_FLAG, offsetof(struct settings, json), 0, 1,
     "print the results as one JSON object instead of a table"},
};
#define OPT_COUNT (sizeof opts / sizeof opts[0])

static void usage(FILE *to)
{
    fprintf(to, "usage: ticket_bench [--rounds N] [--seconds-per-round S] [--json]\n"
                "Measures admit's ticket issue and verify paths against raw libsodium, "
                "interleaved.\n");
    for (size_t i = 0; i < OPT_COUNT; i++)
        fprintf(to, "  --%-20s %s\n", opts[i].name, opts[i].help);
}

static int parse_args(int argc, char **argv, struct settings *set)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const struct opt *o = NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        for (size_t k = 0; k < OPT_COUNT && o == NULL; k++)
            if (strncmp(arg, "--", 2) == 0 && strcmp(arg + 2, opts[k].name) == 0)
                o = &opts[k];
        if (o == NULL) {
            fprintf(stderr, "ticket_bench: unknown option %s\n", arg);
            return -1;
        }
        char *field = (char *)set + o->offset;
        if (o->kind == OPT_FLAG) {
            *(int *)(void *)field = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "ticket_bench: --%s needs a value\n", o->name);
            return -1;
        }
        const char *value = argv[++i];
        char *end = NULL;
        errno = 0;
        double v = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max ||
            (o->kind == OPT_LONG && v != (double)(long)v)) {
            fprintf(stderr, "ticket_bench: --%s wants a %s from %g to %g, not \"%s\"\n", o->name,
                    o->kind == OPT_LONG ? "whole number" : "number", o->min, o->max, value);
            return -1;
        }
        if (o->kind == OPT_LONG)
            *(long *)(void *)field = (long)v;
        else
            *(double *)(void *)field = v;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs op for about seconds and returns operations per second. The clock is read every few
 * calls; the fastest operation here takes microseconds, so reading it costs nothing visible. */
static double measure(const struct bench *b, struct bench_state *s, double seconds)
{
    uint64_t n = 0;
    double start = now(), elapsed;
    do {
        for (int i = 0; i < 4; i++)
            b->op(s);
        n += 4;
        elapsed = now() - start;
    } while (elapsed < seconds);
    return (double)n / elapsed;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place and returns the value at quantile q (0.5: the median), interpolated. */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, compare_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

static void setup(struct bench_state *s)
{
    struct admit_signing_key other;
    uint8_t binary[BINARY_LEN];
    size_t binary_len = 0;

    memset(s, 0, sizeof *s);
    if (admit_init() != ADMIT_OK)
        die("cannot initialise libsodium");
    admit_key_generate(&s->key);
    admit_keyring_init(&s->ring1);
    admit_keyring_init(&s->ring3);
    admit_keyring_add_public_of(&s->ring1, &s->key);
    for (int i = 0; i < 2; i++) {
        admit_key_generate(&other);
        admit_keyring_add_public_of(&s->ring3, &other);
        admit_key_wipe(&other);
    }
    admit_keyring_add_public_of(&s->ring3, &s->key);
    admit_keyring_init(&s->ring_own);
    admit_keyring_add_own(&s->ring_own, &s->key);

    if (admit_ticket_sign(&s->key, EVENT_ID, ATTENDEE_ID, REISSUE, s->ticket) != ADMIT_OK)
        die("admit_ticket_sign failed");
    /* The baselines sign the very message the ticket signs: check it by comparing signatures
     * (Ed25519 is deterministic), so that a change of format cannot skew the comparison. */
    memcpy(s->message, DOMAIN, sizeof DOMAIN);
    if (admit_base45_decode(s->ticket + PREFIX_LEN, strlen(s->ticket) - PREFIX_LEN, binary,
                            sizeof binary, &binary_len) != ADMIT_BASE45_OK ||
        binary_len != BINARY_LEN)
        die("the ticket format changed: update the message layout in bench/ticket_bench.c");
    memcpy(s->message + sizeof DOMAIN, binary, FIELDS_LEN);
    op_raw_sign(s);
    if (memcmp(s->signature, binary + FIELDS_LEN, crypto_sign_BYTES) != 0)
        die("the ticket signs another message: update bench/ticket_bench.c");

    if (admit_qr_encode(s->ticket, &s->qr) != ADMIT_OK)
        die("admit_qr_encode failed");
    admit_buf_init(&s->image, IMAGE_MAX);
}

static void teardown(struct bench_state *s)
{
    admit_qr_free(s->qr);
    admit_buf_free(&s->image);
    admit_keyring_free(&s->ring1);
    admit_keyring_free(&s->ring3);
    admit_keyring_free(&s->ring_own);
    admit_key_wipe(&s->key);
}

struct result {
    double *ops; /* every ops/s figure measured (baselines: one per pair per round) */
    size_t nops;
    double *ratios; /* candidates: candidate/baseline, one per round */
    size_t nratios;
    double median_ops, median_ratio, ratio_p25, ratio_p75;
};

static void run(struct bench_state *s, const struct settings *set, struct result *res)
{
    size_t rounds = (size_t)set->rounds;
    int progress = !set->json && isatty(STDERR_FILENO);

    for (int b = 0; b < BENCH_COUNT; b++) {
        /* A baseline is measured once per candidate that uses it, per round. */
        res[b].ops = admit_xcalloc(rounds * BENCH_COUNT, sizeof(double));
        res[b].ratios = admit_xcalloc(rounds, sizeof(double));
        /* Warm-up: page in code and data, let the buffers reach their size. */
        measure(&benches[b], s, 0.05);
    }
    for (size_t r = 0; r < rounds; r++) {
        if (progress)
            fprintf(stderr, "\rround %zu/%zu", r + 1, rounds);
        for (int c = 0; c < BENCH_COUNT; c++) {
            int base = benches[c].baseline;
            if (base < 0)
                continue;
            double c_ops, b_ops;
            if (r % 2 == 0) {
                b_ops = measure(&benches[base], s, set->seconds);
                c_ops = measure(&benches[c], s, set->seconds);
            } else {
                c_ops = measure(&benches[c], s, set->seconds);
                b_ops = measure(&benches[base], s, set->seconds);
            }
            res[base].ops[res[base].nops++] = b_ops;
            res[c].ops[res[c].nops++] = c_ops;
            res[c].ratios[res[c].nratios++] = c_ops / b_ops;
        }
    }
    if (progress)
        fprintf(stderr, "\r%*s\r", 20, "");
    for (int b = 0; b < BENCH_COUNT; b++) {
        res[b].median_ops = quantile(res[b].ops, res[b].nops, 0.5);
        if (res[b].nratios > 0) {
            res[b].median_ratio = quantile(res[b].ratios, res[b].nratios, 0.5);
            res[b].ratio_p25 = quantile(res[b].ratios, res[b].nratios, 0.25);
            res[b].ratio_p75 = quantile(res[b].ratios, res[b].nratios, 0.75);
        } else {
            res[b].median_ratio = res[b].ratio_p25 = res[b].ratio_p75 = 1.0;
        }
    }
}

static void print_table(const struct bench_state *s, const struct settings *set,
                        const struct result *res)
{
    printf("ticket_bench: %ld rounds, %.2f s per measurement, each candidate interleaved with "
           "its baseline;\nmedians over rounds; ratio = median of per-round candidate/baseline "
           "(p25-p75). QR version %d.\n\n",
           set->rounds, set->seconds, s->qr->version);
    printf("%-18s %12s %10s %6s %13s  %s\n", "name", "median op/s", "us/op", "ratio", "(p25-p75)",
           "what");
    for (int b = 0; b < BENCH_COUNT; b++) {
        const struct result *r = &res[b];
        if (benches[b].baseline < 0)
            printf("%-18s %12.0f %10.1f %6s %13s  %s\n", benches[b].name, r->median_ops,
                   1e6 / r->median_ops, "1", "(baseline)", benches[b].what);
        else
            printf("%-18s %12.0f %10.1f %6.3f  (%.3f-%.3f)  %s vs %s\n", benches[b].name,
                   r->median_ops, 1e6 / r->median_ops, r->median_ratio, r->ratio_p25, r->ratio_p75,
                   benches[b].what, benches[benches[b].baseline].name);
    }
    printf("\nverify path / raw verify: %.3f (target >= %.2f)%s\n", res[VERIFY_1].median_ratio,
           VERIFY_TARGET, res[VERIFY_1].median_ratio >= VERIFY_TARGET ? "" : "  BELOW TARGET");
    printf("verify path, 3 keys / raw verify: %.3f\n", res[VERIFY_3].median_ratio);
    printf("admitd's verify path (own key) / raw verify: %.3f\n", res[VERIFY_OWN].median_ratio);
}

static void print_json(const struct bench_state *s, const struct settings *set,
                       const struct result *res)
{
    printf("{\"benchmark\":\"ticket_bench\",\"rounds\":%ld,\"seconds_per_round\":%g,"
           "\"qr_version\":%d,\"results\":[",
           set->rounds, set->seconds, s->qr->version);
    for (int b = 0; b < BENCH_COUNT; b++) {
        const struct result *r = &res[b];
        printf("%s{\"name\":\"%s\",\"what\":\"%s\",\"median_ops_per_sec\":%.1f,"
               "\"median_us_per_op\":%.3f,",
               b ? "," : "", benches[b].name, benches[b].what, r->median_ops, 1e6 / r->median_ops);
        if (benches[b].baseline < 0)
            printf("\"baseline\":null}");
        else
            printf("\"baseline\":\"%s\",\"median_ratio\":%.4f,\"ratio_p25\":%.4f,"
                   "\"ratio_p75\":%.4f}",
                   benches[benches[b].baseline].name, r->median_ratio, r->ratio_p25, r->ratio_p75);
    }
    printf("],\"verify_ratio\":%.4f,\"verify_ratio_3keys\":%.4f,\"verify_ratio_own\":%.4f,"
           "\"verify_target\":%.2f,\"verify_target_met\":%s}\n",
           res[VERIFY_1].median_ratio, res[VERIFY_3].median_ratio, res[VERIFY_OWN].median_ratio,
           VERIFY_TARGET, res[VERIFY_1].median_ratio >= VERIFY_TARGET ? "true" : "false");
}

int main(int argc, char **argv)
{
    struct settings set = {15, 0.2, 0};
    struct bench_state state;
    struct result res[BENCH_COUNT];

    if (parse_args(argc, argv, &set) != 0) {
        usage(stderr);
        return 2;
    }
    memset(res, 0, sizeof res);
    setup(&state);
    run(&state, &set, res);
    if (set.json)
        print_json(&state, &set, res);
    else
        print_table(&state, &set, res);
    for (int b = 0; b < BENCH_COUNT; b++) {
        free(res[b].ops);
        free(res[b].ratios);
    }
    teardown(&state);
    return 0;
}
