/* Guest RAM: per-page user permissions, frames given at first touch, and the one guest-range check. */
#include "vmm/core/guest_mem.h"
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "firmware/abi.h"

#define ISOVM_PAGE ((uint64_t)ISOVM_PAGE_SIZE)
#define CHUNK ((uint64_t)GMEM_CHUNK_PAGES)

static inline uint64_t page_of(uint64_t a) { return a / ISOVM_PAGE; }

int gmem_tables_alloc(struct guest_mem *gm, uint64_t window, uint64_t limit_bytes)
{
    gm->npages = window / ISOVM_PAGE;
    uint64_t chunks = gm->npages / CHUNK + 1;
    /* calloc of these sizes maps zero pages: a window's arrays cost only what is used */
    gm->perm = calloc(gm->npages ? gm->npages : 1, 1);
    gm->given = calloc(gm->npages / 8 + 1, 1);
    gm->stale = calloc(gm->npages / 8 + 1, 1);
    gm->chunk_mapped = calloc(chunks, sizeof *gm->chunk_mapped);
    gm->chunk_given = calloc(chunks, sizeof *gm->chunk_given);
    gm->slot_bytes = gmem_slot_bytes(window);
    gm->slot_made = calloc(window / gm->slot_bytes / 8 + 1, 1);
    if (!gm->perm || !gm->given || !gm->stale || !gm->chunk_mapped || !gm->chunk_given || !gm->slot_made) {
        gmem_tables_free(gm);
        return -ENOMEM;
    }
    gm->limit_bytes = limit_bytes;
    gm->frames_total = limit_bytes > ISOVM_USER_MIN_GPA
                           ? (limit_bytes - ISOVM_USER_MIN_GPA) / ISOVM_PAGE : 0;
    gm->frames_given = gm->frames_tables = gm->frames_peak = 0;
    gm->user_pages = gm->user_pages_peak = gm->first_touches = 0;
    return 0;
}

void gmem_tables_free(struct guest_mem *gm)
{
    free(gm->files);
    gm->files = NULL;
    gm->nfiles = 0;
    free(gm->perm);
    free(gm->given);
    free(gm->stale);
    gm->stale = NULL;
    gm->stale_pages = 0;
    free(gm->chunk_mapped);
    free(gm->chunk_given);
    free(gm->slot_made);
    gm->slot_made = NULL;
    gm->perm = gm->given = NULL;
    gm->chunk_mapped = gm->chunk_given = NULL;
}

static void frames_peak_note(struct guest_mem *gm)
{
    struct guest_mem *r = gmem_root(gm);
    uint64_t used = r->frames_given + r->frames_tables;
    if (used > r->frames_peak)
        r->frames_peak = used;
}

int gmem_take_table_frame(struct guest_mem *gm)
{
    if (!gmem_frames_free(gm))
        return -ENOMEM;
    gmem_root(gm)->frames_tables++;
    frames_peak_note(gm);
    return 0;
}

void gmem_give_table_frame_back(struct guest_mem *gm)
{
    struct guest_mem *r = gmem_root(gm);
    if (r->frames_tables)
        r->frames_tables--;
}

bool gmem_user_range(const struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    uint64_t end;
    return !__builtin_add_overflow(gva, len, &end) && gva >= gm->user_lo && end <= gm->user_hi;
}

/* The file range holding page p, or NULL. */
static const struct gmem_file_range *file_of(const struct guest_mem *gm, uint64_t p)
{
    uint64_t a = p * ISOVM_PAGE;
    for (unsigned i = 0; i < gm->nfiles; i++)
        if (gm->files[i].lo <= a && a < gm->files[i].hi)
            return &gm->files[i];
    return NULL;
}

/* Page p lies in a file range past the file's end (the host has nothing to back it with). */
static bool past_file_end(const struct guest_mem *gm, uint64_t p)
{
    const struct gmem_file_range *f = gm->nfiles ? file_of(gm, p) : NULL;
    struct stat st;
    if (!f)
        return false;
    if (fstat(f->fd, &st) < 0)
        return true;
    return f->off + (p * ISOVM_PAGE - f->lo) >= (uint64_t)st.st_size;
}

