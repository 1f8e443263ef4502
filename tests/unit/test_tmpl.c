/* The template engine (lib/core/tmpl.c, lib/core/tmpl_set.c) and the escaping it applies
 * (lib/core/escape.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "admit/core/escape.h"
#include "admit/core/tmpl.h"

#define assert_contains(haystack, needle)                                                          \
    do {                                                                                           \
        if (strstr((haystack), (needle)) == NULL)                                                  \
            fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));                      \
    } while (0)

static json_t *json(const char *text)
{
    json_error_t error;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &error);
    if (v == NULL)
        fail_msg("bad test JSON %s: %s", text, error.text);
    return v;
}

/* Adds a template to set, which must succeed. */
static void add(struct admit_tmpl_set *set, const char *name, const char *text)
{
    struct admit_error err;
    enum admit_rc rc = admit_tmpl_set_parse_string(set, name, text, strlen(text), &err);
    if (rc != ADMIT_OK)
        fail_msg("parsing %s failed: %s (%s)", name, err.message, admit_strerror(rc));
}

/* Renders name with the JSON context into a fresh string (free it). */
static char *render(const struct admit_tmpl_set *set, const char *name, const char *context)
{
    struct admit_buf out;
    json_t *ctx = json(context);
    admit_buf_init(&out, 1 << 20);
    enum admit_rc rc = admit_tmpl_render(set, name, ctx, &out);
    if (rc != ADMIT_OK)
        fail_msg("rendering %s failed: %s", name, admit_strerror(rc));
    json_decref(ctx);
    return admit_buf_steal(&out, NULL);
}

/* One template alone in a set, rendered with context, gives expected. */
static void check(const char *name, const char *text, const char *context, const char *expected)
{
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    add(set, name, text);
    char *got = render(set, name, context);
    assert_string_equal(got, expected);
    free(got);
    admit_tmpl_set_free(set);
}

/* Parsing text as name fails with ADMIT_ERR_INVALID and exactly this message. */
static void check_parse_error(const char *name, const char *text, const char *message)
{
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    struct admit_error err;
    assert_int_equal(admit_tmpl_set_parse_string(set, name, text, strlen(text), &err),
                     ADMIT_ERR_INVALID);
    assert_string_equal(err.message, message);
    assert_false(admit_tmpl_set_has(set, name));
    admit_tmpl_set_free(set);
}

static void test_variables(void **state)
{
    (void)state;
    const char *ctx = "{\"s\": \"Ann\", \"i\": -42, \"big\": 9007199254740993, \"r\": 19.99,"
                      " \"tenth\": 0.1, \"two\": 2.0, \"huge\": 1e21, \"t\": true, \"f\": false,"
                      " \"n\": null, \"o\": {\"a\": 1}, \"a\": [1, 2], \"e\": \"\"}";
    check("v.txt", "{{s}}|{{i}}|{{big}}|{{r}}|{{tenth}}|{{two}}|{{huge}}", ctx,
          "Ann|-42|9007199254740993|19.99|0.1|2|1e+21");
    check("v.txt", "[{{t}}|{{f}}|{{n}}|{{o}}|{{a}}|{{e}}|{{missing}}]", ctx, "[true|false|||||]");
    check("v.txt", "{{ s }}{{\ts\n}}{{{ s }}}{{&s}}{{& s }}", ctx, "AnnAnnAnnAnnAnn");
    check("v.txt", "no tags at all { } }} {x}", ctx, "no tags at all { } }} {x}");
    check("v.txt", "", ctx, "");
}

static void test_escape_html_every_character(void **state)
{
    (void)state;
    const char *ctx = "{\"x\": \"a&b<c>d\\\"e'f\"}";
    const char *want = "a&amp;b&lt;c&gt;d&quot;e&#39;f";
    check("p.html", "{{x}}", ctx, want);
    check("p.htm", "{{x}}", ctx, want);
    check("p.svg", "{{x}}", ctx, want);
    check("p.xml", "{{x}}", ctx, want);
    check("p.html", "<p title=\"{{x}}\">{{x}}</p>", "{\"x\": \"&&\"}",
          "<p title=\"&amp;&amp;\">&amp;&amp;</p>");
    /* The template's own text is never escaped. */
    check("p.html", "<b>&amp;</b>", "{}", "<b>&amp;</b>");
}

static void test_escape_txt_is_none(void **state)
{
    (void)state;
    check("mail.txt", "{{x}}", "{\"x\": \"a&b<c>d\\\"e'f\\\\g;h,i\\nj\"}",
          "a&b<c>d\"e'f\\g;h,i\nj");
}

