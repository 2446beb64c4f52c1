/* Loads the initramfs's modules with finit_module in the order file's order, those tagged with
 * file system types only for the job's (or, before the ready point of a guest to be snapshotted,
 * all but the transport), and frees their memory (unlink) as it goes; the test build checks and
 * logs them instead. */
#include "init/modules.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "init/abi.h"
#include "init/fsutil.h"
#include "init/modules_order.h"
#include "init/seam.h"

static int load_one(int fd, const char *name)
{
#if SEAM_TEST
    /* the host's kernel is not the guest's: check the file is an ELF object and log its name */
    char magic[4];
    if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4))
        return -ENOEXEC;
    int log = open(SEAM_MODULES_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log < 0)
        return -errno;
    dprintf(log, "%s\n", name);
    close(log);
    return 0;
#else
    (void)name;
    if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
        return -errno;
    return 0;
#endif
}

/* What a walk over the order file does with a line's module. */
enum module_pick {
    MODULE_LOAD, /* load it, then free its file */
    MODULE_DROP, /* free its file unloaded */
    MODULE_KEEP, /* leave it and its line for a later walk */
};

struct module_walk {
    const char *const *tags; /* modules_load: the job's */
    size_t ntags;
    bool preload;            /* modules_preload: all but the transport */
};

static enum module_pick module_pick(const struct module_walk *w, const struct modules_order_line *l)
{
    if (w->preload)
        return strcmp(l->name, ISOVM_MODULE_TRANSPORT) ? MODULE_LOAD : MODULE_KEEP;
    return modules_order_line_wanted(l, w->tags, w->ntags) ? MODULE_LOAD : MODULE_DROP;
}

/* One pass over the order file: each line's module loaded, dropped or kept. The order file is
 * then rewritten with the kept lines, or unlinked when none is. */
static int modules_walk(const struct module_walk *w, char *err, size_t len)
{
    char *text;
    size_t n;
    int rc = read_file(ISOVM_MODULES_ORDER, ISOVM_MODULES_ORDER_MAX, &text, &n);
    if (rc) {
        snprintf(err, len, "cannot read %s (the initramfs's list of modules): %s",
                 ISOVM_MODULES_ORDER, strerror(-rc));
        return rc;
    }
    char *kept = malloc(n + 1);
    size_t nkept = 0;
    if (!kept) {
        free(text);
        snprintf(err, len, "out of memory for %s", ISOVM_MODULES_ORDER);
        return -ENOMEM;
    }
    unsigned line = 0;
    for (char *c = text, *end = text + n, *next; !rc && c < end; c = next) {
        line++;
        char *lf = memchr(c, '\n', (size_t)(end - c));
        char *eol = lf ? lf : end;
        next = lf ? lf + 1 : end;
        *eol = '\0';
        if (c == eol)
            continue;
        size_t llen = (size_t)(eol - c);
        memcpy(kept + nkept, c, llen); /* before the parse splits it at its spaces */
        struct modules_order_line l;
        if ((rc = modules_order_line_parse(c, llen, &l, err, len, line)))
            break;
        char path[256];
        snprintf(path, sizeof path, "%s/%s", ISOVM_MODULES_DIR, l.name);
        enum module_pick pick = module_pick(w, &l);
        if (pick == MODULE_KEEP) {
            nkept += llen;
            kept[nkept++] = '\n';
            continue;
        }
        if (pick == MODULE_DROP) {
            unlink(path); /* the initramfs is RAM */
            continue;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        rc = fd < 0 ? -errno : load_one(fd, l.name);
        if (fd >= 0)
            close(fd);
        if (rc) {
            snprintf(err, len, "cannot load %s (line %u of %s): %s", path, line, ISOVM_MODULES_ORDER,
                     strerror(-rc));
            break;
        }
        unlink(path); /* the initramfs is RAM: the module's copy there is not needed any more */
    }
    free(text);
    if (!rc) {
        kept[nkept] = '\0';
        if (!nkept)
            unlink(ISOVM_MODULES_ORDER);
        else if ((rc = write_file(ISOVM_MODULES_ORDER, kept)) ||
                 (truncate(ISOVM_MODULES_ORDER, (off_t)nkept) && (rc = -errno)))
            snprintf(err, len, "cannot rewrite %s: %s", ISOVM_MODULES_ORDER, strerror(-rc));
    }
    free(kept);
    return rc;
}

int modules_load(const char *const *tags, size_t ntags, char *err, size_t len)
{
    struct module_walk w = { .tags = tags, .ntags = ntags };
    return modules_walk(&w, err, len);
}

int modules_preload(char *err, size_t len)
{
    struct module_walk w = { .preload = true };
    return modules_walk(&w, err, len);
}
