/* Unit tests for the token bucket: limits, overflow, clock skew, exact refill and throughput. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "limits/token_bucket.h"

#define MS 1000000ull
#define S  1000000000ull

static struct token_bucket mk(uint64_t size, uint64_t burst, uint64_t refill_ns, uint64_t now)
{
    struct bucket_cfg cfg = { .size = size, .one_time_burst = burst, .refill_time_ns = refill_ns };
    struct token_bucket b;
    tb_init(&b, &cfg, now);
    return b;
}

static void test_unlimited(void **state)
{
    (void)state;
    const struct bucket_cfg cfgs[] = {
        { .size = 0, .one_time_burst = 0, .refill_time_ns = S },          /* rate 0: off */
        { .size = 0, .one_time_burst = 100, .refill_time_ns = 0 },
        { .size = 1000, .one_time_burst = 0, .refill_time_ns = 0 },       /* refill 0: off */
        { .size = UINT64_MAX, .one_time_burst = 5, .refill_time_ns = 0 },
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        struct token_bucket b;
        tb_init(&b, &cfgs[i], 42);
        assert_true(tb_unlimited(&b));
        for (int k = 0; k < 3; k++) {
            assert_int_equal(tb_take(&b, UINT64_MAX, 42), UINT64_MAX);
            assert_int_equal(tb_take(&b, 0, 0), 0);
            assert_int_equal(tb_take(&b, 7, UINT64_MAX), 7);
            assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 0), 0);
            assert_int_equal(tb_wait_ns(&b, 1, UINT64_MAX), 0);
        }
    }
    struct token_bucket b = mk(1, 0, 1, 0);
    assert_false(tb_unlimited(&b));
}

static void test_zero_request(void **state)
{
    (void)state;
    struct token_bucket b = mk(100, 0, S, 0);
    assert_int_equal(tb_take(&b, 0, 0), 0);
    assert_int_equal(tb_wait_ns(&b, 0, 0), 0);
    assert_int_equal(tb_take(&b, 100, 0), 100); /* the n = 0 calls took nothing */
    assert_int_equal(tb_take(&b, 0, 1), 0);
    assert_int_equal(tb_wait_ns(&b, 0, 1), 0);  /* empty, but nothing asked for */
    assert_int_equal(tb_wait_ns(&b, 1, 0), S / 100);
}

static void test_larger_than_bucket(void **state)
{
    (void)state;
    struct token_bucket b = mk(1000, 0, S, 0);
    assert_int_equal(tb_take(&b, 5000, 0), 1000);
    /* 4000 more: waits for a full bucket (1000), not for 4000 tokens */
    assert_int_equal(tb_wait_ns(&b, 4000, 0), S);
    assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 0), S);
    assert_int_equal(tb_wait_ns(&b, 4000, S / 4), 3 * S / 4);
    assert_int_equal(tb_take(&b, 4000, S), 1000);
    assert_int_equal(tb_take(&b, 3000, S), 0);
    /* half a bucket later: 500 there, still a full bucket's wait left for the rest */
    assert_int_equal(tb_wait_ns(&b, 3000, S + S / 2), S / 2);
    assert_int_equal(tb_take(&b, 3000, S + S / 2), 500);
    assert_int_equal(tb_wait_ns(&b, 2500, S + S / 2), S);
    /* a request that fits waits only for its own tokens */
    assert_int_equal(tb_wait_ns(&b, 10, S + S / 2), 10 * S / 1000);
}

