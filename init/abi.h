/* The contract between the VMM and isovm's init (PID 1 of a Linux-tier guest): the initramfs
 * layout, the job file and the job channel that gives it, the job's streams, and the status port. */
#ifndef ISOVM_INIT_ABI_H
#define ISOVM_INIT_ABI_H

/* ---- the initramfs the VMM assembles (a newc cpio, any compression the kernel reads) ----
 *   /init                  isovm's init (this folder), mode 0755: the kernel runs it as PID 1
 *   /lib/modules/order     the modules, one a line (LF-terminated): a file name relative to
 *                          /lib/modules ([A-Za-z0-9_.-]+.ko), then optionally tags, each after
 *                          one space ([a-z0-9_]+, at most ISOVM_MODULE_TAGS_MAX): the file
 *                          system types the module serves (job file FSTYPEs, "overlay" for
 *                          overlayfs), "9p" (the shares' modules) or "net" (virtio-net's). In load order: each after its dependencies. Written
 *                          host-side (scripts/linux-kernel.sh makes it with the modules, from
 *                          modules.dep); the VMM copies both as they are.
 *   /lib/modules/NAME.ko   the modules, uncompressed (Debian's are)
 *   /dev/console           optional (c 5 1); the init opens it itself after mounting devtmpfs
 * Anything else is ignored. The init loads, with finit_module and in the file's order, every
 * untagged module and every tagged one with a tag the job file names (the root's, the overlay
 * disk's and the disks' FSTYPEs; "overlay" when there is an overlay line; "9p" when there is a
 * share line; "net" when there is a net line): a job on a squashfs root loads no ext4. One already loaded (EEXIST) is fine. It unlinks every module file and the
 * order file before it leaves the initramfs. */
/* A guest the VMM will snapshot at its ready point (or restore from one) is booted with
 * ISOVM_PRELOAD_ENV=1 on the kernel's command line, which the kernel hands to the init in its
 * environment: the init then loads, before the ready point, every module but the transport
 * (ISOVM_MODULE_TRANSPORT: its load finds the virtio-mmio devices, which no guest touches before
 * the snapshot), whatever their tags, so that a restored guest loads only the transport. */
#define ISOVM_PRELOAD_ENV "isovm_preload"
#define ISOVM_MODULE_TRANSPORT "virtio_mmio.ko"
#define ISOVM_INIT_PATH "/init"
#define ISOVM_MODULES_DIR "/lib/modules"
#define ISOVM_MODULES_ORDER "/lib/modules/order"
#define ISOVM_MODULES_ORDER_MAX (64 * 1024) /* bytes of the order file */
#define ISOVM_MODULE_TAGS_MAX 16             /* tags on one line of it */

