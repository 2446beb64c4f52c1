/* The audit log: one JSON line per grant, derive, delegate, revoke, expiry and denial. */
#ifndef ISOVM_AUDIT_H
#define ISOVM_AUDIT_H
#include <stdint.h>
#include "vmm/caps/cap.h"
#include "vmm/core/job.h"

#define AUDIT_PATH_MAX  256u          /* guest path bytes a line shows (then "path_bytes") */
#define AUDIT_BURST     10u           /* denials of one kind and syscall written in full ... */
#define AUDIT_WINDOW_NS 1000000000ull /* ... per window of this long; the rest only counted */
#define AUDIT_WINDOWS   32u           /* kind and syscall pairs followed at once */

/* Open the log named by job->policy.audit_path (nothing if empty): appending, created 0600.
 * Then logs a "grant" (by "policy") for every root capability already in the table (the
 * console, the policy's grants); roots made later must log themselves. Needs job->start_ns
 * and job->job_id set. 0 or -errno (with a message naming the file). Every line reaches the
 * file in one write as it happens; a write error is reported once on stderr and never ends
 * the job. The job may write job->policy.audit_max_bytes (0: no limit): a line that does not
 * fit is dropped, and so is every later one, counted in job->stats (docs/audit.md). */
int audit_open(struct job *job);
/* The log's last lines, once the job's events are over: a "suppressed" line for every window of
 * repeated denials still open, then, if any line was dropped, one "dropped" line saying how
 * many (written whatever the limit). The stats are final after it. Idempotent. */
void audit_end(struct job *job);
/* audit_end, then close it. */
void audit_close(struct job *job);

/* A capability event: "grant", "derive", "delegate", "revoke", "expire". `slot` is the entry,
 * `fd` the guest descriptor concerned (-1: none), `nr` the syscall that caused it
 * (UINT64_MAX: none, e.g. launch or the control socket), `by` who triggered it ("job",
 * "expiry", "control", "policy"). The line carries time, job id, capability id, rights,
 * path and the full chain root first. job->lock held. */
void audit_cap(struct job *job, const char *event, uint32_t slot, int fd, uint64_t nr,
               const char *by);

/* A process event: "fork" (child made by syscall nr, holding handles on the capabilities
 * with these ids: the parent's descriptors, delegated) or "exit" (with its wait status).
 * job->lock held. */
void audit_proc(struct job *job, const char *event, int pid, int ppid, uint64_t nr,
                const uint32_t *cap_ids, unsigned ncaps, int status);

/* An execve: process pid runs the program at guest `path` (reached through capability
 * cap_id; 0: its own program again, /proc/self/exe), started as `argv0`. job->lock held. */
void audit_exec(struct job *job, int pid, uint64_t nr, const char *path, uint32_t cap_id,
                const char *argv0);

/* A refusal: counted in job->stats.denials[kind] and logged with the syscall, the errno
 * returned, the capability (CAP_NONE: none) and its chain, and the guest path if any
 * (NULL: none). Of the denials of one kind and syscall, AUDIT_BURST per AUDIT_WINDOW_NS are
 * written in full; the rest are counted (job->stats.audit_denials_suppressed) and summed up
 * in one "suppressed" line when the window ends (at the next denial after it, or at the end).
 * job->lock held. */
void audit_deny(struct job *job, enum deny_kind kind, uint64_t nr, int err, uint32_t slot,
                const char *path);

/* How many bytes of a guest path of n bytes a line shows: n up to AUDIT_PATH_MAX, else the
 * whole UTF-8 characters (or single invalid bytes) that fit in AUDIT_PATH_MAX. */
size_t audit_path_shown(const char *path, size_t n);

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
