/* The I/O throttle of one direction: when a request may pass its byte and operation buckets. */
#include "limits/io_throttle.h"

void io_throttle_init(struct io_throttle *io, const struct io_limit *lim, uint64_t now_ns)
{
    tb_init(&io->bytes, &lim->bytes, now_ns);
    tb_init(&io->ops, &lim->ops, now_ns);
}

uint64_t io_throttle_wait_ns(struct io_throttle *io, bool charge_op, uint64_t want,
                             uint64_t now_ns)
{
    uint64_t need = want;
    if (!tb_unlimited(&io->bytes) && need > io->bytes.size / 2)
        need = io->bytes.size / 2 ? io->bytes.size / 2 : 1;
    uint64_t w_ops = charge_op ? tb_wait_ns(&io->ops, 1, now_ns) : 0;
    uint64_t w_bytes = need ? tb_wait_ns(&io->bytes, need, now_ns) : 0;
    return w_ops > w_bytes ? w_ops : w_bytes;
}

uint64_t io_throttle_take(struct io_throttle *io, bool charge_op, uint64_t want,
                          uint64_t now_ns)
{
    if (charge_op)
        tb_take(&io->ops, 1, now_ns);
    return want ? tb_take(&io->bytes, want, now_ns) : 0;
}

void io_throttle_refund(struct io_throttle *io, uint64_t unused)
{
    if (unused)
        tb_refund(&io->bytes, unused);
}
