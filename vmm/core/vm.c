/* Creates the microVM: KVM checks, guest RAM, firmware, descriptor tables and vCPU state. */
#include "vmm/core/vm.h"
#include "vmm/core/kvm.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "firmware/abi.h"
#include "lib/log.h"

#define MSR_APIC_BASE       0x0000001b
#define MSR_EFER            0xc0000080
#define MSR_STAR            0xc0000081
#define MSR_LSTAR           0xc0000082
#define MSR_CSTAR           0xc0000083
#define MSR_SFMASK          0xc0000084
#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_KERNEL_GS_BASE  0xc0000102

#define EFER_SCE  (1u << 0)
#define EFER_LME  (1u << 8)
#define EFER_LMA  (1u << 10)
#define EFER_NXE  (1u << 11)
#define CR0_PE    (1u << 0)
#define CR0_MP    (1u << 1)
#define CR0_ET    (1u << 4)
#define CR0_NE    (1u << 5)
#define CR0_WP    (1u << 16)
#define CR0_PG    (1u << 31)
#define CR4_PAE   (1u << 5)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_UMIP  (1u << 11)
#define CR4_OSXSAVE (1u << 18)
#define CR4_SMEP  (1u << 20)
#define CR4_SMAP  (1u << 21)
/* Flags cleared on syscall entry: as Linux, everything a job could use against ring 0. */
#define SFMASK_BITS 0x257fd5ull

static struct kvm_cpuid_entry2 *cpuid_find(struct vm *vm, uint32_t fn, uint32_t idx)
{
    for (uint32_t i = 0; i < vm->kvm.cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &vm->kvm.cpuid->entries[i];
        if (e->function == fn && e->index == idx)
            return e;
    }
    return NULL;
}

/* CR4 and XCR0 from what the host CPU offers: SSE always, XSAVE/AVX and the ring-0
 * protections (SMEP, SMAP, UMIP) where available. */
static void features_choose(struct vm *vm)
{
    vm->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    struct kvm_cpuid_entry2 *l1 = cpuid_find(vm, 1, 0);
    struct kvm_cpuid_entry2 *l7 = cpuid_find(vm, 7, 0);
    struct kvm_cpuid_entry2 *ld = cpuid_find(vm, 0xd, 0);
    if (l7) {
        if (l7->ebx & (1u << 7))
            vm->cr4 |= CR4_SMEP;
        if (l7->ebx & (1u << 20))
            vm->cr4 |= CR4_SMAP;
        if (l7->ecx & (1u << 2))
            vm->cr4 |= CR4_UMIP;
    }
    vm->xcr0 = 0;
    if (l1 && (l1->ecx & (1u << 26)) && ld) {
        uint64_t offered = ld->eax | ((uint64_t)ld->edx << 32);
        uint64_t x = offered & 0x7; /* x87, SSE, AVX */
        if ((offered & 0xe0) == 0xe0)
            x |= 0xe0; /* AVX-512 state comes as a set */
        if ((x & 0x3) == 0x3) {
            vm->xcr0 = x;
            vm->cr4 |= CR4_OSXSAVE;
        }
    }
    /* the standard format's size: past the furthest component enabled (CPUID 0xD, i: size
     * in eax, offset in ebx) */
    vm->xsave_size = 512 + 64;
    for (unsigned i = 2; i < 64 && vm->xcr0; i++) {
        const struct kvm_cpuid_entry2 *e = (vm->xcr0 >> i) & 1 ? cpuid_find(vm, 0xd, i) : NULL;
        if (e && e->ebx + e->eax > vm->xsave_size)
            vm->xsave_size = e->ebx + e->eax;
    }
    if (vm->xsave_size > SIG_XSTATE_MAX) { /* no frame could hold it: fxsave's state only */
        vm->xcr0 &= 0x7;
        vm->xsave_size = 512 + 64 + 256;
    }
}

static void gdt_entry(uint64_t *gdt, unsigned sel, uint64_t desc) { gdt[sel / 8] = desc; }

