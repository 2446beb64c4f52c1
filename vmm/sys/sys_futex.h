/* Futexes: job threads wait on and wake each other through words in guest memory. */
#ifndef ISOVM_FUTEX_H
#define ISOVM_FUTEX_H
#include <stdint.h>
#include "vmm/core/job.h"

#define FUTEX_BITSET_ANY 0xffffffffu

/* Wake up to n threads of process p waiting on its guest address addr whose bitset meets mask
 * (a futex is its process's: another process's same address is another word). job->lock held.
 * Returns how many were woken. */
int futex_wake_addr(struct job *job, const struct proc *p, uint64_t addr, uint64_t n,
                    uint32_t mask);

#endif