/* ---- the job file: fetched from the VMM over the job channel (below) ----
 * A text file of records, one per line: KEY SP FIELD [SP FIELD]... LF. Every FIELD is
 * percent-escaped (every byte below 0x21, above 0x7e, and '%' itself as %XX, hex, either case),
 * so any byte string but NUL fits in one field; %00 is refused (fields become C strings). Raw
 * bytes outside 0x21..0x7e other than the separators are refused, as is a last line without LF.
 * Keys, in this order where they appear (repeatable ones marked *; required ones marked !):
 *   version 1 !        always the first line
 *   prepare 1          a prepare file (below, the job channel): a machine made ahead of its
 *                      job. It holds version, prepare, root and overlay lines only, and needs
 *                      no arg line
 *   arg* VALUE !       the job's argv, argv[0] first (at least one; argv[0] not empty). argv[0]
 *                      without '/' is looked up in the PATH of the job's environment, as a shell
 *                      does (default /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
 *   env* KEY=VALUE     the job's environment (none: empty); KEY not empty
 *   cwd PATH           the working directory inside the guest, absolute (default /)
 *   root DEV FSTYPE !  the root file system, always mounted read-only: e.g. "/dev/vda squashfs"
 *   overlay tmpfs      the writable layer over the root: an overlayfs with upper and work on a
 *   overlay disk DEV FSTYPE   tmpfs, or on the disk DEV (directories /upper and /work on it,
 *                      made when missing). No overlay line: the root stays read-only.
 *   disk* DEV FSTYPE MOUNTPOINT ro|rw   further disks the init mounts at MOUNTPOINT (absolute,
 *                      not "/", made when missing) in the new root; MOUNTPOINT "-": not mounted
 *                      (the device is there for the job to use)
 *   share* MOUNTPOINT ro|rw   a directory the VMM serves over virtio-9p (9P2000.L: one device,
 *                      mount tag ISOVM_9P_TAG): the N-th share line (from 0) is the entry named
 *                      N of the file system's root (aname ""). The init mounts that once and
 *                      bind-mounts entry N at MOUNTPOINT in the new root (made with mkdir -p
 *                      when missing), nosuid, nodev, and read-only for ro (a virtio-9p channel
 *                      serves one mount: a second mount of the tag fails with EBUSY). The VMM
 *                      also attaches a share by its MOUNTPOINT as the aname. MOUNTPOINT:
 *                      absolute and normalized (no
 *                      empty, "." or ".." component, no trailing '/'), not "/", no ',' (the
 *                      mount options' separator), at most ISOVM_JOB_SHARE_PATH_MAX bytes, once
 *                      each, not a disk's mount point nor above one (it would hide the disk).
 *                      At most ISOVM_JOB_SHARES_MAX. Mounted by depth, a share before those
 *                      below it (the file's order among equals): any order of lines will do
 *   net ADDR PREFIXLEN the network: the init brings up lo and the one other interface the
 *                      kernel made (virtio-net; waited for up to ISOVM_INIT_WAIT_MS) with the
 *                      address ADDR/PREFIXLEN (1..32); no default route, no DHCP, IPv6 off on
 *                      it. ADDR: dotted IPv4 (a.b.c.d, each 0..255 without leading zeros), not
 *                      in 0/8, 127/8 or 224/3, nor the network or broadcast address of its
 *                      prefix (up to /30)
 *   host* NAME ADDR    a line "ADDR NAME" of the new root's /etc/hosts, which the init writes
 *                      (replacing it) with "127.0.0.1 localhost" first when the job file has
 *                      any host line. NAME: a hostname (labels of [A-Za-z0-9-], 1..63 bytes,
 *                      not starting or ending with '-', '.' between them, at most 253 bytes,
 *                      the last label not all digits), not "localhost", each once (any case);
 *                      ADDR dotted IPv4. At most ISOVM_JOB_HOSTS_MAX
 *   nameserver ADDR    the new root's /etc/resolv.conf becomes "nameserver ADDR" (replaced);
 *                      ADDR dotted IPv4, not in 0/8 or 224/3
 *                      /etc/hosts and /etc/resolv.conf: written into the root when it can be
 *                      written (an overlay); on a read-only root, written to a small tmpfs and
 *                      bind-mounted (read-only) over the root's file, which must then exist
 *                      (ISOVM_STAGE_NET otherwise). Written before the shares are mounted: the
 *                      init never writes into a share, and no share may be above the file it
 *                      writes (a share /etc with a host line is refused).
 *   max_threads N      pids.max of the job's cgroup (tasks of every process of the job), 1..4194304
 *   memory N           guest RAM in bytes (for the init's own messages)
 *   time SEC NSEC      the host's CLOCK_REALTIME when the VMM wrote the file: the init sets
 *                      the guest's clock to it (a restored guest's clock is the snapshot's)
 *   seed HEX           32 bytes (64 hex digits) of the host's randomness: the init mixes them
 *                      into the guest's pool (RNDADDENTROPY, credited) and reseeds its CRNG
 *                      (RNDRESEEDCRNG), so guests restored from one snapshot do not share
 *                      random numbers
 * DEV is an absolute path (/dev/vda, ...), each used once. FSTYPE: squashfs, erofs (read-only
 * only), ext4, ext3, ext2. Unknown keys, keys out of order or repeated, missing required keys:
 * an init error (status ISOVM_INIT_ERROR, stage ISOVM_STAGE_JOB_FILE), never ignored.
 * init/job_write.h writes this format from a struct job_spec; init/job_file.h parses it. */
#define ISOVM_JOB_VERSION 1
#define ISOVM_JOB_LINE_MAX 65536          /* bytes of one escaped record, LF included */
#define ISOVM_JOB_FILE_MAX (4u << 20)     /* bytes of the whole file */
#define ISOVM_JOB_MAX_THREADS_MAX 4194304 /* Linux's PID_MAX_LIMIT */
#define ISOVM_JOB_DISKS_MAX 64            /* disk lines */
#define ISOVM_JOB_SHARES_MAX 32           /* share lines */
#define ISOVM_JOB_SHARE_PATH_MAX 1024     /* bytes of a share's MOUNTPOINT (the 9P aname) */
#define ISOVM_JOB_HOSTS_MAX 64            /* host lines */

