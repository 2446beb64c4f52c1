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
#include "vmm/caps/audit.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/caps/fd.h"
#include "vmm/sys/io_admit.h"
#include "vmm/sys/read_cache.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_io.h"
#include "vmm/sys/sys_net.h"

#define MAX_RW_COUNT 0x7ffff000ull   /* Linux caps one read/write at this many bytes */

/* One host read or write into guest memory on the held capability's descriptor, with job->lock
 * released, so the job's other threads go on meanwhile (guest RAM stays mapped for the VMM's
 * whole life, so the buffer cannot go away). A kick restarts it unless the job is ending or
 * the capability was revoked (the revoker kicks every thread). Returns bytes or -errno. */
static int64_t host_io(struct job *job, const struct cap_hold *h, bool is_write,
                       const struct iovec *iov, int n, int64_t off)
{
    int fd = h->fd;
    pthread_mutex_unlock(&job->lock);
    ssize_t r;
    do {
        if (off >= 0) /* pread64/pwrite64: at an offset, the position untouched */
            r = is_write ? pwritev(fd, iov, n, off) : preadv(fd, iov, n, off);
        else
            r = is_write ? writev(fd, iov, n) : readv(fd, iov, n);
    } while (r < 0 && errno == EINTR && !job_call_ending(job) && !cap_hold_revoked(job, h));
    int e = errno;
    pthread_mutex_lock(&job->lock);
    return r < 0 ? -(int64_t)e : (int64_t)r;
}

int iov_window(const struct iovec *iov, int n, uint64_t skip, uint64_t max,
                      struct iovec *out)
{
    int k = 0;
    for (int i = 0; i < n && max; i++) {
        uint64_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        uint64_t take = len - skip < max ? len - skip : max;
        out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
        out[k].iov_len = take;
        k++;
        max -= take;
        skip = 0;
    }
    return k;
}

/* Move `total` bytes described by iov through the direction's throttle and the host descriptor.
 * A write goes on until everything is written (as a blocking write to a pipe does); a read
 * returns what one host read gives. Counts bytes and operations. */
/* A throttled read of a regular file already at its end returns 0 without waiting for tokens
 * it would not use. (Pipes and terminals cannot tell; their reads wait as any other.) */
