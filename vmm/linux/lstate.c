/* Capture and restore of the Linux tier machine's KVM state: vCPU registers, LAPIC, MSRs, events, irqchip, PIT, kvmclock. */
#include "vmm/linux/lstate.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "lib/log.h"

static int lstate_ioctl(int fd, unsigned long req, void *arg, const char *what, unsigned vcpu)
{
    if (ioctl(fd, req, arg) < 0) {
        int e = errno;
        if (vcpu == ~0u)
            log_err("snapshot: %s: %s", what, strerror(e));
        else
            log_err("snapshot: %s on vCPU %u: %s", what, vcpu, strerror(e));
        return -e;
    }
    return 0;
}

int lstate_supported(const struct lvm *m, char *why, size_t whylen)
{
    static const struct { long cap; const char *name; } caps[] = {
        { KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
        { KVM_CAP_PIT_STATE2, "KVM_CAP_PIT_STATE2" },
        { KVM_CAP_ADJUST_CLOCK, "KVM_CAP_ADJUST_CLOCK" },
        { KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
        { KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS" },
        { KVM_CAP_XSAVE, "KVM_CAP_XSAVE" },
        { KVM_CAP_XCRS, "KVM_CAP_XCRS" },
        { KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (ioctl(m->kvm.kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
            snprintf(why, whylen, "KVM lacks %s", caps[i].name);
            return -EOPNOTSUPP;
        }
#ifdef KVM_CAP_XSAVE2
    int xs = ioctl(m->kvm.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    if (xs > (int)sizeof(((struct lstate_vcpu *)0)->xsave)) {
        snprintf(why, whylen, "the vCPUs' XSAVE area (%d bytes) is larger than KVM_GET_XSAVE's", xs);
        return -EOPNOTSUPP;
    }
#endif
    return 0;
}

/* The MSRs KVM saves and restores (KVM_GET_MSR_INDEX_LIST) that this vCPU can read, in KVM's
 * order (the TSC before the TSC deadline). */
static int lstate_msr_list(const struct lvm *m, int vcpu_fd, struct lstate_vcpu *v)
{
    struct kvm_msr_list probe = { .nmsrs = 0 };
    if (ioctl(m->kvm.kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
        return lstate_ioctl(m->kvm.kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe, "KVM_GET_MSR_INDEX_LIST", ~0u);
    if (probe.nmsrs == 0 || probe.nmsrs > 4096) {
        log_err("snapshot: KVM lists %u MSRs", probe.nmsrs);
        return -EINVAL;
    }
    struct kvm_msr_list *list = malloc(sizeof *list + probe.nmsrs * sizeof list->indices[0]);
    if (!list)
        return -ENOMEM;
    list->nmsrs = probe.nmsrs;
    int rc = lstate_ioctl(m->kvm.kvm_fd, KVM_GET_MSR_INDEX_LIST, list, "KVM_GET_MSR_INDEX_LIST", ~0u);
    v->nmsrs = 0;
    for (uint32_t i = 0; !rc && i < list->nmsrs; i++) {
        union {
            struct kvm_msrs h;
            uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
        } one;
        memset(&one, 0, sizeof one);
        one.h.nmsrs = 1;
        one.h.entries[0].index = list->indices[i];
        if (ioctl(vcpu_fd, KVM_GET_MSRS, &one) != 1)
            continue; /* listed but not this vCPU's (another vendor's, a PMU it lacks) */
        if (v->nmsrs == LSTATE_MAX_MSRS) {
            log_err("snapshot: the vCPUs have more than %u MSRs", LSTATE_MAX_MSRS);
            rc = -E2BIG;
            break;
        }
        v->msrs[v->nmsrs++].index = list->indices[i];
    }
    free(list);
    return rc;
}

/* KVM_GET_MSRS / KVM_SET_MSRS of v's list, all of it or an error naming the first it refused. */
static int lstate_msrs(int fd, struct lstate_vcpu *v, bool set, unsigned id)
{
    struct kvm_msrs *h = malloc(sizeof *h + v->nmsrs * sizeof h->entries[0]);
    if (!h)
        return -ENOMEM;
    h->nmsrs = v->nmsrs;
    h->pad = 0;
    memcpy(h->entries, v->msrs, v->nmsrs * sizeof v->msrs[0]);
    int n = ioctl(fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, h);
    int rc = 0;
    if (n < 0) {
        rc = -errno;
        log_err("snapshot: %s on vCPU %u: %s", set ? "KVM_SET_MSRS" : "KVM_GET_MSRS", id, strerror(-rc));
    } else if ((uint32_t)n != v->nmsrs) {
        rc = -EINVAL;
        log_err("snapshot: %s on vCPU %u stopped at MSR %#x (%d of %u)", set ? "KVM_SET_MSRS" : "KVM_GET_MSRS",
                id, h->entries[n].index, n, v->nmsrs);
    } else if (!set) {
        memcpy(v->msrs, h->entries, v->nmsrs * sizeof v->msrs[0]);
    }
    free(h);
    return rc;
}

int lstate_capture(const struct lvm *m, struct lstate *s)
{
    memset(s, 0, sizeof *s);
    s->nvcpus = m->nvcpus;
    int vm = m->kvm.vm_fd, rc;
    s->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
    s->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
    s->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
    if ((rc = lstate_ioctl(vm, KVM_GET_CLOCK, &s->clock, "KVM_GET_CLOCK", ~0u)) ||
        (rc = lstate_ioctl(vm, KVM_GET_PIT2, &s->pit, "KVM_GET_PIT2", ~0u)) ||
        (rc = lstate_ioctl(vm, KVM_GET_IRQCHIP, &s->pic_master, "KVM_GET_IRQCHIP (PIC master)", ~0u)) ||
        (rc = lstate_ioctl(vm, KVM_GET_IRQCHIP, &s->pic_slave, "KVM_GET_IRQCHIP (PIC slave)", ~0u)) ||
        (rc = lstate_ioctl(vm, KVM_GET_IRQCHIP, &s->ioapic, "KVM_GET_IRQCHIP (I/O APIC)", ~0u)))
        return rc;
    for (unsigned i = 0; i < m->nvcpus; i++) {
        struct lstate_vcpu *v = &s->vcpu[i];
        int fd = m->vcpu[i].fd;
        if ((rc = lstate_ioctl(fd, KVM_GET_MP_STATE, &v->mp, "KVM_GET_MP_STATE", i)) ||
            (rc = lstate_ioctl(fd, KVM_GET_REGS, &v->regs, "KVM_GET_REGS", i)) ||
            (rc = lstate_ioctl(fd, KVM_GET_SREGS, &v->sregs, "KVM_GET_SREGS", i)) ||
            (rc = lstate_ioctl(fd, KVM_GET_XSAVE, v->xsave, "KVM_GET_XSAVE", i)) ||
            (rc = lstate_ioctl(fd, KVM_GET_XCRS, &v->xcrs, "KVM_GET_XCRS", i)) ||
            (rc = lstate_ioctl(fd, KVM_GET_DEBUGREGS, &v->dregs, "KVM_GET_DEBUGREGS", i)) ||
            (rc = lstate_ioctl(fd, KVM_GET_LAPIC, &v->lapic, "KVM_GET_LAPIC", i)) ||
            (rc = lstate_ioctl(fd, KVM_GET_VCPU_EVENTS, &v->events, "KVM_GET_VCPU_EVENTS", i)) ||
            (rc = lstate_msr_list(m, fd, v)) || (rc = lstate_msrs(fd, v, false, i)))
            return rc;
    }
    return 0;
}

int lstate_check(const struct lstate *s, unsigned nvcpus, char *err, size_t errlen)
{
    if (s->nvcpus != nvcpus) {
        snprintf(err, errlen, "it holds %u vCPUs, not %u", s->nvcpus, nvcpus);
        return -EINVAL;
    }
    if (s->pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER || s->pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
        s->ioapic.chip_id != KVM_IRQCHIP_IOAPIC) {
        snprintf(err, errlen, "its interrupt controllers' records are out of place");
        return -EINVAL;
    }
    for (unsigned i = 0; i < nvcpus; i++) {
        const struct lstate_vcpu *v = &s->vcpu[i];
        if (v->nmsrs == 0 || v->nmsrs > LSTATE_MAX_MSRS) {
            snprintf(err, errlen, "vCPU %u: %u MSRs (1 to %u)", i, v->nmsrs, LSTATE_MAX_MSRS);
            return -EINVAL;
        }
    }
    return 0;
}

/* Whether KVM's CPUID says AMD (or Hygon): SVM. */
static bool lstate_svm(const struct lvm *m)
{
    const struct kvm_cpuid2 *c = m->kvm.cpuid;
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == 0)
            return c->entries[i].ebx == 0x68747541u /* "Auth" */ || c->entries[i].ebx == 0x6f677948u /* "Hygo" */;
    return false;
}

int lstate_restore(struct lvm *m, const struct lstate *s)
{
    char err[128];
    if (lstate_check(s, m->nvcpus, err, sizeof err) < 0) {
        log_err("snapshot: %s", err);
        return -EINVAL;
    }
    int vm = m->kvm.vm_fd, rc;
    /* the machine first (the PIT and interrupt controllers), then each vCPU in Firecracker's
     * order: the LAPIC before the MSRs (the TSC deadline is an MSR), events last */
    struct kvm_pit_state2 pit = s->pit;
    struct kvm_irqchip pm = s->pic_master, ps = s->pic_slave, io = s->ioapic;
    if ((rc = lstate_ioctl(vm, KVM_SET_PIT2, &pit, "KVM_SET_PIT2", ~0u)) ||
        (rc = lstate_ioctl(vm, KVM_SET_IRQCHIP, &pm, "KVM_SET_IRQCHIP (PIC master)", ~0u)) ||
        (rc = lstate_ioctl(vm, KVM_SET_IRQCHIP, &ps, "KVM_SET_IRQCHIP (PIC slave)", ~0u)) ||
        (rc = lstate_ioctl(vm, KVM_SET_IRQCHIP, &io, "KVM_SET_IRQCHIP (I/O APIC)", ~0u)))
        return rc;
    for (unsigned i = 0; i < m->nvcpus; i++) {
        struct lstate_vcpu v = s->vcpu[i];
        int fd = m->vcpu[i].fd;
        /* The task register as the guest's LTR left it: an available 64-bit TSS (type 9). On SVM
         * KVM_GET_SREGS reports it busy (11) whatever the VMCB holds (KVM's own workaround), and
         * a processor that checks the type on an I/O permission lookup (QEMU's TCG emulating an
         * AMD host does) would then refuse the guest's ioperm'd ports after a restore. AMD
         * processors take either; Intel's VM entry wants 11, so it stays there. */
        if (lstate_svm(m) && v.sregs.tr.type == 11)
            v.sregs.tr.type = 9;
        if ((rc = lstate_ioctl(fd, KVM_SET_MP_STATE, &v.mp, "KVM_SET_MP_STATE", i)) ||
            (rc = lstate_ioctl(fd, KVM_SET_REGS, &v.regs, "KVM_SET_REGS", i)) ||
            (rc = lstate_ioctl(fd, KVM_SET_SREGS, &v.sregs, "KVM_SET_SREGS", i)) ||
            (rc = lstate_ioctl(fd, KVM_SET_XSAVE, v.xsave, "KVM_SET_XSAVE", i)) ||
            (rc = lstate_ioctl(fd, KVM_SET_XCRS, &v.xcrs, "KVM_SET_XCRS", i)) ||
            (rc = lstate_ioctl(fd, KVM_SET_DEBUGREGS, &v.dregs, "KVM_SET_DEBUGREGS", i)) ||
            (rc = lstate_ioctl(fd, KVM_SET_LAPIC, &v.lapic, "KVM_SET_LAPIC", i)) ||
            (rc = lstate_msrs(fd, &v, true, i)) ||
            (rc = lstate_ioctl(fd, KVM_SET_VCPU_EVENTS, &v.events, "KVM_SET_VCPU_EVENTS", i)))
            return rc;
    }
    /* kvmclock last, as it was: the guest's clock goes on from the snapshot's time, not the
     * host's (the init sets the wall clock from the job file) */
    struct kvm_clock_data clock = { .clock = s->clock.clock };
    return lstate_ioctl(vm, KVM_SET_CLOCK, &clock, "KVM_SET_CLOCK", ~0u);
}
