/* The job channel (init/abi.h): the job file fetched from the VMM once the init is ready, and the
 * per-job state it carries (the clock, the random pool's seed) applied to the guest. */
#ifndef ISOVM_INIT_JOB_FETCH_H
#define ISOVM_INIT_JOB_FETCH_H
#include <stdbool.h>
#include <stddef.h>
#include "init/job_file.h"

/* Fetches the job file over the job channel (call it after ISOVM_PHASE_READY, and again after
 * ISOVM_PHASE_PREPARED with after_prepare when the first was a prepare file): its length, which
 * must be 1..ISOVM_JOB_FILE_MAX, then that many bytes into a malloc'd *text of *len bytes
 * (NUL-terminated beyond). 0, or -errno with err saying why: the channel could not be opened
 * (ioperm's error), -ENODATA (the VMM gave length 0: no job), -EFBIG (more than
 * ISOVM_JOB_FILE_MAX), -ENOMEM. The test build reads the file SEAM_JOB_FILE (init/seam.h).
 * An initramfs with ISOVM_JOB_FILE_INITRAMFS in it (never isovm's) gives the job that way
 * instead (read, then removed), the channel untouched; not after a prepare file. */
int job_fetch(bool after_prepare, char **text, size_t *len, char *err, size_t errlen);

/* Applies the job file's time (clock_settime CLOCK_REALTIME) and seed (RNDADDENTROPY, crediting
 * all of its bits, then RNDRESEEDCRNG on /dev/urandom), each when the file has it. 0, or -errno
 * with err naming what failed. The test build records the calls in SEAM_APPLIED_LOG instead. */
int job_apply(const struct job_spec *s, char *err, size_t errlen);

#endif