uint64_t gmem_slot_bytes(uint64_t window)
{
    uint64_t b = 256ull << 20;
    while (window / b > 256)
        b *= 2;
    return b;
}

int gmem_slot_need(struct guest_mem *gm, uint64_t gva)
{
    uint64_t i = gva / gm->slot_bytes;
    if (!gm->on_slot || (gm->slot_made[i / 8] & (1u << (i % 8))))
        return 0;
    int rc = gm->on_slot(gm, i);
    if (!rc)
        gm->slot_made[i / 8] |= (uint8_t)(1u << (i % 8));
    return rc;
}

static bool page_stale(const struct guest_mem *gm, uint64_t p)
{
    return gm->stale_pages && (gm->stale[p / 8] & (1u << (p % 8)));
}

/* A stale page's old contents gone: zeroed (keep) or left to a host drop. */
static void page_unstale(struct guest_mem *gm, uint64_t p, bool zero)
{
    gm->stale[p / 8] &= (uint8_t)~(1u << (p % 8));
    gm->stale_pages--;
    gmem_root(gm)->stale_total--;
    if (zero)
        memset(gm->host + p * ISOVM_PAGE, 0, ISOVM_PAGE);
}

/* The host pages of [lo, hi) were replaced (a file mapped there, or fresh anonymous memory):
 * nothing of the old image is left in them to zero. */
static void stale_forget(struct guest_mem *gm, uint64_t lo, uint64_t hi)
{
    for (uint64_t p = lo / ISOVM_PAGE; p < hi / ISOVM_PAGE && gm->stale_pages; p++)
        if (page_stale(gm, p))
            page_unstale(gm, p, false);
}

void gmem_unstale(struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    if (!gm->stale_pages || !len || !gmem_user_range(gm, gva, len))
        return;
    for (uint64_t p = page_of(gva); p <= page_of(gva + len - 1) && gm->stale_pages; p++)
        if (page_stale(gm, p))
            page_unstale(gm, p, true);
}

/* Give page p: a frame of the limit, its entry made. */
static int page_give(struct guest_mem *gm, uint64_t p)
{
    if (gmem_page_given(gm, p))
        return 0;
    if (!gmem_frames_free(gm) || gmem_slot_need(gm, p * ISOVM_PAGE))
        return -ENOMEM;
    struct guest_mem *r = gmem_root(gm);
    r->frames_given++; /* first, so that the tables the entry needs see this frame taken */
    if (gm->on_give) {
        int rc = gm->on_give(gm, p);
        if (rc) {
            r->frames_given--;
            return rc;
        }
    }
    if (page_stale(gm, p))
        page_unstale(gm, p, true);
    gm->given[p / 8] |= (uint8_t)(1u << (p % 8));
    gm->chunk_given[p / CHUNK]++;
    frames_peak_note(gm);
    return 0;
}

int gmem_give_range(struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    if (len == 0)
        return 0;
    if (!gmem_user_range(gm, gva, len))
        return -EFAULT;
    for (uint64_t p = page_of(gva); p <= page_of(gva + len - 1); p++) {
        int rc = page_give(gm, p);
        if (rc)
            return rc;
    }
    return 0;
}

int gmem_fault(struct guest_mem *gm, uint64_t gva, unsigned access)
{
    if (!gmem_user_range(gm, gva, 1))
        return -EFAULT;
    uint64_t p = page_of(gva);
    if ((gm->perm[p] & access) != access || !(access & GPERM_RWX))
        return -EFAULT;
    if (past_file_end(gm, p))
        return -EIO;
    if (gmem_page_given(gm, p)) {
        /* another vCPU gave it between this one's fault and now: its entry is there */
        if (gm->on_perm_change)
            gm->on_perm_change(gm, p, 1);
        return 0;
    }
    int rc = page_give(gm, p);
    if (rc)
        return rc;
    gmem_root(gm)->first_touches++;
    /* Fault-around: the other pages of its aligned group of GMEM_FAULT_AROUND with the same
     * rights, while more than an eighth of the frames is free (so that near the limit every
     * frame is one the job touched). A job touching memory in order takes one exit per group,
     * not per page. */
    uint64_t lo = p - p % GMEM_FAULT_AROUND, hi = lo + GMEM_FAULT_AROUND;
    for (uint64_t q = lo; q < hi && q < gm->npages; q++) {
        if (gmem_frames_free(gm) <= gmem_root(gm)->frames_total / 8)
            break;
        if (q != p && q >= page_of(gm->user_lo) && gm->perm[q] == gm->perm[p] &&
            !gmem_page_given(gm, q) && (past_file_end(gm, q) || page_give(gm, q)))
            break;
    }
    return 0;
}

