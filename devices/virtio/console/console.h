/* virtio-console with named ports (MULTIPORT): the job's stdin, stdout and stderr as byte streams to host callbacks. */
#ifndef ISOVM_VIRTIO_CONSOLE_H
#define ISOVM_VIRTIO_CONSOLE_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "devices/virtio/mmio.h"
#include "devices/virtio/virtq.h"
#include "vmm/core/guest_ram.h"

#define VCONS_MAX_PORTS 4
#define VCONS_NAME_MAX 31     /* bytes of a port name */
#define VCONS_QUEUE_SIZE 64   /* QueueNumMax of every queue (Linux fills rx queues with pages) */
#define VCONS_OUTBOX 32       /* control messages waiting for a buffer of the guest's */
#define VCONS_CONFIG_LEN 12   /* cols, rows, max_nr_ports, emerg_wr */

/* A port carries one stream: host input to the guest (stdin) or guest output to the host. */
enum vcons_dir { VCONS_IN, VCONS_OUT };

struct vcons_port_cfg {
    const char *name;  /* /sys/class/virtio-ports/vportNpM/name in the guest, e.g. "isovm.stdout" */
    enum vcons_dir dir;
};

/* The host side of the ports (the job's descriptors in the VMM; tests use their own). */
struct vcons_host {
    /* Up to len bytes of port's input: > 0 bytes; 0 at its end (the guest reads end-of-file
     * after the data before it); -EAGAIN none now (call vcons_host_ready when there is);
     * another negative errno counts as the end. */
    ssize_t (*read)(void *ctx, unsigned port, void *buf, size_t len);
    /* Take up to len bytes of port's output: > 0 bytes taken; -EAGAIN none now (call
     * vcons_host_ready when writable); another negative errno: the output is lost from here on
     * (dropped and counted; the guest's writes still complete, they never block on it). */
    ssize_t (*write)(void *ctx, unsigned port, const void *buf, size_t len);
    void *ctx;
};

struct vcons_port {
    char name[VCONS_NAME_MAX + 1];
    enum vcons_dir dir;
    bool ready;         /* the guest answered PORT_READY 1 */
    bool guest_open;    /* the guest has it open (its PORT_OPEN) */
    bool ended;         /* input: the host's input ended; output: the host's output failed */
    bool rx_pending;    /* rx: a receive buffer taken, waiting for input */
    bool tx_pending;    /* tx: a chain taken and not all written, waiting for room */
    uint32_t done;      /* tx: bytes of it written so far */
    struct virtq_chain rx, tx;
    uint64_t bytes;     /* moved: input delivered to the guest, output taken by the host */
    uint64_t dropped;   /* output lost after a host error; guest writes to an input port */
};

struct vcons_msg {
    uint32_t id;
    uint16_t event, value;
};

struct vcons {
    struct vmmio mmio;   /* the run loop's handle: MMIO exits, notify */
    struct virtq vq[2 + 2 * VCONS_MAX_PORTS];
    uint8_t config[VCONS_CONFIG_LEN];
    struct vcons_host host;
    unsigned nports;
    struct vcons_port port[VCONS_MAX_PORTS];
    struct vcons_msg outbox[VCONS_OUTBOX]; /* to the guest, in order */
    unsigned out_head, out_len;
    uint64_t msgs_dropped; /* control messages lost: outbox full, or a guest buffer too small */
    struct virtq_chain ctl;
};

/* A console device with nports (1 .. VCONS_MAX_PORTS) ports, each named (1 .. VCONS_NAME_MAX
 * bytes) and with its direction, over ram. 0 or -EINVAL. The run loop then sets c->mmio.irq. */
int vcons_init(struct vcons *c, const struct guest_ram *ram, const struct vcons_port_cfg *ports,
               unsigned nports, const struct vcons_host *host);

/* The host side may have changed (input readable, output writable): serve every queue again. */
void vcons_host_ready(struct vcons *c);

/* What the run loop should poll the host for: port's input is wanted (the guest has the port
 * open and a buffer waiting), or port's output waits for the host to take more. */
bool vcons_wants_input(const struct vcons *c, unsigned port);
bool vcons_wants_output(const struct vcons *c, unsigned port);

/* The queue index of a port's receive (host to guest) or transmit queue: Linux's layout, with
 * the control queues (2: to the guest, 3: from it) after port 0's. */
static inline unsigned vcons_rxq(unsigned port) { return port == 0 ? 0 : 2 * port + 2; }
static inline unsigned vcons_txq(unsigned port) { return vcons_rxq(port) + 1; }
#define VCONS_CTRL_RXQ 2u /* control messages to the guest */
#define VCONS_CTRL_TXQ 3u /* control messages from the guest */

#endif
