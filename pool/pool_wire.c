/* Checks a pool request from a launch client, in one place (the fuzz harness's target). */
#include "pool/pool_wire.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pool_head_check(const struct pool_request_head *h, char *err, size_t errlen)
{
    if (h->magic != POOL_MAGIC) {
        snprintf(err, errlen, "not an isovm launch request (magic 0x%08x)", h->magic);
        return -EPROTO;
    }
    if (h->version != POOL_VERSION) {
        snprintf(err, errlen, "request version %u (this pool speaks %u: client and pool are "
                 "different isovm versions)", h->version, POOL_VERSION);
        return -EPROTO;
    }
    if (h->argc < 2 || h->argc > POOL_STRINGS_MAX || h->envc > POOL_STRINGS_MAX) {
        snprintf(err, errlen, "request with %u arguments and %u environment strings (2..%u and "
                 "0..%u)", h->argc, h->envc, POOL_STRINGS_MAX, POOL_STRINGS_MAX);
        return -EPROTO;
    }
    if (h->payload_len > POOL_PAYLOAD_MAX || h->payload_len < h->argc + h->envc) {
        snprintf(err, errlen, "request payload of %u bytes (%u strings, at most %u bytes)",
                 h->payload_len, h->argc + h->envc, POOL_PAYLOAD_MAX);
        return -EPROTO;
    }
    if (h->umask > 0777) {
        snprintf(err, errlen, "request umask %o", h->umask);
        return -EPROTO;
    }
    return 0;
}

int pool_request_parse(const struct pool_request_head *h, char *payload, struct pool_request *r,
                       char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    int rc = pool_head_check(h, err, errlen);
    if (rc)
        return rc;
    r->argv = calloc((size_t)h->argc + 1, sizeof *r->argv);
    r->envp = calloc((size_t)h->envc + 1, sizeof *r->envp);
    if (!r->argv || !r->envp) {
        pool_request_free(r);
        snprintf(err, errlen, "out of memory for a request of %u strings", h->argc + h->envc);
        return -ENOMEM;
    }
    size_t at = 0, len = h->payload_len;
    for (uint32_t i = 0; i < h->argc + h->envc; i++) {
        char *s = payload + at;
        char *nul = at < len ? memchr(s, '\0', len - at) : NULL;
        if (!nul) {
            snprintf(err, errlen, "request string %u is not NUL-terminated inside the payload", i);
            pool_request_free(r);
            return -EPROTO;
        }
        if (i < h->argc) {
            r->argv[i] = s;
        } else {
            const char *eq = strchr(s, '=');
            if (!eq || eq == s) {
                snprintf(err, errlen, "environment string %u is not KEY=VALUE", i - h->argc);
                pool_request_free(r);
                return -EPROTO;
            }
            r->envp[i - h->argc] = s;
        }
        at = (size_t)(nul - payload) + 1;
    }
    if (at != len) {
        snprintf(err, errlen, "request payload has %zu bytes after its last string", len - at);
        pool_request_free(r);
        return -EPROTO;
    }
    if (strcmp(r->argv[0], "launch") != 0) {
        snprintf(err, errlen, "request for \"%.40s\", not a launch", r->argv[0]);
        pool_request_free(r);
        return -EPROTO;
    }
    r->argc = (int)h->argc;
    r->envc = (int)h->envc;
    r->umask = h->umask;
    r->client_mono_ns = h->client_mono_ns;
    r->client_real_ns = h->client_real_ns;
    return 0;
}

void pool_request_free(struct pool_request *r)
{
    free(r->argv);
    free(r->envp);
    r->argv = r->envp = NULL;
}
