/* libFuzzer harness for a job's address space: permissions, first touches, the VMM's checked copies, file ranges and the page tables, driven by a script, with every invariant checked after each step. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firmware/abi.h"
#include "vmm/core/guest_mem.h"
#include "vmm/core/paging.h"

/* A 16 MiB window with an 8 MiB limit (a real job's layout, smaller). Input: a script of
 * 6-byte steps: op, le16 page (of the window), count (pages, 1..256), arg, arg2.
 *   op % 10: 0 set_perm(page, count, perm[arg % 6])   1 fault(page + arg2 * 16, access)
 *            2 give_range                              3 gpa_range_check(need arg, len count*61)
 *            4 copy_to / copy_from (arg & 1)           5 find_free(count pages, top page)
 *            6 drop                                    7 unmap, then map the file (offset arg % 4
 *              pages, shared arg & 1, read-only arg & 2)
 *            8 the file truncated to arg % 6 pages     9 the limit moved to arg frames above use
 *   op 10: an exec's clear (pages kept, stale), then [page, count) mapped: it reads as zero,
 *          and once given holds zeros
 * After the script, a fork: a second space copies the first (gmem_space_copy), both are checked,
 * then it ends (cleared, its tables freed), and the first space's counts must be as before. */
#define WINDOW (16ull << 20)
#define LIMIT  (8ull << 20)
#define PG     ((uint64_t)ISOVM_PAGE_SIZE)
#define PTE_P  1ull
#define PTE_RW 2ull
#define PTE_US 4ull
#define PTE_NX (1ull << 63)

static const unsigned perms[6] = { 0, GPERM_R, GPERM_R | GPERM_W, GPERM_R | GPERM_X, GPERM_RWX,
                                   GPERM_RESERVED };

static void check(int ok)
{
    if (!ok)
        abort();
}

static uint64_t want_pte(const struct guest_mem *gm, uint64_t p, unsigned perm)
{
    if (!(perm & GPERM_RWX))
        return 0;
    return (gm->gpa_base + p * PG) | PTE_P | PTE_US | ((perm & GPERM_W) ? PTE_RW : 0) |
           ((perm & GPERM_X) ? 0 : PTE_NX);
}

/* One space's counts, entries and file ranges; returns its given pages. */
static uint64_t space_invariants(const struct guest_mem *gm)
{
    uint64_t given = 0, mapped = 0;
    for (uint64_t c = 0; c * GMEM_CHUNK_PAGES < gm->npages; c++) {
        unsigned cm = 0, cg = 0;
        for (uint64_t p = c * GMEM_CHUNK_PAGES; p < (c + 1) * GMEM_CHUNK_PAGES; p++) {
            bool g = gmem_page_given(gm, p);
            cm += gm->perm[p] != 0;
            cg += g;
            if (p * PG < gm->user_lo)
                continue;
            check(paging_entry(gm, p * PG) == (g ? want_pte(gm, p, gm->perm[p]) : 0));
        }
        check(gm->chunk_mapped[c] == cm && gm->chunk_given[c] == cg);
        given += cg;
        mapped += cm;
    }
    check(mapped == gm->user_pages);
    for (unsigned i = 0; i < gm->nfiles; i++) {
        const struct gmem_file_range *f = &gm->files[i];
        check(f->lo < f->hi && f->lo >= gm->user_lo && f->hi <= gm->user_hi);
        for (unsigned j = i + 1; j < gm->nfiles; j++)
            check(f->hi <= gm->files[j].lo || gm->files[j].hi <= f->lo);
    }
    return given;
}

static void invariants(const struct guest_mem *gm)
{
    uint64_t stale = 0; /* a stale page is never given, and the count is right */
    for (uint64_t p = 0; p < gm->npages; p++)
        if (gm->stale[p / 8] & (1u << (p % 8))) {
            stale++;
            check(!gmem_page_given(gm, p));
        }
    check(stale == gm->stale_pages && gm->stale_total == stale); /* one space: the root */
    check(space_invariants(gm) == gm->frames_given);
    check(gm->frames_given + gm->frames_tables <= gm->frames_total);
}

