/* Unit tests for the limits a job runs under: CPU quota bookkeeping, descriptor slots, thread
 * refusal and clone argument checks, futex argument checks and wake logic, I/O admission. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "limits/cpu_quota.h"
#include "vmm/sys/sys_futex.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/sys/io_admit.h"
#include "job_fixture.h"

#define PG   FIX_PG
#define U0   0x200000ull            /* 4 pages RW */
#define URO  (U0 + 4 * PG)          /* read-only page */
#define E(x) ((int64_t)-(x))
#define MS   1000000ull

/* ---- CPU quota ---- */

static void test_quota_unlimited(void **state)
{
    (void)state;
    struct cpu_quota q;
    uint64_t next;
    cpu_quota_init(&q, 0, 100 * MS, 1000, 0);
    assert_false(cpu_quota_step(&q, 5000 * MS, 5000 * MS, 1, &next));
    assert_int_equal(next, UINT64_MAX); /* nothing to look at: no wake-ups, no exits */
}

static void test_quota_throttles_and_releases(void **state)
{
    (void)state;
    struct cpu_quota q;
    uint64_t next, t0 = 1000 * MS;
    cpu_quota_init(&q, 25 * MS, 100 * MS, t0, 0);
    /* 10 ms in with 10 ms used: look again when the rest could be spent (15 ms). */
    assert_false(cpu_quota_step(&q, t0 + 10 * MS, 10 * MS, 1, &next));
    assert_int_equal(next, t0 + 25 * MS);
    /* Two vCPUs spend it twice as fast. */
    assert_false(cpu_quota_step(&q, t0 + 10 * MS, 10 * MS, 2, &next));
    assert_int_equal(next, t0 + 10 * MS + 15 * MS / 2);
    /* Spent: held until the period ends. */
    assert_true(cpu_quota_step(&q, t0 + 25 * MS, 25 * MS, 1, &next));
    assert_int_equal(next, t0 + 100 * MS);
    assert_int_equal(q.throttled_periods, 1);
    assert_true(cpu_quota_step(&q, t0 + 50 * MS, 25 * MS, 1, &next));
    assert_int_equal(q.throttled_periods, 1); /* one throttle per period */
    /* The next period releases it; the throttled time is counted. */
    assert_false(cpu_quota_step(&q, t0 + 100 * MS, 25 * MS, 1, &next));
    assert_int_equal(q.throttled_ns, 75 * MS);
    assert_int_equal(next, t0 + 125 * MS);
}

static void test_quota_overshoot_repaid(void **state)
{
    (void)state;
    struct cpu_quota q;
    uint64_t next, t0 = 0;
    cpu_quota_init(&q, 25 * MS, 100 * MS, t0, 0);
    /* Seen late: 27 ms used. The next period allows 23 ms. */
    assert_true(cpu_quota_step(&q, t0 + 27 * MS, 27 * MS, 1, &next));
    assert_false(cpu_quota_step(&q, t0 + 100 * MS, 27 * MS, 1, &next));
    assert_int_equal(q.debt, 2 * MS);
    assert_false(cpu_quota_step(&q, t0 + 122 * MS, 49 * MS, 1, &next));
    assert_true(cpu_quota_step(&q, t0 + 123 * MS, 50 * MS, 1, &next));
    /* Over many periods the share is the quota exactly. */
    cpu_quota_init(&q, 25 * MS, 100 * MS, 0, 0);
    uint64_t cpu = 0, now = 0;
    for (int period = 0; period < 100; period++) {
        uint64_t start = now;
        while (!cpu_quota_step(&q, now, cpu, 1, &next)) {
            uint64_t run = next - now + 300000; /* every check comes 0.3 ms late */
            now += run;
            cpu += run;
        }
        now = start + 100 * MS;
    }
    cpu_quota_step(&q, now, cpu, 1, &next);
    uint64_t avg = cpu / 100;
    assert_true(avg >= 25 * MS - 50000 && avg <= 25 * MS + 50000);
}

