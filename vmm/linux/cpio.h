/* An initramfs writer: cpio "newc" archives (the format the kernel unpacks), written into a
 * bounded buffer, such as the guest RAM set aside for the initramfs. */
#ifndef ISOVM_CPIO_H
#define ISOVM_CPIO_H
#include <stddef.h>
#include <stdint.h>

struct cpio {
    uint8_t *buf;
    size_t cap, len;
    uint32_t ino;
    int err;              /* the first failure sticks: -ENOSPC (out of room), -EINVAL (a name) */
};

/* Write into buf[0..cap). */
void cpio_init(struct cpio *c, uint8_t *buf, size_t cap);

/* A directory ("isovm", "lib/modules": no leading '/', no "..", no empty component). */
void cpio_dir(struct cpio *c, const char *name, unsigned mode);
/* A regular file with its contents. */
void cpio_file(struct cpio *c, const char *name, unsigned mode, const void *data, size_t size);
/* The end of the archive ("TRAILER!!!"). Archives may follow one another. */
void cpio_trailer(struct cpio *c);

#endif
