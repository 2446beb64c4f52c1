/* pthreads (threads as vCPUs, the thread limit, futex, TLS).
 *
 *   threads N M        N threads each add 1 to a mutex-protected counter M times, meeting at a
 *                      condvar barrier (all N plus main) before, halfway and after; joined.
 *                      Prints "total=N*M" and checks every thread had its own gettid().
 *   threads limit K    tries to create K threads that block on a condvar until released; prints
 *                      "created=X failed=Y errno=NAME" (the error of the first failed
 *                      pthread_create, "none" if none failed); then releases and joins them.
 *   threads detach N   N detached threads that post a semaphore and exit on their own; main
 *                      waits on the semaphore. A create refused with EAGAIN (at the thread
 *                      limit, until an earlier thread has exited) is retried, until 5 s after
 *                      the first create.
 *                      Prints "detached=N done=N retries=R".
 *   threads tls        __thread variables (initialised and zeroed) and errno are per thread.
 *
 * Every thread gets a 256 KiB stack, so the thread limit, not memory, decides how many fit.
 * Checks print "ok NAME" / "FAIL NAME: why" and end in "all checks passed" (exit 0) or exit 1;
 * bad arguments exit 2. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define STACK (256u << 10)
#define MAXT 256

static pthread_attr_t attr;

static const char *err_name(int e)
{
    switch (e) {
    case 0: return "none";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    default: return "other";
    }
}

/* --- barrier from a mutex and a condvar (not pthread_barrier: the point is the condvar) ------ */
static pthread_mutex_t bar_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bar_cv = PTHREAD_COND_INITIALIZER;
static unsigned bar_count, bar_gen, bar_parties;

static void barrier_wait(void)
{
    pthread_mutex_lock(&bar_mu);
    unsigned gen = bar_gen;
    if (++bar_count == bar_parties) {
        bar_count = 0;
        bar_gen++;
        pthread_cond_broadcast(&bar_cv);
    } else {
        while (gen == bar_gen)
            pthread_cond_wait(&bar_cv, &bar_mu);
    }
    pthread_mutex_unlock(&bar_mu);
}

/* --- threads N M -------------------------------------------------------------------------- */
static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long per_thread;
static pid_t tids[MAXT];

static void *adder(void *arg)
{
    int idx = (int)(intptr_t)arg;
    tids[idx] = gettid();
    barrier_wait();
    for (long i = 0; i < per_thread; i++) {
        if (i == per_thread / 2)
            barrier_wait();
        pthread_mutex_lock(&count_mu);
        counter++;
        pthread_mutex_unlock(&count_mu);
    }
    if (per_thread == 0)
        barrier_wait();
    barrier_wait();
    return (void *)(intptr_t)(idx + 1000);
}

static int run_count(int n, long m)
{
    pthread_t th[MAXT];
    per_thread = m;
    bar_parties = (unsigned)n + 1;
    pid_t main_tid = gettid();
    CHECK("main gettid == getpid", main_tid == getpid(), "gettid %d getpid %d", main_tid, getpid());
    int made = 0;
    for (int i = 0; i < n; i++) {
        int r = pthread_create(&th[i], &attr, adder, (void *)(intptr_t)i);
        CHECK("pthread_create", r == 0, "thread %d: error %d (%s)", i, r, err_name(r));
        if (r)
            return check_done();
        made++;
    }
    barrier_wait(); /* all started */
    barrier_wait(); /* all halfway */
    barrier_wait(); /* all done */
    pthread_mutex_lock(&count_mu);
    long seen = counter;
    pthread_mutex_unlock(&count_mu);
    CHECK("counter complete at the last barrier", seen == (long)n * m, "got %ld want %ld", seen,
          (long)n * m);
    int joined_ok = 1;
    for (int i = 0; i < made; i++) {
        void *ret = NULL;
        int r = pthread_join(th[i], &ret);
        if (r || ret != (void *)(intptr_t)(i + 1000))
            joined_ok = 0;
    }
    CHECK("pthread_join returns each thread's value", joined_ok, "bad join");
    int distinct = 1;
    for (int i = 0; i < n; i++) {
        if (tids[i] <= 0 || tids[i] == main_tid)
            distinct = 0;
        for (int j = 0; j < i; j++)
            if (tids[i] == tids[j])
                distinct = 0;
    }
    CHECK("gettid differs per thread", distinct, "tids not distinct (first %d, main %d)", tids[0],
          main_tid);
    printf("total=%ld\n", counter);
    return check_done();
}

/* --- threads limit K ---------------------------------------------------------------------- */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open, waiting;

static void *blocker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate_mu);
    waiting++;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    waiting--;
    pthread_mutex_unlock(&gate_mu);
    return NULL;
}

