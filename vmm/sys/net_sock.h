/* The network syscalls' shared core: refusals, endpoints, socket capabilities, host calls. */
#ifndef ISOVM_SYS_NET_SOCK_H
#define ISOVM_SYS_NET_SOCK_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "vmm/caps/cap_hold.h"
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"
#include "vmm/sys/net_addr.h"

#define NET_RW_MAX    0x7ffff000ull  /* Linux caps one send/recv at this many bytes */
#define NET_OPT_MAX   16             /* the largest option value passed (struct timeval) */
#define NET_BACKLOG   4096
#define MSGHDR_SIZE   56             /* the x86-64 struct msghdr */

enum net_op { OP_SEND, OP_RECV, OP_ACCEPT, OP_CONNECT };

int net_deny(struct job *job, const struct sc_call *c, int err, uint32_t slot,
             const char *what);

/* The live endpoint root that grants `mode` (-1: any) for proto and family, to `a` exactly
 * (NULL: any address). A deadline found passed expires it (logged). The slot, or -EACCES when
 * nothing grants it (-EKEYREVOKED / -EKEYEXPIRED when only a dead endpoint would have), audited
 * naming `what`. */
int net_endpoint_admit(struct job *job, const struct sc_call *c, int mode, uint8_t proto,
                       bool v6, const struct net_addr *a, const char *what);

/* The socket behind guest descriptor fd, usable for `need`. -ENOTSOCK for another object. */
int net_sock(struct job *job, struct sc_call *c, uint64_t fd, uint32_t need,
             struct cap **e, uint32_t *slot);

/* Attach socket `slot` to endpoint `ep` (socket() placed it under one of its protocol; connect
 * and bind move it under the one that grants the address). */
int net_sock_attach(struct job *job, const struct sc_call *c, uint32_t slot, uint32_t ep);

/* Wait (lock released) until an interrupted connect completes; its result. */
int net_connect_finish(struct job *job, const struct cap_hold *h, int fd);

/* One host socket call on the held socket with job->lock released (the hold keeps its
 * descriptor open; a revocation meanwhile shuts the socket down, which wakes the call, and
 * kicks it). A kick restarts it unless the job is ending or the socket was revoked. Returns
 * the call's result or -errno; -EKEYREVOKED / -EKEYEXPIRED when the socket was revoked
 * meanwhile (an accepted descriptor is closed then). */
int64_t net_host_call(struct job *job, const struct cap_hold *h, enum net_op op,
                      struct msghdr *m, int flags, struct sockaddr_storage *ss, socklen_t *sl);

/* net_host_call for one call that holds the socket only for that call (connect, accept). */
int64_t net_host_call_once(struct job *job, uint32_t slot, enum net_op op, int flags,
                           struct sockaddr_storage *ss, socklen_t *sl);

/* Take `want` bytes of the direction's tokens (and one operation): all of them when `whole`
 * (a datagram is never cut), else at least one. The bytes taken, -EINTR, or -EKEYREVOKED /
 * -EKEYEXPIRED when the held socket dies while waiting. */
int64_t net_admit(struct job *job, struct sc_call *c, const struct cap_hold *h,
                  bool is_write, uint64_t want, bool whole);

#endif
