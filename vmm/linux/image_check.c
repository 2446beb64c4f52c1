/* Disk images checked before boot: the file (regular or a block device, not empty, whole 512-byte
 * sectors) and the file system its superblock names (ext2/3/4, squashfs, erofs), every value
 * read from it validated. */
#include "vmm/linux/image_check.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ext2/3/4: the superblock at 1024 */
#define EXT_SB 1024u
#define EXT_MAGIC 0xEF53u
#define EXT_COMPAT_HAS_JOURNAL 0x4u
#define EXT_INCOMPAT_64BIT 0x80u
/* incompat features that make it ext4 (extents, 64bit, mmp, flex_bg, ea_inode, dirdata,
 * csum_seed, largedir, inline_data, encrypt, casefold) */
#define EXT4_INCOMPAT 0x3ffc0u
/* ro_compat features that make it ext4 (huge_file, gdt_csum, dir_nlink, extra_isize, quota,
 * bigalloc, metadata_csum, ...) */
#define EXT4_RO_COMPAT 0xffff8u
/* squashfs: the superblock at 0 */
#define SQUASHFS_MAGIC 0x73717368u /* "hsqs" */
/* erofs: the superblock at 1024 */
#define EROFS_SB 1024u
#define EROFS_MAGIC 0xE0F5E1E2u

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int spans(const char *fs, uint64_t fs_bytes, uint64_t file_size, struct image_info *info,
                 char *err, size_t errlen)
{
    if (fs_bytes > file_size) {
        snprintf(err, errlen, "the %s file system spans %llu bytes but the image has %llu (truncated?)",
                 fs, (unsigned long long)fs_bytes, (unsigned long long)file_size);
        return -EFBIG;
    }
    info->fs_bytes = fs_bytes;
    return 0;
}

static int probe_ext(const uint8_t *sb, uint64_t file_size, struct image_info *info, char *err, size_t errlen)
{
    uint32_t log_bs = le32(sb + 24), rev = le32(sb + 76), inodes = le32(sb + 0);
    uint32_t compat = le32(sb + 92), incompat = le32(sb + 96), ro_compat = le32(sb + 100);
    if (log_bs > 6) { /* 1 KiB << 6 = 64 KiB, ext4's largest block */
        snprintf(err, errlen, "ext superblock: block size 1024 << %u is out of range", log_bs);
        return -EINVAL;
    }
    if (rev > 1) {
        snprintf(err, errlen, "ext superblock: revision %u is unknown", rev);
        return -EINVAL;
    }
    if (inodes == 0) {
        snprintf(err, errlen, "ext superblock: no inodes");
        return -EINVAL;
    }
    uint64_t blocks = le32(sb + 4);
    if (incompat & EXT_INCOMPAT_64BIT)
        blocks |= (uint64_t)le32(sb + 0x150) << 32;
    if (blocks == 0) {
        snprintf(err, errlen, "ext superblock: no blocks");
        return -EINVAL;
    }
    uint64_t bs = 1024ull << log_bs;
    if (blocks > UINT64_MAX / bs) {
        snprintf(err, errlen, "ext superblock: %llu blocks of %llu bytes overflow", (unsigned long long)blocks,
                 (unsigned long long)bs);
        return -EINVAL;
    }
    if ((incompat & EXT4_INCOMPAT) || (ro_compat & EXT4_RO_COMPAT))
        info->fstype = "ext4";
    else if (compat & EXT_COMPAT_HAS_JOURNAL)
        info->fstype = "ext3";
    else
        info->fstype = "ext2";
    info->read_only = 0;
    return spans(info->fstype, blocks * bs, file_size, info, err, errlen);
}

static int probe_squashfs(const uint8_t *sb, uint64_t file_size, struct image_info *info, char *err,
                          size_t errlen)
{
    static const char *const comp[] = { NULL, "gzip", "lzma", "lzo", "xz", "lz4", "zstd" };
    uint32_t block_size = le32(sb + 12);
    uint16_t compression = le16(sb + 20), block_log = le16(sb + 22), major = le16(sb + 28);
    uint64_t bytes_used = le64(sb + 40);
    if (major != 4) {
        snprintf(err, errlen, "squashfs version %u (Linux reads version 4)", major);
        return -ENOTSUP;
    }
    if (block_log < 12 || block_log > 20 || block_size != 1u << block_log) {
        snprintf(err, errlen, "squashfs superblock: block size %u (log %u) is not a power of two from "
                 "4 KiB to 1 MiB", block_size, block_log);
        return -EINVAL;
    }
    if (compression == 0 || compression >= sizeof comp / sizeof comp[0]) {
        snprintf(err, errlen, "squashfs superblock: compression %u is unknown", compression);
        return -EINVAL;
    }
    if (compression == 2) { /* Debian's kernel has no SQUASHFS_LZMA (xz is fine) */
        snprintf(err, errlen, "squashfs compressed with lzma, which the guest kernel cannot read "
                 "(use xz, zstd, gzip, lz4 or lzo)");
        return -ENOTSUP;
    }
    if (bytes_used < 96) {
        snprintf(err, errlen, "squashfs superblock: %llu bytes used is less than the superblock",
                 (unsigned long long)bytes_used);
        return -EINVAL;
    }
    info->fstype = "squashfs";
    info->read_only = 1;
    return spans("squashfs", bytes_used, file_size, info, err, errlen);
}

