/* The snapshot cache: ${XDG_CACHE_HOME:-~/.cache}/isovm/snapshots/KEY.snap, KEY a SHA-256 of everything a booted guest depends on. */
#ifndef ISOVM_LINUX_LSNAP_CACHE_H
#define ISOVM_LINUX_LSNAP_CACHE_H
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#define LSNAP_CACHE_KEEP 4   /* snapshots kept; the least recently used go first */

/* What a guest booted to the init's ready point depends on. */
struct lsnap_key_in {
    const char *kernel_path, *modules_path; /* identified by device, inode, size, mtime, ctime */
    uint64_t mem_size;
    unsigned nvcpus, ndevices;              /* ndevices: virtio-mmio devices in the ACPI tables */
    const char *cmdline;
    const struct kvm_cpuid2 *cpuid;         /* KVM's supported CPUID on this host */
};

/* The key: SHA-256 over the format, this isovm binary (its GNU build ID, which covers the init
 * inside it), the inputs above and the host kernel's release. 0, or a negative errno with why in
 * err (a file that cannot be stat'ed, no build ID). */
int lsnap_key(const struct lsnap_key_in *in, uint8_t key[32], char *err, size_t errlen);

/* The cache directory, made 0700 when missing: $ISOVM_SNAPSHOT_CACHE, else
 * $XDG_CACHE_HOME/isovm/snapshots, else $HOME/.cache/isovm/snapshots. */
int lsnap_cache_dir(char *dir, size_t cap, char *err, size_t errlen);

/* Open dir/KEY.snap for reading: a regular file (no symlink) owned by this user and writable by
 * no one else. The fd, -ENOENT when there is none, or another negative errno with why in err. */
int lsnap_cache_open(const char *dir, const uint8_t key[32], char *err, size_t errlen);

/* A new private file dir/KEY.snap.tmp.PID to write a snapshot into; its path in tmp. The fd or a
 * negative errno with why in err. */
int lsnap_cache_create(const char *dir, const uint8_t key[32], char *tmp, size_t cap, char *err,
                       size_t errlen);

/* Make the written tmp file dir/KEY.snap (flushed first, then renamed over any older one), and
 * remove the least recently used snapshots beyond LSNAP_CACHE_KEEP and abandoned temporary files.
 * 0 or a negative errno with why in err (tmp is then removed). */
int lsnap_cache_publish(int fd, const char *dir, const uint8_t key[32], const char *tmp, char *err,
                        size_t errlen);

#endif
