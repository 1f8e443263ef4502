/* checkin_load: N door scanners checking tickets in through the check-in API at once, as fast as
 * the server answers; reports scans per second and the latency of each scan (p50, p99, max).
 *
 * Each thread is one scanner: its own device token (one line of --tokens per thread), its own
 * kept-alive connection (libcurl), its own share of the tickets (registration ids --first ..
 * --first + --count - 1, dealt round robin), one POST /api/v1/checkins per scan with a fresh
 * nonce, exactly what admit scan sends online. Every ticket is scanned once, so every scan is a
 * new admission: the server's full path (signature, device, registration, list, the
 * INSERT ... ON CONFLICT, the scan log). Tickets are signed before the clock starts. With
 * --rate R each scanner scans R tickets a second on average (a door's pace) instead of as fast
 * as the server answers, so that the latency measured is a door's, not a queue's. As with
 * pgbench --rate, the baseline it is compared with, the scans of each scanner arrive at random
 * (a Poisson process: exponential gaps of mean 1/R), independently of the other scanners, and a
 * scan's latency counts from when it was due, so a scan delayed by the one before it counts
 * that delay too. (Until 2026-11-28 every scanner scanned at the same instants, every 1/R
 * seconds: eight doors in step, a burst of eight scans at once that no venue produces.)
 *
 *   checkin_load --url http://127.0.0.1:8080 --tokens tokens.txt --key keys/ticket-signing.key
 *                --event 1 --first 1 --count 50000 --threads 8 --seconds 10 [--json]
 *
 * Driven by bench/checkin_online.sh, which sets all of that up against a private PostgreSQL and
 * compares with pgbench in the same run (bench/README.md). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "admit/core/buf.h"
#include "admit/core/keys.h"
#include "admit/core/mem.h"
#include "admit/core/ticket.h"
#include "admit/core/token.h"

#define MAX_THREADS 256

struct scanner {
    pthread_t thread;
    const char *url;
    char authorization[64];
    const char *list;
    char **tickets; /* this scanner's share */
    size_t ntickets;
    double deadline;  /* CLOCK_MONOTONIC seconds */
    double interval;  /* mean seconds between scans (--rate), 0: as fast as answered */
    long *latency_us; /* one per scan done */
    size_t done;
    size_t valid, other, errors;
    struct admit_buf answer;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An exponential gap of mean `mean` seconds: the time to a Poisson process's next event. */
static double exponential(double mean)
{
    /* u uniform in (0, 1]: never log(0). */
    double u = ((double)randombytes_uniform(1u << 30) + 1.0) / (double)(1u << 30);
    return -mean * log(u);
}

static void die(const char *message)
{
    fprintf(stderr, "checkin_load: %s\n", message);
    exit(2);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct scanner *s = ctx;
    return admit_buf_append(&s->answer, data, size * nmemb) == ADMIT_OK ? size * nmemb : 0;
}

