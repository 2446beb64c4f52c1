/* Little-endian loads and stores of n bytes: virtio's registers, config space and request fields, whatever the host's byte order. */
#ifndef ISOVM_VIRTIO_LE_H
#define ISOVM_VIRTIO_LE_H
#include <stdint.h>

static inline uint64_t le_get(const void *p, unsigned n)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (unsigned i = 0; i < n && i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static inline void le_put(void *p, uint64_t v, unsigned n)
{
    uint8_t *b = p;
    for (unsigned i = 0; i < n && i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

#endif
