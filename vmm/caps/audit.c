/* The audit log: one JSON line per capability event and refusal, flushed as it happens. */
#include "vmm/caps/audit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/json_str.h"
#include "lib/log.h"
#include "lib/syscall_names.h"

#define AUDIT_BUFFER (64u << 10) /* a line shorter than this reaches the file in one write */
#define CHAIN_ON_STACK 64

const char *deny_kind_name(enum deny_kind kind)
{
    static const char *const names[DENY_KINDS] = {
        "syscall-filter", "rights", "amplification", "expired", "revoked", "outside-grants",
        "escape", "limit", "network", "special-file",
    };
    return kind < DENY_KINDS ? names[kind] : "?";
}

const char *cap_origin_name(enum cap_origin origin)
{
    switch (origin) {
    case CAP_FROM_CONSOLE: return "console";
    case CAP_FROM_GRANT: return "grant";
    case CAP_FROM_OPEN: return "open";
    case CAP_FROM_DERIVE: return "derive";
    case CAP_FROM_SOCKET: return "socket";
    case CAP_FROM_ACCEPT: return "accept";
    }
    return "?";
}

const char *cap_kind_name(enum cap_kind kind)
{
    switch (kind) {
    case CAP_CONSOLE: return "console";
    case CAP_DIR: return "dir";
    case CAP_FILE: return "file";
    case CAP_ENDPOINT: return "endpoint";
    case CAP_SOCKET: return "socket";
    }
    return "?";
}

const char *cap_console_name(const struct job *job, uint32_t slot)
{
    static const char *const names[3] = { "stdin", "stdout", "stderr" };
    const struct cap_table *t = job->caps;
    for (uint32_t n = 0; slot < t->max && n <= t->max; n++) {
        if (t->caps[slot].parent == CAP_NONE) {
            for (int i = 0; i < 3; i++)
                if (job->console_cap[i] == slot && t->caps[slot].kind == CAP_CONSOLE)
                    return names[i];
            return NULL;
        }
        slot = t->caps[slot].parent;
    }
    return NULL;
}

int audit_open(struct job *job)
{
    const char *path = job->policy.audit_path;
    if (!path[0])
        return 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        int e = errno;
        log_err("audit log %s: cannot open: %s", path, strerror(e));
        return -e;
    }
    FILE *f = fdopen(fd, "a");
    if (!f) {
        int e = errno;
        close(fd);
        log_err("audit log %s: cannot open: %s", path, strerror(e));
        return -e;
    }
    setvbuf(f, NULL, _IOFBF, AUDIT_BUFFER);
    job->audit = f;
    /* the roots made before the log was open (the console, the policy's grants) */
    for (uint32_t i = 0; i < job->caps->max; i++) {
        const struct cap *e = &job->caps->caps[i];
        if (e->id && e->parent == CAP_NONE)
            audit_cap(job, "grant", i, -1, UINT64_MAX, "policy");
    }
    return 0;
}

void audit_close(struct job *job)
{
    if (!job->audit)
        return;
    bool had_error = ferror(job->audit);
    if (fclose(job->audit) != 0 && !had_error)
        log_err("audit log %s: write failed: %s", job->policy.audit_path, strerror(errno));
    job->audit = NULL;
}

/* Start a line: time, t_ns, job, event. */
static void line_begin(struct job *job, const char *event)
{
    FILE *f = job->audit;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    struct tm tm;
    gmtime_r(&wall.tv_sec, &tm);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    uint64_t now = mono_ns();
    fprintf(f, "{\"time\":\"%s.%09ldZ\",\"t_ns\":%llu,\"job\":", when, wall.tv_nsec,
            (unsigned long long)(now > job->start_ns ? now - job->start_ns : 0));
    json_put_cstr(f, job->job_id);
    fprintf(f, ",\"event\":\"%s\"", event);
}

/* End the line and push it to the file; the first failure is reported, never fatal. */
static void line_end(struct job *job)
{
    FILE *f = job->audit;
    bool had_error = ferror(f);
    fputs("}\n", f);
    if (fflush(f) != 0 && !had_error)
        log_err("audit log %s: write failed: %s (later events may be lost)",
                job->policy.audit_path, strerror(errno));
}

static void put_syscall(FILE *f, uint64_t nr)
{
    if (nr == UINT64_MAX)
        return;
    const char *name = syscall_name(nr);
    if (name)
        fprintf(f, ",\"syscall\":\"%s\"", name);
    else
        fprintf(f, ",\"syscall\":%llu", (unsigned long long)nr);
}

static void put_rights(FILE *f, uint32_t rights)
{
    char buf[128];
    rights_format_json(rights, buf, sizeof buf);
    fprintf(f, ",\"rights\":%s", buf);
}

