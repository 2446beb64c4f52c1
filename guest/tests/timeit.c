/* Times a command inside the guest (bench/linux_io.sh): `timeit CMD [ARGS...]` runs CMD (PATH lookup), waits, prints "ns=T" (CLOCK_MONOTONIC); exits with its status. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: timeit CMD [ARGS...]\n");
        return 2;
    }
    fflush(stdout);
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "timeit: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "timeit: %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "timeit: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    uint64_t t = now_ns() - t0;
    printf("ns=%llu\n", (unsigned long long)t);
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    fprintf(stderr, "timeit: %s: killed by signal %d\n", argv[1], WTERMSIG(st));
    return 1;
}
