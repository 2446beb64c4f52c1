/* The 9P2000.L server's core: dispatch, version, attach, walk, clunk, getattr, setattr, statfs, and the grant's root checked live for every request. */
#include "vmm/share/p9_server.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "devices/virtio/le.h"
#include "lib/clock.h"
#include "vmm/caps/audit.h"
#include "vmm/caps/cap.h"
#include "vmm/caps/grants.h"
#include "vmm/share/p9_internal.h"

#define P9_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
#define P9_VERSION "9P2000.L"

/* Tsetattr's valid bits and Tgetattr's basic mask */
#define P9_SETATTR_MODE      0x1u
#define P9_SETATTR_UID       0x2u
#define P9_SETATTR_GID       0x4u
#define P9_SETATTR_SIZE      0x8u
#define P9_SETATTR_ATIME     0x10u
#define P9_SETATTR_MTIME     0x20u
#define P9_SETATTR_ATIME_SET 0x80u
#define P9_SETATTR_MTIME_SET 0x100u
#define P9_GETATTR_BASIC     0x7ffull

void p9_server_init(struct p9_server *s, struct job *job)
{
    memset(s, 0, sizeof *s);
    s->job = job;
    p9_fids_init(&s->fids);
    s->start_sec = (uint64_t)time(NULL);
    for (unsigned g = 0; g < job->ngrant_roots && g < POLICY_MAX_GRANTS; g++) {
        const struct cap *c = cap_get(job->caps, job->grant_roots[g].slot, job->grant_roots[g].gen);
        if (!c || c->host_fd < 0 || fstat(c->host_fd, &s->root_st[g]) < 0)
            memset(&s->root_st[g], 0, sizeof s->root_st[g]);
    }
}

void p9_server_fini(struct p9_server *s)
{
    p9_fids_clear(&s->fids);
}

/* ---- paths ---- */

int p9_path_join(char *dst, const char *dir, const char *name, size_t name_len)
{
    size_t d = strlen(dir);
    if (d + 1 + name_len + 1 > P9_PATH_MAX)
        return -ENAMETOOLONG;
    size_t o = 0;
    if (d) {
        memmove(dst, dir, d);
        dst[d] = '/';
        o = d + 1;
    }
    memcpy(dst + o, name, name_len);
    dst[o + name_len] = 0;
    return 0;
}

const char *p9_path_split(const char *path, char *dir)
{
    if (!path[0])
        return NULL;
    const char *slash = strrchr(path, '/');
    if (!slash) {
        dir[0] = 0;
        return path;
    }
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    return slash + 1;
}

uint64_t p9_qid_path(struct p9_server *s, uint64_t dev, uint64_t ino)
{
    unsigned i = 0;
    while (i < s->ndevs && s->devs[i] != dev)
        i++;
    if (i == s->ndevs) {
        if (s->ndevs < P9_DEVS_MAX)
            s->devs[s->ndevs++] = dev;
        else
            i = P9_DEVS_MAX - 1;
    }
    /* index 0 is the virtual root's */
    return (uint64_t)(i + 1) << 56 | (ino & ((1ull << 56) - 1));
}

void p9_put_stat_qid(struct p9_req *r, const struct stat *st)
{
    uint8_t type = S_ISDIR(st->st_mode) ? P9_QTDIR : S_ISLNK(st->st_mode) ? P9_QTSYMLINK : P9_QTFILE;
    p9_put_qid(&r->out, type, (uint32_t)(st->st_mtime ^ (st->st_size << 8)),
               p9_qid_path(r->s, (uint64_t)st->st_dev, (uint64_t)st->st_ino));
}

/* ---- the virtual root: every grant as an entry named by its index ---- */

void p9_put_virtual_qid(struct p9_req *r)
{
    p9_put_qid(&r->out, P9_QTDIR, 0, P9_VIRTUAL_QID_PATH);
}

/* The grant named `nm` in the virtual root: its index, or -1 (not a decimal index of a
 * directory grant). */
