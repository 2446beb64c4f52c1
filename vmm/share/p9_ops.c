/* The 9P2000.L server's file and directory requests: open, create, read, write, readdir, and the names beneath a directory (mkdir, symlink, link, unlink, rename). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "devices/virtio/le.h"
#include "vmm/caps/audit.h"
#include "vmm/caps/fs_path.h"
#include "vmm/caps/grants.h"
#include "vmm/share/p9_internal.h"

/* The open flags a guest may ask for (9P2000.L's values are x86-64 Linux's); the server adds
 * O_CLOEXEC, O_NOFOLLOW, O_NOCTTY and O_NONBLOCK (a FIFO must not block the server). */
#define P9_OPEN_KEEP (O_ACCMODE | O_TRUNC | O_APPEND | O_DSYNC | O_SYNC | O_DIRECTORY)
#define P9_OPEN_ADD  (O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)
#define P9_AT_REMOVEDIR 0x200

static uint32_t rights_for_open(int flags)
{
    uint32_t need = 0;
    if ((flags & O_ACCMODE) != O_WRONLY)
        need |= CAP_R_READ;
    if ((flags & O_ACCMODE) != O_RDONLY)
        need |= CAP_R_WRITE;
    if (flags & O_TRUNC)
        need |= CAP_R_TRUNCATE;
    return need;
}

/* An opened descriptor must be a regular file or a directory: anything else (a FIFO, a device,
 * a socket) reaches beyond the file system and is refused (ENXIO, audited). */
static int check_opened(struct p9_req *r, struct p9_fid *f, int fd, const char *path, bool *is_dir)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        close(fd);
        return p9_deny(r, DENY_SPECIAL, -ENXIO, f->grant, path);
    }
    *is_dir = S_ISDIR(st.st_mode);
    /* the server's O_NONBLOCK is not the guest's: regular files ignore it, keep it off */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return 0;
}

static void put_opened(struct p9_req *r, int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        memset(&st, 0, sizeof st);
    p9_put_stat_qid(r, &st);
    p9_put32(&r->out, r->s->msize - P9_TWRITE_HDR); /* iounit */
}

int p9_lopen(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in), flags = p9_get32(&r->in);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *f = p9_fid_get(&r->s->fids, fid);
    if (!f || f->fd >= 0 || f->virt_open)
        return -EBADF;
    if (f->grant == P9_GRANT_VIRTUAL) { /* the grants' own root: listed, never written */
        if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
            return -EACCES;
        f->virt_open = f->is_dir = true;
        f->dir_pos = 0;
        p9_put_virtual_qid(r);
        p9_put32(&r->out, r->s->msize - P9_TWRITE_HDR);
        return 0;
    }
    int oflags = (int)(flags & P9_OPEN_KEEP) | P9_OPEN_ADD;
    struct p9_root root;
    int rc = p9_root_begin(r, f->grant, rights_for_open(oflags), f->path, &root);
    if (rc)
        return rc;
    int fd = p9_open_beneath(r, &root, f->path, oflags, 0);
    bool is_dir = false;
    if (fd >= 0 && (rc = check_opened(r, f, fd, f->path, &is_dir)) < 0)
        fd = rc;
    p9_root_end(r, &root);
    if (fd < 0)
        return fd;
    if (is_dir && (oflags & O_ACCMODE) == O_RDONLY) {
        /* a directory is opened to be listed: that is the list right's */
        if ((rc = p9_root_begin(r, f->grant, CAP_R_LIST, f->path, &root))) {
            close(fd);
            return rc;
        }
        p9_root_end(r, &root);
    }
    f->fd = fd;
    f->open_flags = oflags;
    f->is_dir = is_dir;
    f->dir_pos = 0;
    put_opened(r, fd);
    return 0;
}

/* The directory a name request works in: fid `dfid` (a directory, not opened), its path, the
 * held root (rights `need`) and the directory opened O_PATH beneath it. */
struct p9_dir {
    struct p9_fid *f;
    struct p9_root root;
    int fd;
};

