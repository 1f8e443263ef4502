/* Test-only, preloaded into admitd by test_server_core.py (Shutdown.test_stop_under_traffic):
 * the main thread's epoll_ctl(EPOLL_CTL_DEL) waits 20 ms before it runs. That widens, from a
 * system call's length to 20 ms, the window in which libmicrohttpd 0.9.75's MHD_quiesce_daemon
 * races a worker woken by traffic for the removal of the listening socket from the worker's
 * epoll set; the loser calls MHD_PANIC (see server/main.c). An admitd built on epoll then aborts
 * in nearly every round of that test; admitd on poll() never calls epoll_ctl. Never linked into
 * admit or admitd. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef int epoll_ctl_fn(int, int, int, struct epoll_event *);

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    static epoll_ctl_fn *real;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "epoll_ctl");
    if (op == EPOLL_CTL_DEL && gettid() == getpid()) {
        const struct timespec delay = {0, 20 * 1000 * 1000};
        nanosleep(&delay, NULL);
    }
    return real(epfd, op, fd, event);
}
