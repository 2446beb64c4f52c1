/* A pooled job's view of what an earlier job left: `pool_probe random` prints AT_RANDOM and a
 * getrandom draw in hex; `pool_probe mark REVERSED` fills 32 MiB with the marker (given reversed,
 * so no argv holds it); `pool_probe search REVERSED` maps all the RAM it can get and counts
 * the marker's occurrences in it ("marker 0 in N MiB"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>

static void hex(const char *what, const unsigned char *p, size_t n)
{
    printf("%s ", what);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

static char *unreverse(const char *r)
{
    size_t n = strlen(r);
    char *m = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        m[i] = r[n - 1 - i];
    m[n] = 0;
    return m;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "random")) {
        unsigned char g[16];
        hex("at_random", (const unsigned char *)getauxval(AT_RANDOM), 16);
        if (getrandom(g, sizeof g, 0) != (ssize_t)sizeof g)
            return 2;
        hex("getrandom", g, sizeof g);
        return 0;
    }
    if (argc != 3 || strlen(argv[2]) < 8)
        return 2;
    char *m = unreverse(argv[2]);
    size_t ml = strlen(m);
    const size_t chunk = 1 << 20;
    if (!strcmp(argv[1], "mark")) {
        size_t len = 32u << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 3;
        for (size_t at = 0; at + ml <= len; at += ml)
            memcpy(p + at, m, ml);
        printf("marked %zu MiB\n", len >> 20);
        return 0;
    }
    if (!strcmp(argv[1], "search")) {
        size_t found = 0, mib = 0;
        for (;;) {
            /* writable, so that isovm refuses the chunk once the frames left cannot hold it
             * (a read-only mapping costs nothing until read, and reading gives its frames) */
            char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
            if (p == MAP_FAILED)
                break;
            mib++;
            for (size_t at = 0; at + ml <= chunk; at++)
                if (p[at] == m[0] && !memcmp(p + at, m, ml))
                    found++;
        }
        printf("marker %zu in %zu MiB\n", found, mib);
        return found != 0;
    }
    return 2;
}
