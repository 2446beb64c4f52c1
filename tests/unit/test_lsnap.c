/* The snapshot file and cache (vmm/linux/lsnap_file.c, lsnap_cache.c): a written snapshot read
 * back whole with its holes, and every damaged, foreign or unsafe file refused with its reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/sha256.h"
#include "vmm/linux/lsnap_cache.h"
#include "vmm/linux/lsnap_file.h"

#define RAM (256u * 1024)

struct fix {
    struct lstate st;
    struct lsnap_dev dev;
    struct lsnap_expect e;
    uint8_t ram[RAM], back[RAM];
    struct lstate st2;
    int fd;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->st.nvcpus = 2;
    f->st.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
    f->st.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
    f->st.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
    for (unsigned i = 0; i < 2; i++) {
        f->st.vcpu[i].nmsrs = 3;
        f->st.vcpu[i].regs.rip = 0xffffffff81000000ull + i;
    }
    f->dev.uart.lcr = 3;
    memset(f->e.key, 0xab, sizeof f->e.key);
    f->e.mem_size = RAM;
    f->e.nvcpus = 2;
    memset(f->ram + 4096, 0x11, 4096);      /* page 1 */
    f->ram[RAM - 1] = 0x22;                  /* the last page */
    memset(f->ram + 64 * 1024, 0x33, 8192); /* pages 16, 17 */
    f->fd = memfd_create("snap", 0);
    assert_true(f->fd >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    close(f->fd);
    free(f);
    return 0;
}

static int write_it(struct fix *f, const char *log, size_t log_len)
{
    char err[256] = "";
    uint64_t bytes = 0;
    int rc = lsnap_write(f->fd, &f->e, &f->st, &f->dev, log, log_len, f->ram, &bytes, NULL, NULL, err, sizeof err);
    if (rc == 0)
        assert_int_equal(bytes, 4 * 4096); /* the non-zero pages only */
    return rc;
}

static int read_it(struct fix *f, char *err, size_t errlen)
{
    char *log = NULL;
    size_t log_len = 0;
    memset(f->back, 0, sizeof f->back);
    struct lsnap_dev dev;
    int rc = lsnap_read(f->fd, &f->e, &f->st2, &dev, &log, &log_len, f->back, false, err, errlen);
    free(log);
    return rc;
}

static void test_round_trip(void **state)
{
    struct fix *f = *state;
    static const char boot_log[] = "[    0.000000] Linux version 6.1\n";
    assert_int_equal(write_it(f, boot_log, sizeof boot_log - 1), 0);
    struct stat sb;
    assert_int_equal(fstat(f->fd, &sb), 0);
    assert_true((uint64_t)sb.st_blocks * 512 < RAM); /* holes where RAM is zero */
    char *log = NULL, err[256] = "";
    size_t log_len = 0;
    struct lsnap_dev dev;
    assert_int_equal(lsnap_read(f->fd, &f->e, &f->st2, &dev, &log, &log_len, f->back, false, err, sizeof err), 0);
    assert_memory_equal(f->back, f->ram, RAM);
    assert_memory_equal(&f->st2, &f->st, sizeof f->st);
    assert_int_equal(dev.uart.lcr, 3);
    assert_int_equal(log_len, sizeof boot_log - 1);
    assert_memory_equal(log, boot_log, log_len);
    free(log);
}

/* map_ram: the file's data pages mapped copy-on-write over an anonymous RAM mapping: the same
 * bytes; a write to the RAM reaches neither the file nor another mapping of it; the holes stay
 * the anonymous mapping's own (no file page behind them). */
