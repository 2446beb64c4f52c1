/* Time syscalls: clocks read on the host and sleeps taken on the host, or for a deterministic job
 * the virtual clock (determinism.h); guest buffers checked. */
#include <errno.h>
#include <time.h>
#include <sys/time.h>
#include "vmm/core/determinism.h"
#include "vmm/sys/sys.h"

/* Map a Linux clock id the job may read to the host clock. -EINVAL for others. */
static int clock_map(uint64_t id, clockid_t *out)
{
    switch (id) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
        *out = (clockid_t)id;
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
        /* The job's CPU time is the vCPU thread's. */
        *out = CLOCK_THREAD_CPUTIME_ID;
        return 0;
    default:
        return -EINVAL;
    }
}

/* The job's clock `guest_id` (mapped by clock_map to the host's `id`) now: the host's clock, or
 * a deterministic job's virtual clock. */
static struct timespec clock_now(struct job *job, clockid_t guest_id, clockid_t id)
{
    if (job->deterministic)
        return ns_ts(vclock_read(job, guest_id));
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts;
}

int64_t sys_clock_gettime(struct job *job, struct sc_call *c)
{
    clockid_t id;
    int rc = clock_map(c->a[0], &id);
    if (rc)
        return rc;
    struct timespec ts = clock_now(job, (clockid_t)c->a[0], id);
    return gmem_copy_to(sc_gm(c), c->a[1], &ts, sizeof ts);
}

int64_t sys_clock_getres(struct job *job, struct sc_call *c)
{
    clockid_t id;
    int rc = clock_map(c->a[0], &id);
    if (rc)
        return rc;
    if (c->a[1] == 0)
        return 0;
    struct timespec ts = { .tv_sec = 0, .tv_nsec = 1 }; /* the virtual clock counts ns */
    if (!job->deterministic)
        clock_getres(id, &ts);
    return gmem_copy_to(sc_gm(c), c->a[1], &ts, sizeof ts);
}

int64_t sys_gettimeofday(struct job *job, struct sc_call *c)
{
    if (c->a[0]) {
        struct timespec ts = clock_now(job, CLOCK_REALTIME, CLOCK_REALTIME);
        struct timeval tv = { .tv_sec = ts.tv_sec, .tv_usec = ts.tv_nsec / 1000 };
        int rc = gmem_copy_to(sc_gm(c), c->a[0], &tv, sizeof tv);
        if (rc)
            return rc;
    }
    if (c->a[1]) {
        const int tz[2] = { 0, 0 }; /* UTC, no DST */
        return gmem_copy_to(sc_gm(c), c->a[1], tz, sizeof tz);
    }
    return 0;
}

int64_t sys_time(struct job *job, struct sc_call *c)
{
    int64_t now = clock_now(job, CLOCK_REALTIME, CLOCK_REALTIME).tv_sec;
    if (c->a[0]) {
        int rc = gmem_copy_to(sc_gm(c), c->a[0], &now, sizeof now);
        if (rc)
            return rc;
    }
    return now;
}

static int timespec_import(struct job *job, const struct sc_call *c, uint64_t gva, struct timespec *ts)
{
    (void)job;
    int rc = gmem_copy_from(sc_gm(c), ts, gva, sizeof *ts);
    if (rc)
        return rc;
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
        return -EINVAL;
    return 0;
}

/* A timespec the caller has checked, in ns, saturating instead of wrapping. */
static uint64_t ts_ns_sat(const struct timespec *ts)
{
    if ((uint64_t)ts->tv_sec >= UINT64_MAX / 1000000000ull)
        return UINT64_MAX;
    return ts_ns(ts);
}

/* A deterministic job's sleep takes no host time: it moves the virtual clock (relative: by the
 * duration; absolute: to the deadline when later) and returns at once. */
static int64_t sleep_virtual(struct job *job, clockid_t id, int flags, const struct timespec *req)
{
    vclock_sleep(job, id, flags & TIMER_ABSTIME, ts_ns_sat(req));
    return 0;
}

/* Sleep with job->lock released, so the job's other threads go on. The job's end cuts it
 * short (the thread is stopped then, so the remaining time never reaches the job); so does a
 * signal whose handler is to run: -EINTR, and a relative sleep's time left written to rem_gva
 * (if not 0), as Linux does. */
static int64_t sleep_on_host(struct job *job, struct sc_call *c, clockid_t id, int flags,
                             const struct timespec *req, uint64_t rem_gva)
{
    uint64_t want = ts_ns(req);
    if ((uint64_t)req->tv_sec > UINT64_MAX / 2000000000ull)
        want = UINT64_MAX / 2;
    uint64_t deadline = (flags & TIMER_ABSTIME) ? mono_deadline(id, want) : mono_ns() + want;
    int rc = job_sleep_until(job, c->self, deadline);
    if (rc == -EINTR && rem_gva && !(flags & TIMER_ABSTIME) && !thread_stopping(c->self)) {
        uint64_t now = mono_ns();
        struct timespec rem = ns_ts(deadline > now ? deadline - now : 0);
        if (gmem_copy_to(sc_gm(c), rem_gva, &rem, sizeof rem))
            return -EFAULT;
    }
    return rc;
}

int64_t sys_nanosleep(struct job *job, struct sc_call *c)
{
    struct timespec req;
    int rc = timespec_import(job, c, c->a[0], &req);
    if (rc)
        return rc;
    if (job->deterministic)
        return sleep_virtual(job, CLOCK_MONOTONIC, 0, &req);
    return sleep_on_host(job, c, CLOCK_MONOTONIC, 0, &req, c->a[1]);
}

int64_t sys_clock_nanosleep(struct job *job, struct sc_call *c)
{
    clockid_t id;
    switch (c->a[0]) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME:
        id = (clockid_t)c->a[0];
        break;
    case CLOCK_THREAD_CPUTIME_ID:
        return -EINVAL;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE: case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
    case CLOCK_TAI:
        return -EOPNOTSUPP; /* known clocks isovm does not sleep on */
    default:
        return -EINVAL;
    }
    if (c->a[1] & ~(uint64_t)TIMER_ABSTIME)
        return -EINVAL;
    struct timespec req;
    int rc = timespec_import(job, c, c->a[2], &req);
    if (rc)
        return rc;
    if (job->deterministic)
        return sleep_virtual(job, id, (int)c->a[1], &req);
    return sleep_on_host(job, c, id, (int)c->a[1], &req, c->a[3]);
}
