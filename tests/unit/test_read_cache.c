/* Unit tests for the read cache's VMM side: when it is armed, what it holds, how the firmware's
 * hits are accounted (file position, counters), and that anything unusual leaves it off. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "firmware/abi.h"
#include "vmm/caps/fd.h"
#include "job_fixture.h"
#include "vmm/sys/read_cache.h"

#define U0   0x200000ull
#define FILE_SIZE 300000u
#define E(x) ((int64_t)-(x))

static unsigned char pattern(uint64_t i) { return (unsigned char)(i * 13 + (i >> 9)); }

struct fix {
    struct job *job;
    int host;
};

static int file_fd(void)
{
    char name[] = "/tmp/isovm-test-rcache.XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    unlink(name);
    unsigned char *b = malloc(FILE_SIZE);
    for (uint64_t i = 0; i < FILE_SIZE; i++)
        b[i] = pattern(i);
    assert_int_equal(write(fd, b, FILE_SIZE), FILE_SIZE);
    free(b);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* fd 3: a read capability on the file, with `expires` */
static void bind_file(struct fix *f, uint64_t expires)
{
    int slot = cap_create(f->job->caps, CAP_NONE, CAP_FILE, CAP_FROM_GRANT,
                          CAP_R_READ | CAP_R_SEEK | CAP_R_STAT, expires, f->host, "/data/f");
    assert_true(slot >= 0);
    fd_bind(f->job, &f->job->procs[0], 3, (uint32_t)slot, false, O_RDONLY);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    f->job = fix_job_new();
    f->host = file_fd();
    fix_map(f->job, U0, 32 * FIX_PG, GPERM_R | GPERM_W);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    fix_job_free(f->job);
    free(f);
    return 0;
}

static struct isovm_hcblock *blk(struct job *job)
{
    return (struct isovm_hcblock *)(void *)fix_host(job, job->threads[0].vcpu.block_gpa);
}

static void test_armed_after_a_full_read(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    bind_file(f, 0);
    assert_int_equal(SC(job, sys_read, 3, U0, 4096), 4096);
    struct isovm_hcblock *b = blk(job);
    assert_true(job->rcache.armed);
    assert_int_equal(b->rc_fd, 3);
    assert_int_equal(b->rc_buf, U0);
    assert_int_equal(b->rc_maxlen, 4096);
    assert_int_equal(b->rc_data, ISOVM_RCACHE_GPA);
    assert_int_equal(b->rc_avail, READ_CACHE_FIRST); /* the first fill: 4 reads' worth */
    const unsigned char *cache = fix_host(job, ISOVM_RCACHE_GPA);
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(cache[i], pattern(4096 + i));
    /* the VMM's file position did not move past what the job read */
    assert_int_equal(lseek(f->host, 0, SEEK_CUR), 4096);
    /* the firmware serves two reads: accounted at the next hypercall, position moved */
    b->rc_hits = 2;
    b->rc_bytes = 8192;
    b->rc_data += 8192;
    b->rc_avail -= 8192;
    uint64_t ops = job->stats.read_ops, bytes = job->stats.bytes_read;
    pthread_mutex_lock(&job->lock);
    read_cache_sync(job, &job->threads[0]);
    pthread_mutex_unlock(&job->lock);
    assert_false(job->rcache.armed);
    assert_int_equal(b->rc_maxlen, 0);
    assert_int_equal(b->rc_avail, 0);
    assert_int_equal(job->stats.read_ops, ops + 2);
    assert_int_equal(job->stats.bytes_read, bytes + 8192);
    assert_int_equal(job->stats.read_cache_hits, 2);
    assert_int_equal(job->stats.syscalls[SYS_read], 2); /* the hits (SC bypasses the dispatcher) */
    assert_int_equal(lseek(f->host, 0, SEEK_CUR), 3 * 4096);
    /* the next read continues from there */
    assert_int_equal(SC(job, sys_read, 3, U0, 100), 100);
    assert_int_equal(*fix_host(job, U0), pattern(3 * 4096));
}

static void sync_with(struct job *job, uint64_t hits, uint64_t bytes)
{
    blk(job)->rc_hits = hits;
    blk(job)->rc_bytes = bytes;
    pthread_mutex_lock(&job->lock);
    read_cache_sync(job, &job->threads[0]);
    pthread_mutex_unlock(&job->lock);
}

