/* Guest descriptors as handles on capabilities: look up with the rights check, install, close. */
#ifndef ISOVM_FD_H
#define ISOVM_FD_H
#include <stdbool.h>
#include <stdint.h>
#include "vmm/caps/cap.h"
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

/* A guest descriptor: a handle on a capability-table entry (vmm/caps/cap.h). Closing it drops the
 * reference; a reused number holds a new entry and generation, never the old authority. */
struct fd_slot {
    bool open;
    bool cloexec;
    uint32_t cap;         /* slot in job->caps */
    uint32_t gen;         /* the entry's generation when the handle was made */
    uint32_t status;      /* O_APPEND | O_NONBLOCK as the job set them (F_GETFL) */
    uint32_t access;      /* O_RDONLY / O_WRONLY / O_RDWR as opened (F_GETFL) */
};

/* The job's capability table (policy.max_capabilities entries) and descriptor table, with
 * stdin, stdout and stderr as descriptors 0-2 on the console, one root capability each (isovm's
 * own 0-2, never closed by it). 0 or -ENOMEM (fd_table_fini still frees what was made). */
int fd_table_init(struct job *job);
/* Close every host descriptor the capability table owns and free it and every process's
 * descriptor table. */
void fd_table_fini(struct job *job);

/* May the capability in `slot` (generation `gen`) be used for the rights in `need` now? 0 and
 * *out; or -EBADF (stale handle), -EKEYREVOKED, -EKEYEXPIRED, -EBADF when READ or WRITE is
 * missing, -EACCES when another right is. The clock is read only for entries that can expire;
 * a first use past the deadline logs the "expire" event. Every refusal but a stale handle is
 * counted and audited under syscall c->nr, naming descriptor `fd` (-1: none) and guest `path`
 * (NULL: none). job->lock held. */
int cap_use(struct job *job, const struct sc_call *c, uint32_t slot, uint32_t gen, uint32_t need,
            int fd, const char *path, struct cap **out);

/* The capability behind guest descriptor `fd`, checked for the rights in `need` now (expiry
 * at every use). 0 and *out (and *slot if not NULL); or -EBADF (not open), -EKEYREVOKED,
 * -EKEYEXPIRED, -EBADF when READ or WRITE is missing (as Linux answers a read on an O_WRONLY
 * descriptor), -EACCES when another right is missing. Every refusal but "not open" is counted
 * and written to the audit log under syscall c->nr. job->lock held. */
int fd_cap(struct job *job, const struct sc_call *c, uint64_t fd, uint32_t need, struct cap **out,
           uint32_t *slot);

/* Does capability e (in `slot`, already looked up and checked live) carry every right in
 * `need`? 0, or -EACCES counted and audited as a rights denial naming e's path. job->lock held. */
int cap_need(struct job *job, const struct sc_call *c, const struct cap *e, uint32_t slot,
             uint32_t need);
/* The lowest free descriptor number >= from, or -EMFILE (counted as a limit denial, audited)
 * when the job holds max_capabilities descriptors, -EINVAL when from is beyond the table. */
int fd_alloc(struct job *job, const struct sc_call *c, uint64_t from);

/* Make process p's descriptor `fd` (free, or closed first) a handle on capability `slot` (a
 * reference is taken). Returns fd. */
int fd_bind(struct job *job, struct proc *p, int fd, uint32_t slot, bool cloexec,
            uint32_t access);

/* A new capability derived from `parent` and a descriptor for it, both or neither: a failed
 * call uses no descriptor and no table slot (the caller keeps host_fd then). Refusals are
 * counted and audited (EMFILE: limit; EPERM: amplification). On success the "derive" event
 * is in the audit log. Returns the descriptor or -errno. */
int fd_new_cap(struct job *job, const struct sc_call *c, uint32_t parent, enum cap_kind kind,
               enum cap_origin origin, uint32_t rights, uint64_t expires_ns, int host_fd,
               const char *path, bool cloexec, uint32_t access);

/* Close process p's descriptor fd (drops its reference). 0 or -EBADF. */
int fd_close(struct job *job, struct proc *p, uint64_t fd);

/* A forked child's descriptor table: a handle on the same entry for each of the parent's open
 * descriptors (one more reference each: the open file description is shared, offsets and
 * all, as on Linux), close-on-exec flags and status kept. 0 or -ENOMEM. */
int fd_table_fork(struct job *job, const struct proc *parent, struct proc *child);

/* Close process p's close-on-exec descriptors (it execs). */
void fd_table_exec(struct job *job, struct proc *p);

/* Close every descriptor of an ended process and free its table. */
void fd_table_release(struct job *job, struct proc *p);

/* Errno for a cap_check failure in a path operation (-EACCES stays, others pass through) and
 * the denial kind to count it under. */
enum deny_kind fd_deny_kind(int err);

#endif
