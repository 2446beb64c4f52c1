/* Hypercall ABI and fixed guest layout shared by the firmware (assembly) and the VMM (C). */
#ifndef ISOVM_FIRMWARE_ABI_H
#define ISOVM_FIRMWARE_ABI_H

/* Bump when the request-block layout or the port protocol changes. */
#define ISOVM_ABI_VERSION 4

#define ISOVM_PAGE_SIZE 0x1000

/* Guest-physical layout of the firmware region, mapped at the same virtual addresses (supervisor
 * only) in every address space. A job's own pages and the page tables lie above it
 * (vmm/core/guest_mem.h: the address-space window, then the page-table area). */
#define ISOVM_GUARD_GPA        0x0        /* page 0: never mapped */
#define ISOVM_GDT_GPA          0x1000     /* GDT: null, kcode, kdata, -, udata, ucode, TSS[n] */
#define ISOVM_IDT_GPA          0x2000     /* 256 gates */
#define ISOVM_TSS_GPA          0x8000     /* one 128-byte slot per vCPU, up to ISOVM_TSS_END */
#define ISOVM_TSS_STRIDE       0x80
#define ISOVM_TSS_END          0xa000
#define ISOVM_HCBLOCK_GPA      0x4000     /* per-vCPU request blocks, ISOVM_HCBLOCK_STRIDE apart */
#define ISOVM_HCBLOCK_STRIDE   0x100
#define ISOVM_HCBLOCK_END      0x8000
#define ISOVM_FW_STACK_GPA     0x10000    /* per-vCPU exception (IST1) stacks, one page each */
#define ISOVM_FW_STACK_END     0x50000
#define ISOVM_FW_CODE_GPA      0x80000    /* firmware image */
#define ISOVM_FW_CODE_END      0x90000
#define ISOVM_RCACHE_GPA       0x90000    /* read cache: file data the firmware may hand out */
#define ISOVM_RCACHE_END       0x100000
#define ISOVM_USER_MIN_GPA     0x100000   /* lowest address a job may map */
#define ISOVM_MAX_VCPUS        64
/* Every per-vCPU array must hold ISOVM_MAX_VCPUS slots inside its own region. */
#if ISOVM_TSS_GPA + ISOVM_MAX_VCPUS * ISOVM_TSS_STRIDE > ISOVM_TSS_END
#error "TSS slots overflow their region"
#endif
#if ISOVM_HCBLOCK_GPA + ISOVM_MAX_VCPUS * ISOVM_HCBLOCK_STRIDE > ISOVM_HCBLOCK_END
#error "request blocks overflow their region"
#endif
#if ISOVM_FW_CODE_END > ISOVM_RCACHE_GPA || ISOVM_RCACHE_END > ISOVM_USER_MIN_GPA
#error "the read cache overlaps its neighbours"
#endif
#if ISOVM_FW_STACK_GPA + ISOVM_MAX_VCPUS * ISOVM_PAGE_SIZE > ISOVM_FW_STACK_END
#error "firmware stacks overflow their region"
#endif

/* GDT selectors. STAR makes sysret load CS=UCODE|3, SS=UDATA|3. */
#define ISOVM_SEL_KCODE   0x08
#define ISOVM_SEL_KDATA   0x10
#define ISOVM_SEL_USTAR   0x18   /* sysret base: +8 = udata, +16 = ucode */
#define ISOVM_SEL_UDATA   0x20
#define ISOVM_SEL_UCODE   0x28
#define ISOVM_SEL_TSS0    0x30   /* 16-byte descriptor per vCPU */

/* I/O ports. A 32-bit `out` to ISOVM_PORT_HCALL carries the GPA of the caller's request block;
 * a 32-bit `out` to ISOVM_PORT_EXCEPTION carries the exception vector (frame on the IST stack). */
#define ISOVM_PORT_HCALL      0x4f0
#define ISOVM_PORT_EXCEPTION  0x4f1

/* Request block field offsets (bytes). */
#define HCB_SELF      0x00   /* GPA of this block (firmware sends it with the out) */
#define HCB_NR        0x08   /* syscall number (rax) */
#define HCB_ARG0      0x10   /* rdi, rsi, rdx, r10, r8, r9 at 0x10..0x38 */
#define HCB_ARG1      0x18
#define HCB_ARG2      0x20
#define HCB_ARG3      0x28
#define HCB_ARG4      0x30
#define HCB_ARG5      0x38
#define HCB_RET       0x40   /* result, written by the VMM (negative errno on error) */
#define HCB_USER_RIP  0x48   /* rcx at syscall: where sysret returns */
#define HCB_USER_RSP  0x50
#define HCB_ACTION    0x58   /* bits the VMM sets for the firmware to act on before sysret */
#define HCB_FS_BASE   0x60   /* value for ISOVM_ACT_SET_FS */
#define HCB_ABI       0x68   /* ISOVM_ABI_VERSION, written by the VMM at setup */
#define HCB_CPU       0x70   /* vCPU index */
/* Read cache (ABI 3): when HCB_RC_MAXLEN != 0, a read(HCB_RC_FD, HCB_RC_BUF, n) with
 * 0 < n <= HCB_RC_MAXLEN and n <= HCB_RC_AVAIL is answered by the firmware from HCB_RC_DATA
 * without an exit; it counts HCB_RC_HITS and HCB_RC_BYTES. The VMM fills and empties it. */
