/* fork + _exit + wait, N times, timed in the job: prints "fork_exit_wait_us=X" (per round) and
 * "touched_kib=K" (the memory each fork copies beyond the program's own: argv[2], default 0).
 * With a program's path as argv[3], each child execs it instead ("fork_exec_wait_us=X"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    long kib = argc > 2 ? atol(argv[2]) : 0;
    const char *prog = argc > 3 ? argv[3] : NULL;
    if (n < 1 || kib < 0) {
        fprintf(stderr, "usage: forkbench ROUNDS [TOUCHED_KIB [PROGRAM]]\n");
        return 2;
    }
    char *mem = kib ? malloc((size_t)kib << 10) : NULL;
    if (kib && !mem)
        return 3;
    if (mem)
        memset(mem, 1, (size_t)kib << 10);
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            if (prog) {
                char *args[] = { (char *)prog, NULL };
                execv(prog, args);
                _exit(127);
            }
            _exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || st != 0) {
            fprintf(stderr, "wait: status %d\n", st);
            return 1;
        }
    }
    double per = (now_us() - t0) / n;
    printf("%s=%.1f\ntouched_kib=%ld\n", prog ? "fork_exec_wait_us" : "fork_exit_wait_us", per, kib);
    return 0;
}
