/* Waiting for child processes: wait4 and waitid, zombies reaped, statuses as Linux reports them. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "vmm/sys/sys.h"

/* Which children a wait names: any (P_ALL), one pid (P_PID), a process group (P_PGID). */
struct wait_sel {
    idtype_t type;
    int id;
};

static bool wait_matches(const struct proc *q, const struct proc *self, const struct wait_sel *s)
{
    if (q->state == PROC_FREE || q->ppid != self->pid || q == self)
        return false;
    switch (s->type) {
    case P_PID: return q->pid == s->id;
    case P_PGID: return q->pgid == s->id;
    default: return true;
    }
}

/* The first zombie child the selection names (NULL: none yet); *any: some child matches at
 * all. */
static struct proc *wait_find(struct job *job, const struct proc *self,
                              const struct wait_sel *s, bool *any)
{
    *any = false;
    for (unsigned i = 1; i < ISOVM_MAX_PROCS; i++) {
        struct proc *q = &job->procs[i];
        if (!wait_matches(q, self, s))
            continue;
        *any = true;
        if (q->state == PROC_ZOMBIE)
            return q;
    }
    return NULL;
}

/* Wait (job->lock released meanwhile) until a named child is a zombie: it, or NULL with *err
 * -ECHILD (no such child), 0 (WNOHANG and none yet), -EINTR (the job or process is ending). */
static struct proc *wait_for(struct job *job, struct sc_call *c, const struct wait_sel *s,
                             bool nohang, int *err)
{
    for (;;) {
        bool any;
        struct proc *z = wait_find(job, sc_proc(c), s, &any);
        if (z)
            return z;
        *err = any ? 0 : -ECHILD;
        if (!any || nohang)
            return NULL;
        if (job_wait_until(job, c->self, mono_ns() + 1000000000ull) < 0) {
            *err = -EINTR;
            return NULL;
        }
    }
}

/* The zombie's slot freed (its pid may be used again). */
static void reap(struct job *job, struct proc *z)
{
    z->state = PROC_FREE;
    job->procs_held--;
}

static void rusage_of(const struct proc *z, struct rusage *ru)
{
    memset(ru, 0, sizeof *ru);
    ru->ru_utime.tv_sec = (time_t)(z->cpu_ns / 1000000000ull);
    ru->ru_utime.tv_usec = (long)(z->cpu_ns % 1000000000ull / 1000);
}

#define WAIT_OPTIONS (WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD)

/* wait4(pid, wstatus, options, rusage) */
int64_t sys_wait4(struct job *job, struct sc_call *c)
{
    int64_t pid = (int32_t)c->a[0];
    uint64_t status_gva = c->a[1], options = c->a[2], ru_gva = c->a[3];
    if (options & ~(uint64_t)WAIT_OPTIONS || pid == INT32_MIN)
        return -EINVAL;
    struct wait_sel s = { P_ALL, 0 };
    if (pid > 0)
        s = (struct wait_sel){ P_PID, (int)pid };
    else if (pid == 0)
        s = (struct wait_sel){ P_PGID, sc_proc(c)->pgid };
    else if (pid < -1)
        s = (struct wait_sel){ P_PGID, (int)-pid };
    int err;
    struct proc *z = wait_for(job, c, &s, options & WNOHANG, &err);
    if (!z)
        return err;
    /* the answer's places are checked before the child is reaped: a bad pointer loses nothing */
    if ((status_gva && gpa_range_check(sc_gm(c), status_gva, sizeof(int), GPERM_W, NULL)) ||
        (ru_gva && gpa_range_check(sc_gm(c), ru_gva, sizeof(struct rusage), GPERM_W, NULL)))
        return -EFAULT;
    int status = z->wait_status, zpid = z->pid;
    if (status_gva)
        gmem_copy_to(sc_gm(c), status_gva, &status, sizeof status);
    if (ru_gva) {
        struct rusage ru;
        rusage_of(z, &ru);
        gmem_copy_to(sc_gm(c), ru_gva, &ru, sizeof ru);
    }
    reap(job, z);
    return zpid;
}

/* waitid(idtype, id, infop, options, rusage) */
int64_t sys_waitid(struct job *job, struct sc_call *c)
{
    uint64_t type = c->a[0], options = c->a[3], info_gva = c->a[2], ru_gva = c->a[4];
    int64_t id = (int64_t)c->a[1];
    if (options & ~(uint64_t)(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | __WALL |
                              __WCLONE | __WNOTHREAD) ||
        !(options & (WEXITED | WSTOPPED | WCONTINUED)))
        return -EINVAL;
    struct wait_sel s;
    if (type == P_ALL)
        s = (struct wait_sel){ P_ALL, 0 };
    else if ((type == P_PID || type == P_PGID) && id >= 0 && id <= INT32_MAX)
        s = (struct wait_sel){ (idtype_t)type, (int)id };
    else if (type == 3 /* P_PIDFD */)
        return -EBADF; /* the job has no pidfd: no descriptor is one (as Linux answers) */
    else
        return -EINVAL;
    if (s.type == P_PID && id <= 0)
        return -EINVAL;
    if (s.type == P_PGID && id == 0)
        s.id = sc_proc(c)->pgid;
    if (!(options & WEXITED)) /* nothing stops or continues: only ends are reported */
        return (options & WNOHANG) ? 0 : -ECHILD;
    if ((info_gva && gpa_range_check(sc_gm(c), info_gva, 128, GPERM_W, NULL)) ||
        (ru_gva && gpa_range_check(sc_gm(c), ru_gva, sizeof(struct rusage), GPERM_W, NULL)))
        return -EFAULT;
    int err;
    struct proc *z = wait_for(job, c, &s, options & WNOHANG, &err);
    uint8_t info[128];
    memset(info, 0, sizeof info);
    if (z) {
        int32_t f[7] = { SIGCHLD, 0, 0, 0, z->pid, 0, 0 }; /* signo errno code pad pid uid status */
        int sig = z->wait_status & 0x7f;
        f[2] = sig ? CLD_KILLED : CLD_EXITED;
        f[6] = sig ? sig : (z->wait_status >> 8) & 0xff;
        memcpy(info, f, sizeof f);
    } else if (err) {
        return err;
    }
    if (info_gva)
        gmem_copy_to(sc_gm(c), info_gva, info, sizeof info);
    if (z && ru_gva) {
        struct rusage ru;
        rusage_of(z, &ru);
        gmem_copy_to(sc_gm(c), ru_gva, &ru, sizeof ru);
    }
    if (z && !(options & WNOWAIT))
        reap(job, z);
    return 0;
}
