/* The supervisor: runs the job's threads and enforces CPU quota, CPU-time limit and timeout. */
#ifndef ISOVM_SUPERVISOR_H
#define ISOVM_SUPERVISOR_H
#include "vmm/run/control.h"
#include "vmm/core/job.h"

/* Block the signals the supervisor waits for (SIGINT, SIGTERM, SIGHUP, SIGUSR2) and the kick
 * (SIGUSR1) in the calling thread, so every thread started later inherits the mask. Install
 * the kick handler. Call before any job thread starts. 0 or -errno. */
int supervisor_signals_init(void);

/* Start thread 0 (its vCPU set up already) and supervise the job until every thread is done,
 * serving the control socket `ctl` (listen_fd -1: none) meanwhile. Waits in ppoll on a
 * signalfd of the supervisor's signals and the socket. On return job->end says how it ended. */
void job_supervise(struct job *job, struct control_server *ctl);

#endif
