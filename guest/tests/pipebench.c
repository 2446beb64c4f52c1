/* A pipe's throughput between two processes: a child writes MIB MiB in BLOCK-byte writes, the
 * parent reads them to EOF and counts (as `cat file | wc -c` would); prints "pipe_mib_s=X". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 64;
    long block = argc > 2 ? atol(argv[2]) : 65536;
    if (mib < 1 || block < 1 || block > (16 << 20)) {
        fprintf(stderr, "usage: pipebench [MIB] [BLOCK]\n");
        return 2;
    }
    char *buf = malloc((size_t)block);
    int p[2];
    if (!buf || pipe(p) < 0)
        return 1;
    memset(buf, 'x', (size_t)block);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        close(p[0]);
        long left = mib << 20;
        while (left > 0) {
            ssize_t n = write(p[1], buf, (size_t)(left < block ? left : block));
            if (n <= 0)
                _exit(1);
            left -= n;
        }
        _exit(0);
    }
    close(p[1]);
    long total = 0;
    ssize_t n;
    while ((n = read(p[0], buf, (size_t)block)) > 0)
        total += n;
    int st;
    waitpid(pid, &st, 0);
    double dt = now_s() - t0;
    if (total != mib << 20 || st != 0) {
        fprintf(stderr, "pipebench: %ld bytes, child status %d\n", total, st);
        return 1;
    }
    printf("pipe_mib_s=%.1f\nbytes=%ld\n", (double)mib / dt, total);
    return 0;
}