static void test_escape_ics(void **state)
{
    (void)state;
    check("cal.ics", "SUMMARY:{{x}}", "{\"x\": \"a\\\\b;c,d\\ne\\r\\nf\"}",
          "SUMMARY:a\\\\b\\;c\\,d\\ne\\nf");
    /* Control characters other than tab are not allowed in TEXT: dropped. UTF-8 passes. */
    check("cal.ics", "{{x}}", "{\"x\": \"a\\u0001\\tb\\u001f\\u007fc:\\u00e9\"}", "a\tbc:\xc3\xa9");
    /* HTML characters are not special in iCalendar. */
    check("cal.ics", "{{x}}", "{\"x\": \"<&>\\\"'\"}", "<&>\"'");
}

static void test_escape_functions(void **state)
{
    (void)state;
    struct admit_buf b;
    admit_buf_init(&b, 12);
    assert_int_equal(admit_escape_html(&b, "a<b", 3), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), "a&lt;b");
    /* Does not fit: nothing is appended. */
    assert_int_equal(admit_escape_html(&b, "x\"y", 3), ADMIT_ERR_TOO_LARGE);
    assert_string_equal(admit_buf_cstr(&b), "a&lt;b");
    assert_int_equal(admit_escape_ics(&b, "x,y", 3), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), "a&lt;bx\\,y");
    assert_int_equal(admit_escape_ics(&b, ";;", 2), ADMIT_ERR_TOO_LARGE);
    assert_string_equal(admit_buf_cstr(&b), "a&lt;bx\\,y");
    admit_buf_reset(&b);
    assert_int_equal(admit_escape_append(&b, ADMIT_ESCAPE_NONE, "<a\0b>", 5), ADMIT_OK);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "<a\0b>", 5);
    assert_int_equal(admit_escape_append(&b, (enum admit_escape)99, "x", 1), ADMIT_ERR_INVALID);
    assert_string_equal(admit_escape_name(ADMIT_ESCAPE_ICS), "ics");
    admit_buf_free(&b);
}

static void test_raw(void **state)
{
    (void)state;
    const char *ctx = "{\"x\": \"<b>&amp;</b>\"}";
    check("p.html", "{{{x}}}|{{& x}}|{{x}}", ctx,
          "<b>&amp;</b>|<b>&amp;</b>|&lt;b&gt;&amp;amp;&lt;/b&gt;");
    check("c.ics", "{{{x}}}", "{\"x\": \"a;b\"}", "a;b");
    check("p.html", "{{{.}}}", "\"<i>\"", "<i>");
}

static void test_xss_payloads_are_inert(void **state)
{
    (void)state;
    const char *payloads[] = {
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "' onmouseover='x",
    };
    const char *expected[] = {
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
        "&#39; onmouseover=&#39;x",
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        json_t *ctx = json_pack("{s:s}", "name", payloads[i]);
        struct admit_tmpl_set *set = admit_tmpl_set_new();
        struct admit_buf out;
        admit_buf_init(&out, 4096);
        add(set, "p.html", "<p>{{name}}</p><a title=\"{{name}}\" alt='{{name}}'>");
        assert_int_equal(admit_tmpl_render(set, "p.html", ctx, &out), ADMIT_OK);
        const char *html = admit_buf_cstr(&out);
        assert_contains(html, expected[i]);
        /* Only the template's own markup remains: 3 '<', 3 '>', 2 '"', 2 '\''. */
        size_t lt = 0, gt = 0, dq = 0, sq = 0;
        for (const char *c = html; *c != '\0'; c++) {
            lt += *c == '<';
            gt += *c == '>';
            dq += *c == '"';
            sq += *c == '\'';
        }
        assert_int_equal(lt, 3);
        assert_int_equal(gt, 3);
        assert_int_equal(dq, 2);
        assert_int_equal(sq, 2);
        admit_buf_free(&out);
        admit_tmpl_set_free(set);
        json_decref(ctx);
    }
}

static void test_dotted_names(void **state)
{
    (void)state;
    const char *ctx = "{\"event\": {\"name\": \"PyCon\", \"venue\": {\"city\": \"Lyon\"}},"
                      " \"name\": \"root\", \"s\": \"str\"}";
    check("d.txt", "{{event.name}} in {{event.venue.city}}", ctx, "PyCon in Lyon");
    check("d.txt", "[{{event.missing}}|{{event.venue.city.x}}|{{s.length}}|{{no.such}}]", ctx,
          "[|||]");
    /* Mustache rule: once "event" is found, "event.x" is looked up in it only. */
    check("d.txt", "{{#event}}{{name}}|{{event.name}}{{/event}}", ctx, "PyCon|PyCon");
    check("d.txt", "{{#event.venue}}{{city}} {{name}}{{/event.venue}}", ctx, "Lyon root");
    check("d.txt", "{{#event}}[{{venue.name}}]{{/event}}", ctx, "[]");
    check("d.txt", "{{ event.venue.city }}", ctx, "Lyon");
}