static void tables_write(struct vm *vm)
{
    uint8_t *h = vm->gm.host;
    uint64_t *gdt = (uint64_t *)(void *)(h + ISOVM_GDT_GPA);
    gdt_entry(gdt, ISOVM_SEL_KCODE, 0x00af9b000000ffffull); /* 64-bit code, DPL 0 */
    gdt_entry(gdt, ISOVM_SEL_KDATA, 0x00cf93000000ffffull); /* data, DPL 0 */
    gdt_entry(gdt, ISOVM_SEL_UDATA, 0x00cff3000000ffffull); /* data, DPL 3 */
    gdt_entry(gdt, ISOVM_SEL_UCODE, 0x00affb000000ffffull); /* 64-bit code, DPL 3 */
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        uint64_t base = ISOVM_TSS_GPA + (uint64_t)i * ISOVM_TSS_STRIDE, limit = 103;
        uint64_t lo = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                      (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
        gdt_entry(gdt, ISOVM_SEL_TSS0 + 16 * i, lo);
        gdt_entry(gdt, ISOVM_SEL_TSS0 + 16 * i + 8, base >> 32);
        /* TSS: rsp0 at 4, ist1 at 36, iomap base at 102 = 104: no I/O bitmap. */
        uint8_t *tss = h + base;
        uint64_t stack_top = ISOVM_FW_STACK_GPA + ((uint64_t)i + 1) * ISOVM_PAGE_SIZE;
        memcpy(tss + 4, &stack_top, 8);
        memcpy(tss + 36, &stack_top, 8);
        uint16_t iomap = 104;
        memcpy(tss + 102, &iomap, 2);
        /* Request block. */
        struct isovm_hcblock *b = (void *)(h + ISOVM_HCBLOCK_GPA + (uint64_t)i * ISOVM_HCBLOCK_STRIDE);
        b->self = ISOVM_HCBLOCK_GPA + (uint64_t)i * ISOVM_HCBLOCK_STRIDE;
        b->abi = ISOVM_ABI_VERSION;
        b->cpu = i;
    }
    /* IDT: the 32 CPU exceptions go to the firmware stubs on IST1; only #BP may be raised from
     * ring 3 (int3). Vectors 32..255 stay not present: `int N` from ring 3 is a #GP. */
    uint8_t *idt = h + ISOVM_IDT_GPA;
    for (unsigned v = 0; v < 32; v++) {
        uint64_t off = vm->fw.exc_stubs_gpa + v * vm->fw.exc_stride;
        unsigned dpl = (v == 3) ? 3 : 0;
        uint64_t lo = (off & 0xffff) | ((uint64_t)ISOVM_SEL_KCODE << 16) | (1ull << 32) /* IST1 */ |
                      ((uint64_t)(0x8e | (dpl << 5)) << 40) | (((off >> 16) & 0xffff) << 48);
        uint64_t hi = off >> 32;
        memcpy(idt + v * 16, &lo, 8);
        memcpy(idt + v * 16 + 8, &hi, 8);
    }
}

/* A split irqchip: each vCPU gets KVM's in-kernel local APIC (no PIC, no I/O APIC; vcpu_setup
 * disables it in hardware, and no interrupt is ever sent). KVM patches kernel code (a static
 * key) when the first vCPU without an in-kernel APIC is created and again when the last one is
 * destroyed, on every launch; the APIC's own keys are released lazily (a second later), so
 * launches close together patch nothing (issue 16: about a quarter of a cold launch's CPU in
 * the emulated host). Without the capability, vCPUs are made without an APIC, as before. */
static void lapic_choose(struct vm *vm)
{
    if (ioctl(vm->kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) <= 0)
        return;
    struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 0 } };
    if (ioctl(vm->kvm.vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
        log_debug("KVM_CAP_SPLIT_IRQCHIP: %s (vCPUs without a local APIC)", strerror(errno));
        return;
    }
    vm->lapic = true;
}

