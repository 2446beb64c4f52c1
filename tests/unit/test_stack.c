/* Unit tests for the initial stack builder: layout read back from the buffer, alignment, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/core/stack_build.h"

#define ERR_LEN   256
#define FILL_BYTE 0x5a
#define MAX_STRS  2048

static const uint8_t random_bytes[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* A stack region in host memory, sized exactly so ASan/valgrind catch writes past it. */
struct region {
    uint8_t *buf;
    uint64_t gva, size;
};

static struct region region_new(uint64_t gva, uint64_t size)
{
    struct region r = {malloc(size), gva, size};
    assert_non_null(r.buf);
    memset(r.buf, FILL_BYTE, size);
    return r;
}

static uint64_t read_u64(const struct region *r, uint64_t gva)
{
    assert_true(gva >= r->gva && gva + 8 <= r->gva + r->size);
    uint64_t v;
    memcpy(&v, r->buf + (gva - r->gva), 8);
    return v;
}

static const char *string_at(const struct region *r, uint64_t gva)
{
    assert_true(gva >= r->gva && gva < r->gva + r->size);
    const char *s = (const char *)r->buf + (gva - r->gva);
    assert_non_null(memchr(s, 0, r->gva + r->size - gva));
    return s;
}

struct parsed_stack {
    uint64_t argc;
    const char *argv[MAX_STRS];
    unsigned envc;
    const char *envp[MAX_STRS];
    uint64_t auxv_keys[32], auxv_vals[32];
    unsigned nauxv;
    uint64_t auxv_gva;
};

/* Walks the stack as a libc's _start would. */
static void parse_stack(const struct region *r, uint64_t rsp, struct parsed_stack *p)
{
    memset(p, 0, sizeof(*p));
    assert_int_equal(rsp % 16, 0);
    uint64_t at = rsp;
    p->argc = read_u64(r, at);
    at += 8;
    assert_true(p->argc < MAX_STRS);
    for (uint64_t i = 0; i < p->argc; i++, at += 8)
        p->argv[i] = string_at(r, read_u64(r, at));
    assert_int_equal(read_u64(r, at), 0);
    at += 8;
    for (uint64_t v; (v = read_u64(r, at)) != 0; at += 8) {
        assert_true(p->envc < MAX_STRS);
        p->envp[p->envc++] = string_at(r, v);
    }
    at += 8;
    p->auxv_gva = at;
    for (;; at += 16) {
        assert_true(p->nauxv < 32);
        p->auxv_keys[p->nauxv] = read_u64(r, at);
        p->auxv_vals[p->nauxv] = read_u64(r, at + 8);
        if (p->auxv_keys[p->nauxv++] == AT_NULL)
            break;
    }
}

static uint64_t auxv_get(const struct parsed_stack *p, uint64_t key)
{
    for (unsigned i = 0; i < p->nauxv; i++)
        if (p->auxv_keys[i] == key)
            return p->auxv_vals[i];
    fail_msg("auxv key %llu missing", (unsigned long long)key);
    return 0;
}

static struct stack_args basic_args(int argc, char *const *argv, int envc, char *const *envp)
{
    return (struct stack_args){.argc = argc, .argv = argv, .envc = envc, .envp = envp,
                               .execfn = "/bin/job", .random16 = random_bytes, .phdr = 0x400040,
                               .phent = 56, .phnum = 9, .entry = 0x401000, .hwcap = 0x178bfbff,
                               .hwcap2 = 2};
}

