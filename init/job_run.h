/* The job's process: started with its streams, cgroup, session and working directory, waited for
 * while the init reaps every orphan, and whatever it left behind killed at the end. */
#ifndef ISOVM_INIT_JOB_RUN_H
#define ISOVM_INIT_JOB_RUN_H
#include <stddef.h>
#include <sys/types.h>
#include "init/abi.h"
#include "init/cgroup.h"
#include "init/job_file.h"
#include "init/streams.h"

/* Forks the job's process: its own session, in the job's cgroup, fds 0-2 on the ports, in cwd,
 * executing argv[0] as a shell would. 0 with *pid once the program runs, or once it could not
 * be found or executed (then the init printed "NAME: not found" or why, and the process exits
 * 127 or 126 as a shell's would). -errno with *stage and err when the process could not be set
 * up (no such working directory, ...): an init error. */
int job_start(const struct job_spec *s, const struct streams *st, const struct job_cgroup *cg,
              pid_t *pid, enum isovm_init_stage *stage, char *err, size_t len);

/* Waits for the job's process, reaping any other child meanwhile. 0 with *wstatus, or -errno. */
int job_wait(pid_t pid, int *wstatus);

/* SIGKILL to every process but the init, and reaps them (for two seconds at most). */
void job_kill_rest(void);

#endif
