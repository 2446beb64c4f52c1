/* Unit tests for hypercall dispatch and the I/O, time and process syscalls, no KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/prctl.h>
#include <sys/sysinfo.h>
#include "firmware/abi.h"
#include "vmm/core/guest_mem.h"
#include "vmm/hypercall/hypercall.h"
#include "vmm/sys/exec_cache.h"
#include "vmm/sys/exec_script.h"
#include "job_fixture.h"

#define PG   FIX_PG
#define U0   0x200000ull            /* 4 pages RW */
#define URO  (U0 + 4 * PG)          /* 1 page read-only; the page after it is unmapped */
#define UNM  (U0 + 5 * PG)
#define FW   ISOVM_FW_CODE_GPA
#define E(x) ((int64_t)-(x))

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

/* fds[0]: read end of in[]; fds[1]: write end of out[]; fds[2]: write end of err[]. */
struct fix {
    struct job *job;
    int in[2], out[2], err[2];
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->job = fix_job_new();
    assert_int_equal(pipe2(f->in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(f->out, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(pipe2(f->err, O_CLOEXEC | O_NONBLOCK), 0);
    fix_fd(f->job, 0, f->in[0], CAP_R_READ | CAP_R_STAT);
    fix_fd(f->job, 1, f->out[1], CAP_R_WRITE | CAP_R_STAT);
    fix_fd(f->job, 2, f->err[1], CAP_R_WRITE | CAP_R_STAT);
    fix_map(f->job, U0, 4 * PG, GPERM_R | GPERM_W);
    fix_map(f->job, URO, PG, GPERM_R);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    for (int i = 0; i < 2; i++) {
        close(f->in[i]);
        close(f->out[i]);
        close(f->err[i]);
    }
    fix_job_free(f->job);
    free(f);
    return 0;
}

static int pending(int fd)
{
    int n = -1;
    assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
    return n;
}

static void put64(struct job *job, uint64_t gva, uint64_t v) { memcpy(fix_host(job, gva), &v, 8); }

static uint64_t get64(struct job *job, uint64_t gva)
{
    uint64_t v;
    memcpy(&v, fix_host(job, gva), 8);
    return v;
}

static void put_iov(struct job *job, uint64_t arr, unsigned i, uint64_t base, uint64_t len)
{
    put64(job, arr + 16 * i, base);
    put64(job, arr + 16 * i + 8, len);
}

/* ---- hypercall dispatch ---- */

static struct isovm_hcblock *hcb(struct job *job)
{
    return (struct isovm_hcblock *)(void *)fix_host(job, ISOVM_HCBLOCK_GPA);
}

static int hc(struct job *job, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct isovm_hcblock *b = hcb(job);
    b->nr = nr;
    b->arg[0] = a0, b->arg[1] = a1, b->arg[2] = a2;
    b->arg[3] = b->arg[4] = b->arg[5] = 0;
    b->ret = 0xdeadbeef;
    b->action = 0; /* the firmware clears it after acting on it */
    struct vthread *t = &job->threads[0];
    t->vcpu.block_gpa = ISOVM_HCBLOCK_GPA;
    pthread_mutex_lock(&job->lock);
    int rc = hypercall_handle(job, t, ISOVM_HCBLOCK_GPA);
    pthread_mutex_unlock(&job->lock);
    return rc;
}

static void test_hc_known(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    assert_int_equal(hc(job, SYS_getpid, 0, 0, 0), 0);
    assert_int_equal(hcb(job)->ret, 1);
    assert_int_equal(job->stats.hypercalls_total, 1);
    assert_int_equal(job->stats.syscalls[SYS_getpid], 1);
    /* Arguments decoded from the block: write(1, U0, 5). */
    memcpy(fix_host(job, U0), "hello", 5);
    assert_int_equal(hc(job, SYS_write, 1, U0, 5), 0);
    assert_int_equal(hcb(job)->ret, 5);
    assert_int_equal(pending(f->out[0]), 5);
    assert_int_equal(job->stats.syscalls[SYS_write], 1);
    assert_int_equal(job->stats.bytes_written, 5);
    /* Errors come back as negative errno. */
    assert_int_equal(hc(job, SYS_write, 1, FW, 5), 0);
    assert_int_equal((int64_t)hcb(job)->ret, E(EFAULT));
    assert_int_equal(job->stats.syscalls[SYS_write], 2);
    assert_int_equal(job->stats.hypercalls_total, 3);
    assert_int_equal(job->stats.unknown_total, 0);
    assert_int_equal(hcb(job)->action, 0);
}

static void test_hc_unknown(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    const uint64_t nrs[] = { 9999, UINT64_MAX, 512, 511, 9999, SYS_acct, 1ull << 32 };
    for (unsigned i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
        assert_int_equal(hc(job, nrs[i], 0, 0, 0), 0);
        assert_int_equal((int64_t)hcb(job)->ret, E(ENOSYS));
    }
    struct job_stats *st = &job->stats;
    assert_int_equal(st->hypercalls_total, 7);
    assert_int_equal(st->unknown_total, 7);
    assert_int_equal(st->unknown_distinct, 6);
    assert_int_equal(st->unknown_nr[0], 9999);
    assert_int_equal(st->unknown_count[0], 2);
    assert_int_equal(st->unknown_nr[1], UINT64_MAX);
    assert_int_equal(st->unknown_count[1], 1);
    assert_int_equal(st->unknown_nr[2], 512);
    assert_int_equal(st->unknown_nr[3], 511);
    assert_int_equal(st->unknown_nr[4], SYS_acct);
    assert_int_equal(st->unknown_nr[5], 1ull << 32);
    for (unsigned i = 0; i < SYSCALL_TABLE_SIZE; i++)
        assert_int_equal(st->syscalls[i], 0);
    /* More distinct numbers than tracked: all counted in the total, the table stays bounded. */
    for (uint64_t nr = 2000; nr < 2000 + 2 * UNKNOWN_TRACKED; nr++)
        assert_int_equal(hc(job, nr, 0, 0, 0), 0);
    assert_int_equal(st->unknown_distinct, UNKNOWN_TRACKED);
    assert_int_equal(st->unknown_total, 7 + 2 * UNKNOWN_TRACKED);
    /* rseq: known to the table, answered ENOSYS, counted as a syscall. */
    assert_int_equal(hc(job, SYS_rseq, 0, 0, 0), 0);
    assert_int_equal((int64_t)hcb(job)->ret, E(ENOSYS));
    assert_int_equal(st->syscalls[SYS_rseq], 1);
}

static void test_hc_protocol(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    struct vthread *v = &job->threads[0];
    v->vcpu.block_gpa = ISOVM_HCBLOCK_GPA;
    hcb(job)->nr = SYS_getpid;
    hcb(job)->ret = 0xdeadbeef;
    assert_true(hypercall_handle(job, v, ISOVM_HCBLOCK_GPA + ISOVM_HCBLOCK_STRIDE) < 0);
    assert_true(hypercall_handle(job, v, 0) < 0);
    assert_true(hypercall_handle(job, v, UINT32_MAX) < 0);
    assert_int_equal(hcb(job)->ret, 0xdeadbeef);
    assert_int_equal(job->stats.hypercalls_total, 0);
    /* A block outside RAM (cannot happen with the fixed layout, but must not be dereferenced). */
    v->vcpu.block_gpa = job->vm.gm.size - 8;
    assert_true(hypercall_handle(job, v, (uint32_t)(job->vm.gm.size - 8)) < 0);
    assert_int_equal(job->stats.hypercalls_total, 0);
}

static void test_hc_actions(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    /* A page-table change asks the firmware to flush the TLB, once. */
    assert_int_equal(hc(job, SYS_brk, 0x400000 + PG, 0, 0), 0);
    assert_int_equal(hcb(job)->ret, 0x400000 + PG);
    assert_int_equal(hcb(job)->action, ISOVM_ACT_FLUSH_TLB);
    assert_false(job->vm.gm.pt_dirty);
    assert_int_equal(hc(job, SYS_getpid, 0, 0, 0), 0);
    assert_int_equal(hcb(job)->action, 0);
    /* arch_prctl(SET_FS) hands the validated base to the firmware. */
    assert_int_equal(hc(job, SYS_arch_prctl, ARCH_SET_FS, 0x7fff12345000ull, 0), 0);
    assert_int_equal(hcb(job)->ret, 0);
    assert_int_equal(hcb(job)->action, ISOVM_ACT_SET_FS);
    assert_int_equal(hcb(job)->fs_base, 0x7fff12345000ull);
    assert_int_equal(hc(job, SYS_arch_prctl, ARCH_SET_FS, 1ull << 47, 0), 0);
    assert_int_equal((int64_t)hcb(job)->ret, E(EPERM));
    assert_int_equal(hcb(job)->action, 0);
    /* exit_group: the job ends, no answer written. */
    assert_int_equal(hc(job, SYS_exit_group, 256 + 7, 0, 0), 1);
    assert_int_equal(hcb(job)->ret, 0xdeadbeef);
    assert_int_equal(job->end, JOB_EXITED);
    assert_int_equal(job->exit_status, 7);
}

/* ---- read / write ---- */

static void test_write_read_bad_pointers(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    const uint64_t bad[] = { 0, 8, 0x1000, ISOVM_HCBLOCK_GPA, FW, UNM, UNM - 2,
                             job->vm.gm.user_hi, UINT64_MAX - 3, 0xfffffffffffff000ull };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(SC(job, sys_write, 1, bad[i], 4), E(EFAULT));
        assert_int_equal(SC(job, sys_read, 0, bad[i], 4), E(EFAULT));
    }
    assert_int_equal(SC(job, sys_write, 1, U0, UINT64_MAX), E(EFAULT)); /* capped, still too long */
    assert_int_equal(SC(job, sys_read, 0, URO, 1), E(EFAULT));          /* read-only buffer */
    assert_int_equal(SC(job, sys_read, 0, URO - 1, 2), E(EFAULT));
    assert_int_equal(pending(f->out[0]), 0);
    assert_int_equal(job->stats.bytes_written, 0);
}

static void test_write_read_len0(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    assert_int_equal(SC(job, sys_write, 1, U0, 0), 0);
    assert_int_equal(SC(job, sys_read, 0, U0, 0), 0); /* does not block on the empty pipe */
    assert_int_equal(SC(job, sys_write, 1, URO, 0), 0);
    assert_int_equal(SC(job, sys_write, 1, UNM, 0), 0);
    assert_int_equal(pending(f->out[0]), 0);
}

/* Linux: write(fd, NULL, 0) and read(fd, NULL, 0) return 0 (access_ok(NULL, 0) holds). */
static void test_write_read_null_len0(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    assert_int_equal(SC(job, sys_write, 1, 0, 0), 0);
    assert_int_equal(SC(job, sys_read, 0, 0, 0), 0);
    assert_int_equal(pending(f->out[0]), 0);
}

static void test_bad_fds(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    const uint64_t fds[] = { 3, 4, 1024, (uint64_t)-1, 1ull << 32, (uint64_t)INT32_MIN };
    for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        assert_int_equal(SC(job, sys_write, fds[i], U0, 1), E(EBADF));
        assert_int_equal(SC(job, sys_read, fds[i], U0, 1), E(EBADF));
        assert_int_equal(SC(job, sys_writev, fds[i], U0, 1), E(EBADF));
        assert_int_equal(SC(job, sys_readv, fds[i], U0, 1), E(EBADF));
        assert_int_equal(SC(job, sys_close, fds[i]), E(EBADF));
        assert_int_equal(SC(job, sys_fstat, fds[i], U0), E(EBADF));
    }
    assert_int_equal(SC(job, sys_write, 0, U0, 1), E(EBADF)); /* stdin is read-only */
    assert_int_equal(SC(job, sys_writev, 0, U0, 1), E(EBADF));
    assert_int_equal(SC(job, sys_read, 1, U0, 1), E(EBADF));  /* stdout is write-only */
    assert_int_equal(SC(job, sys_readv, 2, U0, 1), E(EBADF));
    /* The descriptor is checked before the buffer. */
    assert_int_equal(SC(job, sys_write, 3, 0, 1), E(EBADF));
    assert_int_equal(SC(job, sys_write, 0, FW, 1), E(EBADF));
    /* Closed descriptors. */
    assert_int_equal(SC(job, sys_close, 2), 0);
    assert_int_equal(SC(job, sys_write, 2, U0, 1), E(EBADF));
    assert_int_equal(SC(job, sys_close, 2), E(EBADF));
    assert_int_equal(pending(f->err[0]), 0);
    assert_int_equal(pending(f->out[0]), 0);
}

static void test_write_read_ok(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    /* Across a page boundary, from a read-only page. */
    memcpy(fix_host(job, URO - 3), "abcdef", 6);
    assert_int_equal(SC(job, sys_write, 1, URO - 3, 6), 6);
    char buf[16];
    assert_int_equal(read(f->out[0], buf, sizeof buf), 6);
    assert_memory_equal(buf, "abcdef", 6);
    assert_int_equal(job->stats.bytes_written, 6);
    assert_int_equal(write(f->in[1], "xyz", 3), 3);
    memset(fix_host(job, U0), 0x11, 8);
    assert_int_equal(SC(job, sys_read, 0, U0 + 1, 8), 3);
    assert_memory_equal(fix_host(job, U0 + 1), "xyz", 3);
    assert_int_equal(*fix_host(job, U0), 0x11);
    assert_int_equal(*fix_host(job, U0 + 4), 0x11);
    assert_int_equal(job->stats.bytes_read, 3);
    /* EOF. */
    close(f->in[1]);
    f->in[1] = -1;
    assert_int_equal(SC(job, sys_read, 0, U0, 8), 0);
}

/* ---- readv / writev ---- */

#define IOV  (U0 + 2 * PG)   /* iovec array lives here */

static void test_writev_errors(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    memcpy(fix_host(job, U0), "AAAABBBB", 8);
    put_iov(job, IOV, 0, U0, 4);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 1025), E(EINVAL));
    assert_int_equal(SC(job, sys_writev, 1, IOV, UINT64_MAX), E(EINVAL));
    assert_int_equal(SC(job, sys_writev, 1, IOV, 1ull << 32), E(EINVAL));
    assert_int_equal(SC(job, sys_readv, 0, IOV, 1025), E(EINVAL));
    assert_int_equal(SC(job, sys_writev, 1, IOV, 0), 0);
    /* The iovec array itself unreadable. */
    assert_int_equal(SC(job, sys_writev, 1, 0, 1), E(EFAULT));
    assert_int_equal(SC(job, sys_writev, 1, FW, 1), E(EFAULT));
    assert_int_equal(SC(job, sys_writev, 1, UNM - 16, 2), E(EFAULT)); /* second entry unmapped */
    assert_int_equal(SC(job, sys_writev, 1, UINT64_MAX - 15, 1), E(EFAULT));
    assert_int_equal(SC(job, sys_readv, 0, 0, 1), E(EFAULT));
    /* One bad base among good ones: nothing written at all. */
    put_iov(job, IOV, 1, FW, 4);
    put_iov(job, IOV, 2, U0 + 4, 4);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 3), E(EFAULT));
    put_iov(job, IOV, 1, UNM - 2, 4);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 3), E(EFAULT));
    put_iov(job, IOV, 1, UINT64_MAX - 1, 4);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 3), E(EFAULT));
    assert_int_equal(pending(f->out[0]), 0);
    /* readv into a read-only page. */
    put_iov(job, IOV, 1, URO, 4);
    assert_int_equal(write(f->in[1], "zz", 2), 2);
    assert_int_equal(SC(job, sys_readv, 0, IOV, 2), E(EFAULT));
    assert_int_equal(pending(f->in[0]), 2); /* nothing consumed */
    /* Lengths: negative as ssize_t, and a total that overflows ssize_t. */
    put_iov(job, IOV, 1, U0, 0x8000000000000000ull);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 2), E(EINVAL));
    put_iov(job, IOV, 1, U0, 0x7fffffffffffffffull);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 2), E(EINVAL)); /* 4 + SSIZE_MAX */
    assert_int_equal(pending(f->out[0]), 0);
}