static void test_current_item(void **state)
{
    (void)state;
    check("i.txt", "{{#tags}}<{{.}}>{{/tags}}", "{\"tags\": [\"a\", 2, 1.5, true, null]}",
          "<a><2><1.5><true><>");
    check("i.html", "{{#tags}}{{.}},{{/tags}}", "{\"tags\": [\"<x>\"]}", "&lt;x&gt;,");
    check("i.txt", "[{{.}}]", "{\"a\": 1}", "[]");
    check("i.txt", "[{{.}}]", "\"top\"", "[top]");
    check("i.txt", "{{#.}}{{a}}{{/.}}", "{\"a\": 1}", "1");
}

static void test_sections(void **state)
{
    (void)state;
    const char *ctx = "{\"people\": [{\"name\": \"Ann\"}, {\"name\": \"Bob\"}], \"empty\": [],"
                      " \"obj\": {\"name\": \"Obj\"}, \"yes\": true, \"no\": false, \"nul\": null,"
                      " \"str\": \"text\", \"blank\": \"\", \"zero\": 0, \"real0\": 0.0,"
                      " \"eo\": {}, \"name\": \"Root\"}";
    check("s.txt", "{{#people}}{{name}};{{/people}}", ctx, "Ann;Bob;");
    check("s.txt", "{{#obj}}{{name}}{{/obj}}", ctx, "Obj");
    check("s.txt", "{{#yes}}{{name}}{{/yes}}", ctx, "Root");
    check("s.txt", "{{#str}}{{.}}/{{name}}{{/str}}", ctx, "text/Root");
    check("s.txt", "{{#zero}}z{{.}}{{/zero}}{{#real0}}r{{.}}{{/real0}}", ctx, "z0r0");
    check("s.txt", "{{#eo}}empty object renders{{/eo}}", ctx, "empty object renders");
    check("s.txt",
          "[{{#empty}}x{{/empty}}{{#no}}x{{/no}}{{#nul}}x{{/nul}}{{#blank}}x{{/blank}}"
          "{{#missing}}x{{/missing}}]",
          ctx, "[]");
    /* Content after a skipped section still renders; sections close in order. */
    check("s.txt", "a{{#no}}b{{#yes}}c{{/yes}}d{{/no}}e{{#yes}}f{{/yes}}", ctx, "aef");
    check("s.txt", "{{#people}}{{#yes}}{{name}}{{/yes}}{{/people}}", ctx, "AnnBob");
}

static void test_inverted_sections(void **state)
{
    (void)state;
    const char *ctx = "{\"people\": [1], \"empty\": [], \"yes\": true, \"no\": false,"
                      " \"nul\": null, \"blank\": \"\", \"str\": \"s\", \"obj\": {}, \"zero\": 0}";
    check("n.txt",
          "{{^empty}}a{{/empty}}{{^no}}b{{/no}}{{^nul}}c{{/nul}}{{^blank}}d{{/blank}}"
          "{{^missing}}e{{/missing}}",
          ctx, "abcde");
    check("n.txt",
          "[{{^people}}x{{/people}}{{^yes}}x{{/yes}}{{^str}}x{{/str}}{{^obj}}x{{/obj}}"
          "{{^zero}}x{{/zero}}]",
          ctx, "[]");
    check("n.txt", "{{#people}}has{{/people}}{{^people}}none{{/people}}", ctx, "has");
    check("n.txt", "{{#empty}}has{{/empty}}{{^empty}}none{{/empty}}", ctx, "none");
}

static void test_nested_loops_outer_lookup(void **state)
{
    (void)state;
    const char *ctx =
        "{\"site\": \"admit\", \"events\": ["
        "{\"name\": \"E1\", \"sessions\": [{\"title\": \"S1\"}, {\"title\": \"S2\"}]},"
        "{\"name\": \"E2\", \"sessions\": [{\"title\": \"S3\", \"name\": \"own\"}]},"
        "{\"name\": \"E3\", \"sessions\": []}]}";
    check("l.txt",
          "{{#events}}{{name}}:{{#sessions}}{{title}}@{{name}}/{{site}} {{/sessions}}"
          "{{^sessions}}none{{/sessions}}|{{/events}}",
          ctx, "E1:S1@E1/admit S2@E1/admit |E2:S3@own/admit |E3:none|");
    check("l.txt", "{{#a}}{{#b}}{{.}}{{/b}}.{{/a}}", "{\"a\": [1, 2], \"b\": [\"x\", \"y\"]}",
          "xy.xy.");
}

