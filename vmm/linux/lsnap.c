/* Snapshots of a booted Linux-tier guest: restore from the cache, or save at the init's ready point. */
#include "vmm/linux/lsnap.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/sha256.h"
#include "vmm/linux/lstate.h"

int lsnap_prepare(struct lsnap *s, const struct lvm *m, const struct ldev *d, const char *kernel_path,
                  const char *modules_path, const char *cmdline)
{
    char err[PATH_MAX + 128] = "";
    memset(s, 0, sizeof *s);
    int rc = lstate_supported(m, err, sizeof err);
    struct lsnap_key_in in = {
        .kernel_path = kernel_path, .modules_path = modules_path, .mem_size = m->mem_size,
        .nvcpus = m->nvcpus, .ndevices = d->nmmio, .cmdline = cmdline, .cpuid = m->kvm.cpuid,
    };
    if (!rc)
        rc = lsnap_key(&in, s->expect.key, err, sizeof err);
    if (!rc)
        rc = lsnap_cache_dir(s->dir, sizeof s->dir, err, sizeof err);
    if (rc) {
        log_debug("no snapshot of the booted guest can be used or made (booting afresh): %s", err);
        return rc;
    }
    s->expect.mem_size = m->mem_size;
    s->expect.nvcpus = m->nvcpus;
    return 0;
}

int lsnap_restore(struct lsnap *s, struct lvm *m, struct ldev *d, int console_log_fd, bool copy_ram,
                  bool *dirty)
{
    char err[PATH_MAX + 256] = "";
    *dirty = false;
    int fd = lsnap_cache_open(s->dir, s->expect.key, err, sizeof err);
    if (fd == -ENOENT)
        return -ENOENT;
    if (fd < 0) {
        log_warn("snapshot %s: cannot be used (booting afresh)", err);
        return fd;
    }
    struct lstate *st = malloc(sizeof *st);
    struct lsnap_dev dev;
    char *log = NULL;
    size_t log_len = 0;
    int rc = st ? 0 : -ENOMEM;
    if (!rc) {
        /* RAM is written only after every header and state check passed */
        rc = lsnap_read(fd, &s->expect, st, &dev, &log, &log_len, m->mem, !copy_ram, err, sizeof err);
        if (rc && rc != -ESTALE && rc != -EINVAL)
            *dirty = true;
    }
    if (!rc) {
        *dirty = true;
        rc = lstate_restore(m, st);
        if (rc)
            snprintf(err, sizeof err, "KVM refused its state");
    }
    if (!rc) {
        uart8250_load(&d->uart, &dev.uart);
        if (console_log_fd >= 0 && log_len) {
            /* the kernel's messages up to the snapshot, as a fresh boot would have written them */
            for (size_t off = 0; off < log_len;) {
                ssize_t n = write(console_log_fd, log + off, log_len - off);
                if (n <= 0)
                    break; /* the console log is best effort */
                off += (size_t)n;
            }
        }
        futimens(fd, NULL); /* recently used: the cache evicts by mtime */
        *dirty = false;
    } else {
        char hex[65];
        sha256_hex(s->expect.key, hex);
        log_warn("snapshot %s/%s.snap: %s (booting afresh)", s->dir, hex, err);
    }
    free(log);
    free(st);
    close(fd);
    return rc;
}

int lsnap_make(struct lsnap *s, const struct lvm *m, const struct lsnap_dev *dev, const char *log,
               size_t log_len, bool (*stop)(void *ctx), void *stop_ctx)
{
    uint64_t ram_bytes;
    char err[PATH_MAX + 256] = "", tmp[PATH_MAX + 128];
    struct lstate *st = malloc(sizeof *st);
    if (!st)
        return -ENOMEM;
    int rc = lstate_capture(m, st), fd = -1;
    if (rc) {
        free(st);
        log_warn("no snapshot made: the guest's state could not be read");
        return rc;
    }
    fd = lsnap_cache_create(s->dir, s->expect.key, tmp, sizeof tmp, err, sizeof err);
    rc = fd < 0 ? fd : 0;
    if (!rc && (rc = lsnap_write(fd, &s->expect, st, dev, log, log_len, m->mem, &ram_bytes, stop,
                                 stop_ctx, err, sizeof err)))
        unlink(tmp);
    if (!rc)
        rc = lsnap_cache_publish(fd, s->dir, s->expect.key, tmp, err, sizeof err);
    if (fd >= 0)
        close(fd);
    free(st);
    if (rc && rc != -ECANCELED)
        log_warn("no snapshot made: %s", err);
    return rc;
}