static void test_round_trip_mapped(void **state)
{
    struct fix *f = *state;
    assert_int_equal(write_it(f, NULL, 0), 0);
    uint8_t *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            *other = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(ram != MAP_FAILED && other != MAP_FAILED);
    char *log = NULL, err[256] = "";
    size_t log_len = 0;
    struct lsnap_dev dev;
    assert_int_equal(lsnap_read(f->fd, &f->e, &f->st2, &dev, &log, &log_len, ram, true, err, sizeof err), 0);
    assert_int_equal(lsnap_read(f->fd, &f->e, &f->st2, &dev, &log, &log_len, other, true, err, sizeof err), 0);
    assert_memory_equal(ram, f->ram, RAM);
    ram[4096] = 0x99;      /* a mapped page, written: this mapping's copy */
    ram[2 * 4096] = 0x98;  /* a hole */
    assert_int_equal(other[4096], 0x11);
    assert_int_equal(other[2 * 4096], 0);
    memset(f->back, 0, sizeof f->back);
    assert_int_equal(read_it(f, err, sizeof err), 0);
    assert_memory_equal(f->back, f->ram, RAM); /* the file as written */
    /* writes to the RAM over the file's holes gave the file no data there */
    struct stat sb;
    assert_int_equal(fstat(f->fd, &sb), 0);
    assert_true((uint64_t)sb.st_blocks * 512 < RAM);
    munmap(ram, RAM);
    munmap(other, RAM);
}

/* Another key, RAM size or vCPU count: -ESTALE, before anything is read into RAM. */
static void test_foreign(void **state)
{
    struct fix *f = *state;
    assert_int_equal(write_it(f, NULL, 0), 0);
    char err[256] = "";
    f->e.key[31] ^= 1;
    memset(f->back, 0x5a, sizeof f->back);
    char *log;
    size_t log_len;
    struct lsnap_dev dev;
    assert_int_equal(lsnap_read(f->fd, &f->e, &f->st2, &dev, &log, &log_len, f->back, false, err, sizeof err), -ESTALE);
    assert_non_null(strstr(err, "made for another"));
    assert_int_equal(f->back[0], 0x5a); /* RAM untouched */
    f->e.key[31] ^= 1;
    f->e.nvcpus = 1;
    assert_int_equal(read_it(f, err, sizeof err), -ESTALE);
    f->e.nvcpus = 2;
    f->e.mem_size = RAM * 2;
    assert_int_equal(read_it(f, err, sizeof err), -ESTALE);
}

/* Cut short, grown, damaged state, a bad magic, misplaced regions, a bad MSR count. */
static void test_damaged(void **state)
{
    struct fix *f = *state;
    assert_int_equal(write_it(f, "log\n", 4), 0);
    char err[256] = "";
    struct stat sb;
    assert_int_equal(fstat(f->fd, &sb), 0);
    assert_int_equal(ftruncate(f->fd, sb.st_size - 4096), 0);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "cut short"));
    assert_int_equal(ftruncate(f->fd, sb.st_size), 0);
    assert_int_equal(read_it(f, err, sizeof err), 0);

    struct lsnap_header h;
    assert_int_equal(pread(f->fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    uint8_t b = 0;
    assert_int_equal(pread(f->fd, &b, 1, (off_t)h.state_off + 100), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(f->fd, &b, 1, (off_t)h.state_off + 100), 1);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "digest"));
    b ^= 0xff;
    assert_int_equal(pwrite(f->fd, &b, 1, (off_t)h.state_off + 100), 1);

    struct lsnap_header bad = h;
    bad.magic[0] = 'X';
    assert_int_equal(pwrite(f->fd, &bad, sizeof bad, 0), (ssize_t)sizeof bad);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "magic"));
    bad = h;
    bad.log_off += 4096;
    assert_int_equal(pwrite(f->fd, &bad, sizeof bad, 0), (ssize_t)sizeof bad);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "regions"));
    bad = h;
    bad.log_len = LSNAP_LOG_MAX + 1ull;
    assert_int_equal(pwrite(f->fd, &bad, sizeof bad, 0), (ssize_t)sizeof bad);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    bad = h;
    bad.mem_size = UINT64_MAX - 4095;
    f->e.mem_size = bad.mem_size;
    assert_int_equal(pwrite(f->fd, &bad, sizeof bad, 0), (ssize_t)sizeof bad);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL); /* ram_off + mem_size overflows */
    f->e.mem_size = RAM;
    bad = h;
    bad.version = 99;
    assert_int_equal(pwrite(f->fd, &bad, sizeof bad, 0), (ssize_t)sizeof bad);
    assert_int_equal(read_it(f, err, sizeof err), -ESTALE);

    /* a sound file whose state says 0 MSRs: lstate_check refuses it */
    assert_int_equal(ftruncate(f->fd, 0), 0);
    f->st.vcpu[1].nmsrs = 0;
    assert_int_equal(write_it(f, NULL, 0), 0);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "vCPU 1: 0 MSRs"));
    f->st.vcpu[1].nmsrs = LSTATE_MAX_MSRS + 1;
    assert_int_equal(ftruncate(f->fd, 0), 0);
    assert_int_equal(write_it(f, NULL, 0), 0);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    f->st.vcpu[1].nmsrs = 3;
    f->st.ioapic.chip_id = KVM_IRQCHIP_PIC_MASTER;
    assert_int_equal(ftruncate(f->fd, 0), 0);
    assert_int_equal(write_it(f, NULL, 0), 0);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
}