static void test_partials(void **state)
{
    (void)state;
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    add(set, "layout_head.html", "<title>{{title}}</title>");
    add(set, "icon.svg", "<svg>{{label}}</svg>");
    add(set, "item.html", "<li>{{name}} ({{title}}){{> icon.svg}}</li>");
    add(set, "email/footer.txt", "-- \n{{team}}\n");
    add(set, "page.html", "{{> layout_head.html}}<ul>{{#items}}{{> item.html}}{{/items}}</ul>");
    add(set, "email/confirm.txt", "Hi {{name}}\n  {{> email/footer.txt}}\nPS\n");
    char *got = render(set, "page.html",
                       "{\"title\": \"T&C\", \"items\": [{\"name\": \"a\", \"label\": \"<1>\"},"
                       " {\"name\": \"b\"}], \"label\": \"L\"}");
    assert_string_equal(got, "<title>T&amp;C</title><ul><li>a (T&amp;C)<svg>&lt;1&gt;</svg></li>"
                             "<li>b (T&amp;C)<svg>L</svg></li></ul>");
    free(got);
    /* A standalone partial tag takes its line; the partial is not re-indented. */
    got = render(set, "email/confirm.txt", "{\"name\": \"Ann\", \"team\": \"The team\"}");
    assert_string_equal(got, "Hi Ann\n-- \nThe team\nPS\n");
    free(got);
    admit_tmpl_set_free(set);
}

static void test_partial_errors(void **state)
{
    (void)state;
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    struct admit_error err;
    const char *text = "a\n\n{{> head.html}}";
    assert_int_equal(admit_tmpl_set_parse_string(set, "p.html", text, strlen(text), &err),
                     ADMIT_ERR_INVALID);
    assert_contains(err.message, "p.html:3: partial {{> head.html}} not found");
    /* Extension-less names are not looked up. */
    add(set, "head.html", "<head>");
    text = "{{> head}}";
    assert_int_equal(admit_tmpl_set_parse_string(set, "p.html", text, strlen(text), &err),
                     ADMIT_ERR_INVALID);
    assert_contains(err.message, "p.html:1: partial {{> head}} not found");
    /* A partial with other escaping. */
    add(set, "footer.txt", "bye");
    text = "x\n{{>footer.txt}}";
    assert_int_equal(admit_tmpl_set_parse_string(set, "p.html", text, strlen(text), &err),
                     ADMIT_ERR_INVALID);
    assert_string_equal(err.message, "p.html:2: partial footer.txt escapes as none, but p.html "
                                     "escapes as html");
    /* Including itself. */
    text = "{{#x}}\n{{> self.html}}\n{{/x}}";
    assert_int_equal(admit_tmpl_set_parse_string(set, "self.html", text, strlen(text), &err),
                     ADMIT_ERR_INVALID);
    assert_string_equal(err.message, "self.html:2: partial cycle: self.html -> self.html");
    assert_false(admit_tmpl_set_has(set, "self.html"));
    assert_false(admit_tmpl_set_has(set, "p.html"));

    /* A chain of ADMIT_TMPL_MAX_PARTIAL_DEPTH partials below a template is fine, one more is not:
     * c0 -> c1 -> ... -> c16 has 16 partials below c0. */
    char name[32], body[64];
    add(set, "c16.txt", "end");
    for (int i = 15; i >= 0; i--) {
        snprintf(name, sizeof name, "c%d.txt", i);
        snprintf(body, sizeof body, "%d,{{> c%d.txt}}", i, i + 1);
        add(set, name, body);
    }
    char *got = render(set, "c0.txt", "{}");
    assert_string_equal(got, "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,end");
    free(got);
    text = "{{> c0.txt}}";
    assert_int_equal(admit_tmpl_set_parse_string(set, "deep.txt", text, strlen(text), &err),
                     ADMIT_ERR_INVALID);
    assert_contains(err.message, "deep.txt:1: partials nested too deep: deep.txt -> c0.txt -> ...");
    admit_tmpl_set_free(set);
}

/* The deepest render the limits allow: a chain of ADMIT_TMPL_MAX_PARTIAL_DEPTH partials, each
 * template with ADMIT_TMPL_MAX_NESTING sections open, each pushing a context. */
static void test_deepest_render(void **state)
{
    (void)state;
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    char name[32];
    char body[ADMIT_TMPL_MAX_NESTING * 12 + 64];
    add(set, "d16.txt", "{{x}}{{.}}");
    for (int i = ADMIT_TMPL_MAX_PARTIAL_DEPTH - 1; i >= 0; i--) {
        size_t len = 0;
        for (int k = 0; k < ADMIT_TMPL_MAX_NESTING; k++)
            len += (size_t)snprintf(body + len, sizeof body - len, "{{#a}}");
        len += (size_t)snprintf(body + len, sizeof body - len, "{{> d%d.txt}}", i + 1);
        for (int k = 0; k < ADMIT_TMPL_MAX_NESTING; k++)
            len += (size_t)snprintf(body + len, sizeof body - len, "{{/a}}");
        snprintf(name, sizeof name, "d%d.txt", i);
        add(set, name, body);
    }
    char *got = render(set, "d0.txt", "{\"a\": [{\"b\": 1}], \"x\": \"deep\"}");
    assert_string_equal(got, "deep");
    free(got);
    admit_tmpl_set_free(set);
}

