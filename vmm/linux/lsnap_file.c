/* The snapshot file's format: writing it (zero pages as holes) and reading it back with every header field checked. */
#include "vmm/linux/lsnap_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/sha256.h"
#include "lib/sparse_read.h"

#define LSNAP_STATE_SIZE (sizeof(struct lstate) + sizeof(struct lsnap_dev))

static uint64_t page_up(uint64_t v) { return (v + LSNAP_PAGE - 1) & ~(uint64_t)(LSNAP_PAGE - 1); }

/* The regions' places, the same for writer and reader. */
static void lsnap_layout(struct lsnap_header *h, uint64_t log_len)
{
    h->state_off = LSNAP_PAGE;
    h->log_off = page_up(h->state_off + h->state_size);
    h->log_len = log_len;
    h->ram_off = page_up(h->log_off + log_len);
}

static void lsnap_digest(const struct lstate *st, const struct lsnap_dev *dev, const char *log,
                         size_t log_len, uint8_t out[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, st, sizeof *st);
    sha256_update(&s, dev, sizeof *dev);
    if (log_len)
        sha256_update(&s, log, log_len);
    sha256_final(&s, out);
}

int lsnap_header_check(const void *buf, size_t len, uint64_t file_size, const struct lsnap_expect *e,
                       struct lsnap_header *out, char *err, size_t errlen)
{
    struct lsnap_header h;
    if (len < sizeof h) {
        snprintf(err, errlen, "shorter than its header (%zu bytes)", len);
        return -EINVAL;
    }
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, LSNAP_MAGIC, sizeof h.magic) != 0) {
        snprintf(err, errlen, "not an isovm snapshot (no " LSNAP_MAGIC " magic)");
        return -EINVAL;
    }
    if (h.version != LSNAP_VERSION || h.header_size != sizeof h || h.state_size != LSNAP_STATE_SIZE) {
        snprintf(err, errlen, "format version %u (header %u, state %u bytes), not this isovm's %u (%zu, %zu)",
                 h.version, h.header_size, h.state_size, LSNAP_VERSION, sizeof h, LSNAP_STATE_SIZE);
        return -ESTALE;
    }
    if (memcmp(h.key, e->key, sizeof h.key) != 0 || h.mem_size != e->mem_size || h.nvcpus != e->nvcpus) {
        snprintf(err, errlen, "made for another kernel, init, machine or host (%llu bytes of RAM, %u vCPUs)",
                 (unsigned long long)h.mem_size, h.nvcpus);
        return -ESTALE;
    }
    struct lsnap_header want = h;
    if (h.log_len > LSNAP_LOG_MAX) {
        snprintf(err, errlen, "a boot log of %llu bytes (at most %u)", (unsigned long long)h.log_len, LSNAP_LOG_MAX);
        return -EINVAL;
    }
    lsnap_layout(&want, h.log_len);
    if (h.state_off != want.state_off || h.log_off != want.log_off || h.ram_off != want.ram_off) {
        snprintf(err, errlen, "its regions are not where the format puts them");
        return -EINVAL;
    }
    if (h.mem_size == 0 || h.mem_size % LSNAP_PAGE || h.mem_size > UINT64_MAX - h.ram_off ||
        h.ram_off + h.mem_size != file_size) {
        snprintf(err, errlen, "%llu bytes long, not the %llu its header says (cut short or grown)",
                 (unsigned long long)file_size,
                 (unsigned long long)(h.mem_size > UINT64_MAX - h.ram_off ? UINT64_MAX : h.ram_off + h.mem_size));
        return -EINVAL;
    }
    *out = h;
    return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static bool page_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    for (unsigned i = 0; i < LSNAP_PAGE / 8; i += 4)
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
            return false;
    return true;
}

