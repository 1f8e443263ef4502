/* The one rule for an email address admit stores and writes to: the registration form, admit
 * import, the resend form, organisers' accounts and event contacts, and the mailer (envelope and
 * headers) all ask admit_email_problem, so an address is accepted exactly when the mailer can
 * send to it.
 *
 * The mailer speaks plain SMTP through libcurl to the organiser's relay, which may not offer
 * SMTPUTF8 (RFC 6531; Amazon SES does not, for one): an address with non-ASCII characters would
 * be refused at RCPT after its registration was acknowledged. So an address is ASCII only, in
 * the common form of RFC 5321: a local part of atoms (letters, digits and
 * ! # $ % & ' * + - / = ? ^ _ ` { | } ~) joined by single dots, at most 64 characters; an '@'; a
 * domain of at least two labels of letters, digits and inner hyphens (1 to 63 characters each),
 * the last not all digits; at most 254 characters in all. Quoted local parts ("a b"@x) and
 * address literals (a@[192.0.2.1]) are refused: relays and people get them wrong. */
#ifndef ADMIT_EMAIL_H
#define ADMIT_EMAIL_H

/* Characters of an address at most (RFC 5321's path of 256, less the angle brackets), and of
 * its local part. */
#define ADMIT_EMAIL_MAX       254
#define ADMIT_EMAIL_LOCAL_MAX 64

/* NULL when addr (NUL-terminated) is an address admit can send to; else why not, as a message
 * for the person who typed it (static storage): "Enter an email address like
 * name@example.org", "Our emails cannot reach an address with accents or non-Latin letters:
 * ...", ... An empty addr gets the first; callers that call an empty field missing say so
 * themselves. */
const char *admit_email_problem(const char *addr);

#endif
