/* Programs execve has read, kept by file identity so that the next exec of one reads no file. */
#ifndef ISOVM_EXEC_CACHE_H
#define ISOVM_EXEC_CACHE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct job;

#define EXEC_CACHE_ENTRIES 8
#define EXEC_CACHE_BYTES   (16ull << 20) /* the most it keeps, in all (within the jail's
                                         * allowance for the VMM beyond guest RAM) */

/* One program's bytes, read-only once made, mapped (not malloc'd: sys_exec.c says why). An
 * exec holds a reference from its read to its end; an entry evicted meanwhile is unmapped
 * when the last reference goes. */
struct exec_image {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;   /* a write to the file changes its ctime: never a stale copy */
    uint8_t *data;
    size_t map_len;
    unsigned refs;                /* the cache's own (while in it) and each exec's */
    uint64_t last_use;
};

/* The cached bytes of the file st describes, with a reference taken; NULL on a miss.
 * job->lock held. */
struct exec_image *exec_cache_get(struct job *job, const struct stat *st);

/* A new image of data (map_len bytes mapped, size of them the file's), with the caller's
 * reference; kept in the cache too when it fits (the least recently used ones leave). NULL
 * when out of memory (data is unmapped). job->lock held. */
struct exec_image *exec_cache_add(struct job *job, const struct stat *st, uint8_t *data,
                                  size_t map_len, size_t size);

/* Drop a reference (NULL: nothing). job->lock held. */
void exec_image_put(struct exec_image *img);

/* Free the cache (the job's end: no exec is under way). */
void exec_cache_free(struct job *job);

#endif
