/* Timers that signal and waiting for signals (issue 17 part 5): alarm, setitimer (real, virtual,
 * prof), POSIX timers (SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID, the C library's SIGEV_THREAD,
 * CPU-time clocks, overruns, the per-process limit), rt_sigtimedwait, sigqueue, a sleep cut
 * short with the time left, ppoll's mask, a fork's child without its parent's timers.
 * Prints one line per check, then "all checks passed".
 *   timer_test            every check
 *   timer_test alarm-kill an interval timer's SIGALRM with no handler ends the job (142)
 *   timer_test fast-timer isovm only: a 1 ns period taken as 100 us, its overruns counted */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static volatile sig_atomic_t got, got_sig, got_code, got_value, got_overrun, got_pid, got_tid;
static volatile long got_getoverrun = -2;
static volatile long overrun_timer = -1; /* the handler asks timer_getoverrun of this one */

static volatile sig_atomic_t got_overrun_max;

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
    got_pid = si->si_pid;
    got_tid = (sig_atomic_t)syscall(SYS_gettid);
    if (si->si_code == SI_TIMER)
        got_overrun = si->si_overrun;
    if (got_overrun > got_overrun_max)
        got_overrun_max = got_overrun;
    if (overrun_timer >= 0)
        got_getoverrun = syscall(SYS_timer_getoverrun, overrun_timer);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    got++; /* last: a thread waiting for it sees the fields (the handler may run on another) */
}

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void reset(void)
{
    got = got_sig = got_code = got_value = got_overrun = got_pid = got_tid = got_overrun_max = 0;
}

