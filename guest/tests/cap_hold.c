/* Holds console-derived capabilities while something outside revokes them (isovm cap revoke):
 * derives a read copy of stdin, a write copy of stdout and a copy of that copy, prints
 * "ready rcap=ID wcap=ID w2cap=ID", then polls each every 20 ms with a zero-length read/write
 * and prints "revoked NAME" the first time one fails with EKEYREVOKED. Exits 0 when all three
 * are revoked, 1 ("timeout") after SECONDS (argv[1], default 60). Only meaningful under isovm. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "firmware/abi.h"

static long derive(int fd, unsigned rights)
{
    return syscall(ISOVM_SYS_CAP_DERIVE, fd, rights, 0);
}

static unsigned long long cap_id(long fd)
{
    struct isovm_cap_info info;
    if (syscall(ISOVM_SYS_CAP_INFO, fd, &info) != 0)
        return 0;
    return (unsigned long long)info.id;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 60;
    long rfd = derive(0, ISOVM_RIGHT_READ);
    long wfd = derive(1, ISOVM_RIGHT_WRITE);
    long w2fd = wfd >= 0 ? derive((int)wfd, ISOVM_RIGHT_WRITE) : -1;
    if (rfd < 0 || wfd < 0 || w2fd < 0) {
        printf("derive failed: %s\n", strerror(errno));
        return 2;
    }
    printf("ready rcap=%llu wcap=%llu w2cap=%llu\n", cap_id(rfd), cap_id(wfd), cap_id(w2fd));
    fflush(stdout);
    const struct { const char *name; long fd; int is_write; } held[3] = {
        { "read", rfd, 0 }, { "write", wfd, 1 }, { "write2", w2fd, 1 },
    };
    int revoked[3] = { 0, 0, 0 }, left = 3;
    struct timespec tick = { 0, 20 * 1000 * 1000 };
    time_t end = time(NULL) + seconds;
    char byte;
    while (left && time(NULL) < end) {
        for (int i = 0; i < 3; i++) {
            if (revoked[i])
                continue;
            long r = held[i].is_write ? syscall(SYS_write, held[i].fd, &byte, 0)
                                      : syscall(SYS_read, held[i].fd, &byte, 0);
            if (r < 0 && errno == EKEYREVOKED) {
                revoked[i] = 1;
                left--;
                printf("revoked %s\n", held[i].name);
                fflush(stdout);
            } else if (r < 0) {
                printf("%s failed: %s\n", held[i].name, strerror(errno));
                fflush(stdout);
                return 3;
            }
        }
        nanosleep(&tick, NULL);
    }
    if (left) {
        printf("timeout\n");
        return 1;
    }
    printf("all revoked\n");
    return 0;
}
