/* Launching a job: program file, microVM, loader, stack, run, report. */
#ifndef ISOVM_LAUNCH_H
#define ISOVM_LAUNCH_H
#include <stdbool.h>
#include <stdint.h>
#include "policy/policy.h"
#include "vmm/core/proc_image.h" /* ISOVM_PIE_BASE */

#define ISOVM_DEFAULT_MEMORY POLICY_DEFAULT_MEMORY
#define ISOVM_MIN_MEMORY     POLICY_MIN_MEMORY
#define ISOVM_MAX_MEMORY     POLICY_MAX_MEMORY

/* Exit statuses isovm itself uses (docs/exit-codes.md). */
#define EXIT_ISOVM_ERROR   125
#define EXIT_CANNOT_EXEC   126
#define EXIT_NOT_FOUND     127

#define LAUNCH_MAX_DISKS 13 /* --disk images: /dev/vdb .. /dev/vdn (the I/O APIC's free pins
                             * also serve the console, the grants' file system and the network) */

struct tenant_link;

struct launch_opts {
    struct policy policy;     /* the limits in force (file, then command-line overrides) */
    const char *program;
    int argc;                 /* job argv, argv[0] = program as given */
    char *const *argv;
    int envc;
    char **envp;
    const char *report_path;  /* NULL: none; "-": stderr */
    const char *policy_file;  /* --policy FILE, or NULL (isovm jail binds it into the jail) */
    bool no_seccomp;          /* --no-seccomp: no VMM seccomp filter (debugging only) */
    const char *ledger_path;  /* --ledger PATH, or NULL: the default (quota/ledger.h) */
    const char *ledger_socket; /* --ledger-socket PATH: the keeper service; NULL: see tenant.h */
    struct tenant_link *tenant; /* the job's ledger keeper when charged to a tenant, else NULL */
    /* the Linux tier (docs/linux-tier.md): set by --rootfs */
    const char *rootfs;       /* the root image (/dev/vda), read-only under a tmpfs overlay */
    const char *kernel;       /* --kernel: a PVH vmlinux; NULL: the kernel cache's */
    const char *console_log;  /* --console-log: the kernel's messages; NULL: dropped */
    bool no_snapshot;         /* --no-snapshot: boot the kernel afresh; no snapshot used or made */
    struct launch_disk { const char *path; bool rw; } disks[LAUNCH_MAX_DISKS]; /* --disk */
    unsigned ndisks;
};

/* Run the job to its end. Returns the status isovm should exit with. */
int launch_run(const struct launch_opts *o);

/* The Linux tier's launch (o->rootfs set): boot the kernel, run the job under the init. */
int launch_linux_run(const struct launch_opts *o);

/* A pool's VMM (isovm pool serve --rootfs): make the Linux tier's machine ahead of its job, as
 * launch_linux_run would for o (the pool's options: its root image, kernel, memory, vCPUs):
 * restored from the snapshot (or booted, making it), given a prepare file, run until the init
 * has the root mounted and says PREPARED, its vCPU parked there and its streams held. The next
 * launch_linux_run in this process adopts it when its job fits (the same root image and kernel,
 * memory and vCPUs, no disk, grant, endpoint or console log): the job's start then is its job
 * file's delivery and the init's last steps. 0, or a negative errno after a message. */
int launch_linux_warm_prepare(const struct launch_opts *o);
/* Tear down the machine made ahead, if any (a job of the other tier came). */
void launch_linux_warm_drop(void);

#endif
