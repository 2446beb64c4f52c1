/* The isovm exit port: an ID register and a write-once end word checked for its magic and reason. */
#include "devices/exit_port.h"
#include <errno.h>
#include <string.h>

void exit_port_init(struct exit_port *p, void (*on_end)(void *ctx, uint8_t reason, uint8_t code),
                    void *ctx)
{
    memset(p, 0, sizeof(*p));
    p->on_end = on_end;
    p->ctx = ctx;
}

int exit_port_read(struct exit_port *p, uint64_t offset, void *data, uint32_t size)
{
    memset(data, 0, size < 8 ? size : 8);
    if (size != 4 || offset != EXIT_PORT_ID_REG) {
        p->ignored++;
        return -EINVAL;
    }
    uint8_t *b = data;
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(EXIT_PORT_ID >> (8 * i));
    return 0;
}

int exit_port_write(struct exit_port *p, uint64_t offset, const void *data, uint32_t size)
{
    if (size != 4 || offset != EXIT_PORT_END_REG) {
        p->ignored++;
        return -EINVAL;
    }
    const uint8_t *b = data;
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    uint8_t reason = (uint8_t)(v >> 8);
    if (v >> 16 != EXIT_PORT_MAGIC || reason > EXIT_PORT_INIT_ERROR || p->ended) {
        p->ignored++;
        return -EINVAL;
    }
    p->ended = true;
    p->reason = reason;
    p->code = (uint8_t)v;
    if (p->on_end)
        p->on_end(p->ctx, p->reason, p->code);
    return 0;
}

int exit_port_status(const struct exit_port *p)
{
    if (!p->ended)
        return -1;
    return p->reason == EXIT_PORT_SIGNALED ? 128 + p->code : p->code;
}
