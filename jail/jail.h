/* `isovm jail`: run `isovm launch` in namespaces, a pivot_root'ed jail and a cgroup, unprivileged. */
#ifndef ISOVM_JAIL_H
#define ISOVM_JAIL_H

/* VMM memory beyond guest RAM allowed by the cgroup's memory limit (docs/jailer.md). */
#define JAIL_VMM_MEMORY_ALLOWANCE (64ull << 20)
/* Tasks beyond the policy's max_threads allowed by pids.max: the supervisor (main) thread, and
 * room for the C library's and a sanitizer's helper threads (docs/jailer.md). */
#define JAIL_VMM_PIDS_ALLOWANCE 8
/* The report inside the jail, bound to <chroot-base>/isovm/<id>/report.json. */
#define JAIL_REPORT_PATH "/isovm-report.json"
/* A Linux-tier job with endpoints: the VMM's private tmpfs (its TMPDIR) for the network's
 * forwards, Unix sockets; not /tmp, under which the job's own files may be bound */
#define JAIL_TMP_PATH "/isovm-tmp"

/* argv[0] is "jail". Returns the exit status (the job's, as `isovm launch`; 125 for errors). */
int jail_main(int argc, char **argv);

#endif
