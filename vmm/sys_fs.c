/* The job's file-system view: path syscalls resolved only through the policy's grants. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include "fd.h"
#include "syscalls.h"

/* A stat made up for the job: the kind of file and its size, nothing of the host's identity. */
static int64_t stat_fill(struct job *job, const struct cap *e, int fd, uint64_t gva)
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
    _Static_assert(sizeof st == 144, "x86-64 struct stat");
    return gmem_copy_to(&job->vm.gm, gva, &st, sizeof st);
}

int64_t sys_fstat(struct job *job, struct sc_call *c)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
    if (rc)
        return rc;
    return stat_fill(job, e, (int)c->a[0], c->a[1]);
}

int64_t sys_newfstatat(struct job *job, struct sc_call *c)
{
    const uint64_t known = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH;
    if (c->a[3] & ~known)
        return -EINVAL;
    char path[PATH_MAX];
    long n = gmem_copy_str(&job->vm.gm, path, c->a[1], sizeof path);
    if (n < 0)
        return n;
    if (n == 0 && (c->a[3] & AT_EMPTY_PATH)) {
        struct cap *e;
        int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
        if (rc)
            return rc;
        return stat_fill(job, e, (int)c->a[0], c->a[2]);
    }
    return -ENOENT;
}


int64_t sys_open(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_openat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_stat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_lstat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_access(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_faccessat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_faccessat2(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_getdents64(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_lseek(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_pread64(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_pwrite64(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_mkdir(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_mkdirat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_unlink(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_unlinkat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_rmdir(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_rename(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_renameat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_renameat2(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_ftruncate(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_truncate(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_fsync(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_fdatasync(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_chdir(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_fchdir(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_getcwd(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_symlink(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_symlinkat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_fchmod(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_fchmodat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_chmod(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_utimensat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_fchown(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_fchownat(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

int64_t sys_fadvise64(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS; /* not yet */
}

