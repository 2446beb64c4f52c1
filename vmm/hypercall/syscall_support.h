/* How far isovm supports each x86-64 syscall in the hypercall tier (gVisor-style): the source of docs/syscalls.md. */
#ifndef ISOVM_SYSCALL_SUPPORT_H
#define ISOVM_SYSCALL_SUPPORT_H
#include <stddef.h>

enum sc_support {
    SC_NO,       /* ENOSYS, counted in the report as unknown */
    SC_FULL,     /* as Linux, within the job's capabilities and limits */
    SC_PARTIAL,  /* some of it: the note says what is missing */
    SC_REFUSED,  /* a handler that answers ENOSYS on purpose (C libraries fall back) */
};

struct sc_support_row {
    unsigned nr;
    enum sc_support level;
    char note[200]; /* an array, not a pointer: no relocation at an isovm's start */
};

extern const struct sc_support_row syscall_support[];
extern const size_t syscall_support_count;

/* The row of nr, or NULL (then SC_NO without a note). */
const struct sc_support_row *syscall_support_of(unsigned nr);

/* "yes", "partial", "no" */
const char *syscall_support_name(enum sc_support level);

#endif
