/* Unit tests for deterministic jobs: the seeded generator's known answers and the virtual clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "firmware/abi.h"
#include "vmm/core/determinism.h"
#include "vmm/core/guest_mem.h"
#include "vmm/hypercall/hypercall.h"
#include "job_fixture.h"

#define PG   FIX_PG
#define U0   0x200000ull            /* 4 pages RW */
#define URO  (U0 + 4 * PG)          /* 1 page read-only */
#define E(x) ((int64_t)-(x))
#define SEC  1000000000ull
#define EPOCH_2000_S 946684800ll    /* 2000-01-01T00:00:00Z */

/* A job with the deterministic profile and seed 42 (determinism_init run), U0 mapped RW. */
static struct job *det_job(uint64_t seed, enum syscall_profile profile)
{
    struct job *job = fix_job_new();
    job->policy.syscalls.profile = profile;
    job->policy.seed = seed;
    determinism_init(job);
    fix_map(job, U0, 4 * PG, GPERM_R | GPERM_W);
    fix_map(job, URO, PG, GPERM_R);
    return job;
}

static int setup(void **state)
{
    *state = det_job(42, SCP_DETERMINISTIC);
    return 0;
}

static int teardown(void **state)
{
    fix_job_free(*state);
    return 0;
}

/* One syscall through hypercall_handle (as the guest makes it), the way test_syscalls does. */
static int64_t hc(struct job *job, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct isovm_hcblock *b = (struct isovm_hcblock *)(void *)fix_host(job, ISOVM_HCBLOCK_GPA);
    memset(b->arg, 0, sizeof b->arg);
    b->nr = nr;
    b->arg[0] = a0, b->arg[1] = a1, b->arg[2] = a2;
    b->action = 0;
    struct vthread *t = &job->threads[0];
    t->vcpu.block_gpa = ISOVM_HCBLOCK_GPA;
    pthread_mutex_lock(&job->lock);
    int rc = hypercall_handle(job, t, ISOVM_HCBLOCK_GPA);
    pthread_mutex_unlock(&job->lock);
    assert_int_equal(rc, 0);
    return (int64_t)b->ret;
}

static struct timespec ts_at(struct job *job, uint64_t gva)
{
    struct timespec ts;
    memcpy(&ts, fix_host(job, gva), sizeof ts);
    return ts;
}

static void put_ts(struct job *job, uint64_t gva, int64_t sec, long nsec)
{
    struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
    memcpy(fix_host(job, gva), &ts, sizeof ts);
}

/* ---- the generator ---- */

/* Reference values computed from the published splitmix64 and xoshiro256** algorithms (an
 * independent Python transcription), not from this C code. */
static void test_prng_known_answers(void **state)
{
    (void)state;
    uint64_t s[4];
    prng_seed(s, 0);
    /* splitmix64(0)'s first output is the published 0xe220a8397b1dcdaf */
    assert_int_equal(s[0], 0xe220a8397b1dcdafull);
    assert_int_equal(s[1], 0x6e789e6aa1b965f4ull);
    assert_int_equal(s[2], 0x06c45d188009454full);
    assert_int_equal(s[3], 0xf88bb8a8724c81ecull);
    assert_int_equal(prng_next(s), 0x99ec5f36cb75f2b4ull);
    assert_int_equal(prng_next(s), 0xbf6e1f784956452aull);

    prng_seed(s, 42);
    const uint64_t want42[4] = { 0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull,
                                 0xae17533239e499a1ull, 0xecb8ad4703b360a1ull };
    for (int i = 0; i < 4; i++)
        assert_int_equal(prng_next(s), want42[i]);

    prng_seed(s, 43);
    assert_int_equal(prng_next(s), 0x9067b493704a17c8ull);
}

static void test_prng_fill_bytes(void **state)
{
    (void)state;
    uint64_t s[4];
    prng_seed(s, 42);
    uint8_t buf[16];
    memset(buf, 0xee, sizeof buf);
    prng_fill(s, buf, 13); /* little-endian outputs; the tail takes the low bytes of the next */
    const uint8_t want[13] = { 0x16, 0xc7, 0x2e, 0x0c, 0x2e, 0x0b, 0x78, 0x15,
                               0x7e, 0x3a, 0x11, 0x6d, 0x86 };
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(buf[13], 0xee); /* nothing written past len */
    /* the rest of the tail output was dropped: the next call starts on a fresh output */
    assert_int_equal(prng_next(s), 0xae17533239e499a1ull);
    prng_fill(s, buf, 0);
}

static void test_init_from_policy(void **state)
{
    struct job *job = *state;
    assert_true(job->deterministic);
    assert_int_equal(job->vclock_ns, ISOVM_VCLOCK_START_NS);
    uint64_t s[4];
    prng_seed(s, 42);
    assert_memory_equal(job->rng_state, s, sizeof s);

    struct job *other = det_job(42, SCP_DEFAULT);
    assert_false(other->deterministic);
    fix_job_free(other);
    other = det_job(42, SCP_NONE);
    assert_false(other->deterministic);
    fix_job_free(other);
}

