/* Timers that signal: alarm, setitimer and getitimer, the POSIX timers (timer_create and the rest), fired by the supervisor. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>
#include "vmm/sys/sys.h"

#define NS_PER_SEC    1000000000ull
#define SIGEV_SIGNAL_K    0
#define SIGEV_NONE_K      1
#define SIGEV_THREAD_K    2
#define SIGEV_THREAD_ID_K 4
/* The least time between two looks at a CPU-time timer not yet due (its process's threads may
 * all be running: the time left is shared among them). */
#define TIMER_CPU_LOOK_NS 1000000ull
/* The shortest interval of a periodic timer: the supervisor wakes for each expiry (overruns are
 * counted then), so a job may not make it spin. */
#define TIMER_MIN_INTERVAL_NS 100000ull

static const int itimer_sig[PROC_ITIMERS] = { SIGALRM, SIGVTALRM, SIGPROF };

static struct vthread *live_thread(struct job *job, const struct proc *p, int tid)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        struct vthread *t = &job->threads[i];
        if (t->proc == p && t->tid == tid && t->state == VT_RUNNING)
            return t;
    }
    return NULL;
}

/* Where tm's clock stands now (mono: CLOCK_MONOTONIC now). false when it no longer runs (a
 * thread CPU clock's thread has ended). */
static bool timer_now(struct job *job, const struct proc *p, const struct proc_timer *tm,
                      uint64_t mono, uint64_t *now)
{
    if (!tm->cpu) {
        *now = mono;
        return true;
    }
    if (tm->cpu_tid) {
        const struct vthread *t = live_thread(job, p, tm->cpu_tid);
        if (!t)
            return false;
        *now = thread_cpu_ns(t);
        return true;
    }
    *now = proc_cpu_ns(job, p);
    return true;
}

static uint64_t add_sat(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

/* Is tm's signal still pending, its own record (not one a kill of the same signal put in
 * its place)? */
static bool timer_sig_pending(struct job *job, const struct proc *p, const struct proc_timer *tm,
                              int id)
{
    uint64_t bit = 1ull << (tm->sig - 1);
    const struct sig_rec *r = &p->sig_rec[tm->sig - 1];
    if ((p->sig_pending & bit) && r->code == SIG_SI_TIMER && r->pid == id)
        return true;
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        const struct vthread *t = &job->threads[i];
        r = &t->sig_rec[tm->sig - 1];
        if (t->proc == p && (t->sig_pending & bit) && r->code == SIG_SI_TIMER && r->pid == id)
            return true;
    }
    return false;
}

/* tm (id: a POSIX timer's, -1 - which for an interval timer) of p expired, `times` times since
 * it was last looked at: its signal is sent, or its overrun counted while the last one is still
 * pending. SC_STOP-free: the supervisor sends it (no calling thread). */
static void timer_fire(struct job *job, struct proc *p, struct proc_timer *tm, int id,
                       uint64_t times)
{
    if (!tm->sig)
        return;
    uint32_t extra = times - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(times - 1);
    if (id >= 0 && tm->queued && timer_sig_pending(job, p, tm, id)) {
        uint64_t o = (uint64_t)tm->overrun + times;
        tm->overrun = o > INT32_MAX ? INT32_MAX : (uint32_t)o;
        return;
    }
    struct vthread *t = NULL;
    if (tm->target && !(t = live_thread(job, p, tm->target)))
        return; /* its thread has ended: Linux's timer signals nobody then */
    struct sig_rec r = { .code = SIG_SI_KERNEL };
    if (id >= 0) {
        tm->overrun = extra;
        tm->queued = true;
        r = (struct sig_rec){ .code = SIG_SI_TIMER, .pid = id, .status = 0, .addr = tm->value };
    }
    sig_send(job, NULL, p, t, tm->sig, &r);
}

/* Look at tm of p now: fire it if due and set its next expiry. Returns when to look again
 * (CLOCK_MONOTONIC ns; UINT64_MAX: never). */
