/* Loads the initramfs's modules with finit_module in the order file's order, those tagged with
 * file system types only for the job's, and frees their memory (unlink) as it goes; the test
 * build checks and logs them instead. */
#include "init/modules.h"
#include <errno.h>
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

int modules_load(const char *const *tags, size_t ntags, char *err, size_t len)
{
    char *text;
    size_t n;
    int rc = read_file(ISOVM_MODULES_ORDER, ISOVM_MODULES_ORDER_MAX, &text, &n);
    if (rc) {
        snprintf(err, len, "cannot read %s (the initramfs's list of modules): %s",
                 ISOVM_MODULES_ORDER, strerror(-rc));
        return rc;
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
        struct modules_order_line l;
        if ((rc = modules_order_line_parse(c, (size_t)(eol - c), &l, err, len, line)))
            break;
        char path[256];
        snprintf(path, sizeof path, "%s/%s", ISOVM_MODULES_DIR, l.name);
        if (!modules_order_line_wanted(&l, tags, ntags)) {
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
    if (!rc)
        unlink(ISOVM_MODULES_ORDER);
    return rc;
}
