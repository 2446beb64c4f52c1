#include <sys/ioctl.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
    int t = isatty(1);
    int e = errno;
    printf("isatty(1)=%d\n", t);
    struct winsize ws;
    errno = 0;
    int r = ioctl(1, TIOCGWINSZ, &ws);
    if (t)
        CHECK("TIOCGWINSZ on a terminal", r == 0, "errno %d", errno);
    else {
        CHECK("isatty(1)=0 sets ENOTTY", e == ENOTTY, "errno %d (%s)", e, strerror(e));
        CHECK_ERRNO("TIOCGWINSZ on a non-terminal -> ENOTTY", r, ENOTTY);
    }
    errno = 0;
    CHECK("isatty(bad fd) is 0", isatty(99) == 0, "nonzero");
    CHECK("isatty(bad fd) sets EBADF", errno == EBADF, "errno %d", errno);
    CHECK_ERRNO("ioctl(bad fd) -> EBADF", ioctl(99, TIOCGWINSZ, &ws), EBADF);
    return check_done();
}