static int probe_erofs(const uint8_t *sb, uint64_t file_size, struct image_info *info, char *err,
                       size_t errlen)
{
    uint8_t blkszbits = sb[12];
    uint32_t blocks = le32(sb + 36);
    if (blkszbits != 12) { /* Linux 6.1 mounts erofs with 4 KiB blocks only */
        snprintf(err, errlen, "erofs block size 1 << %u (the guest kernel reads 4 KiB blocks only)", blkszbits);
        return -ENOTSUP;
    }
    if (blocks == 0) {
        snprintf(err, errlen, "erofs superblock: no blocks");
        return -EINVAL;
    }
    info->fstype = "erofs";
    info->read_only = 1;
    return spans("erofs", (uint64_t)blocks << 12, file_size, info, err, errlen);
}

int image_probe(const uint8_t *buf, size_t len, uint64_t file_size, struct image_info *info,
                char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    info->size = file_size;
    if (len > file_size) /* never look past the file */
        len = (size_t)file_size;
    if (len >= 96 && le32(buf) == SQUASHFS_MAGIC)
        return probe_squashfs(buf, file_size, info, err, errlen);
    if (len >= EXT_SB + 1024 && le16(buf + EXT_SB + 56) == EXT_MAGIC)
        return probe_ext(buf + EXT_SB, file_size, info, err, errlen);
    if (len >= EROFS_SB + 128 && le32(buf + EROFS_SB) == EROFS_MAGIC)
        return probe_erofs(buf + EROFS_SB, file_size, info, err, errlen);
    return 0;
}

int image_check_fd(int fd, const char *path, enum image_role role, struct image_info *info, char *err,
                   size_t errlen)
{
    const char *opt = role == IMAGE_ROLE_ROOT ? "--rootfs" : "--disk";
    char why[512];
    memset(info, 0, sizeof *info);
    struct stat st;
    int rc = 0;
    uint64_t size = 0;
    if (fstat(fd, &st)) {
        rc = -errno;
        snprintf(err, errlen, "%s %s: cannot stat: %s", opt, path, strerror(-rc));
        goto out;
    }
    if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &size)) {
            rc = -errno;
            snprintf(err, errlen, "%s %s: cannot read the block device's size: %s", opt, path, strerror(-rc));
            goto out;
        }
    } else {
        const char *what = S_ISDIR(st.st_mode) ? "a directory"
                           : S_ISFIFO(st.st_mode) ? "a FIFO"
                           : S_ISCHR(st.st_mode) ? "a character device"
                           : S_ISSOCK(st.st_mode) ? "a socket" : "not a regular file";
        snprintf(err, errlen, "%s %s: is %s, not an image file or a block device%s", opt, path, what,
                 S_ISDIR(st.st_mode) ? " (isovm image from-dir makes an image of a directory)" : "");
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        goto out;
    }
    if (size == 0) {
        snprintf(err, errlen, "%s %s: is empty", opt, path);
        rc = -EINVAL;
        goto out;
    }
    if (size % 512) {
        snprintf(err, errlen, "%s %s: its size, %llu bytes, is not a whole number of 512-byte sectors",
                 opt, path, (unsigned long long)size);
        rc = -EINVAL;
        goto out;
    }
    if (size > IMAGE_SIZE_MAX) {
        snprintf(err, errlen, "%s %s: %llu bytes is more than the %llu an image may have", opt, path,
                 (unsigned long long)size, (unsigned long long)IMAGE_SIZE_MAX);
        rc = -EFBIG;
        goto out;
    }
    uint8_t head[IMAGE_PROBE_BYTES];
    size_t want = size < sizeof head ? (size_t)size : sizeof head, got = 0;
    while (got < want) {
        ssize_t n = pread(fd, head + got, want - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            snprintf(err, errlen, "%s %s: cannot read: %s", opt, path, strerror(-rc));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got < want) {
        snprintf(err, errlen, "%s %s: shorter than its size (%zu of %zu bytes read)", opt, path, got, want);
        rc = -EIO;
        goto out;
    }
    rc = image_probe(head, got, size, info, why, sizeof why);
    if (rc) {
        snprintf(err, errlen, "%s %s: %s", opt, path, why);
        goto out;
    }
    if (role == IMAGE_ROLE_ROOT && !info->fstype) {
        snprintf(err, errlen, "%s %s: not an ext4, squashfs or erofs image (no file system superblock found)",
                 opt, path);
        rc = -EINVAL;
    }
out:
    return rc;
}

int image_check(const char *path, enum image_role role, struct image_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s %s: cannot open: %s", role == IMAGE_ROLE_ROOT ? "--rootfs" : "--disk",
                 path, strerror(e));
        return -e;
    }
    int rc = image_check_fd(fd, path, role, info, err, errlen);
    close(fd);
    return rc;
}
