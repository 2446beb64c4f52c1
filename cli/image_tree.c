/* A directory tree to pack into an image: one walk gives its cache key (a SHA-256 over every
 * entry's path and stat, in sorted order) and the sizes an ext4 image of it needs. */
#include "cli/image_tree.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/sha256.h"

struct walk {
    struct sha256 h;
    struct image_tree *t;
    char *err;
    size_t len;
};

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One entry into the hash: its path relative to the top, NUL, then fixed-width fields. */
static void hash_entry(struct walk *w, const char *rel, const struct stat *st, const char *target)
{
    uint64_t f[11] = { st->st_mode, st->st_uid, st->st_gid, (uint64_t)st->st_size,
                       (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
                       (uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec, st->st_ino,
                       st->st_rdev, st->st_nlink };
    sha256_update(&w->h, rel, strlen(rel) + 1);
    sha256_update(&w->h, f, sizeof f);
    if (target)
        sha256_update(&w->h, target, strlen(target) + 1);
}

static int walk_dir(struct walk *w, const char *path, const char *rel, unsigned depth);

static int walk_entry(struct walk *w, const char *path, const char *rel, unsigned depth)
{
    struct stat st;
    if (lstat(path, &st)) {
        int e = errno;
        snprintf(w->err, w->len, "%s: %s", path, strerror(e));
        return -e;
    }
    w->t->entries++;
    char target[4097];
    const char *tp = NULL;
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) {
            int e = errno;
            snprintf(w->err, w->len, "%s: readlink: %s", path, strerror(e));
            return -e;
        }
        target[n] = 0;
        tp = target;
        if (n > 59) /* longer than fits in the inode: a block of its own */
            w->t->data_bytes += 4096;
    } else if (S_ISREG(st.st_mode)) {
        w->t->data_bytes += ((uint64_t)st.st_size + 4095) & ~(uint64_t)4095;
    }
    hash_entry(w, rel, &st, tp);
    if (S_ISDIR(st.st_mode))
        return walk_dir(w, path, rel, depth + 1);
    return 0;
}

static int walk_dir(struct walk *w, const char *path, const char *rel, unsigned depth)
{
    if (depth > IMAGE_TREE_DEPTH_MAX) {
        snprintf(w->err, w->len, "%s: more than %d directories deep", path, IMAGE_TREE_DEPTH_MAX);
        return -ELOOP;
    }
    w->t->dirs++;
    w->t->data_bytes += 4096;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(w->err, w->len, "%s: cannot read the directory: %s", path, strerror(e));
        return -e;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) {
                rc = -ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = -ENOMEM;
            break;
        }
        n++;
        errno = 0;
    }
    if (!rc && errno)
        rc = -errno;
    closedir(d);
    if (rc)
        snprintf(w->err, w->len, "%s: reading the directory: %s", path, strerror(-rc));
    if (n) /* qsort of NULL, even for 0 elements, is undefined */
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t pl = strlen(path) + strlen(names[i]) + 2, rl = strlen(rel) + strlen(names[i]) + 2;
        char *p = malloc(pl), *r = malloc(rl);
        if (!p || !r) {
            rc = -ENOMEM;
            snprintf(w->err, w->len, "%s: out of memory", path);
        } else {
            snprintf(p, pl, "%s/%s", path, names[i]);
            snprintf(r, rl, "%s%s%s", rel, *rel ? "/" : "", names[i]);
            rc = walk_entry(w, p, r, depth);
        }
        free(p);
        free(r);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int image_tree_scan(const char *dir, struct image_tree *t, char *err, size_t len)
{
    struct walk w = { .t = t, .err = err, .len = len };
    memset(t, 0, sizeof *t);
    sha256_init(&w.h);
    struct stat st;
    if (lstat(dir, &st)) {
        int e = errno;
        snprintf(err, len, "%s: %s", dir, strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, len, "%s: not a directory%s", dir, S_ISLNK(st.st_mode) ? " (a symlink: give its target)" : "");
        return -ENOTDIR;
    }
    w.t->entries = 1;
    hash_entry(&w, "", &st, NULL);
    int rc = walk_dir(&w, dir, "", 0);
    if (rc)
        return rc;
    sha256_final(&w.h, t->digest);
    return 0;
}
