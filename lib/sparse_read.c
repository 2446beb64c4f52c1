/* Reading part of a file into zeroed memory, or mapping it there copy-on-write, data extents only (SEEK_DATA/SEEK_HOLE). */
#include "lib/sparse_read.h"
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

static int pread_all(int fd, uint8_t *dst, uint64_t len, uint64_t off)
{
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, dst + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -ENODATA;
        done += (uint64_t)n;
    }
    return 0;
}

/* One data extent [d, d + n) of the file into dst (dst[0] is the file's byte d): mapped
 * MAP_PRIVATE over it where both ends are page-aligned, else read. */
static int extent_take(int fd, uint8_t *dst, uint64_t n, uint64_t d, bool map)
{
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    if (map && d % page == 0 && (uintptr_t)dst % page == 0) {
        uint64_t whole = n / page * page;
        if (whole && mmap(dst, (size_t)whole, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                          fd, (off_t)d) == MAP_FAILED)
            return -errno;
        dst += whole;
        d += whole;
        n -= whole;
    }
    return n ? pread_all(fd, dst, n, d) : 0;
}

static int sparse_take(int fd, uint64_t off, uint64_t len, uint8_t *dst, bool map)
{
    if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
        return -EINVAL;
    uint64_t pos = off, end = off + len;
    while (pos < end) {
        off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
        if (d < 0 && errno == ENXIO)
            break; /* a hole up to the end of the file */
        if (d < 0 || (uint64_t)d < pos)
            d = (off_t)pos; /* no SEEK_DATA here: all of it is data */
        if ((uint64_t)d >= end)
            break;
        off_t h = lseek(fd, d, SEEK_HOLE);
        uint64_t stop = h <= d || (uint64_t)h > end ? end : (uint64_t)h;
        int rc = extent_take(fd, dst + ((uint64_t)d - off), stop - (uint64_t)d, (uint64_t)d, map);
        if (rc)
            return rc;
        pos = stop;
    }
    return 0;
}

int sparse_read(int fd, uint64_t off, uint64_t len, uint8_t *dst)
{
    return sparse_take(fd, off, len, dst, false);
}

int sparse_map(int fd, uint64_t off, uint64_t len, uint8_t *dst)
{
    return sparse_take(fd, off, len, dst, true);
}
