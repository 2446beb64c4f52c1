/* Token bucket arithmetic: exact, overflow-safe refill with the fractional token carried over. */
#include "limits/token_bucket.h"

__extension__ typedef unsigned __int128 u128;

void tb_init(struct token_bucket *b, const struct bucket_cfg *cfg, uint64_t now_ns)
{
    bool unlimited = cfg->size == 0 || cfg->refill_time_ns == 0;
    b->size = unlimited ? 0 : cfg->size;
    b->refill_time_ns = unlimited ? 0 : cfg->refill_time_ns;
    b->budget = b->size;
    b->burst = unlimited ? 0 : cfg->one_time_burst;
    b->frac = 0;
    b->last_ns = now_ns;
}

bool tb_unlimited(const struct token_bucket *b)
{
    return b->size == 0 || b->refill_time_ns == 0;
}

/* Add the tokens earned between last_ns and now_ns. The earned amount is kept as a numerator
 * over refill_time_ns (frac + elapsed * size), so whole tokens are moved into the budget and
 * the remainder stays in frac: many small steps add exactly what one large step would. At most
 * (2^64-1)^2 + 2^64-2 < 2^128, so the 128-bit sum cannot overflow. A full bucket drops the
 * fraction (it cannot hold more). A clock going backwards adds nothing and keeps last_ns. */
static void refill(struct token_bucket *b, uint64_t now_ns)
{
    if (now_ns <= b->last_ns)
        return;
    uint64_t elapsed = now_ns - b->last_ns;
    b->last_ns = now_ns;
    if (b->budget == b->size) {
        b->frac = 0;
        return;
    }
    u128 num = (u128)elapsed * b->size + b->frac;
    u128 tokens = num / b->refill_time_ns;
    uint64_t room = b->size - b->budget;
    if (tokens >= room) {
        b->budget = b->size;
        b->frac = 0;
    } else {
        b->budget += (uint64_t)tokens;
        b->frac = (uint64_t)(num % b->refill_time_ns);
    }
}

uint64_t tb_take(struct token_bucket *b, uint64_t n, uint64_t now_ns)
{
    if (tb_unlimited(b))
        return n;
    refill(b, now_ns);
    uint64_t from_burst = n < b->burst ? n : b->burst;
    b->burst -= from_burst;
    uint64_t rest = n - from_burst;
    uint64_t from_budget = rest < b->budget ? rest : b->budget;
    b->budget -= from_budget;
    return from_burst + from_budget;
}

uint64_t tb_wait_ns(struct token_bucket *b, uint64_t n, uint64_t now_ns)
{
    if (tb_unlimited(b))
        return 0;
    refill(b, now_ns);
    uint64_t want = n < b->size ? n : b->size;
    if (want <= b->budget || want - b->budget <= b->burst)
        return 0;
    uint64_t deficit = want - b->budget - b->burst; /* 1..size - budget */
    /* Earn deficit whole tokens: frac + t * size >= deficit * refill_time. deficit <= size, so
     * t <= refill_time_ns and fits in 64 bits; frac < refill_time_ns <= deficit * refill_time. */
    u128 need = (u128)deficit * b->refill_time_ns - b->frac;
    u128 t = (need + b->size - 1) / b->size;
    /* refill() counts time from last_ns, which is ahead of now_ns if the clock went back. */
    u128 wait = t + (b->last_ns > now_ns ? b->last_ns - now_ns : 0);
    return wait > UINT64_MAX ? UINT64_MAX : (uint64_t)wait;
}

void tb_refund(struct token_bucket *b, uint64_t n)
{
    if (tb_unlimited(b))
        return;
    uint64_t room = b->size - b->budget;
    b->budget += n < room ? n : room;
}