/* getrandom and AT_RANDOM (job_random_bytes) share one stream: same seed, same bytes. */
static void test_getrandom_seeded(void **state)
{
    struct job *job = *state;
    uint8_t at_random[16];
    assert_int_equal(job_random_bytes(job, at_random, sizeof at_random), 0);
    assert_int_equal(hc(job, SYS_getrandom, U0, 32, 0), 32);

    uint64_t s[4];
    prng_seed(s, 42);
    uint8_t want[48];
    prng_fill(s, want, 16);
    prng_fill(s, want + 16, 32);
    assert_memory_equal(at_random, want, 16);
    assert_memory_equal(fix_host(job, U0), want + 16, 32);

    /* flags and buffers are still checked */
    assert_int_equal(hc(job, SYS_getrandom, U0, 8, 0x80), E(EINVAL));
    assert_int_equal(hc(job, SYS_getrandom, URO, 8, 0), E(EFAULT));
    assert_int_equal(hc(job, SYS_getrandom, U0, 0, 0), 0);
    /* another seed, another stream */
    struct job *j43 = det_job(43, SCP_DETERMINISTIC);
    assert_int_equal(hc(j43, SYS_getrandom, U0, 32, 0), 32);
    assert_memory_not_equal(fix_host(j43, U0), want + 16, 32);
    fix_job_free(j43);
}

static void test_getrandom_host_when_not_deterministic(void **state)
{
    (void)state;
    struct job *job = det_job(42, SCP_DEFAULT);
    assert_int_equal(hc(job, SYS_getrandom, U0, 32, 0), 32);
    uint64_t s[4];
    prng_seed(s, 42);
    uint8_t seeded[32];
    prng_fill(s, seeded, sizeof seeded);
    assert_memory_not_equal(fix_host(job, U0), seeded, 32);
    fix_job_free(job);
}

/* ---- the virtual clock ---- */

static void test_clock_steps_per_hypercall(void **state)
{
    struct job *job = *state;
    assert_int_equal(hc(job, SYS_clock_gettime, CLOCK_MONOTONIC, U0, 0), 0);
    struct timespec a = ts_at(job, U0);
    assert_int_equal(a.tv_sec, 0);
    assert_int_equal(a.tv_nsec, ISOVM_VCLOCK_STEP_NS); /* the call itself was one step */
    for (int i = 0; i < 9; i++)
        hc(job, SYS_getpid, 0, 0, 0);
    assert_int_equal(hc(job, SYS_clock_gettime, CLOCK_MONOTONIC, U0, 0), 0);
    assert_int_equal(ts_at(job, U0).tv_nsec, 11 * ISOVM_VCLOCK_STEP_NS);
    /* a refused syscall is progress too, and an unknown one */
    assert_int_equal(hc(job, SYS_clock_gettime, 99, U0, 0), E(EINVAL));
    hc(job, 9999, 0, 0, 0);
    assert_int_equal(job->vclock_ns, 13 * ISOVM_VCLOCK_STEP_NS);
}

static void test_clock_ids(void **state)
{
    struct job *job = *state;
    job->vclock_ns = 5 * SEC + 123456789;
    const clockid_t mono[] = { CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE,
                               CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID };
    for (unsigned i = 0; i < sizeof mono / sizeof mono[0]; i++) {
        uint64_t before = job->vclock_ns;
        assert_int_equal(SC(job, sys_clock_gettime, (uint64_t)mono[i], U0), 0);
        struct timespec ts = ts_at(job, U0);
        assert_int_equal(ts.tv_sec, 5);
        assert_int_equal(ts.tv_nsec, 123456789);
        assert_int_equal(job->vclock_ns, before); /* reading never moves it (fix_callv: no step) */
    }
    const clockid_t real[] = { CLOCK_REALTIME, CLOCK_REALTIME_COARSE };
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(SC(job, sys_clock_gettime, (uint64_t)real[i], U0), 0);
        struct timespec ts = ts_at(job, U0);
        assert_int_equal(ts.tv_sec, EPOCH_2000_S + 5);
        assert_int_equal(ts.tv_nsec, 123456789);
    }
    assert_int_equal(SC(job, sys_clock_gettime, 99, U0), E(EINVAL));

    /* gettimeofday and time read the same virtual realtime */
    assert_int_equal(SC(job, sys_gettimeofday, U0, U0 + 64), 0);
    struct timeval tv;
    memcpy(&tv, fix_host(job, U0), sizeof tv);
    assert_int_equal(tv.tv_sec, EPOCH_2000_S + 5);
    assert_int_equal(tv.tv_usec, 123456);
    assert_int_equal(SC(job, sys_time, U0 + 32), EPOCH_2000_S + 5);
    int64_t t;
    memcpy(&t, fix_host(job, U0 + 32), sizeof t);
    assert_int_equal(t, EPOCH_2000_S + 5);
    assert_int_equal(SC(job, sys_time, URO), E(EFAULT));

    /* resolution: 1 ns for every clock, whatever the host's coarse clocks say */
    assert_int_equal(SC(job, sys_clock_getres, CLOCK_MONOTONIC_COARSE, U0), 0);
    struct timespec res = ts_at(job, U0);
    assert_int_equal(res.tv_sec, 0);
    assert_int_equal(res.tv_nsec, 1);
}

