#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Why bind or listen failed, and what to do, in the operator's words. */
static const char *why(int error)
{
    switch (error) {
    case EADDRINUSE:
        return "the address is in use (another admitd or program holds it); choose another "
               "with --listen";
    case EACCES:
        return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); "
               "choose a port from 1024 with --listen, or put nginx in front";
    case EADDRNOTAVAIL:
        return "this machine has no such address; choose one of its addresses (or 127.0.0.1) "
               "with --listen";
    case EAFNOSUPPORT:
        return "this machine has no IPv6; choose an IPv4 address with --listen";
    default:
        return NULL;
    }
}

int server_listen_open(const struct sockaddr_storage *addr, const char *text,
                       struct admit_error *err)
{
    int one = 1, error = 0;
    socklen_t len =
        addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    admit_error_clear(err);
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        goto fail;
    if (addr->ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)addr, len) != 0 || listen(fd, SOMAXCONN) != 0)
        goto fail;
    return fd;
fail:
    error = errno;
    if (fd >= 0)
        close(fd);
    if (why(error) != NULL)
        admit_error_set(err, "cannot listen on %s: %s", text, why(error));
    else
        admit_error_set(err, "cannot listen on %s: %s", text, strerror(error));
    return -1;
}

int server_listen_port(int fd)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}
