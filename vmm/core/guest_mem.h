/* Guest RAM: the host mapping, per-page user permissions, and the one guest-range check. */
#ifndef ISOVM_GUEST_MEM_H
#define ISOVM_GUEST_MEM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-page user permissions. A page with no bit set is not mapped for ring 3. */
enum {
    GPERM_R = 0x1,
    GPERM_W = 0x2,
    GPERM_X = 0x4,
    GPERM_RESERVED = 0x80, /* address space taken (e.g. PROT_NONE or guard) but not accessible */
};
#define GPERM_RWX (GPERM_R | GPERM_W | GPERM_X)

/* Guest-physical space, as the VMM maps it (one host mapping, one memslot):
 *   [0, ISOVM_USER_MIN_GPA)   the firmware region (firmware/abi.h)
 *   [user_lo, user_hi)        the job's address space: its virtual addresses, each page backed
 *                             by the guest-physical page of the same number once it is given
 *   [pt_lo, size)             the page-table area (vmm/core/paging.c)
 * A page of the address space is *given* (a frame of the job's RAM, its page-table entry
 * present) at its first touch: by the job (a page fault the VMM mends), or by the VMM writing
 * into it. Only given pages and page-table pages count against the memory limit: a reservation
 * (PROT_NONE, or mapped and never touched) costs none. */
#define GMEM_CHUNK_PAGES 512u /* pages per counting chunk (2 MiB): find_free and sweeps skip */
#define GMEM_FAULT_AROUND 16u /* pages given together at a first touch (see gmem_fault) */
#define GMEM_STALE_MAX    4096u /* host pages kept stale at most, in all spaces (16 MiB) */

struct guest_mem {
    uint8_t *host;     /* host mapping of guest-physical [0, size) */
    uint64_t size;     /* bytes mapped (window + page-table area), page multiple */
    uint8_t *perm;     /* one GPERM_* byte per page of the window [0, user_hi) */
    uint64_t npages;   /* pages of the window */
    uint64_t user_lo;  /* lowest address ring 3 may ever map */
    uint64_t user_hi;  /* one past the highest address ring 3 may ever map (the window's end) */
    uint64_t pt_lo;    /* first byte of the page-table area */
    bool pt_dirty;     /* present page-table entries changed since the guest last reloaded CR3 */
    uint64_t user_pages;      /* pages with any permission (mapped or reserved): address space */
    uint64_t user_pages_peak;
    uint8_t *given;           /* one bit per page of the window: a frame is in use */
    uint8_t *stale;           /* one bit per page: not given, but its host page still holds what
                               * an image before an exec left there (gmem_space_clear keeping
                               * pages): zeroed when it is given again */
    uint64_t stale_pages;
    uint64_t stale_total;     /* the root's: stale pages of every space, at most GMEM_STALE_MAX
                               * and frames_total (a page past that is dropped): the host memory
                               * they keep stays within the jail's allowance for the VMM */
    bool keep_pages;          /* gmem_space_clear(keep_pages) under way */
    uint16_t *chunk_mapped;   /* per chunk: pages with any permission */
    uint16_t *chunk_given;    /* per chunk: given pages */
    /* A process's space other than the first (vmm/core/proc.h) is a window of its own at
     * gpa_base, counted in the first space's frames (root); the first has gpa_base 0, root
     * NULL, and holds the counts below for every space. */
    struct guest_mem *root;
    uint64_t gpa_base;        /* the guest-physical address of the window's address 0 */
    uint64_t limit_bytes;     /* the memory limit: firmware region + every frame the job may use */
    uint64_t frames_total;    /* frames the job may use: (limit - firmware region) / page */
    uint64_t frames_given;    /* pages of the address space given */
    uint64_t frames_tables;   /* page-table pages */
    uint64_t frames_peak;     /* peak of frames_given + frames_tables */
    uint64_t first_touches;   /* pages given at a job's page fault */
    /* paging's hooks (NULL in tests without page tables): set the entries of the given pages
     * among [first_page, first_page + npages) from their permissions (none: not present);
     * make page `page`'s entry, allocating tables (0, or -ENOMEM when no frame is left). */
    void (*on_perm_change)(struct guest_mem *gm, uint64_t first_page, uint64_t npages);
    int (*on_give)(struct guest_mem *gm, uint64_t page);
    void (*on_clear)(struct guest_mem *gm, uint64_t first_page, uint64_t npages); /* the given
                                                  * pages' entries removed, rights kept */
    void *pt_ctx;
    /* The window's KVM memslots, slot_bytes each, made when a page in one is first given (a
     * memslot costs KVM metadata in proportion to its size: the whole window at once took
     * 12 ms of a cold launch in the emulated host). on_slot makes slot `index` (NULL: no KVM). */
    uint64_t slot_bytes;
    uint8_t *slot_made;       /* one bit per slot */
    int (*on_slot)(struct guest_mem *gm, uint64_t index);
    void *slot_ctx;      /* paging state for the hooks */
    /* Ranges of the window backed by a host mapping of a granted file (mmap of a file): the
     * host maps the file over the window there, so the job's pages are the file's (shared) or
     * a private copy of them, coherent with read and write as Linux keeps them. */
    struct gmem_file_range {
        uint64_t lo, hi;  /* page aligned, inside the user range */
        uint64_t key;     /* the caller's (the capability it came from) */
        uint64_t off;     /* the file offset at lo */
        uint64_t dev, ino; /* the file, for truncations through any descriptor */
        int fd;           /* the host descriptor it was mapped from (the key's, kept open by
                           * the range's reference): for its size at a first touch */
        bool shared;      /* MAP_SHARED (a fork's copy maps the file again, copies no page) */
        bool shared_ro;   /* MAP_SHARED of a file the job may not write: never writable */
    } *files;
    unsigned nfiles;          /* files holds GMEM_FILE_RANGES_MAX once the first is mapped */
    /* told when a range's key gains a holder (a split: +1) or loses one (a range ended: -1) */
    void (*on_file_key)(struct guest_mem *gm, uint64_t key, int delta);
    void *file_key_ctx;
};

