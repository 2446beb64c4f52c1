/* The vCPU run loop: KVM_RUN, then hypercall, exception, or an exit the job must not cause. */
#include "vcpu_run.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "abi.h"
#include "fault.h"
#include "hypercall.h"
#include "log.h"

static void internal_stop(struct job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void internal_stop(struct job *job, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    log_err("internal: %s", what);
    job->end = JOB_INTERNAL_ERROR;
    job->exit_status = 125;
}

/* A port-I/O exit: only the firmware can do I/O, and only on its two ports, 32 bits at a time. */
static int io_exit(struct job *job, struct vcpu *v)
{
    struct kvm_run *run = v->run;
    job->stats.exits_io++;
    if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1 ||
        run->io.data_offset > (uint64_t)job->vm.run_size - 4) {
        internal_stop(job, "unexpected port I/O (port 0x%x, size %u, count %u)", run->io.port,
                      run->io.size, run->io.count);
        return 1;
    }
    uint32_t value;
    memcpy(&value, (const uint8_t *)run + run->io.data_offset, 4);
    switch (run->io.port) {
    case ISOVM_PORT_HCALL: {
        int rc = hypercall_handle(job, v, value);
        if (rc < 0)
            internal_stop(job, "hypercall protocol violation");
        return rc != 0;
    }
    case ISOVM_PORT_EXCEPTION:
        fault_handle(job, v);
        return 1;
    default:
        internal_stop(job, "port I/O to unknown port 0x%x", run->io.port);
        return 1;
    }
}

void vcpu_run(struct job *job, struct vcpu *v)
{
    for (;;) {
        if (ioctl(v->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                job->stats.exits_intr++;
                continue;
            }
            internal_stop(job, "KVM_RUN: %s", strerror(errno));
            return;
        }
        struct kvm_run *run = v->run;
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (io_exit(job, v))
                return;
            break;
        case KVM_EXIT_HLT:
            job->stats.exits_hlt++;
            internal_stop(job, "vCPU halted outside the exception path");
            return;
        case KVM_EXIT_SHUTDOWN:
            job->stats.exits_shutdown++;
            /* A triple fault: the firmware could not even report the exception. */
            log_err("job killed by SIGSEGV: triple fault (vCPU shut down)");
            job->end = JOB_SIGNALED;
            job->signal = 11;
            job->exit_status = 128 + 11;
            return;
        case KVM_EXIT_FAIL_ENTRY:
            internal_stop(job, "vCPU entry failed (hardware reason 0x%llx)",
                          (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            return;
        case KVM_EXIT_INTERNAL_ERROR:
            internal_stop(job, "KVM internal error, suberror %u", run->internal.suberror);
            return;
        case KVM_EXIT_MMIO:
            internal_stop(job, "access to guest-physical 0x%llx outside RAM",
                          (unsigned long long)run->mmio.phys_addr);
            return;
        default:
            job->stats.exits_other++;
            internal_stop(job, "unexpected KVM exit reason %u", run->exit_reason);
            return;
        }
    }
}
