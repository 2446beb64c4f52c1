/* The raw-file backend of virtio-blk: whole transfers with preadv/pwritev (short ones continued), fdatasync. */
#include "devices/virtio/blk/blk_raw.h"
#include <errno.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Drop n transferred bytes from the front of the iovecs. */
static void advance(struct iovec **iov, int *cnt, size_t n)
{
    while (*cnt > 0 && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*cnt)--;
    }
    if (*cnt > 0 && n) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

static int transfer(int fd, struct iovec *iov, int cnt, uint64_t off, bool write)
{
    while (cnt > 0 && iov->iov_len == 0)
        iov++, cnt--;
    while (cnt > 0) {
        int n = cnt > IOV_MAX ? IOV_MAX : cnt;
        ssize_t got = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0)
            return -EIO; /* the file shrank under the disk */
        off += (uint64_t)got;
        advance(&iov, &cnt, (size_t)got);
    }
    return 0;
}

static int raw_readv(void *ctx, struct iovec *iov, int iovcnt, uint64_t off)
{
    return transfer(((struct vblk_raw *)ctx)->fd, iov, iovcnt, off, false);
}

static int raw_writev(void *ctx, struct iovec *iov, int iovcnt, uint64_t off)
{
    return transfer(((struct vblk_raw *)ctx)->fd, iov, iovcnt, off, true);
}

static int raw_flush(void *ctx)
{
    return fdatasync(((struct vblk_raw *)ctx)->fd) ? -errno : 0;
}

int vblk_raw_open(struct vblk_raw *r, int fd, struct vblk_backend *be)
{
    struct stat st;
    uint64_t size;
    if (fstat(fd, &st))
        return -errno;
    if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &size))
            return -errno;
    } else {
        return -EINVAL;
    }
    if (size < VBLK_SECTOR)
        return -EINVAL;
    r->fd = fd;
    *be = (struct vblk_backend){ .readv = raw_readv, .writev = raw_writev, .flush = raw_flush,
                                 .ctx = r, .size = size };
    return 0;
}