static void test_layout_roundtrip(void **state)
{
    (void)state;
    char *argv[] = {"job", "--flag", "", "last argument"};
    char *envp[] = {"PATH=/bin", "HOME=/"};
    struct region r = region_new(0x3e00000, 0x10000);
    struct stack_args a = basic_args(4, argv, 2, envp);
    uint64_t rsp;
    char err[ERR_LEN];
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), 0);
    struct parsed_stack p;
    parse_stack(&r, rsp, &p);
    assert_int_equal(p.argc, 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(p.argv[i], argv[i]);
    assert_int_equal(p.envc, 2);
    assert_string_equal(p.envp[0], envp[0]);
    assert_string_equal(p.envp[1], envp[1]);

    static const uint64_t expected_keys[] = {AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE,
                                             AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID,
                                             AT_SECURE, AT_RANDOM, AT_HWCAP, AT_HWCAP2, AT_CLKTCK,
                                             AT_PLATFORM, AT_EXECFN, AT_NULL};
    assert_int_equal(p.nauxv, sizeof(expected_keys) / sizeof(expected_keys[0]));
    for (unsigned i = 0; i < p.nauxv; i++)
        assert_int_equal(p.auxv_keys[i], expected_keys[i]);
    assert_int_equal(auxv_get(&p, AT_PHDR), 0x400040);
    assert_int_equal(auxv_get(&p, AT_PHENT), 56);
    assert_int_equal(auxv_get(&p, AT_PHNUM), 9);
    assert_int_equal(auxv_get(&p, AT_PAGESZ), 4096);
    assert_int_equal(auxv_get(&p, AT_BASE), 0);
    assert_int_equal(auxv_get(&p, AT_ENTRY), 0x401000);
    assert_int_equal(auxv_get(&p, AT_UID) | auxv_get(&p, AT_EUID) | auxv_get(&p, AT_GID) |
                     auxv_get(&p, AT_EGID) | auxv_get(&p, AT_SECURE) | auxv_get(&p, AT_FLAGS), 0);
    assert_int_equal(auxv_get(&p, AT_HWCAP), 0x178bfbff);
    assert_int_equal(auxv_get(&p, AT_HWCAP2), 2);
    assert_int_equal(auxv_get(&p, AT_CLKTCK), 100);

    uint64_t random_gva = auxv_get(&p, AT_RANDOM);
    assert_int_equal(random_gva, r.gva + r.size - 16);
    assert_memory_equal(r.buf + (random_gva - r.gva), random_bytes, 16);
    assert_string_equal(string_at(&r, auxv_get(&p, AT_PLATFORM)), "x86_64");
    assert_string_equal(string_at(&r, auxv_get(&p, AT_EXECFN)), "/bin/job");

    /* nothing below rsp was touched */
    for (uint64_t off = 0; off < rsp - r.gva; off++)
        if (r.buf[off] != FILL_BYTE)
            fail_msg("byte at 0x%llx below rsp modified", (unsigned long long)(r.gva + off));
    free(r.buf);
}

static void test_alignment_for_odd_and_even_counts(void **state)
{
    (void)state;
    char *strs[] = {"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"};
    const uint64_t tops_mod16[] = {0, 8, 3, 15};
    for (int argc = 0; argc <= 5; argc++) {
        for (int envc = 0; envc <= 5; envc++) {
            for (unsigned t = 0; t < 4; t++) {
                struct region r = region_new(0x200000 + tops_mod16[t], 0x2000);
                struct stack_args a = basic_args(argc, strs, envc, strs + 1);
                a.execfn = strs[(argc + envc) % 7];
                uint64_t rsp;
                char err[ERR_LEN];
                assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), 0);
                assert_int_equal(rsp % 16, 0);
                struct parsed_stack p;
                parse_stack(&r, rsp, &p);
                assert_int_equal(p.argc, (uint64_t)argc);
                assert_int_equal(p.envc, (unsigned)envc);
                for (int i = 0; i < argc; i++)
                    assert_string_equal(p.argv[i], strs[i]);
                for (int i = 0; i < envc; i++)
                    assert_string_equal(p.envp[i], strs[i + 1]);
                assert_memory_equal(r.buf + (auxv_get(&p, AT_RANDOM) - r.gva), random_bytes, 16);
                free(r.buf);
            }
        }
    }
}

static void test_zero_arguments(void **state)
{
    (void)state;
    struct region r = region_new(0x300000, 0x1000);
    struct stack_args a = basic_args(0, NULL, 0, NULL);
    a.execfn = NULL;
    uint64_t rsp;
    char err[ERR_LEN];
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), 0);
    struct parsed_stack p;
    parse_stack(&r, rsp, &p);
    assert_int_equal(p.argc, 0);
    assert_int_equal(p.envc, 0);
    assert_string_equal(string_at(&r, auxv_get(&p, AT_EXECFN)), "");
    free(r.buf);
}