static bool stop_at_once(void *ctx)
{
    ++*(unsigned *)ctx;
    return true;
}

/* A writer told to stop gives up after the first run of RAM pages, with -ECANCELED and no
 * header (a file that no reader takes). */
static void test_write_stopped(void **state)
{
    struct fix *f = *state;
    char err[256] = "";
    uint64_t bytes = 0;
    unsigned asked = 0;
    assert_int_equal(lsnap_write(f->fd, &f->e, &f->st, &f->dev, NULL, 0, f->ram, &bytes, stop_at_once,
                                 &asked, err, sizeof err), -ECANCELED);
    assert_int_equal(asked, 1);
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "magic"));
}

/* A header-sized prefix and nothing else; an empty file. */
static void test_short(void **state)
{
    struct fix *f = *state;
    char err[256] = "";
    assert_int_equal(read_it(f, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "shorter than its header"));
}

/* The cache: publish, open, refuse a symlink or a group-writable file, keep the newest few. */
static void test_cache(void **state)
{
    struct fix *f = *state;
    char dir[] = "/tmp/isovm-lsnap-XXXXXX", sub[128], err[512] = "", tmp[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/a/snapshots", dir);
    setenv("ISOVM_SNAPSHOT_CACHE", sub, 1);
    char got[4096];
    assert_int_equal(lsnap_cache_dir(got, sizeof got, err, sizeof err), 0);
    assert_string_equal(got, sub);
    struct stat sb;
    assert_int_equal(stat(sub, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    uint8_t key[32];
    memset(key, 1, sizeof key);
    assert_int_equal(lsnap_cache_open(sub, key, err, sizeof err), -ENOENT);
    for (unsigned i = 0; i < LSNAP_CACHE_KEEP + 2; i++) {
        key[0] = (uint8_t)i;
        int fd = lsnap_cache_create(sub, key, tmp, sizeof tmp, err, sizeof err);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "x", 1), 1);
        assert_int_equal(lsnap_cache_publish(fd, sub, key, tmp, err, sizeof err), 0);
        close(fd);
        assert_int_equal(access(tmp, F_OK), -1);
        usleep(20000); /* distinct mtimes */
    }
    /* the two oldest went */
    for (unsigned i = 0; i < LSNAP_CACHE_KEEP + 2; i++) {
        key[0] = (uint8_t)i;
        int fd = lsnap_cache_open(sub, key, err, sizeof err);
        if (i < 2)
            assert_int_equal(fd, -ENOENT);
        else {
            assert_true(fd >= 0);
            close(fd);
        }
    }
    /* group-writable: refused */
    key[0] = LSNAP_CACHE_KEEP + 1;
    char hex[65], path[4096], link[4096];
    sha256_hex(key, hex);
    snprintf(path, sizeof path, "%s/%s.snap", sub, hex);
    assert_int_equal(chmod(path, 0660), 0);
    assert_int_equal(lsnap_cache_open(sub, key, err, sizeof err), -EPERM);
    assert_non_null(strstr(err, "no one else may write"));
    assert_int_equal(chmod(path, 0600), 0);
    /* a symlink in its place: refused */
    key[0] = 0x77;
    sha256_hex(key, hex);
    snprintf(link, sizeof link, "%s/%s.snap", sub, hex);
    assert_int_equal(symlink(path, link), 0);
    assert_true(lsnap_cache_open(sub, key, err, sizeof err) < 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    unsetenv("ISOVM_SNAPSHOT_CACHE");
    (void)f;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_mapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
