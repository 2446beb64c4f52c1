/* The Linux tier's devices: set up, wired to KVM (ioeventfd, irqfd), served by one device thread. */
#include "vmm/linux/ldev.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"

/* I/O APIC pins for the virtio-mmio devices: not the PIT's (0, 2), the keyboard's (1), COM1's
 * (4), the RTC's (8) or ACPI's SCI (9) */
static const uint8_t ldev_gsis[] = { 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 };

static void ldev_uart_flush(struct ldev *d)
{
    if (d->console_log_fd >= 0 && d->uart_len) {
        size_t off = 0;
        while (off < d->uart_len) {
            ssize_t n = write(d->console_log_fd, d->uart_buf + off, d->uart_len - off);
            if (n <= 0)
                break; /* the console log is best effort */
            off += (size_t)n;
        }
    }
    d->uart_len = 0;
}

static void ldev_uart_tx(void *ctx, uint8_t byte)
{
    struct ldev *d = ctx;
    d->serial_bytes++;
    if (d->boot_log && d->boot_log_len < d->boot_log_cap)
        d->boot_log[d->boot_log_len++] = (char)byte;
    if (d->console_log_fd < 0)
        return;
    d->uart_buf[d->uart_len++] = (char)byte;
    if (byte == '\n' || d->uart_len == sizeof d->uart_buf)
        ldev_uart_flush(d);
}

static void ldev_status_end(void *ctx, uint8_t kind, uint32_t detail)
{
    (void)kind;
    (void)detail;
    struct ldev *d = ctx;
    if (d->on_end)
        d->on_end(d->end_ctx);
}

/* ---- the console's host side: isovm's own descriptors, never blocking ---- */

static bool ldev_fd_ready(int fd, short ev)
{
    struct pollfd p = { .fd = fd, .events = ev };
    return poll(&p, 1, 0) == 1 && (p.revents & (ev | POLLHUP | POLLERR));
}

static ssize_t ldev_host_read(void *ctx, unsigned port, void *buf, size_t len)
{
    struct ldev *d = ctx;
    if (d->streams_held)
        return -EAGAIN; /* no job yet: its stdin comes with it */
    if (port != LDEV_PORT_STDIN || d->in_fd < 0 || d->in_ended)
        return 0;
    if (!ldev_fd_ready(d->in_fd, POLLIN))
        return -EAGAIN;
    ssize_t n = read(d->in_fd, buf, len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return -EAGAIN;
    if (n <= 0)
        d->in_ended = true;
    return n < 0 ? -errno : n;
}

static ssize_t ldev_host_write(void *ctx, unsigned port, const void *buf, size_t len)
{
    struct ldev *d = ctx;
    if (d->streams_held)
        return -EAGAIN; /* held until the job's stdout and stderr come */
    int fd = port == LDEV_PORT_STDOUT ? d->out_fd : port == LDEV_PORT_STDERR ? d->err_fd : -1;
    if (fd < 0)
        return -EBADF;
    if (!ldev_fd_ready(fd, POLLOUT))
        return -EAGAIN;
    /* a pipe that polls writable has room for a page: never more at once, so write never blocks */
    ssize_t n = write(fd, buf, len < 4096 ? len : 4096);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return -EAGAIN;
    return n < 0 ? -errno : n;
}

static void ldev_irq(void *ctx)
{
    struct ldev_mmio *w = ctx;
    uint64_t one = 1;
    if (write(w->irqfd, &one, sizeof one) < 0)
        log_debug("irqfd write: %s", strerror(errno));
}

static int ldev_wire(struct ldev *d, struct vmmio *dev)
{
    if (d->nmmio >= LDEV_MAX_MMIO || d->nmmio >= sizeof ldev_gsis)
        return -E2BIG;
    struct ldev_mmio *w = &d->mmio[d->nmmio];
    memset(w, 0, sizeof *w);
    w->dev = dev;
    w->base = LDEV_MMIO_BASE + d->nmmio * VMMIO_WINDOW;
    w->gsi = ldev_gsis[d->nmmio];
    w->nqueues = dev->nqueues;
    for (unsigned q = 0; q < VMMIO_MAX_QUEUES; q++)
        w->ioeventfd[q] = -1;
    w->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->irqfd < 0)
        return -errno;
    d->nmmio++;
    struct kvm_irqfd irqfd = { .fd = (uint32_t)w->irqfd, .gsi = w->gsi };
    if (ioctl(d->m->kvm.vm_fd, KVM_IRQFD, &irqfd) < 0) {
        log_err("KVM_IRQFD (GSI %u): %s", w->gsi, strerror(errno));
        return -errno;
    }
    for (unsigned q = 0; q < w->nqueues; q++) {
        w->ioeventfd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->ioeventfd[q] < 0)
            return -errno;
        struct kvm_ioeventfd io = {
            .datamatch = q, .addr = w->base + 0x50, .len = 4, .fd = w->ioeventfd[q],
            .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
        };
        if (ioctl(d->m->kvm.vm_fd, KVM_IOEVENTFD, &io) < 0) {
            log_err("KVM_IOEVENTFD: %s", strerror(errno));
            return -errno;
        }
    }
    dev->irq = ldev_irq;
    dev->irq_ctx = w;
    d->acpi_mmio[d->nmmio - 1] = (struct acpi_mmio_device){ w->base, VMMIO_WINDOW, w->gsi };
    return 0;
}