static void *scan_all(void *arg)
{
    struct scanner *s = arg;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    char body[512];
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, s->authorization);
    curl_easy_setopt(curl, CURLOPT_URL, s->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
    double due = now_s();
    for (size_t i = 0; i < s->ntickets && now_s() < s->deadline; i++) {
        char nonce[ADMIT_TOKEN_SIZE];
        double t0;
        if (s->interval > 0) {
            /* People arriving at random at the door's pace: the latency is then the door's,
             * not the queue's. It counts from when the scan was due (pgbench --rate does). */
            due += exponential(s->interval);
            if (due >= s->deadline)
                break;
            double wait = due - now_s();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        admit_token_new(nonce);
        snprintf(body, sizeof body, "{\"payload\":\"%s\",\"list\":\"%s\",\"nonce\":\"%s\"}",
                 s->tickets[i], s->list, nonce);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        admit_buf_reset(&s->answer);
        t0 = s->interval > 0 ? due : now_s();
        CURLcode rc = curl_easy_perform(curl);
        double t1 = now_s();
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        s->latency_us[s->done++] = (long)((t1 - t0) * 1e6);
        if (rc != CURLE_OK || status != 200)
            s->errors++;
        else if (strstr(admit_buf_cstr(&s->answer), "\"verdict\":\"valid\"") != NULL)
            s->valid++;
        else
            s->other++;
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static const char *arg_of(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

static bool flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    const char *url = arg_of(argc, argv, "--url", NULL);
    const char *tokens_path = arg_of(argc, argv, "--tokens", NULL);
    const char *key_path = arg_of(argc, argv, "--key", NULL);
    const char *list = arg_of(argc, argv, "--list", "Day 1");
    long event = atol(arg_of(argc, argv, "--event", "1"));
    long first = atol(arg_of(argc, argv, "--first", "1"));
    long count = atol(arg_of(argc, argv, "--count", "10000"));
    int threads = atoi(arg_of(argc, argv, "--threads", "8"));
    double seconds = atof(arg_of(argc, argv, "--seconds", "10"));
    double rate = atof(arg_of(argc, argv, "--rate", "0"));
    struct admit_signing_key key;
    char endpoint[512];
    if (url == NULL || tokens_path == NULL || key_path == NULL)
        die("usage: checkin_load --url URL --tokens FILE --key FILE [--event N] [--first N] "
            "[--count N] [--threads N] [--seconds S] [--rate R] [--list NAME] [--json]");
    if (threads < 1 || threads > MAX_THREADS || count < threads)
        die("--threads must be 1..256 and --count at least --threads");
    if (admit_init() != ADMIT_OK || admit_key_load_secret(key_path, &key) != ADMIT_OK)
        die("cannot load the signing key (--key)");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(endpoint, sizeof endpoint, "%s/api/v1/checkins", url);

    FILE *f = fopen(tokens_path, "r");
    if (f == NULL)
        die("cannot read the tokens file (--tokens)");
    struct scanner *scanners = admit_xcalloc((size_t)threads, sizeof *scanners);
    for (int t = 0; t < threads; t++) {
        char line[128];
        if (fgets(line, sizeof line, f) == NULL)
            die("the tokens file holds fewer tokens than --threads");
        line[strcspn(line, "\r\n")] = '\0';
        if (!admit_token_valid(line))
            die("the tokens file holds a line that is not a device token");
        struct scanner *s = &scanners[t];
        s->url = endpoint;
        s->list = list;
        snprintf(s->authorization, sizeof s->authorization, "Authorization: Bearer %.22s", line);
        s->tickets = admit_xcalloc((size_t)count / (size_t)threads + 1, sizeof *s->tickets);
        s->latency_us = admit_xcalloc((size_t)count / (size_t)threads + 1, sizeof(long));
        admit_buf_init(&s->answer, 1u << 16);
    }
    fclose(f);
    for (long i = 0; i < count; i++) {
        struct scanner *s = &scanners[i % threads];
        s->tickets[s->ntickets] = admit_xmalloc(ADMIT_TICKET_TEXT_MAX);
        if (admit_ticket_sign(&key, (uint32_t)event, (uint32_t)(first + i), 0,
                              s->tickets[s->ntickets]) != ADMIT_OK)
            die("cannot sign");
        s->ntickets++;
    }
    admit_key_wipe(&key);

    double start = now_s();
    for (int t = 0; t < threads; t++) {
        scanners[t].deadline = start + seconds;
        scanners[t].interval = rate > 0 ? 1.0 / rate : 0;
        pthread_create(&scanners[t].thread, NULL, scan_all, &scanners[t]);
    }
    size_t done = 0, valid = 0, other = 0, errors = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(scanners[t].thread, NULL);
        done += scanners[t].done;
        valid += scanners[t].valid;
        other += scanners[t].other;
        errors += scanners[t].errors;
    }
    double elapsed = now_s() - start;
    long *all = admit_xcalloc(done + 1, sizeof *all);
    size_t n = 0;
    for (int t = 0; t < threads; t++)
        for (size_t i = 0; i < scanners[t].done; i++)
            all[n++] = scanners[t].latency_us[i];
    qsort(all, n, sizeof *all, by_value);
    double per_s = (double)done / elapsed;
    double p50 = n ? (double)all[n / 2] / 1000.0 : 0;
    double p99 = n ? (double)all[(size_t)((double)n * 0.99)] / 1000.0 : 0;
    double max = n ? (double)all[n - 1] / 1000.0 : 0;
    if (flag(argc, argv, "--json"))
        printf("{\"scans\":%zu,\"seconds\":%.3f,\"scans_per_s\":%.1f,\"p50_ms\":%.3f,"
               "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"valid\":%zu,\"other\":%zu,\"errors\":%zu,"
               "\"threads\":%d}\n",
               done, elapsed, per_s, p50, p99, max, valid, other, errors, threads);
    else
        printf("%d scanners: %zu scans in %.2f s = %.0f scans/s; latency p50 %.2f ms, p99 %.2f "
               "ms, max %.2f ms; %zu valid, %zu other, %zu errors\n",
               threads, done, elapsed, per_s, p50, p99, max, valid, other, errors);
    for (int t = 0; t < threads; t++) {
        for (size_t i = 0; i < scanners[t].ntickets; i++)
            free(scanners[t].tickets[i]);
        free(scanners[t].tickets);
        free(scanners[t].latency_us);
        admit_buf_free(&scanners[t].answer);
    }
    free(scanners);
    free(all);
    curl_global_cleanup();
    return errors > 0 ? 1 : 0;
}
