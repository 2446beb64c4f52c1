/* The exec cache: the programs a job's processes exec, read once while they do not change. */
#include "vmm/sys/exec_cache.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "vmm/core/job.h"

struct exec_cache {
    struct exec_image *slot[EXEC_CACHE_ENTRIES];
    uint64_t bytes, clock;
};

static int64_t stat_ns(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec; }

static int same_file(const struct exec_image *e, const struct stat *st)
{
    return e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino &&
           e->size == (uint64_t)st->st_size && e->mtime_ns == stat_ns(st->st_mtim) &&
           e->ctime_ns == stat_ns(st->st_ctim);
}

void exec_image_put(struct exec_image *img)
{
    if (!img || --img->refs)
        return;
    munmap(img->data, img->map_len ? img->map_len : 1);
    free(img);
}

static void evict(struct exec_cache *c, unsigned i)
{
    c->bytes -= c->slot[i]->map_len;
    exec_image_put(c->slot[i]);
    c->slot[i] = NULL;
}

struct exec_image *exec_cache_get(struct job *job, const struct stat *st)
{
    struct exec_cache *c = job->exec_cache;
    if (!c)
        return NULL;
    for (unsigned i = 0; i < EXEC_CACHE_ENTRIES; i++) {
        struct exec_image *e = c->slot[i];
        if (!e || e->dev != (uint64_t)st->st_dev || e->ino != (uint64_t)st->st_ino)
            continue;
        if (!same_file(e, st)) { /* changed since: the copy goes */
            evict(c, i);
            return NULL;
        }
        e->refs++;
        e->last_use = ++c->clock;
        return e;
    }
    return NULL;
}

struct exec_image *exec_cache_add(struct job *job, const struct stat *st, uint8_t *data,
                                  size_t map_len, size_t size)
{
    struct exec_image *e = calloc(1, sizeof *e);
    if (!e) {
        munmap(data, map_len ? map_len : 1);
        return NULL;
    }
    *e = (struct exec_image){ .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino,
                              .size = size, .mtime_ns = stat_ns(st->st_mtim),
                              .ctime_ns = stat_ns(st->st_ctim), .data = data, .map_len = map_len,
                              .refs = 1 };
    if ((uint64_t)st->st_size != size || map_len > EXEC_CACHE_BYTES)
        return e; /* it changed while read, or is too large: this exec's alone */
    struct exec_cache *c = job->exec_cache;
    if (!c && !(c = job->exec_cache = calloc(1, sizeof *c)))
        return e;
    for (unsigned i = 0; i < EXEC_CACHE_ENTRIES; i++) /* an older copy of the same file */
        if (c->slot[i] && c->slot[i]->dev == e->dev && c->slot[i]->ino == e->ino)
            evict(c, i);
    for (;;) { /* room: a free slot, and the bytes, made by evicting the least recent */
        unsigned free_slot = EXEC_CACHE_ENTRIES, oldest = EXEC_CACHE_ENTRIES;
        for (unsigned i = 0; i < EXEC_CACHE_ENTRIES; i++) {
            if (!c->slot[i])
                free_slot = i;
            else if (oldest == EXEC_CACHE_ENTRIES ||
                     c->slot[i]->last_use < c->slot[oldest]->last_use)
                oldest = i;
        }
        if (free_slot < EXEC_CACHE_ENTRIES && c->bytes + map_len <= EXEC_CACHE_BYTES) {
            e->refs++;
            e->last_use = ++c->clock;
            c->slot[free_slot] = e;
            c->bytes += map_len;
            return e;
        }
        evict(c, oldest);
    }
}

void exec_cache_free(struct job *job)
{
    struct exec_cache *c = job->exec_cache;
    if (!c)
        return;
    for (unsigned i = 0; i < EXEC_CACHE_ENTRIES; i++)
        if (c->slot[i])
            evict(c, i);
    free(c);
    job->exec_cache = NULL;
}
