/* A scripted SMTP server on a loopback port, for the unit tests of sending (test_mail_smtp.c)
 * and of the mailer's loop (test_pg_mailer.c). It accepts one connection at a time and answers:
 * RCPT to <refuse@...> with 550, to <later@...> with 451, anything else with 250; DATA with
 * data_code; MAIL FROM with 550 when refuse_sender is set; a greeting of greeting_code. The last
 * message's DATA (dot-stuffing undone) is in received; accepts counts the connections.
 * smtp_fake_setup and smtp_fake_teardown start and stop it (cmocka group fixtures). */
#ifndef ADMIT_TEST_SMTP_FAKE_H
#define ADMIT_TEST_SMTP_FAKE_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listener;
static int port;
static pthread_t thread;
static volatile int greeting_code = 220;
static volatile int refuse_sender;
static volatile int data_code = 250;
static volatile int accepts;
static char received[65536]; /* the last message's DATA, dot-stuffing undone */
static char auth_line[512];  /* the last AUTH command */

static int read_line(FILE *in, char *buf, size_t cap)
{
    if (fgets(buf, (int)cap, in) == NULL)
        return 0;
    return 1;
}

static void reply(FILE *out, const char *text)
{
    fputs(text, out);
    fputs("\r\n", out);
    fflush(out);
}

static void serve_connection(int fd)
{
    FILE *in = fdopen(dup(fd), "r");
    FILE *out = fdopen(fd, "w");
    char line[2048], buf[64];
    snprintf(buf, sizeof buf, "%d %s", greeting_code, greeting_code == 220 ? "fake ESMTP" : "no");
    reply(out, buf);
    if (greeting_code != 220)
        goto done;
    while (read_line(in, line, sizeof line)) {
        if (strncmp(line, "EHLO", 4) == 0) {
            reply(out, "250-fake.example\r\n250-AUTH PLAIN\r\n250 SIZE 1000000");
        } else if (strncmp(line, "AUTH", 4) == 0) {
            snprintf(auth_line, sizeof auth_line, "%.500s", line);
            /* Without an initial response, the credentials come on the next line. */
            if (strcmp(line, "AUTH PLAIN\r\n") == 0) {
                reply(out, "334 ");
                if (!read_line(in, line, sizeof line))
                    break;
            }
            /* "\0user\0secret" in base64 */
            reply(out, strstr(line, "AHVzZXIAc2VjcmV0") != NULL ? "235 2.7.0 ok"
                                                                : "535 5.7.8 bad credentials");
        } else if (strncmp(line, "MAIL", 4) == 0) {
            reply(out, refuse_sender ? "550 5.7.1 sender not allowed" : "250 ok");
        } else if (strncmp(line, "RCPT", 4) == 0) {
            if (strstr(line, "<refuse@") != NULL)
                reply(out, "550 5.1.1 <refuse@example.org>: mailbox unknown");
            else if (strstr(line, "<later@") != NULL)
                reply(out, "451 4.3.0 try again later");
            else
                reply(out, "250 ok");
        } else if (strncmp(line, "DATA", 4) == 0) {
            reply(out, "354 go ahead");
            size_t n = 0;
            while (read_line(in, line, sizeof line) && strcmp(line, ".\r\n") != 0) {
                const char *p = line[0] == '.' ? line + 1 : line; /* undo dot-stuffing */
                size_t k = strlen(p);
                if (n + k < sizeof received) {
                    memcpy(received + n, p, k);
                    n += k;
                }
            }
            received[n] = '\0';
            snprintf(buf, sizeof buf, "%d %s", data_code, data_code == 250 ? "queued" : "no");
            reply(out, buf);
        } else if (strncmp(line, "QUIT", 4) == 0) {
            reply(out, "221 bye");
            break;
        } else {
            reply(out, "250 ok"); /* RSET, NOOP */
        }
    }
done:
    fclose(in);
    fclose(out);
}

static void *server(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            return NULL;
        accepts++;
        serve_connection(fd);
    }
}

static int smtp_fake_setup(void **state)
{
    (void)state;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listener, 8) != 0 || getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    port = ntohs(addr.sin_port);
    return pthread_create(&thread, NULL, server, NULL);
}

static int smtp_fake_teardown(void **state)
{
    (void)state;
    shutdown(listener, SHUT_RDWR);
    close(listener);
    pthread_join(thread, NULL);
    return 0;
}

#endif