static int dir_begin(struct p9_req *r, struct p9_fid *dir, uint32_t need, struct p9_dir *d)
{
    d->f = dir;
    d->fd = -1;
    if (!d->f)
        return -EBADF;
    int rc = p9_root_begin(r, d->f->grant, need, d->f->path, &d->root);
    if (rc)
        return rc;
    d->fd = p9_open_beneath(r, &d->root, d->f->path, O_PATH | O_DIRECTORY, 0);
    if (d->fd < 0) {
        rc = d->fd;
        p9_root_end(r, &d->root);
        return rc;
    }
    return 0;
}

static void dir_end(struct p9_req *r, struct p9_dir *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    p9_root_end(r, &d->root);
}

/* A name the guest gives for a new or existing entry: one component (else EINVAL, audited as
 * an escape when it holds '/' or is ".."), NUL-terminated in buf. */
static int name_take(struct p9_req *r, const struct p9_dir *d, const struct p9_str *s, char *buf)
{
    if (!p9_name_ok(s))
        return p9_deny(r, DENY_ESCAPE, -EINVAL, d->f->grant, d->f->path);
    memcpy(buf, s->s, s->len);
    buf[s->len] = 0;
    return 0;
}

static void put_qid_at(struct p9_req *r, int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        memset(&st, 0, sizeof st);
    p9_put_stat_qid(r, &st);
}

int p9_lcreate(struct p9_req *r)
{
    uint32_t dfid = p9_get32(&r->in);
    struct p9_str nm = p9_get_str(&r->in, P9_NAME_MAX);
    uint32_t flags = p9_get32(&r->in), mode = p9_get32(&r->in);
    p9_get32(&r->in); /* gid: files are the VMM's */
    if (!p9_in_done(&r->in))
        return -EPROTO;
    int oflags = (int)(flags & P9_OPEN_KEEP & ~O_DIRECTORY) | P9_OPEN_ADD | O_CREAT | O_EXCL;
    struct p9_dir d;
    int rc = dir_begin(r, p9_fid_get(&r->s->fids, dfid), CAP_R_CREATE | rights_for_open(oflags), &d);
    if (rc)
        return rc;
    char name[P9_NAME_MAX + 1], path[P9_PATH_MAX];
    if ((rc = name_take(r, &d, &nm, name)) || (rc = p9_path_join(path, d.f->path, name, nm.len)) ||
        d.f->fd >= 0) {
        dir_end(r, &d);
        return rc ? rc : -EBADF;
    }
    /* one component relative to a directory beneath the grant, O_EXCL | O_NOFOLLOW: it cannot
     * lead anywhere else */
    int fd = openat(d.fd, name, oflags | O_CLOEXEC, mode & 0777);
    rc = fd < 0 ? -errno : 0;
    dir_end(r, &d);
    if (rc)
        return rc;
    if ((rc = p9_fid_set_path(d.f, path))) {
        close(fd);
        return rc;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    d.f->fd = fd;
    d.f->open_flags = oflags;
    d.f->is_dir = false;
    put_opened(r, fd);
    return 0;
}

/* The fid of a read or write: opened for it, its grant still live with `need`. */
static int io_begin(struct p9_req *r, uint32_t fid, uint32_t need, struct p9_fid **out)
{
    struct p9_fid *f = p9_fid_get(&r->s->fids, fid);
    if (!f || f->fd < 0)
        return -EBADF;
    int acc = f->open_flags & O_ACCMODE;
    if ((need & CAP_R_READ) && acc == O_WRONLY)
        return -EBADF;
    if ((need & CAP_R_WRITE) && acc == O_RDONLY)
        return -EBADF;
    struct p9_root root;
    int rc = p9_root_begin(r, f->grant, need, f->path, &root);
    if (rc)
        return rc;
    p9_root_end(r, &root); /* the fid's own descriptor is used, not the root's */
    *out = f;
    return 0;
}

static int throttle(struct p9_req *r, bool write, uint64_t bytes)
{
    struct p9_server *s = r->s;
    return s->throttle ? s->throttle(s->throttle_ctx, write, bytes) : 0;
}

static void refund(struct p9_req *r, bool write, uint64_t bytes)
{
    struct p9_server *s = r->s;
    if (s->refund && bytes)
        s->refund(s->throttle_ctx, write, bytes);
}

int p9_read(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in);
    uint64_t off = p9_get64(&r->in);
    uint32_t count = p9_get32(&r->in);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *f;
    int rc = io_begin(r, fid, CAP_R_READ, &f);
    if (rc)
        return rc;
    if (f->is_dir)
        return -EISDIR;
    if (off > INT64_MAX)
        return -EINVAL;
    uint64_t max = r->s->msize - P9_RREAD_HDR;
    if (count > max)
        count = (uint32_t)max;
    if (count > r->m->rdata_cap)
        count = (uint32_t)r->m->rdata_cap;
    if ((rc = throttle(r, false, count)))
        return rc;
    /* the iovecs cover rdata_cap bytes: trim them to count */
    struct iovec iov[P9_IOV_MAX];
    unsigned n = 0;
    size_t left = count;
    for (unsigned i = 0; i < r->m->nrdata && left && n < P9_IOV_MAX; i++) {
        size_t take = r->m->rdata[i].iov_len < left ? r->m->rdata[i].iov_len : left;
        iov[n++] = (struct iovec){ r->m->rdata[i].iov_base, take };
        left -= take;
    }
    ssize_t got = count ? preadv(f->fd, iov, (int)n, (off_t)off) : 0;
    if (got < 0) {
        rc = -errno;
        refund(r, false, count);
        return rc;
    }
    refund(r, false, count - (uint64_t)got);
    r->s->stats.read_bytes += (uint64_t)got;
    r->rdata_len = (size_t)got;
    p9_put32(&r->out, (uint32_t)got);
    return 0;
}

