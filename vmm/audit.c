/* The audit log (JSON lines). Placeholder: counts denials; the writer lands next. */
#include "audit.h"

int audit_open(struct job *job) { (void)job; return 0; }
void audit_close(struct job *job) { (void)job; }
void audit_cap(struct job *job, const char *event, uint32_t slot, int fd, uint64_t nr,
               const char *by)
{
    (void)job, (void)event, (void)slot, (void)fd, (void)nr, (void)by;
}
void audit_deny(struct job *job, enum deny_kind kind, uint64_t nr, int err, uint32_t slot,
                const char *path)
{
    (void)nr, (void)err, (void)slot, (void)path;
    job->stats.denials[kind]++;
}
void audit_syscall_logged(struct job *job, uint64_t nr) { (void)nr; job->stats.filter_logged++; }
const char *deny_kind_name(enum deny_kind kind)
{
    static const char *const names[DENY_KINDS] = {
        "syscall-filter", "rights", "amplification", "expired", "revoked", "outside-grants",
        "escape", "limit",
    };
    return kind < DENY_KINDS ? names[kind] : "?";
}
