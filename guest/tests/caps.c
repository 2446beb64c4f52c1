/* Guest test job for capabilities on granted files: attenuation, amplification, expiry at the
 * next use, revoking a directory closes what was opened beneath it, the limit, handle reuse.
 * usage: caps attenuate FILE | expire FILE MS | revoke-dir DIR NAME | limit FILE | reuse RW RO */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "firmware/abi.h"
#include "check.h"

#define R_FILE (ISOVM_RIGHT_READ | ISOVM_RIGHT_SEEK | ISOVM_RIGHT_STAT)

static long derive(int fd, unsigned long rights, unsigned long ttl)
{
    return syscall(ISOVM_SYS_CAP_DERIVE, fd, rights, ttl);
}

static void attenuate(const char *file)
{
    int fd = open(file, O_RDWR);
    CHECK("open rw", fd >= 0, "errno %d", errno);
    char buf[4];
    CHECK("write rw", write(fd, "x", 1) == 1, "errno %d", errno);
    long ro = derive(fd, R_FILE, 0);
    CHECK("derive read-only", ro >= 0, "errno %d", errno);
    CHECK_ERRNO("write through read-only copy", write((int)ro, "y", 1), EBADF);
    CHECK("pread through read-only copy", pread((int)ro, buf, 1, 0) == 1, "errno %d", errno);
    CHECK_ERRNO("amplify back to write", derive((int)ro, R_FILE | ISOVM_RIGHT_WRITE, 0), EPERM);
    CHECK_ERRNO("unknown right", derive(fd, 1ul << 12, 0), EINVAL);
    struct isovm_cap_info info;
    CHECK("info", syscall(ISOVM_SYS_CAP_INFO, ro, &info) == 0, "errno %d", errno);
    CHECK("info rights", info.rights == R_FILE, "rights %#lx", (unsigned long)info.rights);
    CHECK("info depth", info.depth == 2, "depth %lu (grant -> open -> derive)", (unsigned long)info.depth);
}

static void expire(const char *file, long ms)
{
    int fd = open(file, O_RDONLY);
    CHECK("open before expiry", fd >= 0, "errno %d", errno);
    char buf[4];
    CHECK("read before expiry", read(fd, buf, 1) == 1, "errno %d", errno);
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
    CHECK_ERRNO("read after expiry", read(fd, buf, 1), EKEYEXPIRED);
    CHECK_ERRNO("open after expiry", open(file, O_RDONLY), EKEYEXPIRED);
    CHECK("close after expiry", close(fd) == 0, "errno %d", errno);
}

static void revoke_dir(const char *dir, const char *name)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK("open dir", d >= 0, "errno %d", errno);
    int f = openat(d, name, O_RDONLY);
    CHECK("open file beneath", f >= 0, "errno %d", errno);
    long copy = derive(f, ISOVM_RIGHT_READ, 0);
    CHECK("derive copy", copy >= 0, "errno %d", errno);
    int other = open(dir, O_RDONLY | O_DIRECTORY); /* a sibling: not derived from d */
    char buf[4];
    CHECK("read before revoke", read(f, buf, 1) == 1, "errno %d", errno);
    CHECK("revoke dir", syscall(ISOVM_SYS_CAP_REVOKE, d) == 0, "errno %d", errno);
    CHECK_ERRNO("read file after revoke", read(f, buf, 1), EKEYREVOKED);
    CHECK_ERRNO("read copy after revoke", read((int)copy, buf, 1), EKEYREVOKED);
    CHECK_ERRNO("openat on revoked dir", openat(d, name, O_RDONLY), EKEYREVOKED);
    int again = openat(other, name, O_RDONLY);
    CHECK("sibling dir still works", again >= 0 && read(again, buf, 1) == 1, "errno %d", errno);
    CHECK("close revoked", close(f) == 0 && close((int)copy) == 0 && close(d) == 0, "errno %d", errno);
}

static void limit(const char *file)
{
    int fd = open(file, O_RDONLY);
    CHECK("open", fd >= 0, "errno %d", errno);
    int n = 0, last = -1;
    long r;
    while ((r = derive(fd, ISOVM_RIGHT_READ, 0)) >= 0) {
        last = (int)r;
        n++;
    }
    CHECK("derive stops with EMFILE", errno == EMFILE && n > 0, "errno %d after %d", errno, n);
    CHECK_ERRNO("again EMFILE", derive(fd, ISOVM_RIGHT_READ, 0), EMFILE);
    CHECK_ERRNO("open EMFILE", open(file, O_RDONLY), EMFILE);
    CHECK("close one", close(last) == 0, "errno %d", errno);
    CHECK("exactly one more", derive(fd, ISOVM_RIGHT_READ, 0) == last, "errno %d", errno);
    CHECK_ERRNO("then full again", derive(fd, ISOVM_RIGHT_READ, 0), EMFILE);
    printf("derived %d\n", n);
}

static void reuse(const char *rw, const char *ro)
{
    int a = open(rw, O_RDWR);
    CHECK("open rw", a >= 0, "errno %d", errno);
    CHECK("close", close(a) == 0, "errno %d", errno);
    int b = open(ro, O_RDONLY);
    CHECK("same number", b == a, "%d vs %d", b, a);
    CHECK_ERRNO("no old write right", write(b, "z", 1), EBADF);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "attenuate"))
        attenuate(argv[2]);
    else if (argc >= 4 && !strcmp(argv[1], "expire"))
        expire(argv[2], atol(argv[3]));
    else if (argc >= 4 && !strcmp(argv[1], "revoke-dir"))
        revoke_dir(argv[2], argv[3]);
    else if (argc >= 3 && !strcmp(argv[1], "limit"))
        limit(argv[2]);
    else if (argc >= 4 && !strcmp(argv[1], "reuse"))
        reuse(argv[2], argv[3]);
    else {
        fprintf(stderr, "usage: caps attenuate FILE | expire FILE MS | revoke-dir DIR NAME | "
                "limit FILE | reuse RW RO\n");
        return 2;
    }
    return check_done();
}
