/* A token bucket with Firecracker rate-limiter semantics, for throttling bytes and operations. */
#ifndef ISOVM_TOKEN_BUCKET_H
#define ISOVM_TOKEN_BUCKET_H
#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"

/* Plain data, no locks; the caller serialises. All times are nanoseconds on one monotonic clock.
 * Refill is exact: the tokens added over any sequence of calls are floor(elapsed * size /
 * refill_time) for the total elapsed time (less what is lost while the bucket is full), however
 * the time is split, because the fraction of a token not yet earned is carried in `frac`. */
struct token_bucket {
    uint64_t size;           /* capacity; 0 with refill_time_ns 0 means unlimited */
    uint64_t refill_time_ns; /* time to refill from empty to size */
    uint64_t budget;         /* regular tokens available, 0..size */
    uint64_t burst;          /* one-time burst tokens left; spent first, never refilled */
    uint64_t frac;           /* earned fraction of the next token, in 1/refill_time_ns tokens */
    uint64_t last_ns;        /* time up to which refill has been accounted; never moves back */
};

/* Start full (budget = size, plus cfg->one_time_burst) at now_ns. size == 0 or
 * refill_time_ns == 0 makes the bucket unlimited. */
void tb_init(struct token_bucket *b, const struct bucket_cfg *cfg, uint64_t now_ns);

bool tb_unlimited(const struct token_bucket *b);

/* Take up to n tokens now (one-time burst first, then the budget); returns how many were taken
 * (0..n). Unlimited: returns n. A now_ns earlier than a previous one counts as no time passed. */
uint64_t tb_take(struct token_bucket *b, uint64_t n, uint64_t now_ns);

/* Nanoseconds from now until min(n, size) tokens are available (so a request larger than the
 * bucket waits for a full bucket, and the caller takes it in bucket-sized pieces); 0 when they
 * are available now or the bucket is unlimited. Never overflows: saturates at UINT64_MAX. */
uint64_t tb_wait_ns(struct token_bucket *b, uint64_t n, uint64_t now_ns);

/* Give back n tokens taken but not used (a read that returned fewer bytes than it reserved).
 * The budget never exceeds size; the one-time burst is not restored. */
void tb_refund(struct token_bucket *b, uint64_t n);

#endif