int vm_open(struct vm *vm)
{
    memset(vm, 0, sizeof *vm);
    vm->kvm.kvm_fd = vm->kvm.vm_fd = -1;
    int rc = firmware_image_get(&vm->fw);
    if (rc)
        return rc;
    if ((rc = kvm_vm_open(&vm->kvm)))
        return rc;
    features_choose(vm);
    lapic_choose(vm);
    vm->phys_bits = 36; /* the architectural minimum, unless KVM says more */
    for (uint32_t i = 0; i < vm->kvm.cpuid->nent; i++)
        if (vm->kvm.cpuid->entries[i].function == 0x80000008 &&
            (vm->kvm.cpuid->entries[i].eax & 0xff) >= 36)
            vm->phys_bits = vm->kvm.cpuid->entries[i].eax & 0xff;
    int n = ioctl(vm->kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    vm->nr_memslots = n > 0 ? (uint32_t)n : 32;
    return 0;
}

uint64_t vm_phys_bytes(uint64_t limit_bytes)
{
    return paging_window_bytes(limit_bytes) + paging_area_bytes(limit_bytes);
}

void *vm_ram_map(uint64_t limit_bytes)
{
    uint64_t size = vm_phys_bytes(limit_bytes);
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        log_err("cannot map %llu bytes of guest-physical space: %s", (unsigned long long)size,
                strerror(errno));
        return NULL;
    }
    madvise(mem, size, MADV_DONTDUMP);
    /* 4 KiB host pages: a transparent huge page would clear 2 MiB at the first touch of each
     * region the launch writes (firmware, tables, ELF, stack: most of a short job's host time
     * in an emulated host, issue 16) and count them all as the job's memory. */
    madvise(mem, size, MADV_NOHUGEPAGE);
    return mem;
}

static int memslot_set(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, uint8_t *host)
{
    struct kvm_userspace_memory_region region = {
        .slot = slot, .guest_phys_addr = gpa, .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)host,
    };
    if (ioctl(vm->kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        int e = errno;
        log_err("KVM_SET_USER_MEMORY_REGION (slot %u, %llu bytes at 0x%llx): %s", slot,
                (unsigned long long)size, (unsigned long long)gpa, strerror(e));
        return -e;
    }
    return 0;
}

/* A space's window memslot `index`, made when a page in it is first given: KVM slot
 * 1 + gpa / slot_bytes (the first space's 1 + index; another's, at its slot-aligned gpa_base,
 * above them), the window's end (pt_lo) bounding the last one. */
static int window_slot_make(struct guest_mem *gm, uint64_t index)
{
    struct vm *vm = gm->slot_ctx;
    uint64_t off = index * gm->slot_bytes, size = gm->slot_bytes;
    if (off >= gm->pt_lo)
        return -EINVAL;
    if (size > gm->pt_lo - off)
        size = gm->pt_lo - off;
    return memslot_set(vm, 1 + (uint32_t)((gm->gpa_base + off) / gm->slot_bytes),
                       gm->gpa_base + off, size, gm->host + off);
}

int vm_space_make(struct vm *vm, struct guest_mem *gm, struct paging *pg, unsigned index)
{
    const struct guest_mem *root = &vm->gm;
    uint64_t window = root->pt_lo, sb = root->slot_bytes;
    uint64_t stride = (window + sb - 1) / sb * sb;
    uint64_t base = (root->size + sb - 1) / sb * sb + (uint64_t)(index - 1) * stride;
    if (index == 0 || base + window > (1ull << vm->phys_bits) ||
        1 + (base + window - 1) / sb >= vm->nr_memslots)
        return -EAGAIN; /* no guest-physical room (or memslot number) for one more space */
    uint8_t *host = mmap(NULL, window, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host == MAP_FAILED)
        return -EAGAIN;
    madvise(host, window, MADV_DONTDUMP);
    madvise(host, window, MADV_NOHUGEPAGE);
    memset(gm, 0, sizeof *gm);
    if (gmem_space_init(gm, &vm->gm, host, base)) {
        munmap(host, window);
        return -EAGAIN;
    }
    gm->on_slot = window_slot_make;
    gm->slot_ctx = vm;
    memset(pg, 0, sizeof *pg);
    return 0;
}

int vm_space_tables(struct vm *vm, struct guest_mem *gm, struct paging *pg)
{
    return paging_space_init(pg, gm, &vm->pg, vm->fw.size);
}

void vm_space_end(struct guest_mem *gm, struct paging *pg, bool keep_pages)
{
    gmem_space_clear(gm, keep_pages);
    paging_space_free(pg, gm);
}

void vm_space_destroy(struct guest_mem *gm)
{
    if (gm->host)
        munmap(gm->host, gm->size);
    gm->host = NULL;
    gmem_tables_free(gm);
}

