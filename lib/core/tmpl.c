/* The template engine: a parser that compiles each template once into a flat list of nodes, and
 * a renderer that walks that list. Building the set (files, partial resolution) is in
 * tmpl_set.c; the two share struct tmpl from tmpl_internal.h. */
#include "admit/core/tmpl.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/escape.h"
#include "admit/core/mem.h"
#include "tmpl_internal.h"

/* Longest name quoted in an error message. */
#define QUOTE_MAX  64
#define QUOTE(len) ((int)((len) < QUOTE_MAX ? (len) : QUOTE_MAX))

struct open_section {
    size_t node;     /* index of the section node */
    size_t name_off; /* its name in the source, to match the closing tag */
    size_t name_len;
    unsigned line;
    char sigil; /* '#' or '^' */
};

struct parser {
    struct tmpl *t;
    struct admit_error *err;
    const char *src;
    size_t len;
    size_t pos;        /* next byte to scan */
    size_t text_start; /* first byte of text not yet made into a node */
    size_t line_start; /* first byte of the current line */
    unsigned line;
    bool tag_on_line; /* a tag was seen since line_start: later tags there are not standalone */
    struct open_section open[ADMIT_TMPL_MAX_NESTING];
    size_t n_open;
};

struct tag {
    char sigil;      /* 0 for {{name}}, else one of { # ^ / > & ! */
    size_t end;      /* first byte after the closing braces */
    size_t name_off; /* the name, spaces trimmed, in the source */
    size_t name_len;
    unsigned line;
};

static struct node *add_node(struct tmpl *t, enum node_kind kind, unsigned line)
{
    if (t->n_nodes == t->cap_nodes) {
        t->cap_nodes = t->cap_nodes ? t->cap_nodes * 2 : 16;
        t->nodes = admit_xrealloc(t->nodes, t->cap_nodes * sizeof *t->nodes);
    }
    struct node *n = &t->nodes[t->n_nodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = line;
    return n;
}

static void add_text(struct parser *p, size_t start, size_t end)
{
    if (end <= start)
        return;
    struct node *n = add_node(p->t, NODE_TEXT, p->line);
    n->off = start;
    n->len = end - start;
}

/* Moves the line bookkeeping over the bytes [from, to). */
static void count_lines(struct parser *p, size_t from, size_t to)
{
    const char *nl = memchr(p->src + from, '\n', to - from);
    while (nl != NULL) {
        size_t at = (size_t)(nl - p->src);
        p->line++;
        p->line_start = at + 1;
        p->tag_on_line = false;
        nl = memchr(p->src + at + 1, '\n', to - at - 1);
    }
}

/* Offset of the next "{{" at or after from, or len. */
static size_t find_open(const struct parser *p, size_t from)
{
    const char *s = p->src;
    while (from + 1 < p->len) {
        const char *brace = memchr(s + from, '{', p->len - from - 1);
        if (brace == NULL)
            break;
        from = (size_t)(brace - s);
        if (s[from + 1] == '{')
            return from;
        from++;
    }
    return p->len;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
    return is_blank(c) || c == '\n' || c == '\r';
}

/* Reads the tag whose "{{" is at open. */
static enum admit_rc read_tag(struct parser *p, size_t open, struct tag *tag)
{
    const char *s = p->src;
    size_t q = open + 2;
    tag->sigil = 0;
    tag->line = p->line;
    if (q < p->len && memchr("{#^/>&!=", s[q], 8) != NULL)
        tag->sigil = s[q++];
    if (tag->sigil == '=') {
        admit_error_set(p->err, "%s:%u: set-delimiter tags {{= =}} are not supported", p->t->name,
                        tag->line);
        return ADMIT_ERR_INVALID;
    }
    size_t close = q;
    while (close + 1 < p->len && !(s[close] == '}' && s[close + 1] == '}'))
        close++;
    if (close + 1 >= p->len) {
        admit_error_set(p->err, "%s:%u: tag {{ is never closed (no }} after it)", p->t->name,
                        tag->line);
        return ADMIT_ERR_INVALID;
    }
    tag->end = close + 2;
    if (tag->sigil == '{') {
        if (tag->end >= p->len || s[tag->end] != '}') {
            admit_error_set(p->err, "%s:%u: {{{%.*s}} must be closed with }}}", p->t->name,
                            tag->line, QUOTE(close - q), s + q);
            return ADMIT_ERR_INVALID;
        }
        tag->end++;
    }
    while (q < close && is_space(s[q]))
        q++;
    while (close > q && is_space(s[close - 1]))
        close--;
    tag->name_off = q;
    tag->name_len = close - q;
    if (tag->name_len == 0 && tag->sigil != '!') {
        admit_error_set(p->err, "%s:%u: empty name in tag", p->t->name, tag->line);
        return ADMIT_ERR_INVALID;
    }
    return ADMIT_OK;
}

/* Whether a standalone tag of this kind takes its whole line with it. */
static bool may_stand_alone(char sigil)
{
    return sigil != 0 && memchr("#^/>!", sigil, 5) != NULL;
}

/* If the tag is alone on its line (blanks around it), the offset just past that line's end. */
static bool standalone(const struct parser *p, size_t open, const struct tag *tag, size_t *after)
{
    if (!may_stand_alone(tag->sigil) || p->tag_on_line)
        return false;
    for (size_t i = p->line_start; i < open; i++)
        if (!is_blank(p->src[i]))
            return false;
    size_t i = tag->end;
    while (i < p->len && is_blank(p->src[i]))
        i++;
    if (i + 1 < p->len && p->src[i] == '\r' && p->src[i + 1] == '\n')
        i++;
    if (i < p->len && p->src[i] != '\n')
        return false;
    *after = i < p->len ? i + 1 : i;
    return true;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Checks a variable or section name ("." or dot-joined segments) or a partial name. */
static enum admit_rc check_name(const struct parser *p, const struct tag *tag, bool partial)
{
    const char *s = p->src + tag->name_off;
    size_t n = tag->name_len;
    if (!partial && n == 1 && s[0] == '.')
        return ADMIT_OK;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_name_char(c) || (partial && (c == '.' || c == '/')))
            continue;
        if (c == '.' && i > 0 && i + 1 < n && s[i + 1] != '.')
            continue;
        if (c == '.')
            admit_error_set(p->err, "%s:%u: empty segment in dotted name \"%.*s\"", p->t->name,
                            tag->line, QUOTE(n), s);
        else if (c > ' ' && c < 0x7f)
            admit_error_set(p->err, "%s:%u: invalid character '%c' in name \"%.*s\"", p->t->name,
                            tag->line, c, QUOTE(n), s);
        else
            admit_error_set(p->err,
                            "%s:%u: invalid byte 0x%02x (space or control) in name \"%.*s\"",
                            p->t->name, tag->line, (unsigned char)c, QUOTE(n), s);
        return ADMIT_ERR_INVALID;
    }
    return ADMIT_OK;
}