int p9_write(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in);
    uint64_t off = p9_get64(&r->in);
    uint32_t count = p9_get32(&r->in);
    if (!p9_in_done(&r->in) || count != r->m->wdata_len)
        return -EPROTO;
    struct p9_fid *f;
    int rc = io_begin(r, fid, CAP_R_WRITE, &f);
    if (rc)
        return rc;
    if (f->is_dir)
        return -EISDIR;
    if (off > INT64_MAX || count > INT64_MAX - off)
        return -EFBIG;
    if ((rc = throttle(r, true, count)))
        return rc;
    ssize_t put = count ? pwritev(f->fd, r->m->wdata, (int)r->m->nwdata, (off_t)off) : 0;
    if (put < 0) {
        rc = -errno;
        refund(r, true, count);
        return rc;
    }
    refund(r, true, count - (uint64_t)put);
    r->s->stats.write_bytes += (uint64_t)put;
    p9_put32(&r->out, (uint32_t)put);
    return 0;
}

/* A linux_dirent64 as getdents64 gives it */
struct p9_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Rreaddir of the virtual root: ".", "..", then every directory grant named by its index;
 * an entry's offset is its position + 1. */
static int readdir_virtual(struct p9_req *r, uint64_t off, uint32_t count)
{
    const struct job *job = r->s->job;
    size_t count_at = r->out.off;
    p9_put32(&r->out, 0);
    uint32_t used = 0;
    for (uint64_t k = off; k < 2 + (uint64_t)job->ngrant_roots; k++) {
        char name[16];
        uint64_t qpath = P9_VIRTUAL_QID_PATH;
        if (k < 2)
            snprintf(name, sizeof name, "%s", k ? ".." : ".");
        else if (job->grant_roots[k - 2].is_file)
            continue;
        else {
            snprintf(name, sizeof name, "%u", (unsigned)(k - 2));
            qpath = P9_VIRTUAL_ENTRY_QID_PATH(k - 2);
        }
        size_t nlen = strlen(name), need = P9_QID_LEN + 8 + 1 + 2 + nlen;
        if (used + need > count)
            break;
        p9_put_qid(&r->out, P9_QTDIR, 0, qpath);
        p9_put64(&r->out, k + 1);
        p9_put8(&r->out, DT_DIR);
        p9_put_str(&r->out, name, nlen);
        used += (uint32_t)need;
    }
    le_put(r->out.p + count_at, used, 4);
    return 0;
}