/* Two iovecs of SSIZE_MAX each: POSIX says EINVAL (sum overflows ssize_t); Linux checks
 * access_ok on each segment first and answers EFAULT. Either way: an error, nothing written. */
static void test_writev_total_overflow(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    put_iov(job, IOV, 0, U0, 0x7fffffffffffffffull);
    put_iov(job, IOV, 1, U0, 0x7fffffffffffffffull);
    int64_t r = SC(job, sys_writev, 1, IOV, 2);
    if (r != E(EINVAL) && r != E(EFAULT))
        fail_msg("writev with two SSIZE_MAX iovecs returned %lld", (long long)r);
    r = SC(job, sys_readv, 0, IOV, 2);
    if (r != E(EINVAL) && r != E(EFAULT))
        fail_msg("readv with two SSIZE_MAX iovecs returned %lld", (long long)r);
    assert_int_equal(pending(f->out[0]), 0);
}

static void test_writev_readv_ok(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    memcpy(fix_host(job, U0), "one-", 4);
    memcpy(fix_host(job, URO + 100), "two-", 4);
    memcpy(fix_host(job, U0 + PG - 2), "three", 5); /* crosses a page */
    put_iov(job, IOV, 0, U0, 4);
    put_iov(job, IOV, 1, URO + 100, 4);
    put_iov(job, IOV, 2, U0 + PG - 2, 5);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 3), 13);
    char buf[32];
    assert_int_equal(read(f->out[0], buf, sizeof buf), 13);
    assert_memory_equal(buf, "one-two-three", 13);
    assert_int_equal(job->stats.bytes_written, 13);
    /* Zero-length entries anywhere in user memory are fine. */
    put_iov(job, IOV, 0, U0, 3);
    put_iov(job, IOV, 1, UNM, 0);
    put_iov(job, IOV, 2, U0 + 3, 1);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 3), 4);
    assert_int_equal(read(f->out[0], buf, sizeof buf), 4);
    assert_memory_equal(buf, "one-", 4);
    /* readv scatters in order. */
    assert_int_equal(write(f->in[1], "0123456789", 10), 10);
    put_iov(job, IOV, 0, U0 + 0x100, 3);
    put_iov(job, IOV, 1, U0 + 0x200, 0);
    put_iov(job, IOV, 2, U0 + 0x300, 7);
    assert_int_equal(SC(job, sys_readv, 0, IOV, 3), 10);
    assert_memory_equal(fix_host(job, U0 + 0x100), "012", 3);
    assert_memory_equal(fix_host(job, U0 + 0x300), "3456789", 7);
    assert_int_equal(job->stats.bytes_read, 10);
    /* The maximum count of entries. */
    for (unsigned i = 0; i < 1024; i++)
        put_iov(job, U0, i, URO + 10, i == 1023); /* 16 KiB array: pages U0..U0+3 */
    *fix_host(job, URO + 10) = '!';
    assert_int_equal(SC(job, sys_writev, 1, U0, 1024), 1);
    assert_int_equal(read(f->out[0], buf, sizeof buf), 1);
    assert_int_equal(buf[0], '!');
}

