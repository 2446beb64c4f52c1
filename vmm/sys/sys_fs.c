/* The job's file-system view: stat, open, access, listing, seek, truncate, sync via grants. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "vmm/caps/audit.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/caps/fd.h"
#include "vmm/caps/fs_path.h"
#include "vmm/caps/grants.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_io.h"
#include "vmm/sys/fs_target.h"

/* ------------------------------------------------------------------------------------------ */
/* stat */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int stat_out(struct job *job, const struct sc_call *c, uint64_t gva, const struct stat *st)
{
    (void)job;
    _Static_assert(sizeof *st == 144, "x86-64 struct stat");
    return gmem_copy_to(sc_gm(c), gva, st, sizeof *st);
}

/* The job's view of a host stat: the host's kind, size, links, inode and times; owner root,
 * device the grant's number, write bits cleared without the WRITE right. */
static int stat_host(struct job *job, const struct sc_call *c, uint64_t gva, const struct stat *host, int grant,
                     uint32_t rights)
{
    struct stat st = *host;
    st.st_uid = 0;
    st.st_gid = 0;
    st.st_dev = (dev_t)(grant + 1);
    st.st_rdev = 0;
    (void)rights; /* the mode is the file's, as Linux shows it on a read-only mount too (a
                   * copy made from it keeps the bits); what the job may do is its rights' */
    return stat_out(job, c, gva, &st);
}

/* "/" and the directories above grants: read-only, empty-looking directories. */
static int stat_virtual(struct job *job, const struct sc_call *c, uint64_t gva, const char *path)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
    st.st_ino = strcmp(path, "/") == 0 ? 2 : fnv1a(path) | 0x80000000u;
    st.st_blksize = 4096;
    return stat_out(job, c, gva, &st);
}

/* The console: made up, nothing of the host's identity. */
static int stat_console(struct job *job, const struct sc_call *c, const struct cap *e, int fd, uint64_t gva)
{
    struct stat host;
    if (fstat(e->host_fd, &host) < 0)
        return -errno;
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_ino = (ino_t)fd + 1;
    st.st_nlink = 1;
    st.st_mode = (host.st_mode & S_IFMT) | ((e->rights & CAP_R_READ) ? 0400 : 0) |
                 ((e->rights & CAP_R_WRITE) ? 0200 : 0);
    if (S_ISREG(host.st_mode))
        st.st_size = host.st_size;
    st.st_blksize = 4096;
    return stat_out(job, c, gva, &st);
}

static int64_t stat_fd(struct job *job, struct sc_call *c, uint64_t fd, uint64_t gva)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, fd, CAP_R_STAT, &e, &slot);
    if (rc)
        return rc;
    if (cap_is_stream(e))
        return stat_console(job, c, e, (int)fd, gva);
    struct stat host;
    if (fstat(e->host_fd, &host) < 0)
        return -errno;
    return stat_host(job, c, gva, &host, fs_grant_of_slot(job, slot), e->rights);
}

static int64_t stat_path(struct job *job, struct sc_call *c, uint64_t dirfd, const char *raw,
                         uint64_t gva, bool nofollow)
{
    struct fs_target t;
    int rc = fs_resolve(job, c, dirfd, raw, &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t))
        return stat_virtual(job, c, gva, t.guest);
    if ((rc = fs_target_need(job, c, &t, CAP_R_STAT)))
        return rc;
    struct stat host;
    if (t.file_grant || !t.rest[0]) {
        if (fstat(t.cap->host_fd, &host) < 0)
            return -errno;
    } else if (nofollow) {
        const char *last;
        int pfd = fs_target_parent(job, c, &t, &last);
        if (pfd < 0)
            return pfd;
        rc = fstatat(pfd, last, &host, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
        close(pfd);
        if (rc)
            return rc;
    } else {
        int fd = fs_target_open(job, c, &t, O_PATH, 0);
        if (fd < 0)
            return fd;
        rc = fstat(fd, &host) < 0 ? -errno : 0;
        close(fd);
        if (rc)
            return rc;
    }
    return stat_host(job, c, gva, &host, t.grant, t.cap->rights);
}

static int64_t stat_gva(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                        uint64_t gva, bool nofollow)
{
    char raw[PATH_MAX];
    long n = fs_path_copy(c, path, raw);
    if (n < 0)
        return n;
    return stat_path(job, c, dirfd, raw, gva, nofollow);
}

