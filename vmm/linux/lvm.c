/* The Linux tier's machine: KVM VM, irqchip, PIT, memslots and vCPUs set for the PVH entry. */
#include "vmm/linux/lvm.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lib/log.h"

#define LVM_IDENTITY_MAP_GPA 0xfffbc000ul /* one page below the TSS (kvm.c) */

static int lvm_ioctl(int fd, unsigned long req, void *arg, const char *what)
{
    if (ioctl(fd, req, arg) < 0) {
        int e = errno;
        log_err("%s: %s", what, strerror(e));
        return -e;
    }
    return 0;
}

/* Guest RAM: anonymous, 2 MiB-aligned and advised for transparent huge pages, so that the
 * host backs it (and KVM maps it in the nested page tables) by 2 MiB where it can: the guest
 * kernel's boot touches tens of MiB, and one nested page fault per 4 KiB page cost a third of
 * its boot time (docs/performance.md). MADV_MERGEABLE lets a host running KSM share identical
 * pages across jobs (it splits huge pages to do so: the host's choice). Both are advice. */
static int lvm_ram_map(struct lvm *m, uint64_t mem_size)
{
    const size_t align = 2u << 20;
    size_t len = (size_t)mem_size + align;
    uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                        -1, 0);
    if (raw == MAP_FAILED) {
        int e = errno;
        log_err("cannot map %llu bytes of guest RAM: %s", (unsigned long long)mem_size, strerror(e));
        return -e;
    }
    uint8_t *mem = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    size_t head = (size_t)(mem - raw), tail = len - head - (size_t)mem_size;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap(mem + mem_size, tail);
    m->mem = mem;
    madvise(m->mem, (size_t)mem_size, MADV_HUGEPAGE);
    madvise(m->mem, (size_t)mem_size, MADV_MERGEABLE);
    return 0;
}

static int lvm_memslot(struct lvm *m, uint32_t slot, uint64_t gpa, uint64_t size, uint8_t *host)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uintptr_t)host,
    };
    int rc = lvm_ioctl(m->kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &r, "KVM_SET_USER_MEMORY_REGION");
    if (!rc)
        rc = guest_ram_add(&m->ram, gpa, size, host);
    return rc;
}

/* Each vCPU's CPUID: KVM's supported set with its own APIC ID (leaf 1 EBX[31:24], leaf 0xb
 * EDX) and the hypervisor bit, which the kernel needs to look for kvmclock. */
static int lvm_vcpu_cpuid(struct lvm *m, int fd, unsigned id)
{
    const struct kvm_cpuid2 *sup = m->kvm.cpuid;
    size_t bytes = sizeof *sup + sup->nent * sizeof sup->entries[0];
    struct kvm_cpuid2 *c = malloc(bytes);
    if (!c)
        return -ENOMEM;
    memcpy(c, sup, bytes);
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == 1) {
            e->ebx = (e->ebx & 0x00ffffffu) | (id << 24);
            e->ecx |= 1u << 31; /* hypervisor */
        } else if (e->function == 0xb || e->function == 0x1f) {
            e->edx = id;
        }
    }
    int rc = lvm_ioctl(fd, KVM_SET_CPUID2, c, "KVM_SET_CPUID2");
    free(c);
    return rc;
}

/* LINT0 as ExtINT (the PIC's line) and LINT1 as NMI on the BSP's LAPIC, as a PC firmware leaves them. */
static int lvm_vcpu_lint(int fd)
{
    struct kvm_lapic_state l;
    int rc = lvm_ioctl(fd, KVM_GET_LAPIC, &l, "KVM_GET_LAPIC");
    if (rc)
        return rc;
    uint32_t lint0, lint1;
    memcpy(&lint0, l.regs + 0x350, 4);
    memcpy(&lint1, l.regs + 0x360, 4);
    lint0 = (lint0 & ~0x700u) | (7u << 8); /* delivery mode ExtINT */
    lint1 = (lint1 & ~0x700u) | (4u << 8); /* NMI */
    memcpy(l.regs + 0x350, &lint0, 4);
    memcpy(l.regs + 0x360, &lint1, 4);
    return lvm_ioctl(fd, KVM_SET_LAPIC, &l, "KVM_SET_LAPIC");
}