static bool read_at_eof(struct job *job, int host_fd, int64_t off)
{
    if (tb_unlimited(&job->io_read.bytes))
        return false;
    struct stat st;
    if (fstat(host_fd, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    off_t pos = off >= 0 ? off : lseek(host_fd, 0, SEEK_CUR);
    return pos >= 0 && pos >= st.st_size;
}

/* The call holds its capability from start to end (cap_hold.h): a descriptor closed or reused
 * by another thread meanwhile never redirects it, and revocation or expiry, checked at every
 * chunk and every throttle wake-up, stops it with the bytes done so far (a short count, as a
 * signal does on Linux; the error itself when nothing was done). */
static int64_t io_transfer(struct job *job, struct sc_call *c, uint32_t slot, bool is_write,
                           const struct iovec *iov, int n, uint64_t total, int64_t off)
{
    struct cap_hold h;
    int64_t result = cap_hold_begin(job, slot, &h);
    if (result < 0)
        return result;
    bool is_socket = job->caps->caps[slot].kind == CAP_SOCKET;
    uint64_t done = 0;
    bool first = true;
    *(is_write ? &job->stats.write_ops : &job->stats.read_ops) += 1;
    if (!is_write && read_at_eof(job, h.fd, off)) {
        cap_hold_end(job, &h);
        return 0; /* nothing to move: no tokens to wait for */
    }
    do {
        int64_t got = first ? 0 : cap_hold_live(job, c, &h);
        if (got == 0)
            got = io_admit(job, c, &h, is_write, first, total - done);
        if (got < 0) {
            result = got;
            break;
        }
        first = false;
        struct iovec win[IOV_LIMIT];
        int k = iov_window(iov, n, done, (uint64_t)got, win);
        int64_t at = off < 0 ? -1 : off + (int64_t)done;
        int64_t r = k ? host_io(job, &h, is_write, win, k, at) : 0;
        io_refund(job, is_write, r > 0 ? (uint64_t)got - (uint64_t)r : (uint64_t)got);
        if (r < 0) { /* a revocation's kick ends it with the revocation's answer */
            int dead = r == -EINTR ? cap_hold_live(job, c, &h) : 0;
            result = dead ? dead : r;
            break;
        }
        done += (uint64_t)r;
        *(is_write ? &job->stats.bytes_written : &job->stats.bytes_read) += (uint64_t)r;
        if (is_socket)
            *(is_write ? &job->stats.net_bytes_sent : &job->stats.net_bytes_received) += (uint64_t)r;
        /* A write stops early only on the job's end, a device that takes nothing more, or the
         * capability's revocation or expiry (checked at the next chunk); a short count from a
         * kick (quota, shootdown) is carried on, as the job asked for all. */
        if (!is_write || r == 0 || job_call_ending(job))
            break;
    } while (done < total);
    cap_hold_end(job, &h);
    return done ? (int64_t)done : result;
}

int64_t io_buffer(struct job *job, struct sc_call *c, uint32_t slot, bool is_write, uint64_t gva,
                  uint64_t len, int64_t off)
{
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    void *buf;
    int rc = gpa_range_check(sc_gm(c), gva, len, is_write ? GPERM_R : GPERM_W, &buf);
    if (rc)
        return rc;
    if (len == 0)
        return 0;
    struct iovec one = { .iov_base = buf, .iov_len = len };
    if (!is_write && off < 0 && job->caps->caps[slot].kind == CAP_SOCKET)
        return net_read(job, c, slot, &one, 1, len); /* datagrams filtered by source */
    return io_transfer(job, c, slot, is_write, &one, 1, len, off);
}

/* read/write and pread64/pwrite64 (`at`: at offset a[3], which needs the seek right and a
 * file): one guest buffer, checked for the direction's permission. */
static int64_t io_plain(struct job *job, struct sc_call *c, bool is_write, bool at)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], is_write ? CAP_R_WRITE : CAP_R_READ, &e, &slot);
    if (rc)
        return rc;
    int64_t off = -1;
    if (at) {
        if (cap_is_stream(e))
            return -ESPIPE;
        if ((int64_t)c->a[3] < 0)
            return -EINVAL;
        if ((rc = cap_need(job, c, e, slot, CAP_R_SEEK)))
            return rc;
        off = (int64_t)c->a[3];
    }
    bool pipe = e->kind == CAP_PIPE;
    int64_t r = io_buffer(job, c, slot, is_write, c->a[1], c->a[2], off);
    if (r == -EPIPE && pipe)
        return sys_pipe_broken(job, c); /* no reader left: SIGPIPE */
    if (!at && !is_write && r > 0 && (uint64_t)r == c->a[2])
        read_cache_fill(job, c, slot, c->a[0], c->a[1], c->a[2]);
    return r;
}

int64_t sys_read(struct job *job, struct sc_call *c) { return io_plain(job, c, false, false); }
int64_t sys_write(struct job *job, struct sc_call *c) { return io_plain(job, c, true, false); }
int64_t sys_pread64(struct job *job, struct sc_call *c) { return io_plain(job, c, false, true); }
int64_t sys_pwrite64(struct job *job, struct sc_call *c) { return io_plain(job, c, true, true); }

int iov_import(struct job *job, const struct sc_call *c, uint64_t gva, uint64_t cnt, unsigned need,
                      struct iovec *out, uint64_t *total_out)
{
    (void)job;
    if (cnt > IOV_LIMIT)
        return -EINVAL;
    *total_out = 0;
    if (cnt == 0)
        return 0;
    uint64_t raw[2 * IOV_LIMIT];
    int rc = gmem_copy_from(sc_gm(c), raw, gva, cnt * 16);
    if (rc)
        return rc;
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t base = raw[2 * i], len = raw[2 * i + 1];
        if (len > (uint64_t)SSIZE_MAX || __builtin_add_overflow(total, len, &total) ||
            total > (uint64_t)SSIZE_MAX)
            return -EINVAL;
        void *h;
        if ((rc = gpa_range_check(sc_gm(c), base, len, need, &h)))
            return rc;
        out[i].iov_base = h;
        out[i].iov_len = len;
    }
    *total_out = total;
    return (int)cnt;
}

/* readv/writev: the iovec array is copied once and every entry checked before any I/O. */
static int64_t io_vector(struct job *job, struct sc_call *c, bool is_write)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], is_write ? CAP_R_WRITE : CAP_R_READ, &e, &slot);
    if (rc)
        return rc;
    struct iovec iov[IOV_LIMIT];
    uint64_t total;
    int n = iov_import(job, c, c->a[1], c->a[2], is_write ? GPERM_R : GPERM_W, iov, &total);
    if (n <= 0 || total == 0)
        return n < 0 ? n : 0;
    if (!is_write && e->kind == CAP_SOCKET)
        return net_read(job, c, slot, iov, n, total); /* datagrams filtered by source */
    bool pipe = e->kind == CAP_PIPE;
    int64_t r = io_transfer(job, c, slot, is_write, iov, n, total, -1);
    return r == -EPIPE && pipe ? sys_pipe_broken(job, c) : r; /* no reader left: SIGPIPE */
}

