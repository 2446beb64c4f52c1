/* The keeper's wire check: a message from a VMM, which may be compromised, validated in one place before the keeper acts on it. */
#include "quota/keeper.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

int keeper_msg_from_vmm(const void *buf, size_t n, struct keeper_msg *m, char *err, size_t errlen)
{
    if (n != sizeof *m) {
        snprintf(err, errlen, "a message of %zu bytes (expected %zu)", n, sizeof *m);
        return -EPROTO;
    }
    memcpy(m, buf, sizeof *m); /* read once: every check below is on this copy */
    memset(m->text, 0, sizeof m->text);
    if (m->magic != KEEPER_MAGIC) {
        snprintf(err, errlen, "bad magic 0x%08x", m->magic);
        return -EPROTO;
    }
    if (m->type != KEEPER_CHECKPOINT && m->type != KEEPER_END) {
        snprintf(err, errlen, "message type %u is not one a VMM sends", m->type);
        return -EPROTO;
    }
    size_t len = strnlen(m->reason, sizeof m->reason);
    if (len == sizeof m->reason) {
        snprintf(err, errlen, "exit reason not NUL-terminated");
        return -EPROTO;
    }
    if (m->type == KEEPER_CHECKPOINT) {
        memset(m->reason, 0, sizeof m->reason);
        return 0;
    }
    if (len == 0) {
        snprintf(err, errlen, "END without an exit reason");
        return -EPROTO;
    }
    for (size_t i = 0; i < len; i++)
        if (!((m->reason[i] >= 'a' && m->reason[i] <= 'z') || m->reason[i] == '-')) {
            snprintf(err, errlen, "exit reason has a byte 0x%02x outside a-z and '-' at %zu",
                     (unsigned char)m->reason[i], i);
            return -EPROTO;
        }
    memset(m->reason + len, 0, sizeof m->reason - len);
    return 0;
}
