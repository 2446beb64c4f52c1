/* The job's file attributes: mode, times and owner, through the grants. */
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
/* attributes: mode, times, owner */

#define MODE_ALLOWED 01777u /* permission bits and sticky; never setuid or setgid */

int64_t sys_fchmod(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (cap_is_stream(e))
        return -EPERM;
    if ((rc = cap_need(job, c, e, slot, CAP_R_WRITE)))
        return rc;
    return fchmod(e->host_fd, (mode_t)(c->a[1] & MODE_ALLOWED)) < 0 ? -errno : 0;
}

static int64_t do_chmod(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path,
                        uint64_t mode)
{
    struct fs_target t;
    int rc = fs_resolve_gva(job, c, dirfd, path, &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t))
        return -EPERM;
    if ((rc = fs_target_need(job, c, &t, CAP_R_WRITE)))
        return rc;
    int fd = fs_target_open(job, c, &t, O_PATH, 0);
    if (fd < 0)
        return fd;
    mode_t m = (mode_t)(mode & MODE_ALLOWED);
    char proc[32];
    int dir = fs_proc_fd_at(fd, proc, sizeof proc);
    rc = dir < 0 ? dir : fchmodat(dir, proc, m, 0) < 0 ? -errno : 0;
    close(fd);
    if (rc == -ENOENT) { /* no /proc (the jailed VMM): reopen the target itself */
        fd = fs_target_open(job, c, &t, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
        if (fd == -EACCES)
            fd = fs_target_open(job, c, &t, O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);
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
    if (c->a[2] && (rc = gmem_copy_from(sc_gm(c), ts, c->a[2], sizeof ts)))
        return rc;
    const struct timespec *times = c->a[2] ? ts : NULL;
    char raw[PATH_MAX] = "";
    if (c->a[1]) {
        long n = fs_path_copy(c, c->a[1], raw);
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
        if (cap_is_stream(e))
            return -EPERM;
        if ((rc = cap_need(job, c, e, slot, CAP_R_WRITE)))
            return rc;
        return fs_fd_utimens(e->host_fd, times);
    }
    if (!raw[0] && (c->a[3] & AT_EMPTY_PATH))
        strcpy(raw, ".");
    struct fs_target t;
    if ((rc = fs_resolve(job, c, c->a[0], raw, &t)))
        return rc;
    if (fs_target_virtual(&t))
        return -EPERM;
    if ((rc = fs_target_need(job, c, &t, CAP_R_WRITE)))
        return rc;
    if ((c->a[3] & AT_SYMLINK_NOFOLLOW) && !t.file_grant && t.rest[0]) {
        const char *last;
        int pfd = fs_target_parent(job, c, &t, &last);
        if (pfd < 0)
            return pfd;
        rc = utimensat(pfd, last, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
        close(pfd);
        return rc;
    }
    int fd = fs_target_open(job, c, &t, O_PATH, 0);
    if (fd < 0)
        return fd;
    rc = fs_fd_utimens(fd, times);
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
    long n = fs_path_copy(c, c->a[1], raw);
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
    int rc = fs_resolve(job, c, c->a[0], raw, &t);
    if (rc)
        return rc;
    return chown_answer(c->a[2], c->a[3]);
}

