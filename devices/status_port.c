/* The status port: boot phases timestamped once each, the first end word ends the job, the rest counted. */
#include "devices/status_port.h"
#include <errno.h>
#include <string.h>

void status_port_init(struct status_port *p, void (*on_end)(void *ctx, uint8_t kind, uint32_t detail),
                      void *ctx)
{
    memset(p, 0, sizeof(*p));
    p->on_end = on_end;
    p->ctx = ctx;
}

int status_port_read(struct status_port *p, uint64_t offset, void *data, uint32_t size)
{
    (void)offset;
    memset(data, 0, size < 8 ? size : 8);
    p->ignored++;
    return -EINVAL;
}

static int status_port_ignore(struct status_port *p)
{
    p->ignored++;
    return -EINVAL;
}

int status_port_write(struct status_port *p, uint64_t offset, const void *data, uint32_t size,
                      uint64_t now_ns)
{
    if (size != 4 || offset != 0 || p->ended)
        return status_port_ignore(p);
    const uint8_t *b = data; /* read once */
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    uint32_t kind = ISOVM_STATUS_KIND(v), detail = ISOVM_STATUS_DETAIL(v);
    switch (kind) {
    case ISOVM_STATUS_PHASE:
        if (detail < ISOVM_PHASE_INIT_START || detail > ISOVM_PHASE_MAX || p->phase_ns[detail])
            return status_port_ignore(p);
        p->phase_ns[detail] = now_ns ? now_ns : 1;
        return 0;
    case ISOVM_STATUS_EXIT:
    case ISOVM_STATUS_SIGNAL:
    case ISOVM_STATUS_OOM:
        if (detail > 255)
            return status_port_ignore(p);
        break;
    case ISOVM_INIT_ERROR:
        break;
    default:
        return status_port_ignore(p);
    }
    p->ended = true;
    p->kind = (uint8_t)kind;
    p->detail = detail;
    if (p->on_end)
        p->on_end(p->ctx, p->kind, p->detail);
    return 0;
}

int status_port_exit_status(const struct status_port *p)
{
    if (!p->ended)
        return -1;
    switch (p->kind) {
    case ISOVM_STATUS_SIGNAL:
        return 128 + (int)(p->detail & 0x7f);
    case ISOVM_INIT_ERROR:
        return 125;
    default: /* EXIT, OOM */
        return (int)p->detail;
    }
}
