/* The job's file-system view: path syscalls resolved only through the policy's grants. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "vmm/caps/audit.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/caps/fd.h"
#include "vmm/caps/fs_path.h"
#include "vmm/caps/grants.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_io.h"

#define RESOLVE_IN_GRANT (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
#define GETDENTS_MAX     (1u << 20)  /* one getdents64 moves at most this many bytes */
#define FS_UMASK         022u        /* applied to every mode the job creates with */
#define GUEST_AT_FDCWD   ((uint64_t)(uint32_t)AT_FDCWD)
#define GUEST_O_LARGEFILE 0100000    /* the kernel's value (the C library's x86-64 one is 0) */

/* Rights an open file gets (before intersecting with its directory's) for each access mode. */
#define RIGHTS_FOR_READ  (CAP_R_READ | CAP_R_STAT | CAP_R_SEEK)
#define RIGHTS_FOR_WRITE (CAP_R_WRITE | CAP_R_STAT | CAP_R_SEEK | CAP_R_TRUNCATE)

/* Where a guest path leads: a directory the view makes up, or a remainder beneath a live
 * capability (a grant's root, or the directory descriptor it was relative to). */
struct fs_target {
    char guest[PATH_MAX];  /* normalized absolute guest path */
    const char *rest;      /* below the capability's own path, inside guest[] ("": itself) */
    uint32_t slot;         /* the capability the authority comes from; CAP_NONE: made up */
    struct cap *cap;
    int grant;             /* index of the grant the path is in; -1: made up */
    bool file_grant;       /* the path is a regular file granted directly */
};

static bool target_virtual(const struct fs_target *t) { return t->slot == CAP_NONE; }

/* The grant whose root `slot` descends from, or -1. */
static int grant_of_slot(const struct job *job, uint32_t slot)
{
    uint32_t root;
    if (cap_chain(job->caps, slot, &root, 1) < 1)
        return -1;
    return grants_index_of_root(job, root);
}

/* A refusal of path `t` (or `path`): counted, logged, returned. */
static int deny(struct job *job, const struct sc_call *c, enum deny_kind kind, int err,
                uint32_t slot, const char *path)
{
    audit_deny(job, kind, c->nr, err, slot, path);
    return -err;
}

/* Does the target's capability carry every right in `need`? 0 or -EACCES (audited). */
static int target_need(struct job *job, const struct sc_call *c, const struct fs_target *t,
                       uint32_t need)
{
    if ((need & ~t->cap->rights) == 0)
        return 0;
    return deny(job, c, DENY_RIGHTS, EACCES, t->slot, t->guest);
}

/* Copy a guest path once (PATH_MAX with its NUL). Length, -EFAULT or -ENAMETOOLONG. */
static long path_copy(struct job *job, uint64_t gva, char *out)
{
    return gmem_copy_str(&job->vm.gm, out, gva, PATH_MAX);
}

/* Resolve `raw` relative to dirfd (GUEST_AT_FDCWD: the working directory) to a target. The
 * capability found is checked live (revoked: -EKEYREVOKED, expired: -EKEYEXPIRED); rights are
 * the caller's to check. Outside every grant: -ENOENT (audited as outside-grants). */
static int resolve(struct job *job, const struct sc_call *c, uint64_t dirfd, const char *raw,
                   struct fs_target *t)
{
    const char *base = job->cwd[0] ? job->cwd : "/";
    struct cap *dir = NULL;
    uint32_t dir_slot = CAP_NONE;
    if (raw[0] != '/' && (uint32_t)dirfd != (uint32_t)AT_FDCWD) {
        int rc = fd_cap(job, c, dirfd, 0, &dir, &dir_slot);
        if (rc)
            return rc;
        if (dir->kind != CAP_DIR)
            return -ENOTDIR;
        base = dir->path;
    }
    int rc = fsp_join(base, raw, t->guest, sizeof t->guest);
    if (rc)
        return rc;
    t->file_grant = false;
    if (dir) {
        /* Relative to a directory descriptor: its authority, never more, never above it. */
        t->rest = fsp_beneath(dir->path, t->guest);
        if (!t->rest)
            return deny(job, c, DENY_OUTSIDE, ENOENT, dir_slot, t->guest);
        t->slot = dir_slot;
        t->cap = dir;
        t->grant = grant_of_slot(job, dir_slot);
        return 0;
    }
    const char *guests[POLICY_MAX_GRANTS];
    unsigned n = job->ngrant_roots;
    for (unsigned i = 0; i < n; i++)
        guests[i] = job->policy.grants[i].guest;
    int g = fsp_grant_find(guests, n, t->guest, &t->rest);
    if (g < 0) {
        if (fsp_is_ancestor(guests, n, t->guest)) {
            t->rest = "";
            t->slot = CAP_NONE;
            t->cap = NULL;
            t->grant = -1;
            return 0;
        }
        return deny(job, c, DENY_OUTSIDE, ENOENT, CAP_NONE, t->guest);
    }
    const struct grant_root *r = &job->grant_roots[g];
    struct cap *root;
    if ((rc = cap_use(job, c, r->slot, r->gen, 0, -1, t->guest, &root)))
        return rc;
    if (r->is_file && t->rest[0])
        return -ENOTDIR; /* "/data/file.txt/x" */
    t->slot = r->slot;
    t->cap = root;
    t->grant = g;
    t->file_grant = r->is_file;
    return 0;
}

