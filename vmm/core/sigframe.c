/* Builds and reads back Linux's x86-64 rt_sigframe in guest memory, validating what is read. */
#include "vmm/core/sigframe.h"
#include <errno.h>
#include <string.h>

/* rt_sigframe: pretcode, ucontext (flags, link, stack_t, sigcontext, sigmask), siginfo */
#define F_PRETCODE   0
#define F_UC_FLAGS   8
#define F_UC_STACK   24   /* ss_sp, ss_flags (int), ss_size */
#define F_MCONTEXT   48   /* sigcontext: r8 .. eflags (18 quads), cs gs fs ss, err, trapno,
                           * oldmask, cr2, fpstate, 8 reserved */
#define F_CS         (F_MCONTEXT + 18 * 8)
#define F_ERR        (F_CS + 8)
#define F_TRAPNO     (F_ERR + 8)
#define F_OLDMASK    (F_TRAPNO + 8)
#define F_CR2        (F_OLDMASK + 8)
#define F_FPSTATE    (F_CR2 + 8)
#define F_SIGMASK    (F_MCONTEXT + 256)
#define F_INFO       (F_SIGMASK + 8)
#define FRAME_SIZE   (F_INFO + 128)
#define FP_MXCSR     24
#define FP_SW_BYTES  464      /* fxsave's software-reserved bytes: struct _fpx_sw_bytes */
#define XHDR         512      /* the XSAVE header: XSTATE_BV, XCOMP_BV, 48 reserved bytes */
#define XHDR_SIZE    64
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define UC_FP_XSTATE         0x1
#define UC_SIGCONTEXT_SS     0x2
#define UC_STRICT_RESTORE_SS 0x4
#define SS_ONSTACK_FLAG 1
#define SS_DISABLE_FLAG 2
#define USER_TOP (1ull << 47)

_Static_assert(FRAME_SIZE == 440, "the kernel's struct rt_sigframe");

/* rflags bits a frame may set (Linux's FIX_EFLAGS): CF PF AF ZF SF TF DF OF AC RF */
#define RFLAGS_USER (0x1ull | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x40000 | \
                     0x10000)
#define RFLAGS_BASE 0x202ull /* IF, and the always-one bit */

