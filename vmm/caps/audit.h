/* The audit log: one JSON line per grant, derive, delegate, revoke, expiry and denial. */
#ifndef ISOVM_AUDIT_H
#define ISOVM_AUDIT_H
#include <stdint.h>
#include "vmm/caps/cap.h"
#include "vmm/core/job.h"

/* Open the log named by job->policy.audit_path (nothing if empty): appending, created 0600.
 * Then logs a "grant" (by "policy") for every root capability already in the table (the
 * console, the policy's grants); roots made later must log themselves. Needs job->start_ns
 * and job->job_id set. 0 or -errno (with a message naming the file). Every line is flushed as
 * it is written; a write error is reported once on stderr and never ends the job. */
int audit_open(struct job *job);
/* Flush and close it. */
void audit_close(struct job *job);

/* A capability event: "grant", "derive", "delegate", "revoke", "expire". `slot` is the entry,
 * `fd` the guest descriptor concerned (-1: none), `nr` the syscall that caused it
 * (UINT64_MAX: none, e.g. launch or the control socket), `by` who triggered it ("job",
 * "expiry", "control", "policy"). The line carries time, job id, capability id, rights,
 * path and the full chain root first. job->lock held. */
void audit_cap(struct job *job, const char *event, uint32_t slot, int fd, uint64_t nr,
               const char *by);

/* A refusal: counted in job->stats.denials[kind] and logged with the syscall, the errno
 * returned, the capability (CAP_NONE: none) and its chain, and the guest path if any
 * (NULL: none). job->lock held. */
void audit_deny(struct job *job, enum deny_kind kind, uint64_t nr, int err, uint32_t slot,
                const char *path);

/* A syscall outside the filter's allowlist that the "log" action let through. */
void audit_syscall_logged(struct job *job, uint64_t nr);

/* "syscall-filter", "rights", ...: the name of a denial kind (report and audit log). */
const char *deny_kind_name(enum deny_kind kind);

/* "console", "grant", "open", "derive": how a capability came to be (the chain's "how"). */
const char *cap_origin_name(enum cap_origin origin);
/* "console", "dir", "file". */
const char *cap_kind_name(enum cap_kind kind);
/* "stdin", "stdout" or "stderr" when `slot` is the console or derived from it, else NULL. */
const char *cap_console_name(const struct job *job, uint32_t slot);

#endif
