/* The control socket server: one request line, one answer, one connection at a time, driven by
 * the supervisor's poll loop without blocking it (docs/control.md). */
#include "vmm/run/control.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/sys/read_cache.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "vmm/caps/audit.h"
#include "lib/json_str.h"
#include "lib/log.h"

void control_init(struct control_server *s)
{
    memset(s, 0, sizeof *s);
    s->listen_fd = -1;
    s->conn_fd = -1;
    s->dir_fd = -1;
}

/* The socket's directory as an O_PATH descriptor and the file's name in it, so that the VMM
 * under its seccomp filter (no path relative to the cwd: docs/security.md) can remove it. */
static int dir_open(struct control_server *s, const char *path)
{
    char dir[sizeof s->path];
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    snprintf(s->base, sizeof s->base, "%s", slash ? slash + 1 : path);
    s->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return s->dir_fd < 0 ? -errno : 0;
}

/* Is someone listening on the socket file at addr? 1 yes, 0 no (stale), -errno unknown. */
static int socket_in_use(const struct sockaddr_un *addr)
{
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe < 0)
        return -errno;
    int rc = connect(probe, (const struct sockaddr *)addr, sizeof *addr);
    int e = errno;
    close(probe);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
        return 1;
    if (e == ECONNREFUSED)
        return 0;
    return -e;
}

static int listen_fail(int fd, const char *path, int e, const char *what)
{
    if (fd >= 0)
        close(fd);
    log_err("control socket %s: %s%s%s", path, what, e ? ": " : "", e ? strerror(e) : "");
    return -(e ? e : EEXIST);
}

int control_listen(struct control_server *s, const char *path)
{
    control_init(s);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (!path[0] || strlen(path) >= sizeof addr.sun_path) {
        log_err("control socket %s: the path must be 1..%zu bytes", path,
                sizeof addr.sun_path - 1);
        return -ENAMETOOLONG;
    }
    strcpy(addr.sun_path, path);
    /* a file there already: a stale socket (no one listening) is replaced, nothing else */
    struct stat st;
    bool stale = false;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return listen_fail(-1, path, 0, "exists and is not a socket (not replaced)");
        int used = socket_in_use(&addr);
        if (used > 0)
            return listen_fail(-1, path, 0, "another process is listening on it");
        if (used < 0)
            return listen_fail(-1, path, -used, "exists and cannot be probed");
        stale = true;
    }
    /* bound and listening under a temporary name, then renamed into place (over a stale
     * socket): whoever finds the file can connect. Without room for the suffix: in place. */
    struct sockaddr_un at = addr;
    bool renamed = snprintf(at.sun_path, sizeof at.sun_path, "%s.%d", path, (int)getpid()) <
                   (int)sizeof at.sun_path;
    if (!renamed)
        at = addr;
    if (renamed ? unlink(at.sun_path) < 0 && errno != ENOENT : stale && unlink(path) < 0)
        return listen_fail(-1, path, errno, "cannot replace the stale socket");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return listen_fail(-1, path, errno, "cannot create");
    /* 0600 from the start: no moment at which another user could connect (single-threaded
     * here, so the process-wide umask is ours for the call) */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&at, sizeof at);
    int e = errno;
    umask(old);
    if (rc < 0)
        return listen_fail(fd, path, e, "cannot bind");
    if (chmod(at.sun_path, 0600) < 0 || stat(at.sun_path, &st) < 0 || listen(fd, 16) < 0 ||
        dir_open(s, path) < 0 || (renamed && rename(at.sun_path, path) < 0)) {
        e = errno;
        if (s->dir_fd >= 0)
            close(s->dir_fd);
        s->dir_fd = -1;
        unlink(at.sun_path);
        return listen_fail(fd, path, e, "cannot listen");
    }
    s->listen_fd = fd;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    strcpy(s->path, path);
    return 0;
}

static void conn_drop(struct control_server *s)
{
    if (s->conn_fd >= 0)
        close(s->conn_fd);
    s->conn_fd = -1;
    s->in_len = 0;
    free(s->out);
    s->out = NULL;
    s->out_len = s->out_off = 0;
}

