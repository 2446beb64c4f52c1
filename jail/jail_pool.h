/* A pool's jailed VMMs (isovm pool serve --jail): each one's jail and cgroup made ahead of any job, a job's files bound into it when the job comes. */
#ifndef ISOVM_JAIL_POOL_H
#define ISOVM_JAIL_POOL_H
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include "jail/cgroup.h"
#include "jail/jail_args.h"
#include "jail/jail_build.h"
#include "vmm/run/launch.h"

/* One VMM's jail as the pool's server keeps it: to bind a job's files into and to remove. */
struct jail_pool_vmm {
    struct jail_args a;          /* the pool's jail options, with this VMM's id */
    pid_t pid;                   /* the VMM, once forked */
    char jail_dir[PATH_MAX];     /* <base>/isovm/<id> */
    char root[PATH_MAX];         /* <jail_dir>/root: the VMM's mount namespace's tmpfs root */
    struct cgroup_job cg;        /* <parent-cgroup>/<id>: the VMM's own */
};

/* At `pool serve --jail`'s start, before anything is made: root, the chroot base, --netns, the
 * cgroup file systems and --cgroup keys, and /dev/kvm not PVM. 0 or 125 after a message. */
int jail_pool_check(const struct jail_args *a);

/* Make the seq'th VMM's jail directory and cgroup (limits: the pool's policy in o, then
 * --cgroup), into v and the scratch jail j, which the child then enters (jail_enter: no binds,
 * /dev/kvm) before making its VM. The caller closes j's cgroup and netns descriptors after the
 * fork (jail_pool_vmm_forked). 0 or 125 after a message (nothing left made). */
int jail_pool_vmm_make(struct jail_pool_vmm *v, const struct jail_args *base, unsigned seq,
                       const struct launch_opts *o, struct jail *j);
/* In the server after the fork: the scratch jail's descriptors closed. */
void jail_pool_vmm_forked(struct jail *j);
/* After the VMM is gone: its cgroup and jail directory removed (messages on failure). */
void jail_pool_vmm_remove(struct jail_pool_vmm *v);

/* In a root helper forked from the server, its working directory the client's and its stderr
 * the client's: parse the job's `launch` command line, check it as isovm jail would (what a
 * jailed pool does not serve refused), make its output files, set its policy's limits on the
 * VMM's cgroup and bind its files into the VMM's jail (entering its mount namespace). 0 with
 * the working directory the VMM takes in its jail in cwd, or the exit status after a message. */
int jail_pool_bind(const struct jail_pool_vmm *v, int argc, char **argv, char *cwd, size_t len);

#endif