int lsnap_write(int fd, const struct lsnap_expect *e, const struct lstate *st, const struct lsnap_dev *dev,
                const char *log, size_t log_len, const uint8_t *ram, uint64_t *ram_bytes,
                bool (*stop)(void *ctx), void *stop_ctx, char *err, size_t errlen)
{
    if (log_len > LSNAP_LOG_MAX) { /* the newest part of the log is kept */
        log += log_len - LSNAP_LOG_MAX;
        log_len = LSNAP_LOG_MAX;
    }
    struct lsnap_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, LSNAP_MAGIC, sizeof h.magic);
    h.version = LSNAP_VERSION;
    h.header_size = sizeof h;
    memcpy(h.key, e->key, sizeof h.key);
    h.mem_size = e->mem_size;
    h.nvcpus = e->nvcpus;
    h.state_size = LSNAP_STATE_SIZE;
    lsnap_layout(&h, log_len);
    lsnap_digest(st, dev, log, log_len, h.digest);
    int rc;
    const char *what = "the file's size";
    if (ftruncate(fd, (off_t)(h.ram_off + h.mem_size)) < 0) {
        rc = -errno;
        goto fail;
    }
    what = "its state";
    if ((rc = pwrite_all(fd, st, sizeof *st, h.state_off)) ||
        (rc = pwrite_all(fd, dev, sizeof *dev, h.state_off + sizeof *st)) ||
        (log_len && (rc = pwrite_all(fd, log, log_len, h.log_off))))
        goto fail;
    what = "its RAM image";
    uint64_t written = 0;
    for (uint64_t off = 0; off < h.mem_size;) {
        if (page_zero(ram + off)) {
            off += LSNAP_PAGE;
            continue;
        }
        uint64_t end = off + LSNAP_PAGE;
        while (end < h.mem_size && end - off < LSNAP_CHUNK && !page_zero(ram + end))
            end += LSNAP_PAGE;
        if ((rc = pwrite_all(fd, ram + off, (size_t)(end - off), h.ram_off + off)))
            goto fail;
        /* flushed now, so that neither the next stop check nor the final fdatasync waits on
         * more than a chunk (a file system without it flushes at the fdatasync) */
        sync_file_range(fd, (off_t)(h.ram_off + off), (off_t)(end - off),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        written += end - off;
        off = end;
        if (stop && stop(stop_ctx))
            return -ECANCELED;
    }
    /* the header last: a file cut short while written has none */
    what = "its header";
    if ((rc = pwrite_all(fd, &h, sizeof h, 0)))
        goto fail;
    *ram_bytes = written;
    return 0;
fail:
    snprintf(err, errlen, "writing %s: %s", what, strerror(-rc));
    return rc;
}

int lsnap_read(int fd, const struct lsnap_expect *e, struct lstate *st, struct lsnap_dev *dev,
               char **log, size_t *log_len, uint8_t *ram, bool map_ram, char *err, size_t errlen)
{
    *log = NULL;
    *log_len = 0;
    struct stat sb;
    struct lsnap_header h;
    uint8_t buf[sizeof h];
    if (fstat(fd, &sb) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -errno;
    }
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    if (n < 0) {
        snprintf(err, errlen, "reading its header: %s", strerror(errno));
        return -errno;
    }
    int rc = lsnap_header_check(buf, (size_t)n, (uint64_t)sb.st_size, e, &h, err, errlen);
    if (rc)
        return rc;
    char *lg = NULL;
    if (h.log_len && !(lg = malloc(h.log_len))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (pread(fd, st, sizeof *st, (off_t)h.state_off) != (ssize_t)sizeof *st ||
        pread(fd, dev, sizeof *dev, (off_t)(h.state_off + sizeof *st)) != (ssize_t)sizeof *dev ||
        (h.log_len && pread(fd, lg, h.log_len, (off_t)h.log_off) != (ssize_t)h.log_len)) {
        snprintf(err, errlen, "reading its state: %s", errno ? strerror(errno) : "cut short");
        free(lg);
        return -EIO;
    }
    uint8_t digest[32];
    lsnap_digest(st, dev, lg, h.log_len, digest);
    if (memcmp(digest, h.digest, sizeof digest) != 0) {
        snprintf(err, errlen, "its state does not match its digest (damaged)");
        free(lg);
        return -EINVAL;
    }
    if ((rc = lstate_check(st, e->nvcpus, err, errlen))) {
        free(lg);
        return rc;
    }
    rc = map_ram ? sparse_map(fd, h.ram_off, h.mem_size, ram)
                 : sparse_read(fd, h.ram_off, h.mem_size, ram);
    if (rc) {
        snprintf(err, errlen, "%s its RAM image: %s", map_ram ? "mapping" : "reading", strerror(-rc));
        free(lg);
        return rc;
    }
    *log = lg;
    *log_len = h.log_len;
    return 0;
}
