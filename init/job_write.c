/* The job file's writer: one percent-escaped record per line, in the order init/abi.h fixes,
 * checked by parsing it back. */
#include "init/job_write.h"
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "init/abi.h"

struct out {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *np = realloc(o->p, cap);
        if (!np) {
            o->oom = true;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void field(struct out *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    put(o, " ", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x21 || *c > 0x7e || *c == '%') {
            char e[3] = {'%', hex[*c >> 4], hex[*c & 15]};
            put(o, e, 3);
        } else {
            put(o, (const char *)c, 1);
        }
    }
}

/* One record: key, then the fields (NULL ends them). */
static void rec(struct out *o, const char *key, const char *f1, const char *f2, const char *f3,
                const char *f4)
{
    const char *f[] = {f1, f2, f3, f4};
    put(o, key, strlen(key));
    for (unsigned i = 0; i < 4 && f[i]; i++)
        field(o, f[i]);
    put(o, "\n", 1);
}

static void num(struct out *o, const char *key, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    rec(o, key, b, NULL, NULL, NULL);
}

int job_write(const struct job_spec *s, char **text, size_t *len, char *err, size_t errlen)
{
    struct out o = {0};
    *text = NULL;
    *len = 0;
    num(&o, "version", ISOVM_JOB_VERSION);
    if (s->prepare)
        num(&o, "prepare", 1);
    for (size_t i = 0; i < s->argc; i++)
        rec(&o, "arg", s->argv[i] ? s->argv[i] : "", NULL, NULL, NULL);
    for (size_t i = 0; i < s->envc; i++)
        rec(&o, "env", s->envp[i] ? s->envp[i] : "", NULL, NULL, NULL);
    if (s->cwd && !s->prepare) /* a prepare file has no cwd: the parser gives it "/" */
        rec(&o, "cwd", s->cwd, NULL, NULL, NULL);
    if (s->root_dev || s->root_fstype)
        rec(&o, "root", s->root_dev ? s->root_dev : "", s->root_fstype ? s->root_fstype : "",
            NULL, NULL);
    if (s->overlay == JOB_OVERLAY_TMPFS)
        rec(&o, "overlay", "tmpfs", NULL, NULL, NULL);
    else if (s->overlay == JOB_OVERLAY_DISK)
        rec(&o, "overlay", "disk", s->overlay_dev ? s->overlay_dev : "",
            s->overlay_fstype ? s->overlay_fstype : "", NULL);
    for (size_t i = 0; i < s->ndisks; i++) {
        const struct job_disk *d = &s->disks[i];
        rec(&o, "disk", d->dev ? d->dev : "", d->fstype ? d->fstype : "",
            d->mountpoint ? d->mountpoint : "-", d->rw ? "rw" : "ro");
    }
    for (size_t i = 0; i < s->nshares; i++)
        rec(&o, "share", s->shares[i].mountpoint ? s->shares[i].mountpoint : "",
            s->shares[i].rw ? "rw" : "ro", NULL, NULL);
    char a[JOB_IPV4_STR_MAX], n[24];
    if (s->has_net) {
        job_ipv4_str(s->net_addr, a);
        snprintf(n, sizeof n, "%u", s->net_prefix);
        rec(&o, "net", a, n, NULL, NULL);
    }
    for (size_t i = 0; i < s->nhosts; i++) {
        job_ipv4_str(s->hosts[i].addr, a);
        rec(&o, "host", s->hosts[i].name ? s->hosts[i].name : "", a, NULL, NULL);
    }
    if (s->has_nameserver) {
        job_ipv4_str(s->nameserver, a);
        rec(&o, "nameserver", a, NULL, NULL, NULL);
    }
    if (s->max_threads)
        num(&o, "max_threads", s->max_threads);
    if (s->memory)
        num(&o, "memory", s->memory);
    if (s->has_time) {
        char sec[24], nsec[24];
        snprintf(sec, sizeof sec, "%" PRId64, s->time_sec);
        snprintf(nsec, sizeof nsec, "%" PRIu32, s->time_nsec);
        rec(&o, "time", sec, nsec, NULL, NULL);
    }
    if (s->has_seed) {
        static const char hex[] = "0123456789abcdef";
        char h[2 * ISOVM_JOB_SEED_BYTES + 1];
        for (size_t i = 0; i < ISOVM_JOB_SEED_BYTES; i++) {
            h[2 * i] = hex[s->seed[i] >> 4];
            h[2 * i + 1] = hex[s->seed[i] & 15];
        }
        h[2 * ISOVM_JOB_SEED_BYTES] = '\0';
        rec(&o, "seed", h, NULL, NULL, NULL);
    }
    if (o.oom) {
        free(o.p);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct job_spec check;
    int rc = job_parse(o.p, o.len, &check, err, errlen);
    job_spec_free(&check);
    if (rc) {
        free(o.p);
        return rc;
    }
    *text = o.p;
    *len = o.len;
    return 0;
}
