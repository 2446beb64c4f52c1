/* Guest test job for the firmware's read cache: sequential small reads of a granted file must
 * see exactly the file's bytes and positions, whatever mix of calls comes in between.
 * usage: readcache verify FILE SIZE   (FILE holds byte i = (i * 7 + i / 4096) & 0xff)
 *        readcache spin FILE          (reads 1 byte at a time, rewinding at the end, until a
 *                                      read fails; prints "ready" first, the errno at the end) */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

static unsigned char expect(uint64_t i) { return (unsigned char)((i * 7 + i / 4096) & 0xff); }

static int check_bytes(const unsigned char *b, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != expect(off + i))
            return 0;
    return 1;
}

static unsigned char buf[200000], other[4096];

static void verify(const char *file, uint64_t size)
{
    int fd = open(file, O_RDONLY);
    CHECK("open", fd >= 0, "errno %d", errno);
    uint64_t off = 0;
    int bad = 0;
    /* a run of 4 KiB reads into one buffer: the cache's case */
    for (int i = 0; i < 100 && off + 4096 <= size; i++) {
        ssize_t r = read(fd, buf, 4096);
        if (r != 4096 || !check_bytes(buf, off, 4096))
            bad++;
        off += 4096;
    }
    CHECK("100 sequential 4KiB reads", !bad, "%d bad", bad);
    CHECK("position after them", lseek(fd, 0, SEEK_CUR) == (off_t)off, "at %ld, want %lu",
          (long)lseek(fd, 0, SEEK_CUR), (unsigned long)off);
    /* smaller reads, then another buffer, then a dup, then pread, then readv */
    bad = 0;
    for (int i = 0; i < 50; i++) {
        if (read(fd, buf, 100) != 100 || !check_bytes(buf, off, 100))
            bad++;
        off += 100;
    }
    CHECK("50 reads of 100 bytes", !bad, "%d bad", bad);
    CHECK("another buffer", read(fd, other, 1000) == 1000 && check_bytes(other, off, 1000), "wrong bytes or count");
    off += 1000;
    int d = dup(fd);
    CHECK("read through a dup", read(d, buf, 777) == 777 && check_bytes(buf, off, 777), "wrong bytes or count");
    off += 777;
    CHECK("read through the original", read(fd, buf, 4096) == 4096 && check_bytes(buf, off, 4096), "wrong bytes or count");
    off += 4096;
    CHECK("pread elsewhere", pread(fd, other, 10, 5) == 10 && check_bytes(other, 5, 10), "wrong bytes or count");
    CHECK("position kept by pread", lseek(d, 0, SEEK_CUR) == (off_t)off, "at %ld, want %lu",
          (long)lseek(d, 0, SEEK_CUR), (unsigned long)off);
    struct iovec iov = { buf, 300 };
    CHECK("readv", readv(fd, &iov, 1) == 300 && check_bytes(buf, off, 300), "wrong bytes or count");
    off += 300;
    for (int i = 0; i < 20; i++) {
        if (read(fd, buf, 4096) != 4096 || !check_bytes(buf, off, 4096))
            bad++;
        off += 4096;
    }
    CHECK("4KiB reads again", !bad, "%d bad", bad);
    /* a read larger than the cache's limit, then to the end */
    ssize_t big = read(fd, buf, sizeof buf);
    CHECK("large read", big > 0 && check_bytes(buf, off, (size_t)big), "got %ld", (long)big);
    off += (uint64_t)big;
    ssize_t r;
    while ((r = read(fd, buf, 4096)) > 0) {
        if (!check_bytes(buf, off, (size_t)r))
            bad++;
        off += (uint64_t)r;
    }
    CHECK("to the end", r == 0 && !bad && off == size, "r %ld bad %d at %lu of %lu", (long)r, bad,
          (unsigned long)off, (unsigned long)size);
    CHECK("rewind", lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, 4096) == 4096 &&
          check_bytes(buf, 0, 4096) && read(fd, buf, 4096) == 4096 && check_bytes(buf, 4096, 4096), "wrong bytes or count");
    /* close and reopen: a new capability, the old descriptor number */
    close(fd);
    close(d);
    fd = open(file, O_RDONLY);
    CHECK("reopen", fd >= 0 && read(fd, buf, 4096) == 4096 && check_bytes(buf, 0, 4096), "wrong bytes or count");
    void *volatile unmapped = (void *)8;
    CHECK("bad buffer still EFAULT", read(fd, unmapped, 4096) == -1 && errno == EFAULT, "errno %d", errno);
}

static void spin(const char *file)
{
    int fd = open(file, O_RDONLY);
    CHECK("open", fd >= 0, "errno %d", errno);
    printf("ready\n");
    fflush(stdout);
    long n = 0;
    for (;;) {
        ssize_t r = read(fd, buf, 1);
        if (r == 1) {
            n++;
            continue;
        }
        if (r == 0 && lseek(fd, 0, SEEK_SET) == 0)
            continue;
        printf("read failed errno=%d after %ld reads\n", errno, n);
        break;
    }
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "verify"))
        verify(argv[2], strtoull(argv[3], NULL, 0));
    else if (argc >= 3 && !strcmp(argv[1], "spin"))
        spin(argv[2]);
    else {
        fprintf(stderr, "usage: readcache verify FILE SIZE | spin FILE\n");
        return 2;
    }
    return check_done();
}
