/* Disk images checked before boot: the file (regular or a block device, not empty, whole 512-byte
 * sectors) and the file system its superblock names (ext2/3/4, squashfs, erofs), every value
 * read from it validated. */
#ifndef ISOVM_IMAGE_CHECK_H
#define ISOVM_IMAGE_CHECK_H
#include <stddef.h>
#include <stdint.h>

/* The bytes at the start of an image that image_probe looks at (every superblock lies inside). */
#define IMAGE_PROBE_BYTES 4096
/* The largest image accepted: 8 TiB (more is surely a mistake for a microVM's disk). */
#define IMAGE_SIZE_MAX (1ull << 43)

enum image_role {
    IMAGE_ROLE_ROOT,  /* --rootfs: must hold a file system the init can mount */
    IMAGE_ROLE_DISK,  /* --disk: any contents (a raw disk for the job); a file system is named */
};

struct image_info {
    const char *fstype;   /* "ext4", "ext3", "ext2", "squashfs", "erofs" (init/abi.h's FSTYPE),
                           * or NULL: no file system found (a raw disk) */
    int read_only;        /* squashfs and erofs: cannot be mounted rw */
    uint64_t size;        /* of the file or device, bytes (a multiple of 512) */
    uint64_t fs_bytes;    /* what the file system says it spans (<= size); 0 without one */
};

/* Identifies the file system from the first len bytes of an image of file_size bytes
 * (len = min(file_size, IMAGE_PROBE_BYTES) when read from a file). 0 with info filled
 * (fstype NULL when no known magic is there); -EINVAL when a known magic is there but the
 * superblock is inconsistent (err says which value), -EFBIG when it spans more than the file,
 * -ENOTSUP for a variant the guest kernel cannot mount. Pure: no I/O. */
int image_probe(const uint8_t *buf, size_t len, uint64_t file_size, struct image_info *info,
                char *err, size_t errlen);

/* Opens path (O_NONBLOCK: a FIFO does not block) and checks it: it exists and is readable, is a
 * regular file or a block device, is not empty, its size is a whole number of 512-byte sectors
 * and at most IMAGE_SIZE_MAX, and image_probe accepts its start; for IMAGE_ROLE_ROOT it must
 * hold one of the file systems. 0, or a negative errno with err naming the option and the file
 * ("--rootfs IMG: not an ext4, squashfs or erofs image"). */
int image_check(const char *path, enum image_role role, struct image_info *info, char *err, size_t errlen);
/* The same checks on a descriptor the caller opened (and keeps: the VMM serves the disk from
 * it, so the file checked is the file served); path only names it in err. */
int image_check_fd(int fd, const char *path, enum image_role role, struct image_info *info, char *err,
                   size_t errlen);

#endif
