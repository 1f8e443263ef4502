/* Badges as one PDF (bench/README.md, "Badges"): N badges with names in Latin, Greek, Cyrillic
 * and Arabic, each with its ticket signed and its QR code drawn, written through the same
 * streamed document admitd and admit print badges use, into a file (or /dev/null).
 *   badge_bench N [FILE]     one sheet PDF of N A6 badges (4 a page): seconds, peak memory
 *   badge_bench --door K [PRINTER]
 *                            K single badges, each its own one-page PDF (what a door printer
 *                            gets): the median time from a verdict's data to the whole PDF;
 *                            with a CUPS printer (CUPS_SERVER), to the job accepted by CUPS
 *                            (the file written and cupsPrintFile returned), as the door's
 *                            worker does it
 * Peak memory is the process's maximum resident set (getrusage): run it with N = 200 and N =
 * 2,000 in the same run to see that it does not grow with N. */
#include <cups/cups.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "admit/core/keys.h"
#include "admit/core/ticket.h"
#include "admit/print/badge.h"

static const char *const given[] = {"Ζωή", "Алексей", "فاطمة", "Anne-Sophie", "Maximilian"};
static const char *const family[] = {"Παπαδοπούλου", "Смирнов-Черноморский", "الزهراء",
                                     "de la Tour d'Auvergne", "von Hohenzollern-Sigmaringen"};
static const char *const orgs[] = {"Πανεπιστήμιο Αθηνών", "Московский университет", "جامعة القاهرة",
                                   "Bundesanstalt für Materialforschung", "Natural History Museum"};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(void *closure, const unsigned char *data, size_t len)
{
    return fwrite(data, 1, len, closure) == len ? 0 : -1;
}

static int write_count(void *closure, const unsigned char *data, size_t len)
{
    (void)data;
    *(size_t *)closure += len;
    return 0;
}

static int load(struct admit_badge_layouts *set)
{
    struct admit_error err;
    char path[4096];
    snprintf(path, sizeof path, "%s/templates/%s", ADMIT_SOURCE_DIR, ADMIT_BADGE_LAYOUTS_FILE);
    if (admit_badge_layouts_load(path, set, &err) != ADMIT_OK) {
        fprintf(stderr, "badge_bench: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int badge(struct admit_badge_doc *doc, const struct admit_signing_key *key, int i)
{
    char text[ADMIT_TICKET_TEXT_MAX];
    if (admit_ticket_sign(key, 1, (uint32_t)i + 1, 0, text) != ADMIT_OK)
        return -1;
    struct admit_badge b = {
        given[i % 5], family[(i / 5) % 5], orgs[(i / 25) % 5], "Research", text, ""};
    return admit_badge_doc_add(doc, &b) == ADMIT_OK ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int door(const struct admit_badge_layout *l, const struct admit_signing_key *key, int k,
                const char *printer)
{
    double *t = calloc((size_t)k, sizeof *t);
    struct admit_badge_doc_options single = {false, false};
    const char *path = "/tmp/badge_bench_door.pdf";
    for (int i = 0; i < k; i++) {
        size_t bytes = 0;
        struct admit_badge_doc *doc = NULL;
        FILE *f = printer != NULL ? fopen(path, "wb") : NULL;
        double start = now();
        if (admit_badge_doc_open(&doc, l, &single, f ? write_file : write_count,
                                 f ? (void *)f : (void *)&bytes) != ADMIT_OK ||
            badge(doc, key, i) != 0 || admit_badge_doc_close(doc, NULL) != ADMIT_OK)
            return 1;
        if (f != NULL && (fclose(f) != 0 || cupsPrintFile(printer, path, "bench", 0, NULL) == 0))
            return 1;
        t[i] = now() - start;
    }
    qsort(t, (size_t)k, sizeof *t, cmp);
    printf("door%s%s: %d single badges, median %.1f ms, p90 %.1f ms\n", printer ? " to CUPS " : "",
           printer ? printer : "", k, t[k / 2] * 1e3, t[k * 9 / 10] * 1e3);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    struct admit_badge_layouts set;
    struct admit_signing_key key;
    if (argc < 2 || admit_init() != ADMIT_OK || load(&set) != 0)
        return 2;
    admit_key_generate(&key);
    const struct admit_badge_layout *a6 = admit_badge_layout_find(&set, "a6");
    if (strcmp(argv[1], "--door") == 0)
        return door(a6, &key, argc > 2 ? atoi(argv[2]) : 50, argc > 3 ? argv[3] : NULL);
    int n = atoi(argv[1]);
    FILE *f = fopen(argc > 2 ? argv[2] : "/dev/null", "wb");
    struct admit_badge_doc *doc = NULL;
    struct admit_badge_doc_options sheet = {true, true};
    double start = now();
    if (f == NULL || admit_badge_doc_open(&doc, a6, &sheet, write_file, f) != ADMIT_OK)
        return 1;
    for (int i = 0; i < n; i++)
        if (badge(doc, &key, i) != 0)
            return 1;
    if (admit_badge_doc_close(doc, NULL) != ADMIT_OK || fclose(f) != 0)
        return 1;
    double took = now() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%d badges: %.2f s (%.2f ms a badge), peak memory %ld MB\n", n, took, took * 1e3 / n,
           ru.ru_maxrss / 1024);
    admit_key_wipe(&key);
    return 0;
}
