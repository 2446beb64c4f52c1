/* Unit tests for the syscall filter: profiles, allow/deny lists, errno defaults, and the three
 * actions applied by hypercall_handle (errno, kill with SIGSYS, log), hostile numbers included. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "firmware/abi.h"
#include "vmm/hypercall/hypercall.h"
#include "job_fixture.h"
#include "vmm/hypercall/syscall_filter.h"

#define U0   0x200000ull
#define E(x) ((int64_t)-(x))

/* The job's stdout (fd 1) writes into out[]. */
struct fix {
    struct job *job;
    int out[2];
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->job = fix_job_new();
    assert_int_equal(pipe2(f->out, O_CLOEXEC | O_NONBLOCK), 0);
    fix_fd(f->job, 1, f->out[1], CAP_R_WRITE | CAP_R_STAT);
    fix_map(f->job, U0, 4 * FIX_PG, GPERM_R | GPERM_W);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    close(f->out[0]);
    close(f->out[1]);
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

static struct isovm_hcblock *hcb(struct job *job)
{
    return (struct isovm_hcblock *)(void *)fix_host(job, ISOVM_HCBLOCK_GPA);
}

/* One syscall through the hypercall path; the handler's return value is in hcb(job)->ret. */
static int hc(struct job *job, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct isovm_hcblock *b = hcb(job);
    b->nr = nr;
    b->arg[0] = a0, b->arg[1] = a1, b->arg[2] = a2;
    b->arg[3] = b->arg[4] = b->arg[5] = 0;
    b->ret = 0xdeadbeef;
    b->action = 0;
    b->user_rip = 0x401234;
    struct vthread *t = &job->threads[0];
    t->vcpu.block_gpa = ISOVM_HCBLOCK_GPA;
    pthread_mutex_lock(&job->lock);
    int rc = hypercall_handle(job, t, ISOVM_HCBLOCK_GPA);
    pthread_mutex_unlock(&job->lock);
    return rc;
}

static void nr_set(uint64_t *map, unsigned nr) { map[nr / 64] |= 1ull << (nr % 64); }

/* Rebuild the job's filter after changing job->policy.syscalls. */
static void rebuild(struct job *job, enum syscall_profile p, enum syscall_action a, int err)
{
    job->policy.syscalls.profile = p;
    job->policy.syscalls.action = a;
    job->policy.syscalls.errno_value = err;
    assert_int_equal(syscall_filter_build(job), 0);
}

static unsigned allowed_count(const struct job *job)
{
    unsigned n = 0;
    for (unsigned nr = 0; nr < SYSCALL_TABLE_SIZE; nr++)
        n += syscall_filter_allows(job, nr);
    return n;
}

/* ---- building the allowlist ---- */

static void test_default_profile(void **state)
{
    struct job *job = ((struct fix *)*state)->job; /* the fixture built the default */
    unsigned implemented = 0;
    for (unsigned nr = 0; nr < SYSCALL_TABLE_SIZE; nr++) {
        assert_int_equal(syscall_filter_allows(job, nr), syscall_lookup(nr) != NULL);
        implemented += syscall_lookup(nr) != NULL;
    }
    assert_int_equal(allowed_count(job), implemented);
    assert_true(syscall_filter_allows(job, SYS_clone));
    assert_true(syscall_filter_allows(job, ISOVM_SYS_CAP_DERIVE));
    assert_true(syscall_filter_allows(job, ISOVM_SYS_CAP_INFO));
    assert_false(syscall_filter_allows(job, SYS_ptrace));
    assert_false(syscall_filter_allows(job, SYS_acct));
    assert_false(syscall_filter_allows(job, SYSCALL_TABLE_SIZE - 1));
    assert_false(syscall_filter_allows(job, SYSCALL_TABLE_SIZE));
    assert_false(syscall_filter_allows(job, 5000));
    assert_false(syscall_filter_allows(job, UINT64_MAX));
    assert_int_equal(job->filter_errno, ENOSYS);
}

static void test_deterministic_profile(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    rebuild(job, SCP_DETERMINISTIC, SCA_ERRNO, 0);
    assert_int_equal(job->filter_errno, EPERM);
    assert_int_equal(allowed_count(job), syscall_profile_deterministic_count); /* no duplicates */
    for (size_t i = 0; i < syscall_profile_deterministic_count; i++) {
        unsigned nr = syscall_profile_deterministic[i];
        assert_true(syscall_filter_allows(job, nr));
        assert_non_null(syscall_lookup(nr)); /* every listed syscall is one isovm implements */
    }
    const unsigned in[] = { SYS_read, SYS_write, SYS_openat, SYS_close, SYS_mmap, SYS_brk,
                            SYS_exit_group, SYS_clock_gettime, SYS_getrandom, SYS_futex,
                            SYS_rseq, ISOVM_SYS_CAP_DERIVE, ISOVM_SYS_CAP_REVOKE,
                            ISOVM_SYS_CAP_INFO };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        assert_true(syscall_filter_allows(job, in[i]));
    const unsigned out[] = { SYS_clone, SYS_clone3, SYS_kill, SYS_tkill, SYS_tgkill, SYS_socket,
                             SYS_fork, SYS_execve, SYS_truncate, SYS_chmod };
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
        assert_false(syscall_filter_allows(job, out[i]));
}

static void test_none_allow_deny(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    struct syscall_policy *sp = &job->policy.syscalls;
    rebuild(job, SCP_NONE, SCA_ERRNO, 0);
    assert_int_equal(allowed_count(job), 0);
    assert_int_equal(job->filter_errno, EPERM);

    nr_set(sp->allow, SYS_write);
    nr_set(sp->allow, SYS_exit);
    nr_set(sp->allow, 1023);          /* numbers isovm does not implement can be allowed */
    nr_set(sp->allow, SYS_getpid);
    nr_set(sp->deny, SYS_getpid);     /* deny wins over allow */
    rebuild(job, SCP_NONE, SCA_ERRNO, 0);
    assert_int_equal(allowed_count(job), 3);
    assert_true(syscall_filter_allows(job, SYS_write));
    assert_true(syscall_filter_allows(job, SYS_exit));
    assert_true(syscall_filter_allows(job, 1023));
    assert_false(syscall_filter_allows(job, SYS_getpid));

    /* the same lists over the default profile: deny takes one away, allow adds one */
    rebuild(job, SCP_DEFAULT, SCA_ERRNO, 0);
    assert_false(syscall_filter_allows(job, SYS_getpid));
    assert_true(syscall_filter_allows(job, 1023));
    assert_true(syscall_filter_allows(job, SYS_uname));
    /* over the deterministic one: deny clock_gettime, allow clone */
    memset(sp->allow, 0, sizeof sp->allow);
    memset(sp->deny, 0, sizeof sp->deny);
    nr_set(sp->allow, SYS_clone);
    nr_set(sp->deny, SYS_clock_gettime);
    rebuild(job, SCP_DETERMINISTIC, SCA_KILL, 0);
    assert_true(syscall_filter_allows(job, SYS_clone));
    assert_false(syscall_filter_allows(job, SYS_clock_gettime));
    assert_int_equal(allowed_count(job), syscall_profile_deterministic_count);
}

static void test_errno_values(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    rebuild(job, SCP_DEFAULT, SCA_ERRNO, EACCES);
    assert_int_equal(job->filter_errno, EACCES);
    rebuild(job, SCP_NONE, SCA_ERRNO, 4095);
    assert_int_equal(job->filter_errno, 4095);
    rebuild(job, SCP_DETERMINISTIC, SCA_KILL, 0);
    assert_int_equal(job->filter_errno, EPERM);
    const int bad[] = { -1, 4096, -EPERM, 1 << 30 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        job->policy.syscalls.errno_value = bad[i];
        assert_int_equal(syscall_filter_build(job), -EINVAL);
    }
    job->policy.syscalls.errno_value = 0;
    job->policy.syscalls.profile = (enum syscall_profile)7;
    assert_int_equal(syscall_filter_build(job), -EINVAL);
    job->policy.syscalls.profile = SCP_DEFAULT;
    job->policy.syscalls.action = (enum syscall_action)9;
    assert_int_equal(syscall_filter_build(job), -EINVAL);
}

/* ---- the actions, through hypercall_handle ---- */

static void test_errno_action(void **state)
{
    struct fix *f = *state;
    struct job *job = f->job;
    nr_set(job->policy.syscalls.deny, SYS_write);
    nr_set(job->policy.syscalls.deny, SYS_getpid);
    rebuild(job, SCP_DEFAULT, SCA_ERRNO, 0);
    memcpy(fix_host(job, U0), "hello", 5);
    assert_int_equal(hc(job, SYS_write, 1, U0, 5), 0);
    assert_int_equal((int64_t)hcb(job)->ret, E(ENOSYS)); /* default profile: ENOSYS */
    assert_int_equal(pending(f->out[0]), 0);             /* the handler did not run */
    assert_int_equal(job->stats.syscalls[SYS_write], 1); /* counted, whatever the answer */
    assert_int_equal(job->stats.filtered[SYS_write], 1);
    assert_int_equal(job->stats.denials[DENY_SYSCALL], 1);
    assert_int_equal(job->stats.unknown_total, 0);       /* write is implemented */
    assert_int_equal(job->stats.bytes_written, 0);

    rebuild(job, SCP_DEFAULT, SCA_ERRNO, EACCES);
    assert_int_equal(hc(job, SYS_getpid, 0, 0, 0), 0);
    assert_int_equal((int64_t)hcb(job)->ret, E(EACCES));
    rebuild(job, SCP_NONE, SCA_ERRNO, 0);
    assert_int_equal(hc(job, SYS_getpid, 0, 0, 0), 0);
    assert_int_equal((int64_t)hcb(job)->ret, E(EPERM));
    assert_int_equal(job->stats.filtered[SYS_getpid], 2);
    assert_int_equal(job->stats.denials[DENY_SYSCALL], 3);
    assert_int_equal(job->stats.hypercalls_total, 3);
    assert_int_equal(job->end, JOB_RUNNING);

    /* an allowed call still runs */
    nr_set(job->policy.syscalls.allow, SYS_uname);
    rebuild(job, SCP_NONE, SCA_ERRNO, 0);
    assert_int_equal(hc(job, SYS_uname, U0, 0, 0), 0);
    assert_int_equal(hcb(job)->ret, 0);
    assert_string_equal((char *)fix_host(job, U0), "Linux");
    assert_int_equal(job->stats.syscalls[SYS_uname], 1);
}

/* Run hc() with stderr captured into buf (one kill message). */
static int hc_capture(struct job *job, uint64_t nr, char *buf, size_t len)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(p[1], 2), 2);
    int rc = hc(job, nr, 0, 0, 0);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    ssize_t n = read(p[0], buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(p[0]);
    close(p[1]);
    return rc;
}