int64_t sys_fstat(struct job *job, struct sc_call *c)
{
    return stat_fd(job, c, c->a[0], c->a[1]);
}

/* ------------------------------------------------------------------------------------------ */
/* statfs: the file system a grant is on, as the job may see it (docs/filesystem.md) */

#define STATFS_VALID 0x0020 /* the kernel's ST_VALID: f_flags is filled in */

/* The host's figures for a grant's file system, with the host's identity left out: f_fsid is
 * the grant's number (as st_dev), the flags say read-only when the capability cannot write,
 * and always nosuid and nodev. */
static int statfs_out(struct job *job, const struct sc_call *c, uint64_t gva, const struct statfs *host, int grant,
                      uint32_t rights)
{
    (void)job;
    struct statfs s = *host;
    memset(&s.f_fsid, 0, sizeof s.f_fsid);
    s.f_fsid.__val[0] = grant + 1;
    s.f_flags = ST_NOSUID | ST_NODEV | STATFS_VALID |
                (rights & (CAP_R_WRITE | CAP_R_CREATE) ? 0 : ST_RDONLY);
    memset(s.f_spare, 0, sizeof s.f_spare);
    return gmem_copy_to(sc_gm(c), gva, &s, sizeof s);
}

/* "/" and the directories above the grants: an empty read-only file system of the view. */
static int statfs_virtual(struct job *job, const struct sc_call *c, uint64_t gva)
{
    (void)job;
    struct statfs s;
    memset(&s, 0, sizeof s);
    s.f_type = 0x858458f6; /* RAMFS_MAGIC: nothing on a disk */
    s.f_bsize = s.f_frsize = 4096;
    s.f_namelen = 255;
    s.f_flags = ST_RDONLY | ST_NOSUID | ST_NODEV | STATFS_VALID;
    return gmem_copy_to(sc_gm(c), gva, &s, sizeof s);
}

int64_t sys_statfs(struct job *job, struct sc_call *c)
{
    struct fs_target t;
    int rc = fs_resolve_gva(job, c, GUEST_AT_FDCWD, c->a[0], &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t))
        return statfs_virtual(job, c, c->a[1]);
    if ((rc = fs_target_need(job, c, &t, CAP_R_STAT)))
        return rc;
    int fd = t.file_grant || !t.rest[0] ? -1 : fs_target_open(job, c, &t, O_PATH, 0);
    if (fd < 0 && !(t.file_grant || !t.rest[0]))
        return fd;
    struct statfs host;
    rc = fstatfs(fd >= 0 ? fd : t.cap->host_fd, &host) < 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    return rc ? rc : statfs_out(job, c, c->a[1], &host, t.grant, t.cap->rights);
}

int64_t sys_fstatfs(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], CAP_R_STAT, &e, &slot);
    if (rc)
        return rc;
    if (e->kind != CAP_FILE && e->kind != CAP_DIR)
        return cap_is_stream(e) ? statfs_virtual(job, c, c->a[1]) : -EINVAL;
    struct statfs host;
    if (fstatfs(e->host_fd, &host) < 0)
        return -errno;
    return statfs_out(job, c, c->a[1], &host, fs_grant_of_slot(job, slot), e->rights);
}

/* ------------------------------------------------------------------------------------------ */
/* fallocate: space for a file the job may write, with the job lock released (the host may
 * write or wait), on the held capability. Mode 0 (allocate, growing the size) and
 * FALLOC_FL_KEEP_SIZE only; the others (punching and zeroing ranges, collapsing) EOPNOTSUPP. */
struct falloc_arg {
    int mode;
    off_t off, len;
};

static int falloc_op(int fd, void *arg)
{
    const struct falloc_arg *a = arg;
    return fallocate(fd, a->mode, a->off, a->len);
}

int64_t sys_fallocate(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    int64_t off = (int64_t)c->a[2], len = (int64_t)c->a[3], end;
    if (off < 0 || len <= 0 || __builtin_add_overflow(off, len, &end))
        return -EINVAL;
    if (c->a[1] & ~(uint64_t)FALLOC_FL_KEEP_SIZE)
        return -EOPNOTSUPP;
    if (cap_is_stream(e))
        return -ESPIPE;
    if (e->kind != CAP_FILE)
        return -ENODEV;
    if ((rc = cap_need(job, c, e, slot, CAP_R_WRITE)))
        return rc;
    struct falloc_arg a = { (int)c->a[1], (off_t)off, (off_t)len };
    return cap_hold_call(job, slot, falloc_op, &a);
}