int p9_readdir(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in);
    uint64_t off = p9_get64(&r->in);
    uint32_t count = p9_get32(&r->in);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *vf = p9_fid_get(&r->s->fids, fid);
    if (vf && vf->virt_open) {
        size_t room = r->out.cap - r->out.off;
        if (room < 4)
            return -ENOBUFS;
        return readdir_virtual(r, off, count < room - 4 ? count : (uint32_t)(room - 4));
    }
    struct p9_fid *f;
    int rc = io_begin(r, fid, CAP_R_LIST, &f);
    if (rc)
        return rc;
    if (!f->is_dir)
        return -ENOTDIR;
    if (off > INT64_MAX)
        return -EINVAL;
    size_t room = r->out.cap - r->out.off;
    if (room < 4)
        return -ENOBUFS;
    room -= 4;
    if (count > room)
        count = (uint32_t)room;
    if (off != f->dir_pos) {
        if (lseek(f->fd, (off_t)off, SEEK_SET) < 0)
            return -errno;
        f->dir_pos = off;
    }
    if ((rc = throttle(r, false, 0)))
        return rc;
    struct stat dst;
    if (fstat(f->fd, &dst) < 0)
        return -errno;
    size_t count_at = r->out.off;
    p9_put32(&r->out, 0);
    uint8_t buf[32768];
    size_t used = 0;
    bool full = false;
    while (!full) {
        long n = syscall(SYS_getdents64, f->fd, buf, sizeof buf);
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        for (long pos = 0; pos < n;) {
            const struct p9_dirent64 *e = (const void *)(buf + pos);
            size_t nlen = strnlen(e->d_name, e->d_reclen);
            size_t need = P9_QID_LEN + 8 + 1 + 2 + nlen;
            if (used + need > count) {
                full = true;
                break;
            }
            uint8_t qt = e->d_type == DT_DIR ? P9_QTDIR : e->d_type == DT_LNK ? P9_QTSYMLINK : P9_QTFILE;
            p9_put_qid(&r->out, qt, 0, p9_qid_path(r->s, (uint64_t)dst.st_dev, e->d_ino));
            p9_put64(&r->out, (uint64_t)e->d_off);
            p9_put8(&r->out, e->d_type);
            p9_put_str(&r->out, e->d_name, nlen);
            used += need;
            f->dir_pos = (uint64_t)e->d_off;
            pos += e->d_reclen;
        }
    }
    /* entries read but not given: the next readdir starts after the last one given */
    if (full && lseek(f->fd, (off_t)f->dir_pos, SEEK_SET) < 0)
        return -errno;
    le_put(r->out.p + count_at, used, 4);
    return 0;
}

int p9_fsync(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in), datasync = p9_get32(&r->in);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *f = p9_fid_get(&r->s->fids, fid);
    if (!f || f->fd < 0)
        return -EBADF;
    struct p9_root root;
    int rc = p9_root_begin(r, f->grant, 0, f->path, &root);
    if (rc)
        return rc;
    p9_root_end(r, &root);
    if ((rc = throttle(r, true, 0)))
        return rc;
    return (datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0 ? -errno : 0;
}

int p9_mkdir(struct p9_req *r)
{
    uint32_t dfid = p9_get32(&r->in);
    struct p9_str nm = p9_get_str(&r->in, P9_NAME_MAX);
    uint32_t mode = p9_get32(&r->in);
    p9_get32(&r->in); /* gid */
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_dir d;
    int rc = dir_begin(r, p9_fid_get(&r->s->fids, dfid), CAP_R_CREATE, &d);
    if (rc)
        return rc;
    char name[P9_NAME_MAX + 1];
    if (!(rc = name_take(r, &d, &nm, name)) && !(rc = throttle(r, true, 0))) {
        if (mkdirat(d.fd, name, mode & 01777) < 0)
            rc = -errno;
        else
            put_qid_at(r, d.fd, name);
    }
    dir_end(r, &d);
    return rc;
}

int p9_symlink(struct p9_req *r)
{
    uint32_t dfid = p9_get32(&r->in);
    struct p9_str nm = p9_get_str(&r->in, P9_NAME_MAX);
    struct p9_str target = p9_get_str(&r->in, P9_STR_MAX - 1);
    p9_get32(&r->in); /* gid */
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_dir d;
    int rc = dir_begin(r, p9_fid_get(&r->s->fids, dfid), CAP_R_CREATE, &d);
    if (rc)
        return rc;
    char name[P9_NAME_MAX + 1], tgt[P9_STR_MAX];
    memcpy(tgt, target.s, target.len);
    tgt[target.len] = 0;
    if ((rc = name_take(r, &d, &nm, name))) {
        dir_end(r, &d);
        return rc;
    }
    /* the same rule as the hypercall tier: only a link that leads downward from its own
     * directory, which no move can turn into one leading out of the grant (docs/filesystem.md) */
    if (!fsp_symlink_downward(tgt)) {
        char path[P9_PATH_MAX];
        if (p9_path_join(path, d.f->path, name, nm.len))
            path[0] = 0;
        rc = p9_deny(r, DENY_ESCAPE, -EACCES, d.f->grant, path);
    } else if (!(rc = throttle(r, true, 0))) {
        if (symlinkat(tgt, d.fd, name) < 0)
            rc = -errno;
        else
            put_qid_at(r, d.fd, name);
    }
    dir_end(r, &d);
    return rc;
}