int lvm_create(struct lvm *m, uint64_t mem_size, unsigned nvcpus)
{
    memset(m, 0, sizeof *m);
    m->mem = MAP_FAILED;
    for (unsigned i = 0; i < LVM_MAX_VCPUS; i++)
        m->vcpu[i].fd = -1;
    guest_ram_init(&m->ram);
    if (nvcpus < 1 || nvcpus > LVM_MAX_VCPUS || mem_size == 0 || mem_size % (2u << 20)) {
        log_err("the Linux tier's machine: %u vCPUs and %llu bytes of RAM are not possible",
                nvcpus, (unsigned long long)mem_size);
        return -EINVAL;
    }
    int rc = kvm_vm_open(&m->kvm);
    if (rc)
        return rc;
    uint64_t idmap = LVM_IDENTITY_MAP_GPA;
    if ((rc = lvm_ioctl(m->kvm.vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap, "KVM_SET_IDENTITY_MAP_ADDR")))
        return rc;
    if (ioctl(m->kvm.vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        log_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
        return -errno;
    }
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    if ((rc = lvm_ioctl(m->kvm.vm_fd, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2")))
        return rc;
    if ((rc = lvm_ram_map(m, mem_size)))
        return rc;
    m->mem_size = mem_size;
    m->low_size = mem_size < LVM_LOW_RAM_MAX ? mem_size : LVM_LOW_RAM_MAX;
    if ((rc = lvm_memslot(m, 0, 0, m->low_size, m->mem)))
        return rc;
    if (mem_size > m->low_size &&
        (rc = lvm_memslot(m, 1, LVM_HIGH_RAM_GPA, mem_size - m->low_size, m->mem + m->low_size)))
        return rc;
    for (unsigned i = 0; i < nvcpus; i++) {
        struct lvm_vcpu *v = &m->vcpu[i];
        v->fd = ioctl(m->kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
        if (v->fd < 0) {
            int e = errno;
            log_err("KVM_CREATE_VCPU %u: %s", i, strerror(e));
            return -e;
        }
        m->nvcpus = i + 1;
        v->run = mmap(NULL, (size_t)m->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED) {
            int e = errno;
            v->run = NULL;
            log_err("cannot map vCPU %u's kvm_run: %s", i, strerror(e));
            return -e;
        }
        if ((rc = lvm_vcpu_cpuid(m, v->fd, i)))
            return rc;
        if (i == 0 && (rc = lvm_vcpu_lint(v->fd)))
            return rc;
    }
    return 0;
}

int lvm_vcpu_pvh_entry(struct lvm *m, uint32_t entry, uint32_t start_info_gpa)
{
    int fd = m->vcpu[0].fd;
    struct kvm_sregs s;
    int rc = lvm_ioctl(fd, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
    if (rc)
        return rc;
    /* PVH: flat 32-bit code and data segments, CR0.PE (and ET), no paging (the kernel's
     * pvh_start_xen sets up its own GDT and page tables) */
    struct kvm_segment code = {
        .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb, .present = 1, .dpl = 0,
        .db = 1, .s = 1, .l = 0, .g = 1,
    };
    struct kvm_segment data = code;
    data.selector = 0x18;
    data.type = 0x3;
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.tr.base = 0;
    s.tr.limit = 0x67;
    s.tr.type = 0xb;
    s.tr.present = 1;
    s.tr.s = 0;
    s.cr0 = 0x11; /* PE | ET */
    s.cr4 = 0;
    s.efer = 0;
    if ((rc = lvm_ioctl(fd, KVM_SET_SREGS, &s, "KVM_SET_SREGS")))
        return rc;
    struct kvm_regs r = { .rip = entry, .rbx = start_info_gpa, .rflags = 0x2 };
    if ((rc = lvm_ioctl(fd, KVM_SET_REGS, &r, "KVM_SET_REGS")))
        return rc;
    struct kvm_fpu f = { .fcw = 0x37f, .mxcsr = 0x1f80 };
    return lvm_ioctl(fd, KVM_SET_FPU, &f, "KVM_SET_FPU");
}

void *lvm_gpa(const struct lvm *m, uint64_t gpa, uint64_t len)
{
    return guest_ram_ptr(&m->ram, gpa, len);
}

void lvm_destroy(struct lvm *m)
{
    for (unsigned i = 0; i < LVM_MAX_VCPUS; i++) {
        if (m->vcpu[i].run)
            munmap(m->vcpu[i].run, (size_t)m->kvm.run_size);
        if (m->vcpu[i].fd >= 0)
            close(m->vcpu[i].fd);
        m->vcpu[i].run = NULL;
        m->vcpu[i].fd = -1;
    }
    if (m->mem != MAP_FAILED && m->mem)
        munmap(m->mem, m->mem_size);
    m->mem = MAP_FAILED;
    kvm_vm_close(&m->kvm);
}
