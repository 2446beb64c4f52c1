/* Many threads at once, up to the 64-vCPU maximum, with a fault on a high-numbered vCPU.
 *   threads_many run N     N-1 threads (plus main) each make syscalls, then are joined;
 *                          prints "joined=N-1".
 *   threads_many hang N    N-1 threads block on a condition nobody signals; main joins them:
 *                          every thread waits in a futex until a limit ends the job.
 *   threads_many fault N   N-1 threads block; the last one created writes through NULL: the job
 *                          must die of SIGSEGV naming address 0x0 (its vCPU's exception stack and
 *                          TSS are its own, whatever its number).
 * Exit status 0 (run); 2 bad arguments; 3 pthread_create failed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXT 64

static atomic_int started;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int release;

static void *worker(void *arg)
{
    long id = (long)arg;
    atomic_fetch_add(&started, 1);
    for (int i = 0; i < 20; i++)
        if (getpid() <= 0)
            return (void *)1;
    if (id < 0) {
        volatile int *null = NULL;
        *null = 1; /* the fault, on the newest vCPU */
    }
    pthread_mutex_lock(&mu);
    while (!release)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return (void *)id;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int fault = strcmp(argv[1], "fault") == 0, hang = strcmp(argv[1], "hang") == 0;
    int n = atoi(argv[2]);
    if (n < 2 || n > MAXT)
        return 2;
    pthread_t t[MAXT];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    for (int i = 1; i < n; i++) {
        if (fault && i == n - 1)
            while (atomic_load(&started) < n - 2)
                sched_yield();
        long id = fault && i == n - 1 ? -1 : i;
        if (pthread_create(&t[i], &attr, worker, (void *)id)) {
            printf("pthread_create %d failed\n", i);
            return 3;
        }
    }
    while (atomic_load(&started) < n - 1)
        sched_yield();
    if (hang) {
        printf("hanging\n");
        fflush(stdout);
    } else {
        pthread_mutex_lock(&mu);
        release = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
    int joined = 0;
    for (int i = 1; i < n; i++) {
        void *r;
        if (pthread_join(t[i], &r) == 0 && (long)r == i)
            joined++;
    }
    printf("joined=%d\n", joined);
    return 0;
}
