/* The kernel modules in the initramfs (init/abi.h): loaded in the order file's order, those
 * for file systems only when the job uses them, or all but the transport ahead of a snapshot. */
#ifndef ISOVM_INIT_MODULES_H
#define ISOVM_INIT_MODULES_H
#include <stddef.h>

/* Loads, in ISOVM_MODULES_ORDER's order, every untagged module and every module with one of the
 * ntags tags (modules_wanted_tags, init/modules_order.h; EEXIST: already there, fine), unlinks
 * every module file the order file names and then the order file. 0, or -errno with err naming
 * the module, the order file's line and what went wrong. */
int modules_load(const char *const *tags, size_t ntags, char *err, size_t len);

/* Before the ready point of a guest the VMM will snapshot (ISOVM_PRELOAD_ENV): loads every
 * module the order file names but the transport (ISOVM_MODULE_TRANSPORT, whose load finds the
 * devices, which the guest must not touch before the snapshot), whatever its tags, unlinks their
 * files, and leaves the order file naming the transport's line alone for modules_load. A guest
 * restored from the snapshot then loads only the transport after its job file. 0, or -errno with
 * err as modules_load's. */
int modules_preload(char *err, size_t len);

#endif