static void test_kill_action(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    nr_set(job->policy.syscalls.deny, SYS_getpid);
    rebuild(job, SCP_DEFAULT, SCA_KILL, 0);
    char msg[256];
    assert_int_equal(hc_capture(job, SYS_getpid, msg, sizeof msg), 1); /* the thread stops */
    assert_int_equal(hcb(job)->ret, 0xdeadbeef);                      /* no answer written */
    assert_int_equal(job->end, JOB_SIGNALED);
    assert_int_equal(job->exit_status, 159);
    assert_int_equal(job->signal, SIGSYS);
    assert_true(atomic_load(&job->stop));
    assert_int_equal(job->stats.filtered[SYS_getpid], 1);
    assert_int_equal(job->stats.denials[DENY_SYSCALL], 1);
    assert_int_equal(job->stats.syscalls[SYS_getpid], 1);
    assert_string_equal(msg, "isovm: job killed by SIGSYS: syscall getpid (39) blocked by the "
                             "syscall filter at rip 0x401234\n");
}

static void test_kill_hostile_numbers(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    rebuild(job, SCP_DEFAULT, SCA_KILL, 0);
    char msg[256];
    assert_int_equal(hc_capture(job, UINT64_MAX, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "syscall -1 blocked by the syscall filter"));
    assert_int_equal(job->exit_status, 159);
    assert_int_equal(job->stats.filtered_beyond, 1);
    /* the job has ended: a second refusal (another vCPU) changes neither status nor message */
    assert_int_equal(hc_capture(job, 5000, msg, sizeof msg), 1);
    assert_string_equal(msg, "");
    assert_int_equal(job->stats.filtered_beyond, 2);
    assert_int_equal(job->end, JOB_SIGNALED);
}