static void test_comments_and_standalone_lines(void **state)
{
    (void)state;
    check("c.txt", "a{{! a comment }}b{{!}}c", "{}", "abc");
    check("c.txt", "a\n{{! a comment\n  on two lines }}\nb\n", "{}", "a\nb\n");
    /* Standalone section, inverted and comment tags take their whole line. */
    const char *ics = "BEGIN:VEVENT\r\n"
                      "  {{#location}}  \r\n"
                      "LOCATION:{{location}}\r\n"
                      "{{/location}}\r\n"
                      "\t{{^location}}\r\n"
                      "X-NOWHERE:1\r\n"
                      "{{/location}}\r\n"
                      "{{! no blank line here }}\r\n"
                      "END:VEVENT\r\n";
    check("e.ics", ics, "{\"location\": \"Room 1, Lyon\"}",
          "BEGIN:VEVENT\r\nLOCATION:Room 1\\, Lyon\r\nEND:VEVENT\r\n");
    check("e.ics", ics, "{}", "BEGIN:VEVENT\r\nX-NOWHERE:1\r\nEND:VEVENT\r\n");
    /* Not standalone: other text or another tag on the line; variables never are. */
    check("s.txt", "x {{#a}}\ny{{/a}}", "{\"a\": true}", "x \ny");
    check("s.txt", "{{#a}}{{/a}}\nz", "{\"a\": true}", "\nz");
    check("s.txt", "{{v}}\n", "{\"v\": \"\"}", "\n");
    /* At the very end, without a line break. */
    check("s.txt", "a\n  {{! end }}", "{}", "a\n");
    check("s.txt", "{{#a}}\n{{/a}}", "{\"a\": true}", "");
}

static void test_parse_errors(void **state)
{
    (void)state;
    check_parse_error("t.html", "a\n{{name", "t.html:2: tag {{ is never closed (no }} after it)");
    check_parse_error("t.html", "a\n{{name}\n}",
                      "t.html:2: tag {{ is never closed (no }} after it)");
    check_parse_error("t.html", "\n\n{{#items}}\n{{name}}\n",
                      "t.html:3: section {{#items}} is never closed");
    check_parse_error("t.html", "{{#a}}{{^b}}\n\n{{/b}}",
                      "t.html:1: section {{#a}} is never closed");
    check_parse_error("t.html", "{{#a}}\n{{/b}}",
                      "t.html:2: {{/b}} does not match {{#a}} opened at "
                      "line 1");
    check_parse_error("t.html", "{{^a}}{{#b}}\n{{/a}}{{/b}}",
                      "t.html:2: {{/a}} does not match {{#b}} opened at line 1");
    check_parse_error("t.html", "x\n\n{{/a}}",
                      "t.html:3: {{/a}} closes nothing: no section is open");
    check_parse_error("t.html", "{{#a}}{{/a}}\n{{/a}}",
                      "t.html:2: {{/a}} closes nothing: no section is open");
    check_parse_error("t.html", "\n{{ }}", "t.html:2: empty name in tag");
    check_parse_error("t.html", "{{}}", "t.html:1: empty name in tag");
    check_parse_error("t.html", "{{#}}", "t.html:1: empty name in tag");
    check_parse_error("t.html", "{{/ }}", "t.html:1: empty name in tag");
    check_parse_error("t.html", "{{{}}}", "t.html:1: empty name in tag");
    check_parse_error("t.html", "{{&}}", "t.html:1: empty name in tag");
    check_parse_error("t.html", "{{>\n}}", "t.html:1: empty name in tag");
    check_parse_error("t.html", "{{first name}}",
                      "t.html:1: invalid byte 0x20 (space or control) in name \"first name\"");
    check_parse_error("t.html", "{{a{{b}}", "t.html:1: invalid character '{' in name \"a{{b\"");
    check_parse_error("t.html", "{{a/b}}", "t.html:1: invalid character '/' in name \"a/b\"");
    check_parse_error("t.html", "{{> a b}}",
                      "t.html:1: invalid byte 0x20 (space or control) in name \"a b\"");
    check_parse_error("t.html", "{{a..b}}", "t.html:1: empty segment in dotted name \"a..b\"");
    check_parse_error("t.html", "{{.a}}", "t.html:1: empty segment in dotted name \".a\"");
    check_parse_error("t.html", "{{#a.}}{{/a.}}", "t.html:1: empty segment in dotted name \"a.\"");
    check_parse_error("t.html", "x\n{{{a}}", "t.html:2: {{{a}} must be closed with }}}");
    check_parse_error("t.html", "{{=<% %>=}}",
                      "t.html:1: set-delimiter tags {{= =}} are not supported");
    /* Line numbers count lines inside earlier multi-line tags too. */
    check_parse_error("t.html", "{{! one\ntwo\n}}\n{{ x\n}} {{/y}}",
                      "t.html:5: {{/y}} closes nothing: no section is open");

    char text[ADMIT_TMPL_MAX_NESTING * 12 + 64] = "";
    size_t len = 0;
    for (int i = 0; i <= ADMIT_TMPL_MAX_NESTING; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "{{#s%d}}", i);
    check_parse_error("t.html", text, "t.html:1: sections nested deeper than 32");
    /* Exactly the limit is fine. */
    len = 0;
    for (int i = 0; i < ADMIT_TMPL_MAX_NESTING; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "{{#a}}");
    len += (size_t)snprintf(text + len, sizeof text - len, "{{.}}");
    for (int i = 0; i < ADMIT_TMPL_MAX_NESTING; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "{{/a}}");
    check("t.txt", text, "{\"a\": [7]}", "7");
}

