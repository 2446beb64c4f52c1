/* The Linux tier's machine: a KVM VM with the in-kernel irqchip and PIT, guest RAM as memslots, vCPUs in the PVH entry state. */
#ifndef ISOVM_LINUX_LVM_H
#define ISOVM_LINUX_LVM_H
#include <linux/kvm.h>
#include <stdint.h>
#include "vmm/core/guest_ram.h"
#include "vmm/core/kvm.h"

#define LVM_MAX_VCPUS   8
#define LVM_LOW_RAM_MAX 0xc0000000ull  /* RAM below the 32-bit hole (MMIO, LAPIC, I/O APIC) */
#define LVM_HIGH_RAM_GPA 0x100000000ull /* the rest of RAM, from 4 GiB */

struct lvm_vcpu {
    int fd;                 /* -1: not created */
    struct kvm_run *run;    /* its mmap'd kvm_run */
};

struct lvm {
    struct kvm_vm kvm;
    struct guest_ram ram;   /* the regions below, for devices (THE range check) */
    uint8_t *mem;           /* one host mapping of all guest RAM: low, then high */
    uint64_t mem_size;      /* bytes of guest RAM */
    uint64_t low_size;      /* bytes of it at guest-physical 0 (the rest at LVM_HIGH_RAM_GPA) */
    unsigned nvcpus;
    struct lvm_vcpu vcpu[LVM_MAX_VCPUS];
};

/* Open KVM, create the VM with the in-kernel irqchip (PIC, I/O APIC, LAPICs) and a PIT, map
 * mem_size bytes of RAM (a multiple of 2 MiB) and create nvcpus vCPUs with KVM's supported
 * CPUID (APIC IDs 0..nvcpus-1). 0, or a negative errno after a message; lvm_destroy either way. */
int lvm_create(struct lvm *m, uint64_t mem_size, unsigned nvcpus);

/* Put vCPU 0 at a PVH entry: 32-bit protected mode, flat segments, paging off, eip = entry,
 * ebx = start_info's guest-physical address. The others wait for the kernel's INIT/SIPI. */
int lvm_vcpu_pvh_entry(struct lvm *m, uint32_t entry, uint32_t start_info_gpa);

/* Host pointer of guest-physical [gpa, gpa + len) (THE range check: guest_ram_ptr), or NULL. */
void *lvm_gpa(const struct lvm *m, uint64_t gpa, uint64_t len);

void lvm_destroy(struct lvm *m);

#endif