static void test_kill_names_unimplemented(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    rebuild(job, SCP_DEFAULT, SCA_KILL, 0);
    char msg[256];
    assert_int_equal(hc_capture(job, SYS_ptrace, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "syscall ptrace (101) blocked by the syscall filter"));
    assert_int_equal(job->stats.filtered[SYS_ptrace], 1);
    assert_int_equal(job->stats.unknown_total, 1);
}

static void test_kill_unnamed_number(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    rebuild(job, SCP_DEFAULT, SCA_KILL, 0);
    char msg[256];
    assert_int_equal(hc_capture(job, 1023, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "syscall 1023 blocked by the syscall filter"));
}

static void test_errno_hostile_numbers(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    rebuild(job, SCP_NONE, SCA_ERRNO, EACCES);
    const uint64_t nrs[] = { 5000, UINT64_MAX, SYSCALL_TABLE_SIZE, 1ull << 32, 1023, SYS_acct,
                             SYS_getpid };
    for (size_t i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
        assert_int_equal(hc(job, nrs[i], 0, 0, 0), 0);
        assert_int_equal((int64_t)hcb(job)->ret, E(EACCES));
    }
    struct job_stats *st = &job->stats;
    assert_int_equal(st->filtered_beyond, 4);
    assert_int_equal(st->filtered[1023], 1);
    assert_int_equal(st->filtered[SYS_acct], 1);
    assert_int_equal(st->filtered[SYS_getpid], 1);
    assert_int_equal(st->denials[DENY_SYSCALL], 7);
    assert_int_equal(st->unknown_total, 6); /* all but getpid are numbers isovm lacks */
    assert_int_equal(st->syscalls[SYS_getpid], 1);
    assert_int_equal(st->hypercalls_total, 7); /* = syscalls + unknown, as always */
    assert_int_equal(job->end, JOB_RUNNING);
}