int vm_ram_attach(struct vm *vm, uint8_t *mem, uint64_t limit_bytes)
{
    struct guest_mem *gm = &vm->gm;
    uint64_t window = paging_window_bytes(limit_bytes);
    gm->host = mem;
    gm->size = vm_phys_bytes(limit_bytes);
    gm->pt_lo = window;
    if (!gm->perm && gmem_tables_alloc(gm, window, limit_bytes))
        return -ENOMEM;
    if (gmem_sigbus_guard_init() < 0)
        return -EINVAL;
    gm->on_slot = window_slot_make;
    gm->slot_ctx = vm;
    /* Made now: the window's top slot (the stack, the first mmaps) with the page-table area
     * after it, as KVM slot 0 (one ioctl: each costs an SRCU grace period), and its bottom one
     * (the firmware, a program's image); the rest when first used */
    uint64_t top = (gm->pt_lo - 1) / gm->slot_bytes;
    int rc = memslot_set(vm, 0, top * gm->slot_bytes, gm->size - top * gm->slot_bytes,
                         gm->host + top * gm->slot_bytes);
    if (rc)
        return rc;
    gm->slot_made[top / 8] |= (uint8_t)(1u << (top % 8));
    return gmem_slot_need(gm, 0);
}

int vm_ram_init(struct vm *vm)
{
    struct guest_mem *gm = &vm->gm;
    memcpy(gm->host + ISOVM_FW_CODE_GPA, vm->fw.bytes, vm->fw.size);
    if (paging_init(&vm->pg, gm, vm->fw.size)) {
        log_err("a memory limit of %llu bytes is too small for the firmware and page tables",
                (unsigned long long)gm->limit_bytes);
        return -ENOMEM;
    }
    tables_write(vm);
    return 0;
}

int vm_create(struct vm *vm, uint64_t ram_size)
{
    int rc = vm_open(vm);
    if (rc)
        return rc;
    uint8_t *mem = vm_ram_map(ram_size);
    if (!mem)
        return -ENOMEM;
    if ((rc = vm_ram_attach(vm, mem, ram_size))) /* mem is the VM's now: vm_destroy unmaps it */
        return rc;
    return vm_ram_init(vm);
}

static struct kvm_segment seg_make(uint16_t sel, uint8_t type, uint8_t dpl, int code)
{
    struct kvm_segment s = {
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
        .dpl = dpl, .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
    };
    return s;
}

static int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *what)
{
    if (ioctl(v->fd, req, arg) < 0) {
        int e = errno;
        log_err("vCPU %d: %s: %s", v->index, what, strerror(e));
        return -e;
    }
    return 0;
}

int vcpu_open(struct vm *vm, struct vcpu *v, int index)
{
    memset(v, 0, sizeof *v);
    v->index = index;
    v->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, index);
    if (v->fd < 0) {
        int e = errno;
        log_err("KVM_CREATE_VCPU %d: %s", index, strerror(e));
        return -e;
    }
    v->run = mmap(NULL, (size_t)vm->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        int e = errno;
        v->run = NULL;
        log_err("vCPU %d: cannot map its kvm_run area: %s", index, strerror(e));
        return -e;
    }
    v->block_gpa = ISOVM_HCBLOCK_GPA + (uint64_t)index * ISOVM_HCBLOCK_STRIDE;
    return vcpu_ioctl(v, KVM_SET_CPUID2, vm->kvm.cpuid, "KVM_SET_CPUID2");
}

/* The in-kernel APIC off in hardware (its MMIO page then never shadows guest RAM that covers
 * 0xfee00000), and the vCPU runnable: KVM makes every vCPU but 0 wait for INIT/SIPI when the
 * APIC is in the kernel. */
static int lapic_disable(struct vcpu *v)
{
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e[1];
    } base = { .h = { .nmsrs = 1 }, .e = { { .index = MSR_APIC_BASE, .data = 0 } } };
    if (ioctl(v->fd, KVM_SET_MSRS, &base) != 1) {
        log_err("vCPU %d: KVM_SET_MSRS: could not disable the local APIC", v->index);
        return -EIO;
    }
    struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
    return vcpu_ioctl(v, KVM_SET_MP_STATE, &mp, "KVM_SET_MP_STATE");
}

