/* /dev/kvm and one VM: the checks isovm needs (not PVM, API 12, the extensions), the VM, its
 * TSS address, and the CPUID that KVM supports. Shared by both tiers. */
#include "vmm/core/kvm.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "lib/log.h"

static int kvm_check_ext(int kvm_fd, long ext, const char *name)
{
    int r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, ext);
    if (r <= 0) {
        log_err("KVM lacks the %s extension, which isovm needs", name);
        return -ENOTSUP;
    }
    return 0;
}

static int cpuid_setup(struct kvm_vm *vm)
{
    for (int nent = 64; nent <= 1024; nent *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof *c + (size_t)nent * sizeof c->entries[0]);
        if (!c)
            return -ENOMEM;
        c->nent = (uint32_t)nent;
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            vm->cpuid = c;
            return 0;
        }
        int e = errno;
        free(c);
        if (e != E2BIG) {
            log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
            return -e;
        }
    }
    return -E2BIG;
}

int kvm_vm_open(struct kvm_vm *vm)
{
    int rc;
    vm->kvm_fd = vm->vm_fd = -1;
    vm->cpuid = NULL;
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        int e = errno;
        log_err("cannot open /dev/kvm: %s (isovm needs KVM; without it, run jobs through "
                "tests/emuhost/run.sh)", strerror(e));
        return -e;
    }
    /* PVM (kvm_pvm) offers /dev/kvm without hardware virtualization: its guests must be
     * PVM-aware, and neither isovm's ring-0 firmware nor a stock kernel is. */
    if (access("/sys/module/kvm_pvm", F_OK) == 0 && access("/sys/module/kvm_amd", F_OK) != 0 &&
        access("/sys/module/kvm_intel", F_OK) != 0) {
        log_err("/dev/kvm on this host is PVM (kvm_pvm), which cannot run isovm's guests; "
                "run jobs through tests/emuhost/run.sh --force-emulated");
        return -ENOTSUP;
    }
    int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        log_err("/dev/kvm speaks API version %d; isovm needs %d", api, KVM_API_VERSION);
        return -ENOTSUP;
    }
    if ((rc = kvm_check_ext(vm->kvm_fd, KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY")) ||
        (rc = kvm_check_ext(vm->kvm_fd, KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID")) ||
        (rc = kvm_check_ext(vm->kvm_fd, KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT")))
        return rc;
    vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vm->run_size < (int)sizeof(struct kvm_run)) {
        log_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        return -ENOTSUP;
    }
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        int e = errno;
        log_err("KVM_CREATE_VM: %s", strerror(e));
        return -e;
    }
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
        ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) {
        int e = errno;
        log_err("KVM_SET_TSS_ADDR: %s", strerror(e));
        return -e;
    }
    return cpuid_setup(vm);
}

void kvm_vm_close(struct kvm_vm *vm)
{
    free(vm->cpuid);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    vm->cpuid = NULL;
    vm->vm_fd = vm->kvm_fd = -1;
}