/* musl's fflush() and exit-time flush call writev(fd, {{buf, n}, {NULL, 0}}, 2): Linux accepts
 * a zero-length segment at NULL (access_ok(NULL, 0) holds) and writes n bytes. */
static void test_writev_null_len0_segment(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    memcpy(fix_host(job, U0), "flushed", 7);
    put_iov(job, IOV, 0, U0, 7);
    put_iov(job, IOV, 1, 0, 0);
    assert_int_equal(SC(job, sys_writev, 1, IOV, 2), 7);
    assert_int_equal(pending(f->out[0]), 7);
}

/* ---- time ---- */

static void test_clock_gettime(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    assert_int_equal(SC(job, sys_clock_gettime, 99, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_clock_gettime, 12, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_clock_gettime, UINT64_MAX, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_clock_gettime, 1ull << 32, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_MONOTONIC, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_MONOTONIC, FW), E(EFAULT));
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_MONOTONIC, URO), E(EFAULT));
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_MONOTONIC, URO - 8), E(EFAULT));
    const uint64_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
                                CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
                                CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID };
    for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        memset(fix_host(job, U0), 0xee, 32);
        assert_int_equal(SC(job, sys_clock_gettime, clocks[i], U0 + 8), 0);
        assert_int_equal(get64(job, U0), 0xeeeeeeeeeeeeeeeeull);       /* before: untouched */
        assert_int_equal(get64(job, U0 + 24), 0xeeeeeeeeeeeeeeeeull);  /* after: untouched */
        assert_true((int64_t)get64(job, U0 + 8) >= 0);
        assert_true(get64(job, U0 + 16) < 1000000000ull);
    }
    /* Realtime is plausible (after 2020). */
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_REALTIME, U0), 0);
    assert_true(get64(job, U0) > 1577836800ull);
    /* The last 16 bytes of a writable page. */
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_MONOTONIC, URO - 16), 0);
}

