/* `isovm quota serve`: the tenant ledger's usage over HTTP for Prometheus, GET /metrics in OpenMetrics or the Prometheus text format by the Accept header (docs/quota.md). */
#ifndef ISOVM_CLI_QUOTA_SERVE_H
#define ISOVM_CLI_QUOTA_SERVE_H
#include <sys/socket.h>

/* How long a client has to send its request head, and again to take the answer. */
#define QUOTA_SERVE_DEADLINE_MS 2000
/* Clients served at once; more wait in the listening socket's backlog. */
#define QUOTA_SERVE_CONNS 8

/* Where to listen. */
struct quota_listen {
    struct sockaddr_storage addr;
    socklen_t len;
};

/* ADDR:PORT: a numeric IPv4 address or a bracketed IPv6 one ([::1]:9464), PORT 1..65535. 0, or
 * -EINVAL. */
int quota_listen_parse(const char *s, struct quota_listen *out);

/* Open the ledger at ledger_path (made if missing), listen at `at` (listen_text, as given, names
 * it in messages) and answer requests until SIGINT or SIGTERM. Returns the exit status: 0 after
 * a signal; 1 when the ledger cannot be opened or the address cannot be listened on (the message,
 * naming it, on stderr). */
int quota_serve(const char *ledger_path, const char *listen_text, const struct quota_listen *at);

#endif
