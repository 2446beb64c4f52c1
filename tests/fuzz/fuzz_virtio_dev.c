/* libFuzzer harness for whole devices: a virtio-blk or virtio-console driven through its MMIO registers, notifications and timers over fake guest RAM. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/blk/blk.h"
#include "devices/virtio/console/console.h"
#include "devices/virtio/mmio.h"
#include "vmm/core/guest_ram.h"

/* Input: [0] the device (% 3: disk, read-only disk, console); [1..2] le16 length of the RAM
 * image that follows (copied to guest address 0); then steps of 8 bytes: op, size, le16 off,
 * le32 val:
 *   op % 6 == 0: MMIO write of val at off, size % 9 bytes (sizes 0, 3, 5.. are bad accesses)
 *   op % 6 == 1: MMIO read at off, size % 9 bytes
 *   op % 6 == 2: notify queue val (the ioeventfd path)
 *   op % 6 == 3: the clock moves val ns; the timer fires if it is due
 *   op % 6 == 4: the driver writes le32 val at guest address off * 4
 *   op % 6 == 5: the host side changes to val: the disk fails (bit 0), or the console's input
 *                gives bytes, nothing yet, its end or an error (bits 0-1; bits 8-15: how many)
 *                and its output takes bytes, nothing yet, fails or takes none (bits 2-3;
 *                bits 16-23: how many); then the console is told the host is ready */
#define RAM_SIZE 0x10000ull

static uint8_t *ram_mem;
static uint8_t disk[0x10000];
static uint64_t now;
static struct vblk blk;
static struct vcons cons;
static uint32_t host; /* the op 5 value in force */

static uint64_t clock_fn(void) { return now; }

static int d_readv(void *ctx, struct iovec *iov, int n, uint64_t off)
{
    (void)ctx;
    if (host & 1)
        return -EIO;
    for (int i = 0; i < n; i++) {
        if (off > sizeof disk || iov[i].iov_len > sizeof disk - off)
            abort(); /* the device let a request past the disk's end */
        memcpy(iov[i].iov_base, disk + off, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return 0;
}

static int d_writev(void *ctx, struct iovec *iov, int n, uint64_t off)
{
    (void)ctx;
    if (host & 1)
        return -EIO;
    for (int i = 0; i < n; i++) {
        if (off > sizeof disk || iov[i].iov_len > sizeof disk - off)
            abort();
        memcpy(disk + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return 0;
}

static int d_flush(void *ctx) { (void)ctx; return host & 1 ? -EIO : 0; }

static ssize_t h_read(void *ctx, unsigned port, void *buf, size_t len)
{
    (void)ctx, (void)port;
    size_t n = ((host >> 8) & 0xff) + 1;
    switch (host & 3) {
    case 0:
        n = n < len ? n : len;
        memset(buf, 'i', n);
        return (ssize_t)n;
    case 1: return -EAGAIN;
    case 2: return 0;
    default: return -EIO;
    }
}

static ssize_t h_write(void *ctx, unsigned port, const void *buf, size_t len)
{
    (void)ctx, (void)port, (void)buf;
    size_t n = ((host >> 16) & 0xff) + 1;
    switch ((host >> 2) & 3) {
    case 0: return (ssize_t)(n < len ? n : len);
    case 1: return -EAGAIN;
    case 2: return -EPIPE;
    default: return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    if (!ram_mem)
        ram_mem = aligned_alloc(GUEST_RAM_ALIGN, RAM_SIZE);
    struct guest_ram ram;
    guest_ram_init(&ram);
    if (guest_ram_add(&ram, 0, RAM_SIZE, ram_mem))
        abort();
    size_t image = (size_t)(data[1] | data[2] << 8);
    if (image > size - 3)
        image = size - 3;
    memset(ram_mem, 0, RAM_SIZE);
    memcpy(ram_mem, data + 3, image < RAM_SIZE ? image : RAM_SIZE);
    now = 0;
    host = 0xff00; /* input: 256 bytes a read; output: one byte a write */
    struct vmmio *m;
    static const struct io_limit lim = { { 8192, 0, 1000000 }, { 4, 1, 1000000 } };
    static struct io_throttle rd, wr;
    io_throttle_init(&rd, &lim, 0);
    io_throttle_init(&wr, &lim, 0);
    if (data[0] % 3 < 2) {
        struct vblk_backend be = { d_readv, d_writev, d_flush, NULL, sizeof disk };
        struct vblk_cfg cfg = { .read_only = data[0] % 3 == 1, .serial = "fuzz", .rd = &rd, .wr = &wr };
        if (vblk_init(&blk, &ram, &be, &cfg))
            abort();
        m = &blk.mmio;
    } else {
        static const struct vcons_port_cfg ports[3] = {
            { "in", VCONS_IN }, { "out", VCONS_OUT }, { "err", VCONS_OUT } };
        struct vcons_host host = { h_read, h_write, NULL };
        if (vcons_init(&cons, &ram, ports, 3, &host))
            abort();
        m = &cons.mmio;
    }
    m->clock = clock_fn;
    for (size_t s = 3 + image; s + 8 <= size; s += 8) {
        const uint8_t *st = data + s;
        uint32_t sz = st[1] % 9;
        uint16_t off = (uint16_t)(st[2] | st[3] << 8);
        uint32_t val = (uint32_t)st[4] | (uint32_t)st[5] << 8 | (uint32_t)st[6] << 16 | (uint32_t)st[7] << 24;
        uint8_t buf[8] = { 0 };
        memcpy(buf, &val, 4);
        switch (st[0] % 6) {
        case 0: vmmio_write(m, off, buf, sz); break;
        case 1: vmmio_read(m, off, buf, sz); break;
        case 2: vmmio_notify(m, val); break;
        case 3:
            now += val;
            if (vmmio_wake_ns(m) && vmmio_wake_ns(m) <= now)
                vmmio_timer(m);
            break;
        case 4:
            if ((uint64_t)off * 4 + 4 <= RAM_SIZE)
                memcpy(ram_mem + (uint64_t)off * 4, &val, 4);
            break;
        case 5:
            host = val;
            if (m == &cons.mmio) {
                vcons_host_ready(&cons);
                for (unsigned p = 0; p < 4; p++)
                    (void)(vcons_wants_input(&cons, p) + vcons_wants_output(&cons, p));
            }
            break;
        }
    }
    if (m->error == -ENOENT)
        abort(); /* the device gave back a head it did not hold */
    return 0;
}