static void test_execfn_defaults_to_argv0(void **state)
{
    (void)state;
    char *argv[] = {"/usr/bin/tool", "x"};
    struct region r = region_new(0x300000, 0x1000);
    struct stack_args a = basic_args(2, argv, 0, NULL);
    a.execfn = NULL;
    uint64_t rsp;
    char err[ERR_LEN];
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), 0);
    struct parsed_stack p;
    parse_stack(&r, rsp, &p);
    assert_string_equal(string_at(&r, auxv_get(&p, AT_EXECFN)), "/usr/bin/tool");
    free(r.buf);
}

static void test_many_arguments(void **state)
{
    (void)state;
    enum { NARGS = 1500, NENV = 400 };
    static char storage[NARGS + NENV][16];
    static char *ptrs[NARGS + NENV];
    for (int i = 0; i < NARGS + NENV; i++) {
        snprintf(storage[i], sizeof(storage[i]), "%c%d", i < NARGS ? 'a' : 'E', i);
        ptrs[i] = storage[i];
    }
    struct region r = region_new(0x1000000, 0x100000);
    struct stack_args a = basic_args(NARGS, ptrs, NENV, ptrs + NARGS);
    uint64_t rsp;
    char err[ERR_LEN];
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), 0);
    struct parsed_stack p;
    parse_stack(&r, rsp, &p);
    assert_int_equal(p.argc, NARGS);
    assert_int_equal(p.envc, NENV);
    for (int i = 0; i < NARGS; i++)
        assert_string_equal(p.argv[i], ptrs[i]);
    for (int i = 0; i < NENV; i++)
        assert_string_equal(p.envp[i], ptrs[NARGS + i]);
    free(r.buf);
}

static void test_quarter_limit_boundary(void **state)
{
    (void)state;
    /* buf 4096 -> limit 1024 bytes of argv/envp strings plus (argc+1+envc+1) pointers */
    char arg[1001];
    char *argv[] = {arg};
    struct region r = region_new(0x300000, 4096);
    struct stack_args a = basic_args(1, argv, 0, NULL);
    uint64_t rsp;
    char err[ERR_LEN];

    memset(arg, 'x', 999);
    arg[999] = 0; /* 1000 string bytes + 3 pointers * 8 = 1024 */
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), 0);
    struct parsed_stack p;
    parse_stack(&r, rsp, &p);
    assert_string_equal(p.argv[0], arg);

    arg[999] = 'x';
    arg[1000] = 0; /* one byte more */
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -E2BIG);
    assert_string_equal(err, "argument list too long: 1025 bytes, limit 1024");
    free(r.buf);
}

static void test_total_exceeds_buffer(void **state)
{
    (void)state;
    struct region r = region_new(0x300000, 256);
    struct stack_args a = basic_args(0, NULL, 0, NULL);
    uint64_t rsp = 0xdead;
    char err[ERR_LEN];
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -E2BIG);
    assert_non_null(strstr(err, "argument list too long"));
    assert_non_null(strstr(err, "limit 256"));
    assert_int_equal(rsp, 0xdead);

    /* a long execfn alone can overflow the region even though it is not an argument */
    static char long_name[8192];
    memset(long_name, 'n', sizeof(long_name) - 1);
    struct region big = region_new(0x300000, 8192);
    a.execfn = long_name;
    assert_int_equal(stack_build(big.buf, big.gva, big.size, &a, &rsp, err, sizeof(err)), -E2BIG);
    free(big.buf);

    /* the phdr copy counts too */
    static uint8_t phdrs[8192];
    a.execfn = "x";
    a.phdr = 0;
    a.phdr_copy = phdrs;
    a.phdr_copy_len = sizeof(phdrs);
    big = region_new(0x300000, 8192);
    assert_int_equal(stack_build(big.buf, big.gva, big.size, &a, &rsp, err, sizeof(err)), -E2BIG);
    free(big.buf);
    free(r.buf);
}

