/* The job's file locks: fcntl record locks (F_GETLK, F_SETLK, F_SETLKW and the OFD variants) and flock, on the host's descriptors of its files. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include "vmm/caps/cap_hold.h"
#include "vmm/caps/fd.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_io.h"

/* The guest's struct flock (x86-64): the kernel's layout, 32 bytes. */
struct guest_flock {
    int16_t l_type, l_whence;
    int32_t pad0;
    int64_t l_start, l_len;
    int32_t l_pid, pad1;
};
_Static_assert(sizeof(struct guest_flock) == sizeof(struct flock), "struct flock's layout");

struct fcntl_arg {
    int cmd;
    struct flock *fl;
};

static int fcntl_op(int fd, void *arg)
{
    struct fcntl_arg *a = arg;
    return fcntl(fd, a->cmd, a->fl);
}

static int flock_op(int fd, void *arg) { return flock(fd, *(int *)arg); }

/* fcntl's lock commands (sys_fcntl hands them here). The struct is read once and checked: type
 * read, write or unlock, whence SET/CUR/END (CUR is the descriptor's own position, which the
 * host descriptor holds), an OFD command's l_pid 0; a read lock needs the descriptor open for
 * reading, a write lock for writing (EBADF, as Linux). Only files have locks (the console,
 * sockets: EINVAL). A conflicting lock's holder is never named (l_pid 0, or -1 for an OFD lock:
 * its host pid is not the job's to know). */
int64_t fcntl_lock(struct job *job, struct sc_call *c, struct cap *e, uint32_t slot,
                   const struct fd_slot *s)
{
    int cmd = (int)c->a[1];
    bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
    bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW, get = cmd == F_GETLK || cmd == F_OFD_GETLK;
    struct guest_flock g;
    int rc = gmem_copy_from(sc_gm(c), &g, c->a[2], sizeof g);
    if (rc)
        return rc;
    if ((g.l_type != F_RDLCK && g.l_type != F_WRLCK && g.l_type != F_UNLCK) ||
        (g.l_whence != SEEK_SET && g.l_whence != SEEK_CUR && g.l_whence != SEEK_END) ||
        (ofd && g.l_pid != 0))
        return -EINVAL;
    if (e->kind != CAP_FILE)
        return -EINVAL;
    unsigned acc = s->access & O_ACCMODE;
    if (!get && ((g.l_type == F_RDLCK && acc == O_WRONLY) ||
                 (g.l_type == F_WRLCK && acc == O_RDONLY)))
        return -EBADF;
    struct flock fl = { .l_type = g.l_type, .l_whence = g.l_whence, .l_start = g.l_start,
                        .l_len = g.l_len, .l_pid = 0 };
    struct fcntl_arg a = { .cmd = cmd, .fl = &fl };
    if (wait) /* the job lock released meanwhile; its end, a revocation or expiry ends it */
        return cap_hold_call(job, slot, fcntl_op, &a);
    if (fcntl(e->host_fd, cmd, &fl) < 0)
        return -errno;
    if (!get)
        return 0;
    g.l_type = fl.l_type;
    g.l_whence = fl.l_whence;
    g.l_start = fl.l_start;
    g.l_len = fl.l_len;
    g.l_pid = fl.l_type == F_UNLCK ? g.l_pid : fl.l_pid == -1 || ofd ? -1 : 0;
    return gmem_copy_to(sc_gm(c), c->a[2], &g, sizeof g);
}

/* flock: LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB or not; on a file of the job (the console,
 * sockets: EINVAL). A lock that must wait releases the job lock (as a blocking read). */
int64_t sys_flock(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    int op = (int)c->a[1], kind = op & ~LOCK_NB;
    if ((uint64_t)op != c->a[1] || (kind != LOCK_SH && kind != LOCK_EX && kind != LOCK_UN))
        return -EINVAL;
    if (e->kind != CAP_FILE && e->kind != CAP_DIR)
        return -EINVAL;
    if ((op & LOCK_NB) || kind == LOCK_UN)
        return flock(e->host_fd, op) < 0 ? -errno : 0;
    return cap_hold_call(job, slot, flock_op, &op);
}