/* The parent directory of fid f's object, opened O_PATH beneath the held root, and its name. */
static int parent_open(struct p9_req *r, const struct p9_root *root, const struct p9_fid *f,
                       char *dir, const char **name)
{
    *name = p9_path_split(f->path, dir);
    if (!*name)
        return -EBUSY; /* the grant's root itself */
    return p9_open_beneath(r, root, dir, O_PATH | O_DIRECTORY, 0);
}

int p9_link(struct p9_req *r)
{
    uint32_t dfid = p9_get32(&r->in), fid = p9_get32(&r->in);
    struct p9_str nm = p9_get_str(&r->in, P9_NAME_MAX);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *src = p9_fid_get(&r->s->fids, fid);
    if (!src)
        return -EBADF;
    struct p9_dir d;
    int rc = dir_begin(r, p9_fid_get(&r->s->fids, dfid), CAP_R_CREATE, &d);
    if (rc)
        return rc;
    char name[P9_NAME_MAX + 1], sdir[P9_PATH_MAX];
    const char *sname;
    if ((rc = name_take(r, &d, &nm, name))) {
        dir_end(r, &d);
        return rc;
    }
    /* a hard link across grants would let one grant's rights reach another's file */
    if (src->grant != d.f->grant) {
        dir_end(r, &d);
        return p9_deny(r, DENY_ESCAPE, -EXDEV, src->grant, src->path);
    }
    int sfd = parent_open(r, &d.root, src, sdir, &sname);
    if (sfd < 0)
        rc = sfd;
    else {
        if (!(rc = throttle(r, true, 0)) && linkat(sfd, sname, d.fd, name, 0) < 0)
            rc = -errno;
        close(sfd);
    }
    dir_end(r, &d);
    return rc;
}

int p9_mknod(struct p9_req *r)
{
    uint32_t dfid = p9_get32(&r->in);
    struct p9_str nm = p9_get_str(&r->in, P9_NAME_MAX);
    p9_get32(&r->in);
    p9_get32(&r->in);
    p9_get32(&r->in);
    p9_get32(&r->in);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *f = p9_fid_get(&r->s->fids, dfid);
    if (!f)
        return -EBADF;
    char path[P9_PATH_MAX];
    if (p9_path_join(path, f->path, nm.s, nm.len))
        path[0] = 0;
    /* device nodes, FIFOs and sockets are never made on the host */
    return p9_deny(r, DENY_SPECIAL, -EPERM, f->grant, path);
}

int p9_readlink(struct p9_req *r)
{
    struct p9_fid *f;
    int rc = p9_take_fid(r, &f);
    if (rc)
        return rc;
    struct p9_root root;
    rc = p9_root_begin(r, f->grant, CAP_R_STAT, f->path, &root);
    if (rc)
        return rc;
    char dir[P9_PATH_MAX], tgt[P9_STR_MAX];
    const char *name;
    int dfd = parent_open(r, &root, f, dir, &name);
    ssize_t n = -1;
    if (dfd == -EBUSY)
        rc = -EINVAL;
    else if (dfd < 0)
        rc = dfd;
    else {
        n = readlinkat(dfd, name, tgt, sizeof tgt);
        rc = n < 0 ? -errno : (size_t)n >= sizeof tgt ? -ENAMETOOLONG : 0;
        close(dfd);
    }
    p9_root_end(r, &root);
    if (rc)
        return rc;
    p9_put_str(&r->out, tgt, (size_t)n);
    return 0;
}

