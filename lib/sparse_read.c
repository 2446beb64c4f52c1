/* Reading part of a file into zeroed memory, data extents only (SEEK_DATA/SEEK_HOLE). */
#include "lib/sparse_read.h"
#include <errno.h>
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

int sparse_read(int fd, uint64_t off, uint64_t len, uint8_t *dst)
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
        int rc = pread_all(fd, dst + ((uint64_t)d - off), stop - (uint64_t)d, (uint64_t)d);
        if (rc)
            return rc;
        pos = stop;
    }
    return 0;
}