static void test_nanosleep(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    put64(job, U0, 0);
    put64(job, U0 + 8, 1000000000ull);
    assert_int_equal(SC(job, sys_nanosleep, U0, 0), E(EINVAL));
    put64(job, U0 + 8, (uint64_t)-1);
    assert_int_equal(SC(job, sys_nanosleep, U0, 0), E(EINVAL));
    put64(job, U0, (uint64_t)-1);
    put64(job, U0 + 8, 0);
    assert_int_equal(SC(job, sys_nanosleep, U0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_nanosleep, 0, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_nanosleep, FW, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_nanosleep, UNM - 8, 0), E(EFAULT));
    put64(job, U0, 0);
    put64(job, U0 + 8, 1000);
    assert_int_equal(SC(job, sys_nanosleep, U0, U0 + 16), 0);
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_MONOTONIC, 0, U0, 0), 0);
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_MONOTONIC, 2, U0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, U0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, U0, 0), E(EOPNOTSUPP));
}

/* Linux clock_nanosleep: an unknown clock id is EINVAL (clockid_to_kclock fails); EOPNOTSUPP is
 * only for known clocks that cannot sleep. */
static void test_clock_nanosleep_unknown_clock(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    put64(job, U0, 0);
    put64(job, U0 + 8, 1000);
    assert_int_equal(SC(job, sys_clock_nanosleep, 99, 0, U0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clock_nanosleep, 1ull << 32, 0, U0, 0), E(EINVAL));
}

/* ---- process ---- */

static void test_getrandom(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    assert_int_equal(SC(job, sys_getrandom, U0, 16, 0x8), E(EINVAL));
    assert_int_equal(SC(job, sys_getrandom, U0, 16, UINT64_MAX), E(EINVAL));
    assert_int_equal(SC(job, sys_getrandom, U0, 16, GRND_RANDOM | GRND_INSECURE), E(EINVAL));
    assert_int_equal(SC(job, sys_getrandom, 0, 16, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_getrandom, FW, 16, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_getrandom, URO, 16, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_getrandom, UINT64_MAX - 7, 16, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_getrandom, U0, 0, 0), 0);
    memset(fix_host(job, U0), 0, 64);
    assert_int_equal(SC(job, sys_getrandom, U0, 32, GRND_NONBLOCK), 32);
    uint8_t zero[32] = { 0 };
    assert_memory_not_equal(fix_host(job, U0), zero, 32);
    assert_int_equal(get64(job, U0 + 32), 0);
    assert_int_equal(SC(job, sys_getrandom, U0, 4 * PG, 0), 4 * PG);
}

