/* The init's messages: one line each on isovm.stderr, or on the console (the init's fd 2) before
 * the ports are open; die() says why the init cannot go on and ends the guest. */
#include "init/msg.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "init/status.h"
#include "init/streams.h"

static int stderr_fd = -1;

void msg_use_stderr(int fd)
{
    stderr_fd = fd;
}

static void line_to(int fd, const char *fmt, va_list ap)
{
    char b[1024];
    int n = snprintf(b, sizeof b, "isovm-init: ");
    int m = vsnprintf(b + n, sizeof b - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += m < (int)(sizeof b - (size_t)n - 1) ? m : (int)(sizeof b - (size_t)n - 2);
    b[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(fd, b + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (int)w;
    }
}

void msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_to(stderr_fd >= 0 ? stderr_fd : 2, fmt, ap);
    va_end(ap);
}

void msg_console(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_to(2, fmt, ap);
    va_end(ap);
}

_Noreturn void die(enum isovm_init_stage stage, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_to(2, fmt, ap); /* the console always has it */
    va_end(ap);
    int fd = stderr_fd >= 0 ? stderr_fd : streams_find_stderr();
    if (fd >= 0) {
        va_start(ap, fmt);
        line_to(fd, fmt, ap);
        va_end(ap);
    }
    status_end(ISOVM_INIT_ERROR, ISOVM_INIT_ERROR_DETAIL(stage, err));
}