/* Copy and resolve in one step. */
static int resolve_gva(struct job *job, const struct sc_call *c, uint64_t dirfd, uint64_t gva,
                       struct fs_target *t)
{
    char raw[PATH_MAX];
    long n = path_copy(job, gva, raw);
    if (n < 0)
        return (int)n;
    return resolve(job, c, dirfd, raw, t);
}

/* A host errno from resolution beneath a grant: leaving it (EXDEV from RESOLVE_BENEATH or
 * RESOLVE_NO_XDEV, ELOOP from RESOLVE_NO_MAGICLINKS) is refused as EACCES, audited as escape. */
static int host_err(struct job *job, const struct sc_call *c, const struct fs_target *t, int err,
                    bool nofollow)
{
    if (err == EXDEV || (err == ELOOP && !nofollow))
        return deny(job, c, DENY_ESCAPE, EACCES, t->slot, t->guest);
    return -err;
}

static int openat2_beneath(int dirfd, const char *rest, uint64_t flags, uint64_t mode)
{
    struct open_how how = { .flags = flags | O_CLOEXEC, .mode = mode, .resolve = RESOLVE_IN_GRANT };
    long fd;
    int tries = 0;
    do /* EAGAIN: a concurrent rename on the host; the kernel asks to retry */
        fd = syscall(SYS_openat2, dirfd, rest[0] ? rest : ".", &how, sizeof how);
    while (fd < 0 && errno == EAGAIN && ++tries < 8);
    return fd < 0 ? -errno : (int)fd;
}

/* /proc/self/fd as a directory descriptor, opened before the VMM's seccomp filter (which refuses
 * paths relative to the working directory), or -1: no /proc (the jailed VMM). */
static int proc_fd_dir = -1;

int sys_fs_proc_dir_open(void)
{
    if (proc_fd_dir >= 0)
        return 0;
    proc_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return proc_fd_dir < 0 ? -errno : 0;
}

/* Host descriptor fd's magic link in /proc/self/fd: the directory descriptor to use with the
 * name written to buf, or -ENOENT when there is no /proc. */
static int proc_fd_at(int fd, char *buf, size_t len)
{
    if (proc_fd_dir < 0)
        return -ENOENT;
    snprintf(buf, len, "%d", fd);
    return proc_fd_dir;
}

/* Operations on a host descriptor (often O_PATH) without /proc where the kernel allows it (the
 * jailed VMM has no /proc), through /proc/self/fd otherwise. */
