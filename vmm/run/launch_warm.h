/* A microVM made ahead of its job (isovm pool): the one a launch adopts, and its client. */
#ifndef ISOVM_LAUNCH_WARM_H
#define ISOVM_LAUNCH_WARM_H
#include <stdbool.h>
#include <stdint.h>
#include "vmm/core/vm.h"
#include "vmm/core/vm_image.h"

/* How a job's microVM came to be, for its report ("start"). */
enum launch_start { LAUNCH_COLD, LAUNCH_WARM, LAUNCH_POOL_COLD };

/* Do ahead, in a pool's VMM, whatever a launch does before it knows its job: the VM with RAM
 * mapped from img (firmware, tables: vm_image.h), vCPU 0 opened and set up, /proc/self/fd
 * opened, the job's first host thread started. 0, or -errno (the reason printed). */
int launch_warm_prepare(const struct vm_image *img);

/* This process's next launch is a pool's, for the client connected on client_fd: the job ends
 * when that descriptor hangs up, and each byte read from it is a signal number acted on as if
 * isovm had received it (SIGINT, SIGTERM, SIGHUP). */
void launch_warm_offer(int client_fd);

/* The pool server's link, held open until the job has started (launch_warm_started): its
 * closing wakes the server to make this VMM's successor, which should not take the CPU from
 * the job's start (one CPU: the server ran first, 0.3 ms). */
void launch_warm_link_hold(int link_fd);
/* The job has started (the hypercall tier: its first KVM_RUN returned; the Linux tier: its
 * supervision began), or ended before: close the held link, once. Thread-safe. */
void launch_warm_started(void);

/* The launch's step: move the prepared VM into *vm and its vCPU 0 into *vcpu0 when it has
 * ram_size bytes of RAM and return true; otherwise destroy it (if any) and return false. */
bool launch_warm_take(struct vm *vm, struct vcpu *vcpu0, uint64_t ram_size);

/* Destroy the prepared VM unused (the Linux tier, a refused launch). */
void launch_warm_drop(void);

/* Called once the job is over, its report and audit log written, before its VM is torn down
 * (tens of ms of the kernel's): the pool tells its client the status then. */
typedef void (*launch_done_fn)(int status);
void launch_warm_on_done(launch_done_fn done);
/* The launch's call (status: what isovm exits with); nothing when no pool asked. */
void launch_warm_done(int status);

/* The pool client's connection (launch_warm_client_fd) is readable: the next signal number
 * its `isovm launch --pool` received and forwarded (SIGINT, SIGTERM or SIGHUP; other bytes are
 * skipped), 0 when none is waiting, or -1 when the client is gone (end of file, an error). */
int launch_warm_client_take(int fd);

/* The pool client's descriptor (-1: none), and how this launch's VM was made. */
int launch_warm_client_fd(void);
enum launch_start launch_warm_start(void);
/* The Linux tier's launch says how its machine was made (launch_linux.c keeps its own). */
void launch_warm_set_start(enum launch_start s);
const char *launch_start_name(enum launch_start s);

#endif
