/* `isovm quota serve`: a small single-threaded HTTP/1.1 server (one poll loop, a few connections, a deadline on each) answering GET /metrics from the tenant ledger. */
#include "cli/quota_serve.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/http_request.h"
#include "cli/quota_metrics.h"
#include "lib/log.h"
#include "quota/ledger.h"

/* After its answer, what a client still sends (a body) is read and dropped for this long before
 * the close, so that the close does not reset the connection before the client read the answer. */
#define SERVE_LINGER_MS 500

int quota_listen_parse(const char *s, struct quota_listen *out)
{
    memset(out, 0, sizeof *out);
    const char *colon;
    char host[INET6_ADDRSTRLEN + 1];
    bool v6 = s[0] == '[';
    if (v6) {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return -EINVAL;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return -EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    const char *p = colon + 1;
    unsigned long port = 0;
    if (!*p || strlen(p) > 5)
        return -EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        port = port * 10 + (unsigned long)(*p - '0');
    }
    if (port < 1 || port > 65535)
        return -EINVAL;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->addr;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -EINVAL;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        out->len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&out->addr;
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -EINVAL;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        out->len = sizeof *a;
    }
    return 0;
}

enum phase { FREE, READING, WRITING, DRAINING };

struct conn {
    enum phase phase;
    int fd;
    char in[HTTP_HEAD_MAX];
    size_t in_len;
    char *out; /* the answer, head and body */
    size_t out_len, out_off;
    int64_t deadline_ms;
};

struct server {
    struct ledger *ledger;
    int lfd;
    struct conn conn[QUOTA_SERVE_CONNS];
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->out);
    c->out = NULL;
    c->fd = -1;
    c->phase = FREE;
}

/* Queue the answer: status, content type and body (body_len bytes; sent unless head_only). On
 * no memory the connection is closed. */
static void conn_answer(struct conn *c, int status, const char *type, const char *body,
                        size_t body_len, bool head_only)
{
    char date[64] = "";
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(date, sizeof date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n%s%s"
                     "Connection: close\r\n\r\n",
                     status, reason(status), date, type, body_len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     status == 200 ? "Vary: Accept\r\n" : "");
    size_t send_body = head_only ? 0 : body_len;
    c->out = n > 0 && (size_t)n < sizeof head ? malloc((size_t)n + send_body + 1) : NULL;
    if (!c->out) {
        conn_close(c);
        return;
    }
    memcpy(c->out, head, (size_t)n);
    if (send_body)
        memcpy(c->out + n, body, send_body);
    c->out_len = (size_t)n + send_body;
    c->out_off = 0;
    c->phase = WRITING;
    c->deadline_ms = now_ms() + QUOTA_SERVE_DEADLINE_MS;
}

static void conn_error(struct conn *c, int status, const char *detail, bool head_only)
{
    char body[600];
    int n = snprintf(body, sizeof body, "%d %s: %s\n", status, reason(status), detail);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof body ? (size_t)n : sizeof body - 1;
    conn_answer(c, status, "text/plain; charset=utf-8", body, len, head_only);
}

/* A complete head (status HTTP_PARSE_OK, with r) or a refusal (the status): the answer. */
static void conn_respond(struct server *s, struct conn *c, int status, const struct http_request *r)
{
    if (status != HTTP_PARSE_OK) {
        conn_error(c, status, status == 431 ? "the request head is longer than 8 KiB"
                              : status == 505 ? "only HTTP/1.x is served"
                              : "a malformed request", false);
        return;
    }
    bool head_only = r->method == HTTP_HEAD;
    if (r->path_len != 8 || memcmp(r->path, "/metrics", 8)) {
        conn_error(c, 404, "only /metrics is served", head_only);
        return;
    }
    if (r->method == HTTP_OTHER) {
        conn_error(c, 405, "/metrics answers GET and HEAD", false);
        return;
    }
    char *body = NULL, err[512] = "out of memory";
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    int rc = f ? quota_metrics_write(f, s->ledger, NULL, 0, (int64_t)time(NULL), r->openmetrics,
                                     err, sizeof err)
               : -ENOMEM;
    if (f && fclose(f) != 0 && rc == 0) {
        snprintf(err, sizeof err, "out of memory");
        rc = -ENOMEM;
    }
    if (rc < 0) {
        log_err("quota serve: %s", err);
        conn_error(c, 503, err, head_only);
    } else {
        conn_answer(c, 200, r->openmetrics
                                ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                : "text/plain; version=0.0.4; charset=utf-8",
                    body, len, head_only);
    }
    free(body);
}

static void conn_read(struct server *s, struct conn *c)
{
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        /* the client stopped sending before its head was complete */
        if (n == 0 && c->in_len > 0)
            conn_respond(s, c, 400, NULL);
        else
            conn_close(c);
        return;
    }
    c->in_len += (size_t)n;
    struct http_request r;
    int status = http_request_parse(c->in, c->in_len, &r);
    if (status != HTTP_PARSE_MORE)
        conn_respond(s, c, status, &r);
}

static void conn_write(struct conn *c)
{
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->out_off += (size_t)n;
    if (c->out_off < c->out_len)
        return;
    free(c->out);
    c->out = NULL;
    shutdown(c->fd, SHUT_WR);
    c->phase = DRAINING;
    c->deadline_ms = now_ms() + SERVE_LINGER_MS;
}

