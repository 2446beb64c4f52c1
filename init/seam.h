/* The test build's seam (-DISOVM_INIT_TEST): where the init, run as PID 1 of a PID namespace
 * chrooted into a test directory on a host, finds what a guest would give it. */
#ifndef ISOVM_INIT_SEAM_H
#define ISOVM_INIT_SEAM_H

/* The test build (tests/init/run.sh) differs from the guest's init in these points only:
 * - the status port is the file /test/status, one "KIND DETAIL" line per write;
 * - the job channel is the file /test/job: its size is the length the channel gives (0 for an
 *   empty file), its bytes the file's; a missing file is a channel that cannot be opened; after
 *   the phase PREPARED it is /test/job.prepared (what the VMM gives a prepared machine's init);
 * - the job file's time and seed are not applied to the host: each call the guest's init would
 *   make is appended to /test/applied.log as one line, with its arguments:
 *       clock_settime CLOCK_REALTIME SEC NSEC
 *       RNDADDENTROPY ENTROPY_BITS BUF_SIZE HEX     (the rand_pool_info given; HEX lower-case)
 *       RNDRESEEDCRNG
 *   (/dev/urandom is opened as in the guest);
 * - a share's 9p mount is recorded there, not made (its mount point is made for real in the new
 *   root), and so is its unmount at the end (rw shares, last first):
 *       mount isovm MOUNTPOINT 9p FLAGS OPTIONS      (FLAGS: MS_* names joined by '|')
 *       umount MOUNTPOINT
 * - the network's interfaces are the entries of /test/net (the guest's /sys/class/net), and
 *   the calls that set them up are recorded there, in the order made:
 *       SIOCSIFFLAGS lo +IFF_UP
 *       disable_ipv6 IFNAME                          (/proc/sys/net/ipv6/conf/IFNAME/disable_ipv6)
 *       SIOCSIFADDR IFNAME ADDR
 *       SIOCSIFNETMASK IFNAME MASK
 *       SIOCSIFFLAGS IFNAME +IFF_UP
 *   (/etc/hosts and /etc/resolv.conf are written in the new root for real, tmpfs and bind mount
 *   included);
 * - /test stays reachable after the move into the new root through a directory descriptor
 *   taken at the start (seam_open);
 * - a module is checked to be an ELF file and its name appended to /test/modules.log, not
 *   loaded into the host's kernel;
 * - the ports are named under /test/virtio-ports/vportNpM/name and opened as /test/dev/vportNpM;
 * - the job's cgroup gets memory.max = the job file's memory (the guest's RAM, emulated);
 * - ISOVM_INIT_TEST_WAIT_MS in the environment shortens ISOVM_INIT_WAIT_MS;
 * - at the end the init exits instead of calling reboot. */
#ifdef ISOVM_INIT_TEST
#define SEAM_TEST 1
#define SEAM_PORTS_SYSDIR "/test/virtio-ports"
#define SEAM_PORTS_DEVDIR "/test/dev"
#define SEAM_STATUS_FILE "/test/status"
#define SEAM_MODULES_LOG "/test/modules.log"
#define SEAM_JOB_FILE "/test/job"
#define SEAM_DIR "/test"
#define SEAM_JOB_NAME "job"                   /* in SEAM_DIR */
#define SEAM_JOB_PREPARED_NAME "job.prepared" /* in SEAM_DIR */
#define SEAM_APPLIED_NAME "applied.log" /* in SEAM_DIR */
#define SEAM_APPLIED_LOG SEAM_DIR "/" SEAM_APPLIED_NAME
#else
#define SEAM_TEST 0
#define SEAM_PORTS_SYSDIR "/sys/class/virtio-ports"
#define SEAM_PORTS_DEVDIR "/dev"
#endif

/* How long to wait for a device node or the ports, in milliseconds. */
int seam_wait_ms(void);

/* The test build: takes a descriptor of /test (from the initramfs's root, before the move into
 * the new root hides it). The guest's: nothing. 0 or -errno. */
int seam_open(void);

#if SEAM_TEST
#include <dirent.h>
/* The descriptor seam_open took (-1 before). */
int seam_dir_fd(void);
/* Appends one line (fmt's, without its LF) to SEAM_APPLIED_LOG, made at the first. 0 or -errno. */
int seam_record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The directory /test/NAME, as a stream; NULL with errno when it cannot be opened. */
DIR *seam_opendir(const char *name);
#endif

#endif
