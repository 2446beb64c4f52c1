/* The init's mounts: /proc, /sys and /dev; the root, its writable layer and the disks; the move
 * into the new root. */
#ifndef ISOVM_INIT_MOUNTS_H
#define ISOVM_INIT_MOUNTS_H
#include <stddef.h>
#include "init/abi.h"
#include "init/job_file.h"

/* Where the init assembles the new root inside the initramfs. */
#define MOUNTS_LOWER "/isovm/lower"  /* the root image, read-only (under an overlay) */
#define MOUNTS_RW    "/isovm/rw"     /* the writable layer's tmpfs or disk: upper/, work/ */
#define MOUNTS_ROOT  "/isovm/root"   /* the new root: the overlay, or the root image itself */

/* proc on /proc, sysfs on /sys, devtmpfs on /dev. 0 or -errno with err. */
int mounts_early(char *err, size_t len);

/* Waits up to ISOVM_INIT_WAIT_MS for dev to be a block device: 0, -ENOENT (never came) or
 * -ENOTBLK (something else is there). */
int mounts_wait_dev(const char *dev);

/* The root read-only and its writable layer, at MOUNTS_ROOT. 0, or -errno with *stage
 * (ISOVM_STAGE_ROOT or ISOVM_STAGE_OVERLAY) and err. */
int mounts_root(const struct job_spec *s, enum isovm_init_stage *stage, char *err, size_t len);

/* /proc, /sys and /dev moved into MOUNTS_ROOT; /tmp, /dev/pts, /dev/shm and the cgroup2
 * hierarchy at /sys/fs/cgroup mounted there; then MOUNTS_ROOT moved onto / and chroot'ed into.
 * 0 or -errno with err. */
int mounts_new_root(char *err, size_t len);

/* Every disk line (in the new root): waited for, and mounted where it says. 0 or -errno. */
int mounts_disks(const struct job_spec *s, char *err, size_t len);

/* At the end: unmounts the writable disks, last first (best effort: a busy one stays). */
void mounts_release(const struct job_spec *s);

#endif
