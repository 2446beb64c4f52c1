/* Builds the initial process stack (argc, argv, envp, auxv and their strings) the way Linux does. */
#include "vmm/core/stack_build.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define STACK_PAGE_SIZE   4096
#define STACK_CLOCK_TICKS 100
#define AUXV_PAIRS        19   /* entries written by write_auxv, AT_NULL included */
static const char platform_name[] = "x86_64";

__attribute__((format(printf, 4, 5)))
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Sum of strlen+1 over n strings, overflow-checked; -EINVAL on a NULL entry. */
static int string_bytes(char *const *strs, int n, const char *which, uint64_t *total, char *err,
                        size_t errlen)
{
    for (int i = 0; i < n; i++) {
        if (!strs[i])
            return fail(-EINVAL, err, errlen, "stack_build: %s[%d] is NULL", which, i);
        uint64_t len = (uint64_t)strlen(strs[i]) + 1;
        if (__builtin_add_overflow(*total, len, total))
            return fail(-E2BIG, err, errlen, "argument list too long: size overflows");
    }
    return 0;
}

/* Writes through a cursor into buf, which backs guest addresses from buf_gva. */
struct stack_writer {
    uint8_t *buf;
    uint64_t buf_gva;
};

static void put_bytes(const struct stack_writer *w, uint64_t gva, const void *src, size_t len)
{
    memcpy(w->buf + (gva - w->buf_gva), src, len);
}

static void put_u64(const struct stack_writer *w, uint64_t gva, uint64_t value)
{
    put_bytes(w, gva, &value, sizeof(value));
}

/* Copies n strings upward from *cursor, storing each one's guest address in the pointer array at ptrs_gva. */
static void put_strings(const struct stack_writer *w, char *const *strs, int n, uint64_t *cursor,
                        uint64_t ptrs_gva)
{
    for (int i = 0; i < n; i++) {
        size_t len = strlen(strs[i]) + 1;
        put_bytes(w, *cursor, strs[i], len);
        put_u64(w, ptrs_gva + (uint64_t)i * 8, *cursor);
        *cursor += len;
    }
    put_u64(w, ptrs_gva + (uint64_t)n * 8, 0);
}