/* Stores the name of tag in t->names, dots turned into NUL separators, for node n. */
static enum admit_rc store_name(struct parser *p, const struct tag *tag, struct node *n,
                                bool partial)
{
    enum admit_rc rc = check_name(p, tag, partial);
    if (rc != ADMIT_OK)
        return rc;
    const char *s = p->src + tag->name_off;
    n->off = p->t->names.len;
    n->len = 0;
    if (!partial && tag->name_len == 1 && s[0] == '.')
        return ADMIT_OK; /* the current item: no segment */
    rc = admit_buf_append(&p->t->names, s, tag->name_len);
    if (rc == ADMIT_OK)
        rc = admit_buf_putc(&p->t->names, '\0');
    if (rc != ADMIT_OK)
        return rc;
    n->len = 1;
    if (!partial) {
        for (char *c = p->t->names.data + n->off; *c != '\0'; c++) {
            if (*c == '.') {
                *c = '\0';
                n->len++;
            }
        }
    }
    return ADMIT_OK;
}

static enum admit_rc open_section(struct parser *p, const struct tag *tag)
{
    if (p->n_open == ADMIT_TMPL_MAX_NESTING) {
        admit_error_set(p->err, "%s:%u: sections nested deeper than %d", p->t->name, tag->line,
                        ADMIT_TMPL_MAX_NESTING);
        return ADMIT_ERR_INVALID;
    }
    struct node *n = add_node(p->t, tag->sigil == '#' ? NODE_SECTION : NODE_INVERTED, tag->line);
    enum admit_rc rc = store_name(p, tag, n, false);
    if (rc != ADMIT_OK)
        return rc;
    struct open_section *o = &p->open[p->n_open++];
    o->node = p->t->n_nodes - 1;
    o->name_off = tag->name_off;
    o->name_len = tag->name_len;
    o->line = tag->line;
    o->sigil = tag->sigil;
    return ADMIT_OK;
}