static void test_quota_debt_bounded(void **state)
{
    (void)state;
    struct cpu_quota q;
    uint64_t next;
    cpu_quota_init(&q, 10 * MS, 100 * MS, 0, 0);
    /* The VMM was not scheduled for ages: a huge overshoot costs at most one quota. */
    assert_true(cpu_quota_step(&q, 90 * MS, 5000 * MS, 1, &next));
    assert_false(cpu_quota_step(&q, 100 * MS, 5000 * MS, 1, &next)); /* a new period... */
    assert_true(q.debt < q.quota_ns);
    assert_true(cpu_quota_step(&q, 101 * MS, 5001 * MS, 1, &next)); /* ...almost all owed */
    /* Periods missed entirely: the grid restarts rather than running behind. */
    cpu_quota_step(&q, 10000 * MS, 5000 * MS, 1, &next);
    assert_true(q.period_end > 10000 * MS && q.period_end <= 10100 * MS);
}

/* ---- descriptors ---- */

static void test_dup_until_emfile(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    fix_fd(job, 1, 1, CAP_R_WRITE | CAP_R_STAT);
    job->procs[0].fds_open = 1;
    for (unsigned i = 1; i < job->procs[0].fds_max; i++) {
        int64_t fd = SC(job, sys_dup, 1);
        assert_true(fd >= 0);
    }
    assert_int_equal(job->procs[0].fds_open, job->procs[0].fds_max);
    assert_int_equal(SC(job, sys_dup, 1), E(EMFILE));
    assert_int_equal(SC(job, sys_fcntl, 1, F_DUPFD, 0), E(EMFILE));
    assert_int_equal(SC(job, sys_fcntl, 1, F_DUPFD, job->procs[0].fds_max), E(EINVAL));
    assert_int_equal(job->stats.caps_refused, 2);
    assert_int_equal(job->stats.denied[SYS_dup], 1);
    assert_int_equal(job->stats.denied[SYS_fcntl], 1);
    assert_int_equal(job->stats.caps_peak, job->procs[0].fds_max);
    /* dup2 beyond the table is EBADF (as beyond RLIMIT_NOFILE) and counted. */
    assert_int_equal(SC(job, sys_dup2, 1, job->procs[0].fds_max), E(EBADF));
    assert_int_equal(SC(job, sys_dup2, 1, UINT64_MAX), E(EBADF));
    assert_int_equal(job->stats.caps_refused, 4);
    /* A closed slot is reused, lowest first, and the closed number loses its authority. */
    assert_int_equal(SC(job, sys_close, 5), 0);
    assert_int_equal(SC(job, sys_write, 5, U0, 1), E(EBADF));
    assert_int_equal(SC(job, sys_dup, 1), 5);
    /* dup3 refuses the same number and unknown flags. */
    assert_int_equal(SC(job, sys_dup3, 1, 1, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_dup3, 1, 2, 0x1), E(EINVAL));
    assert_int_equal(SC(job, sys_dup3, 1, 2, O_CLOEXEC), 2);
    assert_int_equal(SC(job, sys_fcntl, 2, F_GETFD), FD_CLOEXEC);
    assert_int_equal(SC(job, sys_dup, 99), E(EBADF));
    fix_job_free(job);
}

/* ---- threads ---- */

