/* The Linux tier's devices: the serial port, the status port, virtio-mmio disks, console and any added device, their ioeventfds, irqfds and the device thread. */
#ifndef ISOVM_LINUX_LDEV_H
#define ISOVM_LINUX_LDEV_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "devices/serial/uart8250.h"
#include "devices/job_port.h"
#include "devices/status_port.h"
#include "devices/virtio/blk/blk.h"
#include "devices/virtio/blk/blk_raw.h"
#include "devices/virtio/console/console.h"
#include "limits/io_throttle.h"
#include "vmm/linux/acpi.h"
#include "vmm/linux/lvm.h"

#define LDEV_MAX_DISKS   14
#define LDEV_MAX_MMIO    17          /* virtio-mmio devices: one free I/O APIC pin each */
#define LDEV_MMIO_BASE   0xd0000000u /* virtio-mmio windows, one VMMIO_WINDOW each */
#define LDEV_PVPANIC_PORT 0x505
#define LDEV_I8042_PORT  0x64        /* writing 0xfe resets the machine (reboot=k) */

/* The console's ports (init/abi.h's names) */
enum { LDEV_PORT_STDIN, LDEV_PORT_STDOUT, LDEV_PORT_STDERR, LDEV_NPORTS };

struct ldev_disk_cfg {
    const char *path;    /* for messages and the report */
    int fd;              /* opened by the caller (read-only or read-write) */
    bool read_only;
};

struct ldev_mmio {
    struct vmmio *dev;
    uint32_t base, gsi;
    int irqfd;
    int ioeventfd[VMMIO_MAX_QUEUES];
    unsigned nqueues;
};

struct ldev {
    struct lvm *m;
    pthread_mutex_t lock;        /* every device call, from vCPU threads and the device thread */
    struct uart8250 uart;
    int console_log_fd;          /* the kernel's messages (ttyS0); -1: dropped */
    struct status_port status;
    struct job_port job;         /* the job file, for the init (init/abi.h's job channel) */
    struct vcons cons;
    int in_fd, out_fd, err_fd;   /* the job's streams on the host: isovm's 0, 1, 2 */
    bool in_ended;
    bool streams_held;           /* a machine made ahead of its job: no stream yet (the guest's
                                  * reads and writes wait), until ldev_streams_attach */
    struct vblk disk[LDEV_MAX_DISKS];
    struct vblk_raw raw[LDEV_MAX_DISKS];
    const char *disk_path[LDEV_MAX_DISKS];
    unsigned ndisks;
    struct io_throttle io_read, io_write;
    struct ldev_mmio mmio[LDEV_MAX_MMIO]; /* the disks, the console, then ldev_add's */
    unsigned nmmio;
    struct acpi_mmio_device acpi_mmio[LDEV_MAX_MMIO];
    int timer_fd, stop_fd;       /* the throttle's timer; the device thread's stop */
    pthread_t thread;
    bool thread_started;
    atomic_bool panicked, reset;
    void (*on_end)(void *ctx);   /* the guest ended (status port end, panic, reset) */
    void (*on_phase)(void *ctx, unsigned phase); /* a boot phase's first word (NULL: none) */
    void *end_ctx;
    uint64_t serial_bytes;
    uint64_t mmio_accesses;      /* every access to a virtio-mmio window (0: no driver yet) */
    char *boot_log;              /* non-NULL: the serial output is also kept here (a snapshot's
                                  * boot log), up to boot_log_cap bytes */
    size_t boot_log_len, boot_log_cap;
    char uart_buf[256];          /* the console log's line being written */
    size_t uart_len;
};

/* Set up the devices over m: disks (in order: /dev/vda, vdb, ...), the console over in/out/err,
 * the serial port to console_log_fd, the status port; register ioeventfds and irqfds. The
 * policy's io buckets throttle every disk. 0, or a negative errno after a message. */
int ldev_init(struct ldev *d, struct lvm *m, const struct ldev_disk_cfg *disks, unsigned ndisks,
              const struct io_limit *rd, const struct io_limit *wr, int in_fd, int out_fd,
              int err_fd, int console_log_fd, void (*on_end)(void *ctx), void *end_ctx);

/* A machine made ahead of its job (isovm pool serve --rootfs): the console's streams wait for
 * one. Call before ldev_start: until ldev_streams_attach, the guest's input waits and its output
 * is held, and nothing is read or written on the host. */
void ldev_streams_hold(struct ldev *d);

/* The job's streams (in, out, err: its 0, 1, 2), to a machine made ahead: taken into use at
 * once (the device thread woken). The policy's buckets (rd, wr) throttle every disk from now, and
 * the disks' counts start again at zero (the machine's making read the root). Takes d->lock. */
void ldev_streams_attach(struct ldev *d, int in_fd, int out_fd, int err_fd,
                         const struct io_limit *rd, const struct io_limit *wr);

/* One more virtio-mmio device after the disks and the console (the grants' file system, the
 * network), wired like them: its ioeventfds and irqfd, its window in the ACPI description, its
 * timer (wake_ns) served by the device thread. Before ldev_start. 0, or -E2BIG (no free pin)
 * or -errno after a message. */
int ldev_add(struct ldev *d, struct vmmio *dev, const char *what);

/* Re-arm the device thread's timer from every device's wake_ns, with d->lock held (for a
 * device served by a thread of its own: after it touched its device). ctx: the struct ldev. */
void ldev_rearm(void *ctx);

/* The ACPI description of the devices (for boot_load). */
void ldev_acpi(const struct ldev *d, struct acpi_config *cfg, unsigned ncpus);

/* Start / stop the device thread (stop drains the console's output queues first). */
int ldev_start(struct ldev *d);
void ldev_stop(struct ldev *d);

/* The vCPUs' exits: an I/O port access (data: the exit's buffer, count 1) or an MMIO access.
 * Return false for an access no device claims (the vCPU loop counts it). */
bool ldev_pio(struct ldev *d, uint16_t port, bool write, uint8_t *data, uint32_t size);
bool ldev_mmio(struct ldev *d, uint64_t gpa, bool write, uint8_t *data, uint32_t size);

void ldev_fini(struct ldev *d);

#endif
