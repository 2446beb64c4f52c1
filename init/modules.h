/* The kernel modules in the initramfs (init/abi.h): loaded in the order file's order, those
 * for file systems only when the job uses them. */
#ifndef ISOVM_INIT_MODULES_H
#define ISOVM_INIT_MODULES_H
#include <stddef.h>

/* Loads, in ISOVM_MODULES_ORDER's order, every untagged module and every module with one of the
 * ntags tags (modules_wanted_tags, init/modules_order.h; EEXIST: already there, fine), unlinks
 * every module file the order file names and then the order file. 0, or -errno with err naming
 * the module, the order file's line and what went wrong. */
int modules_load(const char *const *tags, size_t ntags, char *err, size_t len);

#endif
