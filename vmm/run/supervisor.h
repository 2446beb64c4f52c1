/* The supervisor: runs the job's threads and enforces CPU quota, CPU-time limit and timeout. */
#ifndef ISOVM_SUPERVISOR_H
#define ISOVM_SUPERVISOR_H
#include "vmm/run/control.h"
#include "vmm/core/job.h"
#include "vmm/run/tenant.h"

/* Block the signals the supervisor waits for (SIGINT, SIGTERM, SIGHUP, SIGUSR2) and the kick
 * (SIGUSR1) in the calling thread, so every thread started later inherits the mask. Install
 * the kick handler. Call before any job thread starts. 0 or -errno. */
int supervisor_signals_init(void);

/* Start thread 0 (its vCPU set up already) and supervise the job until every thread is done,
 * serving the control socket `ctl` (listen_fd -1: none) meanwhile, and, for a job charged to a
 * tenant (t not NULL), sending its usage to the ledger keeper every checkpoint interval and
 * stopping it ("quota") when the keeper says a budget ran out. Waits in ppoll on a signalfd of
 * the supervisor's signals, the socket and the keeper's socket. On return job->end says how it
 * ended. */
void job_supervise(struct job *job, struct control_server *ctl, struct tenant_link *t);
/* The job's usage so far, for the ledger. job->lock held. */
void job_ledger_usage(const struct job *job, uint64_t now, struct ledger_usage *u);

#endif
