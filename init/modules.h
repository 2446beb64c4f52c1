/* The kernel modules in the initramfs (init/abi.h): loaded in the order file's order. */
#ifndef ISOVM_INIT_MODULES_H
#define ISOVM_INIT_MODULES_H
#include <stddef.h>

/* Loads every module ISOVM_MODULES_ORDER names (EEXIST: already there, fine) and unlinks each
 * file after it, then the order file. 0, or -errno with err naming the module, the order file's
 * line and what went wrong. *loaded counts the modules loaded. */
int modules_load(unsigned *loaded, char *err, size_t len);

#endif
