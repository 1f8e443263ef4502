/* The Prometheus text format (admit/core/metrics.h). */
#include "admit/core/metrics.h"

#include <math.h>
#include <stdio.h>

const double admit_metrics_latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10};
const size_t admit_metrics_latency_nbounds =
    sizeof admit_metrics_latency_bounds / sizeof admit_metrics_latency_bounds[0];

void admit_metrics_histogram_init(struct admit_metrics_histogram *h, const double *bounds,
                                  size_t nbounds)
{
    h->bounds = bounds;
    h->nbounds = nbounds < ADMIT_METRICS_MAX_BUCKETS ? nbounds : ADMIT_METRICS_MAX_BUCKETS;
    for (size_t i = 0; i <= ADMIT_METRICS_MAX_BUCKETS; i++)
        atomic_init(&h->bucket[i], 0);
    atomic_init(&h->count, 0);
    atomic_init(&h->sum_millionths, 0);
}

void admit_metrics_observe(struct admit_metrics_histogram *h, double value)
{
    size_t i = 0;
    if (!(value >= 0))
        value = 0; /* NaN and negatives count as 0 */
    while (i < h->nbounds && value > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_millionths, (unsigned long long)(value * 1e6 + 0.5),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

/* Appends text with backslash and line break escaped, and the double quote too when quote. */
static enum admit_rc put_escaped(struct admit_buf *out, const char *text, int quote)
{
    enum admit_rc rc = ADMIT_OK;
    for (const char *p = text; *p != '\0' && rc == ADMIT_OK; p++) {
        if (*p == '\\')
            rc = admit_buf_puts(out, "\\\\");
        else if (*p == '\n')
            rc = admit_buf_puts(out, "\\n");
        else if (*p == '"' && quote)
            rc = admit_buf_puts(out, "\\\"");
        else
            rc = admit_buf_putc(out, *p);
    }
    return rc;
}

enum admit_rc admit_metrics_family(struct admit_buf *out, const char *name, const char *type,
                                   const char *help)
{
    enum admit_rc rc = admit_buf_printf(out, "# HELP %s ", name);
    if (rc == ADMIT_OK)
        rc = put_escaped(out, help, 0);
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(out, "\n# TYPE %s %s\n", name, type);
    return rc;
}

/* A value as the format writes numbers: integers without a fraction, +Inf, NaN. */
static enum admit_rc put_value(struct admit_buf *out, double value)
{
    if (isnan(value))
        return admit_buf_puts(out, "NaN");
    if (isinf(value))
        return admit_buf_puts(out, value > 0 ? "+Inf" : "-Inf");
    if (value == floor(value) && fabs(value) < 9e15)
        return admit_buf_printf(out, "%.0f", value);
    return admit_buf_printf(out, "%.9g", value);
}

enum admit_rc admit_metrics_sample(struct admit_buf *out, const char *name, const char *labels,
                                   double value)
{
    enum admit_rc rc = admit_buf_puts(out, name);
    if (rc == ADMIT_OK && labels != NULL && labels[0] != '\0')
        rc = admit_buf_printf(out, "{%s}", labels);
    if (rc == ADMIT_OK)
        rc = admit_buf_putc(out, ' ');
    if (rc == ADMIT_OK)
        rc = put_value(out, value);
    if (rc == ADMIT_OK)
        rc = admit_buf_putc(out, '\n');
    return rc;
}

enum admit_rc admit_metrics_label(struct admit_buf *labels, const char *name, const char *value)
{
    enum admit_rc rc = labels->len > 0 ? admit_buf_putc(labels, ',') : ADMIT_OK;
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(labels, "%s=\"", name);
    if (rc == ADMIT_OK)
        rc = put_escaped(labels, value, 1);
    if (rc == ADMIT_OK)
        rc = admit_buf_putc(labels, '"');
    return rc;
}

enum admit_rc admit_metrics_histogram_write(struct admit_buf *out, const char *name,
                                            const char *labels,
                                            const struct admit_metrics_histogram *h)
{
    const char *sep = labels != NULL && labels[0] != '\0' ? "," : "";
    const char *lab = labels != NULL ? labels : "";
    unsigned long long cumulative = 0;
    enum admit_rc rc = ADMIT_OK;
    /* The count is read after the buckets were: a scrape racing an observation may show a
     * count one above the +Inf bucket for an instant, never below; +Inf is written as the
     * count so that the two always agree. */
    for (size_t i = 0; i < h->nbounds && rc == ADMIT_OK; i++) {
        cumulative += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        rc = admit_buf_printf(out, "%s_bucket{%s%sle=\"", name, lab, sep);
        if (rc == ADMIT_OK)
            rc = put_value(out, h->bounds[i]);
        if (rc == ADMIT_OK)
            rc = admit_buf_printf(out, "\"} %llu\n", cumulative);
    }
    cumulative += atomic_load_explicit(&h->bucket[h->nbounds], memory_order_relaxed);
    unsigned long long count = atomic_load_explicit(&h->count, memory_order_relaxed);
    if (count < cumulative)
        count = cumulative;
    double sum = (double)atomic_load_explicit(&h->sum_millionths, memory_order_relaxed) / 1e6;
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, lab, sep, count);
    if (rc == ADMIT_OK)
        rc =
            admit_buf_printf(out, "%s_sum%s%s%s ", name, lab[0] ? "{" : "", lab, lab[0] ? "}" : "");
    if (rc == ADMIT_OK)
        rc = put_value(out, sum);
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(out, "\n%s_count%s%s%s %llu\n", name, lab[0] ? "{" : "", lab,
                              lab[0] ? "}" : "", count);
    return rc;
}
