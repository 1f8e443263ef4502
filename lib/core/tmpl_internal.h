/* The compiled form of a template, shared by the parser and renderer (tmpl.c) and the set
 * builder (tmpl_set.c). Not part of the public API. */
#ifndef ADMIT_TMPL_INTERNAL_H
#define ADMIT_TMPL_INTERNAL_H

#include <stddef.h>

#include "admit/core/buf.h"
#include "admit/core/escape.h"
#include "admit/core/tmpl.h"

enum node_kind {
    NODE_TEXT,     /* bytes of the source, output as they are */
    NODE_VAR,      /* {{name}}: escaped value */
    NODE_RAW,      /* {{{name}}} or {{& name}}: unescaped value */
    NODE_SECTION,  /* {{#name}}: the nodes up to end are its content */
    NODE_INVERTED, /* {{^name}} */
    NODE_PARTIAL,  /* {{> name}} */
};

/* One piece of a template. A section's content is the nodes that follow it, up to end: the
 * template is one flat array, walked without recursion except into sections and partials. */
struct node {
    enum node_kind kind;
    unsigned line; /* in the source, for error messages */
    /* NODE_TEXT: offset in source. Others: offset in names of the name, stored as its segments
     * each followed by a NUL ("event\0name\0"); a partial's name is one segment, dots kept. */
    size_t off;
    /* NODE_TEXT: byte count. Names: segment count, 0 for "." (the current item). */
    size_t len;
    size_t end;           /* NODE_SECTION, NODE_INVERTED: index just past the content */
    struct tmpl *partial; /* NODE_PARTIAL: the template, once the set resolved it */
};

struct tmpl {
    char *name; /* owned; "event.html", "email/confirm.txt" */
    enum admit_escape escape;
    char *source; /* owned copy of the text; NODE_TEXT points into it */
    size_t source_len;
    struct node *nodes; /* owned */
    size_t n_nodes;
    size_t cap_nodes;
    struct admit_buf names; /* owned; see struct node */
    /* Used while the set checks partials: 0 unvisited, 1 on the current path, 2 done. */
    int mark;
    unsigned height; /* templates in the longest chain of partials from here, itself included */
};

/* Compiles t->source into t->nodes and t->names; partials are left unresolved. On error err
 * explains ("name:line: reason") and the result is ADMIT_ERR_INVALID. */
enum admit_rc tmpl_parse(struct tmpl *t, struct admit_error *err) ADMIT_MUST_CHECK;

/* The template called name, or NULL. */
const struct tmpl *tmpl_set_find(const struct admit_tmpl_set *set, const char *name);

#endif