int p9_unlinkat(struct p9_req *r)
{
    uint32_t dfid = p9_get32(&r->in);
    struct p9_str nm = p9_get_str(&r->in, P9_NAME_MAX);
    uint32_t flags = p9_get32(&r->in);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    if (flags & ~(uint32_t)P9_AT_REMOVEDIR)
        return -EINVAL;
    struct p9_dir d;
    int rc = dir_begin(r, p9_fid_get(&r->s->fids, dfid), CAP_R_DELETE, &d);
    if (rc)
        return rc;
    char name[P9_NAME_MAX + 1];
    if (!(rc = name_take(r, &d, &nm, name)) && !(rc = throttle(r, true, 0)) &&
        unlinkat(d.fd, name, flags & P9_AT_REMOVEDIR ? AT_REMOVEDIR : 0) < 0)
        rc = -errno;
    dir_end(r, &d);
    return rc;
}

/* Rename olddir/oldname to newdir/newname: the old directory's grant needs delete, the new
 * one's create; fids on the old name (and beneath it) follow. */
static int rename_in(struct p9_req *r, struct p9_fid *odir, const char *oname, size_t olen,
                     struct p9_fid *ndir, const struct p9_str *nname)
{
    struct p9_dir o, n;
    int rc = dir_begin(r, odir, CAP_R_DELETE, &o);
    if (rc)
        return rc;
    if ((rc = dir_begin(r, ndir, CAP_R_CREATE, &n))) {
        dir_end(r, &o);
        return rc;
    }
    char name[P9_NAME_MAX + 1], from[P9_PATH_MAX], to[P9_PATH_MAX];
    struct p9_str os = { oname, (uint16_t)olen };
    if (!(rc = name_take(r, &o, &os, from)) && !(rc = name_take(r, &n, nname, name)) &&
        !(rc = throttle(r, true, 0))) {
        if (syscall(SYS_renameat2, o.fd, from, n.fd, name, 0) < 0)
            rc = -errno;
    }
    if (!rc && !p9_path_join(from, o.f->path, oname, olen) && !p9_path_join(to, n.f->path, name, nname->len))
        p9_fids_renamed(&r->s->fids, o.f->grant, from, n.f->grant, to);
    dir_end(r, &n);
    dir_end(r, &o);
    return rc;
}

int p9_renameat(struct p9_req *r)
{
    uint32_t ofid = p9_get32(&r->in);
    struct p9_str oname = p9_get_str(&r->in, P9_NAME_MAX);
    uint32_t nfid = p9_get32(&r->in);
    struct p9_str nname = p9_get_str(&r->in, P9_NAME_MAX);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *o = p9_fid_get(&r->s->fids, ofid), *n = p9_fid_get(&r->s->fids, nfid);
    if (!o || !n)
        return -EBADF;
    return rename_in(r, o, oname.s, oname.len, n, &nname);
}

int p9_rename(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in), dfid = p9_get32(&r->in);
    struct p9_str nname = p9_get_str(&r->in, P9_NAME_MAX);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *f = p9_fid_get(&r->s->fids, fid), *n = p9_fid_get(&r->s->fids, dfid);
    if (!f || !n)
        return -EBADF;
    char dir[P9_PATH_MAX];
    const char *oname = p9_path_split(f->path, dir);
    if (!oname)
        return -EBUSY;
    /* the old directory as a fid of its own: never in the table, never seen by the guest */
    char oname_copy[P9_NAME_MAX + 1];
    snprintf(oname_copy, sizeof oname_copy, "%s", oname);
    struct p9_fid od = { .fid = P9_NOFID, .grant = f->grant, .path = dir, .fd = -1 };
    return rename_in(r, &od, oname_copy, strlen(oname_copy), n, &nname);
}

int p9_remove(struct p9_req *r)
{
    struct p9_fid *f;
    int rc = p9_take_fid(r, &f);
    if (rc)
        return rc;
    uint32_t fid = f->fid;
    struct p9_root root;
    rc = p9_root_begin(r, f->grant, CAP_R_DELETE, f->path, &root);
    if (!rc) {
        char dir[P9_PATH_MAX];
        const char *name;
        int dfd = parent_open(r, &root, f, dir, &name);
        if (dfd < 0)
            rc = dfd;
        else {
            struct stat st;
            if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                unlinkat(dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
                rc = -errno;
            close(dfd);
        }
        p9_root_end(r, &root);
    }
    p9_fid_drop(&r->s->fids, fid); /* Tremove clunks the fid whatever happens */
    return rc;
}