int64_t sys_readv(struct job *job, struct sc_call *c) { return io_vector(job, c, false); }
int64_t sys_writev(struct job *job, struct sc_call *c) { return io_vector(job, c, true); }

int64_t sys_close(struct job *job, struct sc_call *c)
{
    return fd_close(job, sc_proc(c), c->a[0]); /* a revoked or expired descriptor closes as any other */
}

int64_t sys_ioctl(struct job *job, struct sc_call *c)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
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
    if (!cap_is_stream(e) || ioctl(e->host_fd, (unsigned long)c->a[1], buf) < 0)
        return -ENOTTY;
    return gmem_copy_to(sc_gm(c), c->a[2], buf, len);
}

/* Make `to` a second handle on what `from` holds (a delegation of the same capability). */
static int fd_dup(struct job *job, struct sc_call *c, uint64_t from, int to, bool cloexec)
{
    const struct fd_slot *src = &sc_proc(c)->fds[from];
    uint32_t slot = src->cap;
    fd_bind(job, sc_proc(c), to, slot, cloexec, src->access);
    sc_proc(c)->fds[to].status = src->status;
    audit_cap(job, "delegate", slot, to, c->nr, "job");
    return to;
}

int64_t sys_dup(struct job *job, struct sc_call *c)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
    if (rc)
        return rc;
    int to = fd_alloc(job, c, 0);
    return to < 0 ? to : fd_dup(job, c, c->a[0], to, false);
}

static int64_t dup_to(struct job *job, struct sc_call *c, uint64_t newfd, bool cloexec)
{
    struct cap *e;
    int rc = fd_cap(job, c, c->a[0], 0, &e, NULL);
    if (rc)
        return rc;
    if (newfd == c->a[0])
        return (int64_t)newfd; /* dup2 onto itself: nothing to do (dup3 refuses it earlier) */
    if (newfd >= sc_proc(c)->fds_max) {
        job->stats.caps_refused++;
        job_count_denied(job, c->nr);
        audit_deny(job, DENY_LIMIT, c->nr, EBADF, CAP_NONE, NULL);
        return -EBADF; /* as Linux does beyond RLIMIT_NOFILE */
    }
    return fd_dup(job, c, c->a[0], (int)newfd, cloexec);
}

int64_t sys_dup2(struct job *job, struct sc_call *c)
{
    return dup_to(job, c, c->a[1], false);
}

int64_t sys_dup3(struct job *job, struct sc_call *c)
{
    if (c->a[2] & ~(uint64_t)O_CLOEXEC || c->a[0] == c->a[1])
        return -EINVAL;
    return dup_to(job, c, c->a[1], c->a[2] & O_CLOEXEC);
}

int64_t sys_fcntl(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    struct fd_slot *s = &sc_proc(c)->fds[c->a[0]];
    switch (c->a[1]) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        int to = fd_alloc(job, c, c->a[2]);
        return to < 0 ? to : fd_dup(job, c, c->a[0], to, c->a[1] == F_DUPFD_CLOEXEC);
    }
    case F_GETFD:
        return s->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        s->cloexec = c->a[2] & FD_CLOEXEC;
        return 0;
    case F_GETFL:
        return (int64_t)(s->access | s->status);
    case F_SETFL:
        /* O_APPEND and O_NONBLOCK are remembered for F_GETFL; isovm's own descriptor keeps its
         * mode (writes at an offset go through pwrite64, which checks rights itself). */
        s->status = (uint32_t)(c->a[2] & (O_APPEND | O_NONBLOCK));
        if (e->kind == CAP_FILE && fcntl(e->host_fd, F_SETFL, (int)(s->status & O_APPEND)) < 0)
            return -errno;
        /* a socket's host descriptor blocks as the job's does (sys_net.c) */
        if ((e->kind == CAP_SOCKET || e->kind == CAP_PIPE || e->kind == CAP_EVENTFD) &&
            fcntl(e->host_fd, F_SETFL, (int)(s->status & O_NONBLOCK)) < 0)
            return -errno;
        return 0;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return fcntl_lock(job, c, e, slot, s); /* sys_lock.c */
    default:
        return -EINVAL;
    }
}