static enum admit_rc close_section(struct parser *p, const struct tag *tag)
{
    const char *name = p->src + tag->name_off;
    if (p->n_open == 0) {
        admit_error_set(p->err, "%s:%u: {{/%.*s}} closes nothing: no section is open", p->t->name,
                        tag->line, QUOTE(tag->name_len), name);
        return ADMIT_ERR_INVALID;
    }
    const struct open_section *o = &p->open[p->n_open - 1];
    if (o->name_len != tag->name_len || memcmp(p->src + o->name_off, name, o->name_len) != 0) {
        admit_error_set(p->err, "%s:%u: {{/%.*s}} does not match {{%c%.*s}} opened at line %u",
                        p->t->name, tag->line, QUOTE(tag->name_len), name, o->sigil,
                        QUOTE(o->name_len), p->src + o->name_off, o->line);
        return ADMIT_ERR_INVALID;
    }
    p->t->nodes[o->node].end = p->t->n_nodes;
    p->n_open--;
    return ADMIT_OK;
}

static enum admit_rc add_tag(struct parser *p, const struct tag *tag)
{
    switch (tag->sigil) {
    case '!':
        return ADMIT_OK;
    case '#':
    case '^':
        return open_section(p, tag);
    case '/':
        return close_section(p, tag);
    case '>':
        return store_name(p, tag, add_node(p->t, NODE_PARTIAL, tag->line), true);
    case '{':
    case '&':
        return store_name(p, tag, add_node(p->t, NODE_RAW, tag->line), false);
    default:
        return store_name(p, tag, add_node(p->t, NODE_VAR, tag->line), false);
    }
}

enum admit_rc tmpl_parse(struct tmpl *t, struct admit_error *err)
{
    struct parser p = {.t = t, .err = err, .src = t->source, .len = t->source_len, .line = 1};
    enum admit_rc rc = ADMIT_OK;
    for (;;) {
        size_t open = find_open(&p, p.pos);
        count_lines(&p, p.pos, open);
        if (open == p.len)
            break;
        struct tag tag;
        rc = read_tag(&p, open, &tag);
        if (rc != ADMIT_OK)
            goto done;
        size_t after = 0;
        if (standalone(&p, open, &tag, &after)) {
            add_text(&p, p.text_start, p.line_start > p.text_start ? p.line_start : p.text_start);
            count_lines(&p, open, after);
            p.pos = after;
        } else {
            add_text(&p, p.text_start, open);
            count_lines(&p, open, tag.end);
            p.pos = tag.end;
            p.tag_on_line = true;
        }
        p.text_start = p.pos;
        rc = add_tag(&p, &tag);
        if (rc != ADMIT_OK)
            goto done;
    }
    add_text(&p, p.text_start, p.len);
    if (p.n_open > 0) {
        const struct open_section *o = &p.open[p.n_open - 1];
        admit_error_set(err, "%s:%u: section {{%c%.*s}} is never closed", t->name, o->line,
                        o->sigil, QUOTE(o->name_len), t->source + o->name_off);
        rc = ADMIT_ERR_INVALID;
    }
done:
    return rc;
}

/* Contexts pushed at most: the root, then one per open section of each template of the
 * deepest chain of partials. */
#define CONTEXT_MAX (1 + (ADMIT_TMPL_MAX_PARTIAL_DEPTH + 1) * ADMIT_TMPL_MAX_NESTING)

struct render {
    struct admit_buf *out;
    unsigned long steps;
    size_t depth;
    const json_t *stack[CONTEXT_MAX];
};

static enum admit_rc render_nodes(struct render *r, const struct tmpl *t, size_t begin, size_t end);

/* Mustache lookup: the first segment in the innermost context that has it, the others only
 * inside what it found. NULL when missing. */