static void test_rt_sigaction(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    const uint64_t act[4] = { 0x401000, 0x04000000 /* SA_RESTORER */, 0x401100, 0x5 };
    memcpy(fix_host(job, U0), act, sizeof act);
    assert_int_equal(SC(job, sys_rt_sigaction, SIGKILL, U0, 0, 8), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigaction, SIGSTOP, U0, 0, 8), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigaction, SIGKILL, 0, U0 + 64, 8), 0); /* query allowed */
    assert_int_equal(SC(job, sys_rt_sigaction, 0, U0, 0, 8), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigaction, 65, U0, 0, 8), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigaction, UINT64_MAX, U0, 0, 8), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, U0, 0, 4), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, U0, 0, 16), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, FW, 0, 8), E(EFAULT));
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, URO - 16, 0, 8), 0); /* all 32 readable */
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, UNM - 16, 0, 8), E(EFAULT));
    /* Set, then read back through oldact; a failing oldact write leaves the action unset. */
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, U0, 0, 8), 0);
    memset(fix_host(job, U0 + 64), 0xff, 32);
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, 0, U0 + 64, 8), 0);
    assert_memory_equal(fix_host(job, U0 + 64), act, sizeof act);
    assert_int_equal(SC(job, sys_rt_sigaction, 64, U0, 0, 8), 0);
    const uint64_t act2[4] = { 1 /* SIG_IGN */, 0, 0, 0 };
    memcpy(fix_host(job, U0 + 128), act2, sizeof act2);
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, U0 + 128, URO, 8), E(EFAULT));
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, U0 + 128, U0 + 64, 8), 0);
    assert_memory_equal(fix_host(job, U0 + 64), act, sizeof act); /* old returned */
    assert_int_equal(SC(job, sys_rt_sigaction, SIGUSR1, 0, U0 + 64, 8), 0);
    assert_memory_equal(fix_host(job, U0 + 64), act2, sizeof act2);
    assert_int_equal(SC(job, sys_rt_sigaction, 64, 0, U0 + 64, 8), 0);
    assert_memory_equal(fix_host(job, U0 + 64), act, sizeof act);
}

static void test_rt_sigprocmask(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    const uint64_t kill_stop = (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1));
    put64(job, U0, UINT64_MAX);
    assert_int_equal(SC(job, sys_rt_sigprocmask, SIG_BLOCK, U0, 0, 4), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigprocmask, 3, U0, 0, 8), E(EINVAL));
    assert_int_equal(SC(job, sys_rt_sigprocmask, SIG_BLOCK, FW, 0, 8), E(EFAULT));
    assert_int_equal(SC(job, sys_rt_sigprocmask, SIG_BLOCK, U0, 0, 8), 0);
    assert_int_equal(job->threads[0].sig_blocked, ~kill_stop);
    put64(job, U0, 1ull << (SIGUSR1 - 1));
    assert_int_equal(SC(job, sys_rt_sigprocmask, SIG_UNBLOCK, U0, U0 + 8, 8), 0);
    assert_int_equal(get64(job, U0 + 8), ~kill_stop);
    assert_int_equal(job->threads[0].sig_blocked, ~kill_stop & ~(1ull << (SIGUSR1 - 1)));
    put64(job, U0, 1ull << (SIGKILL - 1));
    assert_int_equal(SC(job, sys_rt_sigprocmask, SIG_SETMASK, U0, 0, 8), 0);
    assert_int_equal(job->threads[0].sig_blocked, 0);
    /* Query only, with an invalid how: allowed. */
    assert_int_equal(SC(job, sys_rt_sigprocmask, 99, 0, U0 + 8, 8), 0);
    assert_int_equal(get64(job, U0 + 8), 0);
}

static void test_prlimit(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    put64(job, U0, 1024);
    put64(job, U0 + 8, 8192);
    assert_int_equal(SC(job, sys_prlimit64, 0, RLIMIT_NOFILE, U0, 0), E(EPERM));
    assert_int_equal(SC(job, sys_prlimit64, 2, RLIMIT_NOFILE, 0, U0 + 16), E(ESRCH));
    assert_int_equal(SC(job, sys_prlimit64, 0, 16, 0, U0 + 16), E(EINVAL));
    assert_int_equal(SC(job, sys_prlimit64, 0, UINT64_MAX, 0, U0 + 16), E(EINVAL));
    put64(job, U0, 4096);
    put64(job, U0 + 8, 2048); /* soft > hard */
    assert_int_equal(SC(job, sys_prlimit64, 0, RLIMIT_NOFILE, U0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_prlimit64, 0, RLIMIT_NOFILE, FW, 0), E(EFAULT));
    put64(job, U0, 512);
    put64(job, U0 + 8, 2048);
    assert_int_equal(SC(job, sys_prlimit64, 0, RLIMIT_NOFILE, U0, U0 + 16), 0);
    assert_int_equal(get64(job, U0 + 16), 1024); /* old */
    assert_int_equal(get64(job, U0 + 24), 4096);
    assert_int_equal(job->rlimits[RLIMIT_NOFILE][0], 512);
    assert_int_equal(job->rlimits[RLIMIT_NOFILE][1], 2048);
    put64(job, U0 + 8, 4096); /* raise back: refused */
    assert_int_equal(SC(job, sys_prlimit64, 1, RLIMIT_NOFILE, U0, 0), E(EPERM));
    assert_int_equal(SC(job, sys_getrlimit, RLIMIT_NOFILE, U0 + 16), 0);
    assert_int_equal(get64(job, U0 + 16), 512);
    assert_int_equal(get64(job, U0 + 24), 2048);
    /* Raising the soft limit up to the hard one is fine. */
    put64(job, U0, 2048);
    put64(job, U0 + 8, 2048);
    assert_int_equal(SC(job, sys_prlimit64, 0, RLIMIT_NOFILE, U0, 0), 0);
    /* A failed old-value write leaves the limit unchanged. */
    put64(job, U0, 1);
    put64(job, U0 + 8, 1);
    assert_int_equal(SC(job, sys_prlimit64, 0, RLIMIT_NOFILE, U0, URO), E(EFAULT));
    assert_int_equal(job->rlimits[RLIMIT_NOFILE][1], 2048);
}

