/* Test fixture: a struct job over real guest_mem/paging with an mmap'ed RAM buffer, no KVM. */
#ifndef ISOVM_TESTS_JOB_FIXTURE_H
#define ISOVM_TESTS_JOB_FIXTURE_H
#include <stdint.h>
#include "vmm/core/job.h"
#include "vmm/hypercall/syscall_table.h"
#include "vmm/sys/sys.h"

#define FIX_RAM_SIZE   (16ull << 20)
#define FIX_FW_SIZE    0x3000ull          /* firmware image size given to paging_init */
#define FIX_PG         0x1000ull

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_NX  (1ull << 63)

/* A job with a memory limit of FIX_RAM_SIZE and an address-space window of as many bytes
 * (user_hi = FIX_RAM_SIZE), then its page-table area, in anonymous memory (MAP_PRIVATE, so
 * madvise(MADV_DONTNEED) zeroes it), page tables built by paging_init, nothing mapped for the
 * user, brk at 0x400000, mmap_top = user_hi, no fds open, rlimits {1024, 4096}. */
struct job *fix_job_new(void);
void fix_job_free(struct job *job);

/* Make guest descriptor fd a handle on a new root capability over host_fd (not closed by the
 * job) with the given CAP_R_* rights. */
void fix_fd(struct job *job, int fd, int host_fd, uint32_t rights);

/* Host pointer for a guest address (no checks beyond asserting it is inside RAM); a mapped
 * page there is given, as the job's write would have. */
uint8_t *fix_host(struct job *job, uint64_t gva);

/* Map [gva, gva+len) for the user with perm (via gmem_set_perm, asserting success). */
void fix_map(struct job *job, uint64_t gva, uint64_t len, unsigned perm);

/* Call a handler with up to six arguments (missing ones are 0): SC(job, sys_x, a0, a1, ...). */
int64_t fix_callv(struct job *job, sc_handler fn, const uint64_t a[6]);
#define SC(job, fn, ...) fix_callv((job), (fn), (const uint64_t[6]){__VA_ARGS__})

#endif
