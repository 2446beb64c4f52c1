/* A capability held by one call from its start to its end (a read or write in chunks, a
 * blocking socket call): the call keeps the capability it started with. */
#ifndef ISOVM_CAP_HOLD_H
#define ISOVM_CAP_HOLD_H
#include <stdbool.h>
#include <stdint.h>
#include "vmm/caps/cap.h"
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

/* While held, the entry's slot is neither freed nor reused and its host descriptor stays open,
 * whatever the job does to the descriptor number meanwhile (closing it, or reusing the number
 * for another file, never redirects the call). Revocation and expiry still take effect: the
 * call checks cap_hold_live at every chunk and wake-up, and stops with what it has done. */
struct cap_hold {
    uint32_t slot, gen;
    int fd;               /* the entry's host descriptor, open until cap_hold_end */
    bool expiring;        /* the entry has a deadline (counted in job->holds_expiring) */
};

/* Hold the live entry in `slot` (looked up and checked by the caller). 0, or -EKEYREVOKED /
 * -EKEYEXPIRED when it is dead already. A hold of an entry that can expire tells the
 * supervisor, which ends it at its deadline even while the call is blocked in the host.
 * job->lock held. */
int cap_hold_begin(struct job *job, uint32_t slot, struct cap_hold *h);

/* May the call go on: 0, or -EKEYREVOKED / -EKEYEXPIRED (counted and audited as a denial of
 * syscall c->nr; a deadline found passed now revokes the entry and its subtree and logs the
 * "expire" event). job->lock held. */
int cap_hold_live(struct job *job, const struct sc_call *c, const struct cap_hold *h);

/* Has the entry been revoked (or expired)? Safe without job->lock: for a host call's retry
 * loop after a kick. */
bool cap_hold_revoked(const struct job *job, const struct cap_hold *h);

/* The entry's deadline (CLOCK_MONOTONIC), or UINT64_MAX when it never expires. */
uint64_t cap_hold_deadline(const struct job *job, const struct cap_hold *h);

/* Let go; a descriptor closed meanwhile frees the entry now. job->lock held. */
void cap_hold_end(struct job *job, struct cap_hold *h);

/* A host call that may wait (a sync, an allocation, a lock), on the capability in `slot` held
 * for its whole length and with job->lock released meanwhile: op(fd, arg) returns 0 or -1
 * with errno. A kick that interrupts it (EINTR) restarts it, unless the job is ending or the
 * entry was revoked or expired (the revoker and the supervisor kick): then -EINTR. 0 or
 * -errno (-EKEYREVOKED / -EKEYEXPIRED when the entry was dead already). job->lock held. */
int cap_hold_call(struct job *job, uint32_t slot, int (*op)(int fd, void *arg), void *arg);

/* After a revocation: wake every thread waiting on its condition (throttle waits, sleeps,
 * futexes: each looks again) and kick every other vCPU thread out of a blocking host call, so
 * that a call on a revoked capability ends now. job->lock held. */
void caps_revoked_wake(struct job *job, const struct vthread *self);

/* The supervisor's look at held capabilities: every held entry whose deadline has passed by
 * `now` is expired (revoked with its subtree, logged "expire" by "expiry", its blocked calls
 * woken). Returns the earliest deadline of a held entry still live, or UINT64_MAX. job->lock
 * held. */
uint64_t caps_expire_held(struct job *job, uint64_t now);

#endif
