/* The shared file system's worker: takes each virtio-9p request from the queue under the devices' lock, serves it without that lock, and pushes the reply. */
#include "vmm/share/share.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "devices/virtio/le.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/test_hooks.h"

/* How long share_stop waits for a worker in a host call before the VMM goes on without it. */
#define SHARE_STOP_WAIT_MS 50

static void share_kick(void *ctx)
{
    struct share *sh = ctx;
    uint64_t one = 1;
    if (write(sh->wake_fd, &one, sizeof one) < 0)
        log_debug("share wake eventfd: %s", strerror(errno));
}

/* The io bucket's tokens for one operation and `bytes` bytes, waited for in the worker (never
 * in a vCPU, never with the devices' lock held while waiting). */
static int share_throttle(void *ctx, bool write, uint64_t bytes)
{
    struct share *sh = ctx;
    struct io_throttle *io = write ? sh->io_write : sh->io_read;
    bool owe_op = true;
    uint64_t owe = bytes, since = 0;
    for (;;) {
        pthread_mutex_lock(sh->dev_lock);
        uint64_t now = mono_ns(), w = 0;
        while (owe_op || owe) {
            if ((w = io_throttle_wait_ns(io, owe_op, owe, now)))
                break;
            uint64_t got = io_throttle_take(io, owe_op, owe, now);
            owe_op = false;
            owe -= got < owe ? got : owe;
        }
        pthread_mutex_unlock(sh->dev_lock);
        if (!owe_op && !owe)
            break;
        if (!since)
            since = now;
        /* a millisecond late at most: the bucket keeps refilling meanwhile, so only the last
         * wait of a request can add to its time */
        struct pollfd p = { .fd = sh->stop_fd, .events = POLLIN };
        if (poll(&p, 1, (int)((w + 999999) / 1000000)) > 0 || atomic_load(&sh->stopping))
            return -EINTR;
    }
    if (since)
        *(write ? &sh->write_throttled_ns : &sh->read_throttled_ns) += mono_ns() - since;
    return 0;
}

static void share_refund(void *ctx, bool write, uint64_t bytes)
{
    struct share *sh = ctx;
    pthread_mutex_lock(sh->dev_lock);
    io_throttle_refund(write ? sh->io_write : sh->io_read, bytes);
    pthread_mutex_unlock(sh->dev_lock);
}

/* An error reply built here (the request could not be handed to the server): Rlerror. */
static uint32_t share_error(struct share *sh, const struct virtq_chain *c, uint16_t tag, int err)
{
    uint8_t out[11];
    le_put(out, sizeof out, 4);
    out[4] = P9_RLERROR;
    le_put(out + 5, tag, 2);
    le_put(out + 7, (uint32_t)-err, 4);
    sh->srv.stats.requests++;
    sh->srv.stats.errors++;
    sh->srv.stats.malformed++;
    if (c->write_len < sizeof out || virtq_chain_write(&sh->dev.vq, c, 0, out, sizeof out))
        return 0;
    return sizeof out;
}

/* Serve one chain: the request's bytes copied out once (Twrite's data left in guest RAM, as
 * iovecs), the reply written into the writable part. Returns the bytes written. */
static uint32_t share_serve(struct share *sh, const struct virtq_chain *c)
{
    const struct virtq *q = &sh->dev.vq;
    uint8_t hdr[P9_HDR_LEN];
    if (c->read_len < P9_HDR_LEN || virtq_chain_read(q, c, 0, hdr, P9_HDR_LEN))
        return share_error(sh, c, P9_NOTAG, -EPROTO);
    uint32_t size = (uint32_t)le_get(hdr, 4);
    uint8_t type = hdr[4];
    uint16_t tag = (uint16_t)le_get(hdr + 5, 2);
    if (size < P9_HDR_LEN || size > c->read_len)
        return share_error(sh, c, tag, -EPROTO);
    struct p9_msg m = { .req = sh->req, .size = size };
    struct iovec wiov[P9_IOV_MAX];
    if (type == P9_TWRITE) {
        if (size < P9_TWRITE_HDR || virtq_chain_read(q, c, 0, sh->req, P9_TWRITE_HDR))
            return share_error(sh, c, tag, -EPROTO);
        m.req_len = P9_TWRITE_HDR;
        m.wdata_len = size - P9_TWRITE_HDR;
        int n = virtq_chain_iov(q, c, false, P9_TWRITE_HDR, m.wdata_len, wiov, P9_IOV_MAX);
        if (n < 0)
            return share_error(sh, c, tag, -EPROTO);
        m.wdata = wiov;
        m.nwdata = (unsigned)n;
    } else {
        if (size > P9_REQ_MAX)
            return share_error(sh, c, tag, -EMSGSIZE);
        if (virtq_chain_read(q, c, 0, sh->req, size))
            return share_error(sh, c, tag, -EPROTO);
        m.req_len = size;
    }
    uint32_t msize = sh->srv.msize ? sh->srv.msize : P9_MSIZE_MAX;
    m.reply = sh->reply;
    m.reply_cap = c->write_len < msize ? c->write_len : msize;
    if (type == P9_TREAD && c->write_len > P9_RREAD_HDR) {
        int n = virtq_chain_iov(q, c, true, P9_RREAD_HDR, c->write_len - P9_RREAD_HDR, sh->iov, P9_IOV_MAX);
        if (n < 0)
            return share_error(sh, c, tag, -EPROTO);
        m.rdata = sh->iov;
        m.nrdata = (unsigned)n;
        m.rdata_cap = c->write_len - P9_RREAD_HDR;
    }
    if (test_hook("share-hang")) /* a host call that never returns, whatever the signals */
        for (;;)
            poll(NULL, 0, -1);
    size_t len = p9_server_handle(&sh->srv, &m);
    if (atomic_load(&sh->stopping))
        return 0; /* abandoned, perhaps: guest RAM may be going away */
    /* an Rread's data is in place already: only its header is copied */
    size_t copy = sh->reply[4] == P9_TREAD + 1 ? P9_RREAD_HDR : len;
    if (len < P9_HDR_LEN || copy > c->write_len || virtq_chain_write(q, c, 0, sh->reply, copy))
        return 0;
    return (uint32_t)len;
}