static uint64_t timer_step(struct job *job, struct proc *p, struct proc_timer *tm, int id,
                           uint64_t mono)
{
    uint64_t now;
    if (!tm->next || !timer_now(job, p, tm, mono, &now))
        return UINT64_MAX;
    if (now >= tm->next) {
        uint64_t times = 1;
        if (tm->interval) {
            uint64_t late = now - tm->next;
            times += late / tm->interval;
            tm->next = add_sat(tm->next, times * tm->interval);
        } else {
            tm->next = 0;
        }
        timer_fire(job, p, tm, id, times);
        if (!tm->next || atomic_load(&p->killed) || p->state != PROC_LIVE)
            return UINT64_MAX;
    }
    if (!tm->cpu)
        return tm->next;
    uint64_t left = tm->next - now; /* CPU time: at best all its threads run */
    unsigned n = p->threads_live ? p->threads_live : 1;
    left /= tm->cpu_tid ? 1 : n;
    return mono + (left < TIMER_CPU_LOOK_NS ? TIMER_CPU_LOOK_NS : left);
}

uint64_t sig_timers_step(struct job *job, uint64_t mono)
{
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < ISOVM_MAX_PROCS; i++) {
        struct proc *p = &job->procs[i];
        for (int k = 0; k < PROC_ITIMERS + PROC_TIMERS_MAX; k++) {
            if (p->state != PROC_LIVE || atomic_load(&p->killed))
                break;
            bool itimer = k < PROC_ITIMERS;
            struct proc_timer *tm = itimer ? &p->itimer[k] : &p->timers[k - PROC_ITIMERS];
            if (!itimer && !tm->used)
                continue;
            uint64_t w = timer_step(job, p, tm, itimer ? -1 - k : k - PROC_ITIMERS, mono);
            if (w < next)
                next = w;
        }
    }
    return next;
}

void sig_timer_taken(struct job *job, struct vthread *t, struct sig_rec *r)
{
    (void)job;
    if (r->code != SIG_SI_TIMER || r->pid < 0 || r->pid >= PROC_TIMERS_MAX)
        return;
    struct proc_timer *tm = &t->proc->timers[r->pid];
    if (!tm->used || !tm->queued)
        return;
    tm->queued = false;
    tm->overrun_last = tm->overrun;
    tm->overrun = 0;
    r->status = (int32_t)tm->overrun_last;
}

void sig_timers_exec(struct proc *p)
{
    memset(p->timers, 0, sizeof p->timers);
}

/* ---- setting and reading one ------------------------------------------------------------ */

/* Arm tm: the first expiry `value` ns from now (abs: at `value` on its clock), then every
 * `interval` ns; value 0 disarms it. The supervisor looks again. */
static void timer_arm(struct job *job, struct proc *p, struct proc_timer *tm, uint64_t value,
                      uint64_t interval, bool abs)
{
    tm->interval = interval && interval < TIMER_MIN_INTERVAL_NS ? TIMER_MIN_INTERVAL_NS : interval;
    tm->overrun = 0;
    if (!value) {
        tm->next = 0;
        return;
    }
    uint64_t now;
    if (!timer_now(job, p, tm, mono_ns(), &now)) {
        tm->next = 0;
        return;
    }
    if (abs && !tm->cpu)
        tm->next = mono_deadline((clockid_t)tm->clock, value); /* REALTIME's: as of now */
    else
        tm->next = abs ? value : add_sat(now, value);
    if (!tm->next)
        tm->next = 1; /* already due */
    job_notify_supervisor(job);
}

/* What is left of tm before it expires (0: disarmed), and its interval. */
static void timer_left(struct job *job, const struct proc *p, const struct proc_timer *tm,
                       uint64_t *left, uint64_t *interval)
{
    uint64_t now;
    *interval = tm->interval;
    *left = 0;
    if (!tm->next || !timer_now(job, p, tm, mono_ns(), &now))
        return;
    *left = tm->next > now ? tm->next - now : 1; /* due and not yet fired: Linux says 1 ns */
}

/* A timeval or timespec the job passed: in range, as ns (saturated), or -EINVAL. */
static int time_import(int64_t sec, int64_t frac, uint64_t per_sec, uint64_t *ns)
{
    if (sec < 0 || frac < 0 || (uint64_t)frac >= per_sec)
        return -EINVAL;
    uint64_t f = (uint64_t)frac * (NS_PER_SEC / per_sec);
    if ((uint64_t)sec > (UINT64_MAX - f) / NS_PER_SEC)
        *ns = UINT64_MAX / 2;
    else
        *ns = (uint64_t)sec * NS_PER_SEC + f;
    return 0;
}

