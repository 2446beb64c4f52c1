/* The jail being built: shared by the jailer's parts (checks and building, the child, outside). */
#ifndef ISOVM_JAIL_BUILD_H
#define ISOVM_JAIL_BUILD_H
#include <limits.h>
#include <stdbool.h>
#include "jail/cgroup.h"
#include "jail/jail.h"
#include "jail/jail_args.h"
#include "jail/jail_libs.h"
#include "vmm/run/launch.h"

#define JAIL_MAX_BINDS (JAIL_MAX_LIBS + POLICY_MAX_GRANTS + 8)

struct bind {
    char src[PATH_MAX];   /* host path */
    char dst[PATH_MAX];   /* the same path inside the jail (lexically normalized) */
    bool dir, rw, exec;
};

struct jail {
    const struct jail_args *a;
    const struct launch_opts *o;
    char vmm[PATH_MAX];            /* this binary, bound at the same path */
    char cwd[PATH_MAX];            /* made in the jail when a path given was relative */
    bool need_cwd;
    bool pool;                     /* a pool's VMM (isovm pool serve --jail): its jail made
                                    * ahead with nothing of a job's, whose files are bound in
                                    * when it comes (jail/jail_pool.c) */
    char jail_dir[PATH_MAX];       /* <base>/isovm/<id> */
    char root[PATH_MAX];           /* <jail_dir>/root */
    char report_host[PATH_MAX];    /* <jail_dir>/report.json */
    char report_user[PATH_MAX];    /* the user's --report FILE (absolute), "" for none or "-" */
    /* the Linux tier (--rootfs) */
    char kernel[PATH_MAX];         /* the kernel the VMM boots (given to it as --kernel) */
    bool kernel_from_jailer;       /* no --kernel given: the jailer found it and passes it */
    char snap_dir[PATH_MAX];       /* the per-uid snapshot cache, "" with --no-snapshot */
    struct bind binds[JAIL_MAX_BINDS];
    unsigned nbinds;
    struct cgroup_job cg;
    int cg_fds[CGROUP_MAX_DIRS];
    int ncg_fds;
    int netns_fd;
    char **launch_argv;            /* a copy of the launch arguments as given: launch's parser
                                    * edits some in place (--disk IMG:rw loses its ":rw") */
    char **vmm_argv;
    /* a job charged to a tenant (docs/quota.md): the jailer starts its ledger keeper outside
     * the jail (the VMM inside cannot see or write the ledger) and passes its socket to the VMM
     * as --ledger-fd */
    char ledger_path[PATH_MAX];
    char ledger_socket[PATH_MAX];  /* the keeper service's, or "": a keeper of the job's own */
    char job_id[POLICY_JOB_ID_MAX]; /* the policy's, or one made here, passed as --job-id */
    char ledger_fd_text[16];
    int keeper_fd;                 /* -1: none */
    pid_t keeper_pid;
};

/* Print "isovm: jail: MESSAGE" on stderr; returns 125. */
int jerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The VMM cannot see /sys in a jail, where launch tells PVM apart (vmm/core/kvm.c): the jailer
 * refuses such a /dev/kvm itself. 0, or 125 after a message. */
int jail_pvm_refuse(void);
/* The host's part of jail_validate: root, the chroot base, the jail directory's path (absent),
 * --netns, the cgroup's plan and --cgroup keys. 0 or the exit status after a message. */
int jail_host_validate(struct jail *j);
/* Everything checked before the system is touched: the arguments, the policy's paths, the
 * binds. 0 or the exit status after a message. */
int jail_validate(struct jail *j);
/* A job come to a pool's jailed VMM (j->pool, j->cg the VMM's cgroup): the checks of
 * jail_validate that concern the job, and its binds (its files; isovm is in the jail already).
 * Refuses what a jailed pool does not serve: the Linux tier, a tenant, --control. */
int jail_validate_pooled(struct jail *j);
/* The VMM's argv: launch's own options, --report inside the jail, then the program and args. */
int vmm_argv_build(struct jail *j);
/* The per-uid snapshot cache of the Linux tier: <base>/isovm/.snapshots/<uid> ('.' is never in
 * a job id, so no jail directory can take its name). */
#define JAIL_SNAPSHOTS_DIR ".snapshots"

/* The output files the VMM writes (--audit, --console-log; a pooled job's --report), made when
 * missing for the job's user and bound read-write. 0 or the exit status after a message. */
int jail_outputs_make(struct jail *j);
/* The cgroup's limits: the policy's as a second line of defence, then --cgroup. 0 or the exit
 * status after a message. */
int jail_cgroup_limits(struct jail *j);

/* Make the jail directory, the report file, the Linux tier's files and the cgroup. 0 or the exit
 * status (undone). */
int jail_make(struct jail *j);
/* Remove the jail directory (the mounts lived in the VMM's mount namespace and are gone). */
void jail_dir_remove(struct jail *j);

#endif
