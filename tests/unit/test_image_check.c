/* Image checks before boot (vmm/linux/image_check.c): crafted superblocks for each file system and
 * each defect, crafted files (missing, a directory, a FIFO that must not block, empty, odd sizes,
 * truncated, huge and sparse, unknown contents), and real images from mkfs.ext4, mksquashfs and
 * mkfs.erofs when those tools are installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "vmm/linux/image_check.h"

static char dir[64];
static char err[1024];

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* An ext superblock: 1 KiB << log_bs blocks, blocks of them */
static void ext_sb(uint8_t *b, uint32_t log_bs, uint32_t blocks, uint32_t compat, uint32_t incompat, uint32_t ro)
{
    memset(b, 0, IMAGE_PROBE_BYTES);
    uint8_t *sb = b + 1024;
    put32(sb + 0, 64);
    put32(sb + 4, blocks);
    put32(sb + 24, log_bs);
    put16(sb + 56, 0xEF53);
    put32(sb + 76, 1);
    put32(sb + 92, compat);
    put32(sb + 96, incompat);
    put32(sb + 100, ro);
}

static void squash_sb(uint8_t *b, uint16_t major, uint16_t comp, uint32_t bsize, uint16_t blog, uint64_t used)
{
    memset(b, 0, IMAGE_PROBE_BYTES);
    memcpy(b, "hsqs", 4);
    put32(b + 12, bsize);
    put16(b + 20, comp);
    put16(b + 22, blog);
    put16(b + 28, major);
    put64(b + 40, used);
}

static void erofs_sb(uint8_t *b, uint8_t bits, uint32_t blocks)
{
    memset(b, 0, IMAGE_PROBE_BYTES);
    put32(b + 1024, 0xE0F5E1E2);
    b[1024 + 12] = bits;
    put32(b + 1024 + 36, blocks);
}

static int probe(const uint8_t *b, size_t len, uint64_t size, struct image_info *i)
{
    err[0] = 0;
    return image_probe(b, len, size, i, err, sizeof err);
}

static void test_probe_ext(void **state)
{
    (void)state;
    uint8_t b[IMAGE_PROBE_BYTES];
    struct image_info i;
    ext_sb(b, 2, 1024, 0x4, 0x40 | 0x2, 0); /* extents: ext4, 4 MiB */
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), 0);
    assert_string_equal(i.fstype, "ext4");
    assert_int_equal(i.fs_bytes, 4 << 20);
    assert_int_equal(i.read_only, 0);
    ext_sb(b, 0, 4096, 0x4, 0x2, 0);
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), 0);
    assert_string_equal(i.fstype, "ext3");
    ext_sb(b, 0, 4096, 0, 0x2, 0);
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), 0);
    assert_string_equal(i.fstype, "ext2");
    ext_sb(b, 0, 4096, 0, 0, 0x400); /* metadata_csum alone: ext4 */
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), 0);
    assert_string_equal(i.fstype, "ext4");
    /* the file system says more than the file has */
    ext_sb(b, 2, 1024, 0, 0x40, 0);
    assert_int_equal(probe(b, sizeof b, (4 << 20) - 512, &i), -EFBIG);
    assert_non_null(strstr(err, "truncated"));
    /* 64bit: the high word of the block count counts */
    ext_sb(b, 2, 1024, 0, 0x40 | 0x80, 0);
    put32(b + 1024 + 0x150, 1);
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), -EFBIG);
    put32(b + 1024 + 0x150, 0xffffffff); /* blocks * block size overflows */
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), -EINVAL);
    assert_non_null(strstr(err, "overflow"));
    ext_sb(b, 7, 1024, 0, 0x40, 0);
    assert_int_equal(probe(b, sizeof b, 1ull << 40, &i), -EINVAL);
    assert_non_null(strstr(err, "block size"));
    ext_sb(b, 2, 1024, 0, 0x40, 0);
    put32(b + 1024 + 76, 2);
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), -EINVAL);
    ext_sb(b, 2, 0, 0, 0x40, 0);
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), -EINVAL);
    ext_sb(b, 2, 1024, 0, 0x40, 0);
    put32(b + 1024, 0); /* no inodes */
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), -EINVAL);
    /* the magic beyond what was read is not looked at: no file system */
    ext_sb(b, 2, 1024, 0, 0x40, 0);
    assert_int_equal(probe(b, 2047, 4 << 20, &i), 0);
    assert_null(i.fstype);
    assert_int_equal(probe(b, sizeof b, 2047, &i), 0); /* nor beyond the file's size */
    assert_null(i.fstype);
    /* wrong magic */
    ext_sb(b, 2, 1024, 0, 0x40, 0);
    put16(b + 1024 + 56, 0xEF54);
    assert_int_equal(probe(b, sizeof b, 4 << 20, &i), 0);
    assert_null(i.fstype);
}

