/* CPU exceptions: reads the frame the firmware left, gives first-touched pages, else names the fault and ends the job. */
#include "vmm/core/fault.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "firmware/abi.h"
#include "lib/log.h"

static const char *const names[32] = {
    "divide error", "debug trap", "NMI", "breakpoint", "overflow", "bound range exceeded",
    "invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
    "invalid TSS", "segment not present", "stack-segment fault", "general protection",
    "page fault", "reserved exception 15", "x87 floating-point error", "alignment check",
    "machine check", "SIMD floating-point error", "virtualization exception",
    "control protection", "reserved exception 22", "reserved exception 23",
    "reserved exception 24", "reserved exception 25", "reserved exception 26",
    "reserved exception 27", "hypervisor injection", "VMM communication", "security exception",
    "reserved exception 31",
};

const char *fault_name(uint64_t vector)
{
    return vector < 32 ? names[vector] : "unknown exception";
}

int fault_signal(uint64_t vector)
{
    switch (vector) {
    case 0: case 16: case 19: return SIGFPE;
    case 1: case 3: return SIGTRAP;
    case 6: return SIGILL;
    case 7: case 10: case 11: case 12: case 17: return SIGBUS;
    default: return SIGSEGV;
    }
}

const char *signal_name(int sig)
{
    static const char *const sig_names[] = {
        [SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
        [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE",
        [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV",
        [SIGUSR2] = "SIGUSR2", [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",
        [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",
        [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
        [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
        [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
        [SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR", [SIGSYS] = "SIGSYS",
    };
    static _Thread_local char rt[16];
    if (sig > 0 && (size_t)sig < sizeof sig_names / sizeof sig_names[0] && sig_names[sig])
        return sig_names[sig];
    if (sig >= 32 && sig <= 64) {
        snprintf(rt, sizeof rt, "SIG%d", sig); /* real-time signals (and glibc's internal ones) */
        return rt;
    }
    return "signal";
}

void fault_describe(const struct fault_info *f, int sig, char *buf, size_t len)
{
    if (f->vector == 14) {
        unsigned e = (unsigned)f->error_code;
        const char *who = (e & 4) ? "user" : "supervisor";
        const char *what = (e & 16) ? "instruction fetch" : (e & 2) ? "write" : "read";
        const char *why = (e & 1) ? "protection violation" : "not present";
        snprintf(buf, len, "%s: page fault (%s %s, %s) at rip 0x%llx, address 0x%llx",
                 signal_name(sig), who, what, why, (unsigned long long)f->rip,
                 (unsigned long long)f->cr2);
    } else if (f->vector == 13 && f->error_code) {
        snprintf(buf, len, "%s: general protection (selector 0x%llx) at rip 0x%llx",
                 signal_name(sig), (unsigned long long)f->error_code, (unsigned long long)f->rip);
    } else {
        snprintf(buf, len, "%s: %s at rip 0x%llx", signal_name(sig), fault_name(f->vector),
                 (unsigned long long)f->rip);
    }
}

/* The job touched a page of its address space for the first time: give it. 0 when the job
 * resumes, 1 when it ended (the memory limit), -1 when this is a fault to report. */
static int first_touch(struct job *job, struct proc *proc, const struct fault_info *f)
{
    if (f->vector != 14 || (f->cs & 3) != 3 || (f->error_code & 1))
        return -1; /* not a user access to a page with no entry */
    unsigned access = (f->error_code & 0x10) ? GPERM_X : (f->error_code & 2) ? GPERM_W : GPERM_R;
    int rc = gmem_fault(proc->gm, f->cr2, access);
    if (rc == -ENOMEM) {
        char msg[256];
        job->stats.enomem_total++;
        snprintf(msg, sizeof msg, "job killed by SIGKILL: out of memory: no frame left for its "
                 "first touch of 0x%llx at rip 0x%llx", (unsigned long long)f->cr2,
                 (unsigned long long)f->rip);
        proc_end(job, proc, proc_status_signaled(SIGKILL), msg);
        return 1;
    }
    if (rc == -EIO) {
        char msg[256];
        snprintf(msg, sizeof msg, "job killed by SIGBUS: an access to a mapped file past its end "
                 "(address 0x%llx, rip 0x%llx)", (unsigned long long)f->cr2,
                 (unsigned long long)f->rip);
        proc_end(job, proc, proc_status_signaled(SIGBUS), msg);
        return 1;
    }
    return rc == 0 ? 0 : -1;
}

int fault_handle(struct job *job, struct vthread *t)
{
    const struct vcpu *v = &t->vcpu;
    /* Every exception starts at the top of this vCPU's firmware stack (IST1): the frame and
     * what the firmware saved below it are at a fixed place (firmware/abi.h). */
    const uint64_t n = ISOVM_EXC_SAVED_QWORDS + ISOVM_EXC_FRAME_QWORDS;
    uint64_t top = ISOVM_FW_STACK_GPA + ((uint64_t)v->index + 1) * ISOVM_PAGE_SIZE;
    uint64_t *p = gmem_host_ptr(&job->vm.gm, top - n * 8, n * 8);
    uint64_t q[ISOVM_EXC_SAVED_QWORDS + ISOVM_EXC_FRAME_QWORDS];
    if (!p) {
        job_end(job, JOB_INTERNAL_ERROR, 125, 0, "internal: no firmware stack for an exception");
        return -EPROTO;
    }
    memcpy(q, p, sizeof q);
    const uint64_t *frame = q + ISOVM_EXC_SAVED_QWORDS;
    struct fault_info f = { .vector = frame[0], .error_code = frame[1], .rip = frame[2],
                            .cs = frame[3], .rflags = frame[4], .rsp = frame[5], .cr2 = q[0] };
    if (f.vector >= 32) {
        char msg[160];
        snprintf(msg, sizeof msg, "internal: exception frame of vCPU %d names vector %llu",
                 v->index, (unsigned long long)f.vector);
        job_end(job, JOB_INTERNAL_ERROR, 125, 0, msg);
        return -EPROTO;
    }
    int touched = first_touch(job, t->proc, &f);
    if (touched >= 0) {
        if (touched == 0) /* the firmware resumes the job at the faulting instruction */
            p[ISOVM_EXC_SAVED_QWORDS] = ISOVM_EXC_RESUME;
        return touched;
    }
    char line[256];
    log_debug("exception frame: vector %llu error 0x%llx rip 0x%llx cs 0x%llx rflags 0x%llx "
              "rsp 0x%llx cr2 0x%llx", (unsigned long long)f.vector,
              (unsigned long long)f.error_code, (unsigned long long)f.rip,
              (unsigned long long)f.cs, (unsigned long long)f.rflags, (unsigned long long)f.rsp,
              (unsigned long long)f.cr2);
    if ((f.cs & 3) != 3) {
        /* Ring 0 faulted: a firmware or VMM defect, never the job's doing by design. */
        char msg[320];
        fault_describe(&f, SIGSEGV, line, sizeof line);
        snprintf(msg, sizeof msg, "internal: firmware fault on vCPU %d: %s (cs 0x%llx)",
                 v->index, line, (unsigned long long)f.cs);
        job_end(job, JOB_INTERNAL_ERROR, 125, 0, msg);
        return 1;
    }
    int sig = fault_signal(f.vector);
    if (job->on_user_fault && job->on_user_fault(job, t, &f, q[1], q[2], sig) == 1)
        return 0; /* its handler runs (the vCPU was sent there) */
    fault_describe(&f, sig, line, sizeof line);
    char msg[300];
    snprintf(msg, sizeof msg, "job killed by %s", line);
    proc_end(job, t->proc, proc_status_signaled(sig), msg);
    return 1;
}