int64_t sys_stat(struct job *job, struct sc_call *c)
{
    return stat_gva(job, c, GUEST_AT_FDCWD, c->a[0], c->a[1], false);
}

int64_t sys_lstat(struct job *job, struct sc_call *c)
{
    return stat_gva(job, c, GUEST_AT_FDCWD, c->a[0], c->a[1], true);
}

int64_t sys_newfstatat(struct job *job, struct sc_call *c)
{
    const uint64_t known = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH;
    if (c->a[3] & ~known)
        return -EINVAL;
    char raw[PATH_MAX];
    long n = fs_path_copy(c, c->a[1], raw);
    if (n < 0)
        return n;
    if (n == 0 && (c->a[3] & AT_EMPTY_PATH)) {
        if ((uint32_t)c->a[0] != (uint32_t)AT_FDCWD)
            return stat_fd(job, c, c->a[0], c->a[2]);
        strcpy(raw, ".");
    }
    return stat_path(job, c, c->a[0], raw, c->a[2], c->a[3] & AT_SYMLINK_NOFOLLOW);
}

/* ------------------------------------------------------------------------------------------ */
/* open */

#define OPEN_KNOWN (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | \
                    O_DSYNC | O_SYNC | GUEST_O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | \
                    O_PATH)

/* The job's /dev/null: a root capability of its own on a copy of the host's (reads end at
 * once, writes go nowhere), with the access mode asked for. */
static int64_t null_open(struct job *job, struct sc_call *c, bool cloexec, uint32_t acc,
                         uint32_t status)
{
    if (job->devnull_fd < 0)
        return -ENOENT;
    int h = fcntl(job->devnull_fd, F_DUPFD_CLOEXEC, 0);
    if (h < 0)
        return -errno;
    uint32_t rights = CAP_R_STAT | (acc != O_WRONLY ? CAP_R_READ : 0) |
                      (acc != O_RDONLY ? CAP_R_WRITE : 0);
    int fd = fd_new_cap(job, c, CAP_NONE, CAP_NULL, CAP_FROM_NULL, rights, 0, h, "/dev/null",
                        cloexec, acc);
    if (fd < 0) {
        close(h);
        return fd;
    }
    sc_proc(c)->fds[fd].status = status;
    return fd;
}