static void test_probe_squashfs(void **state)
{
    (void)state;
    uint8_t b[IMAGE_PROBE_BYTES];
    struct image_info i;
    squash_sb(b, 4, 6, 131072, 17, 8000);
    assert_int_equal(probe(b, sizeof b, 8192, &i), 0);
    assert_string_equal(i.fstype, "squashfs");
    assert_int_equal(i.read_only, 1);
    assert_int_equal(i.fs_bytes, 8000);
    assert_int_equal(probe(b, sizeof b, 4096, &i), -EFBIG);
    squash_sb(b, 3, 1, 131072, 17, 8000);
    assert_int_equal(probe(b, sizeof b, 8192, &i), -ENOTSUP);
    squash_sb(b, 4, 2, 131072, 17, 8000);
    assert_int_equal(probe(b, sizeof b, 8192, &i), -ENOTSUP);
    assert_non_null(strstr(err, "lzma"));
    squash_sb(b, 4, 7, 131072, 17, 8000);
    assert_int_equal(probe(b, sizeof b, 8192, &i), -EINVAL);
    squash_sb(b, 4, 0, 131072, 17, 8000);
    assert_int_equal(probe(b, sizeof b, 8192, &i), -EINVAL);
    squash_sb(b, 4, 1, 131072, 16, 8000); /* block_log disagrees */
    assert_int_equal(probe(b, sizeof b, 8192, &i), -EINVAL);
    squash_sb(b, 4, 1, 1u << 21, 21, 8000); /* 2 MiB blocks */
    assert_int_equal(probe(b, sizeof b, 8192, &i), -EINVAL);
    squash_sb(b, 4, 1, 131072, 17, 95);
    assert_int_equal(probe(b, sizeof b, 8192, &i), -EINVAL);
    squash_sb(b, 4, 1, 131072, 17, UINT64_MAX);
    assert_int_equal(probe(b, sizeof b, 8192, &i), -EFBIG);
    squash_sb(b, 4, 6, 131072, 17, 8000);
    assert_int_equal(probe(b, 95, 8192, &i), 0); /* the superblock is cut: not squashfs */
    assert_null(i.fstype);
}

static void test_probe_erofs(void **state)
{
    (void)state;
    uint8_t b[IMAGE_PROBE_BYTES];
    struct image_info i;
    erofs_sb(b, 12, 3);
    assert_int_equal(probe(b, sizeof b, 3 * 4096, &i), 0);
    assert_string_equal(i.fstype, "erofs");
    assert_int_equal(i.read_only, 1);
    assert_int_equal(probe(b, sizeof b, 2 * 4096, &i), -EFBIG);
    erofs_sb(b, 9, 3);
    assert_int_equal(probe(b, sizeof b, 3 * 4096, &i), -ENOTSUP);
    erofs_sb(b, 12, 0);
    assert_int_equal(probe(b, sizeof b, 3 * 4096, &i), -EINVAL);
    erofs_sb(b, 12, 3);
    assert_int_equal(probe(b, 1024 + 127, 3 * 4096, &i), 0);
    assert_null(i.fstype);
}

static void write_file(const char *path, const void *data, size_t n, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    if (n)
        assert_int_equal(write(fd, data, n), (ssize_t)n);
    if (size)
        assert_int_equal(ftruncate(fd, (off_t)size), 0);
    close(fd);
}

static int check(const char *name, enum image_role role, struct image_info *i)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    err[0] = 0;
    return image_check(path, role, i, err, sizeof err);
}