static void test_clone_refusals(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    fix_map(job, U0, 4 * PG, GPERM_R | GPERM_W);
    fix_map(job, URO, PG, GPERM_R);
    const uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                            CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                            CLONE_CHILD_CLEARTID;
    /* Processes: an address space shared between processes (CLONE_VM without CLONE_VFORK),
     * tables shared between them, namespaces, an exit signal past 64. */
    assert_int_equal(SC(job, sys_clone, CLONE_VM | 0x11, U0, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clone, CLONE_FILES | 0x11, 0, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clone, CLONE_FS | 0x11, 0, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clone, CLONE_SIGHAND | CLONE_VM | CLONE_VFORK, 0, 0, 0, 0),
                     E(EINVAL));
    assert_int_equal(SC(job, sys_clone, CLONE_NEWPID | 0x11, 0, 0, 0, 0), E(EPERM));
    assert_int_equal(SC(job, sys_clone, CLONE_NEWUSER, 0, 0, 0, 0), E(EPERM));
    assert_int_equal(SC(job, sys_clone, 65, 0, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clone, CLONE_PARENT_SETTID | 0x11, 0, URO, 0, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_clone, CLONE_CHILD_SETTID | 0x11, 0, 0, ISOVM_FW_CODE_GPA, 0),
                     E(EFAULT));
    /* At max_processes (the first process counts): EAGAIN, counted, nothing made. */
    job->policy.max_processes = 1;
    assert_int_equal(SC(job, sys_fork, 0), E(EAGAIN));
    assert_int_equal(SC(job, sys_vfork, 0), E(EAGAIN));
    assert_int_equal(SC(job, sys_clone, 0x11, 0, 0, 0, 0), E(EAGAIN));
    assert_int_equal(job->stats.procs_refused, 3);
    assert_int_equal(job->stats.denied[SYS_fork], 1);
    assert_int_equal(job->stats.denied[SYS_clone], 1);
    assert_int_equal(job->stats.procs_created, 1); /* the first process only */
    assert_int_equal(job->procs[1].state, PROC_FREE);
    job->stats.denied[SYS_clone] = 0;
    /* A thread without CLONE_SIGHAND, with an exit signal, or unknown flags. */
    assert_int_equal(SC(job, sys_clone, CLONE_VM | CLONE_THREAD, U0, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clone, thread | 0x11, U0, U0, U0, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_clone, thread | CLONE_NEWNS, U0, U0, U0, U0), E(EINVAL));
    assert_int_equal(SC(job, sys_clone, thread | CLONE_PTRACE, U0, U0, U0, U0), E(EINVAL));
    /* TLS outside user space; tid pointers that are not writable user memory. */
    assert_int_equal(SC(job, sys_clone, thread, U0, U0, U0, 1ull << 47), E(EPERM));
    assert_int_equal(SC(job, sys_clone, thread, U0, URO, U0, U0), E(EFAULT));
    assert_int_equal(SC(job, sys_clone, thread, U0, ISOVM_FW_CODE_GPA, U0, U0), E(EFAULT));
    assert_int_equal(SC(job, sys_clone, thread, U0, U0, UINT64_MAX - 1, U0), E(EFAULT));
    assert_int_equal(job->stats.threads_refused, 0);
    /* At max_threads: EAGAIN, counted, nothing created. */
    job->policy.max_threads = 1;
    assert_int_equal(SC(job, sys_clone, thread, U0, U0, U0, U0), E(EAGAIN));
    assert_int_equal(job->stats.threads_refused, 1);
    assert_int_equal(job->stats.denied[SYS_clone], 1);
    assert_int_equal(job->stats.threads_created, 0);
    assert_int_equal(job->threads_live, 1);
    assert_int_equal(job->threads[1].state, VT_FREE);
    fix_job_free(job);
}

static void test_exit_wakes_clear_child_tid(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    fix_map(job, U0, 4 * PG, GPERM_R | GPERM_W);
    /* A second thread is "running" and waits on U0 (as pthread_join does on the tid word). */
    struct vthread *waiter = &job->threads[1];
    waiter->state = VT_RUNNING;
    waiter->futex_waiting = true;
    waiter->futex_addr = U0;
    waiter->futex_bitset = FUTEX_BITSET_ANY;
    job->threads_live = 2;
    job->procs[0].threads_live = 2;
    *(uint32_t *)fix_host(job, U0) = 77;
    assert_int_equal(SC(job, sys_set_tid_address, U0), 1);
    assert_true(SC(job, sys_exit, 3) == SC_STOP);
    assert_int_equal(*(uint32_t *)fix_host(job, U0), 0);
    assert_true(waiter->futex_woken);
    assert_int_equal(job->end, JOB_RUNNING); /* one thread is left */
    assert_int_equal(job->threads_live, 1);
    fix_job_free(job);
}

