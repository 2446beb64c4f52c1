/* Packing a directory (or mmdebstrap's tar) into a disk image: squashfs with mksquashfs (the
 * default) or ext4 with mkfs.ext4 -d, of a size computed from the tree with headroom. */
#include "cli/image_pack.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lib/run_tool.h"

#define MIB (1024ull * 1024)

int image_format_parse(const char *s, enum image_format *f)
{
    if (!strcmp(s, "squashfs"))
        *f = IMAGE_SQUASHFS;
    else if (!strcmp(s, "ext4"))
        *f = IMAGE_EXT4;
    else
        return -EINVAL;
    return 0;
}

const char *image_format_name(enum image_format f)
{
    return f == IMAGE_EXT4 ? "ext4" : "squashfs";
}

/* mke2fs's default journal for a file system of this many bytes (4 KiB blocks). */
static uint64_t journal_bytes(uint64_t fs)
{
    if (fs < 128 * MIB)
        return 4 * MIB;
    if (fs < 1024 * MIB)
        return 16 * MIB;
    if (fs < 2048 * MIB)
        return 32 * MIB;
    if (fs < 16384 * MIB)
        return 64 * MIB;
    return 1024 * MIB;
}

uint64_t image_ext4_size(const struct image_tree *t)
{
    uint64_t inodes = t->entries + t->entries / 4 + 1024;
    uint64_t base = t->data_bytes + inodes * 256 + 2 * MIB;
    uint64_t size = base + base / 10 + 16 * MIB;
    size += journal_bytes(size) + size / 64; /* the journal; group descriptors and bitmaps */
    return (size + MIB - 1) / MIB * MIB;
}

static int pack_squashfs(const char *src, int tar, const char *out, int verbose, char *err, size_t len)
{
    /* zstd: the guest kernel has SQUASHFS_ZSTD; -reproducible is mksquashfs's default */
    const char *dir_argv[] = { "mksquashfs", src, out, "-noappend", "-comp", "zstd", "-quiet",
                               "-no-progress", NULL };
    /* A tar holds no entry for / itself, and mksquashfs gives it mode 0777 and the builder's
     * ids, which -root-uid/-root-gid do not change in tar mode (4.5.1): not being root, it runs
     * as root in a user namespace of its own (unshare -r, as mmdebstrap --mode=unshare needs
     * anyway), which owns nothing but makes / root's in the image. */
    const char *tar_argv[] = { "unshare", "--map-root-user", "mksquashfs", "-", out, "-tar",
                               "-noappend", "-comp", "zstd", "-quiet", "-no-progress", "-root-mode",
                               "0755", "-root-uid", "0", "-root-gid", "0", NULL };
    const char *const *argv = tar ? tar_argv + (geteuid() == 0 ? 2 : 0) : dir_argv;
    struct run_tool t = { .argv = argv, .stdin_path = tar ? src : NULL,
                          .package = "squashfs-tools", .verbose = verbose };
    return run_tool(&t, err, len);
}

static int pack_ext4(const char *dir, uint64_t size, uint64_t inodes, const char *out, int verbose,
                     char *err, size_t len)
{
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        snprintf(err, len, "cannot create %s: %s", out, strerror(e));
        return -e;
    }
    int rc = ftruncate(fd, (off_t)size) ? -errno : 0;
    close(fd);
    if (rc) {
        snprintf(err, len, "cannot size %s to %llu bytes: %s", out, (unsigned long long)size, strerror(-rc));
        return rc;
    }
    char nbuf[32];
    snprintf(nbuf, sizeof nbuf, "%llu", (unsigned long long)inodes);
    /* 4 KiB blocks, enough inodes for the tree and headroom, no reserved blocks; owners and modes
     * as in the directory */
    const char *argv[] = { "mkfs.ext4", "-q", "-F", "-b", "4096", "-N", nbuf, "-m", "0", "-L", "isovm",
                           "-d", dir, out, NULL };
    struct run_tool t = { .argv = argv, .package = "e2fsprogs", .verbose = verbose };
    return run_tool(&t, err, len);
}

int image_pack_dir(const char *dir, const struct image_tree *t, enum image_format f, uint64_t size,
                   const char *out, int verbose, char *err, size_t len)
{
    int rc;
    if (f == IMAGE_EXT4) {
        uint64_t need = image_ext4_size(t);
        if (size && size < need)
            fprintf(stderr, "isovm: image: note: --size %llu is below the estimate of %llu bytes; "
                    "mkfs.ext4 may run out of room\n", (unsigned long long)size, (unsigned long long)need);
        rc = pack_ext4(dir, size ? size : need, t->entries + t->entries / 4 + 1024, out, verbose, err, len);
    } else {
        rc = pack_squashfs(dir, 0, out, verbose, err, len);
    }
    if (rc)
        unlink(out);
    return rc;
}

int image_pack_tar(const char *tar, const char *out, int verbose, char *err, size_t len)
{
    int rc = pack_squashfs(tar, 1, out, verbose, err, len);
    if (rc)
        unlink(out);
    return rc;
}
