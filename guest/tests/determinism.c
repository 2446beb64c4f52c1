/* Prints everything a job can observe that could vary between runs: clocks, sleeps, randomness,
 * AT_RANDOM, uname, ids, addresses. `determinism clone` tries to start a process instead. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define BUSY_SYSCALLS 100

static void print_hex(const char *label, const unsigned char *p, size_t n)
{
    printf("%s=", label);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

/* A clock read as ns, or the errno as a negative number (the output stays comparable). */
static long long clock_read_ns(clockid_t id)
{
    struct timespec ts;
    if (syscall(SYS_clock_gettime, id, &ts) != 0)
        return -(long long)errno;
    return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void print_clock(const char *label, clockid_t id)
{
    struct timespec ts;
    if (syscall(SYS_clock_gettime, id, &ts) != 0)
        printf("%s=error %d\n", label, errno);
    else
        printf("%s=%lld.%09ld\n", label, (long long)ts.tv_sec, ts.tv_nsec);
}

static int try_clone(void)
{
    /* A fork-like clone: never a thread, so that if it were allowed nothing would run twice
     * (isovm refuses new processes with ENOSYS; the deterministic filter refuses clone first). */
    long r = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
    printf("clone=%ld errno=%d\n", r, r < 0 ? errno : 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "clone") == 0)
        return try_clone();
    int on_stack = 0;

    print_clock("realtime", CLOCK_REALTIME);
    print_clock("monotonic", CLOCK_MONOTONIC);
    print_clock("boottime", CLOCK_BOOTTIME);
    print_clock("process_cputime", CLOCK_PROCESS_CPUTIME_ID);

    long long t0 = clock_read_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < BUSY_SYSCALLS; i++)
        syscall(SYS_getppid);
    long long t1 = clock_read_ns(CLOCK_MONOTONIC);
    printf("busy_%d_syscalls_ns=%lld\n", BUSY_SYSCALLS, t1 - t0);

    struct timespec nap = { .tv_sec = 0, .tv_nsec = 250000000 };
    t0 = clock_read_ns(CLOCK_MONOTONIC);
    long r = syscall(SYS_nanosleep, &nap, NULL);
    t1 = clock_read_ns(CLOCK_MONOTONIC);
    printf("nanosleep_250ms=%ld elapsed_ns=%lld\n", r, t1 - t0);

    struct timeval tv;
    r = syscall(SYS_gettimeofday, &tv, NULL);
    printf("gettimeofday=%ld %lld.%06ld\n", r, (long long)tv.tv_sec, (long)tv.tv_usec);
    printf("time=%ld\n", (long)syscall(SYS_time, NULL));

    unsigned char rnd[32];
    memset(rnd, 0, sizeof rnd);
    r = syscall(SYS_getrandom, rnd, sizeof rnd, 0);
    printf("getrandom_rc=%ld\n", r);
    print_hex("getrandom", rnd, sizeof rnd);
    const unsigned char *at_random = (const unsigned char *)getauxval(AT_RANDOM);
    if (at_random)
        print_hex("at_random", at_random, 16);
    else
        printf("at_random=none\n");

    struct utsname u;
    if (uname(&u) == 0)
        printf("uname=%s|%s|%s|%s|%s\n", u.sysname, u.nodename, u.release, u.version, u.machine);
    else
        printf("uname=error %d\n", errno);
    printf("pid=%ld tid=%ld ppid=%ld uid=%ld gid=%ld\n", (long)syscall(SYS_getpid),
           (long)syscall(SYS_gettid), (long)syscall(SYS_getppid), (long)syscall(SYS_getuid),
           (long)syscall(SYS_getgid));

    void *block = malloc(100);
    void *big = malloc(1 << 20); /* mmap'ed by both libcs */
    printf("malloc=%p malloc_1M=%p stack=%p main=%p\n", block, big, (void *)&on_stack,
           (void *)(uintptr_t)main);
    free(big);
    free(block);
    print_clock("monotonic_end", CLOCK_MONOTONIC);
    return 0;
}
