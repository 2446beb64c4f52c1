/* A raw disk image as a virtio-blk backend: preadv, pwritev and fdatasync on a descriptor the VMM opened. */
#ifndef ISOVM_VIRTIO_BLK_RAW_H
#define ISOVM_VIRTIO_BLK_RAW_H
#include "devices/virtio/blk/blk.h"

struct vblk_raw {
    int fd;
};

/* A backend over fd, a regular file or a block device the caller opened (read-only or
 * read-write, as the disk is) and keeps open while the device lives. Its size is the file's
 * (fstat) or the device's (BLKGETSIZE64) at this call. 0, or -EINVAL (another kind of file,
 * smaller than one sector), or the errno of fstat/ioctl. *r must outlive the backend. */
int vblk_raw_open(struct vblk_raw *r, int fd, struct vblk_backend *be);

#endif