/* ---- interval timers: setitimer, getitimer, alarm ---------------------------------------- */

/* tm's time left and interval as the itimerval getitimer and setitimer write at gva (Linux
 * rounds a value left below one microsecond up to one, so that it reads as armed). 0 or
 * -EFAULT. */
static int itimerval_put(struct job *job, const struct sc_call *c, const struct proc_timer *tm,
                         uint64_t gva)
{
    uint64_t left, interval;
    timer_left(job, sc_proc(c), tm, &left, &interval);
    uint64_t l_us = left ? (left + 999) / 1000 : 0;
    uint64_t i_us = (interval + 999) / 1000;
    int64_t out[4] = { (int64_t)(i_us / 1000000), (int64_t)(i_us % 1000000),
                       (int64_t)(l_us / 1000000), (int64_t)(l_us % 1000000) };
    return gmem_copy_to(sc_gm(c), gva, out, sizeof out) ? -EFAULT : 0;
}

static struct proc_timer *itimer_of(struct proc *p, uint64_t which)
{
    if (which >= PROC_ITIMERS)
        return NULL;
    struct proc_timer *tm = &p->itimer[which];
    tm->sig = itimer_sig[which];
    tm->cpu = which != ITIMER_REAL;
    tm->clock = which == ITIMER_REAL ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
    return tm;
}

int64_t sys_getitimer(struct job *job, struct sc_call *c)
{
    struct proc_timer *tm = itimer_of(sc_proc(c), c->a[0]);
    return tm ? itimerval_put(job, c, tm, c->a[1]) : -EINVAL;
}

/* A deterministic job (its virtual clock) has no timer that fires by the host's: its profile
 * allows none of these calls, and one its policy allows anyway fails with EPERM. */
static bool timers_allowed(const struct job *job) { return !job->deterministic; }

int64_t sys_setitimer(struct job *job, struct sc_call *c)
{
    struct proc *p = sc_proc(c);
    if (!timers_allowed(job))
        return -EPERM;
    struct proc_timer *tm = itimer_of(p, c->a[0]);
    if (!tm)
        return -EINVAL;
    int64_t in[4] = { 0, 0, 0, 0 }; /* a NULL new value disarms it, as Linux takes it */
    uint64_t value, interval;
    if (c->a[1] && gmem_copy_from(sc_gm(c), in, c->a[1], sizeof in))
        return -EFAULT;
    int rc = time_import(in[0], in[1], 1000000, &interval);
    if (rc || (rc = time_import(in[2], in[3], 1000000, &value)))
        return rc;
    if (c->a[2] && (rc = itimerval_put(job, c, tm, c->a[2])))
        return rc;
    timer_arm(job, p, tm, value, value ? interval : 0, false);
    return 0;
}

int64_t sys_alarm(struct job *job, struct sc_call *c)
{
    struct proc *p = sc_proc(c);
    if (!timers_allowed(job))
        return -EPERM;
    struct proc_timer *tm = itimer_of(p, ITIMER_REAL);
    uint64_t left, interval;
    timer_left(job, p, tm, &left, &interval);
    uint64_t secs = (uint32_t)c->a[0];
    timer_arm(job, p, tm, secs * NS_PER_SEC, 0, false);
    /* the seconds left of the one before, rounded to the nearest; one if any was left */
    uint64_t was = (left + NS_PER_SEC / 2) / NS_PER_SEC;
    return (int64_t)(left && !was ? 1 : was);
}

/* ---- POSIX timers ---------------------------------------------------------------------------- */

static struct proc_timer *posix_timer(struct proc *p, uint64_t id)
{
    if (id >= PROC_TIMERS_MAX || !p->timers[id].used)
        return NULL;
    return &p->timers[id];
}

