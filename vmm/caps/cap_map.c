/* A file's mapping holds the capability it was made from: a reference while mapped, and no access once it is revoked or expired. */
#include "vmm/caps/cap_map.h"
#include <errno.h>
#include <stdatomic.h>
#include "lib/clock.h"
#include "vmm/caps/audit.h"
#include "vmm/caps/cap.h"
#include "vmm/core/guest_mem.h"

static uint64_t key_of(uint32_t slot, uint32_t gen) { return ((uint64_t)gen << 32) | slot; }

static void key_ref(struct guest_mem *gm, uint64_t key, int delta)
{
    struct job *job = gm->file_key_ctx;
    uint32_t slot = (uint32_t)key;
    if (slot >= job->caps->max || job->caps->caps[slot].gen != (uint32_t)(key >> 32))
        return; /* cannot happen: the range's reference kept the entry */
    if (delta > 0)
        cap_ref(job->caps, slot);
    else
        cap_unref(job->caps, slot);
}

int cap_map_file(struct job *job, struct guest_mem *gm, uint32_t slot, uint64_t gva,
                 uint64_t len, unsigned perm, uint64_t off, bool shared, bool shared_ro)
{
    struct cap *e = &job->caps->caps[slot];
    gm->on_file_key = key_ref;
    gm->file_key_ctx = job;
    cap_ref(job->caps, slot);
    int rc = gmem_map_file(gm, gva, len, perm, e->host_fd, off, shared, shared_ro,
                           key_of(slot, e->gen));
    if (rc && !gmem_range_has_file(gm, gva, len, false))
        cap_unref(job->caps, slot); /* not recorded: the reference is not held */
    return rc;
}

int cap_maps_sweep(struct job *job, struct guest_mem *gm)
{
    int cut = 0;
    uint64_t now = 0;
    for (unsigned i = 0; i < gm->nfiles;) {
        const struct gmem_file_range *f = &gm->files[i];
        uint32_t slot = (uint32_t)f->key;
        struct cap *e = &job->caps->caps[slot];
        bool dead = e->revoked;
        if (!dead && e->expires_ns) {
            if (!now)
                now = mono_ns();
            bool newly = false;
            if (e->expires_ns <= now &&
                cap_check(job->caps, slot, e->gen, 0, now, &newly) == -EKEYEXPIRED) {
                dead = true;
                if (newly)
                    audit_cap(job, "expire", slot, -1, UINT64_MAX, "expiry");
            }
        }
        if (!dead) {
            i++;
            continue;
        }
        uint64_t lo = f->lo, len = f->hi - f->lo;
        gmem_set_perm(gm, lo, len, 0);              /* ends the range, drops the reference */
        gmem_set_perm(gm, lo, len, GPERM_RESERVED); /* still taken, not accessible */
        cut++;
        i = 0; /* the table moved */
    }
    if (cut) /* every vCPU flushes before it runs on; the caller kicks them */
        atomic_fetch_add(&job->tlb_gen, 1);
    return cut;
}

void cap_maps_sweep_all(struct job *job)
{
    for (unsigned i = 0; i < ISOVM_MAX_PROCS; i++)
        if (job->procs[i].state == PROC_LIVE && job->procs[i].gm->nfiles)
            cap_maps_sweep(job, job->procs[i].gm);
}
