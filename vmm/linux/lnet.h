/* The Linux tier's network: a virtio-net device whose far side is libslirp in restricted mode on its own thread, reaching only the policy's endpoints. */
#ifndef ISOVM_LNET_H
#define ISOVM_LNET_H
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/net/vnet.h"
#include "policy/policy.h"
#include "vmm/core/guest_ram.h"

/* The guest's network (docs/network.md#the-linux-tier): 10.0.2.0/24, the guest 10.0.2.15, the
 * gateway (slirp) 10.0.2.2. Connect endpoint i (TCP or UDP) is reachable at 10.0.2.(100 + i),
 * the endpoint's own port, named "ep<i>.isovm" for the guest's /etc/hosts. */
#define LNET_GUEST_ADDR   "10.0.2.15"
#define LNET_GATEWAY_ADDR "10.0.2.2"
#define LNET_PREFIX_LEN   24
#define LNET_EP_ADDR_BASE 100
#define LNET_HOSTNAME_MAX 24

struct lnet_core; /* the net thread's side (lnet.c) */

/* What the guest's init needs to configure its interface (passed in the job file). */
struct lnet_guest_config {
    uint8_t mac[6];
    struct in_addr addr, gateway;      /* network byte order */
    unsigned prefix_len;
    unsigned nendpoints;               /* the connect endpoints, in policy order */
    struct lnet_guest_endpoint {
        unsigned index;                /* in policy.endpoints */
        bool udp;
        struct in_addr addr;           /* the guest-visible address */
        uint16_t port;                 /* host byte order: the endpoint's own port */
        bool dns;                      /* udp, port 53: a resolver (the init's nameserver) */
        char hostname[LNET_HOSTNAME_MAX];
    } endpoints[POLICY_MAX_ENDPOINTS];
    /* the first resolver in endpoints[] (its position there, not its policy index), -1 none:
     * the guest queries it at its address, endpoints[dns_endpoint].addr, port 53 */
    int dns_endpoint;
};

struct lnet {
    bool enabled;                      /* false: the policy grants no endpoint, no device */
    struct vnet dev;                   /* serialised by the caller's device lock */
    struct lnet_core *core;
};

/* Whether this binary has libslirp linked in (isovm-slirp and the sanitizer build do; the static
 * isovm does not, and hands such a job to isovm-slirp before building anything). */
bool lnet_linked(void);
#define LNET_SLIRP_BINARY "isovm-slirp" /* built next to isovm (Makefile) */

/* Set up the network for policy p: the device over ram and the backend (slirp, forwards; no
 * thread yet). start_ns is the job's start (CLOCK_MONOTONIC), the origin of the endpoints'
 * expiry. No endpoint in p: 0 with n->enabled false (nothing else to call but lnet_fini).
 * Errors: negative errno, logged naming what failed. */
int lnet_init(struct lnet *n, const struct guest_ram *ram, const struct policy *p,
              uint64_t start_ns);

/* The device for the run loop (MMIO exits, notifications, vmmio_timer at vmmio_wake_ns). */
struct vmmio *lnet_mmio(struct lnet *n);

/* Start the net thread. dev_lock is the lock that serialises every call into the device; the
 * thread takes it (never while holding its own) to deliver received frames and resume the tx
 * queue, and then calls rearm(ctx), still under dev_lock, so that the device thread re-arms its
 * timer from vmmio_wake_ns (the frames may have set it). rearm may be NULL. 0 or -errno. */
int lnet_start(struct lnet *n, pthread_mutex_t *dev_lock, void (*rearm)(void *ctx), void *ctx);

/* Stop and join the net thread (idempotent); live connections are closed. Not with dev_lock
 * held. */
void lnet_stop(struct lnet *n);

/* Stop, then free everything: slirp, the forwards' sockets and their private directory. */
void lnet_fini(struct lnet *n);

/* Revoke endpoint `index` (in policy.endpoints): its live connections are closed and new ones
 * refused (a connect endpoint's SYNs get RST, a udp endpoint's sockets close and its datagrams
 * get ICMP port unreachable, a listen endpoint's host port closes). From any
 * thread, without dev_lock; done by the net thread within milliseconds. 0, -EINVAL (not an
 * endpoint), -EALREADY (revoked or expired before). */
int lnet_revoke_endpoint(struct lnet *n, unsigned index);

/* The addresses and names the guest's init configures. */
void lnet_guest_config(const struct lnet *n, struct lnet_guest_config *out);

/* The report's "network" object (docs/report.md): frames, bytes, drops and throttled time per
 * direction, connections made and refused per endpoint. NULL when disabled. */
json_t *lnet_report(const struct lnet *n);

#endif
