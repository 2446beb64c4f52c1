/* The vCPU run loop of one job thread: KVM_RUN, then hypercall, exception, or a bad exit. */
#include "vmm/run/vcpu_run.h"
#include "vmm/run/launch_warm.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "firmware/abi.h"
#include "vmm/core/fault.h"
#include "vmm/hypercall/hypercall.h"
#include "vmm/sys/sys.h"
#include "lib/log.h"

/* The kick: SIGUSR1 to a vCPU thread. Its handler sets immediate_exit, so a kick that lands
 * between the thread's checks and KVM_RUN still makes KVM_RUN return at once with EINTR. */
static _Thread_local struct kvm_run *kick_target;

static void kick_handler(int sig)
{
    (void)sig;
    struct kvm_run *run = kick_target;
    if (run)
        run->immediate_exit = 1;
}

int vcpu_signals_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = kick_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a kick also interrupts a blocking host read or write */
    if (sigaction(SIGUSR1, &sa, NULL) < 0)
        return -errno;
    return 0;
}

static void internal_stop(struct job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void internal_stop(struct job *job, const char *fmt, ...)
{
    char what[160], line[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "internal: %s", what);
    job_end(job, JOB_INTERNAL_ERROR, 125, 0, line);
}

/* A port-I/O exit: only the firmware can do I/O, and only on its two ports, 32 bits at a time.
 * job->lock held. Returns 1 when this thread is done. */
static int io_exit(struct job *job, struct vthread *t)
{
    struct vcpu *v = &t->vcpu;
    struct kvm_run *run = v->run;
    job->stats.exits_io++;
    if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1 ||
        run->io.data_offset > (uint64_t)job->vm.kvm.run_size - 4) {
        internal_stop(job, "unexpected port I/O (port 0x%x, size %u, count %u)", run->io.port,
                      run->io.size, run->io.count);
        return 1;
    }
    uint32_t value;
    memcpy(&value, (const uint8_t *)run + run->io.data_offset, 4);
    switch (run->io.port) {
    case ISOVM_PORT_HCALL: {
        int rc = hypercall_handle(job, t, value);
        if (rc < 0)
            internal_stop(job, "hypercall protocol violation");
        return rc != 0;
    }
    case ISOVM_PORT_EXCEPTION:
        return fault_handle(job, t) != 0; /* 0: a first touch mended, the job goes on */
    default:
        internal_stop(job, "port I/O to unknown port 0x%x", run->io.port);
        return 1;
    }
}

/* One exit other than a kick, job->lock held. Returns 1 when this thread is done. */
static int exit_handle(struct job *job, struct vthread *t)
{
    struct kvm_run *run = t->vcpu.run;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        return io_exit(job, t);
    case KVM_EXIT_HLT:
        job->stats.exits_hlt++;
        internal_stop(job, "vCPU %d halted outside the exception path", t->vcpu.index);
        return 1;
    case KVM_EXIT_SHUTDOWN:
        job->stats.exits_shutdown++;
        /* A triple fault: the firmware could not even report the exception. */
        job_end(job, JOB_SIGNALED, 128 + 11, 11,
                "job killed by SIGSEGV: triple fault (vCPU shut down)");
        return 1;
    case KVM_EXIT_FAIL_ENTRY:
        job->stats.exits_other++;
        internal_stop(job, "vCPU entry failed (hardware reason 0x%llx)",
                      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        return 1;
    case KVM_EXIT_INTERNAL_ERROR:
        job->stats.exits_other++;
        internal_stop(job, "KVM internal error, suberror %u", run->internal.suberror);
        return 1;
    case KVM_EXIT_MMIO:
        job->stats.exits_other++;
        internal_stop(job, "access to guest-physical 0x%llx outside RAM",
                      (unsigned long long)run->mmio.phys_addr);
        return 1;
    default:
        job->stats.exits_other++;
        internal_stop(job, "unexpected KVM exit reason %u", run->exit_reason);
        return 1;
    }
}

/* Wait while the CPU quota of this period is spent. */
static void throttle_wait(struct job *job, struct vthread *t)
{
    pthread_mutex_lock(&job->lock);
    while (atomic_load(&job->throttled) && !atomic_load(&job->stop))
        pthread_cond_wait(&t->wake, &job->lock);
    pthread_mutex_unlock(&job->lock);
}

void vcpu_run(struct job *job, struct vthread *t)
{
    struct kvm_run *run = t->vcpu.run;
    kick_target = run;
    job_current_thread = t;
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
    /* the job's first thread enters first (its slot may run another thread later) */
    bool first_entry = t == &job->threads[0] && !job->phase_ns[PH_FIRST_ENTRY];
    bool pool_tell = first_entry;
    for (;;) {
        if (thread_stopping(t))
            break;
        if (atomic_load(&job->throttled)) {
            throttle_wait(job, t);
            continue;
        }
        uint64_t gen = atomic_load(&job->tlb_gen);
        if (t->tlb_gen != gen) {
            int rc = vcpu_tlb_shootdown(&job->vm, &t->vcpu);
            if (rc < 0) {
                pthread_mutex_lock(&job->lock);
                internal_stop(job, "TLB shootdown on vCPU %d failed: %s", t->vcpu.index,
                              strerror(-rc));
                pthread_mutex_unlock(&job->lock);
                break;
            }
            t->tlb_gen = gen;
        }
        if (first_entry) { /* read by the report after every host thread is joined */
            job->phase_ns[PH_FIRST_ENTRY] = mono_ns();
            first_entry = false;
        }
        int r = ioctl(t->vcpu.fd, KVM_RUN, 0);
        if (pool_tell) { /* the guest ran: a pool's server may take the CPU now */
            launch_warm_started();
            pool_tell = false;
        }
        if (r < 0) {
            int e = errno;
            run->immediate_exit = 0;
            if (e == EINTR || e == EAGAIN) {
                pthread_mutex_lock(&job->lock);
                job->stats.exits_intr++;
                /* a kick for a signal: its handler runs now if the job was in ring 3 */
                int64_t d = thread_sig_ready(t) && !thread_stopping(t) ? sig_deliver_async(job, t)
                                                                       : 0;
                pthread_mutex_unlock(&job->lock);
                if (d == SC_STOP)
                    break;
                continue;
            }
            pthread_mutex_lock(&job->lock);
            if (e == EFAULT && t->proc->gm->nfiles) /* the host could not back a file's page */
                proc_end(job, t->proc, proc_status_signaled(SIGBUS),
                         "job killed by SIGBUS: an access to a mapped file past its end (or a "
                         "read of it that failed)");
            else
                internal_stop(job, "KVM_RUN: %s", strerror(e));
            pthread_mutex_unlock(&job->lock);
            break;
        }
        pthread_mutex_lock(&job->lock);
        int done = exit_handle(job, t);
        pthread_mutex_unlock(&job->lock);
        if (done)
            break;
    }
    pthread_sigmask(SIG_BLOCK, &kick, NULL);
    kick_target = NULL;
    job_current_thread = NULL;
}
