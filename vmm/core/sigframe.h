/* Linux's x86-64 signal frame (rt_sigframe): built on the job's stack for a handler, read back by rt_sigreturn. */
#ifndef ISOVM_SIGFRAME_H
#define ISOVM_SIGFRAME_H
#include <stdbool.h>
#include <stdint.h>
#include "vmm/core/guest_mem.h"

/* The largest XSAVE area a frame holds: KVM_GET_XSAVE's (x87, SSE, AVX, AVX-512 fit). */
#define SIG_XSTATE_MAX 4096
#define SIG_FXSAVE_SIZE 512

/* The FPU state a vCPU may have: the XSAVE features its XCR0 enables (0: no XSAVE, fxsave's
 * 512 bytes only) and the size of their area in the standard format. */
struct sig_xstate {
    uint64_t features;
    uint32_t size;
};

/* The user context a signal interrupts (and rt_sigreturn restores): the registers in
 * sigcontext's order, and the FPU state: fxsave's 512-byte format, followed for an XSAVE state
 * by its header and components (the standard format, as XSAVE writes and a Linux frame holds). */
struct sig_context {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
        rflags;
    uint64_t err, trapno, cr2;
    uint64_t xfeatures;         /* the XSAVE features fpstate holds (0: fxsave format only) */
    uint32_t fp_size;           /* fpstate's bytes: 512, or the XSAVE area's size */
    uint8_t fpstate[SIG_XSTATE_MAX];
};

/* The alternate signal stack (sigaltstack), as stack_t. */
struct sig_altstack {
    uint64_t sp, size;
    int32_t flags; /* SS_DISABLE, or 0 */
};

/* What a frame is built from. */
struct sig_frame_spec {
    const struct sig_context *ctx;
    int sig;
    const uint8_t *info;        /* 128 bytes of siginfo */
    uint64_t restorer;          /* sa_restorer: the return address the handler returns to */
    uint64_t mask;              /* the mask rt_sigreturn restores */
    struct sig_altstack alt;    /* the thread's, for uc_stack */
    bool use_alt;               /* SA_ONSTACK with an alternate stack not already in use */
};

/* Where it was built: the handler's rsp, and its second and third arguments. */
struct sig_frame_at {
    uint64_t rsp, info, uc;
};

#define SIGFRAME_USER_CS 0x2b /* the selectors isovm's ring 3 runs with (firmware/abi.h) */
#define SIGFRAME_USER_SS 0x23

/* ctx's FPU state as a handler starts with it (Linux's initial state: FCW 0x37f, MXCSR 0x1f80,
 * the rest zero), in xs's format (NULL: fxsave's). */
void sigframe_fpstate_init(struct sig_context *ctx, const struct sig_xstate *xs);

/* Build the frame below ctx->rsp (past the 128-byte red zone) or at the top of the alternate
 * stack, every byte written through the one guest-range check: an XSAVE state as Linux writes
 * it (its size and features in fxsave's software-reserved bytes, FP_XSTATE_MAGIC2 after it,
 * UC_FP_XSTATE). 0, or -EFAULT when the stack cannot take it (the caller then kills with
 * SIGSEGV, as Linux does). */
int sigframe_build(struct guest_mem *gm, const struct sig_frame_spec *s, struct sig_frame_at *at);

/* rt_sigreturn: read the frame whose pretcode was at rsp - 8, each field once, and validate it:
 * rip and rsp canonical user addresses, rflags reduced to what a user may set (IF always on),
 * the FPU state's MXCSR within what the CPU takes. An XSAVE state (both magics, a size within
 * xs's) is taken with the features both it and xs name, its header checked as Linux does
 * (features xs has, the standard format, reserved bytes zero); without the magics, fxsave's 512
 * bytes (the other components at their initial state). The context (cs, ss are never read:
 * ring 3's own), the mask and the alternate stack it names. 0, or -EFAULT (unreadable or
 * invalid: the caller kills with SIGSEGV). */
int sigframe_read(const struct guest_mem *gm, uint64_t rsp, const struct sig_xstate *xs,
                  struct sig_context *ctx, uint64_t *mask, struct sig_altstack *alt);

/* Is sp on the alternate stack? */
static inline bool sig_on_altstack(const struct sig_altstack *a, uint64_t sp)
{
    return !(a->flags & 2) && a->size && sp - a->sp <= a->size;
}

#endif