int ldev_init(struct ldev *d, struct lvm *m, const struct ldev_disk_cfg *disks, unsigned ndisks,
              const struct io_limit *rd, const struct io_limit *wr, int in_fd, int out_fd,
              int err_fd, int console_log_fd, void (*on_end)(void *ctx), void *end_ctx)
{
    memset(d, 0, sizeof *d);
    d->m = m;
    d->timer_fd = d->stop_fd = -1;
    d->in_fd = in_fd;
    d->out_fd = out_fd;
    d->err_fd = err_fd;
    d->console_log_fd = console_log_fd;
    d->on_end = on_end;
    d->end_ctx = end_ctx;
    pthread_mutex_init(&d->lock, NULL);
    uart8250_init(&d->uart, ldev_uart_tx, d);
    status_port_init(&d->status, ldev_status_end, d);
    job_port_init(&d->job);
    uint64_t now = mono_ns();
    io_throttle_init(&d->io_read, rd, now);
    io_throttle_init(&d->io_write, wr, now);
    if (ndisks > LDEV_MAX_DISKS) {
        log_err("at most %u disks", LDEV_MAX_DISKS);
        return -E2BIG;
    }
    int rc;
    for (unsigned i = 0; i < ndisks; i++) {
        struct vblk_backend be;
        if ((rc = vblk_raw_open(&d->raw[i], disks[i].fd, &be)) < 0) {
            log_err("%s: cannot serve it as a disk: %s", disks[i].path, strerror(-rc));
            return rc;
        }
        char serial[VBLK_ID_BYTES + 1];
        snprintf(serial, sizeof serial, "isovm-vd%c", 'a' + (int)i);
        struct vblk_cfg cfg = { .read_only = disks[i].read_only, .serial = serial,
                                .rd = &d->io_read, .wr = &d->io_write };
        if ((rc = vblk_init(&d->disk[i], &m->ram, &be, &cfg)) < 0) {
            log_err("%s: cannot serve it as a disk: %s", disks[i].path, strerror(-rc));
            return rc;
        }
        d->disk_path[i] = disks[i].path;
        d->ndisks = i + 1;
        if ((rc = ldev_wire(d, &d->disk[i].mmio)) < 0)
            return rc;
    }
    static const struct vcons_port_cfg ports[LDEV_NPORTS] = {
        [LDEV_PORT_STDIN] = { ISOVM_PORT_STDIN, VCONS_IN },
        [LDEV_PORT_STDOUT] = { ISOVM_PORT_STDOUT, VCONS_OUT },
        [LDEV_PORT_STDERR] = { ISOVM_PORT_STDERR, VCONS_OUT },
    };
    struct vcons_host host = { ldev_host_read, ldev_host_write, d };
    if ((rc = vcons_init(&d->cons, &m->ram, ports, LDEV_NPORTS, &host)) < 0)
        return rc;
    if ((rc = ldev_wire(d, &d->cons.mmio)) < 0)
        return rc;
    d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->timer_fd < 0 || d->stop_fd < 0)
        return -errno;
    return 0;
}

