/* The descriptor limit (max_capabilities; natively RLIMIT_NOFILE).
 *
 *   fdlimit   dup(1) until it fails; prints "opened=N errno=NAME" (NAME of the failure, EMFILE
 *             expected), then checks that at the limit fcntl F_DUPFD / F_DUPFD_CLOEXEC fail with
 *             EMFILE, dup2/dup3 onto a free number fail (EMFILE, or EBADF as Linux gives for a
 *             number at or above RLIMIT_NOFILE), dup2 onto an open descriptor still works (it
 *             takes no new slot), a closed slot can be reused (lowest number first) and the
 *             descriptors made by dup write to stdout.
 *
 * Stops after 100000 descriptors (prints "opened=N errno=none"). Ends in "all checks passed"
 * (exit 0) or exit 1. */
#include <fcntl.h>
#include <unistd.h>
#include "check.h"

#define MAXFD 100000

static int fds[MAXFD];

static const char *err_name(int e)
{
    switch (e) {
    case 0: return "none";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case ENOMEM: return "ENOMEM";
    default: return "other";
    }
}

int main(void)
{
    int n = 0, e = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (;;) {
        if (n == MAXFD)
            break;
        int fd = dup(1);
        if (fd < 0) {
            e = errno;
            break;
        }
        fds[n++] = fd;
    }
    printf("opened=%d errno=%s\n", n, err_name(e));
    CHECK("dup fails with EMFILE at the limit", e == EMFILE, "errno %d (%s)", e, err_name(e));
    if (e != EMFILE || n < 3) {
        printf("need at least 3 descriptors beyond 0,1,2 for the rest (opened %d)\n", n);
        return 1;
    }
    int top = fds[n - 1];
    CHECK("dup numbers are consecutive from 3", fds[0] == 3 && top == n + 2, "first %d last %d", fds[0],
          top);

    CHECK_ERRNO("F_DUPFD at the limit -> EMFILE", fcntl(1, F_DUPFD, 0), EMFILE);
    CHECK_ERRNO("F_DUPFD_CLOEXEC at the limit -> EMFILE", fcntl(1, F_DUPFD_CLOEXEC, 0), EMFILE);
    CHECK_ERRNO("dup at the limit again -> EMFILE", dup(2), EMFILE);
    errno = 0;
    int r = dup2(1, top + 1);
    int e2 = errno;
    CHECK("dup2 onto a free number at the limit fails (EMFILE or EBADF)",
          r == -1 && (e2 == EMFILE || e2 == EBADF), "got %d errno %d (%s)", r, e2, err_name(e2));
    errno = 0;
    r = dup3(1, top + 1, O_CLOEXEC);
    e2 = errno;
    CHECK("dup3 onto a free number at the limit fails (EMFILE or EBADF)",
          r == -1 && (e2 == EMFILE || e2 == EBADF), "got %d errno %d (%s)", r, e2, err_name(e2));

    /* replacing an open descriptor takes no new slot */
    CHECK("dup2 onto an open descriptor", dup2(2, fds[1]) == fds[1], "errno %d (%s)", errno,
          err_name(errno));
    CHECK("dup2 onto itself", dup2(fds[1], fds[1]) == fds[1], "errno %d (%s)", errno, err_name(errno));
    CHECK("dup3 onto an open descriptor", dup3(1, fds[2], O_CLOEXEC) == fds[2], "errno %d (%s)",
          errno, err_name(errno));

    /* a closed slot is reused, lowest number first */
    CHECK("close", close(fds[1]) == 0, "errno %d", errno);
    r = dup(1);
    CHECK("dup after a close reuses the lowest number", r == fds[1], "got %d want %d errno %d", r,
          fds[1], errno);
    CHECK_ERRNO("dup at the limit after the reuse -> EMFILE", dup(1), EMFILE);
    CHECK("close the last", close(top) == 0, "errno %d", errno);
    r = fcntl(1, F_DUPFD, 3);
    CHECK("F_DUPFD from 3 takes the freed number", r == top, "got %d want %d errno %d", r, top, errno);
    CHECK("close the last again", close(top) == 0, "errno %d", errno);
    r = fcntl(1, F_DUPFD_CLOEXEC, 0);
    CHECK("F_DUPFD_CLOEXEC takes the freed number", r == top, "got %d want %d errno %d", r, top, errno);
    CHECK("close the last once more", close(top) == 0, "errno %d", errno);
    r = dup2(1, top);
    CHECK("dup2 onto a freed number", r == top, "got %d want %d errno %d", r, top, errno);

    static const char msg[] = "written through a dup of stdout\n";
    CHECK("write through a dup", write(fds[0], msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1),
          "errno %d", errno);

    /* all closed: back to 3 */
    int closed = 1;
    for (int i = 0; i < n; i++)
        closed &= close(fds[i]) == 0;
    CHECK("close every dup", closed, "a close failed");
    r = dup(1);
    CHECK("dup after closing all returns 3", r == 3, "got %d errno %d", r, errno);
    CHECK_ERRNO("close of a closed descriptor -> EBADF", close(4), EBADF);
    return check_done();
}
