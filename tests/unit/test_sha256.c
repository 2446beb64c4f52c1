/* SHA-256 (lib/sha256.c) against FIPS 180-4's examples and a million 'a's, whole and in pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "lib/sha256.h"

static void hex_of(const void *data, size_t len, size_t piece, char out[65])
{
    struct sha256 s;
    uint8_t d[32];
    sha256_init(&s);
    for (size_t off = 0; off < len; off += piece)
        sha256_update(&s, (const uint8_t *)data + off, len - off < piece ? len - off : piece);
    sha256_final(&s, d);
    sha256_hex(d, out);
}

static void test_vectors(void **state)
{
    (void)state;
    char h[65];
    hex_of("", 0, 1, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: two blocks */
    for (size_t piece = 1; piece <= 64; piece++) {
        hex_of(m, strlen(m), piece, h);
        assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
}

static void test_million_a(void **state)
{
    (void)state;
    static char a[1000000];
    memset(a, 'a', sizeof a);
    char h[65];
    hex_of(a, sizeof a, 4093, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