/* ---- the shares' file system (share lines): virtio-9p ----
 * One virtio-9p device whose mount tag is ISOVM_9P_TAG. The init mounts its root once,
 *   mount(ISOVM_9P_TAG, "/dev/.isovm-grants", "9p", MS_NOSUID | MS_NODEV, ISOVM_9P_OPTIONS ",aname=")
 * bind-mounts "/dev/.isovm-grants/N" at the N-th share's MOUNTPOINT (remounted MS_RDONLY for
 * ro), then detaches the root: the job sees only its shares.
 * These options are written here only: a benchmark mounting another VMM's 9p for comparison
 * uses the same. */
#define ISOVM_9P_TAG "isovm"
#define ISOVM_9P_OPTIONS "trans=virtio,version=9p2000.L,msize=512000,cache=mmap,access=client"

/* ---- the job channel: how the init gets its job file ----
 * The job file is not in the initramfs: the init asks the VMM for it once it is ready, so that a
 * guest can be booted once, snapshotted at that point with nothing of any job's in it, and
 * restored for each job (docs/linux-tier.md).
 *   1. the init writes ISOVM_PHASE_READY to the status port. Until then it has mounted /proc,
 *      /sys and /dev, opened its console and, booted with ISOVM_PRELOAD_ENV=1, loaded every
 *      module but the transport; nothing else: no disk or console device touched. The VMM may
 *      stop the guest here and snapshot it.
 *   2. a 32-bit `in` from ISOVM_JOB_PORT gives the job file's length in bytes (1 ..
 *      ISOVM_JOB_FILE_MAX) and rewinds the channel to the file's first byte
 *   3. 8-bit `in`s from ISOVM_JOB_PORT + 4 (one `rep insb`) give the file's bytes in order;
 *      past its end they read 0
 * Any other access reads all ones and is ignored.
 * A machine made ahead of its job (isovm pool serve --rootfs) gets a prepare file first (its
 * root and overlay lines): the init loads the modules, opens the streams, mounts the root and the
 * overlay and moves in as for a job, writes ISOVM_PHASE_PREPARED (the VMM stops the vCPU there
 * until a job comes), then fetches the job file proper the same way (steps 2 and 3: the channel
 * then gives the new file). That file must name the same root and overlay, and is not a prepare
 * file; its time and seed are applied then, before anything of the job runs.
 * For another VMM running this init (bench/linux.sh runs it under QEMU, which has no job
 * channel): an initramfs holding ISOVM_JOB_FILE_INITRAMFS gives the job file that way instead,
 * and the channel is not used. isovm's initramfs never holds one. */
#define ISOVM_JOB_FILE_INITRAMFS "/isovm/job"
#define ISOVM_JOB_PORT 0x4f0
#define ISOVM_JOB_PORT_LEN 8
#define ISOVM_JOB_SEED_BYTES 32

/* ---- the guest's disks (virtio-blk over virtio-mmio, in the ACPI DSDT's order) ----
 * /dev/vda the root image, /dev/vdb, /dev/vdc, ... the --disk images in the order given, then
 * the scratch disk of "overlay disk" last. The job file names them; the init does not count. */

/* ---- the job's streams: one virtio-console device with VIRTIO_CONSOLE_F_MULTIPORT ----
 * Generic ports (not consoles), named through the control queue (VIRTIO_CONSOLE_PORT_NAME):
 *   "isovm.stdin"   host -> guest; the host closes the port (VIRTIO_CONSOLE_PORT_OPEN 0) when
 *                   isovm's stdin ends, and the guest's read then returns 0 (EOF)
 *   "isovm.stdout"  guest -> host: isovm's stdout, in order
 *   "isovm.stderr"  guest -> host: isovm's stderr, in order; also the init's own messages once
 *                   the port is open (one line each, starting "isovm-init: ")
 * The host must send VIRTIO_CONSOLE_PORT_OPEN 1 for each port before its PORT_NAME: Linux
 * blocks a write to a port whose host side is closed, and a read returns 0 at once.
 * The init finds each /dev/vportNpM by the name in /sys/class/virtio-ports/vportNpM/name
 * (waiting up to ISOVM_INIT_WAIT_MS for all three), opens each once (Linux allows one open per
 * port) and gives the job its descriptors 0, 1 and 2 on them.
 * ttyS0 (8250 at 0x3f8) carries the kernel's messages, and the init's messages from before the
 * ports exist, to `--console-log FILE` or nowhere. */
#define ISOVM_PORT_STDIN  "isovm.stdin"
#define ISOVM_PORT_STDOUT "isovm.stdout"
#define ISOVM_PORT_STDERR "isovm.stderr"
#define ISOVM_INIT_WAIT_MS 5000 /* the longest the init waits for a device node or the ports */