/* A file the job mapped can end before its mapping does (or fail to read): the host then raises
 * SIGBUS at the access. The VMM's own copies over file ranges catch it and answer EFAULT, as
 * Linux's copies do; the job's accesses end the job (vcpu_run.c). */
static _Thread_local sigjmp_buf *volatile copy_env;

static void sigbus_catch(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    (void)sig;
    if (copy_env)
        siglongjmp(*copy_env, 1);
    abort(); /* not a guarded copy: a VMM defect, never to be taken for the job's doing */
}

int gmem_sigbus_guard_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigbus_catch;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* left by siglongjmp: SIGBUS must stay unblocked */
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, NULL) ? -errno : 0;
}

static int copy_guarded(void *dst, const void *src, size_t n)
{
    sigjmp_buf env;
    if (sigsetjmp(env, 0)) {
        copy_env = NULL;
        return -EFAULT;
    }
    copy_env = &env;
    atomic_signal_fence(memory_order_seq_cst); /* armed before the first byte is read ... */
    memcpy(dst, src, n);
    atomic_signal_fence(memory_order_seq_cst); /* ... and until the last */
    copy_env = NULL;
    return 0;
}

/* memcpy, guarded when a file range is involved. */
static int copy_checked(const struct guest_mem *gm, uint64_t gva, uint64_t len, void *dst,
                        const void *src)
{
    if (gm->nfiles && gmem_range_has_file(gm, gva, len, false))
        return copy_guarded(dst, src, len);
    memcpy(dst, src, len);
    return 0;
}

/* The permission part of the check, for readers (no page is given). */
static int range_check(const struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned need,
                       void **host)
{
    if (host)
        *host = NULL;
    if (len == 0) {
        /* As Linux's access_ok(addr, 0): nothing is accessed, any address will do. */
        if (host && gva >= gm->user_lo && gva < gm->user_hi)
            *host = gm->host + gva;
        return 0;
    }
    if (!gmem_user_range(gm, gva, len))
        return -EFAULT;
    uint64_t end = gva + len;
    need &= GPERM_RWX;
    if (!need)
        need = GPERM_R;
    for (uint64_t p = page_of(gva); p <= page_of(end - 1); p++) {
        if ((gm->perm[p] & need) != need)
            return -EFAULT;
    }
    /* what the VMM reads of a page not given is zero, as Linux's fresh page: a stale one
     * (an image before an exec) is zeroed first (its bits and contents are the VMM's, not
     * the caller's view of the space) */
    if (gm->stale_pages)
        gmem_unstale((struct guest_mem *)gm, gva, len);
    if (host)
        *host = gm->host + gva;
    return 0;
}

int gpa_range_check(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned need,
                    void **host)
{
    int rc = range_check(gm, gva, len, need, host);
    if (rc || !(need & GPERM_W) || len == 0)
        return rc;
    /* The VMM writes through the host mapping, which the guest's tables do not see: the pages
     * are given first, so that what it writes is counted and the job finds it there. A page
     * the VMM only reads stays as it is (the host reads an untouched page as zero). */
    if ((rc = gmem_give_range(gm, gva, len)) && host)
        *host = NULL;
    return rc;
}

int gmem_copy_from(const struct guest_mem *gm, void *dst, uint64_t gva, uint64_t len)
{
    void *src;
    int rc = range_check(gm, gva, len, GPERM_R, &src);
    if (rc || !len)
        return rc;
    return copy_checked(gm, gva, len, dst, src);
}

int gmem_copy_to(struct guest_mem *gm, uint64_t gva, const void *src, uint64_t len)
{
    void *dst;
    int rc = gpa_range_check(gm, gva, len, GPERM_W, &dst);
    if (rc || !len)
        return rc;
    return copy_checked(gm, gva, len, dst, src);
}

