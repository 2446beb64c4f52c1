/* The Linux tier's vCPU loop: KVM_RUN, each exit dispatched to the devices, counted by reason. */
#ifndef ISOVM_LINUX_LVCPU_H
#define ISOVM_LINUX_LVCPU_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "vmm/linux/ldev.h"
#include "vmm/linux/lvm.h"

enum lvcpu_exit_kind { LX_IO, LX_MMIO, LX_UNCLAIMED, LX_INTR, LX_SHUTDOWN, LX_OTHER, LX_KINDS };

/* Shared by every vCPU thread and the supervisor. */
struct lvcpu_shared {
    struct lvm *m;
    struct ldev *d;
    atomic_bool stop;           /* set by anyone: every vCPU leaves its loop */
    atomic_bool held;           /* the CPU quota holds the vCPUs (they wait on `wake`) */
    atomic_bool pause;          /* park every vCPU for a snapshot (lvcpu_pause) */
    pthread_mutex_t hold_lock;  /* for wake, parked_cond and parked */
    pthread_cond_t wake;        /* held or pause ended, or stop */
    pthread_cond_t parked_cond; /* a vCPU parked */
    unsigned parked;            /* vCPUs parked now */
    atomic_bool failed;         /* KVM failed or an exit isovm cannot serve */
    char fail_msg[160];
    atomic_uint_fast64_t first_entry_ns; /* CLOCK_MONOTONIC of vCPU 0's first KVM_RUN */
    atomic_uint_fast64_t exits[LX_KINDS];
    void (*on_end)(void *ctx);  /* a vCPU ended the run (shutdown, failure) */
    void *end_ctx;
};

struct lvcpu {
    struct lvcpu_shared *sh;
    unsigned index;
    pthread_t thread;
    bool started;
    clockid_t cpu_clock;
    atomic_bool clock_ready;
    atomic_uint_fast64_t cpu_final; /* its CPU time when the thread ended; 0 while it runs */
};

/* The locks and condition variables of sh (the rest set by the caller). 0 or a negative errno. */
int lvcpu_shared_init(struct lvcpu_shared *sh);

/* Start vCPU index's host thread (SIGUSR1 must be blocked in the caller, and a handler for it
 * installed: lvcpu_kick interrupts KVM_RUN with it). 0 or a negative errno. */
int lvcpu_start(struct lvcpu *v, struct lvcpu_shared *sh, unsigned index);
/* Make every vCPU leave KVM_RUN soon (after sh->stop or sh->held changed). */
void lvcpu_kick(struct lvcpu *v);
/* CPU time of the vCPU's host thread so far (ns), 0 before it started. */
uint64_t lvcpu_cpu_ns(struct lvcpu *v);
void lvcpu_join(struct lvcpu *v);

/* Park the n vCPUs v[0..n) for a snapshot: each leaves KVM_RUN with the I/O it exited for
 * completed and no guest instruction run since, and waits. 0 once all are parked, -ETIMEDOUT
 * after timeout_ms, -ECANCELED when the run stops meanwhile (they stay asked to park until
 * lvcpu_resume). Called by the supervisor (a vCPU thread may set sh->pause itself and kick). */
int lvcpu_pause(struct lvcpu_shared *sh, struct lvcpu *v, unsigned n, int timeout_ms);
/* Let parked vCPUs run again. */
void lvcpu_resume(struct lvcpu_shared *sh);

#endif
