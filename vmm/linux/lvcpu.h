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
    pthread_mutex_t hold_lock;
    pthread_cond_t wake;
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

/* Start vCPU index's host thread (SIGUSR1 must be blocked in the caller, and a handler for it
 * installed: lvcpu_kick interrupts KVM_RUN with it). 0 or a negative errno. */
int lvcpu_start(struct lvcpu *v, struct lvcpu_shared *sh, unsigned index);
/* Make every vCPU leave KVM_RUN soon (after sh->stop or sh->held changed). */
void lvcpu_kick(struct lvcpu *v);
/* CPU time of the vCPU's host thread so far (ns), 0 before it started. */
uint64_t lvcpu_cpu_ns(struct lvcpu *v);
void lvcpu_join(struct lvcpu *v);

#endif
