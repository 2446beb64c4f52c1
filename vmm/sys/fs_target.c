/* Guest paths resolved beneath the grants: targets, refusals, host opens beneath a grant. */
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
#include "vmm/sys/fs_target.h"


/* The grant whose root `slot` descends from, or -1. */
int fs_grant_of_slot(const struct job *job, uint32_t slot)
{
    uint32_t root;
    if (cap_chain(job->caps, slot, &root, 1) < 1)
        return -1;
    return grants_index_of_root(job, root);
}

/* A refusal of path `t` (or `path`): counted, logged, returned. */
int fs_deny(struct job *job, const struct sc_call *c, enum deny_kind kind, int err,
            uint32_t slot, const char *path)
{
    audit_deny(job, kind, c->nr, err, slot, path);
    return -err;
}

/* Does the target's capability carry every right in `need`? 0 or -EACCES (audited). */
int fs_target_need(struct job *job, const struct sc_call *c, const struct fs_target *t,
                   uint32_t need)
{
    if ((need & ~t->cap->rights) == 0)
        return 0;
    return fs_deny(job, c, DENY_RIGHTS, EACCES, t->slot, t->guest);
}

/* Copy a guest path once (PATH_MAX with its NUL). Length, -EFAULT or -ENAMETOOLONG. */
long fs_path_copy(const struct sc_call *c, uint64_t gva, char *out)
{
    return gmem_copy_str(sc_gm(c), out, gva, PATH_MAX);
}

/* Resolve `raw` relative to dirfd (GUEST_AT_FDCWD: the working directory) to a target. The
 * capability found is checked live (revoked: -EKEYREVOKED, expired: -EKEYEXPIRED); rights are
 * the caller's to check. Outside every grant: -ENOENT (audited as outside-grants). */
int fs_resolve(struct job *job, const struct sc_call *c, uint64_t dirfd, const char *raw,
               struct fs_target *t)
{
    const char *base = sc_proc(c)->cwd[0] ? sc_proc(c)->cwd : "/";
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
            return fs_deny(job, c, DENY_OUTSIDE, ENOENT, dir_slot, t->guest);
        t->slot = dir_slot;
        t->cap = dir;
        t->grant = fs_grant_of_slot(job, dir_slot);
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
        return fs_deny(job, c, DENY_OUTSIDE, ENOENT, CAP_NONE, t->guest);
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
int fs_resolve_gva(struct job *job, const struct sc_call *c, uint64_t dirfd, uint64_t gva,
                   struct fs_target *t)
{
    char raw[PATH_MAX];
    long n = fs_path_copy(c, gva, raw);
    if (n < 0)
        return (int)n;
    return fs_resolve(job, c, dirfd, raw, t);
}

/* A host errno from resolution beneath a grant: leaving it (EXDEV from RESOLVE_BENEATH or
 * RESOLVE_NO_XDEV, ELOOP from RESOLVE_NO_MAGICLINKS) is refused as EACCES, audited as escape. */
int fs_host_err(struct job *job, const struct sc_call *c, const struct fs_target *t, int err,
                bool nofollow)
{
    if (err == EXDEV || (err == ELOOP && !nofollow))
        return fs_deny(job, c, DENY_ESCAPE, EACCES, t->slot, t->guest);
    return -err;
}

int fs_openat2_beneath(int dirfd, const char *rest, uint64_t flags, uint64_t mode)
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
int fs_proc_fd_at(int fd, char *buf, size_t len)
{
    if (proc_fd_dir < 0)
        return -ENOENT;
    snprintf(buf, len, "%d", fd);
    return proc_fd_dir;
}

/* Operations on a host descriptor (often O_PATH) without /proc where the kernel allows it (the
 * jailed VMM has no /proc), through /proc/self/fd otherwise. */
int fs_fd_access(int fd, int mode)
{
    if (syscall(SYS_faccessat2, fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL)
        return -errno;
    char proc[32];
    int dir = fs_proc_fd_at(fd, proc, sizeof proc);
    if (dir < 0)
        return dir;
    return faccessat(dir, proc, mode, AT_EACCESS) < 0 ? -errno : 0;
}

int fs_fd_utimens(int fd, const struct timespec *times)
{
    if (utimensat(fd, "", times, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOENT)
        return -errno;
    char proc[32];
    int dir = fs_proc_fd_at(fd, proc, sizeof proc);
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
int fs_target_open(struct job *job, const struct sc_call *c, const struct fs_target *t,
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
        fd = fs_openat2_beneath(t->cap->host_fd, t->rest, flags, mode);
        if (fd < 0 && -fd != ENXIO)
            return fs_host_err(job, c, t, -fd, flags & O_NOFOLLOW);
    }
    if (fd == -ENXIO) /* the kernel's: a FIFO without a reader, a device without a driver */
        return fs_deny(job, c, DENY_SPECIAL, ENXIO, t->slot, t->guest);
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
        return fs_deny(job, c, DENY_SPECIAL, ENXIO, t->slot, t->guest);
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
int fs_target_parent(struct job *job, const struct sc_call *c, const struct fs_target *t,
                     const char **last)
{
    char dir[PATH_MAX];
    if (t->file_grant || !t->rest[0])
        return -EBUSY;
    *last = fsp_split(t->rest, dir, sizeof dir);
    if (!*last)
        return -ENAMETOOLONG;
    int fd = fs_openat2_beneath(t->cap->host_fd, dir, O_PATH | O_DIRECTORY, 0);
    return fd < 0 ? fs_host_err(job, c, t, -fd, false) : fd;
}
