/* Builds the initial process stack (argc, argv, envp, auxv and their strings) as Linux does. */
#ifndef ISOVM_STACK_BUILD_H
#define ISOVM_STACK_BUILD_H
#include <stddef.h>
#include <stdint.h>

struct stack_args {
    int argc;
    char *const *argv;      /* argc strings */
    int envc;
    char *const *envp;      /* envc strings */
    const char *execfn;     /* AT_EXECFN string (NULL: argv[0], or "" without arguments) */
    const uint8_t *random16;/* 16 bytes for AT_RANDOM */
    uint64_t phdr, phent, phnum, entry, hwcap, hwcap2;
    /* Optional: when phdr is 0 and phdr_copy is set, these phdr_copy_len bytes (the program
     * headers) are copied onto the stack, 8-aligned, and their guest address becomes AT_PHDR. */
    const void *phdr_copy;
    size_t phdr_copy_len;
};

/* Lay out the stack in buf, which backs guest addresses [buf_gva, buf_gva+buf_size); the
 * stack grows down from the top. On success *rsp is 16-byte aligned and points at argc.
 * Returns 0, or -E2BIG with a message in err when it does not fit (everything must fit in buf_size,
 * and argv+envp strings plus their pointers in buf_size/4), or -EINVAL for malformed arguments
 * (negative counts, NULL argv/envp entries, no random16, buf_gva+buf_size wrapping). */
int stack_build(uint8_t *buf, uint64_t buf_gva, uint64_t buf_size, const struct stack_args *a,
                uint64_t *rsp, char *err, size_t errlen);

#endif