static const json_t *lookup(const struct render *r, const struct tmpl *t, const struct node *n)
{
    if (n->len == 0)
        return r->stack[r->depth - 1];
    const char *segment = t->names.data + n->off;
    const json_t *value = NULL;
    for (size_t i = r->depth; i-- > 0 && value == NULL;)
        value = json_is_object(r->stack[i]) ? json_object_get(r->stack[i], segment) : NULL;
    for (size_t k = 1; k < n->len && value != NULL; k++) {
        segment += strlen(segment) + 1;
        value = json_is_object(value) ? json_object_get(value, segment) : NULL;
    }
    return value;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as d, with '.' as the decimal point
 * whatever LC_NUMERIC says. */
static enum admit_rc put_real(struct admit_buf *out, double d)
{
    char text[40];
    char clean[40];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, d);
        if (strtod(text, NULL) == d)
            break;
    }
    size_t o = 0;
    for (size_t i = 0; text[i] != '\0'; i++) {
        char c = text[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e')
            clean[o++] = c;
        else if (o == 0 || clean[o - 1] != '.')
            clean[o++] = '.';
    }
    return admit_buf_append(out, clean, o);
}

static enum admit_rc put_value(struct admit_buf *out, enum admit_escape escape, const json_t *v)
{
    if (v == NULL)
        return ADMIT_OK;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return admit_escape_append(out, escape, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return admit_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return put_real(out, json_real_value(v));
    case JSON_TRUE:
        return admit_buf_puts(out, "true");
    case JSON_FALSE:
        return admit_buf_puts(out, "false");
    default:
        return ADMIT_OK; /* null, object, array */
    }
}

static bool truthy(const json_t *v)
{
    if (v == NULL || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    return true;
}

static enum admit_rc render_pushed(struct render *r, const json_t *v, const struct tmpl *t,
                                   size_t begin, size_t end)
{
    if (r->depth == CONTEXT_MAX)
        return ADMIT_ERR_TOO_LARGE; /* cannot happen with the parse and load limits */
    r->stack[r->depth++] = v;
    enum admit_rc rc = render_nodes(r, t, begin, end);
    r->depth--;
    return rc;
}

static enum admit_rc render_section(struct render *r, const struct tmpl *t, size_t at)
{
    const struct node *n = &t->nodes[at];
    const json_t *v = lookup(r, t, n);
    enum admit_rc rc = ADMIT_OK;
    if (n->kind == NODE_INVERTED)
        return truthy(v) ? ADMIT_OK : render_nodes(r, t, at + 1, n->end);
    if (!truthy(v))
        return ADMIT_OK;
    if (json_is_true(v))
        return render_nodes(r, t, at + 1, n->end);
    if (!json_is_array(v))
        return render_pushed(r, v, t, at + 1, n->end);
    for (size_t i = 0; i < json_array_size(v) && rc == ADMIT_OK; i++) {
        if (++r->steps > ADMIT_TMPL_MAX_STEPS)
            return ADMIT_ERR_TOO_LARGE;
        rc = render_pushed(r, json_array_get(v, i), t, at + 1, n->end);
    }
    return rc;
}

static enum admit_rc render_nodes(struct render *r, const struct tmpl *t, size_t begin, size_t end)
{
    enum admit_rc rc = ADMIT_OK;
    size_t i = begin;
    while (i < end && rc == ADMIT_OK) {
        const struct node *n = &t->nodes[i];
        size_t next = i + 1;
        if (++r->steps > ADMIT_TMPL_MAX_STEPS)
            return ADMIT_ERR_TOO_LARGE;
        switch (n->kind) {
        case NODE_TEXT:
            rc = admit_buf_append(r->out, t->source + n->off, n->len);
            break;
        case NODE_VAR:
            rc = put_value(r->out, t->escape, lookup(r, t, n));
            break;
        case NODE_RAW:
            rc = put_value(r->out, ADMIT_ESCAPE_NONE, lookup(r, t, n));
            break;
        case NODE_SECTION:
        case NODE_INVERTED:
            rc = render_section(r, t, i);
            next = n->end;
            break;
        case NODE_PARTIAL:
            rc = render_nodes(r, n->partial, 0, n->partial->n_nodes);
            break;
        }
        i = next;
    }
    return rc;
}

enum admit_rc admit_tmpl_render(const struct admit_tmpl_set *set, const char *name,
                                const json_t *context, struct admit_buf *out)
{
    const struct tmpl *t = tmpl_set_find(set, name);
    if (t == NULL)
        return ADMIT_ERR_NOT_FOUND;
    struct render r; /* not zeroed: only stack[0 .. depth) is ever read */
    r.out = out;
    r.steps = 0;
    r.depth = 1;
    r.stack[0] = context;
    size_t start = out->len;
    enum admit_rc rc = render_nodes(&r, t, 0, t->n_nodes);
    if (rc != ADMIT_OK)
        admit_buf_truncate(out, start);
    return rc;
}