/* The read-ahead grows while it is used, and backs off when it is not. */
static void test_read_ahead_adapts(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    const uint64_t room = ISOVM_RCACHE_END - ISOVM_RCACHE_GPA;
    bind_file(f, 0);
    uint64_t want = READ_CACHE_FIRST;
    for (int i = 0; i < 5; i++) { /* used in full: doubles (16 KiB .. 256 KiB) */
        assert_int_equal(lseek(f->host, 0, SEEK_SET), 0);
        assert_int_equal(SC(job, sys_read, 3, U0, 4096), 4096);
        assert_true(job->rcache.armed);
        assert_int_equal(blk(job)->rc_avail, want);
        sync_with(job, want / 4096, want);
        want = 2 * want > room ? room : 2 * want;
    }
    assert_int_equal(lseek(f->host, 0, SEEK_SET), 0);
    assert_int_equal(SC(job, sys_read, 3, U0, 4096), 4096);
    assert_int_equal(blk(job)->rc_avail, FILE_SIZE - 4096 < room ? FILE_SIZE - 4096 : room);
    /* unused (a write came between the reads): start small, skip 1, then 2, then 4 chances */
    sync_with(job, 0, 0);
    for (unsigned skip = 1; skip <= 4; skip *= 2) {
        for (unsigned k = 0; k < skip; k++) {
            assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
            assert_false(job->rcache.armed);
        }
        assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
        assert_true(job->rcache.armed);
        assert_int_equal(blk(job)->rc_avail, READ_CACHE_FIRST);
        sync_with(job, 0, 0);
    }
    /* one used fill: no more skipping */
    for (unsigned k = 0; k < 8; k++) { /* the 8 skipped chances */
        assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
        assert_false(job->rcache.armed);
    }
    assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
    assert_true(job->rcache.armed);
    sync_with(job, 1, 16);
    assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
    assert_true(job->rcache.armed);
}

static void test_off_when_unusual(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    bind_file(f, 0);
    /* a short read (the end of the file) */
    assert_int_equal(lseek(f->host, FILE_SIZE - 10, SEEK_SET), FILE_SIZE - 10);
    assert_int_equal(SC(job, sys_read, 3, U0, 4096), 10);
    assert_false(job->rcache.armed);
    assert_int_equal(lseek(f->host, 0, SEEK_SET), 0);
    /* too large a read */
    assert_int_equal(SC(job, sys_read, 3, U0, READ_CACHE_MAX_READ + 1), READ_CACHE_MAX_READ + 1);
    assert_false(job->rcache.armed);
    /* two threads */
    job->threads_live = 2;
    assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
    assert_false(job->rcache.armed);
    job->threads_live = 1;
    /* read throttled */
    struct bucket_cfg cfg = { .size = 1 << 20, .refill_time_ns = 1000000000 };
    tb_init(&job->io_read.bytes, &cfg, mono_ns());
    assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
    assert_false(job->rcache.armed);
    struct bucket_cfg none = { 0 };
    tb_init(&job->io_read.bytes, &none, mono_ns());
    /* read only logged by the filter */
    job->filter_allow[SYS_read / 64] &= ~(1ull << (SYS_read % 64));
    assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
    assert_false(job->rcache.armed);
    job->filter_allow[SYS_read / 64] |= 1ull << (SYS_read % 64);
    /* a bad buffer: EFAULT, nothing armed */
    assert_int_equal(SC(job, sys_read, 3, 0x1000, 16), E(EFAULT));
    assert_false(job->rcache.armed);
    /* a pipe */
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "0123456789abcdef", 16), 16);
    fix_fd(job, 0, p[0], CAP_R_READ);
    assert_int_equal(SC(job, sys_read, 0, U0, 16), 16);
    assert_false(job->rcache.armed);
    close(p[0]);
    close(p[1]);
    /* and it still arms in the plain case */
    assert_int_equal(SC(job, sys_read, 3, U0, 16), 16);
    assert_true(job->rcache.armed);
}

static void test_expiring_capability_never_cached(void **state)
{
    struct fix *f = *state;
    bind_file(f, mono_ns() + 3600ull * 1000000000ull);
    assert_int_equal(SC(f->job, sys_read, 3, U0, 4096), 4096);
    assert_false(f->job->rcache.armed);
}

static void test_drop_from_outside(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    bind_file(f, 0);
    assert_int_equal(SC(job, sys_read, 3, U0, 4096), 4096);
    assert_true(job->rcache.armed);
    pthread_mutex_lock(&job->lock);
    read_cache_drop(job);
    pthread_mutex_unlock(&job->lock);
    assert_int_equal(blk(job)->rc_maxlen, 0); /* the firmware's fast path is off */
    /* revoked meanwhile: the sync does not touch the closed descriptor */
    pthread_mutex_lock(&job->lock);
    cap_revoke(job->caps, job->procs[0].fds[3].cap, false, NULL, NULL);
    blk(job)->rc_bytes = 4096;
    blk(job)->rc_hits = 1;
    read_cache_sync(job, &job->threads[0]);
    pthread_mutex_unlock(&job->lock);
    assert_false(job->rcache.armed);
    assert_int_equal(SC(job, sys_read, 3, U0, 4096), E(EKEYREVOKED));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_armed_after_a_full_read),
        T(test_read_ahead_adapts),
        T(test_off_when_unusual),
        T(test_expiring_capability_never_cached),
        T(test_drop_from_outside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