static void test_check_files(void **state)
{
    (void)state;
    struct image_info i;
    char path[128];
    uint8_t b[IMAGE_PROBE_BYTES];

    assert_int_equal(check("missing", IMAGE_ROLE_ROOT, &i), -ENOENT);
    assert_non_null(strstr(err, "--rootfs "));
    assert_non_null(strstr(err, "missing: cannot open"));

    snprintf(path, sizeof path, "%s/dir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(check("dir", IMAGE_ROLE_ROOT, &i), -EISDIR);
    assert_non_null(strstr(err, "a directory"));

    snprintf(path, sizeof path, "%s/fifo", dir); /* no writer: a blocking open would hang here */
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(check("fifo", IMAGE_ROLE_DISK, &i), -EINVAL);
    assert_non_null(strstr(err, "--disk "));
    assert_non_null(strstr(err, "a FIFO"));

    assert_int_equal(image_check("/dev/null", IMAGE_ROLE_DISK, &i, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "character device"));

    write_file(strcat(strcpy(path, dir), "/empty"), NULL, 0, 0);
    assert_int_equal(check("empty", IMAGE_ROLE_DISK, &i), -EINVAL);
    assert_non_null(strstr(err, "is empty"));

    write_file(strcat(strcpy(path, dir), "/odd"), "x", 1, 1000);
    assert_int_equal(check("odd", IMAGE_ROLE_DISK, &i), -EINVAL);
    assert_non_null(strstr(err, "512-byte sectors"));

    memset(b, 0x5a, sizeof b); /* unknown contents: fine for a disk, refused for the root */
    write_file(strcat(strcpy(path, dir), "/raw"), b, sizeof b, 1 << 20);
    assert_int_equal(check("raw", IMAGE_ROLE_DISK, &i), 0);
    assert_null(i.fstype);
    assert_int_equal(i.size, 1 << 20);
    assert_int_equal(check("raw", IMAGE_ROLE_ROOT, &i), -EINVAL);
    assert_non_null(strstr(err, "raw: not an ext4, squashfs or erofs image"));

    write_file(strcat(strcpy(path, dir), "/small"), b, 512, 0); /* shorter than a probe */
    assert_int_equal(check("small", IMAGE_ROLE_DISK, &i), 0);
    assert_null(i.fstype);

    ext_sb(b, 2, 1024, 0, 0x40, 0); /* a 4 MiB ext4 in a 2 MiB file: truncated */
    write_file(strcat(strcpy(path, dir), "/trunc"), b, sizeof b, 2 << 20);
    assert_int_equal(check("trunc", IMAGE_ROLE_ROOT, &i), -EFBIG);
    assert_non_null(strstr(err, "truncated"));
    write_file(path, b, sizeof b, 4 << 20);
    assert_int_equal(check("trunc", IMAGE_ROLE_ROOT, &i), 0);
    assert_string_equal(i.fstype, "ext4");

    /* huge (sparse): more than IMAGE_SIZE_MAX */
    write_file(strcat(strcpy(path, dir), "/huge"), b, sizeof b, 0);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    if (ftruncate(fd, (off_t)(IMAGE_SIZE_MAX + 512)) == 0) {
        assert_int_equal(check("huge", IMAGE_ROLE_ROOT, &i), -EFBIG);
        assert_non_null(strstr(err, "more than"));
    } else {
        printf("note: this file system cannot hold a sparse file of 8 TiB: the huge case not run\n");
    }
    close(fd);

    if (geteuid() != 0) { /* root reads anything */
        write_file(strcat(strcpy(path, dir), "/secret"), b, sizeof b, 0);
        chmod(path, 0);
        assert_int_equal(check("secret", IMAGE_ROLE_ROOT, &i), -EACCES);
    }
}

/* Real images, when the tools are there: the names the job file will carry. */
static int tool(const char *cmd)
{
    return system(cmd) == 0;
}

static void test_real_images(void **state)
{
    (void)state;
    char cmd[1024];
    struct image_info i;
    static const struct { const char *mk, *name, *want; } real[] = {
        { "mkfs.ext4 -q -F -t ext4 \"$D/e4\" 8M >/dev/null", "e4", "ext4" },
        { "mkfs.ext4 -q -F -t ext3 \"$D/e3\" 8M >/dev/null", "e3", "ext3" },
        { "mkfs.ext4 -q -F -t ext2 \"$D/e2\" 8M >/dev/null", "e2", "ext2" },
        { "mkdir -p \"$D/tree/etc\" && echo hi > \"$D/tree/etc/x\" && mksquashfs \"$D/tree\" \"$D/sq\" "
          "-quiet -no-progress -comp zstd >/dev/null", "sq", "squashfs" },
        { "mkdir -p \"$D/tree/etc\" && mkfs.erofs \"$D/er\" \"$D/tree\" >/dev/null 2>&1", "er", "erofs" },
    };
    setenv("D", dir, 1); /* the commands name the test's directory as $D */
    for (size_t k = 0; k < sizeof real / sizeof real[0]; k++) {
        snprintf(cmd, sizeof cmd, "%s", real[k].mk);
        if (!tool(cmd)) {
            printf("note: could not make a real %s image (%s): not checked\n", real[k].want, cmd);
            continue;
        }
        int rc = check(real[k].name, IMAGE_ROLE_ROOT, &i);
        if (rc)
            fail_msg("%s: %s", real[k].name, err);
        assert_string_equal(i.fstype, real[k].want);
        assert_true(i.fs_bytes > 0 && i.fs_bytes <= i.size);
    }
    /* a real ext4 cut in half */
    if (tool("mkfs.ext4 -q -F -t ext4 \"$D/half\" 8M >/dev/null && truncate -s 4M \"$D/half\"")) {
        assert_int_equal(check("half", IMAGE_ROLE_ROOT, &i), -EFBIG);
    }
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/isovm-imgchk-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_ext),
        cmocka_unit_test(test_probe_squashfs),
        cmocka_unit_test(test_probe_erofs),
        cmocka_unit_test(test_check_files),
        cmocka_unit_test(test_real_images),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
