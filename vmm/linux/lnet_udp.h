/* The VMM's own UDP sockets for a connect udp: endpoint: one per guest source port, connected to the real endpoint, non-blocking, closed when idle, bounded in number. */
#ifndef ISOVM_LNET_UDP_H
#define ISOVM_LNET_UDP_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define LNET_UDP_FLOWS   64                    /* sockets open at once, all endpoints together */
#define LNET_UDP_IDLE_NS (30ull * 1000000000ull) /* no datagram either way for this long: closed */

struct lnet_udp_flow {
    bool used;
    unsigned ep;            /* the endpoint's index in policy.endpoints */
    uint16_t guest_port;    /* the guest's source port (host byte order) */
    int fd;                 /* connected to the real endpoint */
    uint64_t last_ns;       /* the last datagram either way (CLOCK_MONOTONIC) */
    int pidx;               /* its entry in the poll set, -1 for none */
};

struct lnet_udp_table {
    struct lnet_udp_flow f[LNET_UDP_FLOWS];
    uint64_t evicted;       /* flows closed early to make room for a new one */
};

/* Every slot free (fds -1). */
void lnet_udp_init(struct lnet_udp_table *t);

/* The open flow of endpoint ep for the guest's port, or NULL. */
struct lnet_udp_flow *lnet_udp_find(struct lnet_udp_table *t, unsigned ep, uint16_t guest_port);

/* Open a flow: a non-blocking UDP socket connected to addr (connect on a datagram socket does
 * not block). When every slot is used, the least recently used flow is closed for it. Returns
 * the flow, or NULL with *err a negative errno. */
struct lnet_udp_flow *lnet_udp_open(struct lnet_udp_table *t, unsigned ep, uint16_t guest_port,
                                    const struct sockaddr *addr, socklen_t addrlen, uint64_t now,
                                    int *err);

/* Send one datagram without blocking: 0, or a negative errno (-EAGAIN: the socket's buffer is
 * full; -ECONNREFUSED: the endpoint answered an earlier datagram with port unreachable). */
int lnet_udp_send(struct lnet_udp_flow *f, const uint8_t *p, uint32_t len, uint64_t now);

/* Receive one datagram into buf[0..cap) without blocking: its full length (larger than cap when
 * it did not fit: truncated), or a negative errno (-EAGAIN: none). */
ssize_t lnet_udp_recv(struct lnet_udp_flow *f, uint8_t *buf, uint32_t cap, uint64_t now);

/* Close one flow (idempotent), every flow of endpoint ep, flows idle since before now -
 * LNET_UDP_IDLE_NS (returns how many), every flow. */
void lnet_udp_close(struct lnet_udp_flow *f);
void lnet_udp_close_ep(struct lnet_udp_table *t, unsigned ep);
unsigned lnet_udp_expire(struct lnet_udp_table *t, uint64_t now);
void lnet_udp_close_all(struct lnet_udp_table *t);

#endif