int ldev_add(struct ldev *d, struct vmmio *dev, const char *what)
{
    int rc = ldev_wire(d, dev);
    if (rc == -E2BIG)
        log_err("%s: no free interrupt pin for another device (at most %u)", what, LDEV_MAX_MMIO);
    else if (rc < 0)
        log_err("%s: cannot wire the device: %s", what, strerror(-rc));
    return rc;
}

void ldev_acpi(const struct ldev *d, struct acpi_config *cfg, unsigned ncpus)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ncpus = ncpus;
    cfg->mmio = d->acpi_mmio;
    cfg->nmmio = d->nmmio;
    cfg->com1 = true;
    cfg->pvpanic_port = LDEV_PVPANIC_PORT;
}

/* After any call into a device: arm the timer for the earliest wake-up (a throttle's). */
static void ldev_timer_arm(struct ldev *d)
{
    uint64_t wake = 0;
    for (unsigned i = 0; i < d->nmmio; i++) {
        uint64_t w = vmmio_wake_ns(d->mmio[i].dev);
        if (w && (!wake || w < wake))
            wake = w;
    }
    struct itimerspec its = { 0 };
    if (wake)
        its.it_value = ns_ts(wake);
    timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

void ldev_rearm(void *ctx)
{
    ldev_timer_arm(ctx);
}

void ldev_streams_hold(struct ldev *d)
{
    d->streams_held = true;
}

void ldev_streams_attach(struct ldev *d, int in_fd, int out_fd, int err_fd,
                         const struct io_limit *rd, const struct io_limit *wr)
{
    pthread_mutex_lock(&d->lock);
    d->in_fd = in_fd;
    d->out_fd = out_fd;
    d->err_fd = err_fd;
    d->in_ended = false;
    d->streams_held = false;
    uint64_t now = mono_ns();
    io_throttle_init(&d->io_read, rd, now);
    io_throttle_init(&d->io_write, wr, now);
    for (unsigned i = 0; i < d->ndisks; i++)
        memset(&d->disk[i].stats, 0, sizeof d->disk[i].stats);
    vcons_host_ready(&d->cons);
    /* the device thread polls the streams from its next round: woken by its timer, now */
    struct itimerspec its = { .it_value = { 0, 1 } };
    timerfd_settime(d->timer_fd, 0, &its, NULL);
    pthread_mutex_unlock(&d->lock);
}

static void ldev_drain(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) > 0)
        ;
}

#define LDEV_MAX_POLL (2 + 3 + LDEV_MAX_MMIO * VMMIO_MAX_QUEUES)

