/* The 9P server's fid table: a hash of fids, each a grant, a path beneath it and an optional host descriptor. */
#include "vmm/share/p9_fid.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "devices/virtio/p9/p9_wire.h"

static unsigned bucket_of(uint32_t fid)
{
    return (fid * 2654435761u) % P9_FID_BUCKETS;
}

void p9_fids_init(struct p9_fids *t)
{
    memset(t, 0, sizeof *t);
}

static void fid_free(struct p9_fid *f)
{
    if (f->fd >= 0)
        close(f->fd);
    free(f->path);
    free(f);
}

void p9_fids_clear(struct p9_fids *t)
{
    for (unsigned b = 0; b < P9_FID_BUCKETS; b++)
        while (t->bucket[b]) {
            struct p9_fid *f = t->bucket[b];
            t->bucket[b] = f->next;
            fid_free(f);
        }
    t->count = 0;
}

struct p9_fid *p9_fid_get(struct p9_fids *t, uint32_t fid)
{
    for (struct p9_fid *f = t->bucket[bucket_of(fid)]; f; f = f->next)
        if (f->fid == fid)
            return f;
    return NULL;
}

struct p9_fid *p9_fid_new(struct p9_fids *t, uint32_t fid, unsigned grant, const char *path, int *err)
{
    if (fid == P9_NOFID || p9_fid_get(t, fid)) {
        *err = -EBADF;
        return NULL;
    }
    if (t->count >= P9_FIDS_MAX) {
        *err = -ENFILE;
        return NULL;
    }
    struct p9_fid *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        *err = -ENOMEM;
        return NULL;
    }
    f->fid = fid;
    f->grant = grant;
    f->fd = -1;
    unsigned b = bucket_of(fid);
    f->next = t->bucket[b];
    t->bucket[b] = f;
    t->count++;
    return f;
}

void p9_fid_drop(struct p9_fids *t, uint32_t fid)
{
    for (struct p9_fid **pp = &t->bucket[bucket_of(fid)]; *pp; pp = &(*pp)->next)
        if ((*pp)->fid == fid) {
            struct p9_fid *f = *pp;
            *pp = f->next;
            fid_free(f);
            t->count--;
            return;
        }
}

int p9_fid_set_path(struct p9_fid *f, const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    free(f->path);
    f->path = p;
    return 0;
}

int p9_fids_renamed(struct p9_fids *t, unsigned g, const char *from, unsigned g2, const char *to)
{
    size_t n = strlen(from);
    int rc = 0;
    for (unsigned b = 0; b < P9_FID_BUCKETS; b++)
        for (struct p9_fid *f = t->bucket[b]; f; f = f->next) {
            if (f->grant != g || strncmp(f->path, from, n) != 0 || (f->path[n] && f->path[n] != '/'))
                continue;
            if (n == 0)
                continue; /* a grant's root is never renamed */
            char *p = NULL;
            if (asprintf(&p, "%s%s", to, f->path + n) < 0) {
                rc = -ENOMEM;
                continue;
            }
            free(f->path);
            f->path = p;
            f->grant = g2;
        }
    return rc;
}
