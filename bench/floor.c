/* The floor any KVM VMM pays: create a VM and a vCPU, run a few real-mode instructions to HLT.
 * `floor` does exactly that once; `floor exits N` first makes the guest do N port-I/O exits
 * (out; jmp back), each answered by re-entering at once: the raw exit round trip. `floor apic`
 * gives the vCPU KVM's in-kernel local APIC (a split irqchip, as isovm's vCPUs have) and stops
 * at the guest's first port-I/O exit (its HLT would wait in the kernel for an interrupt). */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    long exits = (argc == 3 && strcmp(argv[1], "exits") == 0) ? atol(argv[2]) : 0;
    int apic = argc == 2 && strcmp(argv[1], "apic") == 0;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("/dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        die("KVM_CREATE_VM");
    struct kvm_enable_cap split = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 0 } };
    if (apic && ioctl(vm, KVM_ENABLE_CAP, &split) < 0)
        die("KVM_CAP_SPLIT_IRQCHIP");
    uint8_t *mem = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap");
    /* 0x1000: out 0x10,al ; cmp byte [0x1800],0 ; jz 0x1000 ; hlt  (VMM sets [0x1800] to stop) */
    static const uint8_t code[] = { 0xe6, 0x10, 0x80, 0x3e, 0x00, 0x18, 0x00, 0x74, 0xf7, 0xf4 };
    memcpy(mem + 0x1000, code, sizeof code);
    mem[0x1800] = exits <= 1;
    struct kvm_userspace_memory_region r = { .slot = 0, .memory_size = 0x2000,
                                             .userspace_addr = (uintptr_t)mem };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        die("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");
    struct kvm_sregs s;
    if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
        die("KVM_GET_SREGS");
    s.cs.base = 0;
    s.cs.selector = 0;
    s.ds.base = 0;
    s.ds.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs g = { .rip = 0x1000, .rflags = 2 };
    if (ioctl(vcpu, KVM_SET_REGS, &g) < 0)
        die("KVM_SET_REGS");
    long seen = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
            die("KVM_RUN");
        if (run->exit_reason == KVM_EXIT_HLT)
            break;
        if (run->exit_reason != KVM_EXIT_IO) {
            fprintf(stderr, "floor: unexpected exit %u\n", run->exit_reason);
            return 1;
        }
        if (apic)
            break;
        if (++seen >= exits - 1)
            mem[0x1800] = 1;
    }
    return 0;
}