static void conn_drain(struct conn *c)
{
    char sink[4096];
    ssize_t n = recv(c->fd, sink, sizeof sink, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        conn_close(c);
}

/* A connection past its deadline: a client that sent part of a head is told 408 (if it takes
 * it at once); any other is closed. */
static void conn_expire(struct conn *c)
{
    if (c->phase == READING && c->in_len > 0) {
        conn_error(c, 408, "the request head did not come within 2 s", false);
        if (c->phase == WRITING) {
            c->deadline_ms = now_ms() + SERVE_LINGER_MS;
            conn_write(c);
        }
        return;
    }
    conn_close(c);
}

static void accept_new(struct server *s)
{
    for (int i = 0; i < QUOTA_SERVE_CONNS; i++) {
        struct conn *c = &s->conn[i];
        if (c->phase != FREE)
            continue;
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                log_err("quota serve: accepting a connection: %s", strerror(errno));
            return;
        }
        c->fd = fd;
        c->phase = READING;
        c->in_len = 0;
        c->deadline_ms = now_ms() + QUOTA_SERVE_DEADLINE_MS;
    }
}

/* The address the socket is bound to, as a URL's host and port ("127.0.0.1:9464", "[::1]:9464"). */
static void bound_text(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        } else {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        }
    }
    snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

static int listen_on(const char *text, const struct quota_listen *at)
{
    int fd = socket(at->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *)&at->addr, at->len) < 0 || listen(fd, 16) < 0) {
        log_err("quota serve: cannot listen on %s: %s", text, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* The loop: until a signal, poll the listening socket (while a slot is free) and every
 * connection, with the nearest deadline as the timeout. */
static void serve_loop(struct server *s, const sigset_t *waitmask)
{
    while (!stop_signal) {
        struct pollfd pfd[QUOTA_SERVE_CONNS + 1];
        struct conn *of[QUOTA_SERVE_CONNS + 1];
        nfds_t n = 0;
        int64_t now = now_ms(), next = -1;
        bool room = false;
        for (int i = 0; i < QUOTA_SERVE_CONNS; i++) {
            struct conn *c = &s->conn[i];
            if (c->phase == FREE) {
                room = true;
                continue;
            }
            pfd[n] = (struct pollfd){ .fd = c->fd, .events = c->phase == WRITING ? POLLOUT : POLLIN };
            of[n++] = c;
            if (next < 0 || c->deadline_ms < next)
                next = c->deadline_ms;
        }
        if (room) {
            pfd[n] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
            of[n++] = NULL;
        }
        struct timespec ts, *tsp = NULL;
        if (next >= 0) {
            int64_t wait = next > now ? next - now : 0;
            ts = (struct timespec){ .tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000 };
            tsp = &ts;
        }
        int ready = ppoll(pfd, n, tsp, waitmask);
        if (ready < 0) {
            if (errno != EINTR) {
                log_err("quota serve: poll: %s", strerror(errno));
                return;
            }
            continue;
        }
        for (nfds_t i = 0; i < n; i++) {
            struct conn *c = of[i];
            if (!pfd[i].revents)
                continue;
            if (!c)
                accept_new(s);
            else if (c->phase == READING)
                conn_read(s, c);
            else if (c->phase == WRITING)
                conn_write(c);
            else if (c->phase == DRAINING)
                conn_drain(c);
        }
        now = now_ms();
        for (int i = 0; i < QUOTA_SERVE_CONNS; i++) {
            struct conn *c = &s->conn[i];
            if (c->phase != FREE && c->deadline_ms <= now)
                conn_expire(c);
        }
    }
}

int quota_serve(const char *ledger_path, const char *listen_text, const struct quota_listen *at)
{
    static struct server s; /* the connections' buffers: 8 KiB each */
    char err[512];
    if (ledger_open(ledger_path, &s.ledger, err, sizeof err) < 0) {
        log_err("%s", err);
        return 1;
    }
    s.lfd = listen_on(listen_text, at);
    if (s.lfd < 0) {
        ledger_close(s.ledger);
        return 1;
    }
    for (int i = 0; i < QUOTA_SERVE_CONNS; i++) {
        s.conn[i].fd = -1;
        s.conn[i].phase = FREE;
    }
    /* SIGINT and SIGTERM blocked but while in ppoll: a signal ends the wait, never a write */
    sigset_t stops, before, waitmask;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigprocmask(SIG_BLOCK, &stops, &before);
    waitmask = before;
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    struct sigaction sa = { .sa_handler = on_stop };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char where[INET6_ADDRSTRLEN + 16];
    bound_text(s.lfd, where, sizeof where);
    log_err("quota serve: listening on http://%s/metrics", where);
    serve_loop(&s, &waitmask);
    for (int i = 0; i < QUOTA_SERVE_CONNS; i++)
        if (s.conn[i].phase != FREE)
            conn_close(&s.conn[i]);
    close(s.lfd);
    ledger_close(s.ledger);
    /* on_stop stays: a second signal that came in the meantime changes nothing */
    sigprocmask(SIG_SETMASK, &before, NULL);
    return stop_signal ? 0 : 1;
}
