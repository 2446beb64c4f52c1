/* Handles a hypercall exit: reads the request block once, runs the syscall, writes the answer. */
#include "vmm/hypercall/hypercall.h"
#include <errno.h>
#include <string.h>
#include "firmware/abi.h"
#include "vmm/caps/cap_map.h"
#include "vmm/core/determinism.h"
#include "lib/log.h"
#include "vmm/sys/read_cache.h"
#include "vmm/sys/sys.h"
#include "vmm/hypercall/syscall_filter.h"
#include "vmm/hypercall/syscall_table.h"

static void unknown_count(struct job_stats *st, uint64_t nr)
{
    st->unknown_total++;
    for (unsigned i = 0; i < st->unknown_distinct; i++) {
        if (st->unknown_nr[i] == nr) {
            st->unknown_count[i]++;
            return;
        }
    }
    if (st->unknown_distinct < UNKNOWN_TRACKED) {
        st->unknown_nr[st->unknown_distinct] = nr;
        st->unknown_count[st->unknown_distinct++] = 1;
    }
}

int hypercall_handle(struct job *job, struct vthread *t, uint32_t value)
{
    struct vcpu *v = &t->vcpu;
    if (value != v->block_gpa) {
        log_err("internal: vCPU %d sent hypercall block 0x%x, expected 0x%llx", v->index, value,
                (unsigned long long)v->block_gpa);
        return -EPROTO;
    }
    struct isovm_hcblock *blk = gmem_host_ptr(&job->vm.gm, v->block_gpa, sizeof *blk);
    if (!blk)
        return -EPROTO;
    /* Single fetch: everything the VMM decides on comes from this copy. */
    struct sc_call c = { .nr = blk->nr, .user_rip = blk->user_rip, .user_rsp = blk->user_rsp,
                         .self = t };
    memcpy(c.a, blk->arg, sizeof c.a);
    job->stats.hypercalls_total++;
    read_cache_sync(job, t); /* what the firmware served since the last exit, first */
    if (job->deterministic) vclock_advance(job, ISOVM_VCLOCK_STEP_NS); /* determinism.h */

    int64_t ret = 0;
    sc_handler fn = syscall_lookup(c.nr);
    if (fn)
        job->stats.syscalls[c.nr]++; /* whatever the answer, a filter refusal included */
    else
        unknown_count(&job->stats, c.nr);
    enum filter_verdict verdict = FILTER_RUN;
    if (!syscall_filter_allows(job, c.nr))
        verdict = syscall_filter_refused(job, &c, &ret); /* the policy's action */
    if (verdict == FILTER_STOP)
        return 1;
    if (verdict == FILTER_RUN) {
        if (fn) {
            ret = fn(job, &c);
        } else {
            log_debug("unknown syscall %llu: ENOSYS", (unsigned long long)c.nr);
            ret = -ENOSYS;
        }
    }
    if (ret == SC_STOP)
        return 1;
    bool redirected = ret == SC_REDIRECT;
    if (!redirected && (thread_sig_ready(t) || t->sig_restore_mask)) {
        int64_t d = sig_deliver_syscall(job, t, &c, ret); /* a handler runs now */
        if (d == SC_STOP)
            return 1;
        redirected = d == 1;
    }
    struct guest_mem *gm = t->proc->gm; /* the caller's space (as the call left it) */
    if (gm->nfiles)
        cap_maps_sweep(job, gm); /* a mapped file's capability past its deadline: no access */
    if (gm->pt_dirty) {
        /* Other running vCPUs are kicked out of the guest and flush before they run on. */
        atomic_fetch_add(&job->tlb_gen, 1);
        gm->pt_dirty = false;
        if (job->threads_live > 1) {
            job->stats.tlb_shootdowns++;
            job_kick(job, t);
        }
    }
    uint64_t gen = atomic_load(&job->tlb_gen);
    if (redirected) { /* the firmware's stub reloads CR3 on the way */
        t->tlb_gen = gen;
        return 0;
    }
    if (t->tlb_gen != gen) {
        c.action |= ISOVM_ACT_FLUSH_TLB;
        t->tlb_gen = gen;
    }
    blk->ret = (uint64_t)ret;
    blk->fs_base = c.fs_base;
    blk->action |= c.action; /* a shootdown may have set FLUSH_TLB already */
    return 0;
}
