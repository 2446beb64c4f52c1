/* I/O admission for a job thread: wait (job lock released) until its direction's throttle
 * admits the request, ending early when the capability the call holds is revoked or expires. */
#include "vmm/sys/io_admit.h"
#include <errno.h>

int64_t io_admit(struct job *job, const struct sc_call *c, const struct cap_hold *h,
                 bool is_write, bool charge_op, uint64_t want)
{
    struct io_throttle *io = is_write ? &job->io_write : &job->io_read;
    uint64_t *throttled = is_write ? &job->stats.write_throttled_ns : &job->stats.read_throttled_ns;
    uint64_t start = 0;
    uint64_t now;
    for (;;) {
        now = mono_ns();
        uint64_t w = io_throttle_wait_ns(io, charge_op, want, now);
        if (w == 0) {
            if (start)
                *throttled += now - start;
            break;
        }
        if (!start)
            start = now;
        uint64_t deadline = w > UINT64_MAX - now ? UINT64_MAX : now + w;
        if (h && cap_hold_deadline(job, h) < deadline)
            deadline = cap_hold_deadline(job, h); /* wake at its expiry to stop there */
        int rc = job_wait_until(job, c->self, deadline);
        if (rc == 0 && h)
            rc = cap_hold_live(job, c, h); /* revoked or expired while waiting */
        if (rc < 0) {
            *throttled += mono_ns() - start;
            return rc;
        }
    }
    return (int64_t)io_throttle_take(io, charge_op, want, now);
}

void io_refund(struct job *job, bool is_write, uint64_t unused)
{
    io_throttle_refund(is_write ? &job->io_write : &job->io_read, unused);
}