static int fd_access(int fd, int mode)
{
    if (syscall(SYS_faccessat2, fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL)
        return -errno;
    char proc[32];
    int dir = proc_fd_at(fd, proc, sizeof proc);
    if (dir < 0)
        return dir;
    return faccessat(dir, proc, mode, AT_EACCESS) < 0 ? -errno : 0;
}

static int fd_utimens(int fd, const struct timespec *times)
{
    if (utimensat(fd, "", times, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOENT)
        return -errno;
    char proc[32];
    int dir = proc_fd_at(fd, proc, sizeof proc);
    if (dir < 0)
        return dir;
    return utimensat(dir, proc, times, 0) < 0 ? -errno : 0;
}

/* Open the target on the host (following symlinks, but only beneath its grant). A file grant
 * is reopened through its O_PATH descriptor. Every open but O_PATH is non-blocking without a
 * controlling tty, and must find a regular file or a directory: a FIFO, a device or a socket
 * would block (a FIFO without its other end) or reach beyond the file system, with the job
 * lock held, so it is refused with ENXIO (audited as special-file). What is allowed loses the
 * O_NONBLOCK again (the job's own is kept in its descriptor's status). Host descriptor or
 * -errno (escapes audited). */
static int target_open(struct job *job, const struct sc_call *c, const struct fs_target *t,
                       uint64_t flags, uint64_t mode)
{
    bool opath = flags & O_PATH;
    if (!opath)
        flags |= O_NONBLOCK | O_NOCTTY;
    int fd;
    if (t->file_grant) {
        if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
            return -EEXIST;
        if (t->grant < 0 || !job->grant_roots[t->grant].is_file)
            return -ENOENT;
        fd = grant_file_reopen(&job->grant_roots[t->grant], (int)flags);
    } else {
        fd = openat2_beneath(t->cap->host_fd, t->rest, flags, mode);
        if (fd < 0 && -fd != ENXIO)
            return host_err(job, c, t, -fd, flags & O_NOFOLLOW);
    }
    if (fd == -ENXIO) /* the kernel's: a FIFO without a reader, a device without a driver */
        return deny(job, c, DENY_SPECIAL, ENXIO, t->slot, t->guest);
    if (fd < 0 || opath)
        return fd;
    struct stat st;
    int fl;
    if (fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        close(fd);
        return deny(job, c, DENY_SPECIAL, ENXIO, t->slot, t->guest);
    }
    if (fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* The target's parent directory on the host (O_PATH, beneath the grant) and its last
 * component in *last. The capability's own object (rest "") has no parent here: -EBUSY. */
static int target_parent(struct job *job, const struct sc_call *c, const struct fs_target *t,
                         const char **last)
{
    char dir[PATH_MAX];
    if (t->file_grant || !t->rest[0])
        return -EBUSY;
    *last = fsp_split(t->rest, dir, sizeof dir);
    if (!*last)
        return -ENAMETOOLONG;
    int fd = openat2_beneath(t->cap->host_fd, dir, O_PATH | O_DIRECTORY, 0);
    return fd < 0 ? host_err(job, c, t, -fd, false) : fd;
}

/* ------------------------------------------------------------------------------------------ */
/* stat */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int stat_out(struct job *job, uint64_t gva, const struct stat *st)
{
    _Static_assert(sizeof *st == 144, "x86-64 struct stat");
    return gmem_copy_to(&job->vm.gm, gva, st, sizeof *st);
}

/* The job's view of a host stat: the host's kind, size, links, inode and times; owner root,
 * device the grant's number, write bits cleared without the WRITE right. */
static int stat_host(struct job *job, uint64_t gva, const struct stat *host, int grant,
                     uint32_t rights)
{
    struct stat st = *host;
    st.st_uid = 0;
    st.st_gid = 0;
    st.st_dev = (dev_t)(grant + 1);
    st.st_rdev = 0;
    if (!(rights & CAP_R_WRITE))
        st.st_mode &= ~(mode_t)0222;
    return stat_out(job, gva, &st);
}

/* "/" and the directories above grants: read-only, empty-looking directories. */
static int stat_virtual(struct job *job, uint64_t gva, const char *path)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
    st.st_ino = strcmp(path, "/") == 0 ? 2 : fnv1a(path) | 0x80000000u;
    st.st_blksize = 4096;
    return stat_out(job, gva, &st);
}

/* The console: made up, nothing of the host's identity. */
static int stat_console(struct job *job, const struct cap *e, int fd, uint64_t gva)
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
    return stat_out(job, gva, &st);
}

static int64_t stat_fd(struct job *job, struct sc_call *c, uint64_t fd, uint64_t gva)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, fd, CAP_R_STAT, &e, &slot);
    if (rc)
        return rc;
    if (e->kind == CAP_CONSOLE)
        return stat_console(job, e, (int)fd, gva);
    struct stat host;
    if (fstat(e->host_fd, &host) < 0)
        return -errno;
    return stat_host(job, gva, &host, grant_of_slot(job, slot), e->rights);
}

