/* One syscall of a job thread, as the hypercall layer read it: what every handler and every
 * capability check is given. */
#ifndef ISOVM_SC_CALL_H
#define ISOVM_SC_CALL_H
#include <stdint.h>

struct vthread;

/* One forwarded syscall: number and arguments as read once from the request block. */
struct sc_call {
    uint64_t nr;
    uint64_t a[6];
    uint64_t user_rip;    /* where the job's syscall returns to */
    uint64_t user_rsp;    /* the job's stack pointer at the syscall */
    uint64_t action;      /* ISOVM_ACT_* bits for the firmware */
    uint64_t fs_base;
    struct vthread *self; /* the calling thread */
};

/* The calling thread is done (it exited, or the job ended): its run loop stops. */
#define SC_STOP INT64_MIN
/* The handler set the vCPU's whole user context itself (execve, rt_sigreturn): no answer is
 * written and no signal is run at the call's end. */
#define SC_REDIRECT (INT64_MIN + 1)

#endif