static void test_readlink(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    const char *exe = job->exe_path;
    size_t n = strlen(exe);
    memcpy(fix_host(job, U0), "/proc/self/exe", 15);
    memcpy(fix_host(job, U0 + 32), "/proc/self/cwd", 15);
    memset(fix_host(job, U0 + 64), '#', 64);
    assert_int_equal(SC(job, sys_readlink, U0, U0 + 64, 64), (int64_t)n);
    assert_memory_equal(fix_host(job, U0 + 64), exe, n);
    assert_int_equal(*fix_host(job, U0 + 64 + n), '#'); /* no NUL added */
    memset(fix_host(job, U0 + 64), '#', 64);
    assert_int_equal(SC(job, sys_readlink, U0, U0 + 64, 4), 4);
    assert_memory_equal(fix_host(job, U0 + 64), exe, 4);
    assert_int_equal(*fix_host(job, U0 + 68), '#');
    assert_int_equal(SC(job, sys_readlink, U0, U0 + 64, n), (int64_t)n);
    assert_int_equal(SC(job, sys_readlink, U0, URO - 2, 64), E(EFAULT));
    assert_int_equal(SC(job, sys_readlink, U0, URO - 2, 2), 2);
    assert_int_equal(SC(job, sys_readlink, U0, U0 + 64, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_readlink, U0, U0 + 64, UINT64_MAX), E(EINVAL));
    assert_int_equal(SC(job, sys_readlink, U0 + 32, U0 + 64, 64), E(ENOENT));
    assert_int_equal(SC(job, sys_readlink, FW, U0 + 64, 64), E(EFAULT));
    assert_int_equal(SC(job, sys_readlink, 0, U0 + 64, 64), E(EFAULT));
    /* readlinkat(AT_FDCWD, ...) */
    assert_int_equal(SC(job, sys_readlinkat, (uint64_t)AT_FDCWD, U0, U0 + 64, 64), (int64_t)n);
    /* A path with no NUL before the unmapped page. */
    memset(fix_host(job, URO), 'a', PG);
    assert_int_equal(SC(job, sys_readlink, URO + 16, U0 + 64, 64), E(EFAULT));
    assert_int_equal(SC(job, sys_readlink, URO, U0 + 64, 64), E(ENAMETOOLONG)); /* PATH_MAX */
}

static void test_arch_prctl(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    const uint64_t bad[] = { 1ull << 47, 0xffff800000000000ull, UINT64_MAX, 0x0000800000001000ull };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sc_call c = { .a = { ARCH_SET_FS, bad[i] }, .self = &job->threads[0] };
        assert_int_equal(sys_arch_prctl(job, &c), E(EPERM));
        assert_int_equal(c.action, 0);
        assert_int_equal(job->threads[0].fs_base, 0);
    }
    struct sc_call c = { .a = { ARCH_SET_FS, 0x7ffff7ff8740ull }, .self = &job->threads[0] };
    assert_int_equal(sys_arch_prctl(job, &c), 0);
    assert_int_equal(c.action, ISOVM_ACT_SET_FS);
    assert_int_equal(c.fs_base, 0x7ffff7ff8740ull);
    assert_int_equal(job->threads[0].fs_base, 0x7ffff7ff8740ull);
    assert_int_equal(SC(job, sys_arch_prctl, ARCH_GET_FS, U0), 0);
    assert_int_equal(get64(job, U0), 0x7ffff7ff8740ull);
    assert_int_equal(SC(job, sys_arch_prctl, ARCH_GET_FS, FW), E(EFAULT));
    assert_int_equal(SC(job, sys_arch_prctl, ARCH_SET_GS, U0), E(EPERM));
    assert_int_equal(SC(job, sys_arch_prctl, 0x9999, U0), E(EINVAL));
}

static void test_uname(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    const size_t sz = sizeof(struct utsname); /* 6 * 65 */
    assert_int_equal(sz, 390);
    assert_int_equal(SC(job, sys_uname, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_uname, FW), E(EFAULT));
    assert_int_equal(SC(job, sys_uname, URO - 100), E(EFAULT));
    assert_int_equal(*fix_host(job, URO - 100), 0); /* nothing written */
    memset(fix_host(job, U0), 0x7f, 512);
    assert_int_equal(SC(job, sys_uname, U0), 0);
    struct utsname u;
    memcpy(&u, fix_host(job, U0), sz);
    assert_string_equal(u.sysname, "Linux");
    assert_string_equal(u.machine, "x86_64");
    assert_memory_equal(fix_host(job, U0 + 4 * 65), "x86_64", 7);
    assert_int_equal(*fix_host(job, U0 + sz), 0x7f);
    assert_int_equal(SC(job, sys_uname, URO - sz), 0);
}

static void test_exit(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    assert_true(SC(job, sys_exit_group, 256 + 7) == SC_STOP);
    assert_int_equal(job->end, JOB_EXITED);
    assert_int_equal(job->exit_status, 7);
    assert_true(atomic_load(&job->stop));
    /* The first end wins: a later exit does not change the status. */
    assert_true(SC(job, sys_exit_group, 9) == SC_STOP);
    assert_int_equal(job->exit_status, 7);
    job->end = JOB_RUNNING;
    atomic_store(&job->stop, false);
    assert_true(SC(job, sys_exit_group, (uint64_t)-1) == SC_STOP);
    assert_int_equal(job->exit_status, 255);
    job->end = JOB_RUNNING;
    /* exit of the last thread ends the job with its status. */
    assert_true(SC(job, sys_exit, 42) == SC_STOP);
    assert_int_equal(job->threads_live, 0);
    assert_int_equal(job->threads[0].state, VT_EXITING);
    assert_int_equal(job->exit_status, 42);
    job->end = JOB_RUNNING;
    assert_true(SC(job, sys_exit_group, 0x100) == SC_STOP);
    assert_int_equal(job->exit_status, 0);
}

/* ---- issue 17's: sysinfo, affinity, prctl, memory locks ---- */

