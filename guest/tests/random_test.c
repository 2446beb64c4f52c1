#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
    unsigned char a[64], b[64], zero[64] = {0};
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    long r1 = syscall(SYS_getrandom, a, sizeof a, 0);
    long r2 = syscall(SYS_getrandom, b, sizeof b, 0);
    CHECK("getrandom 64 bytes", r1 == 64, "got %ld errno %d", r1, errno);
    CHECK("getrandom 64 bytes again", r2 == 64, "got %ld errno %d", r2, errno);
    CHECK("two draws differ", memcmp(a, b, sizeof a) != 0, "identical");
    CHECK("draw is not all zero", memcmp(a, zero, sizeof a) != 0, "all zero");
    CHECK("GRND_NONBLOCK", syscall(SYS_getrandom, a, 16, GRND_NONBLOCK) == 16, "errno %d", errno);
    CHECK("getrandom len 0", syscall(SYS_getrandom, a, 0, 0) == 0, "errno %d", errno);
    CHECK_ERRNO("bad flags -> EINVAL", syscall(SYS_getrandom, a, 16, 0xdead0000u), EINVAL);
    CHECK("libc getrandom", getrandom(b, 32, 0) == 32, "errno %d", errno);
    return check_done();
}
