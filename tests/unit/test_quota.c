/* Unit tests for tenant budgets: the items of `isovm quota set`, their printing, and the UTC calendar windows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "quota/budget.h"

#define SEC_NS 1000000000ull

static void test_budget_items(void **state)
{
    (void)state;
    struct quota_budgets b = { 0 };
    char err[200];
    assert_int_equal(quota_budget_apply(&b, "cpu=10h/day", err, sizeof err), 0);
    assert_true(b.of[QUOTA_CPU].set);
    assert_int_equal(b.of[QUOTA_CPU].amount, 36000 * SEC_NS);
    assert_int_equal(b.of[QUOTA_CPU].window, QUOTA_DAY);
    assert_int_equal(quota_budget_apply(&b, "io=200GiB/month", err, sizeof err), 0);
    assert_int_equal(b.of[QUOTA_IO].amount, 200ull << 30);
    assert_int_equal(b.of[QUOTA_IO].window, QUOTA_MONTH);
    assert_int_equal(quota_budget_apply(&b, "net=5GiB/hour", err, sizeof err), 0);
    assert_int_equal(b.of[QUOTA_NET].window, QUOTA_HOUR);
    assert_int_equal(quota_budget_apply(&b, "jobs=4", err, sizeof err), 0);
    assert_int_equal(b.of[QUOTA_JOBS].amount, 4);
    assert_int_equal(b.of[QUOTA_JOBS].window, QUOTA_AT_ONCE);
    assert_int_equal(quota_budget_apply(&b, "memory=8GiB", err, sizeof err), 0);
    assert_int_equal(b.of[QUOTA_MEMORY].amount, 8ull << 30);
    assert_int_equal(quota_budget_apply(&b, "cpu=90m/week", err, sizeof err), 0);
    assert_int_equal(b.of[QUOTA_CPU].amount, 5400 * SEC_NS);
    assert_int_equal(b.of[QUOTA_CPU].window, QUOTA_WEEK);
    /* lifted */
    assert_int_equal(quota_budget_apply(&b, "jobs=unlimited", err, sizeof err), 0);
    assert_false(b.of[QUOTA_JOBS].set);
}

/* Every bad item: -EINVAL, a message naming the item, and the budgets unchanged. */
static void test_budget_refused(void **state)
{
    (void)state;
    static const struct { const char *item, *says; } bad[] = {
        { "cpu", "expected NAME=VALUE" },
        { "disk=5GiB", "unknown budget 'disk'" },
        { "cpu=10h", "needs a window" },
        { "cpu=10h/year", "unknown window 'year'" },
        { "cpu=10/day", "not a duration" },
        { "cpu=/day", "no amount" },
        { "io=lots/day", "not a size" },
        { "jobs=4/day", "takes no window" },
        { "jobs=-1", "not a whole number" },
        { "jobs=99999999999999999999999", "too large" },
        { "memory=", "no amount" },
        { "=4", "unknown budget ''" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct quota_budgets b = { 0 }, before;
        char err[200];
        assert_int_equal(quota_budget_apply(&b, "jobs=2", err, sizeof err), 0);
        before = b;
        assert_int_equal(quota_budget_apply(&b, bad[i].item, err, sizeof err), -EINVAL);
        if (!strstr(err, bad[i].says) || !strstr(err, bad[i].item))
            fail_msg("'%s': message '%s' does not say '%s'", bad[i].item, err, bad[i].says);
        assert_memory_equal(&b, &before, sizeof b);
    }
    /* a tiny error buffer is still NUL-terminated */
    struct quota_budgets b = { 0 };
    char tiny[8];
    assert_int_equal(quota_budget_apply(&b, "cpu", tiny, sizeof tiny), -EINVAL);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_int_equal(quota_budget_apply(&b, NULL, tiny, sizeof tiny), -EINVAL);
}

/* What format prints, apply reads back the same. */
static void test_budget_format_round_trip(void **state)
{
    (void)state;
    static const char *const items[] = { "cpu=10h/day", "io=200GiB/month", "net=512MiB/week",
                                         "jobs=4", "memory=8GiB", "cpu=1500ms/hour",
                                         "io=1000B/day", "memory=0B" };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        struct quota_budgets b = { 0 }, again = { 0 };
        char err[200], out[64];
        assert_int_equal(quota_budget_apply(&b, items[i], err, sizeof err), 0);
        for (int r = 0; r < QUOTA_NRES; r++) {
            if (!b.of[r].set)
                continue;
            quota_budget_format((enum quota_resource)r, &b.of[r], out, sizeof out);
            assert_string_equal(out, items[i]);
            assert_int_equal(quota_budget_apply(&again, out, err, sizeof err), 0);
            assert_memory_equal(&again.of[r], &b.of[r], sizeof b.of[r]);
        }
    }
    struct quota_budget none = { 0 };
    char out[32];
    quota_budget_format(QUOTA_NET, &none, out, sizeof out);
    assert_string_equal(out, "net=unlimited");
}

static void test_windows(void **state)
{
    (void)state;
    /* 2026-12-05 15:04:05 UTC, a Saturday */
    const int64_t t = 1796483045;
    assert_int_equal(quota_window_start(QUOTA_HOUR, t), 1796482800);  /* 15:00 */
    assert_int_equal(quota_window_end(QUOTA_HOUR, t), 1796486400);    /* 16:00 */
    assert_int_equal(quota_window_start(QUOTA_DAY, t), 1796428800);   /* 12-05 00:00 */
    assert_int_equal(quota_window_end(QUOTA_DAY, t), 1796515200);     /* 12-06 00:00 */
    assert_int_equal(quota_window_start(QUOTA_WEEK, t), 1795996800);  /* Monday 11-30 */
    assert_int_equal(quota_window_end(QUOTA_WEEK, t), 1796601600);    /* Monday 12-07 */
    assert_int_equal(quota_window_start(QUOTA_MONTH, t), 1796083200); /* 12-01 */
    assert_int_equal(quota_window_end(QUOTA_MONTH, t), 1798761600);   /* 2027-01-01 */
    /* a Monday's week starts that day; a Sunday's six days before */
    assert_int_equal(quota_window_start(QUOTA_WEEK, 1795996800 + 3600), 1795996800);
    assert_int_equal(quota_window_start(QUOTA_WEEK, 1795996800 - 1), 1795996800 - 7 * 86400);
    /* the week across a month's start: Monday 2026-06-29 for Wednesday 2026-07-01 */
    assert_int_equal(quota_window_start(QUOTA_WEEK, 1782864000), 1782691200);
    /* February of a leap year */
    assert_int_equal(quota_window_end(QUOTA_MONTH, 1707696000 /* 2024-02-12 */), 1709251200);
    /* a window's start is its own start; its end is the next one's start */
    for (int w = QUOTA_HOUR; w <= QUOTA_MONTH; w++) {
        int64_t s = quota_window_start((enum quota_window)w, t);
        int64_t e = quota_window_end((enum quota_window)w, t);
        assert_true(s <= t && t < e);
        assert_int_equal(quota_window_start((enum quota_window)w, s), s);
        assert_int_equal(quota_window_start((enum quota_window)w, e), e);
        assert_int_equal(quota_window_start((enum quota_window)w, e - 1), s);
    }
    assert_int_equal(quota_window_start(QUOTA_AT_ONCE, t), 0);
    assert_int_equal(quota_window_end(QUOTA_AT_ONCE, t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_items),
        cmocka_unit_test(test_budget_refused),
        cmocka_unit_test(test_budget_format_round_trip),
        cmocka_unit_test(test_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
