/* The 9P server's fids: what each of the guest's handles names (a grant and a path beneath its root) and, once opened, its host descriptor. */
#ifndef ISOVM_P9_FID_H
#define ISOVM_P9_FID_H
#include <stdbool.h>
#include <stdint.h>

#define P9_FIDS_MAX    16384u  /* fids at once: Linux keeps one per dentry in use and open file */
#define P9_FID_BUCKETS 1024u

struct p9_fid {
    uint32_t fid;
    unsigned grant;       /* index in the policy's grants; P9_GRANT_VIRTUAL: the root that
                           * holds every grant as an entry named by its index (aname "") */
    char *path;           /* beneath the grant's root: "" (the root) or "a/b", never "..", "."
                           * or an empty component */
    int fd;               /* the host descriptor once opened (Tlopen, Tlcreate); -1 */
    int open_flags;       /* the host open's flags (O_ACCMODE part matters) */
    bool is_dir;          /* opened as a directory */
    bool virt_open;       /* the virtual root, opened to be listed */
    uint64_t dir_pos;     /* a directory's host position (getdents64's d_off last returned) */
    struct p9_fid *next;  /* hash chain */
};

struct p9_fids {
    struct p9_fid *bucket[P9_FID_BUCKETS];
    unsigned count;
};

void p9_fids_init(struct p9_fids *t);
/* Close and free every fid. */
void p9_fids_clear(struct p9_fids *t);
struct p9_fid *p9_fid_get(struct p9_fids *t, uint32_t fid);
/* A new fid (not opened) on grant/path (copied). NULL: the number is in use (*err -EBADF),
 * P9_NOFID, the table is full (-ENFILE) or no memory (-ENOMEM). */
struct p9_fid *p9_fid_new(struct p9_fids *t, uint32_t fid, unsigned grant, const char *path, int *err);
/* Close (its descriptor) and free fid. */
void p9_fid_drop(struct p9_fids *t, uint32_t fid);
/* Replace a fid's path (copied). 0 or -ENOMEM (the old one kept). */
int p9_fid_set_path(struct p9_fid *f, const char *path);
/* After a rename of grant g's `from` to grant g2's `to`: every fid on `from` or beneath it
 * follows. -ENOMEM when a path could not be rewritten (that fid keeps its old path). */
int p9_fids_renamed(struct p9_fids *t, unsigned g, const char *from, unsigned g2, const char *to);

#endif
