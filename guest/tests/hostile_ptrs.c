/* Raw system calls with pointers into supervisor-only memory, past RAM, wrapping or NULL:
 * each must fail with EFAULT (and must not leak or corrupt firmware state). The runner feeds
 * stdin with data so that the read checks cannot be satisfied by EOF without touching the buffer.
 * "--native" skips the checks where Linux legitimately behaves differently (a huge length with a
 * valid start: Linux writes what is mapped and returns a short count). */
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "firmware/abi.h"
#include "check.h"

#define P(x) ((void *)(uintptr_t)(x))

static void efault(const char *name, long r)
{
    int e = errno;
    CHECK(name, r == -1 && e == EFAULT, "got %ld errno %d (%s)", r, e, r == -1 ? strerror(e) : "no error");
}

int main(int argc, char **argv)
{
    int native = argc > 1 && strcmp(argv[1], "--native") == 0;
    static char valid[64] = "valid";
    fflush(stdout);

    efault("write NULL", syscall(SYS_write, 1, NULL, 5));
    efault("write GDT", syscall(SYS_write, 1, P(ISOVM_GDT_GPA), 16));
    efault("write IDT", syscall(SYS_write, 1, P(ISOVM_IDT_GPA), 16));
    efault("write request block", syscall(SYS_write, 1, P(ISOVM_HCBLOCK_GPA), 16));
    efault("write firmware", syscall(SYS_write, 1, P(ISOVM_FW_CODE_GPA), 16));
    efault("write last firmware byte + user page", syscall(SYS_write, 1, P(ISOVM_USER_MIN_GPA - 1), 2));
    efault("write past RAM", syscall(SYS_write, 1, P(0x7ffffffff000ul), 16));
    efault("write non-canonical", syscall(SYS_write, 1, P(0x800000000000ul), 16));
    efault("write wrapping", syscall(SYS_write, 1, P(0xfffffffffffff000ul), 0x2000));
    if (!native)
        efault("write length past RAM", syscall(SYS_write, 1, valid, 0x7ffffffffffffffful));
    efault("read into firmware", syscall(SYS_read, 0, P(ISOVM_FW_CODE_GPA), 16));
    efault("read into GDT", syscall(SYS_read, 0, P(ISOVM_GDT_GPA), 16));
    efault("read into NULL", syscall(SYS_read, 0, NULL, 16));

    efault("writev iovec array NULL", syscall(SYS_writev, 1, NULL, 1));
    efault("writev iovec array in request block", syscall(SYS_writev, 1, P(ISOVM_HCBLOCK_GPA), 1));
    struct iovec fw = {P(ISOVM_FW_CODE_GPA), 16};
    efault("writev iovec base firmware", syscall(SYS_writev, 1, &fw, 1));
    struct iovec two[2] = {{valid, 5}, {P(ISOVM_GDT_GPA), 16}};
    long r2 = syscall(SYS_writev, 1, two, 2);
    /* Linux writes the valid first iovec and returns 5; an all-or-nothing check gives EFAULT. */
    CHECK("writev valid + GDT iovec: 5 or EFAULT", r2 == 5 || (r2 == -1 && errno == EFAULT),
          "got %ld errno %d", r2, errno);
    if (r2 == 5) {
        printf("\n");
        fflush(stdout);
    }

    efault("clock_gettime NULL", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL));
    efault("clock_gettime GDT", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, P(ISOVM_GDT_GPA)));
    efault("clock_gettime firmware", syscall(SYS_clock_gettime, CLOCK_REALTIME, P(ISOVM_FW_CODE_GPA)));
    efault("uname NULL", syscall(SYS_uname, NULL));
    efault("uname request block", syscall(SYS_uname, P(ISOVM_HCBLOCK_GPA)));
    efault("getrandom firmware", syscall(SYS_getrandom, P(ISOVM_FW_CODE_GPA), 16, 0));
    efault("getrandom wrapping", syscall(SYS_getrandom, P(0xfffffffffffffff0ul), 32, 0));
    efault("gettimeofday GDT", syscall(SYS_gettimeofday, P(ISOVM_GDT_GPA), NULL));
    efault("nanosleep NULL", syscall(SYS_nanosleep, NULL, NULL));
    efault("readlink path NULL", syscall(SYS_readlink, NULL, valid, sizeof valid));
    efault("readlink buf firmware", syscall(SYS_readlink, "/proc/self/exe", P(ISOVM_FW_CODE_GPA), 64));

    long z = syscall(SYS_write, 1, valid, 0);
    CHECK("write len 0 returns 0", z == 0, "got %ld errno %d", z, errno);

    /* the firmware and request blocks still work: a normal call succeeds afterwards */
    struct timespec ts;
    CHECK("normal call after hostile ones", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0,
          "errno %d", errno);
    return check_done();
}
