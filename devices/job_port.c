/* The job port: the job file's length at offset 0 (a read rewinds), its bytes one by one at offset 4. */
#include "devices/job_port.h"
#include <errno.h>
#include <string.h>
#include "devices/virtio/le.h"

void job_port_init(struct job_port *p)
{
    memset(p, 0, sizeof(*p));
}

void job_port_set(struct job_port *p, const void *data, uint32_t len)
{
    p->data = len ? data : NULL;
    p->len = p->data ? len : 0;
    p->pos = 0;
}

int job_port_read(struct job_port *p, uint64_t offset, void *data, uint32_t size)
{
    uint8_t *b = data;
    if (offset == 0 && size == 4) {
        le_put(b, p->len, 4);
        p->pos = 0;
        return 0;
    }
    if (offset == 4 && size == 1) {
        if (p->pos < p->len) {
            b[0] = p->data[p->pos++];
            p->bytes++;
        } else {
            b[0] = 0;
        }
        return 0;
    }
    memset(data, 0xff, size < 8 ? size : 8);
    p->ignored++;
    return -EINVAL;
}

int job_port_write(struct job_port *p, uint64_t offset, const void *data, uint32_t size)
{
    (void)offset;
    (void)data;
    (void)size;
    p->ignored++;
    return -EINVAL;
}
