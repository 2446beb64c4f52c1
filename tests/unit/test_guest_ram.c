/* Unit tests for the Linux tier's guest RAM: region table rules and the one guest-range check. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/core/guest_ram.h"

#define PG 4096ull

static void test_add_rules(void **state)
{
    (void)state;
    struct guest_ram r;
    guest_ram_init(&r);
    uint8_t *h = aligned_alloc(PG, 4 * PG);
    assert_non_null(h);
    assert_int_equal(guest_ram_add(&r, 0, 0, h), -EINVAL);              /* empty */
    assert_int_equal(guest_ram_add(&r, 0, PG, NULL), -EINVAL);          /* no host */
    assert_int_equal(guest_ram_add(&r, 1, PG, h), -EINVAL);             /* gpa unaligned */
    assert_int_equal(guest_ram_add(&r, 0, PG + 1, h), -EINVAL);         /* size unaligned */
    assert_int_equal(guest_ram_add(&r, 0, PG, h + 1), -EINVAL);         /* host unaligned */
    assert_int_equal(guest_ram_add(&r, UINT64_MAX - PG + 1, PG, h), -EINVAL); /* ends at 2^64 */
    assert_int_equal(guest_ram_add(&r, 0x10000, 2 * PG, h), 0);
    assert_int_equal(guest_ram_add(&r, 0x10000 + PG, PG, h), -EINVAL);  /* overlaps */
    assert_int_equal(guest_ram_add(&r, 0xf000, 2 * PG, h), -EINVAL);    /* overlaps its start */
    assert_int_equal(guest_ram_add(&r, 0xf000, PG, h + PG), 0);         /* touches: fine */
    assert_int_equal(guest_ram_add(&r, 0x100000, PG, h + 2 * PG), 0);
    assert_int_equal(guest_ram_add(&r, 0x200000, PG, h + 3 * PG), 0);
    assert_int_equal(guest_ram_add(&r, 0x300000, PG, h), -ENOSPC);
    assert_int_equal(r.nregions, 4);
    free(h);
}

static void test_range_check(void **state)
{
    (void)state;
    struct guest_ram r;
    guest_ram_init(&r);
    uint8_t *lo = aligned_alloc(PG, 2 * PG), *top = aligned_alloc(PG, PG);
    assert_non_null(lo);
    assert_non_null(top);
    const uint64_t top_gpa = UINT64_MAX - 2 * PG + 1; /* [2^64 - 2 pages, 2^64 - 1 page) */
    assert_int_equal(guest_ram_add(&r, 0x1000, 2 * PG, lo), 0);
    assert_int_equal(guest_ram_add(&r, 0x3000, PG, top), 0); /* touches the first */
    assert_int_equal(guest_ram_add(&r, top_gpa, PG, top), 0);

    assert_ptr_equal(guest_ram_ptr(&r, 0x1000, 1), lo);
    assert_ptr_equal(guest_ram_ptr(&r, 0x1000, 2 * PG), lo);
    assert_ptr_equal(guest_ram_ptr(&r, 0x2fff, 1), lo + 2 * PG - 1);
    assert_null(guest_ram_ptr(&r, 0xfff, 1));            /* below */
    assert_null(guest_ram_ptr(&r, 0xfff, 2));            /* starts below */
    assert_null(guest_ram_ptr(&r, 0x1000, 2 * PG + 1)); /* runs into the next region */
    assert_null(guest_ram_ptr(&r, 0x2fff, 2));
    assert_ptr_equal(guest_ram_ptr(&r, 0x3000, PG), top);
    assert_null(guest_ram_ptr(&r, 0x4000, 1));           /* past the end */
    /* len 0 is refused everywhere, in RAM too */
    assert_null(guest_ram_ptr(&r, 0x1000, 0));
    assert_null(guest_ram_ptr(&r, 0x4000, 0));
    /* huge lengths and wrapping ends */
    assert_null(guest_ram_ptr(&r, 0x1000, UINT64_MAX));
    assert_null(guest_ram_ptr(&r, 0x1001, UINT64_MAX - 0x1000));
    assert_ptr_equal(guest_ram_ptr(&r, top_gpa, PG), top);
    assert_ptr_equal(guest_ram_ptr(&r, top_gpa + PG - 1, 1), top + PG - 1);
    assert_null(guest_ram_ptr(&r, top_gpa + PG - 1, 2));
    assert_null(guest_ram_ptr(&r, top_gpa, PG + 1));
    assert_null(guest_ram_ptr(&r, UINT64_MAX, 1));
    assert_null(guest_ram_ptr(&r, UINT64_MAX - 15, 32));  /* wraps to 16 */
    assert_null(guest_ram_ptr(&r, top_gpa + 8, UINT64_MAX));
    free(lo);
    free(top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_rules),
        cmocka_unit_test(test_range_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
