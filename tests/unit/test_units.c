/* Unit tests for size_parse: suffixes, malformed input and overflow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "units.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests_name("units", tests, NULL, NULL) ? 1 : 0;
}
