#include "admit/core/email.h"

#include <stdbool.h>
#include <string.h>

static const char shape[] = "Enter an email address like name@example.org";

static bool letter_or_digit(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 atext. */
static bool atom_char(char c)
{
    return letter_or_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Atoms joined by single dots (RFC 5321 Dot-string). */
static bool dot_string(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !atom_char(s[i]))
            return false;
    }
    return true;
}

/* Labels of letters, digits and inner hyphens, 1 to 63 characters, at least two, the last not
 * all digits (RFC 5321 Domain, RFC 1123 2.1). */
static bool domain_ok(const char *s)
{
    size_t labels = 0;
    for (const char *label = s;; labels++) {
        size_t n = strcspn(label, ".");
        bool digits_only = true;
        if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-')
            return false;
        for (size_t i = 0; i < n; i++) {
            if (!letter_or_digit(label[i]) && label[i] != '-')
                return false;
            digits_only &= label[i] >= '0' && label[i] <= '9';
        }
        if (label[n] == '\0')
            return labels >= 1 && !digits_only;
        label += n + 1;
    }
}

const char *admit_email_problem(const char *addr)
{
    size_t len = strlen(addr);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c < 0x20 || c == 0x7f)
            return "Use ordinary text on one line (no control characters)";
    }
    if (len > ADMIT_EMAIL_MAX)
        return "This is too long";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)addr[i] >= 0x80)
            return "Our emails cannot reach an address with accents or non-Latin letters: enter "
                   "one made of a-z, 0-9 and . _ - +";
    if (strpbrk(addr, " ()<>[],;:\\\"") != NULL)
        return "An email address cannot contain spaces or any of ( ) < > [ ] , ; : \\ \"";
    const char *at = strrchr(addr, '@');
    if (at == NULL || memchr(addr, '@', (size_t)(at - addr)) != NULL)
        return shape;
    if ((size_t)(at - addr) > ADMIT_EMAIL_LOCAL_MAX)
        return "The part before the @ has at most 64 characters";
    if (!dot_string(addr, (size_t)(at - addr)) || !domain_ok(at + 1))
        return shape;
    return NULL;
}
