/* I/O admission for a job thread: waits until its direction's throttle (limits/io_throttle.h)
 * admits the request. */
#ifndef ISOVM_IO_ADMIT_H
#define ISOVM_IO_ADMIT_H
#include <stdbool.h>
#include <stdint.h>
#include "vmm/caps/cap_hold.h"
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

/* Wait until the direction's buckets admit the request (one operation when charge_op, and
 * between 1 and want bytes), then take them. Returns the bytes admitted (want when there is no
 * byte limit; 0 only when want is 0); -EINTR when the job stops while waiting; -EKEYREVOKED /
 * -EKEYEXPIRED when the capability the call holds (h, NULL: none) is revoked or passes its
 * deadline while waiting (it is checked at every wake-up). job->lock held; released while
 * waiting, and the wait is counted as throttled time. */
int64_t io_admit(struct job *job, const struct sc_call *c, const struct cap_hold *h,
                 bool is_write, bool charge_op, uint64_t want);

/* Return bytes admitted but not moved (a short read or write). job->lock held. */
void io_refund(struct job *job, bool is_write, uint64_t unused);

#endif
