/* Ring-0 firmware: enters the job in ring 3, forwards each syscall to the VMM, reports faults. */
#include "abi.h"

#define MSR_FS_BASE 0xc0000100

    .code64
    .section .text.header, "ax"
    .globl fw_header
fw_header:
    .long ISOVM_FW_MAGIC
    .long ISOVM_ABI_VERSION
    .quad fw_start - fw_header
    .quad fw_syscall - fw_header
    .quad fw_exc_stubs - fw_header
    .quad 16
    .quad fw_tlb_flush - fw_header
    .quad fw_hcall_out - fw_header

    .text
/* The VMM starts each vCPU here in ring 0 with rcx = job entry, r11 = job rflags,
 * rsp = job stack, every other register as the job should see it but rax (0 here, as a new
 * thread's, a new program's and a fork's child's is), KERNEL_GS_BASE = the vCPU's request
 * block. CR3 is reloaded: a vCPU started again in a space whose tables changed (an execve)
 * holds no old translation. */
    .globl fw_start
fw_start:
    movq %cr3, %rax
    movq %rax, %cr3
    xorl %eax, %eax
    sysretq

/* syscall entry (LSTAR). rax = nr; rdi, rsi, rdx, r10, r8, r9 = args; rcx = return rip;
 * r11 = rflags. The job's stack is never touched: everything goes through the request
 * block at GS. Only rax, rcx and r11 change, as on Linux. */
    .balign 16
    .globl fw_syscall
fw_syscall:
    swapgs
    /* Read cache fast path: read(fd, buf, n) the VMM prepared for (see abi.h) is copied from
     * the cache without an exit. rflags.DF and AC are clear (SFMASK). */
    testq %rax, %rax                 /* SYS_read */
    jnz 6f
    testq %rdx, %rdx
    jz 6f
    cmpq %gs:HCB_RC_MAXLEN, %rdx
    ja 6f
    cmpq %gs:HCB_RC_AVAIL, %rdx
    ja 6f
    cmpq %gs:HCB_RC_FD, %rdi
    jne 6f
    cmpq %gs:HCB_RC_BUF, %rsi
    jne 6f
    movq %rdi, %gs:HCB_ARG0
    movq %rsi, %gs:HCB_ARG1
    movq %rcx, %gs:HCB_USER_RIP
    movq %rsi, %rdi
    movq %gs:HCB_RC_DATA, %rsi
    movq %rdx, %rcx
    testq $ISOVM_RC_SMAP, %gs:HCB_RC_FLAGS
    jz 7f
    stac
7:  rep movsb
    testq $ISOVM_RC_SMAP, %gs:HCB_RC_FLAGS
    jz 8f
    clac
8:  addq %rdx, %gs:HCB_RC_DATA
    subq %rdx, %gs:HCB_RC_AVAIL
    incq %gs:HCB_RC_HITS
    addq %rdx, %gs:HCB_RC_BYTES
    movq %rdx, %rax
    movq %gs:HCB_ARG0, %rdi
    movq %gs:HCB_ARG1, %rsi
    movq %gs:HCB_USER_RIP, %rcx
    swapgs
    sysretq
6:  movq %rax, %gs:HCB_NR
    movq %rdi, %gs:HCB_ARG0
    movq %rsi, %gs:HCB_ARG1
    movq %rdx, %gs:HCB_ARG2
    movq %r10, %gs:HCB_ARG3
    movq %r8,  %gs:HCB_ARG4
    movq %r9,  %gs:HCB_ARG5
    movq %rcx, %gs:HCB_USER_RIP
    movq %rsp, %gs:HCB_USER_RSP
    movl %gs:HCB_SELF, %eax
    movw $ISOVM_PORT_HCALL, %dx
    .globl fw_hcall_out
fw_hcall_out:
    outl %eax, %dx
    /* The VMM answered. Act on its requests, then restore and return. */
    movq %gs:HCB_ACTION, %rcx
    testq %rcx, %rcx
    jnz 2f
1:  movq %gs:HCB_ARG2, %rdx
    movq %gs:HCB_RET, %rax
    movq %gs:HCB_USER_RIP, %rcx
    swapgs
    sysretq
2:  testq $ISOVM_ACT_FLUSH_TLB, %rcx
    jz 3f
    movq %cr3, %rax
    movq %rax, %cr3
3:  testq $ISOVM_ACT_SET_FS, %rcx
    jz 4f
    movl $MSR_FS_BASE, %ecx
    movl %gs:HCB_FS_BASE, %eax
    movl %gs:HCB_FS_BASE+4, %edx
    wrmsr
4:  movq $0, %gs:HCB_ACTION
    jmp 1b

/* TLB shootdown: another thread changed the page tables while this vCPU ran. The VMM stops
 * the vCPU, puts an iret frame of where it was on its firmware stack and starts it here in
 * ring 0; every register is preserved. */
    .balign 16
    .globl fw_tlb_flush
fw_tlb_flush:
    pushq %rax
    movq %cr3, %rax
    movq %rax, %cr3
    popq %rax
    iretq
    .globl fw_tlb_flush_end
fw_tlb_flush_end:

/* Exception stubs, 16 bytes apart: push a zero error code where the CPU pushes none, push
 * the vector, and tell the VMM. Every gate uses IST1, so the frame is always on the
 * vCPU's firmware stack. The VMM resumes only a fault it mended (a page's first touch): it
 * writes ISOVM_EXC_RESUME over the vector; anything else halts the vCPU for good. */
    .balign 16
fw_exc_stubs:
    .set vec, 0
    .rept 32
    .balign 16
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    pushq $vec
    jmp fw_exc_common
    .else
    pushq $0
    pushq $vec
    jmp fw_exc_common
    .endif
    .set vec, vec + 1
    .endr

fw_exc_common:
    pushq %rdx
    pushq %rax
    movq %cr2, %rax
    pushq %rax
    movq 24(%rsp), %rax              /* the vector */
    movw $ISOVM_PORT_EXCEPTION, %dx
    outl %eax, %dx
    cmpq $ISOVM_EXC_RESUME, 24(%rsp)
    jne 5f
    /* a TLB shootdown that came while the fault was handled finds this vCPU here: flush */
    movq %cr3, %rax
    movq %rax, %cr3
    addq $8, %rsp                    /* CR2 */
    popq %rax
    popq %rdx
    addq $16, %rsp                   /* vector, error code */
    iretq
5:  hlt
    jmp 5b

    .section .note.GNU-stack,"",@progbits
