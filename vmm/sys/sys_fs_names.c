/* The job's file-system names: mkdir, unlink, rmdir, rename, links, the working directory. */
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

/* ------------------------------------------------------------------------------------------ */
/* directories and names: mkdir, unlink, rmdir, rename, readlink, symlink */

static int64_t do_mkdir(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                        uint64_t mode)
{
    struct fs_target t;
    int rc = fs_resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t) || t.file_grant || !t.rest[0])
        return -EEXIST;
    if ((rc = fs_target_need(job, c, &t, CAP_R_CREATE)))
        return rc;
    const char *last;
    int pfd = fs_target_parent(job, c, &t, &last);
    if (pfd < 0)
        return pfd;
    rc = mkdirat(pfd, last, (mode_t)(mode & 0777 & ~sc_proc(c)->umask)) < 0 ? -errno : 0;
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
    int rc = fs_resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t) || t.file_grant || !t.rest[0])
        return -EBUSY; /* "/", a grant's own root */
    if ((rc = fs_target_need(job, c, &t, CAP_R_DELETE)))
        return rc;
    const char *last;
    int pfd = fs_target_parent(job, c, &t, &last);
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

/* The two names of a rename or a link: both resolved, beneath one grant (EXDEV otherwise: each
 * grant is its own file system), neither a made-up directory, a grant's root nor a file grant
 * (`fixed`: EBUSY for rename, EPERM for link), the rights `from_need` and `to_need`, both
 * parent directories opened. Close with two_names_close. */
struct two_names {
    struct fs_target *from, *to; /* one allocation */
    int pfrom, pto;              /* parent directories (O_PATH), -1 when not opened */
    const char *lfrom, *lto;     /* last components */
};

static void two_names_close(struct two_names *n)
{
    if (n->pfrom >= 0)
        close(n->pfrom);
    if (n->pto >= 0)
        close(n->pto);
    free(n->from);
}

static int two_names_open(struct job *job, struct sc_call *c, uint64_t olddir, uint64_t oldpath,
                          uint64_t newdir, uint64_t newpath, uint32_t from_need, uint32_t to_need,
                          int fixed, struct two_names *n)
{
    *n = (struct two_names){ .pfrom = -1, .pto = -1 };
    if (!(n->from = malloc(2 * sizeof *n->from)))
        return -ENOMEM;
    struct fs_target *from = n->from, *to = n->from + 1;
    n->to = to;
    int rc = fs_resolve_gva(job, c, olddir, oldpath, from);
    if (!rc)
        rc = fs_resolve_gva(job, c, newdir, newpath, to);
    if (rc)
        return rc;
    if (fs_target_virtual(from) || fs_target_virtual(to) || from->file_grant || to->file_grant ||
        !from->rest[0] || !to->rest[0])
        return -fixed;
    if (from->grant != to->grant)
        return -EXDEV;
    if ((rc = fs_target_need(job, c, from, from_need)) ||
        (rc = fs_target_need(job, c, to, to_need)))
        return rc;
    if ((n->pfrom = fs_target_parent(job, c, from, &n->lfrom)) < 0)
        return n->pfrom;
    if ((n->pto = fs_target_parent(job, c, to, &n->lto)) < 0)
        return n->pto;
    return 0;
}

/* A symlink at `from` (the host's: the job makes only downward ones) whose target climbs or is
 * absolute would change meaning under another name or in another place: refused (EPERM,
 * audited as an escape). 0 when it is not a symlink or leads downward. */
static int symlink_keeps_meaning(struct job *job, struct sc_call *c, const struct two_names *n)
{
    char link[PATH_MAX + 1];
    ssize_t len = readlinkat(n->pfrom, n->lfrom, link, sizeof link);
    if (len < 0)
        return 0;
    link[len < (ssize_t)sizeof link ? len : 0] = '\0'; /* longer than PATH_MAX: refused */
    return fsp_symlink_downward(link)
               ? 0 : fs_deny(job, c, DENY_ESCAPE, EPERM, n->from->slot, n->from->guest);
}

static int64_t do_rename(struct job *job, struct sc_call *c, uint64_t olddir, uint64_t oldpath,
                         uint64_t newdir, uint64_t newpath, uint64_t flags)
{
    if (flags & ~(uint64_t)RENAME_NOREPLACE)
        return -EINVAL;
    struct two_names n;
    int rc = two_names_open(job, c, olddir, oldpath, newdir, newpath, CAP_R_DELETE, CAP_R_CREATE,
                            EBUSY, &n);
    if (!rc)
        rc = symlink_keeps_meaning(job, c, &n);
    struct stat st;
    /* replacing an existing name deletes it: DELETE on its side too */
    if (!rc && !(flags & RENAME_NOREPLACE) && fstatat(n.pto, n.lto, &st, AT_SYMLINK_NOFOLLOW) == 0)
        rc = fs_target_need(job, c, n.to, CAP_R_DELETE);
    if (!rc)
        rc = syscall(SYS_renameat2, n.pfrom, n.lfrom, n.pto, n.lto, (unsigned)flags) < 0 ? -errno
                                                                                       : 0;
    two_names_close(&n);
    return rc;
}

/* link, linkat: a new name for an existing file, both beneath one grant (EXDEV otherwise: each
 * grant is its own file system). The source needs READ (as the kernel's protected_hardlinks
 * asks an unprivileged caller for access to it), the new name's directory CREATE. Flags: 0 (a
 * symlink is linked itself) or AT_SYMLINK_FOLLOW (a symlink is followed, beneath its grant;
 * without /proc, in a jailed VMM, EPERM); AT_EMPTY_PATH needs a privilege no job has: ENOENT,
 * as Linux answers it without CAP_DAC_READ_SEARCH. */