/* A futex is its process's: a wake in one process never reaches a waiter of another at the same
 * virtual address (after a fork both have the same layout). */
static void test_futex_per_process(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    fix_map(job, U0, PG, GPERM_R | GPERM_W);
    struct vthread *other = &job->threads[1];
    job->procs[1].state = PROC_LIVE;
    job->procs[1].pid = 2;
    other->proc = &job->procs[1];
    other->state = VT_RUNNING;
    other->futex_waiting = true;
    other->futex_addr = U0;
    other->futex_bitset = FUTEX_BITSET_ANY;
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAKE, 1, 0, 0, 0), 0);
    assert_false(other->futex_woken);
    assert_int_equal(futex_wake_addr(job, &job->procs[1], U0, 1, FUTEX_BITSET_ANY), 1);
    assert_true(other->futex_woken);
    other->state = VT_FREE;
    job->procs[1].state = PROC_FREE;
    fix_job_free(job);
}

/* ---- futex ---- */

static void test_futex_args(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    fix_map(job, U0, 4 * PG, GPERM_R | GPERM_W);
    fix_map(job, URO, PG, GPERM_R);
    *(uint32_t *)fix_host(job, U0) = 5;
    /* Value changed: EAGAIN at once. Unaligned: EINVAL. Not user memory: EFAULT. */
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAIT_PRIVATE, 4, 0, 0, 0), E(EAGAIN));
    assert_int_equal(SC(job, sys_futex, U0 + 2, FUTEX_WAIT, 5, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_futex, ISOVM_FW_CODE_GPA, FUTEX_WAKE, 1, 0, 0, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_futex, UINT64_MAX - 3, FUTEX_WAKE, 1, 0, 0, 0), E(EFAULT));
    /* Bad timeouts are refused before sleeping; a zero bitset is invalid. */
    uint64_t *ts = (uint64_t *)fix_host(job, U0 + 64);
    ts[0] = 0, ts[1] = 1000000000;
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAIT, 5, U0 + 64, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAIT, 5, ISOVM_FW_CODE_GPA, 0, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAIT_BITSET, 5, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAKE_BITSET, 1, 0, 0, 0), E(EINVAL));
    /* A short timeout expires (the only thread, nobody wakes it). */
    ts[0] = 0, ts[1] = 2000000;
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAIT, 5, U0 + 64, 0, 0), E(ETIMEDOUT));
    /* Wake with nobody waiting; unknown and PI operations. */
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAKE, 10, 0, 0, 0), 0);
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_LOCK_PI, 0, 0, 0, 0), E(ENOSYS));
    assert_int_equal(SC(job, sys_futex, U0, 99, 0, 0, 0, 0), E(ENOSYS));
    /* CMP_REQUEUE compares; WAKE_OP needs a writable second word. */
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_CMP_REQUEUE, 1, 1, U0 + 4, 6), E(EAGAIN));
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAKE_OP, 1, 1, URO, 0), E(EFAULT));
    fix_job_free(job);
}

