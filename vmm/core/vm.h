/* One microVM: the KVM handles, guest RAM, page tables, firmware and vCPUs. */
#ifndef ISOVM_VM_H
#define ISOVM_VM_H
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include "vmm/core/guest_mem.h"
#include "vmm/core/kvm.h"
#include "vmm/core/paging.h"
#include "vmm/core/sigframe.h"

struct vcpu {
    int fd;
    int index;
    struct kvm_run *run;
    uint64_t block_gpa;            /* this vCPU's request block */
};

struct firmware_image {
    const uint8_t *bytes;
    uint64_t size;
    uint64_t start_gpa, syscall_gpa, exc_stubs_gpa, exc_stride;
    uint64_t tlb_flush_gpa, hcall_out_gpa;
};

struct vm {
    struct kvm_vm kvm;             /* /dev/kvm, the VM, the supported CPUID */
    struct guest_mem gm;
    struct paging pg;
    struct firmware_image fw;
    uint64_t xcr0;                 /* 0 when XSAVE is not offered */
    uint32_t xsave_size;           /* the XSAVE area of xcr0's features, standard format */
    uint64_t cr4;
    bool lapic;                    /* vCPUs get an in-kernel local APIC, hardware-disabled */
    unsigned phys_bits;            /* guest-physical address width (CPUID 0x80000008) */
    uint32_t nr_memslots;          /* KVM_CAP_NR_MEMSLOTS */
};

/* The embedded firmware image and its entry points (firmware_image.c). 0 or -errno. */
int firmware_image_get(struct firmware_image *fw);

/* Guest-physical bytes a VM with this memory limit maps: the address-space window and the
 * page-table area (vmm/core/paging.h). Only what the job uses is ever backed. */
uint64_t vm_phys_bytes(uint64_t limit_bytes);

/* The steps of vm_create, for vm_image.c: open /dev/kvm and create the VM (no RAM yet); map
 * the guest-physical space for a memory limit (anonymous, untouched; NULL after a message);
 * make mem the VM's RAM (gm, its per-page tables unless gm.perm is set already, the memslot;
 * mem is the VM's from then on, unmapped by vm_destroy); write the firmware, page tables and
 * descriptor tables. Each 0 or -errno after a message. */
int vm_open(struct vm *vm);
void *vm_ram_map(uint64_t limit_bytes);
int vm_ram_attach(struct vm *vm, uint8_t *mem, uint64_t limit_bytes);
int vm_ram_init(struct vm *vm);

/* Open /dev/kvm, check API 12 and the extensions isovm uses, create the VM for a job with a
 * memory limit of limit_bytes, write the firmware and its tables. Prints the reason and
 * returns -errno on failure. */
int vm_create(struct vm *vm, uint64_t limit_bytes);

/* Another process's address space, number index (1..): a window of its own at a guest-physical
 * place after the first space's (vm->gm) and its earlier ones, its host mapping, its memslots
 * made at first use; counted in vm->gm's frames. vm_space_tables then builds its page tables
 * (again after vm_space_end). -EAGAIN when the guest-physical space (or KVM's memslots) has no
 * room for it. */
int vm_space_make(struct vm *vm, struct guest_mem *gm, struct paging *pg, unsigned index);
int vm_space_tables(struct vm *vm, struct guest_mem *gm, struct paging *pg);
/* Empty a space (every page and table given back); its mapping and memslots stay for reuse.
 * With keep_pages (no host call on it is under way), its host pages stay, stale
 * (gmem_space_clear): the next process in the slot writes them without host page faults. */
void vm_space_end(struct guest_mem *gm, struct paging *pg, bool keep_pages);
/* Unmap a space's host memory (the VM is gone or going). */
void vm_space_destroy(struct guest_mem *gm);

/* Create vCPU `index` (KVM_CREATE_VCPU, its kvm_run area, CPUID). */
int vcpu_open(struct vm *vm, struct vcpu *vcpu, int index);

/* Put an open vCPU at the firmware's start in ring 0, which sysrets to start->rcx with rflags
 * start->r11, rsp start->rsp and every other register from *start; FS base fs_base; FPU state
 * *fpu (NULL: fresh); page tables at cr3 (0: the first space's). Used for the first thread and
 * for every clone. */
int vcpu_setup(struct vm *vm, struct vcpu *vcpu, const struct kvm_regs *start, uint64_t fs_base,
               const struct kvm_fpu *fpu, uint64_t cr3);

/* Point a vCPU vcpu_setup has set up (with any start) at the firmware's start again, to enter
 * ring 3 at entry with the given stack pointer: its registers only (a warm VM's vCPU 0). */
int vcpu_start_at(struct vm *vm, struct vcpu *vcpu, uint64_t entry, uint64_t rsp);

/* Create vCPU `index`, set it to start in the firmware, which enters ring 3 at entry with the
 * given stack pointer. */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, int index, uint64_t entry, uint64_t rsp);

/* The vCPU has been stopped (KVM_RUN returned) after another vCPU changed the page tables:
 * make it flush its TLB before it runs another guest instruction. 0, or -errno; 1 when this
 * vCPU is in the firmware's exception path, or an exception is on its way in, and will never
 * run the job again. */
int vcpu_tlb_shootdown(struct vm *vm, struct vcpu *vcpu);

void vcpu_destroy(struct vm *vm, struct vcpu *vcpu);

/* The FPU state the vCPUs of vm may have (a signal frame's): XCR0's features and their XSAVE
 * area's size; no XSAVE: features 0, fxsave's 512 bytes. */
void vm_xstate(const struct vm *vm, struct sig_xstate *xs);

/* The vCPU's FPU state into ctx (fpstate, fp_size, xfeatures: KVM_GET_XSAVE's standard format,
 * or without XSAVE fxsave's from KVM_GET_FPU), and back (a state of fxsave's format only
 * leaves the other components at their initial state). 0 or the ioctl's -errno. */
int vcpu_fpstate_get(const struct vm *vm, struct vcpu *vcpu, struct sig_context *ctx);
int vcpu_fpstate_set(const struct vm *vm, struct vcpu *vcpu, const struct sig_context *ctx);

/* Resume the vCPU in ring 3 with exactly these registers (rip, rsp, rflags too: iretq through
 * the firmware's TLB-flush stub, which reloads CR3 first), FS base fs_base, GS as the user's
 * (its base 0, the request block in KERNEL_GS_BASE), and the request block's pending actions
 * dropped: a signal handler's entry, rt_sigreturn. regs->rip is the user rip. 0 or -errno. */
int vcpu_enter_user(struct vm *vm, struct vcpu *vcpu, const struct kvm_regs *regs,
                    uint64_t fs_base);

/* Is the vCPU stopped in ring 3, with no event on its way in (a kick's exit)? 1 yes (and its
 * registers in *regs), 0 no, or -errno. */
int vcpu_user_regs(struct vcpu *vcpu, struct kvm_regs *regs);
void vm_destroy(struct vm *vm);

/* Move a made VM from *src to *dst (the paging hook points into the struct); *src is left
 * empty, as after vm_destroy. */
void vm_move(struct vm *dst, struct vm *src);

#endif
