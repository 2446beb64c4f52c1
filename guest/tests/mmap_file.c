/* mmap of granted files (issue 17 part 6): private and shared mappings, coherence with read/write, rights, unmap, and a file shorter than its mapping.
 *
 *   mmap_file all DIR      DIR writable: every check below, "ok NAME" lines, exit 0 when all pass
 *   mmap_file sigbus DIR   map two pages of a one-page file and read the second: dies of SIGBUS
 *   mmap_file revoke DIR   (isovm only) a shared map outlives its descriptor's close; revoking
 *                          the capability of a second descriptor's map cuts it: dies of SIGSEGV
 *   mmap_file ro FILE      FILE readable only (a read-only grant): MAP_PRIVATE works, MAP_SHARED
 *                          with PROT_WRITE and mprotect(PROT_WRITE) of a shared map fail EACCES
 *
 * Natively the same results (Linux's semantics are the reference). Exit 2 for bad usage. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "firmware/abi.h"

#define PG 4096

static char path[512];

static int make_file(const char *dir, const char *name, size_t len, int fill)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    char buf[PG];
    for (size_t off = 0; off < len; off += PG) {
        memset(buf, fill + (int)(off / PG), sizeof buf);
        if (pwrite(fd, buf, len - off < PG ? len - off : PG, (off_t)off) < 0) {
            perror("pwrite");
            exit(1);
        }
    }
    return fd;
}

static int all(const char *dir)
{
    int fd = make_file(dir, "m.bin", 4 * PG, 'a');
    /* private: the file's bytes; writes stay in the mapping */
    unsigned char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("private map", p != MAP_FAILED, "errno %d", errno);
    if (p == MAP_FAILED)
        return check_done();
    CHECK("private bytes are the file's", p[0] == 'a' && p[PG] == 'b' && p[4 * PG - 1] == 'd',
          "%c %c %c", p[0], p[PG], p[4 * PG - 1]);
    p[10] = 'X';
    char c = 0;
    CHECK("private write stays private", pread(fd, &c, 1, 10) == 1 && c == 'a', "file has %c", c);
    /* MADV_DONTNEED on a private file map: the file's bytes again */
    CHECK("madvise dontneed", madvise(p, PG, MADV_DONTNEED) == 0, "errno %d", errno);
    CHECK("private page reverts to the file", p[10] == 'a', "got %c", p[10]);
    CHECK("munmap private", munmap(p, 4 * PG) == 0, "errno %d", errno);

    /* shared: coherent both ways */
    unsigned char *s = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
    CHECK("shared map at an offset", s != MAP_FAILED, "errno %d", errno);
    if (s == MAP_FAILED)
        return check_done();
    CHECK("shared offset bytes", s[0] == 'b', "got %c", s[0]);
    s[5] = 'Y';
    CHECK("a store is seen by pread", pread(fd, &c, 1, PG + 5) == 1 && c == 'Y', "got %c", c);
    CHECK("pwrite is seen by the map", pwrite(fd, "Z", 1, 2 * PG + 7) == 1 && s[PG + 7] == 'Z',
          "got %c", s[PG + 7]);
    CHECK("msync", msync(s, 4 * PG, MS_SYNC) == 0, "errno %d", errno);
    /* a write from the mapping and a read into it (the VMM's copies over a file range) */
    CHECK("write(2) from a shared map", pwrite(fd, s, 16, 3 * PG + 100) == 16, "errno %d", errno);
    CHECK("read(2) into a shared map", pread(fd, s + 200, 8, 0) == 8 && s[200] == 'a',
          "got %c", s[200]);
    struct stat st;
    snprintf((char *)s + 300, 512, "%s", path); /* a path in a file's page, for stat() */
    CHECK("a path in a shared map", stat((char *)s + 300, &st) == 0 && st.st_size == 4 * PG,
          "errno %d", errno);
    /* past the end of the file: the VMM's own copies answer EFAULT, not a crash */
    CHECK("ftruncate to one page", ftruncate(fd, PG) == 0, "errno %d", errno);
    CHECK_ERRNO("stat of a path past the file's end", stat((char *)s + PG + 16, &st), EFAULT);
    CHECK_ERRNO("write(2) from past the file's end", write(1, s + 2 * PG, 8), EFAULT);
    /* unmap the middle: anonymous zero there, the rest still the file's */
    CHECK("munmap the middle", munmap(s + PG, PG) == 0, "errno %d", errno);
    unsigned char *z = mmap(s + PG, PG, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK("anonymous in the hole", z == s + PG && z[0] == 0 && z[PG - 1] == 0, "z %p", (void *)z);
    CHECK("extend the file again", ftruncate(fd, 4 * PG) == 0, "errno %d", errno);
    CHECK("truncated away: zero when the file grows again", s[5] == 0, "got %d", s[5]);
    CHECK("past the old end: zero now", s[3 * PG - 1] == 0, "got %d", s[3 * PG - 1]);
    CHECK("munmap all", munmap(s, 4 * PG) == 0, "errno %d", errno);
    /* refusals */
    CHECK_ERRNO("mremap of a file map", (long)mremap(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0),
                                                     PG, 2 * PG, MREMAP_MAYMOVE) == -1 ? -1 : 0,
                EINVAL);
    CHECK_ERRNO("map of a directory", (long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE,
                                                 open(dir, O_RDONLY | O_DIRECTORY), 0) == -1 ? -1 : 0,
                ENODEV);
    CHECK_ERRNO("map of a closed descriptor", (long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 99, 0) == -1 ? -1 : 0,
                EBADF);
    close(fd);
    return check_done();
}

static int ro(const char *file)
{
    int fd = open(file, O_RDONLY);
    CHECK("open read-only", fd >= 0, "errno %d", errno);
    unsigned char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("private writable map of a read-only file", p != MAP_FAILED, "errno %d", errno);
    if (p != MAP_FAILED)
        p[0] ^= 1; /* its own copy */
    CHECK_ERRNO("shared writable map of a read-only file",
                (long)mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == -1 ? -1 : 0, EACCES);
    unsigned char *s = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    CHECK("shared read-only map", s != MAP_FAILED, "errno %d", errno);
    CHECK_ERRNO("mprotect it writable", mprotect(s, PG, PROT_READ | PROT_WRITE), EACCES);
    return check_done();
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "all"))
        return all(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "ro"))
        return ro(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "sigbus")) {
        int fd = make_file(argv[2], "short.bin", PG, 'q');
        volatile unsigned char *p = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            return 1;
        printf("first page %c\n", p[0]);
        fflush(stdout);
        if (ftruncate(fd, 0) == 0) /* the page the job already read: past the end now */
            printf("first page again %c\n", p[0]);
        printf("second page %c\n", p[PG]);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "revoke")) {
        int fd = make_file(argv[2], "rev.bin", PG, 'r');
        volatile unsigned char *p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        printf("after close %c\n", p[0]);
        int fd2 = open(path, O_RDONLY);
        volatile unsigned char *q = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd2, 0);
        printf("second map %c\n", q[0]);
        long r = syscall(ISOVM_SYS_CAP_REVOKE, fd2);
        printf("revoked %ld, first map %c\n", r, p[0]);
        fflush(stdout);
        printf("second map after revocation %c\n", q[0]);
        return 0;
    }
    fprintf(stderr, "usage: mmap_file all DIR | sigbus DIR | ro FILE | revoke DIR\n");
    return 2;
}
