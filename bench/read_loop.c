/* Guest job for the capability benchmark: N small read()s from stdin ("-") or from a file opened
 * by path and then attenuated DEPTH times with isovm's derive syscall (a capability chain). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "firmware/abi.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: read_loop PATH|- N [DEPTH]\n");
        return 2;
    }
    long n = atol(argv[2]), depth = argc > 3 ? atol(argv[3]) : 0;
    int fd = 0;
    if (argv[1][0] != '-' && (fd = open(argv[1], O_RDONLY)) < 0) {
        perror(argv[1]);
        return 1;
    }
    for (long d = 0; d < depth; d++) {
        long nfd = syscall(ISOVM_SYS_CAP_DERIVE, fd, ISOVM_RIGHT_READ | ISOVM_RIGHT_SEEK |
                           ISOVM_RIGHT_STAT, 0);
        if (nfd < 0) {
            perror("derive");
            return 1;
        }
        fd = (int)nfd;
    }
    char buf[16];
    for (long i = 0; i < n; i++) {
        if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
            fprintf(stderr, "read %ld failed\n", i);
            return 1;
        }
    }
    return 0;
}
