/* Vital signs in the Prometheus text exposition format (version 0.0.4): counters and gauges
 * written as "name{labels} value" lines under their # HELP and # TYPE, and histograms whose
 * buckets are C11 atomics, so that any thread may observe while another writes a scrape.
 *
 * The numbers themselves live where they happen (the database handle's counters in db.c, the
 * server's per-route table in server/metrics.c, the mailer's in cli/mailer_metrics.c); this
 * file only knows the format. Nothing here allocates but the output buffer. */
#ifndef ADMIT_METRICS_H
#define ADMIT_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "admit/core/buf.h"
#include "admit/core/rc.h"

/* Upper bounds of a histogram at most (the +Inf bucket is extra). */
#define ADMIT_METRICS_MAX_BUCKETS 16

/* A histogram of values observed: bounds (ascending, static storage) are the upper bounds of
 * its buckets; each bucket counts the values at most its bound and above the one before (they
 * are written cumulative, as Prometheus wants). The sum is kept in millionths of the unit. */
struct admit_metrics_histogram {
    const double *bounds;
    size_t nbounds; /* at most ADMIT_METRICS_MAX_BUCKETS */
    atomic_ullong bucket[ADMIT_METRICS_MAX_BUCKETS + 1];
    atomic_ullong count;
    atomic_ullong sum_millionths;
};

/* Request latencies, in seconds: 1 ms to 10 s. */
extern const double admit_metrics_latency_bounds[];
extern const size_t admit_metrics_latency_nbounds;

/* Sets h up with bounds (nbounds of them, at most ADMIT_METRICS_MAX_BUCKETS), all counts 0. */
void admit_metrics_histogram_init(struct admit_metrics_histogram *h, const double *bounds,
                                  size_t nbounds);
/* Counts value (not negative) into h. Thread-safe, lock-free. */
void admit_metrics_observe(struct admit_metrics_histogram *h, double value);

/* Appends "# HELP name help" and "# TYPE name type" (type: "counter", "gauge", "histogram").
 * help is written escaped (backslash, line break). ADMIT_ERR_TOO_LARGE when out is full. */
enum admit_rc admit_metrics_family(struct admit_buf *out, const char *name, const char *type,
                                   const char *help) ADMIT_MUST_CHECK;
/* Appends one sample "name{labels} value". labels is NULL, or already written label pairs
 * ("route=\"/x\",status=\"200\"": build them with admit_metrics_label). */
enum admit_rc admit_metrics_sample(struct admit_buf *out, const char *name, const char *labels,
                                   double value) ADMIT_MUST_CHECK;
/* Appends name="value" to labels (a ',' first when labels is not empty), value escaped as the
 * format asks (backslash, double quote, line break). */
enum admit_rc admit_metrics_label(struct admit_buf *labels, const char *name,
                                  const char *value) ADMIT_MUST_CHECK;
/* Appends the samples of h: name_bucket{labels,le="..."} (cumulative, ending with +Inf),
 * name_sum{labels} and name_count{labels}. labels may be NULL. */
enum admit_rc
admit_metrics_histogram_write(struct admit_buf *out, const char *name, const char *labels,
                              const struct admit_metrics_histogram *h) ADMIT_MUST_CHECK;

/* The Content-Type of a scrape's answer. */
#define ADMIT_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