/* ,"chain":[{"cap":1,"how":"grant","rights":[...],"path":"/data"},...]: root first. */
static void put_chain(struct job *job, uint32_t slot)
{
    FILE *f = job->audit;
    uint32_t local[CHAIN_ON_STACK], *links = local;
    int len = cap_chain(job->caps, slot, local, CHAIN_ON_STACK);
    if (len > CHAIN_ON_STACK) {
        links = malloc((size_t)len * sizeof *links);
        if (!links) {
            fputs(",\"chain\":null", f);
            return;
        }
        cap_chain(job->caps, slot, links, len);
    }
    fputs(",\"chain\":[", f);
    for (int i = 0; i < len; i++) {
        const struct cap *e = &job->caps->caps[links[i]];
        fprintf(f, "%s{\"cap\":%u,\"how\":\"%s\"", i ? "," : "", e->id,
                cap_origin_name(e->origin));
        char buf[128];
        rights_format_json(e->rights, buf, sizeof buf);
        fprintf(f, ",\"rights\":%s", buf);
        if (e->path) {
            fputs(",\"path\":", f);
            json_put_cstr(f, e->path);
        } else if (e->kind == CAP_CONSOLE) {
            const char *con = cap_console_name(job, links[i]);
            if (con)
                fprintf(f, ",\"console\":\"%s\"", con);
        }
        putc('}', f);
    }
    putc(']', f);
    if (links != local)
        free(links);
}

/* The capability's own fields: cap, object, rights, expiry, path; the chain comes last. */
static void put_cap(struct job *job, uint32_t slot)
{
    FILE *f = job->audit;
    const struct cap *e = &job->caps->caps[slot];
    fprintf(f, ",\"cap\":%u,\"object\":\"%s\"", e->id, cap_kind_name(e->kind));
    if (e->kind == CAP_CONSOLE) {
        const char *con = cap_console_name(job, slot);
        if (con)
            fprintf(f, ",\"console\":\"%s\"", con);
    }
    if (e->expires_ns) {
        uint64_t now = mono_ns();
        fprintf(f, ",\"expires_in_ns\":%llu",
                (unsigned long long)(e->expires_ns > now ? e->expires_ns - now : 0));
    }
}

static bool slot_live(const struct job *job, uint32_t slot)
{
    return slot != CAP_NONE && slot < job->caps->max && job->caps->caps[slot].id;
}

void audit_cap(struct job *job, const char *event, uint32_t slot, int fd, uint64_t nr,
               const char *by)
{
    if (!job->audit)
        return;
    FILE *f = job->audit;
    line_begin(job, event);
    bool live = slot_live(job, slot);
    if (live)
        put_cap(job, slot);
    if (fd >= 0)
        fprintf(f, ",\"fd\":%d", fd);
    put_syscall(f, nr);
    fprintf(f, ",\"by\":\"%s\"", by);
    if (live) {
        const struct cap *e = &job->caps->caps[slot];
        put_rights(f, e->rights);
        if (e->path) {
            fputs(",\"path\":", f);
            json_put_cstr(f, e->path);
        }
        put_chain(job, slot);
    }
    line_end(job);
}

void audit_deny(struct job *job, enum deny_kind kind, uint64_t nr, int err, uint32_t slot,
                const char *path)
{
    if (kind < DENY_KINDS)
        job->stats.denials[kind]++;
    if (!job->audit)
        return;
    FILE *f = job->audit;
    line_begin(job, "deny");
    bool live = slot_live(job, slot);
    if (live)
        put_cap(job, slot);
    put_syscall(f, nr);
    fprintf(f, ",\"by\":\"job\",\"kind\":\"%s\"", deny_kind_name(kind));
    const char *ename = err > 0 ? strerrorname_np(err) : NULL;
    if (ename)
        fprintf(f, ",\"errno\":\"%s\"", ename);
    else if (err > 0)
        fprintf(f, ",\"errno\":%d", err); /* no name: the number (0: none, e.g. killed) */
    if (live)
        put_rights(f, job->caps->caps[slot].rights);
    if (!path && live)
        path = job->caps->caps[slot].path;
    if (path) {
        fputs(",\"path\":", f);
        json_put_cstr(f, path);
    }
    if (live)
        put_chain(job, slot);
    line_end(job);
}

void audit_syscall_logged(struct job *job, uint64_t nr)
{
    job->stats.filter_logged++;
    if (!job->audit)
        return;
    line_begin(job, "syscall-log");
    put_syscall(job->audit, nr);
    fputs(",\"by\":\"job\"", job->audit);
    line_end(job);
}
