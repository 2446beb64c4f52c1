/* Test double for guest RAM: gmem_host_ptr, gmem_set_perm and gmem_give_range over a calloc'ed buffer, logging calls. */
#ifndef ISOVM_TESTS_FAKE_GUEST_MEM_H
#define ISOVM_TESTS_FAKE_GUEST_MEM_H
#include "vmm/core/guest_mem.h"

#define FAKE_PERM_LOG_MAX 64

struct fake_perm_call {
    uint64_t gva, len;
    unsigned perm;
};

/* Calls to gmem_set_perm since fake_gmem_init (the first FAKE_PERM_LOG_MAX are kept). */
extern struct fake_perm_call fake_perm_log[FAKE_PERM_LOG_MAX];
extern unsigned fake_perm_calls;

/* RAM of `size` bytes (page multiple), user range [user_lo, user_hi). 0 or -ENOMEM. */
int fake_gmem_init(struct guest_mem *gm, uint64_t size, uint64_t user_lo, uint64_t user_hi);
void fake_gmem_free(struct guest_mem *gm);

#endif
