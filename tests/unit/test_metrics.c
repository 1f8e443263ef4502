/* The Prometheus text format writer (lib/core/metrics.c): escaping, number forms, cumulative
 * histogram buckets, and observations from several threads at once. The integration test
 * (tests/integration/test_metrics.py) parses whole scrapes with a real parser. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/metrics.h"

static void test_family_sample_and_labels(void **state)
{
    (void)state;
    struct admit_buf out, labels;
    admit_buf_init(&out, 4096);
    admit_buf_init(&labels, 256);
    assert_int_equal(admit_metrics_family(&out, "admit_x_total", "counter", "A \\ b\nc"), ADMIT_OK);
    assert_int_equal(admit_metrics_label(&labels, "route", "/a/\"q\"\\\n"), ADMIT_OK);
    assert_int_equal(admit_metrics_label(&labels, "status", "200"), ADMIT_OK);
    assert_int_equal(admit_metrics_sample(&out, "admit_x_total", admit_buf_cstr(&labels), 3),
                     ADMIT_OK);
    assert_int_equal(admit_metrics_sample(&out, "admit_y", NULL, 0.25), ADMIT_OK);
    assert_int_equal(admit_metrics_sample(&out, "admit_z", "", 1e20), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out),
                        "# HELP admit_x_total A \\\\ b\\nc\n"
                        "# TYPE admit_x_total counter\n"
                        "admit_x_total{route=\"/a/\\\"q\\\"\\\\\\n\",status=\"200\"} 3\n"
                        "admit_y 0.25\n"
                        "admit_z 1e+20\n");
    admit_buf_free(&out);
    admit_buf_free(&labels);
}

static const double bounds[] = {1, 5, 10};

static void test_histogram_is_cumulative(void **state)
{
    (void)state;
    struct admit_metrics_histogram h;
    struct admit_buf out;
    admit_metrics_histogram_init(&h, bounds, 3);
    admit_metrics_observe(&h, 0.5);
    admit_metrics_observe(&h, 1); /* on a bound: in that bucket */
    admit_metrics_observe(&h, 7);
    admit_metrics_observe(&h, 100);
    admit_metrics_observe(&h, -3); /* counted as 0 */
    admit_buf_init(&out, 4096);
    assert_int_equal(admit_metrics_histogram_write(&out, "h", "a=\"b\"", &h), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), "h_bucket{a=\"b\",le=\"1\"} 3\n"
                                              "h_bucket{a=\"b\",le=\"5\"} 3\n"
                                              "h_bucket{a=\"b\",le=\"10\"} 4\n"
                                              "h_bucket{a=\"b\",le=\"+Inf\"} 5\n"
                                              "h_sum{a=\"b\"} 108.5\n"
                                              "h_count{a=\"b\"} 5\n");
    admit_buf_reset(&out);
    assert_int_equal(admit_metrics_histogram_write(&out, "h", NULL, &h), ADMIT_OK);
    assert_non_null(strstr(admit_buf_cstr(&out), "h_bucket{le=\"1\"} 3\n"));
    assert_non_null(strstr(admit_buf_cstr(&out), "h_sum 108.5\nh_count 5\n"));
    admit_buf_free(&out);
}

static void test_full_buffer(void **state)
{
    (void)state;
    struct admit_buf out;
    admit_buf_init(&out, 16);
    assert_int_equal(admit_metrics_family(&out, "admit_a_long_name", "gauge", "help"),
                     ADMIT_ERR_TOO_LARGE);
    admit_buf_free(&out);
}

#define THREADS 4
#define EACH    100000

static void *observe_many(void *h)
{
    for (int i = 0; i < EACH; i++)
        admit_metrics_observe(h, (double)(i % 20));
    return NULL;
}

static void test_threads_lose_nothing(void **state)
{
    (void)state;
    struct admit_metrics_histogram h;
    pthread_t t[THREADS];
    admit_metrics_histogram_init(&h, bounds, 3);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, observe_many, &h), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&h.count), THREADS * EACH);
    /* 0..19 each EACH/20 times per thread: 0 and 1 at most 1, 2..5, 6..10, 11..19. */
    assert_int_equal(atomic_load(&h.bucket[0]), THREADS * EACH / 20 * 2);
    assert_int_equal(atomic_load(&h.bucket[1]), THREADS * EACH / 20 * 4);
    assert_int_equal(atomic_load(&h.bucket[2]), THREADS * EACH / 20 * 5);
    assert_int_equal(atomic_load(&h.bucket[3]), THREADS * EACH / 20 * 9);
    assert_int_equal(atomic_load(&h.sum_millionths), 190ULL * THREADS * EACH / 20 * 1000000ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_sample_and_labels),
        cmocka_unit_test(test_histogram_is_cumulative),
        cmocka_unit_test(test_full_buffer),
        cmocka_unit_test(test_threads_lose_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