static void test_futex_wake_requeue_op(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    fix_map(job, U0, 4 * PG, GPERM_R | GPERM_W);
    for (unsigned i = 1; i <= 3; i++) {
        struct vthread *t = &job->threads[i];
        t->state = VT_RUNNING;
        t->futex_waiting = true;
        t->futex_addr = U0;
        t->futex_bitset = i == 3 ? 0x2 : FUTEX_BITSET_ANY;
    }
    job->threads_live = 4;
    /* Bitset wake only reaches matching waiters. */
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAKE_BITSET, 10, 0, 0, 0x2), 3);
    for (unsigned i = 1; i <= 3; i++)
        job->threads[i].futex_woken = false;
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAKE_BITSET, 10, 0, 0, 0x4), 2);
    for (unsigned i = 1; i <= 3; i++)
        job->threads[i].futex_woken = false;
    /* Requeue: wake 1, move up to 1 to U0+4. */
    *(uint32_t *)fix_host(job, U0) = 9;
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_CMP_REQUEUE, 1, 1, U0 + 4, 9), 2);
    assert_true(job->threads[1].futex_woken);
    assert_int_equal(job->threads[2].futex_addr, U0 + 4);
    assert_int_equal(job->threads[3].futex_addr, U0);
    /* WAKE_OP: *U0+4 += 3 (old 10 > 5): wake 0 on U0, 1 on U0+4. */
    *(uint32_t *)fix_host(job, U0 + 4) = 10;
    uint32_t op = ((uint32_t)FUTEX_OP_ADD << 28) | ((uint32_t)FUTEX_OP_CMP_GT << 24) | (3u << 12) | 5u;
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAKE_OP, 0, 1, U0 + 4, op), 1);
    assert_int_equal(*(uint32_t *)fix_host(job, U0 + 4), 13);
    assert_true(job->threads[2].futex_woken);
    /* An out-of-range shift is refused and writes nothing. */
    op = ((uint32_t)(FUTEX_OP_SET | 8) << 28) | (40u << 12);
    assert_int_equal(SC(job, sys_futex, U0, FUTEX_WAKE_OP, 0, 1, U0 + 4, op), E(EINVAL));
    assert_int_equal(*(uint32_t *)fix_host(job, U0 + 4), 13);
    fix_job_free(job);
}

/* ---- I/O admission ---- */

static void test_io_admit(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    struct sc_call call = { .nr = 1, .self = &job->threads[0] };
    const struct sc_call *c = &call;
    /* No limit: everything at once, no throttled time. */
    pthread_mutex_lock(&job->lock);
    assert_int_equal(io_admit(job, c, NULL, true, true, 1 << 20), 1 << 20);
    assert_int_equal(job->stats.write_throttled_ns, 0);
    /* 64 KiB per 20 ms: the first 64 KiB pass and empty the bucket, the next piece is admitted
     * once half a bucket has come back, 10 ms after it was emptied (whatever time a slow run,
     * e.g. under valgrind, spent in between counts towards it), in pieces no larger than the
     * bucket. The time counted as throttled is the part of that wait left when the call came. */
    struct bucket_cfg cfg = { .size = 64 << 10, .refill_time_ns = 20 * MS };
    uint64_t now = mono_ns();
    tb_init(&job->io_write.bytes, &cfg, now);
    assert_int_equal(io_admit(job, c, NULL, true, true, 1 << 20), 64 << 10);
    uint64_t t0 = mono_ns();
    int64_t got = io_admit(job, c, NULL, true, false, 1 << 20);
    uint64_t t1 = mono_ns(), owed = t0 - now < 10 * MS ? 10 * MS - (t0 - now) : 0;
    assert_true(got >= 32 << 10 && got <= 64 << 10);
    assert_true(t1 - now >= 9 * MS);
    assert_true(job->stats.write_throttled_ns + MS >= owed);
    assert_true(job->stats.write_throttled_ns <= t1 - t0);
    /* Unused tokens come back. */
    io_refund(job, true, (uint64_t)got);
    assert_int_equal(io_admit(job, c, NULL, true, false, (uint64_t)got), got);
    /* The job's end cuts a wait short. */
    atomic_store(&job->stop, true);
    assert_int_equal(io_admit(job, c, NULL, true, false, 1 << 20), E(EINTR));
    pthread_mutex_unlock(&job->lock);
    fix_job_free(job);
}

/* A call holding a capability that expires while it waits for the throttle stops at the
 * deadline with -EKEYEXPIRED (it does not sleep on to the tokens), and the expiry is final. */