static void test_extremes(void **state)
{
    (void)state;
    struct token_bucket b;

    /* UINT64_MAX tokens per nanosecond */
    b = mk(UINT64_MAX, 0, 1, 0);
    assert_int_equal(tb_take(&b, UINT64_MAX, 0), UINT64_MAX);
    assert_int_equal(tb_take(&b, 1, 0), 0);
    assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 0), 1);
    assert_int_equal(tb_wait_ns(&b, 1, 0), 1);
    assert_int_equal(tb_take(&b, UINT64_MAX, 1), UINT64_MAX);
    assert_int_equal(tb_take(&b, UINT64_MAX, 2), UINT64_MAX);
    /* and a UINT64_MAX gap: UINT64_MAX * UINT64_MAX tokens earned, capped at size */
    assert_int_equal(tb_take(&b, 5, 3), 5);
    assert_int_equal(tb_take(&b, UINT64_MAX, UINT64_MAX), UINT64_MAX);

    /* 1 token per ns, refilling over the whole clock range */
    b = mk(UINT64_MAX, 0, UINT64_MAX, 0);
    assert_int_equal(tb_take(&b, UINT64_MAX, 0), UINT64_MAX);
    assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 0), UINT64_MAX);
    assert_int_equal(tb_wait_ns(&b, 1000, 0), 1000);
    assert_int_equal(tb_take(&b, UINT64_MAX, 1000), 1000);
    assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 1000), UINT64_MAX); /* a full bucket from empty */
    assert_int_equal(tb_wait_ns(&b, 5000, 1000), 5000);
    assert_int_equal(tb_take(&b, UINT64_MAX, UINT64_MAX), UINT64_MAX - 1000);

    /* one token per UINT64_MAX ns */
    b = mk(1, 0, UINT64_MAX, 0);
    assert_int_equal(tb_take(&b, UINT64_MAX, 0), 1);
    assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 0), UINT64_MAX);
    assert_int_equal(tb_wait_ns(&b, 1, 5), UINT64_MAX - 5);
    assert_int_equal(tb_take(&b, 1, UINT64_MAX - 1), 0);
    assert_int_equal(tb_wait_ns(&b, 1, UINT64_MAX - 1), 1);
    assert_int_equal(tb_take(&b, 1, UINT64_MAX), 1);

    /* the largest possible wait: clock far behind the last update, saturates */
    b = mk(1, 0, UINT64_MAX, UINT64_MAX);
    assert_int_equal(tb_take(&b, 1, UINT64_MAX), 1);
    assert_int_equal(tb_wait_ns(&b, 1, 0), UINT64_MAX);
    assert_int_equal(tb_wait_ns(&b, 1, UINT64_MAX), UINT64_MAX);

    /* burst and budget both UINT64_MAX: 2 * UINT64_MAX tokens at start, no overflow */
    b = mk(UINT64_MAX, UINT64_MAX, S, 0);
    assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 0), 0);
    assert_int_equal(tb_take(&b, UINT64_MAX, 0), UINT64_MAX);
    assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 0), 0);
    assert_int_equal(tb_take(&b, UINT64_MAX, 0), UINT64_MAX);
    assert_int_equal(tb_take(&b, 1, 0), 0);
    assert_int_equal(tb_wait_ns(&b, UINT64_MAX, 0), S);
    assert_int_equal(tb_take(&b, UINT64_MAX, S / 2), UINT64_MAX / 2);

    /* starting at UINT64_MAX: no time can pass */
    b = mk(10, 0, 10, UINT64_MAX);
    assert_int_equal(tb_take(&b, 10, UINT64_MAX), 10);
    assert_int_equal(tb_take(&b, 10, UINT64_MAX), 0);
    assert_int_equal(tb_wait_ns(&b, 10, UINT64_MAX), 10);
}

static void test_clock_backwards(void **state)
{
    (void)state;
    struct token_bucket b = mk(1000, 0, 1000, 1000); /* 1 token per ns */
    assert_int_equal(tb_take(&b, 1000, 1000), 1000);
    assert_int_equal(tb_take(&b, 1000, 500), 0);     /* earlier than the last update */
    assert_int_equal(tb_take(&b, 1000, 0), 0);
    /* the wait is counted from the time the bucket has already reached */
    assert_int_equal(tb_wait_ns(&b, 10, 500), 510);
    assert_int_equal(tb_wait_ns(&b, 10, 0), 1010);
    assert_int_equal(tb_take(&b, 1000, 1010), 10);   /* nothing lost or gained by the skew */
    assert_int_equal(tb_take(&b, 1000, 1005), 0);
    assert_int_equal(tb_take(&b, 1000, 1020), 10);
    /* after a backwards step, a full bucket stays full and does not grow */
    assert_int_equal(tb_take(&b, 0, 5000), 0);
    assert_int_equal(tb_take(&b, 0, 10), 0);
    assert_int_equal(tb_take(&b, UINT64_MAX, 10), 1000);
}