static int64_t stat_path(struct job *job, struct sc_call *c, uint64_t dirfd, const char *raw,
                         uint64_t gva, bool nofollow)
{
    struct fs_target t;
    int rc = resolve(job, c, dirfd, raw, &t);
    if (rc)
        return rc;
    if (target_virtual(&t))
        return stat_virtual(job, gva, t.guest);
    if ((rc = target_need(job, c, &t, CAP_R_STAT)))
        return rc;
    struct stat host;
    if (t.file_grant || !t.rest[0]) {
        if (fstat(t.cap->host_fd, &host) < 0)
            return -errno;
    } else if (nofollow) {
        const char *last;
        int pfd = target_parent(job, c, &t, &last);
        if (pfd < 0)
            return pfd;
        rc = fstatat(pfd, last, &host, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
        close(pfd);
        if (rc)
            return rc;
    } else {
        int fd = target_open(job, c, &t, O_PATH, 0);
        if (fd < 0)
            return fd;
        rc = fstat(fd, &host) < 0 ? -errno : 0;
        close(fd);
        if (rc)
            return rc;
    }
    return stat_host(job, gva, &host, t.grant, t.cap->rights);
}

static int64_t stat_gva(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                        uint64_t gva, bool nofollow)
{
    char raw[PATH_MAX];
    long n = path_copy(job, path, raw);
    if (n < 0)
        return n;
    return stat_path(job, c, dirfd, raw, gva, nofollow);
}

int64_t sys_fstat(struct job *job, struct sc_call *c)
{
    return stat_fd(job, c, c->a[0], c->a[1]);
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
    long n = path_copy(job, c->a[1], raw);
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
    struct fs_target t;
    int rc = resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (target_virtual(&t)) /* "/" and the directories above grants cannot be opened */
        return (flags & O_CREAT) && (flags & O_EXCL) ? -EEXIST : -EACCES;
    uint32_t need = 0;
    if (acc == O_WRONLY || acc == O_RDWR)
        need |= CAP_R_WRITE;
    if (flags & O_TRUNC)
        need |= CAP_R_TRUNCATE;
    if ((rc = target_need(job, c, &t, need)))
        return rc;
    int fd = -1;
    if ((flags & O_CREAT) && !(t.cap->rights & CAP_R_CREATE)) {
        /* without CREATE an existing file may still be opened; a missing one is refused */
        fd = target_open(job, c, &t, host_flags & ~(uint64_t)(O_CREAT | O_EXCL), 0);
        if (fd == -ENOENT)
            return deny(job, c, DENY_RIGHTS, EACCES, t.slot, t.guest);
        if (fd >= 0 && (flags & O_EXCL)) {
            close(fd);
            return -EEXIST;
        }
    } else {
        /* the mode counts only with O_CREAT, as Linux (openat2 refuses one without it) */
        fd = target_open(job, c, &t, host_flags,
                         (flags & O_CREAT) ? mode & 0777 & ~FS_UMASK : 0);
    }
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
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
            return deny(job, c, DENY_RIGHTS, EACCES, t.slot, t.guest);
        }
        rights = t.cap->rights & want;
    }
    int gfd = fd_new_cap(job, c, t.slot, is_dir ? CAP_DIR : CAP_FILE, CAP_FROM_OPEN, rights, 0,
                         fd, t.guest, cloexec, opath ? (uint32_t)O_PATH | acc : acc);
    if (gfd < 0) {
        close(fd);
        return gfd;
    }
    job->fds[gfd].status = status;
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

/* ------------------------------------------------------------------------------------------ */
/* access */

