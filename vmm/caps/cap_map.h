/* A file's mapping holds the capability it was made from: a reference while mapped, and no access once it is revoked or expired. */
#ifndef ISOVM_CAP_MAP_H
#define ISOVM_CAP_MAP_H
#include <stdbool.h>
#include <stdint.h>
#include "vmm/core/job.h"

/* Map [gva, gva+len) (free, page aligned, in the user range) to the file of the live entry in
 * `slot` at off, with permissions perm: the range holds a reference on the entry (as a
 * descriptor does) until it is unmapped, so closing the descriptor keeps the mapping, as on
 * Linux. 0 or -errno (gmem_map_file's). job->lock held. */
int cap_map_file(struct job *job, struct guest_mem *gm, uint32_t slot, uint64_t gva,
                 uint64_t len, unsigned perm,
                 uint64_t off, bool shared, bool shared_ro);

/* Cut every file range whose entry is revoked or past its deadline (expiring it, audited):
 * the range stays reserved with no access (a touch: SIGSEGV), the file unmapped from the
 * window, the reference dropped; the tables marked for a shootdown. Called after revocations
 * and at each hypercall while files are mapped. Returns how many ranges were cut. job->lock
 * held. */
int cap_maps_sweep(struct job *job, struct guest_mem *gm);
/* The same in every live process's space (a revocation). */
void cap_maps_sweep_all(struct job *job);

#endif
