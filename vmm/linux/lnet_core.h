/* The network backend's shared state (lnet.c, lnet_endpoint.c, lnet_guest.c, lnet_report.c): the net thread's core, its queues and endpoints; not for use outside vmm/linux/lnet*.c. */
#ifndef ISOVM_LNET_CORE_H
#define ISOVM_LNET_CORE_H
#include <netinet/in.h>
#include <pthread.h>
#include <slirp/libslirp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "vmm/linux/lnet.h"
#include "vmm/linux/lnet_fwd.h"
#include "vmm/linux/lnet_udp.h"

/* libslirp is referenced weakly: the static isovm is linked without it (Debian ships no static
 * libslirp or glib) and runs a Linux-tier job with endpoints through isovm-slirp, the same VMM
 * linked dynamically with it (lnet_linked, docs/architecture.md#two-links-of-one-vmm). */
#pragma weak slirp_new
#pragma weak slirp_cleanup
#pragma weak slirp_input
#pragma weak slirp_handle_timer
#pragma weak slirp_pollfds_fill
#pragma weak slirp_pollfds_poll
#pragma weak slirp_add_hostxfwd
#pragma weak slirp_remove_hostxfwd
#pragma weak slirp_add_unix
#pragma weak slirp_remove_guestfwd

#define TXQ_FRAMES 256  /* guest frames waiting for the net thread */
#define RXQ_FRAMES 512  /* frames waiting for guest buffers or rx tokens */
#define RXQ_SOFT   128  /* above this the host sockets are not read (POLLIN masked) */
#define MAX_FWDS   128  /* live guest connections to connect endpoints, all together */
#define MAX_TIMERS 8
#define TX_BATCH   64
#define UDP_RX_BATCH 32 /* datagrams read from one UDP socket per round */
#define DNS_PORT   53
#define NET_ADDR   0x0a000200u /* 10.0.2.0 */
#define GUEST_HOST 15u
#define GW_HOST    2u
static const uint8_t guest_mac[6] = { 0x02, 0x15, 0x15, 0x00, 0x00, 0x01 };

struct frame {
    uint32_t len;
    uint8_t data[VNET_FRAME_MAX];
};

struct ring {
    struct frame *f;
    unsigned cap, head, count;
};

struct slirp_timer {
    bool used, armed;
    int64_t expire_ms;
    SlirpTimerId id;      /* timer_new_opaque's */
    SlirpTimerCb cb;      /* timer_new's */
    void *cb_opaque;
};

struct ep_state {
    struct endpoint e;
    bool forwarded;        /* a connect tcp endpoint (slirp_add_unix) or a listen one (hostfwd) */
    bool udp;              /* a connect udp endpoint: the net thread's own sockets (lnet_udp) */
    bool closed;           /* revoked or expired: nothing new */
    bool expired;
    uint64_t deadline_ns;  /* 0: never */
    struct in_addr vaddr;  /* connect: the guest-visible address */
    int listen_fd;         /* connect: the Unix socket slirp connects to per guest connection */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct sockaddr_storage real;
    socklen_t real_len;
    uint64_t connections, refused, failed;
    /* a udp endpoint's datagrams: sent to it and received from it (payload bytes), dropped
     * (a socket error or full buffer, one too large for a frame, the rx queue full) */
    uint64_t dgrams_sent, bytes_sent, dgrams_received, bytes_received, dgrams_dropped;
};

struct lnet_core {
    struct lnet *n;
    pthread_mutex_t lock;  /* the queues and the requests below; never held while taking dev_lock */
    struct ring txq, rxq;
    struct frame tx_batch[TX_BATCH]; /* the stack thread's: frames taken from txq under the lock,
                                      * handled outside it (not thread-local storage: every
                                      * thread of every isovm process would carry 95 KiB) */
    bool tx_blocked;       /* the device holds a frame: kick it when the queue has room */
    bool rx_masked;        /* POLLIN masked: wake the thread when the queue drains */
    bool stop;
    bool revoke_req[POLICY_MAX_ENDPOINTS]; /* asked for, not done yet */
    bool revoked[POLICY_MAX_ENDPOINTS];    /* asked for or expired, ever */
    uint64_t rx_queue_drops;
    int wake_fd;
    pthread_mutex_t *dev_lock;
    void (*rearm)(void *);
    void *rearm_ctx;
    pthread_t thread;
    bool running;
    /* the net thread's alone (and lnet_init's, lnet_fini's, before and after it) */
    bool rx_done_due;      /* frames went straight to the guest this round (vnet_rx_done, the
                            * interrupt, at its end) */
    Slirp *slirp;
    struct slirp_timer timers[MAX_TIMERS];
    struct pollfd *pfd;
    unsigned npfd, cap_pfd;
    int *slirp_fds;        /* the sockets slirp registered (hostfwd connections among them) */
    unsigned nslirp_fds, cap_slirp_fds;
    struct ep_state eps[POLICY_MAX_ENDPOINTS];
    unsigned neps;
    struct lnet_fwd fwds[MAX_FWDS];
    struct lnet_udp_table udp;
    char dir[64];          /* the forwards' private directory ("" when none) */
    int dir_fd, parent_fd; /* it and its parent (O_PATH): removals by name under the VMM's
                            * seccomp filter, which allows no path from the cwd (-1: none) */
    uint64_t refused_other, udp_dropped, fwd_limit_refused;
    uint64_t malformed;    /* IPv4 frames refused before slirp (lnet_frame_parse's BAD) */
};

/* A frame for the guest, from the net thread: into the guest's buffer at once when none is
 * queued before it (dev_lock taken here), else queued (c->lock taken here); false when the rx
 * queue is full (dropped, counted). */
bool lnet_rxq_push(struct lnet_core *c, const void *buf, uint32_t len);

/* lnet_endpoint.c, the net thread's: set up endpoint i at launch (a listening Unix socket for
 * slirp's guestfwd of a connect endpoint, a UDP socket, a host listener for a listen endpoint);
 * accept what slirp connected to endpoint i's Unix socket, each with its real connection; close
 * endpoint i (expiry, revocation, the end): nothing new reaches it, and its live connections
 * end. lnet_unlink_socket: a forward's socket file removed by name in the private directory (no
 * path from the cwd). */
int lnet_endpoint_setup(struct lnet_core *c, unsigned i, const struct endpoint *e,
                        uint64_t start_ns);
void lnet_endpoint_accept(struct lnet_core *c, unsigned i);
void lnet_endpoint_close(struct lnet_core *c, unsigned i);
void lnet_unlink_socket(const struct lnet_core *c, const char *path);

/* lnet_guest.c: what the net thread does with a guest frame before slirp sees it (ARP for the
 * endpoints' addresses, UDP to granted endpoints, refusals counted): true when it took the frame
 * (slirp must not see it). And a UDP flow's datagrams from the real endpoint to the guest. */
bool lnet_tx_filter(struct lnet_core *c, const struct frame *f);
void lnet_udp_to_guest(struct lnet_core *c, struct lnet_udp_flow *fl);

#endif
