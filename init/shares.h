/* The job's shares (share lines, init/abi.h): the VMM's directories over virtio-9p, mounted in the
 * new root. */
#ifndef ISOVM_INIT_SHARES_H
#define ISOVM_INIT_SHARES_H
#include <stddef.h>
#include "init/job_file.h"

/* Every share, parents first (in the new root): its mount point made when missing, the 9p
 * file system mounted there (init/abi.h: ISOVM_9P_TAG, ISOVM_9P_OPTIONS, aname=MOUNTPOINT). 0, or
 * -errno with err naming the share. */
int shares_mount(const struct job_spec *s, char *err, size_t len);

/* At the end: unmounts the rw shares, last first, so that what the job wrote through mmap
 * reaches the VMM (best effort: a busy one stays). */
void shares_release(const struct job_spec *s);

#endif