static void test_io_admit_expiry(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    struct sc_call call = { .nr = 1, .self = &job->threads[0] };
    pthread_mutex_lock(&job->lock);
    int host = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(host >= 0);
    uint64_t now = mono_ns();
    int slot = cap_create(job->caps, CAP_NONE, CAP_FILE, CAP_FROM_GRANT, CAP_R_WRITE,
                          now + 30 * MS, host, "/out/f");
    assert_true(slot >= 0);
    struct cap_hold h;
    assert_int_equal(cap_hold_begin(job, (uint32_t)slot, &h), 0);
    assert_int_equal(job->holds_expiring, 1);
    /* 4 KiB per second, the bucket empty: the next 2 KiB would come after half a second */
    struct bucket_cfg cfg = { .size = 4 << 10, .refill_time_ns = 1000 * MS };
    tb_init(&job->io_write.bytes, &cfg, now);
    assert_int_equal(io_admit(job, &call, &h, true, false, 4 << 10), 4 << 10);
    uint64_t t0 = mono_ns();
    assert_int_equal(io_admit(job, &call, &h, true, false, 4 << 10), E(EKEYEXPIRED));
    uint64_t waited = mono_ns() - t0;
    assert_true(waited < 400 * MS);          /* the deadline, not the tokens */
    assert_true(mono_ns() >= now + 30 * MS);
    assert_true(job->caps->caps[slot].revoked && job->caps->caps[slot].expired);
    assert_true(cap_hold_revoked(job, &h));
    assert_int_equal(cap_hold_live(job, &call, &h), E(EKEYEXPIRED));
    cap_hold_end(job, &h);
    assert_int_equal(job->holds_expiring, 0);
    pthread_mutex_unlock(&job->lock);
    fix_job_free(job);
}

/* The supervisor ends a held capability at its deadline and answers the next one due. */
static void test_caps_expire_held(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    pthread_mutex_lock(&job->lock);
    uint64_t now = mono_ns();
    int s1 = cap_create(job->caps, CAP_NONE, CAP_FILE, CAP_FROM_GRANT, CAP_R_READ, now + 1000 * MS,
                        open("/dev/null", O_RDONLY | O_CLOEXEC), "/a");
    int s2 = cap_create(job->caps, CAP_NONE, CAP_FILE, CAP_FROM_GRANT, CAP_R_READ, now + 5000 * MS,
                        open("/dev/null", O_RDONLY | O_CLOEXEC), "/b");
    assert_true(s1 >= 0 && s2 >= 0);
    assert_int_equal(caps_expire_held(job, now), UINT64_MAX); /* nothing held */
    struct cap_hold h1, h2;
    assert_int_equal(cap_hold_begin(job, (uint32_t)s1, &h1), 0);
    assert_int_equal(cap_hold_begin(job, (uint32_t)s2, &h2), 0);
    assert_int_equal(caps_expire_held(job, now), now + 1000 * MS);
    assert_int_equal(caps_expire_held(job, now + 2000 * MS), now + 5000 * MS);
    assert_true(job->caps->caps[s1].revoked && job->caps->caps[s1].expired);
    assert_false(job->caps->caps[s2].revoked);
    assert_true(h1.fd >= 0 && fcntl(h1.fd, F_GETFD) >= 0); /* open until the call lets go */
    cap_hold_end(job, &h1);
    cap_hold_end(job, &h2);
    pthread_mutex_unlock(&job->lock);
    fix_job_free(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quota_unlimited),
        cmocka_unit_test(test_quota_throttles_and_releases),
        cmocka_unit_test(test_quota_overshoot_repaid),
        cmocka_unit_test(test_quota_debt_bounded),
        cmocka_unit_test(test_dup_until_emfile),
        cmocka_unit_test(test_clone_refusals),
        cmocka_unit_test(test_exit_wakes_clear_child_tid),
        cmocka_unit_test(test_futex_per_process),
        cmocka_unit_test(test_futex_args),
        cmocka_unit_test(test_futex_wake_requeue_op),
        cmocka_unit_test(test_io_admit),
        cmocka_unit_test(test_io_admit_expiry),
        cmocka_unit_test(test_caps_expire_held),
    };
    return cmocka_run_group_tests_name("limits", tests, NULL, NULL) ? 1 : 0;
}
