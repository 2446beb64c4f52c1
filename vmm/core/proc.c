/* Processes of a job: finding one by pid, and the end of one (the first's is the job's). */
#include "vmm/core/proc.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/log.h"
#include "vmm/core/job.h"

struct proc *proc_by_pid(struct job *job, int pid)
{
    for (unsigned i = 0; i < ISOVM_MAX_PROCS; i++)
        if (job->procs[i].state != PROC_FREE && job->procs[i].pid == pid)
            return &job->procs[i];
    return NULL;
}

void proc_end(struct job *job, struct proc *p, int status, const char *msg)
{
    if (p == &job->procs[0]) {
        int sig = status & 0x7f;
        if (sig)
            job_end(job, JOB_SIGNALED, 128 + sig, sig, msg);
        else
            job_end(job, JOB_EXITED, (status >> 8) & 0xff, 0, msg);
        return;
    }
    if (p->state != PROC_LIVE || atomic_load(&p->killed))
        return;
    p->wait_status = status;
    atomic_store(&p->killed, true);
    if (msg)
        log_debug("process %d: %s", p->pid, msg);
    proc_wake(job, p, true);
}

void proc_wake(struct job *job, const struct proc *p, bool kick)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        struct vthread *t = &job->threads[i];
        if (t->proc != p || t->state == VT_FREE || t->state == VT_DONE)
            continue;
        pthread_cond_broadcast(&t->wake);
        if (kick && t->host_started)
            pthread_kill(t->host, SIGUSR1);
    }
}

struct proc_exe *proc_exe_new(int fd, const char *path)
{
    size_t n = strlen(path);
    struct proc_exe *e = malloc(sizeof *e + n + 1);
    if (!e)
        return NULL;
    e->fd = fd;
    e->refs = 1;
    memcpy(e->path, path, n + 1);
    return e;
}

void proc_exe_put(struct proc_exe *e)
{
    if (!e || --e->refs)
        return;
    close(e->fd);
    free(e);
}
