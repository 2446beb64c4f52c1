/* The snapshot cache: its key, its directory, and files that appear whole and are kept few. */
#include "vmm/linux/lsnap_cache.h"
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "lib/cache_dir.h"
#include "lib/sha256.h"
#include "vmm/linux/lsnap_file.h"

#define LSNAP_TMP_STALE_S 3600 /* a temporary file this old was abandoned by a dead writer */

struct build_id {
    const uint8_t *bytes;
    size_t len;
};

/* The main program's NT_GNU_BUILD_ID note. */
static int build_id_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct build_id *b = data;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0; /* a shared object, not the program */
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
        while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
            const ElfW(Nhdr) *n = (const void *)p;
            size_t name = (n->n_namesz + 3) & ~3u, desc = (n->n_descsz + 3) & ~3u;
            if ((size_t)(end - p) - sizeof *n < name || (size_t)(end - p) - sizeof *n - name < desc)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(p + sizeof *n, "GNU", 4) == 0) {
                b->bytes = p + sizeof *n + name;
                b->len = n->n_descsz;
                return 1;
            }
            p += sizeof *n + name + desc;
        }
    }
    return 1;
}

static int key_file(struct sha256 *s, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    uint64_t f[7] = { (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                      (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
                      (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec };
    sha256_update(s, f, sizeof f);
    return 0;
}

int lsnap_key(const struct lsnap_key_in *in, uint8_t key[32], char *err, size_t errlen)
{
    struct build_id b = { 0 };
    dl_iterate_phdr(build_id_cb, &b);
    if (!b.len) {
        snprintf(err, errlen, "this isovm binary has no GNU build ID to key snapshots by");
        return -ENOENT;
    }
    struct utsname u;
    if (uname(&u) < 0) {
        snprintf(err, errlen, "uname: %s", strerror(errno));
        return -errno;
    }
    struct sha256 s;
    sha256_init(&s);
    uint32_t fmt[3] = { LSNAP_VERSION, (uint32_t)sizeof(struct lstate), (uint32_t)sizeof(struct lsnap_dev) };
    sha256_update(&s, "isovm-snapshot", 15);
    sha256_update(&s, fmt, sizeof fmt);
    sha256_update(&s, b.bytes, b.len);
    int rc;
    if ((rc = key_file(&s, in->kernel_path, err, errlen)) || (rc = key_file(&s, in->modules_path, err, errlen)))
        return rc;
    uint64_t machine[3] = { in->mem_size, in->nvcpus, in->ndevices };
    sha256_update(&s, machine, sizeof machine);
    sha256_update(&s, in->cmdline, strlen(in->cmdline) + 1);
    sha256_update(&s, u.release, strlen(u.release) + 1);
    sha256_update(&s, u.version, strlen(u.version) + 1);
    sha256_update(&s, in->cpuid, sizeof *in->cpuid + in->cpuid->nent * sizeof in->cpuid->entries[0]);
    sha256_final(&s, key);
    return 0;
}

int lsnap_cache_dir(char *dir, size_t cap, char *err, size_t errlen)
{
    return cache_dir("ISOVM_SNAPSHOT_CACHE", "snapshots", 0700, dir, cap, err, errlen);
}

static int lsnap_path(char *out, size_t cap, const char *dir, const uint8_t key[32], const char *suffix)
{
    char hex[65];
    sha256_hex(key, hex);
    int n = snprintf(out, cap, "%s/%s.snap%s", dir, hex, suffix);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int lsnap_cache_open(const char *dir, const uint8_t key[32], char *err, size_t errlen)
{
    char path[4096];
    if (lsnap_path(path, sizeof path, dir, key, "")) {
        snprintf(err, errlen, "the snapshot cache's path is too long");
        return -ENAMETOOLONG;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
        snprintf(err, errlen, "%s: not a regular file of this user's that no one else may write", path);
        close(fd);
        return -EPERM;
    }
    return fd;
}

int lsnap_cache_create(const char *dir, const uint8_t key[32], char *tmp, size_t cap, char *err,
                       size_t errlen)
{
    char suffix[32];
    snprintf(suffix, sizeof suffix, ".tmp.%ld", (long)getpid());
    if (lsnap_path(tmp, cap, dir, key, suffix)) {
        snprintf(err, errlen, "the snapshot cache's path is too long");
        return -ENAMETOOLONG;
    }
    unlink(tmp); /* a dead writer's with this PID */
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", tmp, strerror(e));
        return -e;
    }
    return fd;
}

struct lsnap_entry {
    char name[80];
    struct timespec mtime;
};

static int entry_newer_first(const void *a, const void *b)
{
    const struct timespec *x = &((const struct lsnap_entry *)a)->mtime, *y = &((const struct lsnap_entry *)b)->mtime;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? 1 : -1;
    return x->tv_nsec < y->tv_nsec ? 1 : x->tv_nsec > y->tv_nsec ? -1 : 0;
}

/* Keep the LSNAP_CACHE_KEEP most recently used snapshots (a restore touches its file's mtime);
 * remove temporary files older than LSNAP_TMP_STALE_S. Best effort. */
static void lsnap_cache_evict(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    struct lsnap_entry *e = NULL;
    size_t n = 0, cap = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        struct stat st;
        if (len < 5 || len >= sizeof e->name || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (strstr(de->d_name, ".snap.tmp.")) {
            if (now - st.st_mtim.tv_sec > LSNAP_TMP_STALE_S)
                unlinkat(dfd, de->d_name, 0);
            continue;
        }
        if (strcmp(de->d_name + len - 5, ".snap") != 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            struct lsnap_entry *ne = realloc(e, ncap * sizeof *e);
            if (!ne)
                break;
            e = ne;
            cap = ncap;
        }
        snprintf(e[n].name, sizeof e[n].name, "%s", de->d_name);
        e[n++].mtime = st.st_mtim;
    }
    if (n > LSNAP_CACHE_KEEP) {
        qsort(e, n, sizeof *e, entry_newer_first);
        for (size_t i = LSNAP_CACHE_KEEP; i < n; i++)
            unlinkat(dfd, e[i].name, 0);
    }
    free(e);
    closedir(d);
}

int lsnap_cache_publish(int fd, const char *dir, const uint8_t key[32], const char *tmp, char *err,
                        size_t errlen)
{
    char path[4096];
    int rc = 0;
    if (lsnap_path(path, sizeof path, dir, key, "")) {
        snprintf(err, errlen, "the snapshot cache's path is too long");
        rc = -ENAMETOOLONG;
    } else if (fdatasync(fd) < 0 || rename(tmp, path) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    }
    if (rc) {
        unlink(tmp);
        return rc;
    }
    lsnap_cache_evict(dir);
    return 0;
}
