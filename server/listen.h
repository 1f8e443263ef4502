/* admitd's listening socket, opened by admitd rather than by libmicrohttpd, so that a failure
 * names the address and says why in the operator's words (libmicrohttpd only logs "Failed to
 * bind to port 8080" and returns NULL). */
#ifndef ADMIT_SERVER_LISTEN_H
#define ADMIT_SERVER_LISTEN_H

#include <sys/socket.h>

#include "admit/core/error.h"

/* A listening TCP socket (non-blocking, close-on-exec, SO_REUSEADDR, IPv6 only for an IPv6
 * address: what libmicrohttpd sets on its own) bound to addr; text is the address as the
 * operator wrote it (--listen), for the message. Returns the descriptor, which the caller
 * closes; or -1 with err->message set, e.g. "cannot listen on 127.0.0.1:8080: the address is in
 * use (another admitd or program holds it); choose another with --listen". */
int server_listen_open(const struct sockaddr_storage *addr, const char *text,
                       struct admit_error *err);

/* The port the socket fd is bound to (what port 0 picked), or -1. */
int server_listen_port(int fd);

#endif
