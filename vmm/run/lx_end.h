/* The Linux tier's launch state, shared by its launch (launch_linux.c), its supervision (lx_supervise.c) and the end of its run (lx_end.c); not for use outside vmm/run/. */
#ifndef ISOVM_LX_END_H
#define ISOVM_LX_END_H
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include "init/abi.h"
#include "limits/cpu_quota.h"
#include "quota/keeper.h"
#include "vmm/linux/ldev.h"
#include "vmm/linux/lsnap.h"
#include "vmm/linux/lvcpu.h"
#include "vmm/linux/lvm.h"
#include "vmm/run/launch.h"
#include "vmm/run/lx_grants.h"

enum lx_end { LX_RUNNING, LX_READY, LX_GUEST, LX_PANIC, LX_RESET, LX_TIMEOUT, LX_CPU_LIMIT, LX_KILLED, LX_FAILED,
              LX_QUOTA, LX_KEEPER_LOST };

struct lx {
    const struct launch_opts *o;
    struct lvm m;
    struct ldev d;
    struct lvcpu_shared sh;
    struct lvcpu vcpu[LVM_MAX_VCPUS];
    unsigned nvcpus;
    int end_fd;                    /* written when the guest or a vCPU ends the run */
    enum lx_end end;
    int signo;
    struct cpu_quota quota;
    uint64_t t0, end_ns;
    int disk_fd[LAUNCH_MAX_DISKS + 1];
    const char *disk_path[LAUNCH_MAX_DISKS + 1];
    const char *disk_fstype[LAUNCH_MAX_DISKS + 1];
    unsigned ndisks;
    uint8_t *kernel, *modules;
    size_t kernel_size, modules_size;
    bool vm_made, dev_made;
    int kernel_fd;
    uint64_t phase_cpu_ns[ISOVM_PHASE_MAX + 1]; /* the vCPUs' CPU time at each boot phase */
    char kernel_path[PATH_MAX], modules_path[PATH_MAX];
    char cmdline[512];          /* the guest kernel's (lx_machine: with the preload flag when a
                                 * snapshot is made or restored) */
    /* the snapshot of the booted guest (docs/linux-tier.md): restored, made at the init's ready
     * point (ready_fd: the vCPU that saw it parked), or none */
    enum { LX_SNAP_NONE, LX_SNAP_MAKE, LX_SNAP_RESTORED } snap_mode;
    bool snap_made;
    struct lsnap snap;
    int ready_fd;
    int sig_fd;                    /* SIGINT, SIGTERM, SIGHUP */
    struct lx_grants g;            /* grants, endpoints, audit log, control socket; their devices */
    bool g_open;
    int quota_res;                 /* LX_QUOTA: the resource whose budget ran out */
    char quota_why[KEEPER_TEXT_MAX];
    /* a machine made ahead of its job (isovm pool serve --rootfs; docs/pool.md): booted or
     * restored, given a prepare file, parked at the init's PREPARED with its streams held */
    bool warm;                     /* being made ahead (no job yet) */
    bool client_gone;              /* LX_KILLED: the pool's client went away (SIGHUP's status) */
    uint64_t cpu_base_ns;          /* the vCPUs' CPU time before the job: the making's */
    uint64_t launch_ns;            /* main()'s start to t0 (a pooled job's main: its client's) */
    struct stat root_st, kernel_st; /* the root image and kernel the machine was made with */
    int console_log;               /* --console-log's descriptor, or -1 */
    FILE *report;                  /* --report's file, opened before the filter, or NULL */
    char *job_text;                /* the job file (a prepare file while made ahead) */
    size_t job_len;
};

/* The vCPUs' CPU time so far (a machine made ahead: since its adoption). */
uint64_t lx_cpu_ns(struct lx *x);
/* lx_supervise.c: run the guest until its run ends (x->end says how: the guest's end, a
 * signal or the pool client's, the timeout, a CPU limit or quota, the tenant's budget, the
 * init at its ready point or PREPARED). */
void lx_supervise(struct lx *x, int sig_fd);
/* A signal waiting on x->sig_fd ends the run (LX_KILLED): true, x->end and x->signo set. */
bool lx_take_signal(struct lx *x);
/* The job's usage so far, for the ledger. */
void lx_ledger_usage(struct lx *x, uint64_t now, struct ledger_usage *u);
/* How the run ended, for the report's exit_reason ("exit", "quota", "kernel-panic", ...). */
const char *lx_reason(const struct lx *x);
/* The status isovm exits with, after the one line that says why on stderr. */
int lx_status(struct lx *x);
/* Write the report (docs/report.md, the Linux tier) to out. 0 or -EIO after a message. */
int lx_report(struct lx *x, int status, FILE *out);

#endif
