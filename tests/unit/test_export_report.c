/* The attendance report's CSV and the arrivals chart's layout (lib/register/report.c), from
 * hand-made data; loading the figures from PostgreSQL is tested over HTTP (test_admin_pages.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/register/report.h"

static json_t *arrivals(int start_minute, int slots, const char *counts)
{
    json_error_t error;
    json_t *c = json_loads(counts, 0, &error);
    assert_non_null(c);
    return json_pack("{s:s, s:i, s:i, s:[{s:i, s:s}, {s:i, s:s}], s:o}", "day",
                     "Tuesday 29 October 2030", "start_minute", start_minute, "slots", slots,
                     "lists", "id", 11, "name", "Day 1", "id", 12, "name", "Cluster & <session>",
                     "counts", c);
}

static double number(const json_t *v)
{
    return atof(json_string_value(v));
}

static void chart_bars(void **state)
{
    (void)state;
    /* 08:00 to 10:00: 12 slots; Day 1 has 3 at 08:00-08:10 and 4 at 09:50; the cluster session
     * 2 at 08:00; an unknown list and slots out of range are ignored. */
    json_t *in = arrivals(8 * 60, 12,
                          "[[11, 0, 3], [12, 0, 2], [11, 11, 4], [99, 1, 50],"
                          " [11, 12, 50], [11, -1, 50]]");
    json_t *chart = admit_report_arrivals_chart(in);
    assert_false(json_is_true(json_object_get(chart, "empty")));
    assert_int_equal(json_integer_value(json_object_get(chart, "total")), 9);
    json_t *bars = json_object_get(chart, "bars");
    assert_int_equal(json_array_size(bars), 3);
    json_t *plot = json_object_get(chart, "plot");
    double bottom = number(json_object_get(plot, "bottom"));
    double height = (double)json_integer_value(json_object_get(plot, "height"));
    /* The highest stack is 5 (3 + 2): the axis goes to 5. */
    json_t *first = json_array_get(bars, 0), *second = json_array_get(bars, 1);
    assert_float_equal(number(json_object_get(first, "height")), height * 3 / 5, 0.11);
    assert_float_equal(number(json_object_get(first, "y")), bottom - height * 3 / 5, 0.11);
    /* Stacked: the second list's bar sits on the first. */
    assert_float_equal(number(json_object_get(second, "y")) +
                           number(json_object_get(second, "height")),
                       number(json_object_get(first, "y")), 0.11);
    assert_string_equal(json_string_value(json_object_get(first, "title")),
                        "08:00–08:10, Day 1: 3");
    assert_string_equal(json_string_value(json_object_get(json_array_get(bars, 2), "title")),
                        "09:50–10:00, Day 1: 4");
    assert_string_not_equal(json_string_value(json_object_get(first, "colour")),
                            json_string_value(json_object_get(second, "colour")));
    /* Hour marks at 08:00 and 09:00; y marks 0 and 5 (no half-way mark at 2.5). */
    json_t *x_ticks = json_object_get(chart, "x_ticks");
    assert_int_equal(json_array_size(x_ticks), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(x_ticks, 1), "label")),
                        "09:00");
    json_t *y_ticks = json_object_get(chart, "y_ticks");
    assert_int_equal(json_array_size(y_ticks), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(y_ticks, 1), "label")),
                        "5");
    json_t *legend = json_object_get(chart, "legend");
    assert_int_equal(json_array_size(legend), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(legend, 1), "name")),
                        "Cluster & <session>");
    json_decref(chart);
    json_decref(in);
}

static void chart_empty_and_large(void **state)
{
    (void)state;
    json_t *in = arrivals(0, 0, "[]");
    json_t *chart = admit_report_arrivals_chart(in);
    assert_true(json_is_true(json_object_get(chart, "empty")));
    assert_int_equal(json_array_size(json_object_get(chart, "bars")), 0);
    assert_int_equal(json_array_size(json_object_get(chart, "legend")), 2);
    json_decref(chart);
    json_decref(in);
    /* A rush: 1234 at once gives an axis of 2000 with a mark at 1000. */
    in = arrivals(23 * 60, 6, "[[11, 5, 1234]]");
    chart = admit_report_arrivals_chart(in);
    json_t *y_ticks = json_object_get(chart, "y_ticks");
    assert_string_equal(json_string_value(json_object_get(json_array_get(y_ticks, 1), "label")),
                        "1000");
    assert_string_equal(json_string_value(json_object_get(json_array_get(y_ticks, 2), "label")),
                        "2000");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(chart, "bars"), 0), "title")),
                        "23:50–00:00, Day 1: 1234");
    json_decref(chart);
    json_decref(in);
    /* Nonsense in: never a crash, never a bar. */
    json_t *junk = json_pack("{s:s}", "slots", "many");
    chart = admit_report_arrivals_chart(junk);
    assert_true(json_is_true(json_object_get(chart, "empty")));
    json_decref(chart);
    json_decref(junk);
    assert_string_equal(admit_report_colour(0), admit_report_colour(8));
    assert_string_not_equal(admit_report_colour(0), admit_report_colour(1));
}

static void report_csv(void **state)
{
    (void)state;
    json_error_t error;
    json_t *report = json_loads(
        "{\"sections\": [{\"name\": \"Whole event\", \"day\": \"\", \"registered\": 3,"
        " \"attended\": 2, \"waiting\": 4, \"no_shows\": 1, \"by_type\": [{\"key\":"
        " \"research\", \"label\": \"Research\", \"registered\": 3, \"attended\": 2,"
        " \"no_shows\": 1}], \"by_country\": [{\"key\": \"BE\", \"label\": \"Belgium\","
        " \"registered\": 3, \"attended\": 2, \"no_shows\": 1}]}, {\"name\": \"=Day 1, plenary\","
        " \"day\": \"2030-10-29\", \"registered\": 1, \"attended\": 0, \"waiting\": 0,"
        " \"no_shows\": 1, \"by_type\": [],"
        " \"by_country\": []}]}",
        0, &error);
    assert_non_null(report);
    struct admit_buf out;
    struct admit_csv_writer w;
    admit_buf_init(&out, 1 << 16);
    admit_csv_writer_init(&w, ADMIT_CSV_RFC4180, admit_csv_sink_buf, &out);
    assert_int_equal(admit_report_write_csv(report, &w), ADMIT_OK);
    assert_int_equal(admit_csv_flush(&w), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out),
                        "section,day,dimension,key,label,registered,attended,waiting,no_shows\r\n"
                        "Whole event,,total,,,3,2,4,1\r\n"
                        "Whole event,,organisation_type,research,Research,3,2,,1\r\n"
                        "Whole event,,country,BE,Belgium,3,2,,1\r\n"
                        "\"'=Day 1, plenary\",2030-10-29,total,,,1,0,0,1\r\n");
    admit_buf_free(&out);
    json_decref(report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chart_bars),
        cmocka_unit_test(chart_empty_and_large),
        cmocka_unit_test(report_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
