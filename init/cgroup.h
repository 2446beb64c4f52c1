/* The job's cgroup (v2): pids.max = max_threads, and memory.events to tell an OOM kill. */
#ifndef ISOVM_INIT_CGROUP_H
#define ISOVM_INIT_CGROUP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "init/job_file.h"

struct job_cgroup {
    int procs_fd;  /* <base>/job/cgroup.procs, for the job's process to join */
    int events_fd; /* <base>/job/memory.events, or -1 without the memory controller */
};

/* Under the cgroup2 hierarchy at base: moves the init into <base>/init, enables the pids and
 * memory controllers the kernel offers for the children, makes <base>/job with pids.max =
 * max_threads. -ENOTSUP when max_threads is set and there is no pids controller; -errno with err
 * naming the file otherwise. limit_memory: also memory.max = s->memory (the test build's
 * stand-in for the guest's RAM). */
int cgroup_setup(const char *base, const struct job_spec *s, bool limit_memory,
                 struct job_cgroup *cg, char *err, size_t len);

/* Called by the job's process before it executes the program: joins <base>/job. 0 or -errno. */
int cgroup_join(const struct job_cgroup *cg);

/* memory.events' oom_kill of the job's cgroup (processes the OOM killer ended in it), or -1
 * when unknown. */
long long cgroup_oom_kills(const struct job_cgroup *cg);

#endif
