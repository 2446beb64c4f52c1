/* Job threads: each one a vCPU run by its own host thread. */
#ifndef ISOVM_THREAD_H
#define ISOVM_THREAD_H
#include "vmm/core/job.h"

/* Start a host thread running t's (already set up) vCPU. job->lock held (or no thread running
 * yet). 0 or -errno. */
int vthread_start(struct job *job, struct vthread *t);

/* Join every host thread that was started. Call once they are all done. */
void vthread_join_all(struct job *job);

#endif
