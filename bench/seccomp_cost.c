/* The VMM seccomp filter's cost per host syscall, natively (no KVM needed): N ioctl(TCGETS) (a
 * row with an argument check, as KVM_RUN) and N getpid (a row without) in children with and
 * without the filter, interleaved; prints the medians in ns per call. Links vmm/vmm_seccomp.o.
 *   seccomp_cost [CALLS [ROUNDS]]   (default 200000 21) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "vmm/run/vmm_seccomp.h"

static double ns_per_call(int fd, long n, int which)
{
    struct timespec a, b;
    struct termios t;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        if (which)
            ioctl(fd, TCGETS, &t);
        else
            syscall(SYS_getpid);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One measurement in a child (with or without the filter): both rates written to out[0..1]. */
static void measure_child(int fd, long n, int filtered, volatile double *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (filtered && vmm_seccomp_install() < 0)
            _exit(1);
        ns_per_call(fd, n / 10, 1); /* warm up */
        out[0] = ns_per_call(fd, n, 1);
        out[1] = ns_per_call(fd, n, 0);
        _exit(0);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        exit(1);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int rounds = argc > 2 ? atoi(argv[2]) : 21;
    if (rounds < 1 || rounds > 1000)
        return 2;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    volatile double *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                                   -1, 0);
    if (fd < 0 || shared == MAP_FAILED)
        return 1;
    double r[4][1000]; /* ioctl off, getpid off, ioctl on, getpid on */
    for (int i = 0; i < rounds; i++) /* interleaved, so drift hits both sides alike */
        for (int f = 0; f < 2; f++) {
            measure_child(fd, n, f, shared);
            r[2 * f][i] = shared[0];
            r[2 * f + 1][i] = shared[1];
        }
    double med[4];
    for (int k = 0; k < 4; k++) {
        qsort(r[k], (size_t)rounds, sizeof(double), cmp_double);
        med[k] = r[k][rounds / 2];
    }
    printf("medians of %d interleaved rounds of %ld calls each\n", rounds, n);
    printf("ioctl(TCGETS): %.1f ns without the filter, %.1f ns with it (%+.1f ns)\n", med[0],
           med[2], med[2] - med[0]);
    printf("getpid:        %.1f ns without the filter, %.1f ns with it (%+.1f ns)\n", med[1],
           med[3], med[3] - med[1]);
    return 0;
}