/* The most file ranges a job may have (a split by munmap counts as two). */
#define GMEM_FILE_RANGES_MAX 1024u

/* The host-side arrays for a window of `window` bytes (perm bytes, given bits, chunk counts,
 * memslots made), and the limit's frames. The other fields are the caller's. 0 or -ENOMEM. */
int gmem_tables_alloc(struct guest_mem *gm, uint64_t window, uint64_t limit_bytes);
void gmem_tables_free(struct guest_mem *gm);

/* Map [gva, gva+len) (page aligned, in the user range, with no permission: the caller unmapped
 * it) to host_fd at off: MAP_SHARED or MAP_PRIVATE, host-writable unless shared_ro; then give
 * it permissions perm (no GPERM_W when shared_ro: -EACCES). 0, -ENOMEM (GMEM_FILE_RANGES_MAX),
 * or the host's -errno (EACCES, ENODEV, ...); on failure the range is anonymous and unmapped
 * again. */
int gmem_map_file(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned perm, int host_fd,
                  uint64_t off, bool shared, bool shared_ro, uint64_t key);

/* The file (dev, ino) is now new_size bytes long (the job truncated it): its pages past the
 * end, in every range that maps it, lose their frames and entries, so that the job's next
 * touch of one finds the end (SIGBUS) instead of a page the host no longer backs. */
void gmem_file_resized(struct guest_mem *gm, uint64_t dev, uint64_t ino, uint64_t new_size);

/* Does [gva, gva+len) meet a file range? With shared_ro, only a read-only shared one. */
bool gmem_range_has_file(const struct guest_mem *gm, uint64_t gva, uint64_t len, bool shared_ro);

/* Drop the frames of [gva, gva+len) (page aligned, in the user range) and keep the mapping:
 * anonymous pages read as zero again, a file's pages as the file (MADV_DONTNEED). */
void gmem_drop(struct guest_mem *gm, uint64_t gva, uint64_t len);

/* SIGBUS caught in the VMM's copies over file ranges (a file shorter than its mapping): they
 * answer EFAULT. Set once per process before its seccomp filter. 0 or -errno. */
int gmem_sigbus_guard_init(void);

/* The memslot size for a window: 256 MiB, or window/256 for the largest windows. */
uint64_t gmem_slot_bytes(uint64_t window);

/* Make the memslot holding gva now (the window's ends, ahead of a job). 0 or on_slot's -errno. */
int gmem_slot_need(struct guest_mem *gm, uint64_t gva);

/* The space holding the job's frame counts (the first one). */
static inline struct guest_mem *gmem_root(const struct guest_mem *gm)
{
    return gm->root ? gm->root : (struct guest_mem *)gm;
}

/* Frames not in use: what a first touch may still take (in every space of the job). */
static inline uint64_t gmem_frames_free(const struct guest_mem *gm)
{
    const struct guest_mem *r = gmem_root(gm);
    uint64_t used = r->frames_given + r->frames_tables;
    return used < r->frames_total ? r->frames_total - used : 0;
}

/* Account one more page-table page (paging.c): 0, or -ENOMEM when every frame is in use. */
int gmem_take_table_frame(struct guest_mem *gm);
/* A page-table page is given back (its space ended). */
void gmem_give_table_frame_back(struct guest_mem *gm);

/* Make gm a space of its own over `host` (window bytes, freshly mapped) at gpa_base,
 * counted in root's frames: its tables allocated, user range as root's. 0 or -ENOMEM. */
int gmem_space_init(struct guest_mem *gm, struct guest_mem *root, uint8_t *host,
                    uint64_t gpa_base);

