/* One microVM: the KVM handles, guest RAM, page tables, firmware and vCPUs. */
#ifndef ISOVM_VM_H
#define ISOVM_VM_H
#include <linux/kvm.h>
#include <stdint.h>
#include "guest_mem.h"
#include "paging.h"

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
};

struct vm {
    int kvm_fd;
    int vm_fd;
    int run_size;
    struct guest_mem gm;
    struct paging pg;
    struct firmware_image fw;
    struct kvm_cpuid2 *cpuid;      /* what the vCPUs are given */
    uint64_t xcr0;                 /* 0 when XSAVE is not offered */
    uint64_t cr4;
};

/* Open /dev/kvm, check API 12 and the extensions isovm uses, create the VM with ram_size bytes
 * of RAM, write the firmware and its tables. Prints the reason and returns -errno on failure. */
int vm_create(struct vm *vm, uint64_t ram_size);

/* Create vCPU `index`, set it to start in the firmware, which enters ring 3 at entry with the
 * given stack pointer. */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, int index, uint64_t entry, uint64_t rsp);

void vcpu_destroy(struct vm *vm, struct vcpu *vcpu);
void vm_destroy(struct vm *vm);

#endif
