/* Guest paths resolved beneath the grants into host targets: what the sys_fs*.c files share. */
#ifndef ISOVM_SYS_FS_TARGET_H
#define ISOVM_SYS_FS_TARGET_H
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "vmm/caps/cap.h"
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

#define RESOLVE_IN_GRANT (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
#define GETDENTS_MAX     (1u << 20)  /* one getdents64 moves at most this many bytes */
#define FS_UMASK_DEFAULT 022u        /* the job's umask until it sets one (umask(2)) */
#define GUEST_AT_FDCWD   ((uint64_t)(uint32_t)AT_FDCWD)
#define GUEST_O_LARGEFILE 0100000    /* the kernel's value (the C library's x86-64 one is 0) */

/* Rights an open file gets (before intersecting with its directory's) for each access mode
 * (exec: a program opened for reading may be run through its descriptor, as fexecve does). */
#define RIGHTS_FOR_READ  (CAP_R_READ | CAP_R_STAT | CAP_R_SEEK | CAP_R_EXEC)
#define RIGHTS_FOR_WRITE (CAP_R_WRITE | CAP_R_STAT | CAP_R_SEEK | CAP_R_TRUNCATE)

/* Where a guest path leads: a directory the view makes up, or a remainder beneath a live
 * capability (a grant's root, or the directory descriptor it was relative to). */
struct fs_target {
    char guest[PATH_MAX];  /* normalized absolute guest path */
    const char *rest;      /* below the capability's own path, inside guest[] ("": itself) */
    uint32_t slot;         /* the capability the authority comes from; CAP_NONE: made up */
    struct cap *cap;
    int grant;             /* index of the grant the path is in; -1: made up */
    bool file_grant;       /* the path is a regular file granted directly */
};

static inline bool fs_target_virtual(const struct fs_target *t) { return t->slot == CAP_NONE; }

/* The grant whose root `slot` descends from, or -1. */
int fs_grant_of_slot(const struct job *job, uint32_t slot);

/* A refusal of path `t` (or `path`): counted, logged, returned. */
int fs_deny(struct job *job, const struct sc_call *c, enum deny_kind kind, int err,
            uint32_t slot, const char *path);

/* Does the target's capability carry every right in `need`? 0 or -EACCES (audited). */
int fs_target_need(struct job *job, const struct sc_call *c, const struct fs_target *t,
                   uint32_t need);

/* Copy a guest path once (PATH_MAX with its NUL). Length, -EFAULT or -ENAMETOOLONG. */
long fs_path_copy(const struct sc_call *c, uint64_t gva, char *out);

/* Resolve `raw` relative to dirfd (GUEST_AT_FDCWD: the working directory) to a target. The
 * capability found is checked live (revoked: -EKEYREVOKED, expired: -EKEYEXPIRED); rights are
 * the caller's to check. Outside every grant: -ENOENT (audited as outside-grants). */
int fs_resolve(struct job *job, const struct sc_call *c, uint64_t dirfd, const char *raw,
               struct fs_target *t);

/* Copy and resolve in one step. */
int fs_resolve_gva(struct job *job, const struct sc_call *c, uint64_t dirfd, uint64_t gva,
                   struct fs_target *t);

/* A host errno from resolution beneath a grant: leaving it (EXDEV from RESOLVE_BENEATH or
 * RESOLVE_NO_XDEV, ELOOP from RESOLVE_NO_MAGICLINKS) is refused as EACCES, audited as escape. */
int fs_host_err(struct job *job, const struct sc_call *c, const struct fs_target *t, int err,
                bool nofollow);

int fs_openat2_beneath(int dirfd, const char *rest, uint64_t flags, uint64_t mode);

/* Host descriptor fd's magic link in /proc/self/fd: the directory descriptor to use with the
 * name written to buf, or -ENOENT when there is no /proc. */
int fs_proc_fd_at(int fd, char *buf, size_t len);

/* Operations on a host descriptor (often O_PATH) without /proc where the kernel allows it (the
 * jailed VMM has no /proc), through /proc/self/fd otherwise. */
int fs_fd_access(int fd, int mode);

int fs_fd_utimens(int fd, const struct timespec *times);

/* Open the target on the host (following symlinks, but only beneath its grant). A file grant
 * is reopened through its O_PATH descriptor. Every open but O_PATH is non-blocking without a
 * controlling tty, and must find a regular file or a directory: a FIFO, a device or a socket
 * would block (a FIFO without its other end) or reach beyond the file system, with the job
 * lock held, so it is refused with ENXIO (audited as special-file). What is allowed loses the
 * O_NONBLOCK again (the job's own is kept in its descriptor's status). Host descriptor or
 * -errno (escapes audited). */
int fs_target_open(struct job *job, const struct sc_call *c, const struct fs_target *t,
                   uint64_t flags, uint64_t mode);

/* The target's parent directory on the host (O_PATH, beneath the grant) and its last
 * component in *last. The capability's own object (rest "") has no parent here: -EBUSY. */
int fs_target_parent(struct job *job, const struct sc_call *c, const struct fs_target *t,
                     const char **last);

#endif