static uint64_t now_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void block(int sig, int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

/* Wait (in short sleeps) until `n` signals have run, at most 5 s. */
static void wait_for(int n)
{
    sigset_t none;
    sigemptyset(&none);
    uint64_t until = now_ns(CLOCK_MONOTONIC) + 5000000000ull;
    while (got < n && now_ns(CLOCK_MONOTONIC) < until) {
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
}

static void check_alarm(void)
{
    handle(SIGALRM);
    CHECK("alarm: none before", alarm(10) == 0, "alarm(10) said one was armed");
    unsigned left = alarm(0);
    CHECK("alarm: the seconds left of the one before", left == 10, "got %u, want 10", left);
    reset();
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    alarm(1);
    pause();
    uint64_t took = now_ns(CLOCK_MONOTONIC) - t0;
    CHECK("alarm(1): SIGALRM's handler ends pause", got == 1 && got_sig == SIGALRM,
          "got %d signals, last %d", (int)got, (int)got_sig);
    CHECK("alarm(1): about a second", took >= 900000000ull && took < 5000000000ull,
          "took %llu ns", (unsigned long long)took);
    CHECK("alarm: si_code SI_KERNEL", got_code == SI_KERNEL, "si_code %d", (int)got_code);
}

static void check_itimer_real(void)
{
    handle(SIGALRM);
    reset();
    struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, cur, old;
    CHECK("setitimer(ITIMER_REAL, 20 ms)", setitimer(ITIMER_REAL, &it, NULL) == 0, "%s", strerror(errno));
    CHECK("getitimer: the interval", getitimer(ITIMER_REAL, &cur) == 0 &&
          cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 20000 &&
          cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 20000,
          "interval %ld.%06ld value %ld.%06ld", (long)cur.it_interval.tv_sec,
          (long)cur.it_interval.tv_usec, (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
    wait_for(5);
    CHECK("ITIMER_REAL: periodic, 5 expiries", got >= 5, "got %d", (int)got);
    struct itimerval zero = { { 0, 0 }, { 0, 0 } };
    CHECK("setitimer: the old value back", setitimer(ITIMER_REAL, &zero, &old) == 0 &&
          old.it_interval.tv_usec == 20000, "old interval %ld", (long)old.it_interval.tv_usec);
    getitimer(ITIMER_REAL, &cur);
    CHECK("setitimer(0): disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0,
          "value %ld.%06ld", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
    int n = got;
    struct timespec ts = { 0, 60000000 };
    nanosleep(&ts, NULL);
    CHECK("setitimer(0): no more expiries", got == n, "got %d more", (int)got - n);
    struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
    CHECK_ERRNO("setitimer: tv_usec 1000000", setitimer(ITIMER_REAL, &bad, NULL), EINVAL);
    CHECK_ERRNO("setitimer: which 7", syscall(SYS_setitimer, 7, &it, NULL), EINVAL);
    CHECK_ERRNO("getitimer: a bad pointer", syscall(SYS_getitimer, ITIMER_REAL, (void *)8), EFAULT);
}

static void spin_until_got(int n, uint64_t max_cpu_ns)
{
    uint64_t c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    while (got < n && now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 < max_cpu_ns)
        for (volatile int i = 0; i < 10000; i++)
            ;
}

static void check_itimer_cpu(void)
{
    static const struct { int which, sig; const char *name; } kinds[] = {
        { ITIMER_VIRTUAL, SIGVTALRM, "ITIMER_VIRTUAL" }, { ITIMER_PROF, SIGPROF, "ITIMER_PROF" } };
    for (int k = 0; k < 2; k++) {
        handle(kinds[k].sig);
        reset();
        struct itimerval it = { { 0, 0 }, { 0, 50000 } };
        setitimer(kinds[k].which, &it, NULL);
        struct timespec ts = { 0, 100000000 }; /* asleep: no CPU time */
        nanosleep(&ts, NULL);
        int early = got;
        uint64_t c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        spin_until_got(1, 3000000000ull);
        uint64_t used = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
        char name[64];
        snprintf(name, sizeof name, "%s 50 ms: not while asleep, after CPU time", kinds[k].name);
        CHECK(name, !early && got == 1 && got_sig == kinds[k].sig && used >= 20000000ull,
              "%d during a 100 ms sleep; got %d (sig %d) after %llu ns of CPU", early, (int)got,
              (int)got_sig, (unsigned long long)used);
    }
}

static int timer_new(clockid_t clock, int notify, int sig, int value, int tid, timer_t *id)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = notify;
    ev.sigev_signo = sig;
    ev.sigev_value.sival_int = value;
#ifdef sigev_notify_thread_id
    ev.sigev_notify_thread_id = tid;
#else
    ev._sigev_un._tid = tid;
#endif
    int kid = -1;
    /* the call itself: the C libraries' wrappers differ for SIGEV_THREAD_ID */
    long r = syscall(SYS_timer_create, clock, &ev, &kid);
    *id = (timer_t)(intptr_t)kid;
    return (int)r;
}

static int tset(timer_t id, int flags, long value_ns, long interval_ns, struct itimerspec *old)
{
    struct itimerspec it = { { interval_ns / 1000000000, interval_ns % 1000000000 },
                             { value_ns / 1000000000, value_ns % 1000000000 } };
    return (int)syscall(SYS_timer_settime, (intptr_t)id, flags, &it, old);
}

static int tget(timer_t id, struct itimerspec *cur) { return (int)syscall(SYS_timer_gettime, (intptr_t)id, cur); }
static int tdel(timer_t id) { return (int)syscall(SYS_timer_delete, (intptr_t)id); }

static void check_posix_signal(void)
{
    handle(SIGUSR1);
    reset();
    timer_t id;
    CHECK("timer_create(MONOTONIC, SIGEV_SIGNAL SIGUSR1)",
          timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 42, 0, &id) == 0, "%s", strerror(errno));
    CHECK("timer_settime: 20 ms once", tset(id, 0, 20000000, 0, NULL) == 0, "%s", strerror(errno));
    wait_for(1);
    CHECK("the timer's signal: SI_TIMER, its sigval", got == 1 && got_sig == SIGUSR1 &&
          got_code == SI_TIMER && got_value == 42, "got %d sig %d code %d value %d", (int)got,
          (int)got_sig, (int)got_code, (int)got_value);
    struct itimerspec cur;
    CHECK("timer_gettime: once, expired", tget(id, &cur) == 0 && cur.it_value.tv_sec == 0 &&
          cur.it_value.tv_nsec == 0, "value %ld.%09ld", (long)cur.it_value.tv_sec,
          (long)cur.it_value.tv_nsec);
    /* overruns: its signal blocked while it expires every 10 ms */
    block(SIGUSR1, SIG_BLOCK);
    reset();
    tset(id, 0, 10000000, 10000000, NULL);
    struct timespec ts = { 0, 120000000 };
    nanosleep(&ts, NULL);
    overrun_timer = (intptr_t)id;
    block(SIGUSR1, SIG_UNBLOCK); /* the handler runs here */
    overrun_timer = -1;
    tset(id, 0, 0, 0, NULL);
    CHECK("blocked meanwhile: one signal, its overrun counted", got >= 1 && got_overrun >= 4,
          "got %d, si_overrun %d", (int)got, (int)got_overrun);
    CHECK("timer_getoverrun: the taken signal's", got_getoverrun == got_overrun,
          "got %ld, want %d", got_getoverrun, (int)got_overrun);
    /* an absolute time on CLOCK_REALTIME */
    timer_t rid;
    reset();
    timer_new(CLOCK_REALTIME, SIGEV_SIGNAL, SIGUSR1, 7, 0, &rid);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    long long at = (long long)rt.tv_sec * 1000000000ll + rt.tv_nsec + 30000000ll;
    struct itimerspec abs = { { 0, 0 }, { at / 1000000000ll, at % 1000000000ll } };
    CHECK("timer_settime: TIMER_ABSTIME on REALTIME",
          syscall(SYS_timer_settime, (intptr_t)rid, TIMER_ABSTIME, &abs, NULL) == 0, "%s",
          strerror(errno));
    wait_for(1);
    CHECK("TIMER_ABSTIME: fired", got == 1 && got_value == 7, "got %d value %d", (int)got,
          (int)got_value);
    CHECK("timer_delete", tdel(id) == 0 && tdel(rid) == 0, "%s", strerror(errno));
    CHECK_ERRNO("timer_settime of a deleted timer", tset(id, 0, 1000, 0, NULL), EINVAL);
    CHECK_ERRNO("timer_gettime of an unknown id", syscall(SYS_timer_gettime, 12345, &cur), EINVAL);
    CHECK_ERRNO("timer_delete of an unknown id", syscall(SYS_timer_delete, -1), EINVAL);
    CHECK_ERRNO("timer_getoverrun of an unknown id", syscall(SYS_timer_getoverrun, 99), EINVAL);
}

static void check_posix_misc(void)
{
    timer_t id;
    struct itimerspec cur;
    CHECK("timer_create(SIGEV_NONE)", timer_new(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id) == 0,
          "%s", strerror(errno));
    tset(id, 0, 10000000000l, 0, NULL);
    tget(id, &cur);
    CHECK("SIGEV_NONE: timer_gettime counts down", cur.it_value.tv_sec == 9 ||
          (cur.it_value.tv_sec == 10 && cur.it_value.tv_nsec == 0), "value %ld.%09ld",
          (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);
    tdel(id);
    /* (a SIGEV_SIGNAL one: some hosts' kernels keep a SIGEV_NONE timer armed at a zero value) */
    handle(SIGUSR1);
    timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 0, 0, &id);
    tset(id, 0, 10000000000l, 0, NULL);
    struct itimerspec old;
    tset(id, 0, 0, 0, &old);
    int r = tget(id, &cur);
    CHECK("timer_settime: old value, then disarmed", r == 0 && old.it_value.tv_sec >= 9 &&
          cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "old %ld now %ld.%09ld",
          (long)old.it_value.tv_sec, (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);
    struct itimerspec bad = { { 0, 0 }, { 0, 1000000000 } };
    CHECK_ERRNO("timer_settime: tv_nsec 1e9", syscall(SYS_timer_settime, (intptr_t)id, 0, &bad, NULL), EINVAL);
    CHECK_ERRNO("timer_settime: a bad pointer", syscall(SYS_timer_settime, (intptr_t)id, 0, (void *)8, NULL), EFAULT);
    tdel(id);
    timer_t x;
    CHECK_ERRNO("timer_create: signal 65", timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL, 65, 0, 0, &x), EINVAL);
    CHECK_ERRNO("timer_create: notify 99", timer_new(CLOCK_MONOTONIC, 99, SIGUSR1, 0, 0, &x), EINVAL);
    CHECK_ERRNO("timer_create: clock 99", timer_new(99, SIGEV_SIGNAL, SIGUSR1, 0, 0, &x), EINVAL);
    CHECK_ERRNO("timer_create: SIGEV_THREAD_ID of no thread",
                timer_new(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGUSR1, 0, 999999, &x), EINVAL);
    struct sigevent ev = { .sigev_notify = SIGEV_NONE };
    CHECK_ERRNO("timer_create: a bad id pointer",
                syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, (void *)8), EFAULT);
    /* the per-process limit (Linux's is RLIMIT_SIGPENDING; isovm's 32): EAGAIN past it */
    timer_t many[64];
    int n = 0;
    r = 0;
    while (n < 64 && (r = timer_new(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &many[n])) == 0)
        n++;
    int e = errno;
    CHECK("timer_create: a limit, then EAGAIN", (n == 64 && r == 0) || (r == -1 && e == EAGAIN),
          "%d made, then %d (%s)", n, r, strerror(e));
    for (int i = 0; i < n; i++)
        tdel(many[i]);
}

static volatile sig_atomic_t worker_tid, worker_stop;

static void *worker(void *arg)
{
    (void)arg;
    worker_tid = (sig_atomic_t)syscall(SYS_gettid);
    while (!worker_stop) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static volatile sig_atomic_t thread_cb;
static void on_thread_timer(union sigval v) { thread_cb = v.sival_int; }

static void check_posix_threads(void)
{
    handle(SIGUSR2);
    reset();
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    while (!worker_tid)
        sched_yield();
    timer_t id;
    CHECK("timer_create(SIGEV_THREAD_ID)", timer_new(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGUSR2,
          5, worker_tid, &id) == 0, "%s", strerror(errno));
    tset(id, 0, 20000000, 0, NULL);
    wait_for(1);
    CHECK("SIGEV_THREAD_ID: the handler ran on that thread", got == 1 && got_tid == worker_tid &&
          got_code == SI_TIMER, "got %d on thread %d (want %d), code %d", (int)got, (int)got_tid,
          (int)worker_tid, (int)got_code);
    tdel(id);
    worker_stop = 1;
    pthread_join(th, NULL);
    /* the C library's SIGEV_THREAD: its helper thread waits (sigwaitinfo) for a signal sent to
     * it with SIGEV_THREAD_ID, and calls the function */
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_thread_timer;
    ev.sigev_value.sival_int = 99;
    timer_t tid;
    CHECK("timer_create(SIGEV_THREAD) (the C library's)", timer_create(CLOCK_MONOTONIC, &ev, &tid) == 0,
          "%s", strerror(errno));
    struct itimerspec it = { { 0, 0 }, { 0, 20000000 } };
    timer_settime(tid, 0, &it, NULL);
    uint64_t until = now_ns(CLOCK_MONOTONIC) + 5000000000ull;
    while (thread_cb != 99 && now_ns(CLOCK_MONOTONIC) < until) {
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    CHECK("SIGEV_THREAD: its function ran with the sigval", thread_cb == 99, "got %d", (int)thread_cb);
    timer_delete(tid);
}

static void check_posix_cpu(void)
{
    handle(SIGUSR1);
    static const struct { clockid_t clock; const char *name; } clocks[] = {
        { CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID" },
        { CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID" } };
    for (int k = 0; k < 2; k++) {
        reset();
        timer_t id;
        timer_new(clocks[k].clock, SIGEV_SIGNAL, SIGUSR1, k, 0, &id);
        uint64_t c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        tset(id, 0, 30000000, 0, NULL);
        spin_until_got(1, 3000000000ull);
        uint64_t used = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
        char name[80];
        snprintf(name, sizeof name, "timer on %s: after 30 ms of CPU", clocks[k].name);
        CHECK(name, got == 1 && got_value == k && used >= 25000000ull,
              "got %d (value %d) after %llu ns of CPU", (int)got, (int)got_value,
              (unsigned long long)used);
        tdel(id);
    }
}

static void *sender(void *arg)
{
    (void)arg;
    struct timespec ts = { 0, 30000000 };
    nanosleep(&ts, NULL);
    kill(getpid(), SIGUSR1); /* to the process: every thread blocks it, the waiter takes it */
    return NULL;
}

static void on_plain(int sig) { got++; got_sig = sig; }

static void check_sigtimedwait(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    siginfo_t si;
    kill(getpid(), SIGUSR1);
    int s = sigtimedwait(&set, &si, &(struct timespec){ 1, 0 });
    CHECK("sigtimedwait: a pending signal, its siginfo", s == SIGUSR1 && si.si_signo == SIGUSR1 &&
          si.si_code == SI_USER && si.si_pid == getpid(), "got %d code %d pid %d", s,
          si.si_code, (int)si.si_pid);
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    s = sigtimedwait(&set, &si, &(struct timespec){ 0, 50000000 });
    int e = errno;
    uint64_t took = now_ns(CLOCK_MONOTONIC) - t0;
    CHECK("sigtimedwait: EAGAIN at the timeout", s == -1 && e == EAGAIN && took >= 45000000ull,
          "got %d (%s) after %llu ns", s, strerror(e), (unsigned long long)took);
    s = sigtimedwait(&set, &si, &(struct timespec){ 0, 0 });
    CHECK_ERRNO("sigtimedwait: a zero timeout", s, EAGAIN);
    CHECK_ERRNO("sigtimedwait: tv_nsec -1", sigtimedwait(&set, &si, &(struct timespec){ 0, -1 }), EINVAL);
    CHECK_ERRNO("rt_sigtimedwait: sigsetsize 4", syscall(SYS_rt_sigtimedwait, &set, &si, NULL, 4), EINVAL);
    CHECK_ERRNO("rt_sigtimedwait: a bad set", syscall(SYS_rt_sigtimedwait, (void *)8, &si, NULL, 8), EFAULT);
    pthread_t th;
    pthread_create(&th, NULL, sender, NULL);
    s = sigwaitinfo(&set, &si);
    CHECK("sigwaitinfo: a signal sent to the process while it waits", s == SIGUSR1,
          "got %d (%s)", s, strerror(errno));
    pthread_join(th, NULL);
    /* a timer's signal, taken by sigwaitinfo */
    timer_t id;
    timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 11, 0, &id);
    tset(id, 0, 20000000, 0, NULL);
    s = sigwaitinfo(&set, &si);
    CHECK("sigwaitinfo: a timer's signal (SI_TIMER, sigval)", s == SIGUSR1 && si.si_code == SI_TIMER &&
          si.si_value.sival_int == 11, "got %d code %d value %d", s, si.si_code, si.si_value.sival_int);
    tdel(id);
    /* another signal's handler ends the wait: EINTR */
    struct sigaction sa = { .sa_handler = on_plain };
    sigaction(SIGALRM, &sa, NULL);
    got = 0;
    struct itimerval it = { { 0, 0 }, { 0, 30000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    /* the call itself: musl's sigtimedwait calls it again after EINTR */
    struct timespec five = { 5, 0 };
    s = (int)syscall(SYS_rt_sigtimedwait, &set, &si, &five, 8);
    e = errno;
    CHECK("rt_sigtimedwait: EINTR when another signal's handler runs", s == -1 && e == EINTR && got == 1,
          "got %d (%s), handler ran %d times", s, strerror(e), (int)got);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void check_sigqueue_and_sleep(void)
{
    handle(SIGUSR1);
    reset();
    union sigval v = { .sival_int = 77 };
    CHECK("sigqueue: to itself", sigqueue(getpid(), SIGUSR1, v) == 0, "%s", strerror(errno));
    CHECK("sigqueue: SI_QUEUE, the sigval, the sender", got == 1 && got_code == SI_QUEUE &&
          got_value == 77 && got_pid == getpid(), "got %d code %d value %d pid %d", (int)got,
          (int)got_code, (int)got_value, (int)got_pid);
    siginfo_t forged;
    memset(&forged, 0, sizeof forged);
    forged.si_code = SI_USER; /* a code only the kernel may claim to another process */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    CHECK_ERRNO("rt_sigqueueinfo: SI_USER to another process",
                syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &forged), EPERM);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CHECK_ERRNO("rt_sigqueueinfo: a bad pointer", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, (void *)8), EFAULT);
    /* nanosleep cut short by a handler: EINTR and the time left */
    struct sigaction sa = { .sa_handler = on_plain };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 0 }, { 0, 50000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec req = { 2, 0 }, rem = { 0, 0 };
    int r = nanosleep(&req, &rem);
    int e = errno;
    CHECK("nanosleep: EINTR with the time left", r == -1 && e == EINTR && rem.tv_sec >= 1 &&
          rem.tv_sec <= 2, "got %d (%s), rem %ld.%09ld", r, strerror(e), (long)rem.tv_sec,
          (long)rem.tv_nsec);
    /* ppoll's mask lets a pending blocked signal in: EINTR, the mask back after */
    block(SIGUSR1, SIG_BLOCK);
    reset();
    raise(SIGUSR1);
    sigset_t none, after;
    sigemptyset(&none);
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    r = ppoll(NULL, 0, &(struct timespec){ 5, 0 }, &none);
    e = errno;
    uint64_t took = now_ns(CLOCK_MONOTONIC) - t0;
    sigprocmask(SIG_BLOCK, NULL, &after);
    CHECK("ppoll: its mask lets a pending signal in (EINTR, at once)", r == -1 && e == EINTR &&
          got == 1 && took < 2000000000ull, "got %d (%s), handler %d, %llu ns", r, strerror(e),
          (int)got, (unsigned long long)took);
    CHECK("ppoll: the caller's mask back", sigismember(&after, SIGUSR1) == 1, "SIGUSR1 not blocked");
    block(SIGUSR1, SIG_UNBLOCK);
}

static void check_fork(void)
{
    struct itimerval it = { { 0, 0 }, { 30, 0 } }, cur;
    setitimer(ITIMER_REAL, &it, NULL);
    timer_t id;
    timer_new(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id);
    tset(id, 0, 30000000000l, 0, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct itimerspec c;
        getitimer(ITIMER_REAL, &cur);
        int bad = cur.it_value.tv_sec != 0 || cur.it_value.tv_usec != 0;
        bad |= (tget(id, &c) == 0) << 1;
        _exit(bad);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    CHECK("fork: the child has neither interval nor POSIX timers", WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "status 0x%x", st);
    getitimer(ITIMER_REAL, &cur);
    CHECK("fork: the parent's stay", cur.it_value.tv_sec >= 28, "value %ld", (long)cur.it_value.tv_sec);
    struct itimerval zero = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &zero, NULL);
    tdel(id);
}

/* isovm only (Linux keeps no lower bound: natively the signals would never stop): a 1 ns period
 * while its signal is blocked for 200 ms, then disarmed: one signal, its overruns counted (isovm
 * takes the period as 100 us), the job going on. */
static int fast_timer(void)
{
    handle(SIGUSR1);
    timer_t id;
    timer_new(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 3, 0, &id);
    block(SIGUSR1, SIG_BLOCK);
    reset();
    tset(id, 0, 1, 1, NULL);
    struct timespec ts = { 0, 200000000 };
    nanosleep(&ts, NULL);
    struct itimerspec cur;
    tget(id, &cur);
    block(SIGUSR1, SIG_UNBLOCK); /* the first signal, with the overruns; others follow */
    tset(id, 0, 0, 0, NULL);
    CHECK("a 1 ns period: taken as 100 us", cur.it_interval.tv_sec == 0 &&
          cur.it_interval.tv_nsec == 100000, "interval %ld ns", (long)cur.it_interval.tv_nsec);
    CHECK("a 1 ns period: its overruns counted while blocked", got >= 1 &&
          got_overrun_max >= 100 && got_overrun_max <= 2100, "got %d, si_overrun at most %d",
          (int)got, (int)got_overrun_max);
    return check_done();
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "fast-timer") == 0)
        return fast_timer();
    if (argc > 1 && strcmp(argv[1], "alarm-kill") == 0) {
        struct itimerval it = { { 0, 0 }, { 0, 50000 } };
        setitimer(ITIMER_REAL, &it, NULL);
        for (;;)
            ;
    }
    check_alarm();
    check_itimer_real();
    check_itimer_cpu();
    check_posix_signal();
    check_posix_misc();
    check_posix_threads();
    check_posix_cpu();
    check_sigtimedwait();
    check_sigqueue_and_sleep();
    check_fork();
    return check_done();
}
