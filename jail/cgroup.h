/* The jailed job's cgroup, v1 (one directory per controller hierarchy) or v2 (one directory). */
#ifndef ISOVM_CGROUP_H
#define ISOVM_CGROUP_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CGROUP_MAX_DIRS 5   /* v1: cpu, cpuacct, memory, pids, blkio */

struct cgroup_job {
    int version;                          /* 1 or 2 */
    unsigned ndirs;
    char mount[CGROUP_MAX_DIRS][PATH_MAX];  /* v1: one hierarchy per entry; v2: [0] */
    char ctrls[CGROUP_MAX_DIRS][64];      /* v1: the hierarchy's controllers ("cpu,cpuacct") */
    char parent[CGROUP_MAX_DIRS][PATH_MAX]; /* <mount>/<parent-cgroup> */
    char dir[CGROUP_MAX_DIRS][PATH_MAX];    /* <mount>/<parent-cgroup>/<id> */
    bool made_parent[CGROUP_MAX_DIRS];    /* this job created the parent (kept: shared) */
    unsigned made;                        /* job directories created (cgroup_remove undoes) */
};

/* Find the cgroup file systems (version 0: /sys/fs/cgroup's kind, else whatever is mounted) and
 * plan <mount>/<parent>/<id>. Looks only: 0, or -errno with one line in err (no controller,
 * the job's cgroup exists already, ...). */
int cgroup_plan(struct cgroup_job *cg, int version, const char *parent, const char *id, char *err,
                size_t errlen);

/* Is KEY ("memory.max") a file of a controller this job's cgroup has? (v1: the prefix names a
 * planned hierarchy; v2: cpu, io, memory, pids or cgroup.* allowed by jail_args.) */
bool cgroup_key_known(const struct cgroup_job *cg, const char *key);

/* Create the parent(s) (v2: enable cpu, io, memory, pids below the mount and the parent) and
 * the job's directories. 0 or -errno with err; on error what was made is removed again. */
int cgroup_create(struct cgroup_job *cg, char *err, size_t errlen);

/* Write VALUE to the job cgroup's file KEY (v1: in the hierarchy of its controller). */
int cgroup_set(const struct cgroup_job *cg, const char *key, const char *value, char *err,
               size_t errlen);

/* Open every job directory's cgroup.procs for writing (the child writes "0" to enter). Returns
 * the number of descriptors put in fds (<= CGROUP_MAX_DIRS) or -errno. */
int cgroup_procs_open(const struct cgroup_job *cg, int *fds);

/* Read the job cgroup's file KEY into buf (trailing newline removed). 0 or -errno. */
int cgroup_read(const struct cgroup_job *cg, const char *key, char *buf, size_t len);

/* The "cgroup" object of the usage report: version, path, limits, usage (what the version has).
 * Written at indent 2 as `"cgroup": {...}` without a trailing comma or newline. */
void cgroup_report(const struct cgroup_job *cg, FILE *f);

/* Remove the job's directories (after its processes are gone; retries while busy). The shared
 * parent stays. 0 or -errno of the first failure (with a message). */
int cgroup_remove(struct cgroup_job *cg);

#endif
