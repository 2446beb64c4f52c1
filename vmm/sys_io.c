/* Descriptor I/O syscalls on the job's descriptor table (fds 0-2 map to isovm's stdio). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>
#include "syscalls.h"

#define MAX_RW_COUNT 0x7ffff000ull   /* Linux caps one read/write at this many bytes */
#define IOV_LIMIT 1024

static int fd_get(struct job *job, uint64_t fd, unsigned need, struct fd_slot **slot)
{
    if (fd >= JOB_MAX_FDS || !job->fds[fd].open)
        return -EBADF;
    if ((job->fds[fd].rights & need) != need)
        return -EBADF;
    *slot = &job->fds[fd];
    return 0;
}

static int64_t host_result(ssize_t n) { return n < 0 ? -(int64_t)errno : (int64_t)n; }

/* Count bytes moved by a host read or write into the job's usage. */
static int64_t io_account(struct job *job, bool is_write, ssize_t n)
{
    int64_t r = host_result(n);
    if (r > 0)
        *(is_write ? &job->stats.bytes_written : &job->stats.bytes_read) += (uint64_t)r;
    return r;
}

/* read/write: one guest buffer, checked for the direction's permission. */
static int64_t io_plain(struct job *job, struct sc_call *c, bool is_write)
{
    struct fd_slot *s;
    int rc = fd_get(job, c->a[0], is_write ? FD_WRITE : FD_READ, &s);
    if (rc)
        return rc;
    uint64_t len = c->a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : c->a[2];
    void *buf;
    if ((rc = gpa_range_check(&job->vm.gm, c->a[1], len, is_write ? GPERM_R : GPERM_W, &buf)))
        return rc;
    if (len == 0)
        return 0;
    return io_account(job, is_write, is_write ? write(s->host_fd, buf, len)
                                              : read(s->host_fd, buf, len));
}

int64_t sys_read(struct job *job, struct sc_call *c) { return io_plain(job, c, false); }
int64_t sys_write(struct job *job, struct sc_call *c) { return io_plain(job, c, true); }

/* Copy and check a guest iovec array once; fill host iovecs. Returns the count or -errno. */
static int iov_import(struct job *job, uint64_t gva, uint64_t cnt, unsigned need,
                      struct iovec *out)
{
    if (cnt > IOV_LIMIT)
        return -EINVAL;
    if (cnt == 0)
        return 0;
    uint64_t raw[2 * IOV_LIMIT];
    int rc = gmem_copy_from(&job->vm.gm, raw, gva, cnt * 16);
    if (rc)
        return rc;
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t base = raw[2 * i], len = raw[2 * i + 1];
        if (len > (uint64_t)SSIZE_MAX || __builtin_add_overflow(total, len, &total) ||
            total > (uint64_t)SSIZE_MAX)
            return -EINVAL;
        void *h;
        if ((rc = gpa_range_check(&job->vm.gm, base, len, need, &h)))
            return rc;
        out[i].iov_base = h;
        out[i].iov_len = len;
    }
    return (int)cnt;
}

/* readv/writev: the iovec array is copied once and every entry checked before any I/O. */
static int64_t io_vector(struct job *job, struct sc_call *c, bool is_write)
{
    struct fd_slot *s;
    int rc = fd_get(job, c->a[0], is_write ? FD_WRITE : FD_READ, &s);
    if (rc)
        return rc;
    struct iovec iov[IOV_LIMIT];
    int n = iov_import(job, c->a[1], c->a[2], is_write ? GPERM_R : GPERM_W, iov);
    if (n <= 0)
        return n;
    return io_account(job, is_write, is_write ? writev(s->host_fd, iov, n)
                                              : readv(s->host_fd, iov, n));
}

int64_t sys_readv(struct job *job, struct sc_call *c) { return io_vector(job, c, false); }
int64_t sys_writev(struct job *job, struct sc_call *c) { return io_vector(job, c, true); }

int64_t sys_close(struct job *job, struct sc_call *c)
{
    struct fd_slot *s;
    int rc = fd_get(job, c->a[0], 0, &s);
    if (rc)
        return rc;
    s->open = false; /* the host descriptor stays isovm's */
    return 0;
}

int64_t sys_ioctl(struct job *job, struct sc_call *c)
{
    struct fd_slot *s;
    int rc = fd_get(job, c->a[0], 0, &s);
    if (rc)
        return rc;
    uint8_t buf[64];
    size_t len;
    switch (c->a[1]) {
    case TCGETS:
        len = 36; /* the kernel's struct termios */
        break;
    case TIOCGWINSZ:
        len = sizeof(struct winsize);
        break;
    default:
        return -ENOTTY;
    }
    if (ioctl(s->host_fd, (unsigned long)c->a[1], buf) < 0)
        return -ENOTTY;
    return gmem_copy_to(&job->vm.gm, c->a[2], buf, len);
}

/* A stat made up for the job: the kind of file and its size, nothing of the host's identity. */
static int64_t stat_fill(struct job *job, struct fd_slot *s, int fd, uint64_t gva)
{
    struct stat host;
    if (fstat(s->host_fd, &host) < 0)
        return -errno;
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_ino = (ino_t)fd + 1;
    st.st_nlink = 1;
    st.st_mode = (host.st_mode & S_IFMT) | ((s->rights & FD_READ) ? 0400 : 0) |
                 ((s->rights & FD_WRITE) ? 0200 : 0);
    if (S_ISREG(host.st_mode))
        st.st_size = host.st_size;
    st.st_blksize = 4096;
    _Static_assert(sizeof st == 144, "x86-64 struct stat");
    return gmem_copy_to(&job->vm.gm, gva, &st, sizeof st);
}

int64_t sys_fstat(struct job *job, struct sc_call *c)
{
    struct fd_slot *s;
    int rc = fd_get(job, c->a[0], 0, &s);
    if (rc)
        return rc;
    return stat_fill(job, s, (int)c->a[0], c->a[1]);
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
        struct fd_slot *s;
        int rc = fd_get(job, c->a[0], 0, &s);
        if (rc)
            return rc;
        return stat_fill(job, s, (int)c->a[0], c->a[2]);
    }
    return -ENOENT; /* the job has no file system yet */
}

int64_t sys_fcntl(struct job *job, struct sc_call *c)
{
    struct fd_slot *s;
    int rc = fd_get(job, c->a[0], 0, &s);
    if (rc)
        return rc;
    switch (c->a[1]) {
    case F_GETFD:
    case F_SETFD:
        return 0;
    case F_GETFL:
        return s->rights == (FD_READ | FD_WRITE) ? O_RDWR : (s->rights & FD_WRITE) ? O_WRONLY : O_RDONLY;
    case F_SETFL:
        return 0;
    default:
        return -EINVAL;
    }
}
