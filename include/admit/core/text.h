/* The one rule for text that people type and others see: names, organisations, answers, event
 * and list names, device and gate names. The registration form, admit import, the organisers'
 * event form, admit event create, device names and the check-in API all check it here.
 *
 * Text is valid UTF-8 without control characters (a line break and a tab only where several
 * lines are allowed), and without characters that change how the text around them shows while
 * showing nothing themselves, which would let a name display as another (a right-to-left
 * override turns "Ada\u202Eexe.txt" around) or two names look alike: Unicode's format characters
 * (general category Cf: the bidirectional embeddings, overrides and isolates U+202A-202E and
 * U+2066-2069, the marks U+200E/200F/061C, zero-width space U+200B, word joiner, soft hyphen, the
 * byte order mark, tag characters, ...), the line and paragraph separators U+2028/2029, and the
 * other default-ignorable characters except the combining ones (variation selectors, which
 * emoji and some Chinese and Japanese names need). Only the zero-width non-joiner and joiner
 * (U+200C/200D) are kept where a script needs them, between two letters or marks (Persian,
 * Indic scripts), and the joiner in an emoji sequence. Such text is refused, not cleaned: what
 * is stored is what was typed, and the person is told. Categories come from ICU, the
 * implementation PostgreSQL uses (glibc's iswprint calls all of these printable).
 *
 * A required value must also show something (admit_text_visible): a value of spaces, no-break
 * spaces or invisible characters only is not filled in. */
#ifndef ADMIT_TEXT_H
#define ADMIT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

enum admit_text_verdict {
    ADMIT_TEXT_OK,
    ADMIT_TEXT_NOT_TEXT,  /* not UTF-8, or a control character (a line break in one line) */
    ADMIT_TEXT_INVISIBLE, /* a character that changes how text shows, invisible itself */
    ADMIT_TEXT_TOO_LONG,  /* more than max_chars characters */
};

/* Flags of admit_text_check. */
#define ADMIT_TEXT_MULTILINE 1u /* line breaks (LF, CR) and tabs allowed */
#define ADMIT_TEXT_ANY       2u /* invisible characters allowed: text nobody sees (a password) */

/* Checks s (NUL-terminated) against the rule. *chars (may be NULL) gets the number of Unicode
 * characters when the verdict is ADMIT_TEXT_OK or ADMIT_TEXT_TOO_LONG, else 0. When several
 * problems are present, the first of the enum's order is reported. */
enum admit_text_verdict admit_text_check(const char *s, unsigned flags, size_t max_chars,
                                         size_t *chars);

/* Whether s holds at least one character that shows: a letter, digit, punctuation mark or
 * symbol that is neither white space nor default-ignorable (nor the blank braille pattern). */
bool admit_text_visible(const char *s);

/* The message for a person next to a form field, for a verdict other than ADMIT_TEXT_OK (static
 * storage): "Use ordinary text on one line (no control characters)", "This holds invisible
 * characters (...)", "This is too long". */
const char *admit_text_message(enum admit_text_verdict verdict, unsigned flags);

#endif