static void test_one_time_burst(void **state)
{
    (void)state;
    struct token_bucket b = mk(100, 50, 100, 0); /* 1 token per ns, 50 extra once */
    assert_int_equal(tb_wait_ns(&b, 150, 0), 0);
    assert_int_equal(tb_take(&b, 30, 0), 30);    /* from the burst: budget still full */
    assert_int_equal(tb_take(&b, 0, 1000), 0);   /* refilling a full budget adds nothing */
    assert_int_equal(tb_take(&b, 90, 1000), 90); /* 20 burst + 70 budget */
    assert_int_equal(tb_wait_ns(&b, 60, 1000), 30);
    assert_int_equal(tb_take(&b, UINT64_MAX, 1000), 30);
    /* the burst is gone for good: a long idle refills the budget only */
    assert_int_equal(tb_take(&b, UINT64_MAX, 10 * S), 100);
    assert_int_equal(tb_take(&b, UINT64_MAX, 20 * S), 100);

    /* a burst larger than the bucket, taken in pieces, before any budget */
    b = mk(10, 25, 10, 0);
    assert_int_equal(tb_take(&b, 20, 0), 20);
    assert_int_equal(tb_take(&b, 0, 5), 0);
    assert_int_equal(tb_take(&b, 12, 5), 12);    /* 5 burst + 7 budget (full, no refill) */
    assert_int_equal(tb_take(&b, UINT64_MAX, 5), 3);
    assert_int_equal(tb_wait_ns(&b, 100, 5), 10);
}

static void test_capped_at_size(void **state)
{
    (void)state;
    struct token_bucket b = mk(100, 0, 100, 0);
    assert_int_equal(tb_take(&b, 40, 0), 40);
    assert_int_equal(tb_take(&b, UINT64_MAX, 1000000), 100); /* not 60 + 1000000 */
    assert_int_equal(tb_take(&b, 0, 2000000), 0);
    assert_int_equal(tb_take(&b, UINT64_MAX, 3000000), 100);
    /* a full bucket earns nothing towards later: 1 ns after draining, exactly one token */
    assert_int_equal(tb_take(&b, UINT64_MAX, 3000001), 1);

    /* the fraction earned before the bucket filled is dropped, not carried past full */
    b = mk(3, 0, 10, 0); /* 0.3 tokens per ns */
    assert_int_equal(tb_take(&b, 3, 0), 3);
    assert_int_equal(tb_take(&b, 0, 35), 0);                /* 10.5 tokens' worth, 3 fit */
    assert_int_equal(tb_take(&b, UINT64_MAX, 35), 3);
    assert_int_equal(tb_take(&b, UINT64_MAX, 38), 0);       /* 0.9 */
    assert_int_equal(tb_take(&b, UINT64_MAX, 39), 1);       /* 1.2 */
    assert_int_equal(tb_wait_ns(&b, 3, 39), 10);            /* 0.2 + 0.3 * 10 = 3.2 */
    assert_int_equal(tb_wait_ns(&b, 2, 39), 6);             /* 0.2 + 0.3 * 6 = 2.0 */
}

/* Drain, then refill by steps of `step` ns up to `end`, taking all each time (so the bucket is
 * never full and nothing is capped); returns the tokens taken after the drain. */
static uint64_t take_in_steps(uint64_t size, uint64_t refill, uint64_t step, uint64_t end,
                              int take_each)
{
    struct token_bucket b = mk(size, 0, refill, 0);
    assert_int_equal(tb_take(&b, UINT64_MAX, 0), size);
    uint64_t got = 0;
    for (uint64_t t = step; t < end; t += step)
        got += tb_take(&b, take_each ? UINT64_MAX : 0, t);
    return got + tb_take(&b, UINT64_MAX, end);
}

static void test_tiny_steps(void **state)
{
    (void)state;
    static const struct { uint64_t size, refill, step, end; } c[] = {
        { 1000003, 999999937, 1, 1000000 },            /* every ns: ~1.000004 tokens/ns */
        { 7, 1000000007, 1, 1000000 },                 /* every ns: far below 1 token/ns */
        { 262144, 62500000, 7000, 62500000 - 1 },      /* every 7 us, 4 MiB/s */
        { 1u << 20, 62500000, 7000, 62500000 - 1 },    /* every 7 us, 16 MiB/s */
        { 65536, 62500000, 7001, 62400000 },           /* every 7.001 us, 1 MiB/s */
        { 99991, 33333331, 3, 33000000 },              /* uneven everything */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint64_t big = take_in_steps(c[i].size, c[i].refill, c[i].end, c[i].end, 1);
        uint64_t want = (uint64_t)((unsigned __int128)c[i].end * c[i].size / c[i].refill);
        assert_int_equal(big, want);
        assert_true(want < c[i].size); /* the bucket never filled */
        uint64_t taking = take_in_steps(c[i].size, c[i].refill, c[i].step, c[i].end, 1);
        uint64_t refilling = take_in_steps(c[i].size, c[i].refill, c[i].step, c[i].end, 0);
        if (taking != want || refilling != want)
            fail_msg("case %zu: %llu/%llu tokens in steps of %llu ns, %llu in one step", i,
                     (unsigned long long)taking, (unsigned long long)refilling,
                     (unsigned long long)c[i].step, (unsigned long long)want);
    }
}

