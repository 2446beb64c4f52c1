/* kvm_probe: exits 0 only if /dev/kvm really works (API 12, a VM, a vCPU that runs an OUT and a HLT). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Exit codes: 0 works, 2 cannot open, 3 wrong API, 4 VM/memory/vCPU setup failed, 5 run failed;
 * 6 /dev/kvm is PVM (no hardware virtualization: isovm's ring-0 firmware cannot run there);
 * killed by SIGALRM after 30 s if KVM_RUN hangs. Usage: kvm_probe [-q] [DEVICE] */
static int quiet;

static int fail(int code, const char *what)
{
    if (!quiet)
        fprintf(stderr, "kvm_probe: %s: %s\n", what, errno ? strerror(errno) : "unexpected result");
    return code;
}

int main(int argc, char **argv)
{
    const char *dev = "/dev/kvm";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else
            dev = argv[i];
    }

    alarm(30); /* a hung KVM_RUN must not hang the caller: SIGALRM kills us */
    errno = 0;
    int kvm = open(dev, O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return fail(2, "open /dev/kvm");
    if (access("/sys/module/kvm_pvm", F_OK) == 0 && access("/sys/module/kvm_amd", F_OK) != 0 &&
        access("/sys/module/kvm_intel", F_OK) != 0) {
        errno = 0;
        return fail(6, "/dev/kvm is PVM (kvm_pvm), not hardware KVM");
    }
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION)
        return fail(3, "KVM_GET_API_VERSION is not 12");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        return fail(4, "KVM_CREATE_VM");

    /* Real-mode guest at 0x1000: mov al,0x42; out 0x10,al; hlt */
    static const uint8_t code[] = { 0xb0, 0x42, 0xe6, 0x10, 0xf4 };
    size_t memsz = 0x2000;
    uint8_t *mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return fail(4, "mmap guest memory");
    memcpy(mem + 0x1000, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = memsz, .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail(4, "KVM_SET_USER_MEMORY_REGION");

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        return fail(4, "KVM_CREATE_VCPU");
    int runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (runsz < (int)sizeof(struct kvm_run))
        return fail(4, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        return fail(4, "mmap kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return fail(4, "KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        return fail(4, "KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return fail(4, "KVM_SET_REGS");

    int saw_out = 0;
    for (int i = 0; i < 16; i++) {
        errno = 0;
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                continue;
            return fail(5, "KVM_RUN");
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x10 && run->io.size == 1 &&
                *((uint8_t *)run + run->io.data_offset) == 0x42) {
                saw_out = 1;
                continue;
            }
            errno = 0;
            return fail(5, "unexpected I/O exit");
        case KVM_EXIT_HLT:
            if (!saw_out) {
                errno = 0;
                return fail(5, "HLT before the expected OUT");
            }
            if (!quiet)
                printf("kvm_probe: ok (API %d, vCPU ran OUT and HLT)\n", api);
            return 0;
        default:
            errno = 0;
            if (!quiet)
                fprintf(stderr, "kvm_probe: unexpected exit reason %u\n", run->exit_reason);
            return 5;
        }
    }
    errno = 0;
    return fail(5, "vCPU never reached HLT");
}