int vcpu_setup(struct vm *vm, struct vcpu *v, const struct kvm_regs *start, uint64_t fs_base,
               const struct kvm_fpu *fpu, uint64_t cr3)
{
    int rc, index = v->index;
    struct kvm_sregs sr;
    if ((rc = vcpu_ioctl(v, KVM_GET_SREGS, &sr, "KVM_GET_SREGS")))
        return rc;
    sr.cs = seg_make(ISOVM_SEL_KCODE, 0xb, 0, 1);
    sr.ds = sr.es = sr.fs = sr.gs = sr.ss = seg_make(ISOVM_SEL_KDATA, 0x3, 0, 0);
    sr.tr = (struct kvm_segment){ .base = ISOVM_TSS_GPA + (uint64_t)index * ISOVM_TSS_STRIDE,
                                  .limit = 103, .selector = (uint16_t)(ISOVM_SEL_TSS0 + 16 * index),
                                  .type = 0xb, .present = 1 };
    sr.ldt = (struct kvm_segment){ .unusable = 1 };
    sr.gdt.base = ISOVM_GDT_GPA;
    sr.gdt.limit = (uint16_t)(ISOVM_SEL_TSS0 + 16 * ISOVM_MAX_VCPUS - 1);
    sr.idt.base = ISOVM_IDT_GPA;
    sr.idt.limit = 32 * 16 - 1;
    sr.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    sr.cr3 = cr3 ? cr3 : vm->pg.pml4_gpa;
    sr.cr4 = vm->cr4;
    sr.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    if ((rc = vcpu_ioctl(v, KVM_SET_SREGS, &sr, "KVM_SET_SREGS")))
        return rc;
    if (vm->xcr0) {
        struct kvm_xcrs x = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = vm->xcr0 } } };
        if ((rc = vcpu_ioctl(v, KVM_SET_XCRS, &x, "KVM_SET_XCRS")))
            return rc;
    }
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e[7];
    } msrs = { .h = { .nmsrs = 7 }, .e = {
        { .index = MSR_STAR, .data = ((uint64_t)ISOVM_SEL_USTAR << 48) | ((uint64_t)ISOVM_SEL_KCODE << 32) },
        { .index = MSR_LSTAR, .data = vm->fw.syscall_gpa },
        { .index = MSR_CSTAR, .data = 0 },
        { .index = MSR_SFMASK, .data = SFMASK_BITS },
        { .index = MSR_KERNEL_GS_BASE, .data = v->block_gpa },
        { .index = MSR_FS_BASE, .data = fs_base },
        { .index = MSR_GS_BASE, .data = 0 },
    } };
    if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 7) {
        log_err("vCPU %d: KVM_SET_MSRS: could not set the syscall MSRs", index);
        return -EIO;
    }
    if (vm->lapic && (rc = lapic_disable(v)))
        return rc;
    if (log_verbose) {
        struct { struct kvm_msrs h; struct kvm_msr_entry e[3]; } chk = { .h = { .nmsrs = 3 },
            .e = { { .index = MSR_STAR }, { .index = MSR_LSTAR }, { .index = MSR_SFMASK } } };
        int n = ioctl(v->fd, KVM_GET_MSRS, &chk);
        log_debug("msrs(%d): star 0x%llx lstar 0x%llx sfmask 0x%llx", n,
                  (unsigned long long)chk.e[0].data, (unsigned long long)chk.e[1].data,
                  (unsigned long long)chk.e[2].data);
    }
    struct kvm_fpu fresh = { .fcw = 0x37f, .mxcsr = 0x1f80 };
    if ((rc = vcpu_ioctl(v, KVM_SET_FPU, (void *)(fpu ? fpu : &fresh), "KVM_SET_FPU")))
        return rc;
    /* fw_start does sysretq: rcx -> rip, r11 -> rflags; rsp is already the job's. */
    struct kvm_regs regs = *start;
    regs.rip = vm->fw.start_gpa;
    regs.rflags = 0x2;
    return vcpu_ioctl(v, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

int vcpu_start_at(struct vm *vm, struct vcpu *v, uint64_t entry, uint64_t rsp)
{
    struct kvm_regs regs = { .rcx = entry, .r11 = 0x202, .rsp = rsp,
                             .rip = vm->fw.start_gpa, .rflags = 0x2 };
    return vcpu_ioctl(v, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

int vcpu_create(struct vm *vm, struct vcpu *v, int index, uint64_t entry, uint64_t rsp)
{
    int rc = vcpu_open(vm, v, index);
    if (rc)
        return rc;
    struct kvm_regs regs = { .rcx = entry, .r11 = 0x202, .rsp = rsp };
    return vcpu_setup(vm, v, &regs, 0, NULL, 0);
}

/* An event on its way into the vCPU (KVM injects it at the next entry): redirecting the vCPU
 * now would deliver it at the redirect's target. */
static bool event_in_flight(const struct kvm_vcpu_events *ev)
{
    return ev->exception.injected || ev->exception.pending || ev->interrupt.injected ||
           ev->nmi.injected;
}

/* Send the vCPU through the firmware's flush stub (ring 0: it reloads CR3, then iretq): the
 * iret frame (rip, cs, rflags, rsp, ss) is put at frame_gpa on its firmware stack, with room
 * below for the stub's push; regs holds every other register, sr the segments as read. */
static int vcpu_iret_via_flush(struct vm *vm, struct vcpu *v, struct kvm_regs regs,
                               struct kvm_sregs *sr, uint64_t frame_gpa, const uint64_t frame[5])
{
    void *dst = gmem_host_ptr(&vm->gm, frame_gpa, 5 * sizeof *frame);
    if (!dst)
        return -EPROTO;
    memcpy(dst, frame, 5 * sizeof *frame);
    regs.rip = vm->fw.tlb_flush_gpa;
    regs.rsp = frame_gpa;
    regs.rflags = 0x2;
    sr->cs = seg_make(ISOVM_SEL_KCODE, 0xb, 0, 1);
    sr->ss = seg_make(ISOVM_SEL_KDATA, 0x3, 0, 0);
    int rc = vcpu_ioctl(v, KVM_SET_SREGS, sr, "KVM_SET_SREGS");
    return rc ? rc : vcpu_ioctl(v, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

int vcpu_tlb_shootdown(struct vm *vm, struct vcpu *v)
{
    struct kvm_regs regs;
    struct kvm_sregs sr;
    int rc;
    if ((rc = vcpu_ioctl(v, KVM_GET_REGS, &regs, "KVM_GET_REGS")) ||
        (rc = vcpu_ioctl(v, KVM_GET_SREGS, &sr, "KVM_GET_SREGS")))
        return rc;
    /* An exception on its way in (a fault whose delivery an exit interrupted; KVM injects it
     * again at the next entry): redirecting the vCPU now would deliver it at fw_tlb_flush, as
     * a firmware fault. It goes to the exception path, which reloads CR3 before it resumes
     * the job (a first touch) or never returns to it. */
    struct kvm_vcpu_events ev;
    if ((rc = vcpu_ioctl(v, KVM_GET_VCPU_EVENTS, &ev, "KVM_GET_VCPU_EVENTS")))
        return rc;
    if (event_in_flight(&ev))
        return 1;
    if (regs.rip == vm->fw.hcall_out_gpa) {
        /* In a hypercall (about to make it, or its completion is pending): the firmware acts on
         * the request block's action bits right after the `out`, before it returns to the job. */
        struct isovm_hcblock *blk = gmem_host_ptr(&vm->gm, v->block_gpa, sizeof *blk);
        if (!blk)
            return -EPROTO;
        blk->action |= ISOVM_ACT_FLUSH_TLB;
        return 0;
    }
    uint64_t ist_lo = ISOVM_FW_STACK_GPA + (uint64_t)v->index * ISOVM_PAGE_SIZE;
    uint64_t ist_hi = ist_lo + ISOVM_PAGE_SIZE, top = ist_hi;
    bool on_ist = regs.rsp > ist_lo && regs.rsp <= ist_hi;
    if (on_ist) {
        if (regs.rip < vm->fw.tlb_flush_gpa ||
            regs.rip >= vm->fw.tlb_flush_gpa + ISOVM_FW_TLB_FLUSH_LEN)
            return 1; /* the exception path: it reloads CR3 before any return to the job */
        top = regs.rsp & ~0xfull; /* a shootdown during a shootdown: nest below its frame */
    }
    uint64_t frame_gpa = top - 6 * 8; /* rip, cs, rflags, rsp, ss; and room for the push */
    if (frame_gpa < ist_lo + 64)
        return -EPROTO;
    uint64_t frame[5] = { regs.rip, sr.cs.selector, regs.rflags, regs.rsp, sr.ss.selector };
    return vcpu_iret_via_flush(vm, v, regs, &sr, frame_gpa, frame);
}

static int vcpu_fxsave_get(struct vcpu *v, uint8_t fx[512])
{
    struct kvm_fpu f;
    int rc = vcpu_ioctl(v, KVM_GET_FPU, &f, "KVM_GET_FPU");
    if (rc)
        return rc;
    memset(fx, 0, 512);
    memcpy(fx + 0, &f.fcw, 2);
    memcpy(fx + 2, &f.fsw, 2);
    fx[4] = f.ftwx;
    memcpy(fx + 6, &f.last_opcode, 2);
    memcpy(fx + 8, &f.last_ip, 8);
    memcpy(fx + 16, &f.last_dp, 8);
    memcpy(fx + 24, &f.mxcsr, 4);
    uint32_t mxcsr_mask = 0xffff;
    memcpy(fx + 28, &mxcsr_mask, 4);
    memcpy(fx + 32, f.fpr, sizeof f.fpr);
    memcpy(fx + 160, f.xmm, sizeof f.xmm);
    return 0;
}

static int vcpu_fxsave_set(struct vcpu *v, const uint8_t fx[512])
{
    struct kvm_fpu f;
    memset(&f, 0, sizeof f);
    memcpy(&f.fcw, fx + 0, 2);
    memcpy(&f.fsw, fx + 2, 2);
    f.ftwx = fx[4];
    memcpy(&f.last_opcode, fx + 6, 2);
    memcpy(&f.last_ip, fx + 8, 8);
    memcpy(&f.last_dp, fx + 16, 8);
    memcpy(&f.mxcsr, fx + 24, 4);
    f.mxcsr &= 0xffff; /* reserved bits: never given to the CPU */
    memcpy(f.fpr, fx + 32, sizeof f.fpr);
    memcpy(f.xmm, fx + 160, sizeof f.xmm);
    return vcpu_ioctl(v, KVM_SET_FPU, &f, "KVM_SET_FPU");
}

void vm_xstate(const struct vm *vm, struct sig_xstate *xs)
{
    xs->features = vm->xcr0;
    xs->size = vm->xcr0 ? vm->xsave_size : SIG_FXSAVE_SIZE;
}

_Static_assert(sizeof(struct kvm_xsave) >= SIG_XSTATE_MAX, "KVM_GET_XSAVE's region holds a frame's");

int vcpu_fpstate_get(const struct vm *vm, struct vcpu *v, struct sig_context *ctx)
{
    if (!vm->xcr0) {
        ctx->xfeatures = 0;
        ctx->fp_size = SIG_FXSAVE_SIZE;
        return vcpu_fxsave_get(v, ctx->fpstate);
    }
    struct kvm_xsave x;
    int rc = vcpu_ioctl(v, KVM_GET_XSAVE, &x, "KVM_GET_XSAVE");
    if (rc)
        return rc;
    memcpy(ctx->fpstate, x.region, vm->xsave_size);
    /* the header as XSAVE would write it for XCR0: KVM's buffer may name more (PKRU's state,
     * kept by KVM whatever the guest's XCR0) */
    uint64_t bv;
    memcpy(&bv, ctx->fpstate + 512, 8);
    bv &= vm->xcr0;
    memset(ctx->fpstate + 512, 0, 64);
    memcpy(ctx->fpstate + 512, &bv, 8);
    ctx->xfeatures = vm->xcr0;
    ctx->fp_size = vm->xsave_size;
    return 0;
}

int vcpu_fpstate_set(const struct vm *vm, struct vcpu *v, const struct sig_context *ctx)
{
    if (!vm->xcr0)
        return vcpu_fxsave_set(v, ctx->fpstate);
    struct kvm_xsave x;
    memset(&x, 0, sizeof x);
    uint32_t n = ctx->xfeatures && ctx->fp_size <= vm->xsave_size ? ctx->fp_size : SIG_FXSAVE_SIZE;
    memcpy(x.region, ctx->fpstate, n);
    uint8_t *r = (uint8_t *)x.region;
    uint32_t mxcsr;
    memcpy(&mxcsr, r + 24, 4);
    mxcsr &= 0xffff; /* reserved bits: never given to the CPU */
    memcpy(r + 24, &mxcsr, 4);
    uint64_t bv = 0x3; /* fxsave's state: x87 and SSE from it, the rest initial */
    if (n > SIG_FXSAVE_SIZE)
        memcpy(&bv, r + 512, 8);
    bv &= vm->xcr0;
    memset(r + 512, 0, 64); /* the header: XSTATE_BV only, the standard format */
    memcpy(r + 512, &bv, 8);
    return vcpu_ioctl(v, KVM_SET_XSAVE, &x, "KVM_SET_XSAVE");
}

int vcpu_enter_user(struct vm *vm, struct vcpu *v, const struct kvm_regs *user, uint64_t fs_base)
{
    struct kvm_sregs sr;
    int rc;
    if ((rc = vcpu_ioctl(v, KVM_GET_SREGS, &sr, "KVM_GET_SREGS")))
        return rc;
    struct isovm_hcblock *blk = gmem_host_ptr(&vm->gm, v->block_gpa, sizeof *blk);
    if (!blk)
        return -EPROTO;
    blk->action = 0; /* what the firmware would have done on the way back: done here */
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e[3];
    } msrs = { .h = { .nmsrs = 3 }, .e = {
        { .index = MSR_KERNEL_GS_BASE, .data = v->block_gpa },
        { .index = MSR_GS_BASE, .data = 0 },
        { .index = MSR_FS_BASE, .data = fs_base },
    } };
    if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 3) {
        log_err("vCPU %d: KVM_SET_MSRS: could not set the segment bases", v->index);
        return -EIO;
    }
    /* the iret frame at the top of the vCPU's firmware stack */
    uint64_t top = ISOVM_FW_STACK_GPA + (uint64_t)(v->index + 1) * ISOVM_PAGE_SIZE;
    const uint64_t frame[5] = { user->rip, ISOVM_SEL_UCODE | 3, user->rflags, user->rsp,
                                ISOVM_SEL_UDATA | 3 };
    return vcpu_iret_via_flush(vm, v, *user, &sr, top - 6 * 8, frame);
}

int vcpu_user_regs(struct vcpu *v, struct kvm_regs *regs)
{
    struct kvm_sregs sr;
    struct kvm_vcpu_events ev;
    int rc;
    if ((rc = vcpu_ioctl(v, KVM_GET_SREGS, &sr, "KVM_GET_SREGS")) ||
        (rc = vcpu_ioctl(v, KVM_GET_VCPU_EVENTS, &ev, "KVM_GET_VCPU_EVENTS")))
        return rc;
    if ((sr.cs.selector & 3) != 3 || event_in_flight(&ev))
        return 0;
    if ((rc = vcpu_ioctl(v, KVM_GET_REGS, regs, "KVM_GET_REGS")))
        return rc;
    return 1;
}

void vcpu_destroy(struct vm *vm, struct vcpu *v)
{
    if (v->run)
        munmap(v->run, (size_t)vm->kvm.run_size);
    if (v->fd >= 0)
        close(v->fd);
    v->run = NULL;
    v->fd = -1;
}

void vm_destroy(struct vm *vm)
{
    if (vm->gm.host)
        munmap(vm->gm.host, vm->gm.size);
    gmem_tables_free(&vm->gm);
    paging_fini(&vm->pg);
    kvm_vm_close(&vm->kvm);
    memset(vm, 0, sizeof *vm);
    vm->kvm.vm_fd = vm->kvm.kvm_fd = -1;
}

void vm_move(struct vm *dst, struct vm *src)
{
    *dst = *src;
    if (dst->gm.pt_ctx == &src->pg)
        paging_hook(&dst->pg, &dst->gm);
    if (dst->gm.slot_ctx == src)
        dst->gm.slot_ctx = dst;
    memset(src, 0, sizeof *src);
    src->kvm.vm_fd = src->kvm.kvm_fd = -1;
}