static void test_log_action(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    nr_set(job->policy.syscalls.deny, SYS_getpid);
    rebuild(job, SCP_DEFAULT, SCA_LOG, 0);
    assert_int_equal(hc(job, SYS_getpid, 0, 0, 0), 0);
    assert_int_equal(hcb(job)->ret, 1); /* ran normally */
    assert_int_equal(job->stats.syscalls[SYS_getpid], 1);
    assert_int_equal(job->stats.filter_logged, 1);
    assert_int_equal(job->stats.filtered[SYS_getpid], 0);
    assert_int_equal(job->stats.denials[DENY_SYSCALL], 0);
    /* a number isovm lacks is logged, then fails as unknown */
    assert_int_equal(hc(job, 5000, 0, 0, 0), 0);
    assert_int_equal((int64_t)hcb(job)->ret, E(ENOSYS));
    assert_int_equal(job->stats.filter_logged, 2);
    assert_int_equal(job->stats.unknown_total, 1);
    assert_int_equal(job->stats.filtered_beyond, 0);
    /* allowed calls are not logged */
    assert_int_equal(hc(job, SYS_gettid, 0, 0, 0), 0);
    assert_int_equal(job->stats.filter_logged, 2);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(syscall_profile_name(SCP_DEFAULT), "default");
    assert_string_equal(syscall_profile_name(SCP_DETERMINISTIC), "deterministic");
    assert_string_equal(syscall_profile_name(SCP_NONE), "none");
    assert_string_equal(syscall_action_name(SCA_ERRNO), "errno");
    assert_string_equal(syscall_action_name(SCA_KILL), "kill");
    assert_string_equal(syscall_action_name(SCA_LOG), "log");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_default_profile),
        T(test_deterministic_profile),
        T(test_none_allow_deny),
        T(test_errno_values),
        T(test_errno_action),
        T(test_kill_action),
        T(test_kill_hostile_numbers),
        T(test_kill_names_unimplemented),
        T(test_kill_unnamed_number),
        T(test_errno_hostile_numbers),
        T(test_log_action),
        T(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
