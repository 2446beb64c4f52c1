/* Anonymous mmap/munmap/mprotect/mremap. With --expect-enomem (the guest is small, e.g. 64 MiB)
 * mapping 1 MiB chunks must end in MAP_FAILED/ENOMEM within 4 GiB; after freeing them a new
 * mapping must work again. Without the flag (a native run) not reaching ENOMEM is only noted. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#define PG 4096ul
#define MIB (1ul << 20)

static int all_eq(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    int expect_enomem = argc > 1 && strcmp(argv[1], "--expect-enomem") == 0;
    const int prw = PROT_READ | PROT_WRITE, fl = MAP_PRIVATE | MAP_ANONYMOUS;

    CHECK("pagesize", sysconf(_SC_PAGESIZE) == (long)PG, "got %ld", sysconf(_SC_PAGESIZE));

    unsigned char *a = mmap(NULL, 8 * PG, prw, fl, -1, 0);
    CHECK("mmap 8 pages", a != MAP_FAILED && ((uintptr_t)a % PG) == 0, "got %p errno %d", (void *)a, errno);
    if (a == MAP_FAILED)
        return 1;
    CHECK("fresh mapping is zero", all_eq(a, 8 * PG, 0), "non-zero byte");
    memset(a, 0x11, 8 * PG);

    unsigned char *f = mmap(a + 2 * PG, 2 * PG, prw, fl | MAP_FIXED, -1, 0);
    CHECK("MAP_FIXED returns the address", f == a + 2 * PG, "got %p want %p", (void *)f, (void *)(a + 2 * PG));
    CHECK("MAP_FIXED replaces with zero pages", all_eq(a + 2 * PG, 2 * PG, 0), "non-zero byte");
    CHECK("MAP_FIXED leaves neighbours", all_eq(a, 2 * PG, 0x11) && all_eq(a + 4 * PG, 4 * PG, 0x11),
          "neighbour changed");

    CHECK("mprotect read-only", mprotect(a, PG, PROT_READ) == 0, "errno %d", errno);
    CHECK("read after mprotect", a[0] == 0x11 && a[PG - 1] == 0x11, "got 0x%x", a[0]);
    CHECK("mprotect read-write", mprotect(a, PG, prw) == 0, "errno %d", errno);
    a[0] = 0x22;
    CHECK("write after mprotect rw", a[0] == 0x22, "got 0x%x", a[0]);
    CHECK("mprotect unaligned -> EINVAL", syscall(SYS_mprotect, a + 1, PG, PROT_READ) == -1 && errno == EINVAL,
          "errno %d", errno);

    CHECK("munmap middle page", munmap(a + 5 * PG, PG) == 0, "errno %d", errno);
    CHECK("pages around the hole intact", a[4 * PG] == 0x11 && a[6 * PG] == 0x11, "changed");
    CHECK("munmap len 0 -> EINVAL", munmap(a, 0) == -1 && errno == EINVAL, "errno %d", errno);
    CHECK("munmap unaligned -> EINVAL", munmap(a + 1, PG) == -1 && errno == EINVAL, "errno %d", errno);
    CHECK("munmap rest", munmap(a, 8 * PG) == 0, "errno %d", errno); /* hole inside is fine */
    CHECK("mmap len 0 -> EINVAL", mmap(NULL, 0, prw, fl, -1, 0) == MAP_FAILED && errno == EINVAL,
          "errno %d", errno);

    /* mremap grow (may move) keeps contents */
    unsigned char *g = mmap(NULL, 2 * PG, prw, fl, -1, 0);
    for (size_t i = 0; i < 2 * PG; i++)
        g[i] = (unsigned char)(i * 3 + 1);
    unsigned char *g2 = mremap(g, 2 * PG, 64 * PG, MREMAP_MAYMOVE);
    CHECK("mremap grow", g2 != MAP_FAILED, "errno %d", errno);
    if (g2 != MAP_FAILED) {
        int same = 1;
        for (size_t i = 0; i < 2 * PG; i++)
            if (g2[i] != (unsigned char)(i * 3 + 1))
                same = 0;
        CHECK("mremap grow keeps contents", same, "contents changed");
        CHECK("mremap grown tail is zero", all_eq(g2 + 2 * PG, 62 * PG, 0), "non-zero byte");
        g2[64 * PG - 1] = 5;
        /* move to a fixed place */
        unsigned char *t = mmap(NULL, 64 * PG, prw, fl, -1, 0);
        unsigned char *m = mremap(g2, 64 * PG, 64 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, t);
        CHECK("mremap move to fixed address", m == t, "got %p want %p errno %d", (void *)m, (void *)t, errno);
        if (m == t) {
            int ok = 1;
            for (size_t i = 0; i < 2 * PG; i++)
                if (m[i] != (unsigned char)(i * 3 + 1))
                    ok = 0;
            CHECK("mremap move keeps contents", ok && m[64 * PG - 1] == 5, "contents changed");
            unsigned char *s = mremap(m, 64 * PG, 4 * PG, 0);
            CHECK("mremap shrink in place", s == m, "got %p errno %d", (void *)s, errno);
            CHECK("shrunk mapping keeps contents", s == m && m[PG] == (unsigned char)(PG * 3 + 1), "changed");
            munmap(m, 4 * PG);
        }
    }

    /* exhaust memory with 1 MiB chunks, every page used (under isovm an untouched mapping
     * costs no memory: only pages in use run out) */
    enum { MAXCHUNK = 4096 };
    static void *chunk[MAXCHUNK];
    int n = 0, err = 0;
    for (; n < MAXCHUNK; n++) {
        void *p = mmap(NULL, MIB, prw, fl, -1, 0);
        if (p == MAP_FAILED) {
            err = errno;
            break;
        }
        chunk[n] = p;
        for (size_t off = 0; off < (expect_enomem ? MIB : 1); off += PG)
            ((volatile char *)p)[off] = 1;
    }
    printf("mapped %d MiB before failure\n", n);
    if (n < MAXCHUNK) {
        CHECK("mmap exhaustion gives ENOMEM", err == ENOMEM, "errno %d (%s)", err, strerror(err));
        CHECK("something was mappable before ENOMEM", n > 0, "0 chunks");
    } else if (expect_enomem) {
        CHECK("mmap exhaustion gives ENOMEM", 0, "mapped 4 GiB without failure");
    } else {
        printf("note: no ENOMEM within 4 GiB (native host)\n");
    }
    for (int i = 0; i < n; i++)
        munmap(chunk[i], MIB);
    unsigned char *again = mmap(NULL, 4 * MIB, prw, fl, -1, 0);
    CHECK("mmap works again after freeing", again != MAP_FAILED, "errno %d", errno);
    if (again != MAP_FAILED) {
        memset(again, 0x33, 4 * MIB);
        CHECK("new mapping usable", again[4 * MIB - 1] == 0x33, "bad");
        munmap(again, 4 * MIB);
    }
    void *m2 = malloc(1000);
    CHECK("malloc works after exhaustion", m2 != NULL, "NULL");
    free(m2);
    return check_done();
}
