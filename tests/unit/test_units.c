/* Unit tests for units.c: sizes, durations, percentages and counts (suffixes, malformed input,
 * overflow) and their printing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "policy/units.h"

static void ok(const char *s, uint64_t want)
{
    uint64_t v = 0xdeadbeef;
    int rc = size_parse(s, &v);
    if (rc != 0 || v != want)
        fail_msg("size_parse(\"%s\") = %d, %llu; want 0, %llu", s, rc, (unsigned long long)v,
                 (unsigned long long)want);
}

static void bad(const char *s, int want_rc)
{
    uint64_t v = 0xdeadbeef;
    int rc = size_parse(s, &v);
    if (rc != want_rc)
        fail_msg("size_parse(\"%s\") = %d; want %d", s ? s : "(null)", rc, want_rc);
    assert_int_equal(v, 0xdeadbeef); /* untouched on error */
}

static void test_valid(void **state)
{
    (void)state;
    ok("64MiB", 64ull << 20);
    ok("64M", 64ull << 20);
    ok("64mb", 64ull << 20);
    ok("64mib", 64ull << 20);
    ok("1g", 1ull << 30);
    ok("1GiB", 1ull << 30);
    ok("2K", 2048);
    ok("2KiB", 2048);
    ok("1T", 1ull << 40);
    ok("4096", 4096);
    ok("4096B", 4096);
    ok("4096b", 4096);
    ok("0", 0);
    ok("0GiB", 0);
    ok("007", 7);
}

static void test_malformed(void **state)
{
    (void)state;
    bad("", -EINVAL);
    bad("MiB", -EINVAL);
    bad("12x", -EINVAL);
    bad("-1", -EINVAL);
    bad("+1", -EINVAL);
    bad(" 1", -EINVAL);
    bad("1 ", -EINVAL);
    bad("1 MiB", -EINVAL);
    bad("1MiBs", -EINVAL);
    bad("1.5G", -EINVAL);
    bad("0x10", -EINVAL);
    bad("1Mi", -EINVAL);
    bad("1P", -EINVAL);
    bad(NULL, -EINVAL);
}

static void test_limits(void **state)
{
    (void)state;
    ok("18446744073709551615", UINT64_MAX);
    bad("18446744073709551616", -ERANGE);
    bad("99999999999999999999999", -ERANGE);
    ok("17179869183GiB", 17179869183ull << 30); /* largest that fits */
    bad("17179869184GiB", -ERANGE);             /* 2^34 GiB = 2^64 */
    ok("16777215TiB", 16777215ull << 40);
    bad("16777216T", -ERANGE);
    bad("18446744073709551615K", -ERANGE);
}

/* ---- durations ---- */

static void dur_ok(const char *s, uint64_t want)
{
    uint64_t v = 0xdeadbeef;
    int rc = duration_parse(s, &v);
    if (rc != 0 || v != want)
        fail_msg("duration_parse(\"%s\") = %d, %llu; want 0, %llu", s, rc, (unsigned long long)v,
                 (unsigned long long)want);
}

static void dur_bad(const char *s, int want_rc)
{
    uint64_t v = 0xdeadbeef;
    int rc = duration_parse(s, &v);
    if (rc != want_rc)
        fail_msg("duration_parse(\"%s\") = %d; want %d", s ? s : "(null)", rc, want_rc);
    assert_int_equal(v, 0xdeadbeef);
}

static void test_duration_valid(void **state)
{
    (void)state;
    dur_ok("0", 0);
    dur_ok("0s", 0);
    dur_ok("0ms", 0);
    dur_ok("100ns", 100);
    dur_ok("250us", 250000);
    dur_ok("250\xc2\xb5s", 250000); /* µs */
    dur_ok("500ms", 500000000);
    dur_ok("30s", 30000000000ull);
    dur_ok("2m", 120000000000ull);
    dur_ok("2min", 120000000000ull);
    dur_ok("1h", 3600000000000ull);
    dur_ok("1.5s", 1500000000);
    dur_ok("0.5ms", 500000);
    dur_ok("1.50s", 1500000000);
    dur_ok("0.000000001s", 1);
    dur_ok("1.000000000000000000000000s", 1000000000); /* trailing zeros do not count */
    dur_ok("0.1h", 360000000000ull);
    dur_ok("1.5us", 1500);
    dur_ok("007ms", 7000000);
}

static void test_duration_malformed(void **state)
{
    (void)state;
    dur_bad(NULL, -EINVAL);
    dur_bad("", -EINVAL);
    dur_bad("s", -EINVAL);
    dur_bad("5", -EINVAL);       /* a unit is required */
    dur_bad("0.0", -EINVAL);     /* only a bare "0" goes without one */
    dur_bad("1.5ns", -EINVAL);   /* finer than a nanosecond */
    dur_bad("0.0000000001s", -EINVAL);
    dur_bad("1.s", -EINVAL);
    dur_bad(".5s", -EINVAL);
    dur_bad("-1s", -EINVAL);
    dur_bad("+1s", -EINVAL);
    dur_bad(" 1s", -EINVAL);
    dur_bad("1s ", -EINVAL);
    dur_bad("1 s", -EINVAL);
    dur_bad("1S", -EINVAL);
    dur_bad("1MS", -EINVAL);
    dur_bad("1sec", -EINVAL);
    dur_bad("1d", -EINVAL);
    dur_bad("1m30s", -EINVAL);
    dur_bad("1e3ms", -EINVAL);
    dur_bad("0x10s", -EINVAL);
    dur_bad("1.2.3s", -EINVAL);
}