void control_close(struct control_server *s)
{
    conn_drop(s);
    if (s->listen_fd < 0)
        return;
    close(s->listen_fd);
    s->listen_fd = -1;
    struct stat st;
    /* only the file we made: a later VMM may have replaced it meanwhile */
    if (fstatat(s->dir_fd, s->base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == s->dev &&
        st.st_ino == s->ino)
        unlinkat(s->dir_fd, s->base, 0);
    close(s->dir_fd);
    s->dir_fd = -1;
}

void control_poll_setup(const struct control_server *s, struct pollfd *pfd, uint64_t *deadline)
{
    *deadline = UINT64_MAX;
    pfd->revents = 0;
    if (s->listen_fd < 0) {
        pfd->fd = -1;
        pfd->events = 0;
    } else if (s->conn_fd < 0) {
        pfd->fd = s->listen_fd;
        pfd->events = POLLIN;
    } else {
        pfd->fd = s->conn_fd;
        pfd->events = s->out ? POLLOUT : POLLIN;
        uint64_t cap = s->conn_start_ns + CONTROL_CONN_MAX_NS;
        *deadline = s->conn_idle_deadline_ns < cap ? s->conn_idle_deadline_ns : cap;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Answers (job->lock held) */

static void answer_error(FILE *f, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void answer_error(FILE *f, int err, const char *fmt, ...)
{
    const char *name = strerrorname_np(err);
    fprintf(f, "error %s ", name ? name : "EINVAL");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    putc('\n', f);
}

static void list_caps(struct job *job, FILE *f)
{
    const struct cap_table *t = job->caps;
    uint64_t now = mono_ns();
    for (uint32_t i = 0; i < t->max; i++) {
        const struct cap *e = &t->caps[i];
        if (!e->id)
            continue;
        char rights[128];
        rights_format_json(e->rights, rights, sizeof rights);
        fprintf(f, "{\"cap\":%" PRIu32 ",\"parent\":%" PRIu32 ",\"kind\":\"%s\",\"how\":\"%s\","
                "\"rights\":%s,\"path\":", e->id,
                e->parent == CAP_NONE ? 0 : t->caps[e->parent].id, cap_kind_name(e->kind),
                cap_origin_name(e->origin), rights);
        json_put_cstr(f, e->path);
        const char *con = e->kind == CAP_CONSOLE ? cap_console_name(job, i) : NULL;
        if (con)
            fprintf(f, ",\"console\":\"%s\"", con);
        uint64_t left = e->expires_ns ? (e->expires_ns > now ? e->expires_ns - now : 0) : 0;
        fprintf(f, ",\"expires_in_ns\":%" PRIu64 ",\"revoked\":%s,\"expired\":%s,"
                "\"refs\":%" PRIu32 "}\n", left, e->revoked ? "true" : "false",
                e->expired ? "true" : "false", e->refs);
    }
    fputs("ok\n", f);
}

static void revoked_by_control(void *ctx, uint32_t slot)
{
    audit_cap(ctx, "revoke", slot, -1, UINT64_MAX, "control");
}

/* Revoke the live entry in slot and its subtree, answering "ok N". */
static void revoke_slot(struct job *job, FILE *f, uint32_t slot)
{
    const struct cap *e = &job->caps->caps[slot];
    if (e->kind == CAP_CONSOLE && e->origin == CAP_FROM_CONSOLE) {
        answer_error(f, EPERM, "capability %" PRIu32 " is the console itself: revoke a copy "
                     "derived from it instead", e->id);
        return;
    }
    int n = e->revoked ? 0 : cap_revoke(job->caps, slot, false, revoked_by_control, job);
    if (n)
        caps_revoked_wake(job, NULL); /* calls blocked on the subtree end now */
    read_cache_drop(job); /* the firmware hands out nothing more without asking the VMM */
    fprintf(f, "ok %d\n", n);
}

/* A capability id: decimal digits only, 1..UINT32_MAX-1. */
static bool parse_id(const char *s, uint32_t *id)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v >= UINT32_MAX)
            return false;
    }
    *id = (uint32_t)v;
    return v != 0;
}

static void revoke_id(struct job *job, FILE *f, const char *arg)
{
    uint32_t id;
    if (!parse_id(arg, &id)) {
        answer_error(f, EINVAL, "revoke: expected a capability id (a positive decimal number)");
        return;
    }
    uint32_t slot = cap_find_id(job->caps, id);
    if (slot == CAP_NONE) {
        answer_error(f, ENOENT, "no capability %" PRIu32, id);
        return;
    }
    revoke_slot(job, f, slot);
}

static void revoke_path(struct job *job, FILE *f, const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--; /* "/data/" names the grant "/data" */
    if (path[0] != '/') {
        answer_error(f, EINVAL, "revoke-path: expected an absolute guest path");
        return;
    }
    const struct cap_table *t = job->caps;
    for (uint32_t i = 0; i < t->max; i++) {
        const struct cap *e = &t->caps[i];
        if (e->id && e->origin == CAP_FROM_GRANT && e->parent == CAP_NONE && e->path &&
            strlen(e->path) == len && !memcmp(e->path, path, len)) {
            revoke_slot(job, f, i);
            return;
        }
    }
    fputs("error ENOENT no grant at ", f);
    fwrite(path, 1, len, f); /* the client's own bytes, echoed to it */
    putc('\n', f);
}

static void info(struct job *job, FILE *f)
{
    uint64_t now = mono_ns();
    fputs("{\"job\":", f);
    json_put_cstr(f, job->job_id);
    fprintf(f, ",\"pid\":%d,\"uptime_ns\":%" PRIu64 ",\"capabilities\":%" PRIu32
            ",\"threads\":%u,\"running\":%s}\nok\n", (int)getpid(),
            now > job->start_ns ? now - job->start_ns : 0, job->caps->used, job->threads_live,
            job->end == JOB_RUNNING ? "true" : "false");
}

char *control_answer(struct job *job, const char *request, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    const char *sp = strchr(request, ' ');
    size_t cmd_len = sp ? (size_t)(sp - request) : strlen(request);
    const char *arg = sp ? sp + 1 : "";
#define IS(name) (cmd_len == strlen(name) && !memcmp(request, name, cmd_len))
    if (IS("list") && !sp)
        list_caps(job, f);
    else if (IS("info") && !sp)
        info(job, f);
    else if (IS("revoke") && sp)
        revoke_id(job, f, arg);
    else if (IS("revoke-path") && sp)
        revoke_path(job, f, arg);
    else
        answer_error(f, EINVAL, "unknown request (expected: list, info, revoke CAP_ID, "
                     "revoke-path GUEST_PATH)");
#undef IS
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* The connection */

static void conn_accept(struct control_server *s, uint64_t now)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return; /* EAGAIN, or the client gave up already */
    s->conn_fd = fd;
    s->conn_start_ns = now;
    s->conn_idle_deadline_ns = now + CONTROL_IDLE_NS;
    s->in_len = 0;
    /* The socket is 0600 already; the peer's uid is checked as well (root may always). */
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
        (cred.uid != geteuid() && cred.uid != 0)) {
        static const char refused[] = "error EACCES not the job's owner\n";
        send(fd, refused, sizeof refused - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        conn_drop(s);
    }
}

/* Send what is left of the answer; close the connection when all of it is out. */
static void conn_send(struct control_server *s, uint64_t now)
{
    while (s->out_off < s->out_len) {
        ssize_t n = send(s->conn_fd, s->out + s->out_off, s->out_len - s->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_drop(s);
            return;
        }
        s->out_off += (size_t)n;
        s->conn_idle_deadline_ns = now + CONTROL_IDLE_NS;
    }
    conn_drop(s);
}

/* Send a fixed answer. */
static void conn_answer_text(struct control_server *s, const char *text, uint64_t now)
{
    s->out = strdup(text);
    if (!s->out) {
        conn_drop(s);
        return;
    }
    s->out_len = strlen(text);
    s->out_off = 0;
    conn_send(s, now);
}

/* Answer one request line, looking at the job under its lock. */
static void conn_answer(struct control_server *s, struct job *job, const char *line,
                        uint64_t now)
{
    size_t len = 0;
    pthread_mutex_lock(&job->lock);
    char *out = control_answer(job, line, &len);
    pthread_mutex_unlock(&job->lock);
    if (!out) {
        conn_answer_text(s, "error ENOMEM out of memory\n", now);
        return;
    }
    s->out = out;
    s->out_len = len;
    s->out_off = 0;
    conn_send(s, now);
}

#define TOO_LONG "error EINVAL request line longer than 4095 bytes\n"

/* Read what has arrived; answer once the line is complete (or the client closed its side). */
static void conn_read(struct control_server *s, struct job *job, uint64_t now)
{
    for (;;) {
        if (s->in_len == sizeof s->in) {
            conn_answer_text(s, TOO_LONG, now);
            return;
        }
        ssize_t n = recv(s->conn_fd, s->in + s->in_len, sizeof s->in - s->in_len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 || (n == 0 && s->in_len == 0)) {
            conn_drop(s);
            return;
        }
        bool eof = n == 0;
        size_t scanned = s->in_len;
        s->in_len += (size_t)n;
        s->conn_idle_deadline_ns = now + CONTROL_IDLE_NS;
        char *nl = memchr(s->in + scanned, '\n', s->in_len - scanned);
        if (nl || eof) {
            size_t len = nl ? (size_t)(nl - s->in) : s->in_len;
            if (len == sizeof s->in) {
                conn_answer_text(s, TOO_LONG, now);
                return;
            }
            if (len && s->in[len - 1] == '\r')
                len--;
            s->in[len] = '\0';
            if (memchr(s->in, '\0', len)) {
                conn_answer_text(s, "error EINVAL NUL byte in the request\n", now);
                return;
            }
            conn_answer(s, job, s->in, now);
            return;
        }
    }
}

void control_step(struct control_server *s, struct job *job, short revents, uint64_t now)
{
    if (s->listen_fd < 0)
        return;
    if (s->conn_fd < 0) {
        if (revents & POLLIN)
            conn_accept(s, now);
        if (s->conn_fd < 0)
            return;
        revents = POLLIN; /* try at once: the request is usually there already */
    }
    if (!s->out && (revents & (POLLIN | POLLHUP | POLLERR)))
        conn_read(s, job, now);
    else if (s->out && (revents & (POLLOUT | POLLHUP | POLLERR)))
        conn_send(s, now);
    if (s->conn_fd >= 0) {
        uint64_t cap = s->conn_start_ns + CONTROL_CONN_MAX_NS;
        if (now >= s->conn_idle_deadline_ns || now >= cap)
            conn_drop(s);
    }
}