static int64_t do_open(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                       uint64_t flags, uint64_t mode)
{
    if (flags & ~(uint64_t)OPEN_KNOWN || (flags & O_ACCMODE) == O_ACCMODE)
        return -EINVAL;
    bool opath = flags & O_PATH;
    if (opath) /* as Linux: everything but these is ignored with O_PATH */
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    uint32_t acc = (uint32_t)(flags & O_ACCMODE);
    bool cloexec = flags & O_CLOEXEC;
    uint32_t status = (uint32_t)(flags & (O_APPEND | O_NONBLOCK));
    /* what isovm asks for (target_open adds O_NONBLOCK and O_NOCTTY to every open but O_PATH,
     * and clears O_NONBLOCK again) */
    uint64_t host_flags =
        flags & ~(uint64_t)(O_NONBLOCK | O_NOCTTY | GUEST_O_LARGEFILE | O_CLOEXEC);
    char raw[PATH_MAX];
    long n = fs_path_copy(c, path, raw); /* read once */
    if (n < 0)
        return n;
    if (!strcmp(raw, "/dev/null") && !opath) /* every job has one (shells redirect to it) */
        return null_open(job, c, cloexec, acc, status);
    struct fs_target t;
    int rc = fs_resolve(job, c, dirfd, raw, &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t)) /* "/" and the directories above grants cannot be opened */
        return (flags & O_CREAT) && (flags & O_EXCL) ? -EEXIST : -EACCES;
    uint32_t need = 0;
    if (acc == O_WRONLY || acc == O_RDWR)
        need |= CAP_R_WRITE;
    if (flags & O_TRUNC)
        need |= CAP_R_TRUNCATE;
    if ((rc = fs_target_need(job, c, &t, need)))
        return rc;
    int fd = -1;
    if ((flags & O_CREAT) && !(t.cap->rights & CAP_R_CREATE)) {
        /* without CREATE an existing file may still be opened; a missing one is refused */
        fd = fs_target_open(job, c, &t, host_flags & ~(uint64_t)(O_CREAT | O_EXCL), 0);
        if (fd == -ENOENT)
            return fs_deny(job, c, DENY_RIGHTS, EACCES, t.slot, t.guest);
        if (fd >= 0 && (flags & O_EXCL)) {
            close(fd);
            return -EEXIST;
        }
    } else {
        /* the mode counts only with O_CREAT, as Linux (openat2 refuses one without it) */
        fd = fs_target_open(job, c, &t, host_flags,
                            (flags & O_CREAT) ? mode & 0777 & ~sc_proc(c)->umask : 0);
    }
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if ((flags & O_TRUNC) && S_ISREG(st.st_mode) && sc_gm(c)->nfiles)
        gmem_file_resized(sc_gm(c), st.st_dev, st.st_ino, 0);
    bool is_dir = S_ISDIR(st.st_mode);
    uint32_t rights;
    if (is_dir) {
        rights = t.cap->rights; /* authority over what is beneath it, as its parent's */
    } else if (opath) {
        rights = t.cap->rights & CAP_R_STAT;
    } else {
        uint32_t want = acc == O_RDONLY ? RIGHTS_FOR_READ
                        : acc == O_WRONLY ? RIGHTS_FOR_WRITE
                                          : RIGHTS_FOR_READ | RIGHTS_FOR_WRITE;
        if (acc != O_WRONLY && !(t.cap->rights & CAP_R_READ)) {
            close(fd); /* nothing was created or truncated: reading needs no such step */
            return fs_deny(job, c, DENY_RIGHTS, EACCES, t.slot, t.guest);
        }
        rights = t.cap->rights & want;
    }
    int gfd = fd_new_cap(job, c, t.slot, is_dir ? CAP_DIR : CAP_FILE, CAP_FROM_OPEN, rights, 0,
                         fd, t.guest, cloexec, opath ? (uint32_t)O_PATH | acc : acc);
    if (gfd < 0) {
        close(fd);
        return gfd;
    }
    sc_proc(c)->fds[gfd].status = status;
    return gfd;
}

int64_t sys_open(struct job *job, struct sc_call *c)
{
    return do_open(job, c, GUEST_AT_FDCWD, c->a[0], c->a[1], c->a[2]);
}

int64_t sys_openat(struct job *job, struct sc_call *c)
{
    return do_open(job, c, c->a[0], c->a[1], c->a[2], c->a[3]);
}

int64_t sys_creat(struct job *job, struct sc_call *c)
{
    return do_open(job, c, GUEST_AT_FDCWD, c->a[0], O_CREAT | O_WRONLY | O_TRUNC, c->a[1]);
}

/* ------------------------------------------------------------------------------------------ */
/* access */

static int64_t do_access(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                         uint64_t mode, uint64_t flags)
{
    if (mode & ~(uint64_t)(R_OK | W_OK | X_OK) ||
        flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    char raw[PATH_MAX];
    long n = fs_path_copy(c, path, raw);
    if (n < 0)
        return n;
    if (n == 0 && (flags & AT_EMPTY_PATH)) {
        if ((uint32_t)dirfd == (uint32_t)AT_FDCWD)
            strcpy(raw, ".");
        else
            return -EINVAL; /* descriptor form: not supported, answered as by an old kernel */
    }
    struct fs_target t;
    int rc = fs_resolve(job, c, dirfd, raw, &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t))
        return (mode & W_OK) ? -EACCES : 0;
    int fd = fs_target_open(job, c, &t, O_PATH | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0), 0);
    if (fd < 0)
        return fd;
    struct stat st;
    rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (!rc) {
        bool dir = S_ISDIR(st.st_mode);
        uint32_t need = ((mode & R_OK) ? (dir ? CAP_R_LIST : CAP_R_READ) : 0) |
                        ((mode & W_OK) ? (dir ? CAP_R_CREATE : CAP_R_WRITE) : 0);
        rc = fs_target_need(job, c, &t, need);
    }
    if (!rc && mode) {
        rc = fs_fd_access(fd, (int)mode);
    }
    close(fd);
    return rc;
}

int64_t sys_access(struct job *job, struct sc_call *c)
{
    return do_access(job, c, GUEST_AT_FDCWD, c->a[0], c->a[1], 0);
}

