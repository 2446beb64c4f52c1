/* I/O throttling: a request waits until the byte and operation buckets of its direction admit it. */
#include "limits/io_throttle.h"
#include <errno.h>

int64_t io_admit(struct job *job, struct vthread *self, bool is_write, bool charge_op,
                 uint64_t want)
{
    struct io_throttle *io = is_write ? &job->io_write : &job->io_read;
    uint64_t *throttled = is_write ? &job->stats.write_throttled_ns : &job->stats.read_throttled_ns;
    uint64_t start = 0;
    /* Wait for at most half a bucket: waking late then still finds room for what refilled
     * meanwhile, where waiting for a full bucket would lose the oversleep every time. */
    uint64_t need = want;
    if (!tb_unlimited(&io->bytes) && need > io->bytes.size / 2)
        need = io->bytes.size / 2 ? io->bytes.size / 2 : 1;
    uint64_t now;
    for (;;) {
        now = mono_ns();
        uint64_t w_ops = charge_op ? tb_wait_ns(&io->ops, 1, now) : 0;
        uint64_t w_bytes = need ? tb_wait_ns(&io->bytes, need, now) : 0;
        uint64_t w = w_ops > w_bytes ? w_ops : w_bytes;
        if (w == 0) {
            if (start)
                *throttled += now - start;
            break;
        }
        if (!start)
            start = now;
        uint64_t deadline = w > UINT64_MAX - now ? UINT64_MAX : now + w;
        if (job_sleep_until(job, self, deadline) < 0) {
            *throttled += mono_ns() - start;
            return -EINTR;
        }
    }
    if (charge_op)
        tb_take(&io->ops, 1, now);
    return want ? (int64_t)tb_take(&io->bytes, want, now) : 0;
}

void io_refund(struct job *job, bool is_write, uint64_t unused)
{
    if (unused)
        tb_refund(&(is_write ? &job->io_write : &job->io_read)->bytes, unused);
}