static void *share_thread(void *arg)
{
    struct share *sh = arg;
    /* share_stop's kick (a handler without SA_RESTART) ends a host call that a signal can
     * interrupt, with EINTR */
    if (sh->kick_signal) {
        sigset_t kick;
        sigemptyset(&kick);
        sigaddset(&kick, sh->kick_signal);
        pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
    }
    while (!atomic_load(&sh->stopping)) {
        uint32_t gen = 0;
        pthread_mutex_lock(sh->dev_lock);
        int rc = vp9_pop(&sh->dev, &sh->chain, &gen);
        pthread_mutex_unlock(sh->dev_lock);
        if (rc == 1) {
            uint32_t written = share_serve(sh, &sh->chain);
            if (atomic_load(&sh->stopping))
                break; /* the device may be gone: its reset drops the reply anyway */
            pthread_mutex_lock(sh->dev_lock);
            vp9_complete(&sh->dev, gen, sh->chain.head, written);
            pthread_mutex_unlock(sh->dev_lock);
            continue;
        }
        struct pollfd p[2] = { { .fd = sh->wake_fd, .events = POLLIN }, { .fd = sh->stop_fd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            log_err("the shared file system's worker: poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents)
            break;
        uint64_t v;
        if (p[0].revents && read(sh->wake_fd, &v, sizeof v) < 0)
            log_debug("share wake eventfd: %s", strerror(errno));
    }
    return NULL;
}

int share_init(struct share *sh, struct job *job, const struct guest_ram *ram, const char *tag,
               pthread_mutex_t *dev_lock, struct io_throttle *io_read, struct io_throttle *io_write)
{
    memset(sh, 0, sizeof *sh);
    sh->wake_fd = sh->stop_fd = -1;
    sh->dev_lock = dev_lock;
    sh->io_read = io_read;
    sh->io_write = io_write;
    p9_server_init(&sh->srv, job);
    sh->srv.throttle = share_throttle;
    sh->srv.refund = share_refund;
    sh->srv.throttle_ctx = sh;
    int rc = vp9_init(&sh->dev, ram, tag);
    if (rc < 0) {
        log_err("the shared file system's device: %s", strerror(-rc));
        return rc;
    }
    sh->dev.kick = share_kick;
    sh->dev.kick_ctx = sh;
    sh->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    sh->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    sh->req = malloc(P9_REQ_MAX);
    sh->reply = malloc(P9_MSIZE_MAX);
    if (sh->wake_fd < 0 || sh->stop_fd < 0 || !sh->req || !sh->reply) {
        log_err("the shared file system: %s", strerror(errno ? errno : ENOMEM));
        return -ENOMEM;
    }
    return 0;
}

int share_start(struct share *sh)
{
    int rc = pthread_create(&sh->thread, NULL, share_thread, sh);
    if (rc) {
        log_err("cannot start the shared file system's worker: %s", strerror(rc));
        return -rc;
    }
    sh->started = true;
    return 0;
}

void share_stop(struct share *sh)
{
    if (!sh->started)
        return;
    atomic_store(&sh->stopping, true);
    uint64_t one = 1;
    if (write(sh->stop_fd, &one, sizeof one) < 0)
        log_debug("share stop eventfd: %s", strerror(errno));
    /* a worker in a host call: kicked every 10 ms (a kick that came just before the call began
     * is lost) until it returns; one that never does (a hung network file system) is left
     * behind after SHARE_STOP_WAIT_MS, with what it uses, and the VMM goes on to its end */
    sh->started = false;
    uint64_t deadline = mono_ns() + SHARE_STOP_WAIT_MS * 1000000ull;
    for (;;) {
        struct timespec until = ns_ts(clock_ns(CLOCK_REALTIME) + 10000000);
        if (pthread_timedjoin_np(sh->thread, NULL, &until) == 0)
            return;
        if (mono_ns() >= deadline)
            break;
        if (sh->kick_signal)
            pthread_kill(sh->thread, sh->kick_signal);
    }
    sh->abandoned = true;
    log_warn("the shared file system's worker is still in a host call after %d ms (a hung file "
             "system?): the VMM ends without it", SHARE_STOP_WAIT_MS);
}

void share_fini(struct share *sh)
{
    share_stop(sh);
    if (sh->abandoned)
        return; /* the worker may still use all of it: the process's end frees it */
    p9_server_fini(&sh->srv);
    if (sh->wake_fd >= 0)
        close(sh->wake_fd);
    if (sh->stop_fd >= 0)
        close(sh->stop_fd);
    sh->wake_fd = sh->stop_fd = -1;
    free(sh->req);
    free(sh->reply);
    sh->req = sh->reply = NULL;
}
