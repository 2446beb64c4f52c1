/* One guest connection to a connect endpoint: the Unix socket slirp opened for it, spliced to a real TCP connection the VMM makes (host to guest through a pipe, by splice), half-closes passed on. */
#ifndef ISOVM_LNET_FWD_H
#define ISOVM_LNET_FWD_H
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LNET_FWD_BUF 65536

struct lnet_fwd_dir {       /* bytes read from one side, not yet written to the other */
    uint8_t *buf;           /* NULL: the bytes wait in pipe[] instead */
    size_t off, len;        /* pending: buf[off .. len); through the pipe: len - off in it */
    int pipe[2];            /* host to guest: read end, write end (-1 when buf is used) */
    bool eof;               /* the reading side ended */
    bool shut;              /* ... and the writing side was shut down for writing */
    bool stalled;           /* pipe: a splice in found no room while bytes wait in it (a pipe
                             * runs out of slots, one a socket buffer, before 64 KiB): not polled
                             * for reading until bytes move out, or poll would return at once */
};

struct lnet_fwd {
    bool used;
    unsigned ep;            /* the endpoint's index in policy.endpoints */
    int guest_fd, host_fd;  /* the accepted Unix socket (slirp's end), the real connection */
    bool connecting;        /* the real connection's connect in progress */
    struct lnet_fwd_dir up, down; /* guest to host, host to guest */
    int pidx_guest, pidx_host;    /* their entries in the poll set, -1 for none */
};

/* Start a forward: guest_fd (taken over) is spliced to a new non-blocking connect to addr.
 * 0, or a negative errno (guest_fd closed then). */
int lnet_fwd_open(struct lnet_fwd *f, unsigned ep, int guest_fd, const struct sockaddr *addr,
                  socklen_t addrlen);

/* The poll events each side waits for now. */
short lnet_fwd_guest_events(const struct lnet_fwd *f);
short lnet_fwd_host_events(const struct lnet_fwd *f);

/* Move what can be moved without blocking. Returns 1 while the forward lives, 0 when both
 * directions ended and drained (closed now), -1 when it failed (closed now): *connected is set
 * when the real connection completed in this call. */
int lnet_fwd_pump(struct lnet_fwd *f, bool *connected);

/* Close both sockets at once (revocation, expiry, stop). */
void lnet_fwd_close(struct lnet_fwd *f);

#endif