static void *ldev_thread(void *arg)
{
    struct ldev *d = arg;
    struct pollfd p[LDEV_MAX_POLL];
    unsigned owner[LDEV_MAX_POLL]; /* mmio index << 8 | queue, for ioeventfds */
    for (;;) {
        unsigned n = 0;
        p[n++] = (struct pollfd){ .fd = d->stop_fd, .events = POLLIN };
        p[n++] = (struct pollfd){ .fd = d->timer_fd, .events = POLLIN };
        unsigned first_ioev = n;
        for (unsigned i = 0; i < d->nmmio; i++)
            for (unsigned q = 0; q < d->mmio[i].nqueues; q++) {
                owner[n] = i << 8 | q;
                p[n++] = (struct pollfd){ .fd = d->mmio[i].ioeventfd[q], .events = POLLIN };
            }
        unsigned end_ioev = n;
        pthread_mutex_lock(&d->lock);
        bool held = d->streams_held;
        bool want_in = !held && !d->in_ended && d->in_fd >= 0 &&
                       vcons_wants_input(&d->cons, LDEV_PORT_STDIN);
        bool want_out = !held && vcons_wants_output(&d->cons, LDEV_PORT_STDOUT);
        bool want_err = !held && vcons_wants_output(&d->cons, LDEV_PORT_STDERR);
        pthread_mutex_unlock(&d->lock);
        if (want_in)
            p[n++] = (struct pollfd){ .fd = d->in_fd, .events = POLLIN };
        if (want_out)
            p[n++] = (struct pollfd){ .fd = d->out_fd, .events = POLLOUT };
        if (want_err)
            p[n++] = (struct pollfd){ .fd = d->err_fd, .events = POLLOUT };
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_err("the device thread's poll: %s", strerror(errno));
            break;
        }
        if (p[0].revents)
            break;
        pthread_mutex_lock(&d->lock);
        for (unsigned k = first_ioev; k < end_ioev; k++)
            if (p[k].revents & POLLIN) {
                ldev_drain(p[k].fd);
                vmmio_notify(d->mmio[owner[k] >> 8].dev, owner[k] & 0xff);
            }
        if (p[1].revents & POLLIN) {
            ldev_drain(d->timer_fd);
            uint64_t now = mono_ns();
            for (unsigned i = 0; i < d->nmmio; i++) {
                uint64_t w = vmmio_wake_ns(d->mmio[i].dev);
                if (w && w <= now)
                    vmmio_timer(d->mmio[i].dev);
            }
        }
        for (unsigned k = end_ioev; k < n; k++)
            if (p[k].revents) {
                vcons_host_ready(&d->cons);
                break;
            }
        ldev_timer_arm(d);
        pthread_mutex_unlock(&d->lock);
    }
    return NULL;
}

int ldev_start(struct ldev *d)
{
    int rc = pthread_create(&d->thread, NULL, ldev_thread, d);
    if (rc) {
        log_err("cannot start the device thread: %s", strerror(rc));
        return -rc;
    }
    d->thread_started = true;
    return 0;
}

void ldev_stop(struct ldev *d)
{
    if (d->thread_started) {
        uint64_t one = 1;
        if (write(d->stop_fd, &one, sizeof one) < 0)
            log_debug("stop eventfd: %s", strerror(errno));
        pthread_join(d->thread, NULL);
        d->thread_started = false;
    }
    /* what the job wrote before it ended: notifications not yet served, output still held (a
     * machine made ahead and never given a job has none to give) */
    pthread_mutex_lock(&d->lock);
    for (unsigned port = LDEV_PORT_STDOUT; d->streams_held && port <= LDEV_PORT_STDERR; port++)
        d->cons.port[port].ended = true;
    for (unsigned port = LDEV_PORT_STDOUT; port <= LDEV_PORT_STDERR; port++)
        vmmio_notify(&d->cons.mmio, vcons_txq(port));
    uint64_t give_up = mono_ns() + 5000000000ull;
    while ((vcons_wants_output(&d->cons, LDEV_PORT_STDOUT) ||
            vcons_wants_output(&d->cons, LDEV_PORT_STDERR)) && mono_ns() < give_up) {
        struct pollfd p[2] = { { .fd = d->out_fd, .events = POLLOUT }, { .fd = d->err_fd, .events = POLLOUT } };
        poll(p, 2, 100);
        vcons_host_ready(&d->cons);
    }
    ldev_uart_flush(d);
    pthread_mutex_unlock(&d->lock);
}

