/* Test fixture for the devices: fake guest RAM in three regions and a fake virtio driver (queues in that RAM, the mmio setup sequence). */
#ifndef ISOVM_TESTS_VIRTIO_FIXTURE_H
#define ISOVM_TESTS_VIRTIO_FIXTURE_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/mmio.h"
#include "vmm/core/guest_ram.h"

/* Fake guest RAM: low RAM at 0, RAM above 4 GiB, and a page just below the top of the address
 * space (for wrapping ranges). Each is an exact-size allocation: ASan and valgrind see any
 * access past a region. */
#define FR_LOW_GPA   0x0ull
#define FR_LOW_SIZE  (1ull << 20)
#define FR_HIGH_GPA  0x100000000ull
#define FR_HIGH_SIZE (64ull << 10)
#define FR_TOP_GPA   0xffffffffffffe000ull
#define FR_TOP_SIZE  0x1000ull

struct fake_ram {
    struct guest_ram ram;
    void *mem[3];
};

void fake_ram_init(struct fake_ram *f);
void fake_ram_free(struct fake_ram *f);
/* Test-side pointer to guest bytes (asserts they are RAM). */
void *fr_ptr(struct fake_ram *f, uint64_t gpa, uint64_t len);

/* A fake clock for the devices' throttling. */
extern uint64_t fake_now;
uint64_t fake_clock(void);

/* The driver's side of one split queue in fake RAM. */
struct tq {
    struct fake_ram *f;
    uint16_t size;
    uint64_t desc, avail, used; /* guest addresses */
    uint16_t avail_idx;         /* driver's free-running avail index */
    uint16_t used_seen;         /* used entries consumed by tq_used */
    uint16_t next_desc;         /* next descriptor handed out (round robin) */
};

struct tbuf {
    uint64_t gpa;
    uint32_t len;
    bool write; /* device-writable */
};

/* Lay a queue of size entries out at base (descriptor table, avail ring, used ring), zeroed. */
void tq_init(struct tq *q, struct fake_ram *f, uint16_t size, uint64_t base);
/* Write descriptor i. */
void tq_desc(struct tq *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
/* Put head in the avail ring and bump the avail index (by `bump`, normally 1). */
void tq_publish(struct tq *q, uint16_t head);
void tq_set_avail_idx(struct tq *q, uint16_t idx);
void tq_set_avail_flags(struct tq *q, uint16_t flags);
/* A chain of n buffers on consecutive descriptors, published; returns its head. */
uint16_t tq_add(struct tq *q, const struct tbuf *b, unsigned n);
/* The next used element: true and *id, *len, or false when there is none. */
bool tq_used(struct tq *q, uint32_t *id, uint32_t *len);
uint16_t tq_used_idx(struct tq *q);

/* The transport as Linux's virtio_mmio drives it. */
uint32_t mmio_rd(struct vmmio *m, uint32_t off);
void mmio_wr(struct vmmio *m, uint32_t off, uint32_t v);
/* Reset, ACKNOWLEDGE, DRIVER, write features, FEATURES_OK; true if the device kept it. */
bool drv_negotiate(struct vmmio *m, uint64_t features);
/* Program queue qi from q (QueueNum, addresses) and enable it. */
void drv_queue(struct vmmio *m, unsigned qi, const struct tq *q);
/* Everything: negotiate the device's own features, set up nq queues, DRIVER_OK. */
void drv_setup(struct vmmio *m, struct tq *qs, unsigned nq);

#endif
