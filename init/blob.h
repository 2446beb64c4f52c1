/* The init embedded in isovm by init/blob.S: the bytes of the static program the VMM writes to
 * the initramfs as /init (mode 0755). */
#ifndef ISOVM_INIT_BLOB_H
#define ISOVM_INIT_BLOB_H
#include <stdint.h>

extern const uint8_t isovm_init_start[], isovm_init_end[];

#endif
