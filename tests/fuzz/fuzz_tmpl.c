/* Fuzz target for the template engine (lib/core/tmpl.c, lib/core/tmpl_set.c) and its escaping
 * (lib/core/escape.c).
 *
 * Input: one byte choosing the format (byte % 3: 0 .html, 1 .txt, 2 .ics; the seeds use the
 * digits '0', '1', '2'), then the template text up to the first NUL byte, then a JSON context
 * (an empty object if it does not parse). The template is added to a set that already holds one
 * partial per format (p.html, p.txt, p.ics) and, if it parses, rendered into a bounded buffer.
 *
 * Checked on every input, besides "no crash, leak, hang or undefined behaviour":
 *  - a template that does not parse gets a message starting with its name and is not in the set;
 *  - rendering succeeds or hits the size bound, and on failure leaves the buffer as it was;
 *  - the escaping functions, run on the raw input, leave no character that is special in their
 *    format unescaped.
 * Checks abort() rather than assert(): the fuzz build defines NDEBUG (RelWithDebInfo). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admit/core/escape.h"
#include "admit/core/tmpl.h"
#include "fuzz.h"

/* Inputs longer than this add no coverage, only time. */
#define INPUT_MAX 4096
/* Output bound: small, so that the TOO_LARGE paths are reached often. */
#define OUTPUT_MAX 65536

static const char *const names[3] = {"fuzz.html", "fuzz.txt", "fuzz.ics"};

static const char *const partials[3][2] = {
    {"p.html", "<ul>{{#items}}<li>{{name}} {{{raw}}}</li>{{/items}}</ul>{{^items}}none{{/items}}"},
    {"p.txt", "{{#items}}\n- {{name}} {{& raw}}\n{{/items}}\n"},
    {"p.ics", "BEGIN:VEVENT\r\n{{#event}}\r\nSUMMARY:{{name}}\r\n{{/event}}\r\nEND:VEVENT\r\n"},
};

/* Escaped HTML has no < > " ' and every & starts one of the five entities. */
static void check_html_escaping(const uint8_t *in, size_t n)
{
    struct admit_buf out;
    admit_buf_init(&out, 6 * n + 1);
    CHECK(admit_escape_html(&out, (const char *)in, n) == ADMIT_OK);
    for (size_t i = 0; i < out.len; i++) {
        const char *s = out.data + i;
        size_t left = out.len - i;
        CHECK(*s != '<' && *s != '>' && *s != '"' && *s != '\'');
        if (*s == '&')
            CHECK((left >= 5 && memcmp(s, "&amp;", 5) == 0) ||
                  (left >= 4 && memcmp(s, "&lt;", 4) == 0) ||
                  (left >= 4 && memcmp(s, "&gt;", 4) == 0) ||
                  (left >= 6 && memcmp(s, "&quot;", 6) == 0) ||
                  (left >= 5 && memcmp(s, "&#39;", 5) == 0));
    }
    admit_buf_free(&out);
}

/* Escaped iCalendar TEXT has no line breaks or other controls but tab, and reads as a sequence
 * of plain bytes and escapes (\\ \; \, \n): no bare ; or , and no other backslash. */
static void check_ics_escaping(const uint8_t *in, size_t n)
{
    struct admit_buf out;
    admit_buf_init(&out, 2 * n + 1);
    CHECK(admit_escape_ics(&out, (const char *)in, n) == ADMIT_OK);
    for (size_t i = 0; i < out.len; i++) {
        unsigned char c = (unsigned char)out.data[i];
        CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
        CHECK(c != ';' && c != ','); /* only as the second byte of an escape, skipped below */
        if (c == '\\') {
            CHECK(i + 1 < out.len && strchr("\\;,n", out.data[i + 1]) != NULL);
            i++;
        }
    }
    admit_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > INPUT_MAX)
        return 0;
    check_html_escaping(data, size);
    check_ics_escaping(data, size);

    int format = data[0] % 3;
    const char *text = (const char *)data + 1;
    const char *nul = memchr(text, '\0', size - 1);
    size_t text_len = nul != NULL ? (size_t)(nul - text) : size - 1;
    json_t *context = NULL;
    if (nul != NULL)
        context = json_loadb(nul + 1, size - 1 - text_len - 1, JSON_DECODE_ANY, NULL);
    if (context == NULL)
        context = json_object();

    struct admit_tmpl_set *set = admit_tmpl_set_new();
    struct admit_error err;
    for (int i = 0; i < 3; i++)
        CHECK(admit_tmpl_set_parse_string(set, partials[i][0], partials[i][1],
                                          strlen(partials[i][1]), &err) == ADMIT_OK);

    enum admit_rc rc = admit_tmpl_set_parse_string(set, names[format], text, text_len, &err);
    if (rc != ADMIT_OK) {
        CHECK(rc == ADMIT_ERR_INVALID);
        CHECK(strncmp(err.message, names[format], strlen(names[format])) == 0);
        CHECK(!admit_tmpl_set_has(set, names[format]));
    } else {
        struct admit_buf out;
        admit_buf_init(&out, OUTPUT_MAX);
        rc = admit_tmpl_render(set, names[format], context, &out);
        CHECK(rc == ADMIT_OK || rc == ADMIT_ERR_TOO_LARGE);
        CHECK(out.len <= OUTPUT_MAX);
        if (rc != ADMIT_OK)
            CHECK(out.len == 0);
        admit_buf_free(&out);
    }
    admit_tmpl_set_free(set);
    json_decref(context);
    return 0;
}