static int64_t do_access(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                         uint64_t mode, uint64_t flags)
{
    if (mode & ~(uint64_t)(R_OK | W_OK | X_OK) ||
        flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    char raw[PATH_MAX];
    long n = path_copy(job, path, raw);
    if (n < 0)
        return n;
    if (n == 0 && (flags & AT_EMPTY_PATH)) {
        if ((uint32_t)dirfd == (uint32_t)AT_FDCWD)
            strcpy(raw, ".");
        else
            return -EINVAL; /* descriptor form: not supported, answered as by an old kernel */
    }
    struct fs_target t;
    int rc = resolve(job, c, dirfd, raw, &t);
    if (rc)
        return rc;
    if (target_virtual(&t))
        return (mode & W_OK) ? -EACCES : 0;
    int fd = target_open(job, c, &t, O_PATH | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0), 0);
    if (fd < 0)
        return fd;
    struct stat st;
    rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (!rc) {
        bool dir = S_ISDIR(st.st_mode);
        uint32_t need = ((mode & R_OK) ? (dir ? CAP_R_LIST : CAP_R_READ) : 0) |
                        ((mode & W_OK) ? (dir ? CAP_R_CREATE : CAP_R_WRITE) : 0);
        rc = target_need(job, c, &t, need);
    }
    if (!rc && mode) {
        rc = fd_access(fd, (int)mode);
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
    if ((rc = gpa_range_check(&job->vm.gm, c->a[1], count, GPERM_W, &check)))
        return rc;
    void *bounce = malloc(count ? count : 1);
    if (!bounce)
        return -ENOMEM;
    long n = syscall(SYS_getdents64, e->host_fd, bounce, (size_t)count);
    int64_t result = n < 0 ? -errno : n;
    if (n > 0 && (rc = gmem_copy_to(&job->vm.gm, c->a[1], bounce, (uint64_t)n)))
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
    if (e->kind == CAP_CONSOLE)
        return -ESPIPE;
    if (c->a[2] > SEEK_HOLE)
        return -EINVAL;
    if ((rc = cap_need(job, c, e, slot, CAP_R_SEEK)))
        return rc;
    off_t r = lseek(e->host_fd, (off_t)c->a[1], (int)c->a[2]);
    return r < 0 ? -errno : (int64_t)r;
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
    return ftruncate(e->host_fd, (off_t)c->a[1]) < 0 ? -errno : 0;
}

int64_t sys_truncate(struct job *job, struct sc_call *c)
{
    if ((int64_t)c->a[1] < 0)
        return -EINVAL;
    struct fs_target t;
    int rc = resolve_gva(job, c, GUEST_AT_FDCWD, c->a[0], &t);
    if (rc)
        return rc;
    if (target_virtual(&t))
        return -EISDIR;
    if ((rc = target_need(job, c, &t, CAP_R_WRITE | CAP_R_TRUNCATE)))
        return rc;
    int fd = target_open(job, c, &t, O_WRONLY, 0);
    if (fd < 0)
        return fd;
    rc = ftruncate(fd, (off_t)c->a[1]) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* fsync and fdatasync wait for the disk: with the job lock released, on the held capability. */
static int64_t do_sync(struct job *job, struct sc_call *c, bool data_only)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (e->kind == CAP_CONSOLE)
        return -EINVAL; /* as Linux for a terminal or pipe */
    struct cap_hold h;
    if ((rc = cap_hold_begin(job, slot, &h)))
        return rc;
    pthread_mutex_unlock(&job->lock);
    rc = data_only ? fdatasync(h.fd) : fsync(h.fd);
    int err = errno;
    pthread_mutex_lock(&job->lock);
    cap_hold_end(job, &h);
    return rc < 0 ? -err : 0;
}

int64_t sys_fsync(struct job *job, struct sc_call *c) { return do_sync(job, c, false); }
int64_t sys_fdatasync(struct job *job, struct sc_call *c) { return do_sync(job, c, true); }

int64_t sys_fadvise64(struct job *job, struct sc_call *c)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
    if (rc)
        return rc;
    return e->kind == CAP_CONSOLE ? -ESPIPE : 0; /* advice only: nothing to do */
}

/* ------------------------------------------------------------------------------------------ */
/* directories and names: mkdir, unlink, rmdir, rename, readlink, symlink */