int stack_build(uint8_t *buf, uint64_t buf_gva, uint64_t buf_size, const struct stack_args *a,
                uint64_t *rsp, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (!buf || !a || !rsp || !a->random16)
        return fail(-EINVAL, err, errlen, "stack_build: missing buffer, arguments or random bytes");
    if (a->argc < 0 || a->envc < 0)
        return fail(-EINVAL, err, errlen, "stack_build: negative argc %d or envc %d", a->argc, a->envc);
    if ((a->argc && !a->argv) || (a->envc && !a->envp))
        return fail(-EINVAL, err, errlen, "stack_build: argv or envp missing");
    uint64_t top;
    if (__builtin_add_overflow(buf_gva, buf_size, &top))
        return fail(-EINVAL, err, errlen, "stack_build: region [0x%" PRIx64 ", +0x%" PRIx64 ") wraps",
                    buf_gva, buf_size);

    /* Linux's rule: argv/envp strings and their pointers may take at most a quarter of the stack.
     * Count pointers first so absurd counts are refused before any string is read. */
    uint64_t arg_limit = buf_size / 4;
    uint64_t pointer_bytes = ((uint64_t)a->argc + 1 + (uint64_t)a->envc + 1) * 8;
    if (pointer_bytes > arg_limit)
        return fail(-E2BIG, err, errlen, "argument list too long: %" PRIu64 " bytes, limit %" PRIu64,
                    pointer_bytes, arg_limit);
    uint64_t strings = 0;
    int rc = string_bytes(a->argv, a->argc, "argv", &strings, err, errlen);
    if (rc == 0)
        rc = string_bytes(a->envp, a->envc, "envp", &strings, err, errlen);
    if (rc)
        return rc;
    uint64_t arg_bytes;
    if (__builtin_add_overflow(strings, pointer_bytes, &arg_bytes) || arg_bytes > arg_limit)
        return fail(-E2BIG, err, errlen, "argument list too long: %" PRIu64 " bytes, limit %" PRIu64,
                    arg_bytes, arg_limit);

    const char *execfn = a->execfn ? a->execfn : (a->argc ? a->argv[0] : "");
    uint64_t execfn_len = (uint64_t)strlen(execfn) + 1;
    bool copy_phdrs = a->phdr == 0 && a->phdr_copy && a->phdr_copy_len;
    uint64_t phdr_len = copy_phdrs ? a->phdr_copy_len : 0;
    uint64_t vector_bytes = pointer_bytes + 8 /* argc */ + AUXV_PAIRS * 16;

    /* Worst case including alignment slack (7 for the phdr copy, 15 for rsp). */
    uint64_t total = 16 + sizeof(platform_name) + 15;
    if (__builtin_add_overflow(total, execfn_len, &total) ||
        __builtin_add_overflow(total, strings, &total) ||
        (copy_phdrs && __builtin_add_overflow(total, phdr_len + 7, &total)) ||
        __builtin_add_overflow(total, vector_bytes, &total) || total > buf_size)
        return fail(-E2BIG, err, errlen, "argument list too long: %" PRIu64 " bytes, limit %" PRIu64,
                    total, buf_size);

    /* Addresses, from the top down. */
    uint64_t random_gva = top - 16;
    uint64_t platform_gva = random_gva - sizeof(platform_name);
    uint64_t execfn_gva = platform_gva - execfn_len;
    uint64_t strings_gva = execfn_gva - strings;
    uint64_t below_strings = strings_gva;
    uint64_t phdr_gva = a->phdr;
    if (copy_phdrs) {
        phdr_gva = (strings_gva - phdr_len) & ~(uint64_t)7;
        below_strings = phdr_gva;
    }
    uint64_t sp = (below_strings - vector_bytes) & ~(uint64_t)15;
    uint64_t argv_gva = sp + 8;
    uint64_t envp_gva = argv_gva + ((uint64_t)a->argc + 1) * 8;
    uint64_t auxv_gva = envp_gva + ((uint64_t)a->envc + 1) * 8;

    const struct stack_writer w = {buf, buf_gva};
    memset(buf + (sp - buf_gva), 0, top - sp);
    put_bytes(&w, random_gva, a->random16, 16);
    put_bytes(&w, platform_gva, platform_name, sizeof(platform_name));
    put_bytes(&w, execfn_gva, execfn, execfn_len);
    uint64_t cursor = strings_gva;
    put_strings(&w, a->argv, a->argc, &cursor, argv_gva);
    put_strings(&w, a->envp, a->envc, &cursor, envp_gva);
    if (copy_phdrs)
        put_bytes(&w, phdr_gva, a->phdr_copy, phdr_len);
    put_u64(&w, sp, (uint64_t)a->argc);

    const uint64_t auxv[AUXV_PAIRS][2] = {
        {AT_PHDR, phdr_gva},        {AT_PHENT, a->phent},   {AT_PHNUM, a->phnum},
        {AT_PAGESZ, STACK_PAGE_SIZE}, {AT_BASE, 0},         {AT_FLAGS, 0},
        {AT_ENTRY, a->entry},       {AT_UID, 0},            {AT_EUID, 0},
        {AT_GID, 0},                {AT_EGID, 0},           {AT_SECURE, 0},
        {AT_RANDOM, random_gva},    {AT_HWCAP, a->hwcap},   {AT_HWCAP2, a->hwcap2},
        {AT_CLKTCK, STACK_CLOCK_TICKS}, {AT_PLATFORM, platform_gva}, {AT_EXECFN, execfn_gva},
        {AT_NULL, 0},
    };
    for (unsigned i = 0; i < AUXV_PAIRS; i++) {
        put_u64(&w, auxv_gva + i * 16, auxv[i][0]);
        put_u64(&w, auxv_gva + i * 16 + 8, auxv[i][1]);
    }
    *rsp = sp;
    return 0;
}
