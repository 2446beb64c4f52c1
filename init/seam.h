/* The test build's seam (-DISOVM_INIT_TEST): where the init, run as PID 1 of a PID namespace
 * chrooted into a test directory on a host, finds what a guest would give it. */
#ifndef ISOVM_INIT_SEAM_H
#define ISOVM_INIT_SEAM_H

/* The test build (tests/init/run.sh) differs from the guest's init in these points only:
 * - the status port is the file /test/status, one "KIND DETAIL" line per write;
 * - the job channel is the file /test/job: its size is the length the channel gives (0 for an
 *   empty file), its bytes the file's; a missing file is a channel that cannot be opened;
 * - the job file's time and seed are not applied to the host: each call the guest's init would
 *   make is appended to /test/applied.log as one line, with its arguments:
 *       clock_settime CLOCK_REALTIME SEC NSEC
 *       RNDADDENTROPY ENTROPY_BITS BUF_SIZE HEX     (the rand_pool_info given; HEX lower-case)
 *       RNDRESEEDCRNG
 *   (/dev/urandom is opened as in the guest);
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
#define SEAM_APPLIED_LOG "/test/applied.log"
#else
#define SEAM_TEST 0
#define SEAM_PORTS_SYSDIR "/sys/class/virtio-ports"
#define SEAM_PORTS_DEVDIR "/dev"
#endif

/* How long to wait for a device node or the ports, in milliseconds. */
int seam_wait_ms(void);

#endif
