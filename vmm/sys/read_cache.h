/* The read cache: file data the firmware hands out for sequential small reads without an exit. */
#ifndef ISOVM_READ_CACHE_H
#define ISOVM_READ_CACHE_H
#include <stdint.h>
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

#define READ_CACHE_MAX_READ 65536u /* reads larger than this gain nothing from the cache */
#define READ_CACHE_FIRST    16384u /* the first fill after a miss: at least this, 4 reads' worth */
#define READ_CACHE_MAX_SKIP 64u    /* fills left out at most after unused ones */

/* After a read of `count` bytes (all of them) from descriptor fd (capability `slot`) into the
 * job's buffer `buf`, on the calling thread: when the job may use a cache (one thread, no
 * expiry on the capability, no read throttling, read allowed by the filter without logging,
 * a regular file), read ahead at the file's position without moving it, and arm the
 * firmware's fast path for reads of the same descriptor into the same buffer. The read-ahead
 * adapts so that a job the cache does not help (reads into moving buffers, a write between
 * reads) pays little for it: it starts at max(READ_CACHE_FIRST, 4 * count), doubles after a
 * fill that was at least half used, up to ISOVM_RCACHE_END - ISOVM_RCACHE_GPA; a fill with no
 * hit starts it small again and leaves out the next 1, 2, 4, ... (at most
 * READ_CACHE_MAX_SKIP) chances to fill. job->lock held. */
void read_cache_fill(struct job *job, struct sc_call *c, uint32_t slot, uint64_t fd, uint64_t buf,
                     uint64_t count);

/* Account what the firmware served since the fill (counters, the host file position) and
 * disarm it. Called on the owning thread before every hypercall it makes and when it ends.
 * job->lock held. */
void read_cache_sync(struct job *job, struct vthread *t);

/* Disarm the fast path from any thread (a revocation from outside): the owner's next
 * hypercall then accounts for it. At most one read already under way completes. Lock held. */
void read_cache_drop(struct job *job);

#endif
