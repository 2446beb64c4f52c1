/* The audit log: one JSON line per capability event and refusal, as it happens, bounded. */
#include "vmm/caps/audit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/json_str.h"
#include "lib/log.h"
#include "lib/syscall_names.h"

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
    case CAP_FROM_PIPE: return "pipe";
    case CAP_FROM_EPOLL: return "epoll";
    case CAP_FROM_EVENTFD: return "eventfd";
    case CAP_FROM_NULL: return "null";
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
    case CAP_PIPE: return "pipe";
    case CAP_EPOLL: return "epoll";
    case CAP_EVENTFD: return "eventfd";
    case CAP_NULL: return "null";
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

/* The denials of one kind and syscall within AUDIT_WINDOW_NS of the first of them. */
struct audit_window {
    bool used;
    enum deny_kind kind;
    uint64_t nr;
    uint64_t start_ns;        /* CLOCK_MONOTONIC of the window's first denial */
    uint32_t logged;          /* denials written in full in this window */
    uint64_t suppressed;      /* and those only counted */
    uint64_t first_ns, last_ns; /* t_ns of the first and last of those */
};

/* The open log: the file, the line being built, the byte budget and the windows of repeated
 * denials (docs/audit.md#bounds). Only audit.c looks inside. */
struct audit_log {
    int fd;
    FILE *line;               /* the line being built (open_memstream) */
    char *buf;
    size_t len;
    uint64_t limit;           /* policy audit_max_bytes; 0: none */
    bool full;                /* a line did not fit: every later one is dropped */
    bool write_failed;        /* reported once */
    bool ended;               /* audit_end ran */
    struct audit_window windows[AUDIT_WINDOWS];
};

int audit_open(struct job *job)
{
    const char *path = job->policy.audit_path;
    if (!path[0])
        return 0;
    struct audit_log *l = calloc(1, sizeof *l);
    if (!l) {
        log_err("audit log %s: cannot open: %s", path, strerror(ENOMEM));
        return -ENOMEM;
    }
    l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (l->fd < 0) {
        int e = errno;
        free(l);
        log_err("audit log %s: cannot open: %s", path, strerror(e));
        return -e;
    }
    l->limit = job->policy.audit_max_bytes;
    job->audit = l;
    /* the roots made before the log was open (the console, the policy's grants) */
    for (uint32_t i = 0; i < job->caps->max; i++) {
        const struct cap *e = &job->caps->caps[i];
        if (e->id && e->parent == CAP_NONE)
            audit_cap(job, "grant", i, -1, UINT64_MAX, "policy");
    }
    return 0;
}

/* Start a line: time, t_ns, job, event. The stream to write its fields to, or NULL when there
 * is no log or no memory for the line (the event is then counted as dropped). */
static FILE *line_begin(struct job *job, const char *event)
{
    struct audit_log *l = job->audit;
    if (!l)
        return NULL;
    l->line = open_memstream(&l->buf, &l->len);
    if (!l->line) {
        job->stats.audit_lines_dropped++;
        return NULL;
    }
    FILE *f = l->line;
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
    return f;
}

/* Write buf[0..len) to the log in one write (O_APPEND: lines of several isovm processes do not
 * interleave). 0, or -errno (the first failure is reported, never fatal). */