static void test_huge_counts_overflow_safe(void **state)
{
    (void)state;
    char *one[] = {"only"};
    struct region r = region_new(0x300000, 1 << 20);
    uint64_t rsp;
    char err[ERR_LEN];
    /* argv really has one entry: the builder must refuse from the counts alone */
    struct stack_args a = basic_args(INT_MAX, one, 0, NULL);
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -E2BIG);
    assert_non_null(strstr(err, "argument list too long"));
    a = basic_args(1, one, INT_MAX, one);
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -E2BIG);
    a = basic_args(INT_MAX, one, INT_MAX, one);
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -E2BIG);
    /* region that wraps the address space */
    a = basic_args(1, one, 0, NULL);
    assert_int_equal(stack_build(r.buf, UINT64_MAX - 0x1000, r.size, &a, &rsp, err, sizeof(err)), -EINVAL);
    /* a region ending exactly at 2^64 has no representable top; one just below it works */
    assert_int_equal(stack_build(r.buf, 0ULL - r.size, r.size, &a, &rsp, err, sizeof(err)), -EINVAL);
    assert_int_equal(stack_build(r.buf, 0ULL - r.size - 16, r.size, &a, &rsp, err, sizeof(err)), 0);
    assert_int_equal(rsp % 16, 0);
    free(r.buf);
}

static void test_phdr_copy(void **state)
{
    (void)state;
    uint8_t phdrs[3 * 56 + 5];
    for (unsigned i = 0; i < sizeof(phdrs); i++)
        phdrs[i] = (uint8_t)(i * 7 + 1);
    char *argv[] = {"prog", "odd-length-arg"};
    char *envp[] = {"A=1"};
    struct region r = region_new(0x3f00000, 0x4000);
    struct stack_args a = basic_args(2, argv, 1, envp);
    a.phdr = 0;
    a.phdr_copy = phdrs;
    a.phdr_copy_len = sizeof(phdrs);
    uint64_t rsp;
    char err[ERR_LEN];
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), 0);
    struct parsed_stack p;
    parse_stack(&r, rsp, &p);
    uint64_t at_phdr = auxv_get(&p, AT_PHDR);
    assert_int_equal(at_phdr % 8, 0);
    assert_true(at_phdr > p.auxv_gva && at_phdr + sizeof(phdrs) <= r.gva + r.size);
    assert_memory_equal(r.buf + (at_phdr - r.gva), phdrs, sizeof(phdrs));
    /* the copy sits below every string */
    assert_true(at_phdr + sizeof(phdrs) <= (uint64_t)(p.argv[0] - (const char *)r.buf) + r.gva);
    assert_string_equal(p.argv[1], "odd-length-arg");
    assert_string_equal(p.envp[0], "A=1");

    /* a known AT_PHDR wins over the copy */
    a.phdr = 0x400040;
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), 0);
    parse_stack(&r, rsp, &p);
    assert_int_equal(auxv_get(&p, AT_PHDR), 0x400040);
    free(r.buf);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    char *with_null[] = {"a", NULL};
    struct region r = region_new(0x300000, 0x1000);
    uint64_t rsp;
    char err[ERR_LEN];
    struct stack_args a = basic_args(-1, NULL, 0, NULL);
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -EINVAL);
    a = basic_args(0, NULL, -5, NULL);
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -EINVAL);
    a = basic_args(1, NULL, 0, NULL);
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -EINVAL);
    a = basic_args(2, with_null, 0, NULL);
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "argv[1]"));
    a = basic_args(0, NULL, 2, with_null);
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "envp[1]"));
    a = basic_args(0, NULL, 0, NULL);
    a.random16 = NULL;
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, err, sizeof(err)), -EINVAL);
    a.random16 = random_bytes;
    assert_int_equal(stack_build(r.buf, r.gva, r.size, &a, &rsp, NULL, 0), 0);
    free(r.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_roundtrip),
        cmocka_unit_test(test_alignment_for_odd_and_even_counts),
        cmocka_unit_test(test_zero_arguments),
        cmocka_unit_test(test_execfn_defaults_to_argv0),
        cmocka_unit_test(test_many_arguments),
        cmocka_unit_test(test_quarter_limit_boundary),
        cmocka_unit_test(test_total_exceeds_buffer),
        cmocka_unit_test(test_huge_counts_overflow_safe),
        cmocka_unit_test(test_phdr_copy),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests_name("stack_build", tests, NULL, NULL);
}