long gmem_copy_str(const struct guest_mem *gm, char *dst, uint64_t gva, size_t max)
{
    /* Walk page by page so a string that ends before an unmapped page is accepted. */
    size_t n = 0;
    while (n < max) {
        uint64_t at;
        if (__builtin_add_overflow(gva, (uint64_t)n, &at))
            return -EFAULT;
        uint64_t chunk = ISOVM_PAGE - (at % ISOVM_PAGE);
        if (chunk > max - n)
            chunk = max - n;
        const char *src;
        char page[ISOVM_PAGE_SIZE];
        int rc = range_check(gm, at, chunk, GPERM_R, (void **)&src);
        if (rc)
            return rc;
        if (gm->nfiles && gmem_range_has_file(gm, at, chunk, false)) {
            if (copy_guarded(page, src, chunk))
                return -EFAULT;
            src = page;
        }
        for (uint64_t i = 0; i < chunk; i++) {
            dst[n] = src[i]; /* each byte read once */
            if (dst[n] == '\0')
                return (long)n;
            n++;
        }
    }
    return -ENAMETOOLONG;
}

/* Take back the given pages of [first, first + n): frames freed, host pages dropped (they
 * read as zero when given again; also what a host call still running on them wrote after
 * the job unmapped them). Their entries were cleared by on_perm_change. */
static void range_take_back(struct guest_mem *gm, uint64_t first, uint64_t n)
{
    uint64_t p = first, end = first + n;
    bool keep = gm->keep_pages;
    while (p < end) {
        if (p % CHUNK == 0 && p + CHUNK <= end && gm->chunk_given[p / CHUNK] == 0 &&
            (keep || !gm->stale_pages)) {
            p += CHUNK;
            continue;
        }
        if (gmem_page_given(gm, p)) {
            gm->given[p / 8] &= (uint8_t)~(1u << (p % 8));
            gm->chunk_given[p / CHUNK]--;
            gmem_root(gm)->frames_given--;
            struct guest_mem *r = gmem_root(gm);
            if (keep && r->stale_total < r->frames_total && r->stale_total < GMEM_STALE_MAX) {
                gm->stale[p / 8] |= (uint8_t)(1u << (p % 8));
                gm->stale_pages++;
                r->stale_total++;
            } else if (keep) { /* past the cap: dropped */
                madvise(gm->host + p * ISOVM_PAGE, ISOVM_PAGE, MADV_DONTNEED);
            }
        } else if (!keep && page_stale(gm, p)) {
            page_unstale(gm, p, false); /* dropped below */
        }
        p++;
    }
    if (!keep)
        madvise(gm->host + first * ISOVM_PAGE, n * ISOVM_PAGE, MADV_DONTNEED);
}

static bool file_meets(const struct gmem_file_range *f, uint64_t lo, uint64_t hi)
{
    return f->lo < hi && lo < f->hi;
}

bool gmem_range_has_file(const struct guest_mem *gm, uint64_t gva, uint64_t len, bool shared_ro)
{
    for (unsigned i = 0; i < gm->nfiles; i++)
        if (file_meets(&gm->files[i], gva, gva + len) && (!shared_ro || gm->files[i].shared_ro))
            return true;
    return false;
}

