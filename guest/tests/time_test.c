#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static long long ns(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000ll + t->tv_nsec;
}

int main(void)
{
    struct timespec a, b, r;
    int mono_ok = 1;
    CHECK("clock_gettime MONOTONIC", clock_gettime(CLOCK_MONOTONIC, &a) == 0, "errno %d", errno);
    for (int i = 0; i < 1000; i++) {
        if (clock_gettime(CLOCK_MONOTONIC, &b) != 0 || ns(&b) < ns(&a) || b.tv_nsec < 0 ||
            b.tv_nsec >= 1000000000)
            mono_ok = 0;
        a = b;
    }
    CHECK("MONOTONIC non-decreasing and normalised", mono_ok, "went backwards or bad tv_nsec");
    CHECK("clock_gettime REALTIME", clock_gettime(CLOCK_REALTIME, &r) == 0, "errno %d", errno);
    CHECK("REALTIME after 2020", r.tv_sec > 1577836800, "got %lld", (long long)r.tv_sec);
    CHECK("REALTIME before 2200", r.tv_sec < 7258118400ll, "got %lld", (long long)r.tv_sec);
    struct timeval tv;
    CHECK("gettimeofday", gettimeofday(&tv, NULL) == 0, "errno %d", errno);
    CHECK("gettimeofday plausible", tv.tv_sec > 1577836800 && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
          "got %lld.%06ld", (long long)tv.tv_sec, (long)tv.tv_usec);
    time_t t = time(NULL);
    CHECK("time() plausible", t > 1577836800, "got %lld", (long long)t);
    time_t t2;
    CHECK("time(&t) stores", time(&t2) == t2, "mismatch");
    CHECK("clock_getres MONOTONIC", clock_getres(CLOCK_MONOTONIC, &r) == 0 && ns(&r) > 0, "errno %d", errno);

    struct timespec d = {0, 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK("nanosleep 10ms returns 0", rc == 0, "rc %d errno %d", rc, errno);
    CHECK("nanosleep 10ms takes >= 10ms", ns(&b) - ns(&a) >= 10 * 1000 * 1000, "took %lld ns", ns(&b) - ns(&a));
    struct timespec bad = {0, 1000000000};
    CHECK_ERRNO("nanosleep tv_nsec 1e9 -> EINVAL", nanosleep(&bad, NULL), EINVAL);
    CHECK_ERRNO("clock_gettime invalid clock -> EINVAL", syscall(SYS_clock_gettime, 12345, &a), EINVAL);
    CHECK_ERRNO("clock_gettime(9999) via libc -> EINVAL", clock_gettime((clockid_t)9999, &a), EINVAL);
    return check_done();
}
