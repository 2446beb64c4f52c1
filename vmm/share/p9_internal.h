/* What the 9P server's files share: one request's context, the grant's root held for it, paths beneath it. */
#ifndef ISOVM_P9_INTERNAL_H
#define ISOVM_P9_INTERNAL_H
#include <stdint.h>
#include <sys/stat.h>
#include "devices/virtio/p9/p9_wire.h"
#include "vmm/share/p9_server.h"

#define P9_PATH_MAX 4096u /* a path beneath a grant's root */

/* One request being served. */
struct p9_req {
    struct p9_server *s;
    const struct p9_msg *m;
    struct p9_in in;
    struct p9_out out;
    uint8_t type;
    uint16_t tag;
    uint64_t nr;       /* the Linux syscall the request stands for (audit lines) */
    size_t rdata_len;  /* Rread: data bytes put in m->rdata */
};

/* A grant's root held for one host call: the capability was live with the rights asked for, and
 * its host descriptor stays open until p9_root_end even if it is revoked meanwhile. */
struct p9_root {
    unsigned grant;
    uint32_t slot;
    int fd;
};

/* Check grant g's root capability for `need` (CAP_R_* rights) and hold it: 0, or -EKEYREVOKED,
 * -EKEYEXPIRED, -EACCES (each audited, with the guest path of g's `path`), -ENOENT (no such
 * grant). */
int p9_root_begin(struct p9_req *r, unsigned g, uint32_t need, const char *path, struct p9_root *root);
void p9_root_end(struct p9_req *r, struct p9_root *root);

/* openat2 beneath the held root (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV):
 * path "" is the root itself. A path leaving the grant is refused with -EACCES (audited as an
 * escape); other errors are the host's. */
int p9_open_beneath(struct p9_req *r, const struct p9_root *root, const char *path, int flags, unsigned mode);

/* A request that is one fid and nothing else (Treadlink, Tremove, Tstatfs, Tclunk): the fid,
 * or -EPROTO (malformed) / -EBADF (no such fid). */
int p9_take_fid(struct p9_req *r, struct p9_fid **out);

/* An audited refusal of `kind` with errno err at grant g's `path` (its guest path in the line). */
int p9_deny(struct p9_req *r, enum deny_kind kind, int err, unsigned g, const char *path);

/* dst = dir + "/" + name ("" dir: name). 0 or -ENAMETOOLONG. */
int p9_path_join(char *dst, const char *dir, const char *name, size_t name_len);
/* Split path "a/b/c" into its directory ("a/b", "" for "c") in dir and its last component
 * (returned, inside path). path "" has none: NULL. */
const char *p9_path_split(const char *path, char *dir);

/* The qid of a host object: its type, a version from mtime and size, and a path unique over
 * the grants' host devices (the device's index in the top 8 bits, the inode number below). */
void p9_put_stat_qid(struct p9_req *r, const struct stat *st);
uint64_t p9_qid_path(struct p9_server *s, uint64_t dev, uint64_t ino);
/* The virtual root's qid (aname ""), and the qid path of its entry for grant g. */
void p9_put_virtual_qid(struct p9_req *r);
#define P9_VIRTUAL_QID_PATH 1ull
#define P9_VIRTUAL_ENTRY_QID_PATH(g) (2ull + (g))

/* The ops (p9_ops.c): each reads its fields from r->in, writes its reply after the header in
 * r->out, and returns 0 or a negative errno (the dispatcher then answers Rlerror). */
int p9_lopen(struct p9_req *r);
int p9_lcreate(struct p9_req *r);
int p9_read(struct p9_req *r);
int p9_write(struct p9_req *r);
int p9_readdir(struct p9_req *r);
int p9_fsync(struct p9_req *r);
int p9_mkdir(struct p9_req *r);
int p9_symlink(struct p9_req *r);
int p9_link(struct p9_req *r);
int p9_mknod(struct p9_req *r);
int p9_readlink(struct p9_req *r);
int p9_unlinkat(struct p9_req *r);
int p9_renameat(struct p9_req *r);
int p9_rename(struct p9_req *r);
int p9_remove(struct p9_req *r);

#endif
