/* cpio "newc" (the SVR4 portable format, magic 070701), as the kernel's initramfs unpacker reads
 * it (Documentation/driver-api/early-userspace/buffer-format.rst). */
#include "vmm/linux/cpio.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define HEADER 110

void cpio_init(struct cpio *c, uint8_t *buf, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->buf = buf;
    c->cap = cap;
    c->ino = 1;
}

static void put(struct cpio *c, const void *p, size_t n)
{
    if (c->err || n == 0)
        return;
    if (n > c->cap - c->len) {
        c->err = -ENOSPC;
        return;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

static void pad4(struct cpio *c)
{
    static const uint8_t zero[3];
    put(c, zero, (4 - c->len % 4) % 4);
}

static int name_ok(const char *name)
{
    if (!*name || *name == '/' || strlen(name) > 4000)
        return 0;
    for (const char *p = name; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n + (e ? 1 : 0);
        if (e && !*p)
            return 0; /* a trailing slash */
    }
    return 1;
}

static void entry(struct cpio *c, const char *name, unsigned mode, uint32_t nlink,
                  const void *data, size_t size)
{
    if (c->err)
        return;
    if (size > 0xffffffffu) {
        c->err = -EINVAL;
        return;
    }
    char h[HEADER + 1];
    size_t nsize = strlen(name) + 1;
    snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             c->ino++, mode, 0u, 0u, nlink, 0u, (unsigned)size, 0u, 0u, 0u, 0u, (unsigned)nsize, 0u);
    put(c, h, HEADER);
    put(c, name, nsize);
    pad4(c);
    put(c, data, size);
    pad4(c);
}

void cpio_dir(struct cpio *c, const char *name, unsigned mode)
{
    if (!name_ok(name)) {
        c->err = c->err ? c->err : -EINVAL;
        return;
    }
    entry(c, name, S_IFDIR | (mode & 07777), 2, NULL, 0);
}

void cpio_file(struct cpio *c, const char *name, unsigned mode, const void *data, size_t size)
{
    if (!name_ok(name)) {
        c->err = c->err ? c->err : -EINVAL;
        return;
    }
    entry(c, name, S_IFREG | (mode & 07777), 1, data, size);
}

void cpio_trailer(struct cpio *c)
{
    entry(c, "TRAILER!!!", 0, 1, NULL, 0);
}
