/* Listening addresses as operators write them: admitd's --listen and --metrics-listen, the
 * mailer's --metrics-listen. */
#ifndef ADMIT_LISTEN_ADDR_H
#define ADMIT_LISTEN_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Parses "127.0.0.1:8080" or "[::1]:8080" (port 0: any free port) into *addr, and the
 * printable host into host (hostlen bytes). Returns 0, or -1 when text is not such an address
 * (a host name is not: no resolver runs). */
int admit_listen_addr_parse(const char *text, struct sockaddr_storage *addr, char *host,
                            size_t hostlen);

#endif