static void test_duration_limits(void **state)
{
    (void)state;
    dur_ok("18446744073709551615ns", UINT64_MAX);
    dur_bad("18446744073709551616ns", -ERANGE);
    dur_ok("18446744073709551us", 18446744073709551000ull);
    dur_bad("18446744073709552us", -ERANGE);
    dur_ok("18446744073.709551615s", UINT64_MAX);  /* the whole part fits, the sum just does */
    dur_bad("18446744073.709551616s", -ERANGE);    /* the sum overflows */
    dur_ok("5124095h", 5124095ull * 3600000000000ull);
    dur_bad("5124096h", -ERANGE);
    dur_bad("99999999999999999999999h", -ERANGE);
    dur_bad("0.1234567890123456789s", -EINVAL);    /* 19 significant decimals: never whole ns */
    dur_ok("0.123456789000000000000s", 123456789);
}

/* ---- percentages and counts ---- */

static void pct_ok(const char *s, uint64_t want)
{
    uint64_t v = 0xdeadbeef;
    int rc = percent_parse(s, &v);
    if (rc != 0 || v != want)
        fail_msg("percent_parse(\"%s\") = %d, %llu; want 0, %llu", s, rc, (unsigned long long)v,
                 (unsigned long long)want);
}

static void pct_bad(const char *s, int want_rc)
{
    uint64_t v = 0xdeadbeef;
    int rc = percent_parse(s, &v);
    if (rc != want_rc)
        fail_msg("percent_parse(\"%s\") = %d; want %d", s ? s : "(null)", rc, want_rc);
    assert_int_equal(v, 0xdeadbeef);
}

static void test_percent(void **state)
{
    (void)state;
    pct_ok("25%", 2500);
    pct_ok("0%", 0);
    pct_ok("100%", 10000);
    pct_ok("400%", 40000);
    pct_ok("12.5%", 1250);
    pct_ok("12.50%", 1250);
    pct_ok("0.01%", 1);
    pct_ok("0.25%", 25);
    pct_ok("184467440737095516%", 18446744073709551600ull);
    pct_ok("184467440737095516.15%", UINT64_MAX);
    pct_bad("184467440737095516.16%", -ERANGE);
    pct_bad("99999999999999999999%", -ERANGE);
    pct_bad(NULL, -EINVAL);
    pct_bad("", -EINVAL);
    pct_bad("%", -EINVAL);
    pct_bad("25", -EINVAL);
    pct_bad("25 %", -EINVAL);
    pct_bad("25%%", -EINVAL);
    pct_bad("12.345%", -EINVAL);
    pct_bad("12.%", -EINVAL);
    pct_bad(".5%", -EINVAL);
    pct_bad("-5%", -EINVAL);
    pct_bad("25ms", -EINVAL);
}

static void test_count(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(count_parse("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(count_parse("1000", &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(count_parse("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    v = 7;
    assert_int_equal(count_parse("18446744073709551616", &v), -ERANGE);
    assert_int_equal(count_parse("", &v), -EINVAL);
    assert_int_equal(count_parse("1k", &v), -EINVAL);
    assert_int_equal(count_parse("-1", &v), -EINVAL);
    assert_int_equal(count_parse("1 ", &v), -EINVAL);
    assert_int_equal(count_parse(NULL, &v), -EINVAL);
    assert_int_equal(v, 7);
}

static void test_format(void **state)
{
    (void)state;
    char b[32];
    size_format(64ull << 20, b, sizeof b);
    assert_string_equal(b, "64MiB");
    size_format(1ull << 40, b, sizeof b);
    assert_string_equal(b, "1TiB");
    size_format(4096, b, sizeof b);
    assert_string_equal(b, "4KiB");
    size_format(12345, b, sizeof b);
    assert_string_equal(b, "12345 bytes");
    size_format(0, b, sizeof b);
    assert_string_equal(b, "0 bytes");
    size_format(UINT64_MAX, b, 4); /* truncated, still terminated */
    assert_int_equal(strlen(b), 3);
    duration_format(100000000, b, sizeof b);
    assert_string_equal(b, "100ms");
    duration_format(1500000000, b, sizeof b);
    assert_string_equal(b, "1500ms");
    duration_format(120000000000ull, b, sizeof b);
    assert_string_equal(b, "2m");
    duration_format(3600000000000ull, b, sizeof b);
    assert_string_equal(b, "1h");
    duration_format(1001, b, sizeof b);
    assert_string_equal(b, "1001ns");
    duration_format(50000, b, sizeof b);
    assert_string_equal(b, "50us");
    duration_format(0, b, sizeof b);
    assert_string_equal(b, "0");
    percent_format(2500, b, sizeof b);
    assert_string_equal(b, "25%");
    percent_format(1250, b, sizeof b);
    assert_string_equal(b, "12.5%");
    percent_format(5, b, sizeof b);
    assert_string_equal(b, "0.05%");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_duration_valid),
        cmocka_unit_test(test_duration_malformed),
        cmocka_unit_test(test_duration_limits),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests_name("units", tests, NULL, NULL) ? 1 : 0;
}
