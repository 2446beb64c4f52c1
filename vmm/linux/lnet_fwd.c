/* A guest connection spliced to a real one: non-blocking connect, bounded buffers each way, EOF passed on as a shutdown for writing. */
#include "vmm/linux/lnet_fwd.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lnet_fwd_open(struct lnet_fwd *f, unsigned ep, int guest_fd, const struct sockaddr *addr,
                  socklen_t addrlen)
{
    memset(f, 0, sizeof(*f));
    f->guest_fd = guest_fd;
    f->host_fd = -1;
    f->ep = ep;
    f->pidx_guest = f->pidx_host = -1;
    f->up.pipe[0] = f->up.pipe[1] = f->down.pipe[0] = f->down.pipe[1] = -1;
    /* up (guest to host) through a buffer; down, the bulk of most jobs' traffic (downloads,
     * package fetches), through a pipe: splice moves the pages, the VMM copies nothing */
    f->up.buf = malloc(LNET_FWD_BUF);
    int err = -ENOMEM;
    if (!f->up.buf)
        goto fail;
    if (pipe2(f->down.pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        err = -errno;
        goto fail;
    }
    f->host_fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->host_fd < 0) {
        err = -errno;
        goto fail;
    }
    if (connect(f->host_fd, addr, addrlen) < 0) {
        if (errno != EINPROGRESS) {
            err = -errno;
            goto fail;
        }
        f->connecting = true;
    }
    f->used = true;
    return 0;
fail:
    f->used = true;
    lnet_fwd_close(f);
    return err;
}

void lnet_fwd_close(struct lnet_fwd *f)
{
    if (!f->used)
        return;
    if (f->guest_fd >= 0)
        close(f->guest_fd);
    if (f->host_fd >= 0)
        close(f->host_fd);
    for (int i = 0; i < 2; i++)
        if (f->down.pipe[i] >= 0)
            close(f->down.pipe[i]);
    free(f->up.buf);
    memset(f, 0, sizeof(*f));
    f->guest_fd = f->host_fd = -1;
    f->up.pipe[0] = f->up.pipe[1] = f->down.pipe[0] = f->down.pipe[1] = -1;
}

static short dir_events(const struct lnet_fwd_dir *from_me, const struct lnet_fwd_dir *to_me)
{
    short ev = 0;
    if (!from_me->eof && from_me->len < LNET_FWD_BUF && !from_me->stalled)
        ev |= POLLIN;
    if (to_me->len > to_me->off)
        ev |= POLLOUT;
    return ev;
}

short lnet_fwd_guest_events(const struct lnet_fwd *f)
{
    return dir_events(&f->up, &f->down);
}

short lnet_fwd_host_events(const struct lnet_fwd *f)
{
    if (f->connecting)
        return POLLOUT;
    return dir_events(&f->down, &f->up);
}

static bool hard_error(void)
{
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

/* What one read into d (recv into its buffer, or splice into its pipe) returned: r bytes more
 * pending, or the end of the stream. -1 on an error of the socket. */
static int dir_took(struct lnet_fwd_dir *d, ssize_t r, bool *progress)
{
    if (r > 0) {
        d->len += (size_t)r;
        *progress = true;
    } else if (r == 0) {
        d->eof = true;
    } else if (hard_error()) {
        return -1;
    }
    return 0;
}

/* Read from `from` into d while there is room; write d out to `to`; pass the EOF on once d is
 * drained. A direction with a pipe (d->buf NULL) moves its bytes by splice, socket to pipe to
 * socket, and counts them as a buffer's: len - off of them in the pipe. -1 on an error of either
 * socket. */
static int move(struct lnet_fwd_dir *d, int from, int to)
{
    const unsigned sf = SPLICE_F_NONBLOCK | SPLICE_F_MOVE;
    for (;;) {
        bool progress = false;
        if (!d->eof) {
            if (d->off == d->len)
                d->off = d->len = 0;
            else if (d->len == LNET_FWD_BUF && d->off) {
                if (d->buf)
                    memmove(d->buf, d->buf + d->off, d->len - d->off);
                d->len -= d->off;
                d->off = 0;
            }
            if (d->len < LNET_FWD_BUF) {
                size_t room = LNET_FWD_BUF - d->len;
                ssize_t r = d->buf ? recv(from, d->buf + d->len, room, MSG_DONTWAIT)
                                   : splice(from, NULL, d->pipe[1], NULL, room, sf);
                if (dir_took(d, r, &progress) < 0)
                    return -1;
                d->stalled = !d->buf && r < 0 && d->len > d->off;
            }
        }
        if (d->len > d->off) {
            size_t n = d->len - d->off;
            ssize_t w = d->buf ? send(to, d->buf + d->off, n, MSG_DONTWAIT | MSG_NOSIGNAL)
                               : splice(d->pipe[0], NULL, to, NULL, n, sf);
            if (w > 0) {
                d->off += (size_t)w;
                d->stalled = false;
                progress = true;
            } else if (w < 0 && hard_error()) {
                return -1;
            }
        }
        if (d->eof && d->off == d->len && !d->shut) {
            shutdown(to, SHUT_WR);
            d->shut = true;
        }
        if (!progress)
            return 0;
    }
}

int lnet_fwd_pump(struct lnet_fwd *f, bool *connected)
{
    *connected = false;
    if (f->connecting) {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(f->host_fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
            err = errno;
        if (err == EINPROGRESS || err == EALREADY)
            return 1;
        if (err) {
            lnet_fwd_close(f);
            return -1;
        }
        /* SO_ERROR 0 also before the connect finished: only a writable socket is connected */
        struct pollfd p = { .fd = f->host_fd, .events = POLLOUT };
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT))
            return 1;
        f->connecting = false;
        *connected = true;
    }
    if (move(&f->up, f->guest_fd, f->host_fd) < 0 || move(&f->down, f->host_fd, f->guest_fd) < 0) {
        lnet_fwd_close(f);
        return -1;
    }
    if (f->up.shut && f->down.shut) {
        lnet_fwd_close(f);
        return 0;
    }
    return 1;
}