bool ldev_pio(struct ldev *d, uint16_t port, bool write, uint8_t *data, uint32_t size)
{
    if (port >= UART_COM1_BASE && port < UART_COM1_BASE + UART_PORTS) {
        pthread_mutex_lock(&d->lock);
        if (write)
            uart8250_write(&d->uart, port - UART_COM1_BASE, data[0]);
        else
            data[0] = uart8250_read(&d->uart, port - UART_COM1_BASE);
        pthread_mutex_unlock(&d->lock);
        return true;
    }
    if (port >= ISOVM_STATUS_PORT && port < ISOVM_STATUS_PORT + STATUS_PORT_LEN) {
        pthread_mutex_lock(&d->lock);
        if (write) {
            uint64_t seen[ISOVM_PHASE_MAX + 1];
            memcpy(seen, d->status.phase_ns, sizeof seen);
            status_port_write(&d->status, port - ISOVM_STATUS_PORT, data, size, mono_ns());
            for (unsigned ph = 1; ph <= ISOVM_PHASE_MAX && d->on_phase; ph++)
                if (!seen[ph] && d->status.phase_ns[ph])
                    d->on_phase(d->end_ctx, ph);
        } else
            status_port_read(&d->status, port - ISOVM_STATUS_PORT, data, size);
        pthread_mutex_unlock(&d->lock);
        return true;
    }
    if (port >= ISOVM_JOB_PORT && port < ISOVM_JOB_PORT + ISOVM_JOB_PORT_LEN) {
        pthread_mutex_lock(&d->lock);
        if (write)
            job_port_write(&d->job, port - ISOVM_JOB_PORT, data, size);
        else
            job_port_read(&d->job, port - ISOVM_JOB_PORT, data, size);
        pthread_mutex_unlock(&d->lock);
        return true;
    }
    if (port == LDEV_PVPANIC_PORT) {
        if (write) {
            if (data[0] & 1) { /* PVPANIC_PANICKED */
                atomic_store(&d->panicked, true);
                if (d->on_end)
                    d->on_end(d->end_ctx);
            }
        } else {
            memset(data, 0, size);
            data[0] = 1; /* the events this device reports: PANICKED */
        }
        return true;
    }
    if (port == LDEV_I8042_PORT && write && data[0] == 0xfe) {
        atomic_store(&d->reset, true);
        if (d->on_end)
            d->on_end(d->end_ctx);
        return true;
    }
    return false;
}

bool ldev_mmio(struct ldev *d, uint64_t gpa, bool write, uint8_t *data, uint32_t size)
{
    if (gpa < LDEV_MMIO_BASE)
        return false;
    uint64_t i = (gpa - LDEV_MMIO_BASE) / VMMIO_WINDOW;
    if (i >= d->nmmio)
        return false;
    uint64_t off = gpa - d->mmio[i].base;
    pthread_mutex_lock(&d->lock);
    d->mmio_accesses++;
    if (write)
        vmmio_write(d->mmio[i].dev, off, data, size);
    else
        vmmio_read(d->mmio[i].dev, off, data, size);
    ldev_timer_arm(d);
    pthread_mutex_unlock(&d->lock);
    return true;
}

void ldev_fini(struct ldev *d)
{
    for (unsigned i = 0; i < d->nmmio; i++) {
        if (d->mmio[i].irqfd >= 0)
            close(d->mmio[i].irqfd);
        for (unsigned q = 0; q < d->mmio[i].nqueues; q++)
            if (d->mmio[i].ioeventfd[q] >= 0)
                close(d->mmio[i].ioeventfd[q]);
    }
    d->nmmio = 0;
    if (d->timer_fd >= 0)
        close(d->timer_fd);
    if (d->stop_fd >= 0)
        close(d->stop_fd);
    d->timer_fd = d->stop_fd = -1;
    pthread_mutex_destroy(&d->lock);
}
