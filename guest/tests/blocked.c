/* Makes one syscall named by argv[1] (a name below, or a number such as 5000 or -1) with
 * syscall(2) and prints "ret=RET errno=ERRNO"; exits 0 whatever the answer. For the filter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char scratch[4096];

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: blocked SYSCALL (getpid getppid gettid uname socket "
                        "clock_gettime getrandom sched_yield, or a number)\n");
        return 2;
    }
    const char *name = argv[1];
    long ret;
    errno = 0;
    if (strcmp(name, "getpid") == 0)
        ret = syscall(SYS_getpid);
    else if (strcmp(name, "getppid") == 0)
        ret = syscall(SYS_getppid);
    else if (strcmp(name, "gettid") == 0)
        ret = syscall(SYS_gettid);
    else if (strcmp(name, "uname") == 0)
        ret = syscall(SYS_uname, scratch);
    else if (strcmp(name, "socket") == 0)
        ret = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    else if (strcmp(name, "clock_gettime") == 0)
        ret = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, scratch);
    else if (strcmp(name, "getrandom") == 0)
        ret = syscall(SYS_getrandom, scratch, 16, 0);
    else if (strcmp(name, "sched_yield") == 0)
        ret = syscall(SYS_sched_yield);
    else {
        char *end;
        errno = 0;
        long nr = strtol(name, &end, 0);
        if (*name == '\0' || *end != '\0' || errno) {
            fprintf(stderr, "blocked: unknown syscall '%s'\n", name);
            return 2;
        }
        errno = 0;
        ret = syscall(nr, 0, 0, 0, 0, 0, 0);
    }
    int e = ret == -1 ? errno : 0;
    printf("ret=%ld errno=%d\n", ret, e);
    return 0;
}