static int virtual_entry(const struct p9_server *s, const struct p9_str *nm)
{
    if (nm->len == 0 || nm->len > 2 || (nm->len == 2 && nm->s[0] == '0'))
        return -1;
    unsigned g = 0;
    for (unsigned i = 0; i < nm->len; i++) {
        if (nm->s[i] < '0' || nm->s[i] > '9')
            return -1;
        g = g * 10 + (unsigned)(nm->s[i] - '0');
    }
    if (g >= s->job->ngrant_roots || s->job->grant_roots[g].is_file)
        return -1;
    return (int)g;
}

int p9_take_fid(struct p9_req *r, struct p9_fid **out)
{
    uint32_t fid = p9_get32(&r->in);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    *out = p9_fid_get(&r->s->fids, fid);
    return *out ? 0 : -EBADF;
}

/* ---- the grant's root, checked live for each request ---- */

static void guest_path(const struct job *job, unsigned g, const char *path, char *buf, size_t len)
{
    const char *gp = g < job->policy.ngrants ? job->policy.grants[g].guest : "";
    snprintf(buf, len, "%s%s%s", gp, path && path[0] ? "/" : "", path ? path : "");
}

int p9_deny(struct p9_req *r, enum deny_kind kind, int err, unsigned g, const char *path)
{
    struct job *job = r->s->job;
    char gp[P9_PATH_MAX + POLICY_GUEST_PATH_MAX];
    guest_path(job, g, path, gp, sizeof gp);
    pthread_mutex_lock(&job->lock);
    uint32_t slot = g < job->ngrant_roots ? job->grant_roots[g].slot : CAP_NONE;
    audit_deny(job, kind, r->nr, -err, slot, gp); /* the audit log takes a positive errno */
    pthread_mutex_unlock(&job->lock);
    return err;
}

int p9_root_begin(struct p9_req *r, unsigned g, uint32_t need, const char *path, struct p9_root *root)
{
    struct job *job = r->s->job;
    if (g == P9_GRANT_VIRTUAL)
        return -EACCES; /* the grants' own root: nothing but walking and listing */
    if (g >= job->ngrant_roots)
        return -ENOENT;
    const struct grant_root *gr = &job->grant_roots[g];
    bool newly = false;
    pthread_mutex_lock(&job->lock);
    int rc = cap_check(job->caps, gr->slot, gr->gen, need, mono_ns(), &newly);
    if (rc == 0) {
        root->grant = g;
        root->slot = gr->slot;
        root->fd = cap_io_begin(job->caps, gr->slot);
        if (root->fd < 0)
            rc = root->fd;
    }
    if (newly)
        audit_cap(job, "expire", gr->slot, -1, r->nr, "expiry");
    pthread_mutex_unlock(&job->lock);
    if (rc == -EBADF)
        rc = -EKEYREVOKED; /* the root's slot was freed: it was revoked */
    if (rc < 0)
        return p9_deny(r, rc == -EACCES ? DENY_RIGHTS : rc == -EKEYEXPIRED ? DENY_EXPIRED : DENY_REVOKED,
                       rc, g, path);
    return 0;
}

void p9_root_end(struct p9_req *r, struct p9_root *root)
{
    struct job *job = r->s->job;
    pthread_mutex_lock(&job->lock);
    cap_io_end(job->caps, root->slot);
    pthread_mutex_unlock(&job->lock);
    root->fd = -1;
}

int p9_open_beneath(struct p9_req *r, const struct p9_root *root, const char *path, int flags, unsigned mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = P9_RESOLVE,
    };
    long fd = syscall(SYS_openat2, root->fd, path[0] ? path : ".", &how, sizeof how);
    if (fd >= 0)
        return (int)fd;
    int e = errno;
    if (e == EXDEV)
        return p9_deny(r, DENY_ESCAPE, -EACCES, root->grant, path);
    if (e == ELOOP && !(flags & O_NOFOLLOW))
        return p9_deny(r, DENY_ESCAPE, -EACCES, root->grant, path);
    return -e;
}