/* Copy src's address space into dst (empty, same window): rights, file ranges (mapped again
 * from the same descriptors, keys told +1), and every given page's contents (a page of a
 * shared file range is the file's: not copied). Frames are taken for dst's given pages:
 * -ENOMEM (dst is emptied again) when the limit has too few. */
int gmem_space_copy(struct guest_mem *dst, const struct guest_mem *src);

/* Empty a space: every page unmapped and given back, file ranges ended. With keep_pages (an
 * exec: no host call of the space's process is under way), the host pages of given anonymous
 * pages stay as they are, marked stale: the next image's writes to them cost no host page
 * fault, and each is zeroed when given again. Without it, every host page is dropped. */
void gmem_space_clear(struct guest_mem *gm, bool keep_pages);

/* Zero the stale pages of [gva, gva+len) now (their bits cleared): for a writer that writes
 * before it gives (the stack builder). */
void gmem_unstale(struct guest_mem *gm, uint64_t gva, uint64_t len);

/* [gva, gva+len) does not wrap and lies inside [user_lo, user_hi): the one bounds test that the
 * checks below and the memory syscalls share. */
bool gmem_user_range(const struct guest_mem *gm, uint64_t gva, uint64_t len);

/* A canonical lower-half (user) address, as an FS base or TLS pointer must be. */
static inline bool gva_canonical_user(uint64_t gva) { return gva < (1ull << 47); }

/* Check that [gva, gva+len) lies in the user range and that every page in it has all of the
 * `need` GPERM_ bits. Overflow-safe. len 0 is always valid, as on Linux (*host is NULL unless
 * gva is in the user range). With GPERM_W in need, every page not yet given is given (the VMM
 * is about to write it): -ENOMEM when the frames run out. Returns 0 and sets *host (the range
 * is contiguous in the host), or -EFAULT. */
int gpa_range_check(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned need,
                    void **host);

/* Give every page of [gva, gva+len) not given yet, whatever its permissions (the loader's and
 * the stack builder's writes). 0, -EFAULT outside the user range, -ENOMEM. */
int gmem_give_range(struct guest_mem *gm, uint64_t gva, uint64_t len);

/* The job touched gva for `access` (one GPERM_ bit) and found no page-table entry: give the
 * page when its permissions allow the access, and the other pages of its aligned group of
 * GMEM_FAULT_AROUND that have the same permissions, while more than an eighth of the frames is
 * free. 0 (resume the job), -EFAULT (a real fault: the job gets SIGSEGV), -ENOMEM (no frame
 * left: the memory limit), -EIO (a file's page past the file's end: SIGBUS). */
int gmem_fault(struct guest_mem *gm, uint64_t gva, unsigned access);

/* Whether page `page` of the window is given. */
static inline bool gmem_page_given(const struct guest_mem *gm, uint64_t page)
{
    return gm->given[page / 8] & (1u << (page % 8));
}

/* Every page of [gva, gva+len) (page aligned, in the user range) mapped or reserved (mapped
 * true), or every one free (false); whole free or full chunks are judged by their counts. */
bool gmem_range_all(const struct guest_mem *gm, uint64_t gva, uint64_t len, bool mapped);

/* The highest free run of len bytes (page multiple) whose end is at most top: its address, or
 * 0 if none. */
uint64_t gmem_find_free(const struct guest_mem *gm, uint64_t len, uint64_t top);

/* Copy from/to guest user memory, checked with gpa_range_check. 0 or -EFAULT. */
int gmem_copy_from(const struct guest_mem *gm, void *dst, uint64_t gva, uint64_t len);
int gmem_copy_to(struct guest_mem *gm, uint64_t gva, const void *src, uint64_t len);

/* Copy a NUL-terminated string of at most max-1 bytes from guest user memory.
 * Returns its length, -EFAULT, or -ENAMETOOLONG. */
long gmem_copy_str(const struct guest_mem *gm, char *dst, uint64_t gva, size_t max);

/* Set the user permissions of whole pages [gva, gva+len) (page aligned, inside
 * [user_lo, user_hi)). perm 0 unmaps: the given pages among them are taken back (their frames
 * freed, reading as zero when given again) and file ranges there end (anonymous again).
 * Updates page tables. 0, -EINVAL, -EACCES (write rights on a read-only shared file range),
 * or -ENOMEM when unmapping the middle of a file range would split it past
 * GMEM_FILE_RANGES_MAX (nothing changed). */
int gmem_set_perm(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned perm);

/* Guest RAM the job has used at most: the firmware region plus the peak of its frames in use
 * (given pages and page tables). Never above the limit. */
uint64_t gmem_peak_bytes(const struct guest_mem *gm);

/* Host pointer for a guest-physical range with no permission check: for the VMM's own
 * structures (firmware, page tables, loader). NULL if out of RAM or overflowing. */
void *gmem_host_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

#endif