static void test_too_large(void **state)
{
    (void)state;
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    add(set, "p.html", "<p>{{x}}</p>{{#list}}{{.}}{{/list}}");
    json_t *ctx = json("{\"x\": \"&&&\", \"list\": [1,2,3,4,5,6,7,8,9,10]}");
    struct admit_buf out;
    admit_buf_init(&out, 4 + 32);
    assert_int_equal(admit_buf_puts(&out, "keep"), ADMIT_OK);
    assert_int_equal(admit_tmpl_render(set, "p.html", ctx, &out), ADMIT_ERR_TOO_LARGE);
    assert_string_equal(admit_buf_cstr(&out), "keep"); /* restored */
    out.max = 4 + 26;
    assert_int_equal(admit_tmpl_render(set, "p.html", ctx, &out), ADMIT_ERR_TOO_LARGE);
    assert_string_equal(admit_buf_cstr(&out), "keep");
    out.max = 4 + 33;
    assert_int_equal(admit_tmpl_render(set, "p.html", ctx, &out), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), "keep<p>&amp;&amp;&amp;</p>12345678910");
    admit_buf_free(&out);
    json_decref(ctx);

    /* Empty nested loops produce nothing but would take 10^12 steps: stopped early. */
    json_t *big = json_array();
    for (int i = 0; i < 10000; i++)
        json_array_append_new(big, json_true());
    ctx = json_pack("{s:o}", "a", big);
    add(set, "loops.txt", "{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}");
    admit_buf_init(&out, 1 << 20);
    assert_int_equal(admit_tmpl_render(set, "loops.txt", ctx, &out), ADMIT_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    admit_buf_free(&out);
    json_decref(ctx);
    admit_tmpl_set_free(set);
}

static void test_unknown_template_and_names(void **state)
{
    (void)state;
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    struct admit_error err;
    struct admit_buf out;
    admit_buf_init(&out, 100);
    add(set, "a.html", "A");
    assert_int_equal(admit_tmpl_render(set, "b.html", NULL, &out), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_tmpl_render(set, "a", NULL, &out), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(out.len, 0);
    assert_int_equal(admit_tmpl_render(set, "a.html", NULL, &out), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), "A");
    /* Names are unique. */
    assert_int_equal(admit_tmpl_set_parse_string(set, "a.html", "B", 1, &err), ADMIT_ERR_EXISTS);
    assert_string_equal(err.message, "a.html: a template of that name is already in the set");
    /* The extension chooses the escaping; anything else is refused rather than guessed. */
    const char *refused[] = {"x.csv", "x", "x.HTML", "x.md", "x.html.bak", "", "dir.html/x"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(admit_tmpl_set_parse_string(set, refused[i], "x", 1, &err),
                         ADMIT_ERR_INVALID);
        assert_contains(err.message, "unknown template extension");
        assert_false(admit_tmpl_set_has(set, refused[i]));
    }
    assert_int_equal(admit_tmpl_set_parse_string(set, "x.csv", "x", 1, NULL), ADMIT_ERR_INVALID);
    assert_int_equal(
        admit_tmpl_set_parse_string(set, "big.txt", "x", ADMIT_TMPL_MAX_SIZE + 1, &err),
        ADMIT_ERR_TOO_LARGE);
    admit_buf_free(&out);
    admit_tmpl_set_free(set);
    admit_tmpl_set_free(NULL);
}

