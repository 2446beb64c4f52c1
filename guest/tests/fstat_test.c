#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
    static const char *names[] = {"fstat 0", "fstat 1", "fstat 2"};
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        memset(&st, 0xff, sizeof st);
        int r = fstat(fd, &st);
        CHECK(names[fd], r == 0, "errno %d (%s)", errno, strerror(errno));
        if (r == 0)
            printf("fd %d: mode 0%o\n", fd, (unsigned)st.st_mode);
    }
    struct stat st;
    CHECK_ERRNO("fstat bad fd -> EBADF", fstat(99, &st), EBADF);
    return check_done();
}
