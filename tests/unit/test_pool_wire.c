/* Unit tests for isovm pool's request check: heads, payload splitting, limits and every refusal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool/pool_wire.h"

static struct pool_request_head head_for(uint32_t argc, uint32_t envc, size_t len)
{
    return (struct pool_request_head){ .magic = POOL_MAGIC, .version = POOL_VERSION,
                                       .argc = argc, .envc = envc, .payload_len = (uint32_t)len,
                                       .umask = 022, .client_mono_ns = 5, .client_real_ns = 7 };
}

/* parse a payload given as a C array (NULs included) from a heap copy, which *copy_out keeps
 * (the request points into it; the caller frees it) */
static int parse(uint32_t argc, uint32_t envc, const char *p, size_t len, struct pool_request *r,
                 char *err, size_t errlen, char **copy_out)
{
    struct pool_request_head h = head_for(argc, envc, len);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, p, len);
    *copy_out = copy;
    return pool_request_parse(&h, copy, r, err, errlen);
}

static void test_good_request(void **state)
{
    (void)state;
    static const char p[] = "launch\0--\0/bin/x\0A=1\0EMPTY=\0";
    struct pool_request r;
    char err[200] = "", *copy;
    assert_int_equal(parse(3, 2, p, sizeof p - 1, &r, err, sizeof err, &copy), 0);
    assert_int_equal(r.argc, 3);
    assert_int_equal(r.envc, 2);
    assert_string_equal(r.argv[0], "launch");
    assert_string_equal(r.argv[2], "/bin/x");
    assert_null(r.argv[3]);
    assert_string_equal(r.envp[0], "A=1");
    assert_string_equal(r.envp[1], "EMPTY=");
    assert_null(r.envp[2]);
    assert_int_equal(r.umask, 022);
    assert_int_equal(r.client_mono_ns, 5);
    pool_request_free(&r);
    free(copy);
}

static void expect_refused(uint32_t argc, uint32_t envc, const char *p, size_t len,
                           const char *why)
{
    struct pool_request r;
    char err[200] = "", *copy;
    assert_int_equal(parse(argc, envc, p, len, &r, err, sizeof err, &copy), -EPROTO);
    free(copy);
    assert_non_null(strstr(err, why));
    assert_null(r.argv);
    assert_null(r.envp);
}

static void test_bad_payloads(void **state)
{
    (void)state;
    expect_refused(2, 0, "launch\0x", 8, "not NUL-terminated");
    expect_refused(2, 0, "launch\0x\0y\0", 11, "after its last string");
    expect_refused(2, 0, "jail\0x\0", 7, "not a launch");
    expect_refused(2, 1, "launch\0x\0NOEQ\0", 14, "not KEY=VALUE");
    expect_refused(2, 1, "launch\0x\0=v\0", 12, "not KEY=VALUE");
    expect_refused(3, 0, "launch\0x\0", 9, "string 2 is not NUL-terminated");
}

static void test_bad_heads(void **state)
{
    (void)state;
    char err[200];
    struct pool_request_head h = head_for(2, 0, 9);
    assert_int_equal(pool_head_check(&h, err, sizeof err), 0);
    h.magic = 0;
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "magic"));
    h = head_for(2, 0, 9);
    h.version = 1;
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "different isovm versions"));
    h = head_for(1, 0, 7);
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
    h = head_for(POOL_STRINGS_MAX + 1, 0, POOL_STRINGS_MAX * 4);
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
    h = head_for(2, POOL_STRINGS_MAX + 1, POOL_STRINGS_MAX * 4);
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
    h = head_for(2, 0, (size_t)POOL_PAYLOAD_MAX + 1);
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
    h = head_for(2, 0, 1); /* shorter than its strings can be */
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
    h = head_for(2, 0, 9);
    h.umask = 01000;
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
    /* counts that would overflow 32 bits when added are refused, not wrapped */
    h = head_for(0xffffffffu, 2, 9);
    assert_int_equal(pool_head_check(&h, err, sizeof err), -EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_request),
        cmocka_unit_test(test_bad_payloads),
        cmocka_unit_test(test_bad_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