static int64_t do_link(struct job *job, struct sc_call *c, uint64_t olddir, uint64_t oldpath,
                       uint64_t newdir, uint64_t newpath, uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    if (flags & AT_EMPTY_PATH)
        return -ENOENT;
    struct two_names n;
    int src = -1;
    int rc = two_names_open(job, c, olddir, oldpath, newdir, newpath, CAP_R_READ, CAP_R_CREATE,
                            EPERM, &n);
    struct stat st;
    if (!rc && fstatat(n.pfrom, n.lfrom, &st, AT_SYMLINK_NOFOLLOW) < 0)
        rc = -errno;
    if (!rc && S_ISDIR(st.st_mode))
        rc = -EPERM; /* as Linux: no hard link to a directory */
    if (rc)
        goto out;
    if (!S_ISLNK(st.st_mode) || !(flags & AT_SYMLINK_FOLLOW)) {
        if (!(rc = symlink_keeps_meaning(job, c, &n)))
            rc = linkat(n.pfrom, n.lfrom, n.pto, n.lto, 0) < 0 ? -errno : 0;
        goto out;
    }
    /* AT_SYMLINK_FOLLOW of a symlink: what it leads to beneath the grant, through /proc */
    if ((src = fs_target_open(job, c, n.from, O_PATH, 0)) < 0) {
        rc = src;
        goto out;
    }
    char proc[32];
    int dir = fs_proc_fd_at(src, proc, sizeof proc);
    rc = dir < 0 ? -EPERM : linkat(dir, proc, n.pto, n.lto, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
out:
    if (src >= 0)
        close(src);
    two_names_close(&n);
    return rc;
}

int64_t sys_link(struct job *job, struct sc_call *c)
{
    return do_link(job, c, GUEST_AT_FDCWD, c->a[0], GUEST_AT_FDCWD, c->a[1], 0);
}

int64_t sys_linkat(struct job *job, struct sc_call *c)
{
    return do_link(job, c, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4]);
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

/* readlink: "/proc/self/exe" is the process's program's path (as Linux answers it); any other path is a
 * symlink in the view, read beneath its grant. */
static int64_t do_readlink(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                           uint64_t buf, uint64_t size)
{
    char raw[PATH_MAX];
    long n = fs_path_copy(c, path, raw);
    if (n < 0)
        return n;
    if ((int64_t)size <= 0)
        return -EINVAL;
    const char *answer = NULL;
    char target[PATH_MAX];
    ssize_t len;
    if (strcmp(raw, "/proc/self/exe") == 0) {
        answer = sc_proc(c)->exe ? sc_proc(c)->exe->path : job->exe_path;
        len = (ssize_t)strlen(answer);
    } else {
        struct fs_target t;
        int rc = fs_resolve(job, c, dirfd, raw, &t);
        if (rc)
            return rc;
        if (fs_target_virtual(&t) || t.file_grant || !t.rest[0])
            return -EINVAL; /* not a symlink */
        if ((rc = fs_target_need(job, c, &t, CAP_R_STAT)))
            return rc;
        const char *last;
        int pfd = fs_target_parent(job, c, &t, &last);
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
    int rc = gmem_copy_to(sc_gm(c), buf, answer, (uint64_t)len);
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
    long n = fs_path_copy(c, target_gva, target);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    struct fs_target t;
    int rc = fs_resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t) || t.file_grant || !t.rest[0])
        return -EEXIST;
    if ((rc = fs_target_need(job, c, &t, CAP_R_CREATE)))
        return rc;
    if (!fsp_symlink_downward(target))
        return fs_deny(job, c, DENY_ESCAPE, EPERM, t.slot, t.guest);
    const char *last;
    int pfd = fs_target_parent(job, c, &t, &last);
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

static int64_t cwd_set(struct job *job, const struct sc_call *c, const char *path)
{
    (void)job;
    if (strlen(path) >= sizeof sc_proc(c)->cwd)
        return -ENAMETOOLONG;
    strcpy(sc_proc(c)->cwd, path);
    return 0;
}

int64_t sys_chdir(struct job *job, struct sc_call *c)
{
    struct fs_target t;
    int rc = fs_resolve_gva(job, c, GUEST_AT_FDCWD, c->a[0], &t);
    if (rc)
        return rc;
    if (!fs_target_virtual(&t)) {
        if (t.file_grant)
            return -ENOTDIR;
        int fd = fs_target_open(job, c, &t, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
            return fd;
        close(fd);
    }
    return cwd_set(job, c, t.guest);
}

int64_t sys_fchdir(struct job *job, struct sc_call *c)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
    if (rc)
        return rc;
    if (e->kind != CAP_DIR)
        return -ENOTDIR;
    return cwd_set(job, c, e->path);
}

int64_t sys_getcwd(struct job *job, struct sc_call *c)
{
    (void)job;
    const char *cwd = sc_proc(c)->cwd[0] ? sc_proc(c)->cwd : "/";
    uint64_t len = strlen(cwd) + 1;
    if (c->a[1] < len)
        return -ERANGE;
    int rc = gmem_copy_to(sc_gm(c), c->a[0], cwd, len);
    return rc ? rc : (int64_t)len;
}