/* The fork: a second space at 1 TiB copies gm, and ends again. */
static void fork_round(struct guest_mem *gm, struct paging *pg)
{
    uint64_t given = gm->frames_given, tables = gm->frames_tables, nfiles = gm->nfiles;
    uint8_t *host = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    check(host != MAP_FAILED);
    struct guest_mem child;
    struct paging cpg;
    memset(&child, 0, sizeof child);
    check(gmem_space_init(&child, gm, host, 1ull << 40) == 0);
    if (paging_space_init(&cpg, &child, pg, 0x1000) == 0) {
        int rc = gmem_space_copy(&child, gm);
        check(rc == 0 || rc == -ENOMEM);
        uint64_t cg = space_invariants(&child);
        check(space_invariants(gm) + cg == gm->frames_given);
        check(gm->frames_given + gm->frames_tables <= gm->frames_total);
        if (rc == 0) { /* the same rights, pages given and contents (a shared file's: the file's) */
            /* a file's page past its end (given by a VMM write) is not copied: fewer given */
            check(cg <= given && child.nfiles == nfiles && child.user_pages == gm->user_pages);
            for (uint64_t p = 0; p < gm->npages; p++) {
                check(child.perm[p] == gm->perm[p]);
                if (gmem_range_has_file(gm, p * PG, PG, false))
                    continue;
                check(gmem_page_given(&child, p) == gmem_page_given(gm, p));
                if (gmem_page_given(gm, p))
                    check(memcmp(child.host + p * PG, gm->host + p * PG, PG) == 0);
            }
        } else {
            check(cg == 0 && child.nfiles == 0 && child.user_pages == 0);
        }
    }
    gmem_space_clear(&child, false);
    paging_space_free(&cpg, &child);
    check(space_invariants(&child) == 0 && child.nfiles == 0);
    check(gm->frames_given == given && gm->frames_tables == tables);
    invariants(gm);
    gmem_tables_free(&child);
    munmap(host, WINDOW);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int guard;
    if (!guard)
        guard = gmem_sigbus_guard_init() == 0 ? 1 : -1;
    struct guest_mem gm;
    memset(&gm, 0, sizeof gm);
    gm.size = WINDOW + paging_area_bytes(LIMIT);
    gm.pt_lo = WINDOW;
    gm.host = mmap(NULL, gm.size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    check(gm.host != MAP_FAILED);
    check(gmem_tables_alloc(&gm, WINDOW, LIMIT) == 0);
    struct paging pg;
    check(paging_init(&pg, &gm, 0x1000) == 0);
    int fd = memfd_create("fuzz", 0);
    check(fd >= 0 && ftruncate(fd, 4 * PG) == 0);
    static uint8_t buf[256 * 61];
    for (size_t at = 0; at + 6 <= size && at < 6 * 64; at += 6) {
        const uint8_t *s = data + at;
        uint64_t page = (uint64_t)(s[1] | s[2] << 8) % gm.npages, n = s[3] % 256u + 1;
        uint64_t gva = page * PG, len = n * PG;
        unsigned arg = s[4], arg2 = s[5];
        switch (s[0] % 11) {
        case 0: gmem_set_perm(&gm, gva, len, perms[arg % 6]); break;
        case 1: {
            int rc = gmem_fault(&gm, gva + arg2 * 16u, 1u << (arg % 3));
            check(rc == 0 || rc == -EFAULT || rc == -ENOMEM || rc == -EIO);
            break;
        }
        case 2: gmem_give_range(&gm, gva, len); break;
        case 3: {
            void *h;
            if (gpa_range_check(&gm, gva + arg2, n * 61, arg, &h) == 0 && n * 61)
                check(h == gm.host + gva + arg2);
            break;
        }
        case 4:
            if (arg & 1) {
                memset(buf, (0xa5 ^ arg2) | 1, n * 61); /* never zero: an exec's clear must hide it */
                gmem_copy_to(&gm, gva + arg2, buf, n * 61);
            } else
                gmem_copy_from(&gm, buf, gva + arg2, n * 61);
            break;
        case 5: {
            uint64_t a = gmem_find_free(&gm, len, gva);
            check(a == 0 || (a % PG == 0 && a + len <= gva && a >= gm.user_lo &&
                             gmem_range_all(&gm, a, len, false)));
            break;
        }
        case 6: gmem_drop(&gm, gva, len); break;
        case 7:
            if (gmem_set_perm(&gm, gva, len, 0) == 0)
                gmem_map_file(&gm, gva, len, perms[1 + arg % 4], fd, (arg % 4) * PG, arg & 1,
                              (arg & 2) && (arg & 1), 1);
            break;
        case 8: {
            uint64_t bytes = (arg % 6) * PG;
            check(ftruncate(fd, (off_t)bytes) == 0);
            gmem_file_resized(&gm, 0, 0, bytes); /* a memfd's (dev, ino): matched below */
            for (unsigned i = 0; i < gm.nfiles; i++)
                gmem_file_resized(&gm, gm.files[i].dev, gm.files[i].ino, bytes);
            break;
        }
        case 9: gm.frames_total = gm.frames_given + gm.frames_tables + arg; break;
        case 10: { /* arg & 1: given first, else read first */
            gmem_space_clear(&gm, true);
            check(gm.frames_given == 0 && gm.user_pages == 0 && gm.nfiles == 0);
            if (gmem_set_perm(&gm, gva, len, GPERM_R | GPERM_W) == 0) {
                uint64_t l = len < sizeof buf ? len : sizeof buf;
                if ((arg & 1) && gmem_give_range(&gm, gva, len) == 0)
                    for (uint64_t i = 0; i < len; i++)
                        check(gm.host[gva + i] == 0);
                check(gmem_copy_from(&gm, buf, gva, l) == 0);
                for (uint64_t i = 0; i < l; i++)
                    check(buf[i] == 0);
            }
            break;
        }
        }
        invariants(&gm);
    }
    if (size % 2) /* odd inputs end with a fork */
        fork_round(&gm, &pg);
    close(fd);
    paging_fini(&pg);
    gmem_tables_free(&gm);
    munmap(gm.host, gm.size);
    return 0;
}