static int run_limit(int k)
{
    pthread_t th[MAXT];
    int created = 0, failed = 0, first_err = 0;
    for (int i = 0; i < k; i++) {
        int r = pthread_create(&th[created], &attr, blocker, NULL);
        if (r == 0) {
            created++;
        } else {
            failed++;
            if (!first_err)
                first_err = r;
        }
    }
    /* every created thread is alive and blocked at once */
    pthread_mutex_lock(&gate_mu);
    while (waiting < created)
        pthread_cond_wait(&gate_cv, &gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    int joined = 0;
    for (int i = 0; i < created; i++)
        joined += pthread_join(th[i], NULL) == 0;
    printf("created=%d failed=%d errno=%s\n", created, failed, err_name(first_err));
    CHECK("all created threads joined", joined == created, "joined %d of %d", joined, created);
    /* the slots are free again: one more thread works */
    gate_open = 1;
    pthread_t again;
    int r = pthread_create(&again, &attr, blocker, NULL);
    CHECK("create after joining", r == 0, "error %d (%s)", r, err_name(r));
    if (r == 0)
        CHECK("join after joining", pthread_join(again, NULL) == 0, "join failed");
    return check_done();
}

/* --- threads detach N --------------------------------------------------------------------- */
static sem_t done_sem;
static volatile int ran[MAXT];

static void *detached(void *arg)
{
    int idx = (int)(intptr_t)arg;
    volatile unsigned long x = 0;
    for (int i = 0; i < 1000; i++)
        x += (unsigned long)i;
    ran[idx] = 1;
    sem_post(&done_sem);
    return NULL; /* exits on its own; nobody joins */
}

static int run_detach(int n)
{
    pthread_attr_t da;
    pthread_attr_init(&da);
    pthread_attr_setstacksize(&da, STACK);
    CHECK("setdetachstate", pthread_attr_setdetachstate(&da, PTHREAD_CREATE_DETACHED) == 0, "failed");
    CHECK("sem_init", sem_init(&done_sem, 0, 0) == 0, "errno %d", errno);
    int made = 0, retries = 0, err = 0;
    struct timespec nap = {0, 1000000}, t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        int r;
        /* retry EAGAIN until 5 s after the first create, all threads together */
        while ((r = pthread_create(&t, &da, detached, (void *)(intptr_t)i)) == EAGAIN) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((now.tv_sec - t0.tv_sec) * 1000000000l + (now.tv_nsec - t0.tv_nsec) > 5000000000l)
                break;
            retries++;
            nanosleep(&nap, NULL);
        }
        if (r) {
            err = r;
            break;
        }
        made++;
    }
    CHECK("create detached threads", made == n, "made %d of %d, error %d (%s)", made, n, err,
          err_name(err));
    int done = 0;
    for (int i = 0; i < made; i++) {
        while (sem_wait(&done_sem) != 0 && errno == EINTR) {
        }
        done++;
    }
    int all = 1;
    for (int i = 0; i < made; i++)
        all &= ran[i];
    CHECK("every detached thread ran", all, "some did not");
    printf("detached=%d done=%d retries=%d\n", made, done, retries);
    return check_done();
}

/* --- threads tls -------------------------------------------------------------------------- */
static __thread int tls_init = 42;           /* .tdata */
static __thread long tls_zero;               /* .tbss */
static __thread char tls_buf[4000] = {1, 2}; /* larger .tdata */
#define TLS_THREADS 4
static int tls_ok[TLS_THREADS + 1];
static void *tls_addr[TLS_THREADS + 1];

static void *tls_worker(void *arg)
{
    int idx = (int)(intptr_t)arg;
    int ok = tls_init == 42 && tls_zero == 0 && tls_buf[0] == 1 && tls_buf[1] == 2 && tls_buf[3999] == 0;
    tls_init = 100 + idx;
    tls_zero = 1000 + idx;
    tls_buf[3999] = (char)idx;
    tls_addr[idx] = (void *)&tls_init;
    errno = 200 + idx;
    barrier_wait(); /* everyone has written its own values */
    barrier_wait(); /* main has checked */
    ok = ok && tls_init == 100 + idx && tls_zero == 1000 + idx && tls_buf[3999] == (char)idx &&
         errno == 200 + idx;
    tls_ok[idx] = ok;
    return NULL;
}

static int run_tls(void)
{
    pthread_t th[TLS_THREADS];
    bar_parties = TLS_THREADS + 1;
    tls_init = 7;
    tls_zero = 8;
    tls_addr[TLS_THREADS] = (void *)&tls_init;
    for (int i = 0; i < TLS_THREADS; i++) {
        int r = pthread_create(&th[i], &attr, tls_worker, (void *)(intptr_t)i);
        CHECK("pthread_create", r == 0, "thread %d: error %d (%s)", i, r, err_name(r));
        if (r)
            return check_done();
    }
    barrier_wait();
    errno = 0;
    CHECK("main's TLS untouched by the threads", tls_init == 7 && tls_zero == 8, "got %d %ld",
          tls_init, tls_zero);
    int distinct = 1;
    for (int i = 0; i <= TLS_THREADS; i++)
        for (int j = 0; j < i; j++)
            if (tls_addr[i] == tls_addr[j])
                distinct = 0;
    CHECK("each thread's __thread variable has its own address", distinct, "addresses shared");
    barrier_wait();
    int all = 1;
    for (int i = 0; i < TLS_THREADS; i++) {
        pthread_join(th[i], NULL);
        all &= tls_ok[i];
    }
    CHECK("each thread saw initial values and kept its own (and its errno)", all, "mismatch");
    return check_done();
}

static int usage(void)
{
    fprintf(stderr, "usage: threads N M | threads limit K | threads detach N | threads tls\n");
    return 2;
}

static int num(const char *s, long lo, long hi, long *v)
{
    char *end;
    *v = strtol(s, &end, 10);
    return *s && !*end && *v >= lo && *v <= hi ? 0 : -1;
}

int main(int argc, char **argv)
{
    long a, b;
    pthread_attr_init(&attr);
    if (pthread_attr_setstacksize(&attr, STACK) != 0) {
        printf("FAIL pthread_attr_setstacksize\n");
        return 1;
    }
    if (argc == 2 && strcmp(argv[1], "tls") == 0)
        return run_tls();
    if (argc != 3)
        return usage();
    if (strcmp(argv[1], "limit") == 0)
        return num(argv[2], 0, MAXT, &a) ? usage() : run_limit((int)a);
    if (strcmp(argv[1], "detach") == 0)
        return num(argv[2], 0, MAXT, &a) ? usage() : run_detach((int)a);
    if (num(argv[1], 1, MAXT, &a) || num(argv[2], 0, 100000000, &b))
        return usage();
    return run_count((int)a, b);
}