/* The window's host pages [lo, hi) anonymous again, as vm_ram_map made them. */
static void host_anon(struct guest_mem *gm, uint64_t lo, uint64_t hi)
{
    void *p = mmap(gm->host + lo, hi - lo, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        abort(); /* the file would stay visible there: never go on */
    stale_forget(gm, lo, hi);
    madvise(p, hi - lo, MADV_DONTDUMP);
    madvise(p, hi - lo, MADV_NOHUGEPAGE);
}

/* Entries an end of the file ranges in [lo, hi) adds: one per range it splits in two. */
static unsigned files_splits(const struct guest_mem *gm, uint64_t lo, uint64_t hi)
{
    unsigned n = 0;
    for (unsigned i = 0; i < gm->nfiles; i++)
        n += gm->files[i].lo < lo && hi < gm->files[i].hi;
    return n;
}

/* The file ranges in [lo, hi) end: anonymous host pages there, the ranges cut. */
static void files_end(struct guest_mem *gm, uint64_t lo, uint64_t hi)
{
    for (unsigned i = 0; i < gm->nfiles;) {
        struct gmem_file_range *f = &gm->files[i];
        if (!file_meets(f, lo, hi)) {
            i++;
            continue;
        }
        host_anon(gm, f->lo > lo ? f->lo : lo, f->hi < hi ? f->hi : hi);
        if (f->lo < lo && hi < f->hi) { /* room checked by files_splits */
            gm->files[gm->nfiles] = *f;
            gm->files[gm->nfiles].off += hi - f->lo;
            gm->files[gm->nfiles++].lo = hi;
            f->hi = lo;
            if (gm->on_file_key)
                gm->on_file_key(gm, f->key, +1);
            i++;
        } else if (f->lo < lo) {
            f->hi = lo;
            i++;
        } else if (hi < f->hi) {
            f->off += hi - f->lo;
            f->lo = hi;
            i++;
        } else {
            uint64_t key = f->key;
            *f = gm->files[--gm->nfiles];
            if (gm->on_file_key)
                gm->on_file_key(gm, key, -1);
        }
    }
}

int gmem_map_file(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned perm, int host_fd,
                  uint64_t off, bool shared, bool shared_ro, uint64_t key)
{
    if (gva % ISOVM_PAGE || len % ISOVM_PAGE || len == 0 || !gmem_user_range(gm, gva, len) ||
        !perm)
        return -EINVAL;
    if (shared && shared_ro && (perm & GPERM_W))
        return -EACCES;
    shared_ro = shared && shared_ro;
    if (!gm->files) {
        gm->files = calloc(GMEM_FILE_RANGES_MAX, sizeof *gm->files);
        if (!gm->files)
            return -ENOMEM;
    }
    if (gm->nfiles >= GMEM_FILE_RANGES_MAX)
        return -ENOMEM;
    int prot = PROT_READ | (shared_ro ? 0 : PROT_WRITE);
    if (mmap(gm->host + gva, len, prot, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, host_fd,
             (off_t)off) == MAP_FAILED) {
        int e = errno;
        host_anon(gm, gva, gva + len);
        return -e;
    }
    stale_forget(gm, gva, gva + len); /* the file's pages now */
    madvise(gm->host + gva, len, MADV_DONTDUMP);
    struct stat st;
    if (fstat(host_fd, &st) < 0)
        memset(&st, 0, sizeof st);
    gm->files[gm->nfiles++] = (struct gmem_file_range){
        .lo = gva, .hi = gva + len, .key = key, .off = off, .dev = st.st_dev, .ino = st.st_ino,
        .fd = host_fd, .shared = shared, .shared_ro = shared_ro };
    return gmem_set_perm(gm, gva, len, perm);
}

void gmem_file_resized(struct guest_mem *gm, uint64_t dev, uint64_t ino, uint64_t new_size)
{
    uint64_t end = (new_size + ISOVM_PAGE - 1) & ~(ISOVM_PAGE - 1);
    for (unsigned i = 0; i < gm->nfiles; i++) {
        const struct gmem_file_range *f = &gm->files[i];
        if (f->dev != dev || f->ino != ino || f->off + (f->hi - f->lo) <= end)
            continue;
        uint64_t from = f->off >= end ? f->lo : f->lo + (end - f->off);
        gmem_drop(gm, from, f->hi - from);
    }
}

void gmem_drop(struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    if (len == 0 || gva % ISOVM_PAGE || len % ISOVM_PAGE || !gmem_user_range(gm, gva, len))
        return;
    uint64_t first = page_of(gva), n = len / ISOVM_PAGE;
    if (gm->on_clear)
        gm->on_clear(gm, first, n);
    range_take_back(gm, first, n);
    gm->pt_dirty = true;
}

int gmem_set_perm(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned perm)
{
    if (gva % ISOVM_PAGE || len % ISOVM_PAGE || !gmem_user_range(gm, gva, len))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (!perm && gm->nfiles && gm->nfiles + files_splits(gm, gva, gva + len) > GMEM_FILE_RANGES_MAX)
        return -ENOMEM;
    /* a read-only shared file range is read-only on the host: never writable, for the job or
     * for the VMM's copies (which would fault) */
    if ((perm & GPERM_W) && gm->nfiles && gmem_range_has_file(gm, gva, len, true))
        return -EACCES;
    uint64_t first = page_of(gva), n = len / ISOVM_PAGE, end = first + n;
    for (uint64_t p = first; p < end;) {
        uint16_t *cm = &gm->chunk_mapped[p / CHUNK];
        if (p % CHUNK == 0 && p + CHUNK <= end) { /* a whole chunk at once */
            if (perm) {
                gm->user_pages += CHUNK - *cm;
                *cm = (uint16_t)CHUNK;
            } else {
                gm->user_pages -= *cm;
                *cm = 0;
            }
            p += CHUNK;
            continue;
        }
        if (gm->perm[p] && !perm) {
            gm->user_pages--;
            (*cm)--;
        } else if (!gm->perm[p] && perm) {
            gm->user_pages++;
            (*cm)++;
        }
        p++;
    }
    if (gm->user_pages > gm->user_pages_peak)
        gm->user_pages_peak = gm->user_pages;
    memset(gm->perm + first, (int)perm, n);
    if (gm->on_perm_change) /* the given pages' entries, cleared for perm 0 ... */
        gm->on_perm_change(gm, first, n);
    if (!perm) /* ... before they are taken back */
        range_take_back(gm, first, n);
    if (!perm && gm->nfiles)
        files_end(gm, gva, gva + len);
    gm->pt_dirty = true;
    return 0;
}

bool gmem_range_all(const struct guest_mem *gm, uint64_t gva, uint64_t len, bool mapped)
{
    uint64_t p = page_of(gva), end = page_of(gva + len);
    while (p < end) {
        if (p % CHUNK == 0 && p + CHUNK <= end) {
            uint16_t c = gm->chunk_mapped[p / CHUNK];
            if (c == (mapped ? CHUNK : 0)) {
                p += CHUNK;
                continue;
            }
            if (c == (mapped ? 0 : CHUNK))
                return false;
        }
        if ((gm->perm[p] != 0) != mapped)
            return false;
        p++;
    }
    return true;
}

uint64_t gmem_find_free(const struct guest_mem *gm, uint64_t len, uint64_t top)
{
    uint64_t need = len / ISOVM_PAGE, run = 0, lo = page_of(gm->user_lo);
    if (need == 0)
        return 0;
    if (top > gm->user_hi)
        top = gm->user_hi;
    uint64_t p = page_of(top); /* the free pages [p, p + run), growing downward */
    while (p > lo) {
        if (p % CHUNK == 0 && p >= lo + CHUNK) {
            uint16_t c = gm->chunk_mapped[p / CHUNK - 1];
            if (c == 0) {
                if (run + CHUNK >= need) /* the highest run: it ends where the free pages end */
                    return (p + run - need) * ISOVM_PAGE;
                run += CHUNK;
                p -= CHUNK;
                continue;
            }
            if (c == CHUNK) {
                run = 0;
                p -= CHUNK;
                continue;
            }
        }
        p--;
        run = gm->perm[p] ? 0 : run + 1;
        if (run == need)
            return p * ISOVM_PAGE;
    }
    return 0;
}

int gmem_space_init(struct guest_mem *gm, struct guest_mem *root, uint8_t *host,
                    uint64_t gpa_base)
{
    int rc = gmem_tables_alloc(gm, root->npages * ISOVM_PAGE, root->limit_bytes);
    if (rc)
        return rc;
    gm->root = root;
    gm->host = host;
    gm->gpa_base = gpa_base;
    gm->size = root->npages * ISOVM_PAGE; /* the window: the page-table area is root's */
    gm->pt_lo = gm->size;
    gm->user_lo = root->user_lo;
    gm->user_hi = root->user_hi;
    gm->on_file_key = root->on_file_key;
    gm->file_key_ctx = root->file_key_ctx;
    return 0;
}

void gmem_space_clear(struct guest_mem *gm, bool keep_pages)
{
    if (gm->user_hi <= gm->user_lo)
        return;
    /* a file range's pages are the file's: ending it maps the window anonymous again there
     * (host_anon), which keeps nothing stale */
    gm->keep_pages = keep_pages;
    if (gm->nfiles) { /* the whole window at once: no range is split, so none can fail */
        gmem_set_perm(gm, gm->user_lo, gm->user_hi - gm->user_lo, 0);
    } else { /* the chunks in use only: a window's per-page arrays are touched where used */
        for (uint64_t c = 0; c * CHUNK < gm->npages; c++) {
            if (!gm->chunk_mapped[c] && !gm->chunk_given[c]) /* given with no rights: the
                                                             * loader's writes can be */
                continue;
            uint64_t lo = c * CHUNK * ISOVM_PAGE, hi = lo + CHUNK * ISOVM_PAGE;
            lo = lo < gm->user_lo ? gm->user_lo : lo;
            hi = hi > gm->user_hi ? gm->user_hi : hi;
            if (lo < hi)
                gmem_set_perm(gm, lo, hi - lo, 0);
        }
    }
    gm->keep_pages = false;
    for (uint64_t b = 0; !keep_pages && gm->stale_pages && b <= gm->npages / 8; b++) {
        if (!gm->stale[b]) /* stale pages outside every chunk in use: dropped too */
            continue;
        for (uint64_t p = b * 8; p < b * 8 + 8; p++)
            if (page_stale(gm, p)) {
                page_unstale(gm, p, false);
                madvise(gm->host + p * ISOVM_PAGE, ISOVM_PAGE, MADV_DONTNEED);
            }
    }
    gm->user_pages_peak = 0;
}

int gmem_space_copy(struct guest_mem *dst, const struct guest_mem *src)
{
    uint64_t chunks = src->npages / CHUNK + 1;
    for (uint64_t c = 0; c < chunks; c++) /* dst is empty: only the chunks src uses */
        if (src->chunk_mapped[c] && c * CHUNK < src->npages)
            memcpy(dst->perm + c * CHUNK, src->perm + c * CHUNK,
                   src->npages - c * CHUNK < CHUNK ? src->npages - c * CHUNK : CHUNK);
    memcpy(dst->chunk_mapped, src->chunk_mapped, chunks * sizeof *dst->chunk_mapped);
    dst->user_pages = dst->user_pages_peak = src->user_pages;
    if (src->nfiles && !dst->files &&
        !(dst->files = calloc(GMEM_FILE_RANGES_MAX, sizeof *dst->files)))
        goto fail;
    for (unsigned i = 0; i < src->nfiles; i++) {
        const struct gmem_file_range *f = &src->files[i];
        int prot = PROT_READ | (f->shared_ro ? 0 : PROT_WRITE);
        if (mmap(dst->host + f->lo, f->hi - f->lo, prot,
                 (f->shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, f->fd,
                 (off_t)f->off) == MAP_FAILED) {
            host_anon(dst, f->lo, f->hi);
            goto fail;
        }
        madvise(dst->host + f->lo, f->hi - f->lo, MADV_DONTDUMP);
        dst->files[dst->nfiles++] = *f;
        if (dst->on_file_key)
            dst->on_file_key(dst, f->key, +1);
    }
    for (uint64_t p = 0; p < src->npages; p++) {
        if (p % CHUNK == 0 && src->chunk_given[p / CHUNK] == 0) {
            p += CHUNK - 1;
            continue;
        }
        if (!gmem_page_given(src, p))
            continue;
        const struct gmem_file_range *f = src->nfiles ? file_of(src, p) : NULL;
        if (page_give(dst, p))
            goto fail;
        if (f && f->shared)
            continue; /* the file's own page, in both */
        uint64_t a = p * ISOVM_PAGE;
        if (!f)
            memcpy(dst->host + a, src->host + a, ISOVM_PAGE);
        else if (copy_guarded(dst->host + a, src->host + a, ISOVM_PAGE))
            gmem_drop(dst, a, ISOVM_PAGE); /* past the file's end now: the child finds it so */
    }
    dst->pt_dirty = true;
    return 0;
fail:
    gmem_space_clear(dst, false);
    return -ENOMEM;
}

uint64_t gmem_peak_bytes(const struct guest_mem *gm)
{
    return ISOVM_USER_MIN_GPA + gmem_root(gm)->frames_peak * ISOVM_PAGE;
}

void *gmem_host_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    uint64_t end;
    if (__builtin_add_overflow(gpa, len, &end) || end > gm->size)
        return NULL;
    return gm->host + gpa;
}
