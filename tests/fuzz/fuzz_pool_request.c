/* libFuzzer harness for isovm pool's request check (pool/pool_wire.c), which a client controls
 * byte for byte: the input is a head then the payload. An accepted request has exactly argc
 * argv strings ("launch" first) and envc KEY=VALUE strings, all inside the payload and
 * NUL-terminated, NULL after the last of each; a refused one says why and holds nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pool/pool_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct pool_request_head h;
    if (len < sizeof h)
        return 0;
    memcpy(&h, data, sizeof h);
    char err[256] = "";
    if (pool_head_check(&h, err, sizeof err) < 0) {
        if (!err[0])
            abort();
        return 0;
    }
    /* the VMM reads exactly payload_len bytes: the input's rest, cut or padded with 'x' */
    size_t plen = h.payload_len, have = len - sizeof h;
    char *payload = malloc(plen ? plen : 1);
    if (!payload)
        return 0;
    memcpy(payload, data + sizeof h, have < plen ? have : plen);
    if (have < plen)
        memset(payload + have, 'x', plen - have);
    struct pool_request r;
    if (pool_request_parse(&h, payload, &r, err, sizeof err) < 0) {
        if (!err[0] || r.argv || r.envp)
            abort();
        free(payload);
        return 0;
    }
    if (r.argc != (int)h.argc || r.envc != (int)h.envc || strcmp(r.argv[0], "launch") ||
        r.argv[r.argc] || r.envp[r.envc])
        abort();
    for (int i = 0; i < r.argc + r.envc; i++) {
        const char *s = i < r.argc ? r.argv[i] : r.envp[i - r.argc];
        if (s < payload || s >= payload + plen || !memchr(s, '\0', (size_t)(payload + plen - s)))
            abort();
        if (i >= r.argc && (s[0] == '=' || !strchr(s, '=')))
            abort();
    }
    pool_request_free(&r);
    free(payload);
    return 0;
}
