/* libFuzzer harness for the signal frame (vmm/core/sigframe.c): rt_sigreturn's reading of a frame
 * the job wrote, and a frame built then read back. Input: le64 rsp offset, then the bytes the
 * job's stack holds there (the frame and an FPU state). A frame read is accepted only with a
 * canonical user rip and rsp, IF on and no flag a user may not set, and an MXCSR the CPU takes;
 * a frame built from the context read back gives that context again. An XSAVE state (for a
 * vCPU with AVX, or none) is taken only with the vCPU's features and a valid header. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "firmware/abi.h"
#include "vmm/core/guest_mem.h"
#include "vmm/core/sigframe.h"

#define WINDOW (4ull << 20)
#define STACK_LO (2ull << 20)
#define STACK_HI (2ull << 20) + (64ull << 10)

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    static struct guest_mem gm;
    static int ready;
    if (!ready) {
        gm.size = WINDOW;
        gm.host = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        check(gm.host != MAP_FAILED);
        check(gmem_tables_alloc(&gm, WINDOW, WINDOW) == 0);
        gm.user_lo = ISOVM_USER_MIN_GPA;
        gm.user_hi = WINDOW;
        check(gmem_set_perm(&gm, STACK_LO, STACK_HI - STACK_LO, GPERM_R | GPERM_W) == 0);
        ready = 1;
    }
    uint64_t off;
    memcpy(&off, data, 8);
    data += 8;
    size -= 8;
    uint64_t rsp = STACK_LO + off % (STACK_HI - STACK_LO + 4096); /* past the top too */
    memset(gm.host + STACK_LO, 0, STACK_HI - STACK_LO);
    uint64_t at = rsp - 8;
    if (at >= STACK_LO && at < STACK_HI) {
        size_t n = size < STACK_HI - at ? size : STACK_HI - at;
        memcpy(gm.host + at, data, n);
    }
    static struct sig_context ctx, again, back;
    uint64_t mask;
    struct sig_altstack alt;
    /* a vCPU with AVX (XCR0 7: the area 832 bytes), or one without XSAVE: the input's first
     * byte says which */
    const struct sig_xstate avx = { .features = 0x7, .size = 832 }, none = { 0, 512 };
    const struct sig_xstate *xs = off & (1ull << 63) ? &none : &avx;
    int rc = sigframe_read(&gm, rsp, xs, &ctx, &mask, &alt);
    check(rc == 0 || rc == -EFAULT);
    if (rc)
        return 0;
    check(ctx.rip < (1ull << 47) && ctx.rsp < (1ull << 47));
    check((ctx.rflags & 0x202) == 0x202 && !(ctx.rflags & 0x3000) && !(ctx.rflags & 0x20000) &&
          !(ctx.rflags & 0x4000));
    uint32_t mxcsr;
    memcpy(&mxcsr, ctx.fpstate + 24, 4);
    check(!(mxcsr & ~0xffffu));
    /* an XSAVE state only with features the vCPU has, its header's in the standard format */
    check((ctx.xfeatures & ~xs->features) == 0);
    check(ctx.xfeatures ? ctx.fp_size >= 576 && ctx.fp_size <= xs->size : ctx.fp_size == 512);
    if (ctx.xfeatures) {
        uint64_t bv, comp;
        memcpy(&bv, ctx.fpstate + 512, 8);
        memcpy(&comp, ctx.fpstate + 520, 8);
        check(!(bv & ~ctx.xfeatures) && comp == 0);
        for (unsigned i = 528; i < 576; i++)
            check(ctx.fpstate[i] == 0);
    }
    /* built again on the stack's top half and read back: the same context */
    again = ctx;
    again.rsp = STACK_HI - 16;
    uint8_t info[128] = { 0 };
    struct sig_frame_spec s = { .ctx = &again, .sig = 10, .info = info, .restorer = 0x401000,
                                .mask = mask, .alt = { .flags = 2 } };
    struct sig_frame_at where;
    if (sigframe_build(&gm, &s, &where) == 0) {
        uint64_t m2;
        struct sig_altstack a2;
        check(sigframe_read(&gm, where.rsp + 8, xs, &back, &m2, &a2) == 0);
        check(back.rip == again.rip && back.rsp == again.rsp && back.rax == again.rax &&
              back.r15 == again.r15 && back.rflags == again.rflags && m2 == mask &&
              back.xfeatures == again.xfeatures && back.fp_size == again.fp_size &&
              !memcmp(back.fpstate, again.fpstate, 464) &&
              !memcmp(back.fpstate + 512, again.fpstate + 512, again.fp_size - 512));
    }
    return 0;
}