static void test_sysinfo(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    job->policy.memory_bytes = 64ull << 20;
    job->threads_live = 3;
    assert_int_equal(SC(job, sys_sysinfo, URO), E(EFAULT)); /* read-only */
    assert_int_equal(SC(job, sys_sysinfo, UNM), E(EFAULT));
    struct guest_mem *gm = &job->vm.gm;
    uint64_t used = ISOVM_USER_MIN_GPA + (gm->frames_given + gm->frames_tables) * PG;
    assert_int_equal(SC(job, sys_sysinfo, U0), 0);
    struct sysinfo si;
    memcpy(&si, fix_host(job, U0), sizeof si);
    assert_int_equal(si.totalram, 64ull << 20);
    assert_true(si.freeram <= si.totalram);
    /* used: the firmware region and the frames in use (pages given, page tables), not what is
     * mapped */
    assert_int_equal(si.totalram - si.freeram, used); /* counted before its own answer's page */
    assert_true(gm->frames_given < gm->user_pages);
    assert_int_equal(si.totalswap, 0);
    assert_int_equal(si.procs, 3);
    assert_int_equal(si.mem_unit, 1);
}

static void test_sched_affinity(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    job->policy.max_threads = 4;
    job->threads[0].tid = 1;
    job->threads[0].state = VT_RUNNING;
    assert_int_equal(SC(job, sys_sched_getaffinity, 0, 128, U0), 8);
    assert_int_equal(get64(job, U0), 0xf);
    assert_int_equal(SC(job, sys_sched_getaffinity, 1, 8, U0), 8); /* its own tid */
    assert_int_equal(SC(job, sys_sched_getaffinity, 77, 8, U0), E(ESRCH));
    assert_int_equal(SC(job, sys_sched_getaffinity, 0, 4, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_sched_getaffinity, 0, 12, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_sched_getaffinity, 0, 8, URO), E(EFAULT));
    job->policy.max_threads = 200; /* more than the vCPUs: all 64 */
    assert_int_equal(SC(job, sys_sched_getaffinity, 0, 8, U0), 8);
    assert_int_equal(get64(job, U0), UINT64_MAX);
    job->policy.max_threads = 4;
    put64(job, U0, 0x2);
    assert_int_equal(SC(job, sys_sched_setaffinity, 0, 8, U0), 0);
    put64(job, U0, 0x100); /* none of the job's CPUs */
    assert_int_equal(SC(job, sys_sched_setaffinity, 0, 8, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_sched_setaffinity, 0, 8, UNM), E(EFAULT));
    assert_int_equal(SC(job, sys_sched_setaffinity, 0, 0, U0), E(EINVAL));
}

