/* libFuzzer harness for the virtqueue: rings and buffers from the fuzzer's bytes over fake guest RAM, popped and pushed until the queue breaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtq.h"
#include "vmm/core/guest_ram.h"

/* Input: a 10-byte header, then the guest RAM image, then a script of 5-byte steps.
 *   [0]    queue size: 1 << (b % 9)
 *   [1]    the region the rings live in: 0 low, 1 above 4 GiB, 2 just below 2^64
 *   [2..7] le16 offsets in that region of the descriptor table, avail ring, used ring
 *   [8..9] le16 script length in bytes (from the end of the input)
 * Script step: op, le16 a, le16 b:
 *   op % 3 == 0: pop and push up to a % 16 + 1 chains
 *   op % 3 == 1: the driver writes le16 b at byte a of the rings' region
 *   op % 3 == 2: the driver publishes avail index b */
#define LOW_SIZE 0x10000ull
#define SMALL_SIZE 0x1000ull
static const uint64_t region_gpa[3] = { 0, 0x100000000ull, 0xffffffffffffe000ull };
static const uint64_t region_size[3] = { LOW_SIZE, SMALL_SIZE, SMALL_SIZE };

static uint8_t *mem[3];

static void check(int ok)
{
    if (!ok)
        abort();
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Everything a device does with a chain, with the invariants virtq_pop promises checked. */
static void use_chain(struct virtq *q, const struct virtq_chain *c, const struct guest_ram *ram)
{
    static uint8_t scratch[4096];
    static struct iovec iov[VIRTQ_MAX_SIZE];
    uint64_t r = 0, w = 0;
    check(c->nseg >= 1 && c->nseg <= q->size && c->nread <= c->nseg && c->head < q->size);
    for (unsigned i = 0; i < c->nseg; i++) {
        check(c->seg[i].len > 0 && guest_ram_ptr(ram, c->seg[i].gpa, c->seg[i].len));
        *(i < c->nread ? &r : &w) += c->seg[i].len;
    }
    check(r == c->read_len && w == c->write_len && r + w <= UINT32_MAX);
    uint32_t n = c->read_len < sizeof scratch ? c->read_len : sizeof scratch;
    check(virtq_chain_read(q, c, c->read_len - n, scratch, n) == 0);
    check(virtq_chain_iov(q, c, false, 0, c->read_len, iov, VIRTQ_MAX_SIZE) == c->nread || !c->read_len);
    uint32_t m = c->write_len < sizeof scratch ? c->write_len : sizeof scratch;
    check(virtq_chain_write(q, c, 0, scratch, m) == 0);
    check(virtq_chain_write(q, c, c->write_len, scratch, 1) < 0);
    check(virtq_push(q, c->head, m) == 0);
    virtq_needs_interrupt(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10)
        return 0;
    if (!mem[0])
        for (int i = 0; i < 3; i++)
            mem[i] = aligned_alloc(GUEST_RAM_ALIGN, region_size[i]);
    struct guest_ram ram;
    guest_ram_init(&ram);
    for (int i = 0; i < 3; i++)
        check(guest_ram_add(&ram, region_gpa[i], region_size[i], mem[i]) == 0);
    size_t script = le16(data + 8);
    if (script > size - 10)
        script = size - 10;
    const uint8_t *image = data + 10, *steps = data + size - script;
    size_t image_len = size - 10 - script;
    for (int i = 0; i < 3; i++) {
        memset(mem[i], 0, region_size[i]);
        memcpy(mem[i], image, image_len < region_size[i] ? image_len : region_size[i]);
    }
    unsigned reg = data[1] % 3;
    struct virtq q;
    check(virtq_init(&q, &ram, VIRTQ_MAX_SIZE) == 0);
    q.size = (uint16_t)(1u << (data[0] % 9));
    q.desc_gpa = region_gpa[reg] + le16(data + 2);
    q.avail_gpa = region_gpa[reg] + le16(data + 4);
    q.used_gpa = region_gpa[reg] + le16(data + 6);
    if (virtq_enable(&q))
        return 0;
    static struct virtq_chain c;
    for (size_t s = 0; s + 5 <= script; s += 5) {
        const uint8_t *st = steps + s;
        uint16_t a = le16(st + 1), b = le16(st + 3);
        switch (st[0] % 3) {
        case 0:
            for (unsigned k = 0; k <= a % 16u; k++) {
                int rc = virtq_pop(&q, &c);
                if (rc < 0)
                    return 0;
                if (rc == 0)
                    break;
                use_chain(&q, &c, &ram);
            }
            break;
        case 1:
            if (a + 2u <= region_size[reg])
                memcpy(mem[reg] + a, &b, 2);
            break;
        case 2: {
            uint8_t *idx = guest_ram_ptr(&ram, q.avail_gpa + 2, 2);
            memcpy(idx, &b, 2);
            break;
        }
        }
    }
    /* then until empty or broken */
    for (unsigned k = 0; k < 4u * q.size + 4; k++) {
        int rc = virtq_pop(&q, &c);
        if (rc <= 0) {
            check(rc == 0 || q.error == rc);
            break;
        }
        use_chain(&q, &c, &ram);
    }
    return 0;
}