/* lstat of a path beneath the held root (never following its last component). */
static int stat_beneath(struct p9_req *r, const struct p9_root *root, const char *path, struct stat *st)
{
    int fd = p9_open_beneath(r, root, path, O_PATH | O_NOFOLLOW, 0);
    if (fd < 0)
        return fd;
    int rc = fstat(fd, st) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* ---- the requests ---- */

static int p9_version(struct p9_req *r)
{
    uint32_t msize = p9_get32(&r->in);
    struct p9_str v = p9_get_str(&r->in, P9_STR_MAX);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    if (msize < P9_MSIZE_MIN)
        return -EINVAL;
    p9_fids_clear(&r->s->fids); /* a new session: every fid of the old one is gone */
    bool ok = v.len == strlen(P9_VERSION) && memcmp(v.s, P9_VERSION, v.len) == 0;
    r->s->msize = ok ? (msize < P9_MSIZE_MAX ? msize : P9_MSIZE_MAX) : 0;
    p9_put32(&r->out, msize < P9_MSIZE_MAX ? msize : P9_MSIZE_MAX);
    p9_put_str(&r->out, ok ? P9_VERSION : "unknown", strlen(ok ? P9_VERSION : "unknown"));
    return 0;
}

static int p9_attach(struct p9_req *r)
{
    int rc;
    uint32_t fid = p9_get32(&r->in), afid = p9_get32(&r->in);
    p9_get_str(&r->in, P9_STR_MAX); /* uname: the guest's user, not the host's: ignored */
    struct p9_str aname = p9_get_str(&r->in, P9_STR_MAX);
    p9_get32(&r->in);               /* n_uname */
    if (!p9_in_done(&r->in))
        return -EPROTO;
    if (afid != P9_NOFID)
        return -EINVAL;
    /* aname "": the grants' own root, each grant an entry named by its index (how the init
     * mounts them: one mount, one bind mount per grant); else a grant's guest path */
    if (aname.len == 0) {
        if (!p9_fid_new(&r->s->fids, fid, P9_GRANT_VIRTUAL, "", &rc))
            return rc;
        p9_put_virtual_qid(r);
        return 0;
    }
    const struct policy *p = &r->s->job->policy;
    unsigned g = 0;
    for (; g < p->ngrants; g++)
        if (strlen(p->grants[g].guest) == aname.len && memcmp(p->grants[g].guest, aname.s, aname.len) == 0)
            break;
    if (g == p->ngrants || g >= r->s->job->ngrant_roots || r->s->job->grant_roots[g].is_file)
        return -ENOENT;
    struct p9_root root;
    if ((rc = p9_root_begin(r, g, 0, "", &root)))
        return rc;
    struct stat st;
    rc = fstat(root.fd, &st) < 0 ? -errno : 0;
    p9_root_end(r, &root);
    if (rc)
        return rc;
    if (!p9_fid_new(&r->s->fids, fid, g, "", &rc))
        return rc;
    p9_put_stat_qid(r, &st);
    return 0;
}

static int p9_walk(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in), newfid = p9_get32(&r->in);
    uint16_t n = p9_get16(&r->in);
    struct p9_str names[P9_MAXWELEM];
    if (n > P9_MAXWELEM)
        return -EPROTO;
    for (unsigned i = 0; i < n; i++)
        names[i] = p9_get_str(&r->in, P9_NAME_MAX);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *f = p9_fid_get(&r->s->fids, fid);
    if (!f || (newfid != fid && p9_fid_get(&r->s->fids, newfid)))
        return -EBADF;
    char path[P9_PATH_MAX], dir[P9_PATH_MAX];
    snprintf(path, sizeof path, "%s", f->path);
    unsigned g = f->grant, done = 0;
    int rc = 0;
    p9_put16(&r->out, 0); /* nwqid, set below */
    /* the virtual root's own names: ".." (itself) and the grants' indexes */
    while (g == P9_GRANT_VIRTUAL && done < n) {
        const struct p9_str *nm = &names[done];
        if (nm->len == 2 && nm->s[0] == '.' && nm->s[1] == '.') {
            p9_put_virtual_qid(r);
            done++;
            continue;
        }
        int e = virtual_entry(r->s, nm);
        if (e < 0) {
            rc = -ENOENT;
            break;
        }
        /* the grant's root as it was at launch: no host access, no live check (a revoked
         * grant still mounts; everything beneath it is refused) */
        g = (unsigned)e;
        path[0] = 0;
        p9_put_stat_qid(r, &r->s->root_st[g]);
        done++;
    }
    if (!rc && done < n) {
        struct p9_root root;
        if ((rc = p9_root_begin(r, g, 0, path, &root)))
            return done ? 0 : rc;
        for (; done < n; done++) {
            const struct p9_str *nm = &names[done];
            if (nm->len == 2 && nm->s[0] == '.' && nm->s[1] == '.') {
                /* ".." never climbs above the grant's root (Plan 9's lexical "..") */
                if (p9_path_split(path, dir))
                    memcpy(path, dir, strlen(dir) + 1);
            } else if (!p9_name_ok(nm)) {
                rc = p9_deny(r, DENY_ESCAPE, -EINVAL, g, path);
                break;
            } else if ((rc = p9_path_join(path, path, nm->s, nm->len))) {
                break;
            }
            struct stat st;
            if ((rc = stat_beneath(r, &root, path, &st)))
                break;
            p9_put_stat_qid(r, &st);
            if (done + 1 < n && !S_ISDIR(st.st_mode)) {
                done++;
                rc = -ENOTDIR;
                break;
            }
        }
        p9_root_end(r, &root);
    }
    if (done == 0 && n)
        return rc;
    le_put(r->out.p + P9_HDR_LEN, done, 2);
    if (done < n)
        return 0; /* a partial walk: newfid is not made */
    if (newfid == fid) {
        if ((rc = p9_fid_set_path(f, path)) == 0)
            f->grant = g;
        return rc;
    }
    return p9_fid_new(&r->s->fids, newfid, g, path, &rc) ? 0 : rc;
}