static void test_prctl(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    memcpy(fix_host(job, U0), "a-very-long-thread-name", 24);
    assert_int_equal(SC(job, sys_prctl, PR_SET_NAME, U0), 0);
    memset(fix_host(job, U0 + 64), 0x7f, 32);
    assert_int_equal(SC(job, sys_prctl, PR_GET_NAME, U0 + 64), 0);
    assert_string_equal((char *)fix_host(job, U0 + 64), "a-very-long-thr"); /* 15 bytes */
    assert_int_equal(*fix_host(job, U0 + 64 + 16), 0x7f); /* 16 written, no more */
    assert_int_equal(SC(job, sys_prctl, PR_SET_NAME, UNM), E(EFAULT));
    assert_int_equal(SC(job, sys_prctl, PR_GET_NAME, URO), E(EFAULT));
    assert_int_equal(SC(job, sys_prctl, PR_SET_PDEATHSIG, 9), 0);
    assert_int_equal(SC(job, sys_prctl, PR_GET_PDEATHSIG, U0), 0);
    assert_int_equal(*(int32_t *)(void *)fix_host(job, U0), 9);
    assert_int_equal(SC(job, sys_prctl, PR_SET_PDEATHSIG, 65), E(EINVAL));
    assert_int_equal(SC(job, sys_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    assert_int_equal(SC(job, sys_prctl, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
    assert_int_equal(SC(job, sys_prctl, PR_GET_DUMPABLE), 1);
    assert_int_equal(SC(job, sys_prctl, PR_SET_DUMPABLE, 0), 0);
    assert_int_equal(SC(job, sys_prctl, PR_GET_DUMPABLE), 0);
    assert_int_equal(SC(job, sys_prctl, PR_SET_DUMPABLE, 2), E(EINVAL));
    assert_int_equal(SC(job, sys_prctl, PR_GET_SECCOMP), 0);
    assert_int_equal(SC(job, sys_prctl, PR_CAPBSET_READ, 21), 0);
    assert_int_equal(SC(job, sys_prctl, PR_SET_TIMERSLACK, 1000), 0);
    assert_int_equal(SC(job, sys_prctl, PR_GET_TIMERSLACK), 1000);
    assert_int_equal(SC(job, sys_prctl, PR_SET_CHILD_SUBREAPER, 1), 0);
    assert_int_equal(SC(job, sys_prctl, PR_GET_CHILD_SUBREAPER, U0), 0);
    assert_int_equal(*(int32_t *)(void *)fix_host(job, U0), 1);
    assert_int_equal(SC(job, sys_prctl, PR_SET_SECCOMP, 2, U0), E(EINVAL)); /* not a job's */
    assert_int_equal(SC(job, sys_prctl, 0x7fffffff), E(EINVAL));
}

static void test_mlock(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    assert_int_equal(SC(job, sys_mlock, U0, 4 * PG), 0);
    assert_int_equal(SC(job, sys_mlock, U0 + 10, 100), 0);
    assert_int_equal(SC(job, sys_mlock, U0, 0), 0);
    assert_int_equal(SC(job, sys_mlock, U0, 6 * PG), E(ENOMEM)); /* beyond the mapping */
    assert_int_equal(SC(job, sys_mlock, UINT64_MAX - 10, 100), E(ENOMEM));
    assert_int_equal(SC(job, sys_munlock, U0, PG), 0);
    assert_int_equal(SC(job, sys_mlock2, U0, PG, 1), 0);
    assert_int_equal(SC(job, sys_mlock2, U0, PG, 2), E(EINVAL));
    assert_int_equal(SC(job, sys_mlockall, 3), 0);
    assert_int_equal(SC(job, sys_mlockall, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mlockall, 4), E(EINVAL));
    assert_int_equal(SC(job, sys_mlockall, 8), E(EINVAL));
    assert_int_equal(SC(job, sys_munlockall), 0);
}

static void test_fallocate_console(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    assert_int_equal(SC(job, sys_fallocate, 1, 0, 0, 4096), E(ESPIPE));
    assert_int_equal(SC(job, sys_fallocate, 1, 0x10, 0, 4096), E(EOPNOTSUPP)); /* a mode */
    assert_int_equal(SC(job, sys_fallocate, 77, 0, 0, 4096), E(EBADF));
}

/* #! lines as Linux reads them: the interpreter, one argument (inner blanks kept), or none. */
static int script(const char *text, size_t len, char *buf, const char **interp, const char **arg)
{
    return exec_script_parse((const uint8_t *)text, len, buf, interp, arg);
}

static void test_exec_script(void **state)
{
    (void)state;
    char buf[EXEC_SCRIPT_HEADER + 1];
    const char *i, *a;
    assert_int_equal(script("#!/bin/sh\necho", 14, buf, &i, &a), 1);
    assert_string_equal(i, "/bin/sh");
    assert_null(a);
    assert_int_equal(script("#! /usr/bin/env  python3 -u \r\n", 31, buf, &i, &a), 1);
    assert_string_equal(i, "/usr/bin/env");
    assert_string_equal(a, "python3 -u");
    assert_int_equal(script("#!\t/x\t-e\t", 10, buf, &i, &a), 1);
    assert_string_equal(i, "/x");
    assert_string_equal(a, "-e");
    assert_int_equal(script("#!/a\0 -x\n", 10, buf, &i, &a), 1); /* a NUL ends the line */
    assert_string_equal(i, "/a");
    assert_null(a);
    assert_int_equal(script("#!/bin/sh", 9, buf, &i, &a), 1); /* a short file, no newline */
    assert_int_equal(script("#!  \n", 5, buf, &i, &a), -ENOEXEC);
    assert_int_equal(script("#!", 2, buf, &i, &a), -ENOEXEC);
    assert_int_equal(script("\x7f" "ELF", 4, buf, &i, &a), 0);
    assert_int_equal(script("#", 1, buf, &i, &a), 0);
    char lng[400] = "#!/";
    memset(lng + 3, 'x', sizeof lng - 4);
    lng[sizeof lng - 1] = '\0';
    assert_int_equal(script(lng, sizeof lng - 1, buf, &i, &a), -ENOEXEC); /* name cut off */
    lng[100] = ' '; /* the name ends inside what is read: the argument is cut there */
    assert_int_equal(script(lng, sizeof lng - 1, buf, &i, &a), 1);
    assert_int_equal(strlen(i), 98);
    assert_int_equal(strlen(a), EXEC_SCRIPT_HEADER - 101);
}

static uint8_t *image_bytes(size_t len, int fill)
{
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, fill, len);
    return p;
}

/* The exec cache: a hit while the file is the same, a miss once its ctime or size moved, the
 * least recently used leave first, an image in use outlives its eviction. */
static void test_exec_cache(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    pthread_mutex_lock(&job->lock);
    struct stat st = { .st_dev = 1, .st_ino = 10, .st_size = 4096 };
    st.st_ctim.tv_sec = 5;
    assert_null(exec_cache_get(job, &st));
    struct exec_image *a = exec_cache_add(job, &st, image_bytes(4096, 'a'), 4096, 4096);
    assert_non_null(a);
    struct exec_image *hit = exec_cache_get(job, &st);
    assert_ptr_equal(hit, a);
    assert_int_equal(hit->data[4095], 'a');
    exec_image_put(hit);
    st.st_ctim.tv_nsec = 1; /* written since */
    assert_null(exec_cache_get(job, &st));
    assert_int_equal(a->data[0], 'a'); /* evicted, still this exec's */
    exec_image_put(a);
    /* read while it shrank: this exec's alone */
    struct exec_image *b = exec_cache_add(job, &st, image_bytes(4096, 'b'), 4096, 100);
    assert_null(exec_cache_get(job, &st));
    exec_image_put(b);
    /* more files than entries: the first added and never used again leaves */
    for (unsigned i = 0; i <= EXEC_CACHE_ENTRIES; i++) {
        st.st_ino = 100 + i;
        exec_image_put(exec_cache_add(job, &st, image_bytes(4096, 'c'), 4096, 4096));
        if (i == 1) {
            st.st_ino = 100;
            exec_image_put(exec_cache_get(job, &st)); /* 100 used again: 101 is the oldest */
        }
    }
    st.st_ino = 100;
    struct exec_image *kept = exec_cache_get(job, &st);
    assert_non_null(kept);
    exec_image_put(kept);
    st.st_ino = 101;
    assert_null(exec_cache_get(job, &st));
    st.st_ino = 100 + EXEC_CACHE_ENTRIES;
    kept = exec_cache_get(job, &st);
    assert_non_null(kept);
    exec_image_put(kept);
    pthread_mutex_unlock(&job->lock);
    exec_cache_free(job);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_hc_known),
        T(test_hc_unknown),
        T(test_hc_protocol),
        T(test_hc_actions),
        T(test_write_read_bad_pointers),
        T(test_write_read_len0),
        T(test_write_read_null_len0),
        T(test_bad_fds),
        T(test_write_read_ok),
        T(test_writev_errors),
        T(test_writev_total_overflow),
        T(test_writev_readv_ok),
        T(test_writev_null_len0_segment),
        T(test_clock_gettime),
        T(test_nanosleep),
        T(test_clock_nanosleep_unknown_clock),
        T(test_getrandom),
        T(test_rt_sigaction),
        T(test_rt_sigprocmask),
        T(test_prlimit),
        T(test_readlink),
        T(test_arch_prctl),
        T(test_uname),
        T(test_exit),
        T(test_sysinfo),
        T(test_sched_affinity),
        T(test_prctl),
        T(test_mlock),
        T(test_fallocate_console),
        T(test_exec_script),
        T(test_exec_cache),
    };
    return cmocka_run_group_tests_name("syscalls", tests, NULL, NULL) ? 1 : 0;
}
