/* The I/O throttle of one direction (read or write): a byte bucket and an operation bucket. */
#ifndef ISOVM_IO_THROTTLE_H
#define ISOVM_IO_THROTTLE_H
#include <stdbool.h>
#include <stdint.h>
#include "limits/token_bucket.h"
#include "policy/policy.h"

struct io_throttle {
    struct token_bucket bytes, ops;
};

/* Both buckets full at now_ns, sized by the policy's limits for this direction. */
void io_throttle_init(struct io_throttle *io, const struct io_limit *lim, uint64_t now_ns);

/* Nanoseconds from now_ns until a request may pass: one operation when charge_op, and
 * min(want, half the byte bucket, at least 1) bytes when want > 0. Waiting for at most half a
 * bucket means that waking late still finds room for what refilled meanwhile, where waiting
 * for a full bucket would lose the oversleep every time. 0: it may pass now. */
uint64_t io_throttle_wait_ns(struct io_throttle *io, bool charge_op, uint64_t want,
                             uint64_t now_ns);

/* Take what a request that may pass now uses: one operation when charge_op, and between 1 and
 * want bytes. Returns the bytes taken (want when there is no byte limit; 0 when want is 0). */
uint64_t io_throttle_take(struct io_throttle *io, bool charge_op, uint64_t want,
                          uint64_t now_ns);

/* Give back bytes taken but not moved (a short read or write). */
void io_throttle_refund(struct io_throttle *io, uint64_t unused);

#endif
