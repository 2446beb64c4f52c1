/* The syscall table: the handler of every syscall number isovm implements. */
#ifndef ISOVM_SYSCALL_TABLE_H
#define ISOVM_SYSCALL_TABLE_H
#include <stdint.h>
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

typedef int64_t (*sc_handler)(struct job *job, struct sc_call *c);

/* The handler for nr, or NULL when isovm does not implement it (ENOSYS, counted). */
sc_handler syscall_lookup(uint64_t nr);

#endif
