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
    const char *execfn;     /* AT_EXECFN string */
    const uint8_t *random16;/* 16 bytes for AT_RANDOM */
    uint64_t phdr, phent, phnum, entry, hwcap, hwcap2;
};

/* Lay out the stack in buf, which backs guest addresses [buf_gva, buf_gva+buf_size); the
 * stack grows down from the top. On success *rsp is 16-byte aligned and points at argc.
 * Returns 0, or -E2BIG with a message in err when it does not fit. */
int stack_build(uint8_t *buf, uint64_t buf_gva, uint64_t buf_size, const struct stack_args *a,
                uint64_t *rsp, char *err, size_t errlen);

#endif