static int p9_clunk(struct p9_req *r)
{
    struct p9_fid *f;
    int rc = p9_take_fid(r, &f);
    if (rc == 0)
        p9_fid_drop(&r->s->fids, f->fid);
    return rc;
}

static int put_attr(struct p9_req *r, const struct stat *st, bool virtual);

static int p9_getattr(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in);
    p9_get64(&r->in); /* request_mask: the basic set is always given */
    if (!p9_in_done(&r->in))
        return -EPROTO;
    struct p9_fid *f = p9_fid_get(&r->s->fids, fid);
    if (!f)
        return -EBADF;
    struct stat st;
    if (f->grant == P9_GRANT_VIRTUAL) { /* the grants' own root: a read-only directory */
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFDIR | 0555;
        st.st_nlink = 2;
        st.st_blksize = 4096;
        st.st_atim.tv_sec = st.st_mtim.tv_sec = st.st_ctim.tv_sec = (time_t)r->s->start_sec;
        return put_attr(r, &st, true);
    }
    if (!f->path[0] && f->fd < 0 && f->grant < POLICY_MAX_GRANTS) /* a root: as at launch */
        return put_attr(r, &r->s->root_st[f->grant], false);
    struct p9_root root;
    int rc = p9_root_begin(r, f->grant, CAP_R_STAT, f->path, &root);
    if (rc)
        return rc;
    if (f->fd >= 0)
        rc = fstat(f->fd, &st) < 0 ? -errno : 0;
    else
        rc = stat_beneath(r, &root, f->path, &st);
    p9_root_end(r, &root);
    if (rc)
        return rc;
    return put_attr(r, &st, false);
}

/* Rgetattr's fields from st (virtual: the virtual root's qid). */
static int put_attr(struct p9_req *r, const struct stat *st_, bool virtual)
{
    const struct stat st = *st_;
    struct p9_out *o = &r->out;
    p9_put64(o, P9_GETATTR_BASIC);
    if (virtual)
        p9_put_virtual_qid(r);
    else
        p9_put_stat_qid(r, &st);
    p9_put32(o, st.st_mode);
    p9_put32(o, st.st_uid);
    p9_put32(o, st.st_gid);
    p9_put64(o, st.st_nlink);
    p9_put64(o, st.st_rdev);
    p9_put64(o, (uint64_t)st.st_size);
    p9_put64(o, (uint64_t)st.st_blksize);
    p9_put64(o, (uint64_t)st.st_blocks);
    p9_put64(o, (uint64_t)st.st_atim.tv_sec);
    p9_put64(o, (uint64_t)st.st_atim.tv_nsec);
    p9_put64(o, (uint64_t)st.st_mtim.tv_sec);
    p9_put64(o, (uint64_t)st.st_mtim.tv_nsec);
    p9_put64(o, (uint64_t)st.st_ctim.tv_sec);
    p9_put64(o, (uint64_t)st.st_ctim.tv_nsec);
    for (int i = 0; i < 4; i++)
        p9_put64(o, 0); /* btime, gen, data_version: not given */
    return 0;
}

