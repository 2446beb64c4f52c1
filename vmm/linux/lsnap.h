/* Snapshots of a booted Linux-tier guest: restoring one from the cache into a new VM, or making one when the init reaches its ready point. */
#ifndef ISOVM_LINUX_LSNAP_H
#define ISOVM_LINUX_LSNAP_H
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "vmm/linux/ldev.h"
#include "vmm/linux/lsnap_cache.h"
#include "vmm/linux/lsnap_file.h"
#include "vmm/linux/lvm.h"

struct lsnap {
    char dir[PATH_MAX];
    struct lsnap_expect expect;   /* the key, RAM size and vCPU count */
};

/* The key of what m and d will boot (cmdline, the kernel and its modules), and the cache
 * directory. 0, or a negative errno after a message saying why no snapshot can be used (the run
 * then boots afresh). */
int lsnap_prepare(struct lsnap *s, const struct lvm *m, const struct ldev *d, const char *kernel_path,
                  const char *modules_path, const char *cmdline);

/* Restore the cached snapshot into m (just made, RAM untouched) and d (just set up): RAM (its
 * pages mapped copy-on-write from the file, or with copy_ram read into the guest's own huge
 * pages: a machine made ahead of its job, whose latency then owes nothing to the page cache),
 * the KVM state, the serial port; the boot log it kept goes to console_log_fd (if >= 0). 0 restored;
 * -ENOENT none cached; another negative errno after a warning naming the file: it cannot be
 * used, and *dirty says whether m was changed (then m and d must be made again). */
int lsnap_restore(struct lsnap *s, struct lvm *m, struct ldev *d, int console_log_fd, bool copy_ram,
                  bool *dirty);

/* Save m (every vCPU parked), the devices' state dev and the boot log (the serial output so
 * far; copied by the caller under the devices' lock, which this does not take: it writes a file)
 * into the cache, asking stop(stop_ctx) between chunks whether to give up (lsnap_write). 0,
 * -ECANCELED (stop said so: nothing left behind), or a negative errno after a warning (the run
 * goes on without one). */
int lsnap_make(struct lsnap *s, const struct lvm *m, const struct lsnap_dev *dev, const char *log,
               size_t log_len, bool (*stop)(void *ctx), void *stop_ctx);

#endif