#define HCB_RC_FD     0x78
#define HCB_RC_BUF    0x80   /* the job's buffer, checked writable by the VMM at fill time */
#define HCB_RC_MAXLEN 0x88   /* its checked length; 0 = cache off */
#define HCB_RC_DATA   0x90   /* guest address of the next cached byte */
#define HCB_RC_AVAIL  0x98   /* cached bytes left */
#define HCB_RC_HITS   0xa0
#define HCB_RC_BYTES  0xa8
#define HCB_RC_FLAGS  0xb0   /* ISOVM_RC_SMAP: bracket the copy with stac/clac */
#define HCB_SIZE      0xb8
#define ISOVM_RC_SMAP 0x1

#define ISOVM_ACT_FLUSH_TLB   0x1   /* reload CR3: the VMM changed page tables */
#define ISOVM_ACT_SET_FS      0x2   /* wrmsr FS_BASE <- HCB_FS_BASE (already validated) */

/* Firmware image header, at offset 0 of the image (loaded at ISOVM_FW_CODE_GPA). */
#define ISOVM_FW_MAGIC        0x57464f53   /* "SOFW" */
#define FWH_MAGIC        0x00   /* u32 */
#define FWH_ABI          0x04   /* u32 */
#define FWH_START        0x08   /* u64 offset: ring-0 start, sysretq to rcx/r11/rsp set by VMM */
#define FWH_SYSCALL      0x10   /* u64 offset: LSTAR target */
#define FWH_EXC_STUBS    0x18   /* u64 offset: first exception stub */
#define FWH_EXC_STRIDE   0x20   /* u64: bytes between stubs, vector i at stubs + i*stride */
#define FWH_TLB_FLUSH    0x28   /* u64 offset: reload CR3 and iretq (TLB shootdown), 16 bytes */
#define FWH_HCALL_OUT    0x30   /* u64 offset: the `out` of the syscall path */
#define ISOVM_FW_TLB_FLUSH_LEN 16

/* On an ISOVM_PORT_EXCEPTION exit the vCPU's firmware stack (IST1: every exception starts at
 * its top) holds, from the top down, the exception frame ISOVM_EXC_FRAME_QWORDS long
 * ([0] vector, [1] error code (0 if none), [2] rip, [3] cs, [4] rflags, [5] rsp, [6] ss)
 * and below it ISOVM_EXC_SAVED_QWORDS the firmware pushed: [0] CR2, [1] the job's rax,
 * [2] its rdx. So the VMM finds both at a fixed place, with no register read. It resumes the
 * job at the faulting instruction (a first touch it has mapped: ABI 4) by writing
 * ISOVM_EXC_RESUME over the vector before the next KVM_RUN; the firmware then reloads CR3,
 * restores rax and rdx and returns with iretq. Any other value: the vCPU halts for good. */
#define ISOVM_EXC_SAVED_QWORDS 3
#define ISOVM_EXC_FRAME_QWORDS 7
#define ISOVM_EXC_RESUME       0x7e5

/* isovm's own syscalls: the job makes them with `syscall` like Linux's (docs/hypercalls.md).
 * Errors are -errno in rax, as for Linux syscalls. */
#define ISOVM_SYS_BASE        1000
#define ISOVM_SYS_CAP_DERIVE  1000 /* (fd, rights, ttl_ns) -> a new fd on a capability derived
                                    * from fd's: rights a subset of fd's (else EPERM), expiring
                                    * ttl_ns from now or with its parent, whichever is first
                                    * (ttl_ns 0: with its parent) */
#define ISOVM_SYS_CAP_REVOKE  1001 /* (fd) -> 0: revoke fd's capability and everything derived
                                    * from it; fd stays allocated, every use fails EKEYREVOKED */
#define ISOVM_SYS_CAP_INFO    1002 /* (fd, struct isovm_cap_info *) -> 0 */
#define ISOVM_SYS_END         1003

/* Rights bits, as policy/rights.h */
#define ISOVM_RIGHT_READ      0x01
#define ISOVM_RIGHT_WRITE     0x02
#define ISOVM_RIGHT_CREATE    0x04
#define ISOVM_RIGHT_DELETE    0x08
#define ISOVM_RIGHT_LIST      0x10
#define ISOVM_RIGHT_STAT      0x20
#define ISOVM_RIGHT_SEEK      0x40
#define ISOVM_RIGHT_TRUNCATE  0x80
#define ISOVM_RIGHT_EXEC      0x100

#ifndef __ASSEMBLER__
#include <stdint.h>
/* ISOVM_SYS_CAP_INFO's answer. */
struct isovm_cap_info {
    uint64_t id;          /* the capability's id in the job (audit log "cap") */
    uint64_t parent_id;   /* 0 for a root (a policy grant, the console) */
    uint64_t rights;      /* ISOVM_RIGHT_* */
    uint64_t expires_in_ns; /* time left before it expires; 0 = never */
    uint64_t depth;       /* links in its chain (a root: 0) */
};
struct isovm_hcblock {
    uint64_t self;
    uint64_t nr;
    uint64_t arg[6];
    uint64_t ret;
    uint64_t user_rip;
    uint64_t user_rsp;
    uint64_t action;
    uint64_t fs_base;
    uint64_t abi;
    uint64_t cpu;
    uint64_t rc_fd, rc_buf, rc_maxlen, rc_data, rc_avail, rc_hits, rc_bytes, rc_flags;
};
_Static_assert(sizeof(struct isovm_hcblock) == HCB_SIZE, "request block layout");
_Static_assert(HCB_SIZE <= ISOVM_HCBLOCK_STRIDE, "request block fits its slot");
#endif

#endif
