/* The read cache: the VMM reads ahead into a firmware-only region after a small sequential
 * read; the firmware answers the next reads of the same descriptor into the same buffer from
 * it without an exit. Every other hypercall of the owning thread first accounts and disarms
 * it, so the VMM's view (file position, counters, capabilities) is exact whenever it acts. */
#include "vmm/sys/read_cache.h"
#include "vmm/caps/cap.h"
#include <errno.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "firmware/abi.h"
#include "lib/log.h"

static struct isovm_hcblock *block_of(struct job *job, struct vthread *t)
{
    return gmem_host_ptr(&job->vm.gm, t->vcpu.block_gpa, sizeof(struct isovm_hcblock));
}

static bool filter_allows_read(const struct job *job)
{
    return job->filter_allow[SYS_read / 64] & (1ull << (SYS_read % 64));
}

void read_cache_fill(struct job *job, struct sc_call *c, uint32_t slot, uint64_t fd, uint64_t buf,
                     uint64_t count)
{
    struct read_cache *rc = &job->rcache;
    const struct cap *e = &job->caps->caps[slot];
    if (rc->armed || job->threads_live != 1 || count == 0 || count > READ_CACHE_MAX_READ ||
        e->kind != CAP_FILE || e->expires_ns || e->revoked || !filter_allows_read(job) ||
        !tb_unlimited(&job->io_read.bytes) || !tb_unlimited(&job->io_read.ops))
        return;
    struct stat st;
    if (fstat(e->host_fd, &st) < 0 || !S_ISREG(st.st_mode))
        return;
    off_t pos = lseek(e->host_fd, 0, SEEK_CUR);
    if (pos < 0 || pos >= st.st_size)
        return;
    if (rc->skipped < rc->skip) { /* recent fills went unused: not this time */
        rc->skipped++;
        return;
    }
    rc->skipped = 0;
    const uint64_t room = ISOVM_RCACHE_END - ISOVM_RCACHE_GPA;
    uint64_t size = rc->ahead ? rc->ahead : 4 * count;
    if (size < READ_CACHE_FIRST)
        size = READ_CACHE_FIRST;
    if (size > room)
        size = room;
    void *area = gmem_host_ptr(&job->vm.gm, ISOVM_RCACHE_GPA, size);
    struct isovm_hcblock *b = block_of(job, c->self);
    if (!area || !b)
        return;
    ssize_t n = pread(e->host_fd, area, size, pos);
    if (n <= 0)
        return;
    rc->ahead = size;
    rc->filled = (uint64_t)n;
    rc->armed = true;
    rc->owner = c->self;
    rc->slot = slot;
    rc->gen = e->gen;
    job->stats.read_cache_fills++;
    b->rc_fd = fd;
    b->rc_buf = buf;
    b->rc_data = ISOVM_RCACHE_GPA;
    b->rc_avail = (uint64_t)n;
    b->rc_hits = 0;
    b->rc_bytes = 0;
    b->rc_flags = (job->vm.cr4 & (1u << 21)) ? ISOVM_RC_SMAP : 0;
    /* last: the fast path is live once the length is set */
    atomic_store_explicit((_Atomic uint64_t *)&b->rc_maxlen, count, memory_order_release);
}

static void disarm(struct isovm_hcblock *b)
{
    atomic_store_explicit((_Atomic uint64_t *)&b->rc_maxlen, 0, memory_order_release);
    b->rc_avail = 0;
}

void read_cache_sync(struct job *job, struct vthread *t)
{
    struct read_cache *rc = &job->rcache;
    if (!rc->armed || rc->owner != t)
        return;
    struct isovm_hcblock *b = block_of(job, t);
    if (!b)
        return;
    disarm(b);
    uint64_t hits = b->rc_hits, bytes = b->rc_bytes;
    rc->armed = false;
    if (hits == 0) { /* a wasted read-ahead: start small, and wait longer before the next */
        rc->ahead = 0;
        rc->skip = rc->skip ? (rc->skip * 2 > READ_CACHE_MAX_SKIP ? READ_CACHE_MAX_SKIP
                                                                  : rc->skip * 2)
                            : 1;
    } else {
        rc->skip = 0;
        if (2 * bytes >= rc->filled)
            rc->ahead *= 2; /* capped at the region by the next fill */
    }
    job->stats.read_cache_hits += hits;
    job->stats.syscalls[SYS_read] += hits;
    job->stats.read_ops += hits;
    job->stats.bytes_read += bytes;
    /* the job has consumed `bytes` past the position the VMM left: move there */
    struct cap *e = cap_get(job->caps, rc->slot, rc->gen);
    if (bytes && e && e->host_fd >= 0 && lseek(e->host_fd, (off_t)bytes, SEEK_CUR) < 0)
        log_err("internal: read cache: cannot advance the file position: errno %d", errno);
}

void read_cache_drop(struct job *job)
{
    struct read_cache *rc = &job->rcache;
    if (rc->armed) {
        struct isovm_hcblock *b = block_of(job, rc->owner);
        if (b)
            disarm(b);
    }
}
