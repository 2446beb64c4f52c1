/* /dev/kvm and one VM, checked for what isovm needs; shared by both tiers. */
#ifndef ISOVM_KVM_H
#define ISOVM_KVM_H
#include <linux/kvm.h>

struct kvm_vm {
    int kvm_fd;                    /* /dev/kvm */
    int vm_fd;                     /* the VM */
    int run_size;                  /* bytes of a vCPU's kvm_run mapping */
    struct kvm_cpuid2 *cpuid;      /* what KVM supports (KVM_GET_SUPPORTED_CPUID) */
};

/* Open /dev/kvm (refusing PVM, which cannot run isovm's guests), check API 12 and the
 * extensions both tiers use, create a VM, set its TSS address and read the supported CPUID.
 * 0, or -errno after one line on stderr saying what is missing; kvm_vm_close frees what was
 * made either way. */
int kvm_vm_open(struct kvm_vm *vm);
void kvm_vm_close(struct kvm_vm *vm);

#endif
