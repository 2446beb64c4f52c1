/* Many malloc/free of mixed sizes (several > 1 MiB, so libc uses mmap), realloc growth,
 * calloc zeroing. Every block carries a pattern that is verified before it is freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned char *blk[SLOTS];
static size_t len[SLOTS];
static unsigned char tag[SLOTS];

static int verify(int i)
{
    for (size_t k = 0; k < len[i]; k += (len[i] > 4096 ? 61 : 1))
        if (blk[i][k] != (unsigned char)(tag[i] + k))
            return 0;
    if (len[i] && blk[i][len[i] - 1] != (unsigned char)(tag[i] + len[i] - 1))
        return 0;
    return 1;
}

static void fill(int i)
{
    for (size_t k = 0; k < len[i]; k++)
        blk[i][k] = (unsigned char)(tag[i] + k);
}

int main(void)
{
    int bad = 0, big = 0;
    for (int round = 0; round < 20000; round++) {
        int i = (int)(next() % SLOTS);
        if (blk[i]) {
            if (!verify(i)) {
                printf("corruption in slot %d (size %zu)\n", i, len[i]);
                bad++;
            }
            free(blk[i]);
            blk[i] = NULL;
            continue;
        }
        uint64_t r = next();
        size_t sz;
        if (r % 1000 == 0) {
            sz = (1u << 20) + (size_t)(next() % (2u << 20)); /* 1..3 MiB: mmap */
            big++;
        } else if (r % 10 == 0) {
            sz = (size_t)(next() % 65536);
        } else {
            sz = (size_t)(next() % 512);
        }
        blk[i] = malloc(sz);
        if (!blk[i] && sz) {
            printf("malloc(%zu) failed\n", sz);
            return 1;
        }
        len[i] = sz;
        tag[i] = (unsigned char)next();
        fill(i);
    }
    /* a few guaranteed large blocks alive at once */
    unsigned char *large[6];
    for (int j = 0; j < 6; j++) {
        size_t sz = (size_t)(j + 2) << 20;
        large[j] = malloc(sz);
        if (!large[j]) {
            printf("malloc(%zu) failed\n", sz);
            return 1;
        }
        memset(large[j], j + 1, sz);
        big++;
    }
    for (int j = 0; j < 6; j++) {
        size_t sz = (size_t)(j + 2) << 20;
        if (large[j][0] != j + 1 || large[j][sz - 1] != j + 1 || large[j][sz / 2] != j + 1) {
            printf("large block %d corrupted\n", j);
            bad++;
        }
        free(large[j]);
    }
    /* realloc growth keeps the contents */
    size_t rsz = 16;
    unsigned char *p = malloc(rsz);
    for (size_t k = 0; k < rsz; k++)
        p[k] = (unsigned char)(k * 7);
    while (rsz < (4u << 20)) {
        size_t nsz = rsz * 2;
        unsigned char *q = realloc(p, nsz);
        if (!q) {
            printf("realloc(%zu) failed\n", nsz);
            return 1;
        }
        p = q;
        for (size_t k = 0; k < rsz; k++)
            if (p[k] != (unsigned char)(k * 7)) {
                printf("realloc to %zu lost byte %zu\n", nsz, k);
                bad++;
                break;
            }
        for (size_t k = rsz; k < nsz; k++)
            p[k] = (unsigned char)(k * 7);
        rsz = nsz;
    }
    free(p);
    /* calloc zeroes, also memory that was dirty before */
    for (int j = 0; j < 8; j++) {
        size_t sz = j < 4 ? 1000u * (size_t)(j + 1) : ((size_t)j << 19);
        unsigned char *d = malloc(sz);
        memset(d, 0xa5, sz);
        free(d);
        unsigned char *z = calloc(1, sz);
        if (!z) {
            printf("calloc(%zu) failed\n", sz);
            return 1;
        }
        for (size_t k = 0; k < sz; k++)
            if (z[k]) {
                printf("calloc(%zu) byte %zu is 0x%x\n", sz, k, z[k]);
                bad++;
                break;
            }
        free(z);
    }
    for (int i = 0; i < SLOTS; i++) {
        if (blk[i] && !verify(i)) {
            printf("corruption in slot %d at the end\n", i);
            bad++;
        }
        free(blk[i]);
    }
    printf("large blocks: %d\n", big);
    if (bad)
        return 1;
    printf("malloc ok\n");
    return 0;
}