static void test_nanosleep_advances(void **state)
{
    struct job *job = *state;
    job->vclock_ns = SEC;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    put_ts(job, U0, 3600, 5); /* an hour: must return at once */
    assert_int_equal(SC(job, sys_nanosleep, U0, U0 + 16), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    assert_int_equal(job->vclock_ns, 3601 * SEC + 5);

    /* clock_nanosleep, relative */
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_MONOTONIC, 0, U0, 0), 0);
    assert_int_equal(job->vclock_ns, 7201 * SEC + 10);
    /* invalid requests are refused and do not move the clock */
    put_ts(job, U0 + 32, 0, 1000000000);
    assert_int_equal(SC(job, sys_nanosleep, U0 + 32, 0), E(EINVAL));
    put_ts(job, U0 + 32, -1, 0);
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_MONOTONIC, 0, U0 + 32, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_MONOTONIC, 2, U0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_nanosleep, URO + PG, 0), E(EFAULT));
    assert_int_equal(job->vclock_ns, 7201 * SEC + 10);
}

static void test_abstime_sleep(void **state)
{
    struct job *job = *state;
    job->vclock_ns = 10 * SEC;
    /* a monotonic deadline later than now: the clock moves to it */
    put_ts(job, U0, 15, 0);
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, U0, 0), 0);
    assert_int_equal(job->vclock_ns, 15 * SEC);
    /* a deadline in the past: no change */
    put_ts(job, U0, 12, 0);
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, U0, 0), 0);
    assert_int_equal(job->vclock_ns, 15 * SEC);
    /* a realtime deadline is on the virtual realtime clock (epoch 2000) */
    put_ts(job, U0, EPOCH_2000_S + 20, 7);
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, U0, 0), 0);
    assert_int_equal(job->vclock_ns, 20 * SEC + 7);
    /* a realtime deadline today (host time) is far in the virtual future: still no host wait */
    put_ts(job, U0, 1700000000, 0);
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, U0, 0), 0);
    assert_int_equal(job->vclock_ns, (uint64_t)(1700000000 - EPOCH_2000_S) * SEC);
    /* CPU-time clocks are not slept on, as without the profile */
    assert_int_equal(SC(job, sys_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, U0, 0), E(EINVAL));
}

/* Huge sleeps saturate: the clock never wraps back, not even by the next hypercall's step. */
static void test_clock_saturates(void **state)
{
    struct job *job = *state;
    put_ts(job, U0, INT64_MAX, 999999999);
    assert_int_equal(SC(job, sys_nanosleep, U0, 0), 0);
    assert_int_equal(job->vclock_ns, UINT64_MAX);
    assert_int_equal(hc(job, SYS_getpid, 0, 0, 0), 1);
    assert_int_equal(job->vclock_ns, UINT64_MAX);
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_REALTIME, U0), 0);
    struct timespec ts = ts_at(job, U0);
    assert_int_equal((uint64_t)ts.tv_sec, UINT64_MAX / SEC); /* saturated too, not wrapped */
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_MONOTONIC, U0), 0);
    assert_true(ts_at(job, U0).tv_sec > 0);
}

/* Without the profile: the host's clocks, no virtual time. */
static void test_host_clock_when_not_deterministic(void **state)
{
    (void)state;
    struct job *job = det_job(42, SCP_DEFAULT);
    hc(job, SYS_getpid, 0, 0, 0);
    assert_int_equal(job->vclock_ns, 0);
    assert_int_equal(SC(job, sys_clock_gettime, CLOCK_REALTIME, U0), 0);
    assert_true(ts_at(job, U0).tv_sec > 1600000000); /* a host date, after 2020 */
    fix_job_free(job);
}

/* Identity: the fixed values a deterministic job sees. */
static void test_identity(void **state)
{
    struct job *job = *state;
    assert_int_equal(hc(job, SYS_getpid, 0, 0, 0), 1);
    assert_int_equal(hc(job, SYS_gettid, 0, 0, 0), 1);
    assert_int_equal(hc(job, SYS_getppid, 0, 0, 0), 0);
    assert_int_equal(hc(job, SYS_getuid, 0, 0, 0), 0);
    assert_int_equal(hc(job, SYS_getegid, 0, 0, 0), 0);
    assert_int_equal(hc(job, SYS_uname, U0, 0, 0), 0);
    assert_string_equal((char *)fix_host(job, U0), "Linux");
    assert_string_equal((char *)fix_host(job, U0 + 65), "isovm");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prng_known_answers),
        cmocka_unit_test(test_prng_fill_bytes),
        cmocka_unit_test_setup_teardown(test_init_from_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_getrandom_seeded, setup, teardown),
        cmocka_unit_test(test_getrandom_host_when_not_deterministic),
        cmocka_unit_test_setup_teardown(test_clock_steps_per_hypercall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nanosleep_advances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abstime_sleep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_saturates, setup, teardown),
        cmocka_unit_test(test_host_clock_when_not_deterministic),
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
