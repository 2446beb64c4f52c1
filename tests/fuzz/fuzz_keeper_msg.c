/* libFuzzer harness for the ledger keeper's check of a message from a VMM (quota/keeper_msg.c),
 * which a compromised VMM controls byte for byte: an accepted message must be a CHECKPOINT, an
 * END or a BEGIN, its exit reason NUL-terminated and of [a-z-] (non-empty for END only), its
 * text cleared, a BEGIN's job texts NUL-terminated and well-formed and any other's job cleared;
 * a refused one must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "quota/keeper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct keeper_msg m;
    char err[256] = "";
    memset(&m, 0xa5, sizeof m);
    if (keeper_msg_from_vmm(data, len, &m, err, sizeof err) < 0) {
        if (!err[0] || strlen(err) >= sizeof err)
            abort();
        return 0;
    }
    if (len != sizeof m || m.magic != KEEPER_MAGIC)
        abort();
    if (m.type != KEEPER_CHECKPOINT && m.type != KEEPER_END && m.type != KEEPER_BEGIN)
        abort();
    const struct keeper_job_desc *j = &m.job;
    if (m.type == KEEPER_BEGIN) {
        size_t il = strnlen(j->id, sizeof j->id), tl = strnlen(j->tenant, sizeof j->tenant),
               dl = strnlen(j->digest, sizeof j->digest);
        if (!il || il == sizeof j->id || !tl || tl == sizeof j->tenant || (dl != 0 && dl != 64) ||
            j->tenant[0] == '-' || j->tenant[0] == '.' || strchr(j->id, '/') ||
            (strcmp(j->tier, "hypercall") && strcmp(j->tier, "linux")))
            abort();
    } else {
        static const struct keeper_job_desc zero;
        if (memcmp(j, &zero, sizeof zero))
            abort();
    }
    size_t n = strnlen(m.reason, sizeof m.reason);
    if (n == sizeof m.reason || (m.type == KEEPER_END) != (n > 0))
        abort();
    for (size_t i = 0; i < sizeof m.reason; i++)
        if (i < n ? !((m.reason[i] >= 'a' && m.reason[i] <= 'z') || m.reason[i] == '-')
                  : m.reason[i] != 0)
            abort();
    for (size_t i = 0; i < sizeof m.text; i++)
        if (m.text[i])
            abort();
    return 0;
}
