/* SHA-256 (FIPS 180-4), for cache keys: incremental, no allocation. */
#ifndef ISOVM_SHA256_H
#define ISOVM_SHA256_H
#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t bytes;       /* hashed so far */
    uint8_t block[64];
    size_t fill;          /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* The digest; s must be initialized again before further use. */
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const uint8_t digest[32], char out[65]);

#endif
