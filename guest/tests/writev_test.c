/* writev of three iovecs; readv of stdin, which the runner feeds with "hello, readv\n". */
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
    char a[] = "one ", b[] = "two ", c[] = "three\n";
    struct iovec w[3] = {{a, 4}, {b, 4}, {c, 6}};
    fflush(stdout);
    ssize_t n = writev(1, w, 3);
    CHECK("writev 3 iovecs returns 14", n == 14, "got %zd errno %d", n, errno);
    struct iovec wz[2] = {{a, 0}, {NULL, 0}};
    CHECK("writev of empty iovecs returns 0", writev(1, wz, 2) == 0, "errno %d", errno);
    CHECK_ERRNO("writev iovcnt -1 -> EINVAL", syscall(SYS_writev, 1, w, -1), EINVAL);
    CHECK_ERRNO("writev iovcnt 1025 -> EINVAL", syscall(SYS_writev, 1, w, 1025), EINVAL);

    char r1[5], r2[100];
    memset(r1, 0, sizeof r1);
    memset(r2, 0, sizeof r2);
    struct iovec r[2] = {{r1, sizeof r1}, {r2, sizeof r2 - 1}};
    const char *want = "hello, readv\n";
    ssize_t m = readv(0, r, 2);
    CHECK("readv returns 13", m == 13, "got %zd errno %d", m, errno);
    CHECK("readv first iovec", memcmp(r1, "hello", 5) == 0, "got '%.5s'", r1);
    CHECK("readv second iovec", strcmp(r2, want + 5) == 0, "got '%s'", r2);
    char e[4];
    CHECK("read at EOF returns 0", read(0, e, sizeof e) == 0, "not EOF");
    return check_done();
}
