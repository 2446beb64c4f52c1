/* The Linux tier machine's state as KVM holds it (vCPUs, irqchip, PIT, clock): captured from a stopped VM, restored into a new one. */
#ifndef ISOVM_LINUX_LSTATE_H
#define ISOVM_LINUX_LSTATE_H
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include "vmm/linux/lvm.h"

#define LSTATE_MAX_MSRS 256

/* One vCPU: everything KVM_RUN depends on, in the order restore sets it. */
struct lstate_vcpu {
    struct kvm_mp_state mp;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    uint32_t xsave[1024];       /* struct kvm_xsave's region (its flexible tail never used) */
    struct kvm_xcrs xcrs;
    struct kvm_debugregs dregs;
    struct kvm_lapic_state lapic;
    struct kvm_vcpu_events events;
    uint32_t nmsrs, pad;
    struct kvm_msr_entry msrs[LSTATE_MAX_MSRS];
};

struct lstate {
    uint32_t nvcpus, pad;
    struct kvm_clock_data clock;
    struct kvm_pit_state2 pit;
    struct kvm_irqchip pic_master, pic_slave, ioapic;
    struct lstate_vcpu vcpu[LVM_MAX_VCPUS];
};

/* Whether this host's KVM can capture and restore what lstate holds (in-kernel irqchip state,
 * vCPU events, debug registers, XCRs, an XSAVE area that fits struct kvm_xsave). 0, or
 * -EOPNOTSUPP with why in why. */
int lstate_supported(const struct lvm *m, char *why, size_t whylen);

/* Capture m's state into s. Every vCPU must be out of KVM_RUN for good, with any I/O it exited
 * for completed (lvcpu parks them so). 0, or a negative errno after a message. */
int lstate_capture(const struct lvm *m, struct lstate *s);

/* Checks on a state read from a file before any of it reaches KVM: the vCPU count is m's, MSR
 * counts in range, and the irqchip records are the ones they claim to be. 0 or -EINVAL with
 * what in err. */
int lstate_check(const struct lstate *s, unsigned nvcpus, char *err, size_t errlen);

/* Restore s into m, a VM just made by lvm_create with the same RAM size and vCPU count and RAM
 * already holding the snapshot's contents. 0, or a negative errno after a message (m is then
 * unusable: destroy it). */
int lstate_restore(struct lvm *m, const struct lstate *s);

#endif