int64_t sys_timer_create(struct job *job, struct sc_call *c)
{
    struct proc *p = sc_proc(c);
    if (!timers_allowed(job))
        return -EPERM;
    struct proc_timer tm = { .used = true, .clock = (int)(int32_t)c->a[0] };
    switch ((int32_t)c->a[0]) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME:
        break;
    case CLOCK_PROCESS_CPUTIME_ID:
        tm.cpu = true;
        break;
    case CLOCK_THREAD_CPUTIME_ID:
        tm.cpu = true;
        tm.cpu_tid = c->self->tid;
        break;
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM: case CLOCK_TAI:
        return -EOPNOTSUPP; /* known clocks isovm keeps no timers on */
    default:
        return -EINVAL; /* others, and another process's or thread's CPU clock */
    }
    int id = -1;
    for (int i = 0; i < PROC_TIMERS_MAX && id < 0; i++)
        if (!p->timers[i].used)
            id = i;
    if (c->a[1]) {
        /* struct sigevent: sigev_value (8), sigev_signo, sigev_notify, then the thread id */
        struct { uint64_t value; int32_t signo, notify, tid; } ev;
        if (gmem_copy_from(sc_gm(c), &ev, c->a[1], sizeof ev))
            return -EFAULT;
        int how = ev.notify & ~SIGEV_THREAD_ID_K;
        if (how != SIGEV_SIGNAL_K && how != SIGEV_NONE_K && how != SIGEV_THREAD_K)
            return -EINVAL;
        if (how != SIGEV_NONE_K && (ev.signo < 1 || ev.signo > 64))
            return -EINVAL;
        if (ev.notify & SIGEV_THREAD_ID_K) {
            if (!live_thread(job, p, ev.tid))
                return -EINVAL; /* a thread of the caller's process only, as Linux asks */
            tm.target = ev.tid;
        }
        tm.sig = how == SIGEV_NONE_K ? 0 : ev.signo;
        tm.value = ev.value;
    } else { /* Linux's default: SIGALRM to the process, the timer's id as its value */
        tm.sig = SIGALRM;
        tm.value = id < 0 ? 0 : (uint64_t)id;
    }
    if (id < 0)
        return -EAGAIN;
    int32_t out = id;
    if (gmem_copy_to(sc_gm(c), c->a[2], &out, sizeof out))
        return -EFAULT;
    p->timers[id] = tm;
    return 0;
}

/* tm's time left and interval as the itimerspec timer_gettime and timer_settime write at gva.
 * 0 or -EFAULT. */
static int itimerspec_put(struct job *job, const struct sc_call *c, const struct proc_timer *tm,
                          uint64_t gva)
{
    uint64_t left, interval;
    timer_left(job, sc_proc(c), tm, &left, &interval);
    int64_t out[4] = { (int64_t)(interval / NS_PER_SEC), (int64_t)(interval % NS_PER_SEC),
                       (int64_t)(left / NS_PER_SEC), (int64_t)(left % NS_PER_SEC) };
    return gmem_copy_to(sc_gm(c), gva, out, sizeof out) ? -EFAULT : 0;
}

int64_t sys_timer_settime(struct job *job, struct sc_call *c)
{
    struct proc *p = sc_proc(c);
    struct proc_timer *tm = posix_timer(p, c->a[0]);
    if (!tm)
        return -EINVAL;
    /* flags: TIMER_ABSTIME; the rest ignored, as Linux does */
    int64_t in[4];
    uint64_t value, interval;
    if (gmem_copy_from(sc_gm(c), in, c->a[2], sizeof in))
        return -EFAULT;
    int rc = time_import(in[0], in[1], NS_PER_SEC, &interval);
    if (rc || (rc = time_import(in[2], in[3], NS_PER_SEC, &value)))
        return rc;
    if (c->a[3] && (rc = itimerspec_put(job, c, tm, c->a[3])))
        return rc;
    timer_arm(job, p, tm, value, value ? interval : 0, c->a[1] & TIMER_ABSTIME);
    return 0;
}

int64_t sys_timer_gettime(struct job *job, struct sc_call *c)
{
    struct proc_timer *tm = posix_timer(sc_proc(c), c->a[0]);
    return tm ? itimerspec_put(job, c, tm, c->a[1]) : -EINVAL;
}

int64_t sys_timer_getoverrun(struct job *job, struct sc_call *c)
{
    (void)job;
    struct proc_timer *tm = posix_timer(sc_proc(c), c->a[0]);
    return tm ? (int64_t)tm->overrun_last : -EINVAL;
}

int64_t sys_timer_delete(struct job *job, struct sc_call *c)
{
    (void)job;
    struct proc_timer *tm = posix_timer(sc_proc(c), c->a[0]);
    if (!tm)
        return -EINVAL;
    memset(tm, 0, sizeof *tm); /* a signal of its already pending stays so */
    return 0;
}
