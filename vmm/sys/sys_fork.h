/* New processes (fork, vfork, clone of a process) and the release of an ended one. */
#ifndef ISOVM_SYS_FORK_H
#define ISOVM_SYS_FORK_H
#include <stdint.h>
#include "vmm/core/job.h"

/* A slot for a new thread: never used, or finished (its host thread, parked, runs the next one;
 * or joined here if it has left); NULL when all are taken. job->lock held. */
struct vthread *thread_slot_find(struct job *job);

/* Make slot t's vCPU (opened if new) resume where the caller's syscall returns, with its
 * registers and FPU state but rax = 0 (and rsp = newsp if not 0), FS base fs, page tables
 * p's; t becomes thread tid of process p with the caller's signal mask and name, nothing
 * else carried over. 0 or -EAGAIN. job->lock held. */
int thread_like_caller(struct job *job, const struct sc_call *c, struct vthread *t,
                       struct proc *p, int tid, uint64_t newsp, uint64_t fs);

/* Count and answer a thread refused by max_threads (or no free vCPU): -EAGAIN. */
int64_t thread_refuse(struct job *job, const struct sc_call *c);

/* clone without CLONE_THREAD: a new process, its address space a copy of the caller's (or,
 * with CLONE_VM, which needs CLONE_VFORK: a copy too, the caller held until the child execs or
 * ends), the caller's descriptors, directory, umask and signal actions, one thread resuming
 * where the caller's syscall returns with 0. Returns the child's pid, or -EAGAIN
 * (max_processes, max_threads, no room), -ENOMEM (the memory limit cannot hold the copy),
 * -EINVAL (flags). job->lock held. */
int64_t proc_fork(struct job *job, struct sc_call *c, uint64_t flags, uint64_t newsp,
                  uint64_t ptid, uint64_t ctid, uint64_t tls);

/* Process p (not the first) has no host thread left and is ending: its descriptors closed, its
 * address space given back, it becomes a zombie for its parent's wait (or is reaped at once
 * when the parent ignores SIGCHLD), its children go to the first process, a vfork parent is
 * released. job->lock held. */
void proc_release(struct job *job, struct proc *p);

/* A vfork parent waiting on p goes on (p execs or ends). job->lock held. */
void proc_vfork_release(struct job *job, struct proc *p);

#endif