/* ---- the status port: 32-bit `out` to this I/O port from the init ----
 * value = (kind << 24) | (detail & 0xffffff). The VMM timestamps every write (boot phases in
 * the report) and ends the guest at the first ISOVM_STATUS_EXIT/SIGNAL/OOM/INIT_ERROR. The init
 * writes every byte of the job's output before that last write (the VMM drains the console's
 * queues before it exits), and after it calls reboot(RB_POWER_OFF) as a fallback. */
#define ISOVM_STATUS_PORT 0x4f8
enum isovm_status_kind {
    ISOVM_STATUS_PHASE = 1,      /* detail: enum isovm_phase */
    ISOVM_STATUS_EXIT = 2,       /* detail: the job's exit status (0..255) */
    ISOVM_STATUS_SIGNAL = 3,     /* detail: the signal that killed the job */
    ISOVM_STATUS_OOM = 4,        /* detail: the status the job got, as a shell reports it (its
                                  * exit status, or 128 + the signal that killed it), after the
                                  * guest kernel's OOM killer ended one of the job's processes
                                  * (the job cgroup's memory.events oom_kill went up) */
    ISOVM_INIT_ERROR = 5,        /* detail: ISOVM_INIT_ERROR_DETAIL(stage, errno); the init
                                  * printed why on isovm.stderr (or ttyS0 before the ports) */
};
enum isovm_phase {
    ISOVM_PHASE_INIT_START = 1,  /* the init's first instruction in main */
    ISOVM_PHASE_ROOT_READY = 2,  /* modules loaded, root, overlay and disks mounted, moved in;
                                  * the network, /etc/hosts, resolv.conf and shares set up */
    ISOVM_PHASE_JOB_START = 3,   /* just before the job's process is started */
    ISOVM_PHASE_JOB_END = 4,     /* the job's process has been reaped */
    ISOVM_PHASE_READY = 5,       /* set up, no device touched, about to fetch the job file (the
                                  * snapshot point: see the job channel); between INIT_START and
                                  * ROOT_READY in time */
    ISOVM_PHASE_PREPARED = 6,    /* after a prepare file: the root and overlay mounted, moved
                                  * in, the streams open; about to fetch the job file proper */
};
#define ISOVM_PHASE_MAX ISOVM_PHASE_PREPARED
/* What the init was doing when an init error happened: bits 16..23 of the detail. */
enum isovm_init_stage {
    ISOVM_STAGE_SETUP = 1,       /* mounting /proc, /sys, /dev; the status port */
    ISOVM_STAGE_MODULES = 2,     /* reading the order file, loading a module */
    ISOVM_STAGE_STREAMS = 3,     /* finding and opening the three ports */
    ISOVM_STAGE_JOB_FILE = 4,    /* fetching the job file over the job channel, parsing it, or
                                  * applying its time and seed */
    ISOVM_STAGE_ROOT = 5,        /* waiting for or mounting the root (EINVAL etc.: the guest
                                  * kernel cannot mount the image as that file system) */
    ISOVM_STAGE_OVERLAY = 6,     /* the writable layer: its tmpfs or disk, the overlayfs */
    ISOVM_STAGE_DISKS = 7,       /* waiting for or mounting a disk line's device */
    ISOVM_STAGE_NEW_ROOT = 8,    /* /proc, /sys, /dev, /tmp, ... in the new root; moving in */
    ISOVM_STAGE_CGROUP = 9,      /* the job's cgroup (ENOTSUP: no pids controller for max_threads) */
    ISOVM_STAGE_JOB = 10,        /* starting the job: fork, its working directory */
    ISOVM_STAGE_SHARES = 11,     /* making a share's mount point or mounting it (ENOENT: no 9p
                                  * device with the tag, or the VMM does not serve that share;
                                  * ENODEV: no 9p in the guest kernel) */
    ISOVM_STAGE_NET = 12,        /* the network: the interface (ENODEV: none came; ENOTUNIQ: more
                                  * than one), its address and flags, /etc/hosts, /etc/resolv.conf */
};
#define ISOVM_STATUS(kind, detail) (((unsigned)(kind) << 24) | ((unsigned)(detail) & 0xffffffu))
#define ISOVM_INIT_ERROR_DETAIL(stage, err) (((unsigned)(stage) << 16) | ((unsigned)(err) & 0xffffu))
#define ISOVM_STATUS_KIND(v) ((unsigned)(v) >> 24)
#define ISOVM_STATUS_DETAIL(v) ((unsigned)(v) & 0xffffffu)

#endif