/* The caller's throttle loop with a fake clock: move `total` tokens in requests of `chunk`
 * (each looped until done), sleeping exactly tb_wait_ns whenever short. Returns the time. */
static uint64_t simulate(const struct bucket_cfg *cfg, uint64_t total, uint64_t chunk,
                         uint64_t *waits)
{
    struct token_bucket b;
    uint64_t now = 1000 * S;
    const uint64_t start = now;
    tb_init(&b, cfg, now);
    *waits = 0;
    while (total) {
        uint64_t remaining = total < chunk ? total : chunk;
        total -= remaining;
        while (remaining) {
            uint64_t got = tb_take(&b, remaining, now);
            assert_true(got <= remaining);
            remaining -= got;
            if (remaining) {
                uint64_t w = tb_wait_ns(&b, remaining, now);
                assert_true(w > 0 && w <= cfg->refill_time_ns);
                now += w;
                (*waits)++;
            }
        }
    }
    return now - start;
}

static void check_throughput(uint64_t size, uint64_t burst, uint64_t refill, uint64_t total,
                             uint64_t chunk)
{
    const struct bucket_cfg cfg = { .size = size, .one_time_burst = burst,
                                    .refill_time_ns = refill };
    uint64_t waits;
    uint64_t got = simulate(&cfg, total, chunk, &waits);
    /* (X - initial budget - burst) / R, with R = size / refill */
    double ideal = (double)(total - size - burst) * (double)refill / (double)size;
    double quantum = (double)refill / (double)size; /* ns per token */
    double err = (double)got - ideal;
    if (err < 0)
        err = -err;
    /* within 0.1%, and in fact within one token's time plus 1 ns of rounding per wait */
    if (err > ideal * 0.001 || err > quantum + (double)waits)
        fail_msg("size %llu burst %llu refill %llu: %llu bytes in %.0f ns, want %.0f (%llu waits)",
                 (unsigned long long)size, (unsigned long long)burst,
                 (unsigned long long)refill, (unsigned long long)total, (double)got, ideal,
                 (unsigned long long)waits);
}

static void test_throughput(void **state)
{
    (void)state;
    const uint64_t mib = 1ull << 20, refill = 62500000; /* 62.5 ms */
    const uint64_t chunks[] = { UINT64_MAX, 64 << 10, 4096, 1000 };
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        check_throughput(256 << 10, 0, refill, 8 * mib, chunks[i]); /* 4 MiB/s: 1.9375 s */
        check_throughput(64 << 10, 0, refill, 8 * mib, chunks[i]);  /* 1 MiB/s: 7.9375 s */
        check_throughput(1 * mib, 0, refill, 8 * mib, chunks[i]);   /* 16 MiB/s: 0.4375 s */
        check_throughput(256 << 10, 1 * mib, refill, 8 * mib, chunks[i]); /* with a burst */
        check_throughput(99991, 12345, 33333331, 8 * mib, chunks[i]);     /* uneven rate */
    }
    /* the headline case, exactly: 31 refills of 62.5 ms */
    const struct bucket_cfg cfg = { .size = 256 << 10, .one_time_burst = 0,
                                    .refill_time_ns = refill };
    uint64_t waits;
    assert_int_equal(simulate(&cfg, 8 * mib, UINT64_MAX, &waits), 1937500000ull);
    assert_int_equal(waits, 31);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_zero_request),
        cmocka_unit_test(test_larger_than_bucket),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_clock_backwards),
        cmocka_unit_test(test_one_time_burst),
        cmocka_unit_test(test_capped_at_size),
        cmocka_unit_test(test_tiny_steps),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests_name("token_bucket", tests, NULL, NULL) ? 1 : 0;
}
