/* The contract between the VMM and isovm's init (PID 1 of a Linux-tier guest): the job file
 * in the initramfs, the consoles, the kernel command line, and the status port. */
#ifndef ISOVM_INIT_ABI_H
#define ISOVM_INIT_ABI_H

/* ---- the job file: /isovm/job in the initramfs ----
 * A text file of records, one per line: KEY SP VALUE LF, VALUE percent-escaped (every byte
 * below 0x21, above 0x7e, and '%' itself as %XX), so any byte string fits on one line. Keys,
 * in this order where they appear (repeatable ones marked *):
 *   version 1
 *   arg* VALUE        the job's argv, argv[0] first (at least one)
 *   env* KEY=VALUE    the job's environment (none: empty)
 *   cwd PATH          the working directory inside the guest (default /)
 *   root DEV FSTYPE   the root file system: e.g. "/dev/vda squashfs" (read-only)
 *   overlay KIND      the writable layer over the root: "tmpfs" or "disk /dev/vdb ext4"
 *   disk* DEV FSTYPE MOUNTPOINT ro|rw   further disks the init mounts (MOUNTPOINT "-": none)
 *   max_threads N     pids.max of the job's cgroup (tasks of every process of the job)
 *   memory N          guest RAM in bytes (for the init's own messages)
 * Unknown keys are an init error (status kind ISOVM_INIT_ERROR), never ignored. */
#define ISOVM_JOB_FILE "/isovm/job"
#define ISOVM_JOB_VERSION 1
#define ISOVM_JOB_LINE_MAX 65536 /* bytes of one escaped record, LF included */

/* ---- the job's streams: one virtio-console device with VIRTIO_CONSOLE_F_MULTIPORT ----
 * Generic ports (not consoles), named through the control queue (VIRTIO_CONSOLE_PORT_NAME):
 *   "isovm.stdin"   host -> guest; the host closes the port (VIRTIO_CONSOLE_PORT_OPEN 0) when
 *                   isovm's stdin ends, and the guest's read then returns 0 (EOF)
 *   "isovm.stdout"  guest -> host: isovm's stdout, in order
 *   "isovm.stderr"  guest -> host: isovm's stderr, in order
 * The init finds each /dev/vportNpM by the name in /sys/class/virtio-ports/vportNpM/name and
 * gives the job its descriptors 0, 1 and 2 on them.
 * ttyS0 (8250 at 0x3f8) carries the kernel's messages, to `--console-log FILE` or nowhere. */
#define ISOVM_PORT_STDIN  "isovm.stdin"
#define ISOVM_PORT_STDOUT "isovm.stdout"
#define ISOVM_PORT_STDERR "isovm.stderr"

/* ---- the status port: 32-bit `out` to this I/O port from the init ----
 * value = (kind << 24) | (detail & 0xffffff). The VMM timestamps every write (boot phases in
 * the report) and ends the guest at the first ISOVM_STATUS_EXIT/SIGNAL/OOM/INIT_ERROR. */
#define ISOVM_STATUS_PORT 0x4f8
enum isovm_status_kind {
    ISOVM_STATUS_PHASE = 1,      /* detail: enum isovm_phase */
    ISOVM_STATUS_EXIT = 2,       /* detail: the job's exit status (0..255) */
    ISOVM_STATUS_SIGNAL = 3,     /* detail: the signal that killed the job */
    ISOVM_STATUS_OOM = 4,        /* detail: the status the job got (128 + SIGKILL) after the
                                  * guest kernel's OOM killer chose it */
    ISOVM_INIT_ERROR = 5,        /* detail: an errno; the init printed why on isovm.stderr */
};
enum isovm_phase {
    ISOVM_PHASE_INIT_START = 1,  /* the init's first instruction in main */
    ISOVM_PHASE_ROOT_READY = 2,  /* modules loaded, root and overlay mounted */
    ISOVM_PHASE_JOB_START = 3,   /* just before the job's execve */
    ISOVM_PHASE_JOB_END = 4,     /* the job's process has been reaped */
};
#define ISOVM_STATUS(kind, detail) (((unsigned)(kind) << 24) | ((unsigned)(detail) & 0xffffffu))

#endif