int64_t sys_faccessat(struct job *job, struct sc_call *c)
{
    return do_access(job, c, c->a[0], c->a[1], c->a[2], 0);
}

int64_t sys_faccessat2(struct job *job, struct sc_call *c)
{
    return do_access(job, c, c->a[0], c->a[1], c->a[2], c->a[3]);
}

/* ------------------------------------------------------------------------------------------ */
/* descriptors: getdents64, lseek, pread64, pwrite64, truncation, sync */

int64_t sys_getdents64(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (e->kind != CAP_DIR)
        return -ENOTDIR;
    if ((rc = cap_need(job, c, e, slot, CAP_R_LIST)))
        return rc;
    uint64_t count = c->a[2] > GETDENTS_MAX ? GETDENTS_MAX : c->a[2];
    void *check;
    if ((rc = gpa_range_check(sc_gm(c), c->a[1], count, GPERM_W, &check)))
        return rc;
    void *bounce = malloc(count ? count : 1);
    if (!bounce)
        return -ENOMEM;
    long n = syscall(SYS_getdents64, e->host_fd, bounce, (size_t)count);
    int64_t result = n < 0 ? -errno : n;
    if (n > 0 && (rc = gmem_copy_to(sc_gm(c), c->a[1], bounce, (uint64_t)n)))
        result = rc;
    free(bounce);
    return result;
}

int64_t sys_lseek(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (cap_is_stream(e))
        return -ESPIPE;
    if (c->a[2] > SEEK_HOLE)
        return -EINVAL;
    if ((rc = cap_need(job, c, e, slot, CAP_R_SEEK)))
        return rc;
    off_t r = lseek(e->host_fd, (off_t)c->a[1], (int)c->a[2]);
    return r < 0 ? -errno : (int64_t)r;
}

/* A file the job shortened: its mapped pages past the new end lose their frames (guest_mem.h). */
static void mapped_file_shortened(struct job *job, const struct sc_call *c, int fd, uint64_t size)
{
    (void)job;
    struct stat st;
    if (sc_gm(c)->nfiles && fstat(fd, &st) == 0)
        gmem_file_resized(sc_gm(c), st.st_dev, st.st_ino, size);
}

int64_t sys_ftruncate(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (e->kind != CAP_FILE || (int64_t)c->a[1] < 0)
        return -EINVAL;
    if ((rc = cap_need(job, c, e, slot, CAP_R_TRUNCATE)))
        return rc;
    if (ftruncate(e->host_fd, (off_t)c->a[1]) < 0)
        return -errno;
    mapped_file_shortened(job, c, e->host_fd, c->a[1]);
    return 0;
}

int64_t sys_truncate(struct job *job, struct sc_call *c)
{
    if ((int64_t)c->a[1] < 0)
        return -EINVAL;
    struct fs_target t;
    int rc = fs_resolve_gva(job, c, GUEST_AT_FDCWD, c->a[0], &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t))
        return -EISDIR;
    if ((rc = fs_target_need(job, c, &t, CAP_R_WRITE | CAP_R_TRUNCATE)))
        return rc;
    int fd = fs_target_open(job, c, &t, O_WRONLY, 0);
    if (fd < 0)
        return fd;
    rc = ftruncate(fd, (off_t)c->a[1]) < 0 ? -errno : 0;
    if (!rc)
        mapped_file_shortened(job, c, fd, c->a[1]);
    close(fd);
    return rc;
}

static int sync_all(int fd, void *arg) { (void)arg; return fsync(fd); }
static int sync_data(int fd, void *arg) { (void)arg; return fdatasync(fd); }

/* fsync and fdatasync wait for the disk: with the job lock released, on the held capability. */
static int64_t do_sync(struct job *job, struct sc_call *c, bool data_only)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (cap_is_stream(e))
        return -EINVAL; /* as Linux for a terminal or pipe */
    return cap_hold_call(job, slot, data_only ? sync_data : sync_all, NULL);
}

int64_t sys_fsync(struct job *job, struct sc_call *c) { return do_sync(job, c, false); }
int64_t sys_fdatasync(struct job *job, struct sc_call *c) { return do_sync(job, c, true); }

int64_t sys_fadvise64(struct job *job, struct sc_call *c)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
    if (rc)
        return rc;
    return cap_is_stream(e) ? -ESPIPE : 0; /* advice only: nothing to do */
}

