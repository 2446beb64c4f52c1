/* Futexes: job threads wait on and wake each other through words in guest memory. */
#ifndef ISOVM_FUTEX_H
#define ISOVM_FUTEX_H
#include <stdint.h>
#include "vmm/core/job.h"

#define FUTEX_BITSET_ANY 0xffffffffu

/* Wake up to n threads waiting on guest address addr whose bitset meets mask. job->lock held.
 * Returns how many were woken. */
int futex_wake_addr(struct job *job, uint64_t addr, uint64_t n, uint32_t mask);

#endif