static void test_bytes_pass_through(void **state)
{
    (void)state;
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    /* UTF-8, invalid UTF-8 and a NUL byte in the template text. */
    const char text[] = "\xc3\xa9t\xc3\xa9 \xff\xfe\0{{x}}|{{y}}";
    struct admit_error err;
    assert_int_equal(admit_tmpl_set_parse_string(set, "b.html", text, sizeof text - 1, &err),
                     ADMIT_OK);
    json_t *ctx = json_object();
    json_object_set_new(ctx, "x", json_stringn("a\0<", 3));
    json_object_set_new(ctx, "y", json_string("\xe2\x82\xac"));
    struct admit_buf out;
    admit_buf_init(&out, 100);
    assert_int_equal(admit_tmpl_render(set, "b.html", ctx, &out), ADMIT_OK);
    const char want[] = "\xc3\xa9t\xc3\xa9 \xff\xfe\0a\0&lt;|\xe2\x82\xac";
    assert_int_equal(out.len, sizeof want - 1);
    assert_memory_equal(out.data, want, sizeof want - 1);
    admit_buf_free(&out);
    json_decref(ctx);
    admit_tmpl_set_free(set);
}

static void write_file(const char *dir, const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(content, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void remove_path(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(remove(path), 0);
}

/* Loading dir fails with rc and a message containing message. */
static void check_load_error(const char *dir, enum admit_rc rc, const char *message)
{
    struct admit_tmpl_set *set = NULL;
    struct admit_error err;
    assert_int_equal(admit_tmpl_set_load_dir(dir, &set, &err), rc);
    assert_null(set);
    assert_contains(err.message, message);
}

static void test_load_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/admit-test-tmpl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[sizeof dir + 8];
    snprintf(sub, sizeof sub, "%s/email", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(dir, "layout_head.html", "<title>{{event.name}}</title>\n");
    write_file(dir, "event.html", "{{> layout_head.html}}<h1>{{event.name}}</h1>\n");
    write_file(dir, "event.ics", "SUMMARY:{{event.name}}\n");
    write_file(dir, "email/confirm.txt", "Dear {{name}},\n{{> email/sig.txt}}");
    write_file(dir, "email/sig.txt", "{{event.name}} team\n");
    write_file(dir, ".event.html.swp", "{{ unclosed");

    struct admit_tmpl_set *set = NULL;
    struct admit_error err;
    enum admit_rc rc = admit_tmpl_set_load_dir(dir, &set, &err);
    if (rc != ADMIT_OK)
        fail_msg("load_dir: %s", err.message);
    assert_false(admit_tmpl_set_has(set, ".event.html.swp"));
    assert_true(admit_tmpl_set_has(set, "email/sig.txt"));
    const char *ctx = "{\"name\": \"Ann <a@b>\", \"event\": {\"name\": \"R&D, day 1\"}}";
    char *got = render(set, "event.html", ctx);
    assert_string_equal(got, "<title>R&amp;D, day 1</title>\n<h1>R&amp;D, day 1</h1>\n");
    free(got);
    got = render(set, "event.ics", ctx);
    assert_string_equal(got, "SUMMARY:R&D\\, day 1\n");
    free(got);
    got = render(set, "email/confirm.txt", ctx);
    assert_string_equal(got, "Dear Ann <a@b>,\nR&D, day 1 team\n");
    free(got);
    admit_tmpl_set_free(set);

    /* A parse error names the file and the line. */
    write_file(dir, "email/bad.txt", "ok\n{{#a}}\n");
    check_load_error(dir, ADMIT_ERR_INVALID, "email/bad.txt:2: section {{#a}} is never closed");
    remove_path(dir, "email/bad.txt");
    /* So does a missing partial. */
    write_file(dir, "list.html", "\n{{#items}}{{> row.html}}{{/items}}");
    check_load_error(dir, ADMIT_ERR_INVALID, "list.html:2: partial {{> row.html}} not found");
    /* A cycle across files, whatever the order of the folder. */
    write_file(dir, "row.html", "{{> list.html}}");
    check_load_error(dir, ADMIT_ERR_INVALID, "partial cycle: ");
    check_load_error(dir, ADMIT_ERR_INVALID, "list.html -> row.html");
    remove_path(dir, "row.html");
    remove_path(dir, "list.html");
    /* Unknown extensions are refused, not skipped. */
    write_file(dir, "export.csv", "a,b\n");
    check_load_error(dir, ADMIT_ERR_INVALID, "export.csv: unknown template extension");
    remove_path(dir, "export.csv");
    /* Folders more than one level deep are refused. */
    snprintf(sub, sizeof sub, "%s/email/x", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    check_load_error(dir, ADMIT_ERR_INVALID, "/email/x: templates may be one folder deep at most");
    assert_int_equal(rmdir(sub), 0);
    /* Nothing left behind: loads again. */
    rc = admit_tmpl_set_load_dir(dir, &set, &err);
    assert_int_equal(rc, ADMIT_OK);
    admit_tmpl_set_free(set);

    remove_path(dir, "email/confirm.txt");
    remove_path(dir, "email/sig.txt");
    snprintf(sub, sizeof sub, "%s/email", dir);
    assert_int_equal(rmdir(sub), 0);
    remove_path(dir, "layout_head.html");
    remove_path(dir, "event.html");
    remove_path(dir, "event.ics");
    remove_path(dir, ".event.html.swp");
    /* An empty folder is an empty set. */
    assert_int_equal(admit_tmpl_set_load_dir(dir, &set, &err), ADMIT_OK);
    assert_false(admit_tmpl_set_has(set, "event.html"));
    admit_tmpl_set_free(set);
    assert_int_equal(rmdir(dir), 0);
    check_load_error(dir, ADMIT_ERR_IO, "cannot open folder");
}

/* templates/static/ holds the assets admitd serves (CSS, PNG, ...): skipped, not refused, even
 * with files whose extensions no template may have; a "static" folder deeper down is not. */
static void test_load_dir_skips_static(void **state)
{
    (void)state;
    char dir[] = "/tmp/admit-test-tmpl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[sizeof dir + 16];
    snprintf(sub, sizeof sub, "%s/static", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(dir, "page.html", "<p>{{x}}</p>");
    write_file(dir, "static/site.css", "body { color: black }");
    write_file(dir, "static/logo.png", "\x89PNG");
    snprintf(sub, sizeof sub, "%s/static/deeper", dir);
    assert_int_equal(mkdir(sub, 0700), 0);

    struct admit_tmpl_set *set = NULL;
    struct admit_error err;
    enum admit_rc rc = admit_tmpl_set_load_dir(dir, &set, &err);
    if (rc != ADMIT_OK)
        fail_msg("load_dir: %s", err.message);
    assert_true(admit_tmpl_set_has(set, "page.html"));
    assert_false(admit_tmpl_set_has(set, "static/site.css"));
    assert_false(admit_tmpl_set_has(set, "static/logo.png"));
    admit_tmpl_set_free(set);

    /* Only the top-level folder of that name is special. */
    snprintf(sub, sizeof sub, "%s/email", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof sub, "%s/email/static", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    check_load_error(dir, ADMIT_ERR_INVALID, "templates may be one folder deep at most");
    assert_int_equal(rmdir(sub), 0);
    snprintf(sub, sizeof sub, "%s/email", dir);
    assert_int_equal(rmdir(sub), 0);

    snprintf(sub, sizeof sub, "%s/static/deeper", dir);
    assert_int_equal(rmdir(sub), 0);
    remove_path(dir, "static/site.css");
    remove_path(dir, "static/logo.png");
    snprintf(sub, sizeof sub, "%s/static", dir);
    assert_int_equal(rmdir(sub), 0);
    remove_path(dir, "page.html");
    assert_int_equal(rmdir(dir), 0);
}

struct thread_job {
    const struct admit_tmpl_set *set;
    const json_t *context;
    const char *expected;
    int failures;
};

static void *render_many(void *arg)
{
    struct thread_job *job = arg;
    struct admit_buf out;
    admit_buf_init(&out, 1 << 16);
    for (int i = 0; i < 2000; i++) {
        admit_buf_reset(&out);
        if (admit_tmpl_render(job->set, "page.html", job->context, &out) != ADMIT_OK ||
            strcmp(admit_buf_cstr(&out), job->expected) != 0)
            job->failures++;
    }
    admit_buf_free(&out);
    return NULL;
}

/* One set, one context, several threads rendering at once (run under TSan to see races). */
static void test_concurrent_renders(void **state)
{
    (void)state;
    struct admit_tmpl_set *set = admit_tmpl_set_new();
    add(set, "row.html", "<li>{{name}}</li>");
    add(set, "page.html", "<h1>{{title}}</h1>{{#rows}}{{> row.html}}{{/rows}}");
    json_t *ctx = json("{\"title\": \"<T>\", \"rows\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}");
    const char *expected = "<h1>&lt;T&gt;</h1><li>a</li><li>b</li>";
    struct thread_job jobs[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct thread_job){set, ctx, expected, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, render_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    json_decref(ctx);
    admit_tmpl_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_escape_html_every_character),
        cmocka_unit_test(test_escape_txt_is_none),
        cmocka_unit_test(test_escape_ics),
        cmocka_unit_test(test_escape_functions),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_xss_payloads_are_inert),
        cmocka_unit_test(test_dotted_names),
        cmocka_unit_test(test_current_item),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_inverted_sections),
        cmocka_unit_test(test_nested_loops_outer_lookup),
        cmocka_unit_test(test_partials),
        cmocka_unit_test(test_partial_errors),
        cmocka_unit_test(test_deepest_render),
        cmocka_unit_test(test_comments_and_standalone_lines),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_unknown_template_and_names),
        cmocka_unit_test(test_bytes_pass_through),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_load_dir_skips_static),
        cmocka_unit_test(test_concurrent_renders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
