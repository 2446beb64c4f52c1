/* libFuzzer harness for virtio-net's handling of guest chains (tx frames, rx buffers, throttles) through its MMIO registers, and for the network backend's guest frame parser. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/mmio.h"
#include "devices/virtio/net/vnet.h"
#include "vmm/core/guest_ram.h"
#include "vmm/linux/lnet_frame.h"

/* Input as fuzz_virtio_dev.c's: [0] flags (bit 0: rx and tx buckets of 2 frames and 3000 bytes
 * a second); [1..2] le16 length of the RAM image copied to guest address 0; then steps of 8
 * bytes: op, size, le16 off, le32 val:
 *   op % 6 == 0: MMIO write of val at off, size % 9 bytes
 *   op % 6 == 1: MMIO read at off, size % 9 bytes
 *   op % 6 == 2: notify queue val
 *   op % 6 == 3: the clock moves val ns; the timer fires if it is due
 *   op % 6 == 4: the driver writes le32 val at guest address off * 4
 *   op % 6 == 5: the backend: transmit answers 0, -EAGAIN or -EIO (val % 3), then a frame of
 *                (val >> 8) % 1600 bytes (guest RAM from off * 4) is offered to vnet_receive,
 *                and bit 2 kicks the tx queue
 * Every frame the device hands to transmit is also given to lnet_frame_parse. */
#define RAM_SIZE 0x10000ull

static uint8_t *ram_mem;
static uint64_t now;
static struct vnet net;
static int tx_answer;

static uint64_t clock_fn(void) { return now; }

static int transmit(void *ctx, const uint8_t *frame, uint32_t len)
{
    (void)ctx;
    if (len < VNET_FRAME_MIN || len > VNET_FRAME_MAX)
        abort(); /* the device's checks failed */
    struct lnet_pkt p;
    lnet_frame_parse(frame, len, &p);
    if (p.kind == LNET_PKT_UDP && (uint64_t)p.payload_off + p.payload_len > len)
        abort();
    return tx_answer;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ram_mem)
        ram_mem = malloc(RAM_SIZE);
    if (size < 3)
        return 0;
    lnet_frame_parse(data, (uint32_t)(size > 0xffff ? 0xffff : size), &(struct lnet_pkt){ 0 });
    memset(ram_mem, 0, RAM_SIZE);
    size_t img = (size_t)(data[1] | data[2] << 8);
    if (img > size - 3)
        img = size - 3;
    if (img > RAM_SIZE)
        img = RAM_SIZE;
    memcpy(ram_mem, data + 3, img);
    struct guest_ram ram;
    guest_ram_init(&ram);
    guest_ram_add(&ram, 0, RAM_SIZE, ram_mem);
    now = 0;
    tx_answer = 0;
    struct io_limit lim = { { 3000, 0, 1000000000ull }, { 2, 0, 1000000000ull } };
    struct vnet_cfg cfg = { .mac = { 0x02, 1, 2, 3, 4, 5 } };
    if (data[0] & 1)
        cfg.rx = cfg.tx = &lim;
    struct vnet_backend be = { transmit, NULL, NULL };
    if (vnet_init(&net, &ram, &be, &cfg))
        abort();
    net.mmio.clock = clock_fn;
    struct vmmio *m = &net.mmio;
    for (size_t i = 3 + img; i + 8 <= size; i += 8) {
        const uint8_t *s = data + i;
        uint8_t op = s[0] % 6, sz = s[1] % 9;
        uint16_t off = (uint16_t)(s[2] | s[3] << 8);
        uint32_t val = (uint32_t)s[4] | (uint32_t)s[5] << 8 | (uint32_t)s[6] << 16 | (uint32_t)s[7] << 24;
        uint8_t buf[8] = { 0 };
        memcpy(buf, &val, 4);
        switch (op) {
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
        case 5: {
            static const int answers[3] = { 0, -EAGAIN, -EIO };
            tx_answer = answers[val % 3];
            uint32_t len = (val >> 8) % 1600;
            uint64_t from = (uint64_t)off * 4;
            if (from + len <= RAM_SIZE) {
                int rc = vnet_receive(&net, ram_mem + from, len);
                if (rc != 0 && rc != 1 && rc != -EAGAIN)
                    abort();
                vnet_rx_done(&net);
            }
            if (val & 4)
                vnet_kick_tx(&net);
            break;
        }
        }
    }
    return 0;
}