static int64_t do_mkdir(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                        uint64_t mode)
{
    struct fs_target t;
    int rc = resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (target_virtual(&t) || t.file_grant || !t.rest[0])
        return -EEXIST;
    if ((rc = target_need(job, c, &t, CAP_R_CREATE)))
        return rc;
    const char *last;
    int pfd = target_parent(job, c, &t, &last);
    if (pfd < 0)
        return pfd;
    rc = mkdirat(pfd, last, (mode_t)(mode & 0777 & ~FS_UMASK)) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

int64_t sys_mkdir(struct job *job, struct sc_call *c)
{
    return do_mkdir(job, c, GUEST_AT_FDCWD, c->a[0], c->a[1]);
}

int64_t sys_mkdirat(struct job *job, struct sc_call *c)
{
    return do_mkdir(job, c, c->a[0], c->a[1], c->a[2]);
}

static int64_t do_unlink(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                         uint64_t flags)
{
    if (flags & ~(uint64_t)AT_REMOVEDIR)
        return -EINVAL;
    struct fs_target t;
    int rc = resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (target_virtual(&t) || t.file_grant || !t.rest[0])
        return -EBUSY; /* "/", a grant's own root */
    if ((rc = target_need(job, c, &t, CAP_R_DELETE)))
        return rc;
    const char *last;
    int pfd = target_parent(job, c, &t, &last);
    if (pfd < 0)
        return pfd;
    rc = unlinkat(pfd, last, (int)flags) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

int64_t sys_unlink(struct job *job, struct sc_call *c)
{
    return do_unlink(job, c, GUEST_AT_FDCWD, c->a[0], 0);
}

int64_t sys_unlinkat(struct job *job, struct sc_call *c)
{
    return do_unlink(job, c, c->a[0], c->a[1], c->a[2]);
}

int64_t sys_rmdir(struct job *job, struct sc_call *c)
{
    return do_unlink(job, c, GUEST_AT_FDCWD, c->a[0], AT_REMOVEDIR);
}

static int64_t do_rename(struct job *job, struct sc_call *c, uint64_t olddir, uint64_t oldpath,
                         uint64_t newdir, uint64_t newpath, uint64_t flags)
{
    if (flags & ~(uint64_t)RENAME_NOREPLACE)
        return -EINVAL;
    struct fs_target *from = malloc(2 * sizeof *from);
    if (!from)
        return -ENOMEM;
    struct fs_target *to = from + 1;
    int pfrom = -1, pto = -1;
    const char *lfrom, *lto;
    int rc = resolve_gva(job, c, olddir, oldpath, from);
    if (!rc)
        rc = resolve_gva(job, c, newdir, newpath, to);
    if (rc)
        goto out;
    if (target_virtual(from) || target_virtual(to) || from->file_grant || to->file_grant ||
        !from->rest[0] || !to->rest[0]) {
        rc = -EBUSY;
        goto out;
    }
    if (from->grant != to->grant) {
        rc = -EXDEV; /* each grant is its own file system */
        goto out;
    }
    if ((rc = target_need(job, c, from, CAP_R_DELETE)) ||
        (rc = target_need(job, c, to, CAP_R_CREATE)))
        goto out;
    if ((pfrom = target_parent(job, c, from, &lfrom)) < 0 ||
        (pto = target_parent(job, c, to, &lto)) < 0) {
        rc = pfrom < 0 ? pfrom : pto;
        goto out;
    }
    /* a symlink (the host's: the job makes only downward ones) whose target climbs or is
     * absolute would change meaning by moving: refused */
    char link[PATH_MAX + 1];
    ssize_t len = readlinkat(pfrom, lfrom, link, sizeof link);
    if (len >= 0) {
        link[len < (ssize_t)sizeof link ? len : 0] = '\0'; /* longer than PATH_MAX: refused */
        if (!fsp_symlink_downward(link)) {
            rc = deny(job, c, DENY_ESCAPE, EPERM, from->slot, from->guest);
            goto out;
        }
    }
    struct stat st;
    /* replacing an existing name deletes it: DELETE on its side too */
    if (!(flags & RENAME_NOREPLACE) && fstatat(pto, lto, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (rc = target_need(job, c, to, CAP_R_DELETE)))
        goto out;
    rc = syscall(SYS_renameat2, pfrom, lfrom, pto, lto, (unsigned)flags) < 0 ? -errno : 0;
out:
    if (pfrom >= 0)
        close(pfrom);
    if (pto >= 0)
        close(pto);
    free(from);
    return rc;
}

int64_t sys_rename(struct job *job, struct sc_call *c)
{
    return do_rename(job, c, GUEST_AT_FDCWD, c->a[0], GUEST_AT_FDCWD, c->a[1], 0);
}

int64_t sys_renameat(struct job *job, struct sc_call *c)
{
    return do_rename(job, c, c->a[0], c->a[1], c->a[2], c->a[3], 0);
}

int64_t sys_renameat2(struct job *job, struct sc_call *c)
{
    return do_rename(job, c, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4]);
}

/* readlink: "/proc/self/exe" is the program's path (as Linux answers it); any other path is a
 * symlink in the view, read beneath its grant. */
static int64_t do_readlink(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                           uint64_t buf, uint64_t size)
{
    char raw[PATH_MAX];
    long n = path_copy(job, path, raw);
    if (n < 0)
        return n;
    if ((int64_t)size <= 0)
        return -EINVAL;
    const char *answer = NULL;
    char target[PATH_MAX];
    ssize_t len;
    if (strcmp(raw, "/proc/self/exe") == 0) {
        answer = job->exe_path;
        len = (ssize_t)strlen(answer);
    } else {
        struct fs_target t;
        int rc = resolve(job, c, dirfd, raw, &t);
        if (rc)
            return rc;
        if (target_virtual(&t) || t.file_grant || !t.rest[0])
            return -EINVAL; /* not a symlink */
        if ((rc = target_need(job, c, &t, CAP_R_STAT)))
            return rc;
        const char *last;
        int pfd = target_parent(job, c, &t, &last);
        if (pfd < 0)
            return pfd;
        len = readlinkat(pfd, last, target, sizeof target);
        rc = len < 0 ? -errno : 0;
        close(pfd);
        if (rc)
            return rc;
        answer = target;
    }
    if ((uint64_t)len > size)
        len = (ssize_t)size;
    int rc = gmem_copy_to(&job->vm.gm, buf, answer, (uint64_t)len);
    return rc ? rc : (int64_t)len;
}

int64_t sys_readlink(struct job *job, struct sc_call *c)
{
    return do_readlink(job, c, GUEST_AT_FDCWD, c->a[0], c->a[1], c->a[2]);
}

int64_t sys_readlinkat(struct job *job, struct sc_call *c)
{
    return do_readlink(job, c, c->a[0], c->a[1], c->a[2], c->a[3]);
}

/* A symlink the job makes must lead only downward from its own directory (fsp_symlink_downward):
 * then it means the same wherever it is moved, and can never lead out of its grant for whoever
 * follows it later on the host (a host tool, another job granted it). */
static int64_t do_symlink(struct job *job, struct sc_call *c, uint64_t target_gva, uint64_t dirfd,
                          uint64_t path)
{
    char target[PATH_MAX];
    long n = path_copy(job, target_gva, target);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    struct fs_target t;
    int rc = resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (target_virtual(&t) || t.file_grant || !t.rest[0])
        return -EEXIST;
    if ((rc = target_need(job, c, &t, CAP_R_CREATE)))
        return rc;
    if (!fsp_symlink_downward(target))
        return deny(job, c, DENY_ESCAPE, EPERM, t.slot, t.guest);
    const char *last;
    int pfd = target_parent(job, c, &t, &last);
    if (pfd < 0)
        return pfd;
    rc = symlinkat(target, pfd, last) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

int64_t sys_symlink(struct job *job, struct sc_call *c)
{
    return do_symlink(job, c, c->a[0], GUEST_AT_FDCWD, c->a[1]);
}

int64_t sys_symlinkat(struct job *job, struct sc_call *c)
{
    return do_symlink(job, c, c->a[0], c->a[1], c->a[2]);
}

/* ------------------------------------------------------------------------------------------ */
/* working directory */

static int64_t cwd_set(struct job *job, const char *path)
{
    if (strlen(path) >= sizeof job->cwd)
        return -ENAMETOOLONG;
    strcpy(job->cwd, path);
    return 0;
}

int64_t sys_chdir(struct job *job, struct sc_call *c)
{
    struct fs_target t;
    int rc = resolve_gva(job, c, GUEST_AT_FDCWD, c->a[0], &t);
    if (rc)
        return rc;
    if (!target_virtual(&t)) {
        if (t.file_grant)
            return -ENOTDIR;
        int fd = target_open(job, c, &t, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
            return fd;
        close(fd);
    }
    return cwd_set(job, t.guest);
}

int64_t sys_fchdir(struct job *job, struct sc_call *c)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
    if (rc)
        return rc;
    if (e->kind != CAP_DIR)
        return -ENOTDIR;
    return cwd_set(job, e->path);
}

int64_t sys_getcwd(struct job *job, struct sc_call *c)
{
    const char *cwd = job->cwd[0] ? job->cwd : "/";
    uint64_t len = strlen(cwd) + 1;
    if (c->a[1] < len)
        return -ERANGE;
    int rc = gmem_copy_to(&job->vm.gm, c->a[0], cwd, len);
    return rc ? rc : (int64_t)len;
}

/* ------------------------------------------------------------------------------------------ */
/* attributes: mode, times, owner */

#define MODE_ALLOWED 01777u /* permission bits and sticky; never setuid or setgid */

int64_t sys_fchmod(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (e->kind == CAP_CONSOLE)
        return -EPERM;
    if ((rc = cap_need(job, c, e, slot, CAP_R_WRITE)))
        return rc;
    return fchmod(e->host_fd, (mode_t)(c->a[1] & MODE_ALLOWED)) < 0 ? -errno : 0;
}

static int64_t do_chmod(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                        uint64_t mode)
{
    struct fs_target t;
    int rc = resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (target_virtual(&t))
        return -EPERM;
    if ((rc = target_need(job, c, &t, CAP_R_WRITE)))
        return rc;
    int fd = target_open(job, c, &t, O_PATH, 0);
    if (fd < 0)
        return fd;
    mode_t m = (mode_t)(mode & MODE_ALLOWED);
    char proc[32];
    int dir = proc_fd_at(fd, proc, sizeof proc);
    rc = dir < 0 ? dir : fchmodat(dir, proc, m, 0) < 0 ? -errno : 0;
    close(fd);
    if (rc == -ENOENT) { /* no /proc (the jailed VMM): reopen the target itself */
        fd = target_open(job, c, &t, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
        if (fd == -EACCES)
            fd = target_open(job, c, &t, O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);
        if (fd < 0)
            return fd;
        rc = fchmod(fd, m) < 0 ? -errno : 0;
        close(fd);
    }
    return rc;
}

int64_t sys_chmod(struct job *job, struct sc_call *c)
{
    return do_chmod(job, c, GUEST_AT_FDCWD, c->a[0], c->a[1]);
}

int64_t sys_fchmodat(struct job *job, struct sc_call *c)
{
    return do_chmod(job, c, c->a[0], c->a[1], c->a[2]);
}

int64_t sys_utimensat(struct job *job, struct sc_call *c)
{
    if (c->a[3] & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct timespec ts[2];
    int rc;
    if (c->a[2] && (rc = gmem_copy_from(&job->vm.gm, ts, c->a[2], sizeof ts)))
        return rc;
    const struct timespec *times = c->a[2] ? ts : NULL;
    char raw[PATH_MAX] = "";
    if (c->a[1]) {
        long n = path_copy(job, c->a[1], raw);
        if (n < 0)
            return n;
    }
    if (!c->a[1] || (!raw[0] && (c->a[3] & AT_EMPTY_PATH) &&
                     (uint32_t)c->a[0] != (uint32_t)AT_FDCWD)) {
        /* futimens: the descriptor itself */
        struct cap *e;
        uint32_t slot;
        if ((rc = fd_cap(job, c, c->a[0], 0, &e, &slot)))
            return rc;
        if (e->kind == CAP_CONSOLE)
            return -EPERM;
        if ((rc = cap_need(job, c, e, slot, CAP_R_WRITE)))
            return rc;
        return fd_utimens(e->host_fd, times);
    }
    if (!raw[0] && (c->a[3] & AT_EMPTY_PATH))
        strcpy(raw, ".");
    struct fs_target t;
    if ((rc = resolve(job, c, c->a[0], raw, &t)))
        return rc;
    if (target_virtual(&t))
        return -EPERM;
    if ((rc = target_need(job, c, &t, CAP_R_WRITE)))
        return rc;
    if ((c->a[3] & AT_SYMLINK_NOFOLLOW) && !t.file_grant && t.rest[0]) {
        const char *last;
        int pfd = target_parent(job, c, &t, &last);
        if (pfd < 0)
            return pfd;
        rc = utimensat(pfd, last, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
        close(pfd);
        return rc;
    }
    int fd = target_open(job, c, &t, O_PATH, 0);
    if (fd < 0)
        return fd;
    rc = fd_utimens(fd, times);
    close(fd);
    return rc;
}

/* Every file in the view belongs to root (uid 0, gid 0): changing the owner to root or to
 * "unchanged" (-1) succeeds without doing anything; any other owner is refused with EPERM. */
static int64_t chown_answer(uint64_t uid, uint64_t gid)
{
    bool uid_ok = (uint32_t)uid == UINT32_MAX || (uint32_t)uid == 0;
    bool gid_ok = (uint32_t)gid == UINT32_MAX || (uint32_t)gid == 0;
    return uid_ok && gid_ok ? 0 : -EPERM;
}

int64_t sys_fchown(struct job *job, struct sc_call *c)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
    if (rc)
        return rc;
    return chown_answer(c->a[1], c->a[2]);
}

int64_t sys_fchownat(struct job *job, struct sc_call *c)
{
    if (c->a[4] & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    char raw[PATH_MAX];
    long n = path_copy(job, c->a[1], raw);
    if (n < 0)
        return n;
    if (n == 0 && (c->a[4] & AT_EMPTY_PATH) && (uint32_t)c->a[0] != (uint32_t)AT_FDCWD) {
        struct cap *e;
        int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
        return rc ? rc : chown_answer(c->a[2], c->a[3]);
    }
    if (n == 0 && (c->a[4] & AT_EMPTY_PATH))
        strcpy(raw, ".");
    struct fs_target t;
    int rc = resolve(job, c, c->a[0], raw, &t);
    if (rc)
        return rc;
    return chown_answer(c->a[2], c->a[3]);
}
