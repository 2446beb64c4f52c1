/* libFuzzer harness for the signal frame (vmm/core/sigframe.c): rt_sigreturn's reading of a frame
 * the job wrote, and a frame built then read back. Input: le64 rsp offset, then the bytes the
 * job's stack holds there (the frame and an FPU state). A frame read is accepted only with a
 * canonical user rip and rsp, IF on and no flag a user may not set, and an MXCSR the CPU takes;
 * a frame built from the context read back gives that context again. */
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
    struct sig_context ctx;
    uint64_t mask;
    struct sig_altstack alt;
    int rc = sigframe_read(&gm, rsp, &ctx, &mask, &alt);
    check(rc == 0 || rc == -EFAULT);
    if (rc)
        return 0;
    check(ctx.rip < (1ull << 47) && ctx.rsp < (1ull << 47));
    check((ctx.rflags & 0x202) == 0x202 && !(ctx.rflags & 0x3000) && !(ctx.rflags & 0x20000) &&
          !(ctx.rflags & 0x4000));
    uint32_t mxcsr;
    memcpy(&mxcsr, ctx.fxsave + 24, 4);
    check(!(mxcsr & ~0xffffu));
    /* built again on the stack's top half and read back: the same context */
    struct sig_context again = ctx;
    again.rsp = STACK_HI - 16;
    uint8_t info[128] = { 0 };
    struct sig_frame_spec s = { .ctx = &again, .sig = 10, .info = info, .restorer = 0x401000,
                                .mask = mask, .alt = { .flags = 2 } };
    struct sig_frame_at where;
    if (sigframe_build(&gm, &s, &where) == 0) {
        struct sig_context back;
        uint64_t m2;
        struct sig_altstack a2;
        check(sigframe_read(&gm, where.rsp + 8, &back, &m2, &a2) == 0);
        check(back.rip == again.rip && back.rsp == again.rsp && back.rax == again.rax &&
              back.r15 == again.r15 && back.rflags == again.rflags && m2 == mask &&
              !memcmp(back.fxsave, again.fxsave, 512));
    }
    return 0;
}