static int log_write(struct job *job, const char *buf, size_t len)
{
    struct audit_log *l = job->audit;
    while (len) {
        ssize_t n = write(l->fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            if (!l->write_failed)
                log_err("audit log %s: write failed: %s (later events may be lost)",
                        job->policy.audit_path, strerror(e));
            l->write_failed = true;
            return -e;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* End the line and write it, unless the byte budget is spent: then it is dropped, and so is
 * every later line (the log stays a prefix of the events), counted for the last line. `force`:
 * written whatever the budget (that last line itself). */
static void line_finish(struct job *job, bool force)
{
    struct audit_log *l = job->audit;
    struct job_stats *st = &job->stats;
    fputs("}\n", l->line);
    bool ok = fclose(l->line) == 0 && l->buf;
    l->line = NULL;
    if (!ok) {
        st->audit_lines_dropped++;
    } else if (!force && (l->full || (l->limit && l->len > l->limit - st->audit_bytes_written))) {
        l->full = true;
        st->audit_lines_dropped++;
        st->audit_bytes_dropped += l->len;
    } else if (log_write(job, l->buf, l->len) < 0) {
        st->audit_lines_dropped++;
        st->audit_bytes_dropped += l->len;
    } else {
        st->audit_lines_written++;
        st->audit_bytes_written += l->len;
    }
    free(l->buf);
    l->buf = NULL;
    l->len = 0;
}

static void line_end(struct job *job) { line_finish(job, false); }

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

/* The bytes of `path` (n long) a line shows: all of them up to AUDIT_PATH_MAX, else as many
 * whole UTF-8 characters (or single invalid bytes) as fit in AUDIT_PATH_MAX. */
size_t audit_path_shown(const char *path, size_t n)
{
    if (n <= AUDIT_PATH_MAX)
        return n;
    size_t i = 0;
    while (i < AUDIT_PATH_MAX) {
        const unsigned char *c = (const unsigned char *)path + i;
        size_t k = *c < 0x80 ? 1 : utf8_seq_len(c, n - i);
        if (!k)
            k = 1; /* an invalid byte: one \u00XX of its own */
        if (i + k > AUDIT_PATH_MAX)
            break;
        i += k;
    }
    return i;
}

/* ,"path":"..." of a guest path, cut to AUDIT_PATH_MAX bytes; then ,"path_bytes":N (its whole
 * length) when it was cut. */
static void put_path(FILE *f, const char *path)
{
    size_t n = strlen(path), shown = audit_path_shown(path, n);
    fputs(",\"path\":", f);
    json_put_string(f, path, shown);
    if (shown < n)
        fprintf(f, ",\"path_bytes\":%zu", n);
}

/* ,"chain":[{"cap":1,"how":"grant","rights":[...],"path":"/data"},...]: root first. */
static void put_chain(FILE *f, struct job *job, uint32_t slot)
{
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
        put_rights(f, e->rights);
        if (e->path) {
            put_path(f, e->path);
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
static void put_cap(FILE *f, struct job *job, uint32_t slot)
{
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
    FILE *f = line_begin(job, event);
    if (!f)
        return;
    bool live = slot_live(job, slot);
    if (live)
        put_cap(f, job, slot);
    if (fd >= 0)
        fprintf(f, ",\"fd\":%d", fd);
    put_syscall(f, nr);
    fprintf(f, ",\"by\":\"%s\"", by);
    if (live) {
        const struct cap *e = &job->caps->caps[slot];
        put_rights(f, e->rights);
        if (e->path)
            put_path(f, e->path);
        put_chain(f, job, slot);
    }
    line_end(job);
}

void audit_proc(struct job *job, const char *event, int pid, int ppid, uint64_t nr,
                const uint32_t *cap_ids, unsigned ncaps, int status)
{
    FILE *f = line_begin(job, event);
    if (!f)
        return;
    fprintf(f, ",\"pid\":%d,\"ppid\":%d", pid, ppid);
    put_syscall(f, nr);
    fprintf(f, ",\"by\":\"job\"");
    if (cap_ids) {
        fputs(",\"caps\":[", f);
        for (unsigned i = 0; i < ncaps; i++)
            fprintf(f, "%s%u", i ? "," : "", cap_ids[i]);
        fputc(']', f);
    } else {
        fprintf(f, ",\"status\":%d", status);
    }
    line_end(job);
}

void audit_exec(struct job *job, int pid, uint64_t nr, const char *path, uint32_t cap_id,
                const char *argv0)
{
    FILE *f = line_begin(job, "exec");
    if (!f)
        return;
    fprintf(f, ",\"pid\":%d", pid);
    put_syscall(f, nr);
    fprintf(f, ",\"by\":\"job\",\"path\":");
    json_put_cstr(f, path);
    fprintf(f, ",\"cap\":%u,\"argv0\":", cap_id);
    json_put_cstr(f, argv0);
    line_end(job);
}

/* ---- repeated denials: AUDIT_BURST a second of each kind and syscall in full --------------- */

static uint64_t since_start(const struct job *job, uint64_t now)
{
    return now > job->start_ns ? now - job->start_ns : 0;
}

/* The counter line of window w (if it counted any), and w freed. */
static void window_close(struct job *job, struct audit_window *w)
{
    if (w->suppressed) {
        FILE *f = line_begin(job, "suppressed");
        if (f) {
            put_syscall(f, w->nr);
            fprintf(f, ",\"by\":\"job\",\"kind\":\"%s\",\"count\":%llu,\"first_ns\":%llu,"
                    "\"last_ns\":%llu", deny_kind_name(w->kind),
                    (unsigned long long)w->suppressed, (unsigned long long)w->first_ns,
                    (unsigned long long)w->last_ns);
            line_end(job);
        }
    }
    w->used = false;
}

/* Close every window older than AUDIT_WINDOW_NS at `now`. */
static void windows_expire(struct job *job, uint64_t now)
{
    struct audit_log *l = job->audit;
    for (unsigned i = 0; i < AUDIT_WINDOWS; i++)
        if (l->windows[i].used && now - l->windows[i].start_ns >= AUDIT_WINDOW_NS)
            window_close(job, &l->windows[i]);
}

/* The open window of (kind, nr), or a new one from `now` (closing the oldest when all are in
 * use). */
static struct audit_window *window_of(struct job *job, enum deny_kind kind, uint64_t nr,
                                      uint64_t now)
{
    struct audit_log *l = job->audit;
    struct audit_window *free_w = NULL, *oldest = &l->windows[0];
    for (unsigned i = 0; i < AUDIT_WINDOWS; i++) {
        struct audit_window *w = &l->windows[i];
        if (!w->used) {
            free_w = free_w ? free_w : w;
            continue;
        }
        if (w->kind == kind && w->nr == nr)
            return w;
        if (w->start_ns < oldest->start_ns || !oldest->used)
            oldest = w;
    }
    if (!free_w) {
        window_close(job, oldest);
        free_w = oldest;
    }
    *free_w = (struct audit_window){ .used = true, .kind = kind, .nr = nr, .start_ns = now };
    return free_w;
}

/* Is this denial written in full? Past AUDIT_BURST in its window it is only counted. */
static bool deny_in_full(struct job *job, enum deny_kind kind, uint64_t nr)
{
    uint64_t now = mono_ns();
    windows_expire(job, now);
    struct audit_window *w = window_of(job, kind, nr, now);
    if (w->logged < AUDIT_BURST) {
        w->logged++;
        return true;
    }
    if (!w->suppressed++)
        w->first_ns = since_start(job, now);
    w->last_ns = since_start(job, now);
    job->stats.audit_denials_suppressed++;
    return false;
}

void audit_deny(struct job *job, enum deny_kind kind, uint64_t nr, int err, uint32_t slot,
                const char *path)
{
    if (kind < DENY_KINDS)
        job->stats.denials[kind]++;
    if (!job->audit || !deny_in_full(job, kind, nr))
        return;
    FILE *f = line_begin(job, "deny");
    if (!f)
        return;
    bool live = slot_live(job, slot);
    if (live)
        put_cap(f, job, slot);
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
    if (path)
        put_path(f, path);
    if (live)
        put_chain(f, job, slot);
    line_end(job);
}

void audit_syscall_logged(struct job *job, uint64_t nr)
{
    job->stats.filter_logged++;
    FILE *f = line_begin(job, "syscall-log");
    if (!f)
        return;
    put_syscall(f, nr);
    fputs(",\"by\":\"job\"", f);
    line_end(job);
}

/* ---- the end ------------------------------------------------------------------------------ */

void audit_end(struct job *job)
{
    struct audit_log *l = job->audit;
    if (!l || l->ended)
        return;
    for (unsigned i = 0; i < AUDIT_WINDOWS; i++)
        if (l->windows[i].used)
            window_close(job, &l->windows[i]);
    l->ended = true;
    const struct job_stats *st = &job->stats;
    if (!st->audit_lines_dropped)
        return;
    /* counted before it is written: the numbers are those of the lines before it */
    uint64_t lines = st->audit_lines_dropped, bytes = st->audit_bytes_dropped;
    FILE *f = line_begin(job, "dropped");
    if (!f)
        return;
    fprintf(f, ",\"by\":\"policy\",\"lines\":%llu,\"bytes\":%llu,\"limit_bytes\":%llu",
            (unsigned long long)lines, (unsigned long long)bytes,
            (unsigned long long)l->limit);
    line_finish(job, true);
}

void audit_close(struct job *job)
{
    struct audit_log *l = job->audit;
    if (!l)
        return;
    audit_end(job);
    if (close(l->fd) != 0 && !l->write_failed)
        log_err("audit log %s: write failed: %s", job->policy.audit_path, strerror(errno));
    free(l);
    job->audit = NULL;
}