/* Tsetattr on the grant's root itself (no parent beneath it): through its own descriptor. */
static int setattr_root(int fd, uint32_t valid, uint32_t mode, uint32_t uid, uint32_t gid,
                        const struct timespec ts[2])
{
    if ((valid & P9_SETATTR_SIZE))
        return -EISDIR;
    if ((valid & P9_SETATTR_MODE) && fchmod(fd, mode & 07777) < 0)
        return -errno;
    if ((valid & (P9_SETATTR_UID | P9_SETATTR_GID)) &&
        fchown(fd, valid & P9_SETATTR_UID ? uid : (uint32_t)-1, valid & P9_SETATTR_GID ? gid : (uint32_t)-1) < 0)
        return -errno;
    if ((valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) && futimens(fd, ts) < 0)
        return -errno;
    return 0;
}

static int p9_setattr(struct p9_req *r)
{
    uint32_t fid = p9_get32(&r->in), valid = p9_get32(&r->in), mode = p9_get32(&r->in),
             uid = p9_get32(&r->in), gid = p9_get32(&r->in);
    uint64_t size = p9_get64(&r->in);
    struct timespec ts[2];
    for (int i = 0; i < 2; i++) {
        uint64_t sec = p9_get64(&r->in), nsec = p9_get64(&r->in);
        ts[i].tv_sec = (time_t)(sec > INT64_MAX ? INT64_MAX : sec);
        ts[i].tv_nsec = (long)(nsec % 1000000000u);
    }
    if (!p9_in_done(&r->in))
        return -EPROTO;
    if ((valid & P9_SETATTR_SIZE) && size > INT64_MAX)
        return -EFBIG;
    ts[0].tv_nsec = !(valid & P9_SETATTR_ATIME) ? UTIME_OMIT : (valid & P9_SETATTR_ATIME_SET) ? ts[0].tv_nsec : UTIME_NOW;
    ts[1].tv_nsec = !(valid & P9_SETATTR_MTIME) ? UTIME_OMIT : (valid & P9_SETATTR_MTIME_SET) ? ts[1].tv_nsec : UTIME_NOW;
    struct p9_fid *f = p9_fid_get(&r->s->fids, fid);
    if (!f)
        return -EBADF;
    uint32_t need = 0;
    if (valid & P9_SETATTR_SIZE)
        need |= CAP_R_TRUNCATE;
    if (valid & (P9_SETATTR_MODE | P9_SETATTR_UID | P9_SETATTR_GID | P9_SETATTR_ATIME | P9_SETATTR_MTIME))
        need |= CAP_R_WRITE;
    r->nr = valid & P9_SETATTR_SIZE ? SYS_ftruncate : valid & P9_SETATTR_MODE ? SYS_fchmodat
          : valid & (P9_SETATTR_UID | P9_SETATTR_GID) ? SYS_fchownat : SYS_utimensat;
    struct p9_root root;
    int rc = p9_root_begin(r, f->grant, need, f->path, &root);
    if (rc)
        return rc;
    char dir[P9_PATH_MAX];
    const char *name = p9_path_split(f->path, dir);
    if (!name) {
        rc = setattr_root(root.fd, valid, mode, uid, gid, ts);
        p9_root_end(r, &root);
        return rc;
    }
    int dfd = p9_open_beneath(r, &root, dir, O_PATH | O_DIRECTORY, 0);
    if (dfd < 0) {
        p9_root_end(r, &root);
        return dfd;
    }
    struct stat st;
    /* the requests are served one at a time: nothing the guest does can swap the name for a
     * symlink between this check and the calls below (docs/filesystem.md) */
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        rc = -errno;
    else if (S_ISLNK(st.st_mode) && (valid & (P9_SETATTR_MODE | P9_SETATTR_SIZE)))
        rc = -EOPNOTSUPP;
    if (!rc && (valid & P9_SETATTR_SIZE)) {
        bool writable = f->fd >= 0 && (f->open_flags & O_ACCMODE) != O_RDONLY && !f->is_dir;
        int fd = writable ? f->fd : openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            rc = -errno;
        else {
            if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                rc = -EINVAL;
            else if (ftruncate(fd, (off_t)size) < 0)
                rc = -errno;
            if (fd != f->fd)
                close(fd);
        }
    }
    if (!rc && (valid & P9_SETATTR_MODE) && fchmodat(dfd, name, mode & 07777, 0) < 0)
        rc = -errno;
    if (!rc && (valid & (P9_SETATTR_UID | P9_SETATTR_GID)) &&
        fchownat(dfd, name, valid & P9_SETATTR_UID ? uid : (uint32_t)-1,
                 valid & P9_SETATTR_GID ? gid : (uint32_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
        rc = -errno;
    if (!rc && (valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) &&
        utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        rc = -errno;
    close(dfd);
    p9_root_end(r, &root);
    return rc;
}

static int p9_statfs(struct p9_req *r)
{
    struct p9_fid *f;
    int trc = p9_take_fid(r, &f);
    if (trc)
        return trc;
    struct statfs sf;
    memset(&sf, 0, sizeof sf);
    if (f->grant == P9_GRANT_VIRTUAL) {
        sf.f_type = 0x01021997; /* V9FS_MAGIC */
        sf.f_bsize = 4096;
        sf.f_namelen = P9_NAME_MAX;
    } else {
        struct p9_root root;
        int rc = p9_root_begin(r, f->grant, CAP_R_STAT, f->path, &root);
        if (rc)
            return rc;
        rc = fstatfs(root.fd, &sf) < 0 ? -errno : 0;
        p9_root_end(r, &root);
        if (rc)
            return rc;
    }
    struct p9_out *o = &r->out;
    p9_put32(o, (uint32_t)sf.f_type);
    p9_put32(o, (uint32_t)sf.f_bsize);
    p9_put64(o, sf.f_blocks);
    p9_put64(o, sf.f_bfree);
    p9_put64(o, sf.f_bavail);
    p9_put64(o, sf.f_files);
    p9_put64(o, sf.f_ffree);
    uint64_t fsid;
    memcpy(&fsid, &sf.f_fsid, sizeof fsid);
    p9_put64(o, fsid);
    p9_put32(o, (uint32_t)sf.f_namelen);
    return 0;
}

/* Tlock: locks are the guest's own business (its kernel serialises its processes); the host
 * file is never locked, so no request can block the server. Tgetlock: never locked here. */
static int p9_lock(struct p9_req *r)
{
    p9_get32(&r->in);
    p9_get8(&r->in);
    p9_get32(&r->in);
    p9_get64(&r->in);
    p9_get64(&r->in);
    p9_get32(&r->in);
    p9_get_str(&r->in, P9_STR_MAX);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    p9_put8(&r->out, 0); /* P9_LOCK_SUCCESS */
    return 0;
}

static int p9_getlock(struct p9_req *r)
{
    p9_get32(&r->in);
    p9_get8(&r->in);
    uint64_t start = p9_get64(&r->in), length = p9_get64(&r->in);
    uint32_t proc = p9_get32(&r->in);
    struct p9_str client = p9_get_str(&r->in, P9_STR_MAX);
    if (!p9_in_done(&r->in))
        return -EPROTO;
    p9_put8(&r->out, F_UNLCK);
    p9_put64(&r->out, start);
    p9_put64(&r->out, length);
    p9_put32(&r->out, proc);
    p9_put_str(&r->out, client.s, client.len);
    return 0;
}

static int p9_flush(struct p9_req *r)
{
    p9_get16(&r->in); /* oldtag: every request is answered before the next is read */
    return p9_in_done(&r->in) ? 0 : -EPROTO;
}

/* ---- dispatch ---- */

struct p9_op {
    int (*fn)(struct p9_req *r);
    uint64_t nr;        /* the syscall it stands for in audit lines */
    bool needs_session; /* only after Tversion */
};

static const struct p9_op ops[256] = {
    [P9_TVERSION] = { p9_version, UINT64_MAX, false },
    [P9_TATTACH] = { p9_attach, SYS_openat, true },
    [P9_TWALK] = { p9_walk, SYS_openat, true },
    [P9_TCLUNK] = { p9_clunk, SYS_close, true },
    [P9_TGETATTR] = { p9_getattr, SYS_newfstatat, true },
    [P9_TSETATTR] = { p9_setattr, SYS_utimensat, true },
    [P9_TSTATFS] = { p9_statfs, SYS_fstatfs, true },
    [P9_TLOCK] = { p9_lock, SYS_fcntl, true },
    [P9_TGETLOCK] = { p9_getlock, SYS_fcntl, true },
    [P9_TFLUSH] = { p9_flush, UINT64_MAX, true },
    [P9_TLOPEN] = { p9_lopen, SYS_openat, true },
    [P9_TLCREATE] = { p9_lcreate, SYS_openat, true },
    [P9_TREAD] = { p9_read, SYS_pread64, true },
    [P9_TWRITE] = { p9_write, SYS_pwrite64, true },
    [P9_TREADDIR] = { p9_readdir, SYS_getdents64, true },
    [P9_TFSYNC] = { p9_fsync, SYS_fsync, true },
    [P9_TMKDIR] = { p9_mkdir, SYS_mkdirat, true },
    [P9_TSYMLINK] = { p9_symlink, SYS_symlinkat, true },
    [P9_TLINK] = { p9_link, SYS_linkat, true },
    [P9_TMKNOD] = { p9_mknod, SYS_mknodat, true },
    [P9_TREADLINK] = { p9_readlink, SYS_readlinkat, true },
    [P9_TUNLINKAT] = { p9_unlinkat, SYS_unlinkat, true },
    [P9_TRENAMEAT] = { p9_renameat, SYS_renameat2, true },
    [P9_TRENAME] = { p9_rename, SYS_renameat2, true },
    [P9_TREMOVE] = { p9_remove, SYS_unlinkat, true },
};

static size_t p9_error(struct p9_req *r, int err)
{
    p9_out_begin(&r->out, r->m->reply, r->m->reply_cap, P9_RLERROR, r->tag);
    p9_put32(&r->out, (uint32_t)-err);
    r->rdata_len = 0;
    return p9_out_end(&r->out);
}

size_t p9_server_handle(struct p9_server *s, const struct p9_msg *m)
{
    struct p9_req r = { .s = s, .m = m, .tag = P9_NOTAG };
    s->stats.requests++;
    p9_in_init(&r.in, m->req, m->req_len);
    uint32_t size = p9_get32(&r.in);
    r.type = p9_get8(&r.in);
    r.tag = p9_get16(&r.in);
    if (r.in.bad || size != m->size) {
        s->stats.malformed++;
        s->stats.errors++;
        return p9_error(&r, -EPROTO);
    }
    const struct p9_op *op = (r.type & 1) ? NULL : &ops[r.type];
    if (!op || !op->fn) {
        s->stats.errors++;
        /* Txattrwalk, Txattrcreate, Tauth and the legacy 9P2000 requests: not served */
        return p9_error(&r, -EOPNOTSUPP);
    }
    if (op->needs_session && !s->msize) {
        s->stats.errors++;
        return p9_error(&r, -EPROTO);
    }
    r.nr = op->nr;
    if (r.type == P9_TREAD)
        s->stats.reads++;
    else if (r.type == P9_TWRITE)
        s->stats.writes++;
    else
        s->stats.metadata++;
    p9_out_begin(&r.out, m->reply, m->reply_cap, (uint8_t)(r.type + 1), r.tag);
    int rc = op->fn(&r);
    if (rc == -EPROTO)
        s->stats.malformed++;
    if (rc < 0) {
        s->stats.errors++;
        return p9_error(&r, rc);
    }
    size_t len = p9_out_end(&r.out);
    if (!len) {
        s->stats.errors++;
        return p9_error(&r, -ENOBUFS);
    }
    if (r.type == P9_TREAD) { /* the data follows the header in guest RAM: the size covers it */
        len += r.rdata_len;
        le_put(m->reply, len, 4);
    }
    return len;
}
