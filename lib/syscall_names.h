/* x86-64 syscall names and numbers (Linux's, and isovm's own isovm_cap_*), for policies, the
 * audit log and messages. */
#ifndef ISOVM_SYSCALL_NAMES_H
#define ISOVM_SYSCALL_NAMES_H
#include <stdint.h>

/* The number of a syscall by its name ("openat" -> 257, "isovm_cap_derive" -> 1000), or -ENOENT. */
int syscall_nr_by_name(const char *name);

/* The name of syscall nr, or NULL if no syscall has that number. */
const char *syscall_name_any(unsigned nr);

/* The same for a number as the job passed it (any 64-bit value): "socket", "isovm_cap_info",
 * or NULL. */
const char *syscall_name(uint64_t nr);

/* The known name nearest to name (within two edits), for "did you mean"; NULL if none. */
const char *syscall_name_suggest(const char *name);

#endif
