/* isovm jail, in the child: namespaces, the jail's mounts, pivot_root, the privilege drop, exec. */
#ifndef ISOVM_JAIL_CHILD_H
#define ISOVM_JAIL_CHILD_H
#include "jail/jail_build.h"

/* Enter the jail: the cgroup, new namespaces, the jail's tmpfs with j's binds and /dev/kvm,
 * pivot_root, the resource limits, every privilege dropped (docs/jailer.md, steps 6.1-6.10).
 * Returns in the jail as the job's user; exits 125 after a message on any failure. */
void jail_enter(struct jail *j);

/* In a root process outside (a pool's helper): bind j's binds into the jail of the VMM whose
 * mount namespace is mntns_fd and root directory root_fd (/proc/PID/ns/mnt and root: each
 * bind copied with open_tree here, moved in there), and make j's
 * working directory; the jail read-only again after. Enters that namespace: the caller is done
 * with the host's files. Exits 125 after a message on any failure. */
void jail_binds_into(struct jail *j, int mntns_fd, int root_fd);

/* Become the jailed VMM: never returns (exec, or exit 125 after a message). */
void jail_child(struct jail *j) __attribute__((noreturn));

#endif