static void put64(uint8_t *b, unsigned off, uint64_t v) { memcpy(b + off, &v, 8); }
static uint64_t get64(const uint8_t *b, unsigned off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

static void regs_out(uint8_t *b, const struct sig_context *c)
{
    const uint64_t r[18] = { c->r8, c->r9, c->r10, c->r11, c->r12, c->r13, c->r14, c->r15,
                             c->rdi, c->rsi, c->rbp, c->rbx, c->rdx, c->rax, c->rcx, c->rsp,
                             c->rip, c->rflags };
    memcpy(b + F_MCONTEXT, r, sizeof r);
}

void sigframe_fpstate_init(struct sig_context *ctx, const struct sig_xstate *xs)
{
    memset(ctx->fpstate, 0, sizeof ctx->fpstate);
    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    memcpy(ctx->fpstate, &fcw, 2);
    memcpy(ctx->fpstate + FP_MXCSR, &mxcsr, 4);
    ctx->xfeatures = xs ? xs->features : 0;
    ctx->fp_size = xs && xs->features ? xs->size : SIG_FXSAVE_SIZE;
    if (ctx->xfeatures)
        put64(ctx->fpstate, XHDR, 0x3); /* x87 and SSE as above; the rest initial */
}

int sigframe_build(struct guest_mem *gm, const struct sig_frame_spec *s, struct sig_frame_at *at)
{
    const struct sig_context *c = s->ctx;
    uint64_t sp = s->use_alt ? s->alt.sp + s->alt.size : c->rsp - 128; /* past the red zone */
    if (sp < 4096 || sp > USER_TOP)
        return -EFAULT;
    bool xsave = c->xfeatures && c->fp_size > XHDR && c->fp_size <= SIG_XSTATE_MAX;
    uint32_t fp_size = xsave ? c->fp_size : SIG_FXSAVE_SIZE;
    uint64_t fp = (sp - fp_size - (xsave ? 4 : 0)) & ~63ull;
    uint64_t frame = ((fp - FRAME_SIZE) & ~15ull) - 8; /* rsp + 8 16-aligned, as after a call */
    bool on_alt = s->use_alt || sig_on_altstack(&s->alt, c->rsp);
    if (on_alt && frame < s->alt.sp)
        return -EFAULT; /* the alternate stack overflows */
    uint8_t b[FRAME_SIZE];
    memset(b, 0, sizeof b);
    put64(b, F_PRETCODE, s->restorer);
    put64(b, F_UC_FLAGS, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (xsave ? UC_FP_XSTATE : 0));
    put64(b, F_UC_STACK, s->alt.sp);
    int32_t ss_flags = on_alt ? SS_ONSTACK_FLAG : s->alt.flags;
    memcpy(b + F_UC_STACK + 8, &ss_flags, 4);
    put64(b, F_UC_STACK + 16, s->alt.size);
    regs_out(b, c);
    uint16_t seg[4] = { SIGFRAME_USER_CS, 0, 0, SIGFRAME_USER_SS };
    memcpy(b + F_CS, seg, sizeof seg);
    put64(b, F_ERR, c->err);
    put64(b, F_TRAPNO, c->trapno);
    put64(b, F_OLDMASK, s->mask);
    put64(b, F_CR2, c->cr2);
    put64(b, F_FPSTATE, fp);
    put64(b, F_SIGMASK, s->mask);
    memcpy(b + F_INFO, s->info, 128);
    uint8_t legacy[SIG_FXSAVE_SIZE];
    memcpy(legacy, c->fpstate, sizeof legacy);
    memset(legacy + FP_SW_BYTES, 0, sizeof legacy - FP_SW_BYTES);
    if (xsave) { /* struct _fpx_sw_bytes: magic1, extended_size, xfeatures, xstate_size */
        uint32_t sw[2] = { FP_XSTATE_MAGIC1, fp_size + 4 };
        memcpy(legacy + FP_SW_BYTES, sw, sizeof sw);
        put64(legacy, FP_SW_BYTES + 8, c->xfeatures);
        memcpy(legacy + FP_SW_BYTES + 16, &fp_size, 4);
    }
    uint32_t magic2 = FP_XSTATE_MAGIC2;
    if (gmem_copy_to(gm, fp, legacy, sizeof legacy) ||
        (xsave && (gmem_copy_to(gm, fp + SIG_FXSAVE_SIZE, c->fpstate + SIG_FXSAVE_SIZE,
                                fp_size - SIG_FXSAVE_SIZE) ||
                   gmem_copy_to(gm, fp + fp_size, &magic2, sizeof magic2))) ||
        gmem_copy_to(gm, frame, b, sizeof b))
        return -EFAULT;
    at->rsp = frame;
    at->info = frame + F_INFO;
    at->uc = frame + F_UC_FLAGS;
    return 0;
}

/* The FPU state at fp: fxsave's 512 bytes, and an XSAVE state after them when its magics say
 * so and xs allows it. 0 or -EFAULT. */
static int fpstate_read(const struct guest_mem *gm, uint64_t fp, const struct sig_xstate *xs,
                        struct sig_context *ctx)
{
    if (fp % 16 || gmem_copy_from(gm, ctx->fpstate, fp, SIG_FXSAVE_SIZE))
        return -EFAULT;
    uint32_t mxcsr, sw[2], xsize;
    uint64_t xfeatures;
    memcpy(&mxcsr, ctx->fpstate + FP_MXCSR, 4);
    if (mxcsr & ~0xffffu)
        return -EFAULT; /* reserved bits: the CPU's #GP */
    memcpy(sw, ctx->fpstate + FP_SW_BYTES, sizeof sw);
    xfeatures = get64(ctx->fpstate, FP_SW_BYTES + 8);
    memcpy(&xsize, ctx->fpstate + FP_SW_BYTES + 16, 4);
    ctx->xfeatures = 0;
    ctx->fp_size = SIG_FXSAVE_SIZE;
    if (!xs || !xs->features || sw[0] != FP_XSTATE_MAGIC1 || xsize < XHDR + XHDR_SIZE ||
        xsize > xs->size || xsize > sw[1] || fp % 64)
        return 0; /* fxsave's state only, as Linux takes such a frame */
    uint32_t magic2;
    if (gmem_copy_from(gm, &magic2, fp + xsize, sizeof magic2))
        return -EFAULT;
    if (magic2 != FP_XSTATE_MAGIC2)
        return 0;
    if (gmem_copy_from(gm, ctx->fpstate + SIG_FXSAVE_SIZE, fp + SIG_FXSAVE_SIZE,
                       xsize - SIG_FXSAVE_SIZE))
        return -EFAULT;
    uint64_t bv = get64(ctx->fpstate, XHDR), comp = get64(ctx->fpstate, XHDR + 8);
    for (unsigned i = XHDR + 16; i < XHDR + XHDR_SIZE; i++)
        if (ctx->fpstate[i])
            return -EFAULT; /* reserved header bytes: XRSTOR's #GP, Linux's refusal */
    if ((bv & ~xs->features) || comp)
        return -EFAULT;
    ctx->xfeatures = xfeatures & xs->features;
    if (!ctx->xfeatures)
        return 0; /* names no feature the vCPU has: fxsave's state only */
    put64(ctx->fpstate, XHDR, bv & ctx->xfeatures); /* the others at their initial state */
    ctx->fp_size = xsize;
    return 0;
}

int sigframe_read(const struct guest_mem *gm, uint64_t rsp, const struct sig_xstate *xs,
                  struct sig_context *ctx, uint64_t *mask, struct sig_altstack *alt)
{
    uint8_t b[FRAME_SIZE];
    if (rsp < 8 || gmem_copy_from(gm, b, rsp - 8, sizeof b))
        return -EFAULT;
    uint64_t r[18];
    memcpy(r, b + F_MCONTEXT, sizeof r);
    *ctx = (struct sig_context){ .r8 = r[0], .r9 = r[1], .r10 = r[2], .r11 = r[3], .r12 = r[4],
                                 .r13 = r[5], .r14 = r[6], .r15 = r[7], .rdi = r[8],
                                 .rsi = r[9], .rbp = r[10], .rbx = r[11], .rdx = r[12],
                                 .rax = r[13], .rcx = r[14], .rsp = r[15], .rip = r[16],
                                 .rflags = RFLAGS_BASE | (r[17] & RFLAGS_USER),
                                 .err = get64(b, F_ERR), .trapno = get64(b, F_TRAPNO),
                                 .cr2 = get64(b, F_CR2) };
    if (ctx->rip >= USER_TOP || ctx->rsp >= USER_TOP)
        return -EFAULT; /* never a kernel or non-canonical address */
    uint64_t fp = get64(b, F_FPSTATE);
    if (fp) {
        if (fpstate_read(gm, fp, xs, ctx))
            return -EFAULT;
    } else { /* no FPU state: the initial one */
        sigframe_fpstate_init(ctx, NULL);
    }
    *mask = get64(b, F_SIGMASK);
    int32_t ss_flags;
    memcpy(&ss_flags, b + F_UC_STACK + 8, 4);
    *alt = (struct sig_altstack){ .sp = get64(b, F_UC_STACK), .size = get64(b, F_UC_STACK + 16),
                                  .flags = ss_flags & SS_DISABLE_FLAG };
    return 0;
}
