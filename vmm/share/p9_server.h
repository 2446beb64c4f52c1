/* The grants' 9P2000.L server: one request in, one reply out, every host access beneath a grant's root with the grant's rights, checked live. */
#ifndef ISOVM_P9_SERVER_H
#define ISOVM_P9_SERVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "devices/virtio/p9/p9_wire.h"
#include "vmm/core/job.h"
#include "vmm/share/p9_fid.h"

#define P9_MSIZE_MAX  (512u * 1024u) /* the largest msize offered (Linux's virtio limit: 500 KiB) */
#define P9_MSIZE_MIN  4096u
#define P9_IOV_MAX    256u           /* iovecs of a request's data (a virtqueue's longest chain) */
#define P9_REQ_MAX    (P9_STR_MAX + 2 * P9_NAME_MAX + 64u) /* any request but Twrite's data */

/* One request and where its reply goes. The request's bytes (all of them, or for Twrite the
 * first P9_TWRITE_HDR) are in req; Twrite's data is in wdata (guest RAM). The reply is written
 * to reply[0..reply_cap); an Rread's data goes to rdata (guest RAM just after the reply's
 * P9_RREAD_HDR bytes) instead. */
struct p9_msg {
    const uint8_t *req;
    size_t req_len;
    uint32_t size;                  /* the request's size field (req_len, or Twrite's total) */
    const struct iovec *wdata;
    unsigned nwdata;
    size_t wdata_len;
    uint8_t *reply;
    size_t reply_cap;
    const struct iovec *rdata;
    unsigned nrdata;
    size_t rdata_cap;
};

struct p9_stats {
    uint64_t requests, errors, malformed;
    uint64_t read_bytes, write_bytes;   /* file data moved */
    uint64_t reads, writes;             /* Tread, Twrite */
    uint64_t metadata;                  /* every other request */
};

#define P9_DEVS_MAX   255u   /* host devices told apart in qid paths (more share the last index) */
#define P9_GRANT_VIRTUAL UINT32_MAX /* a fid's "grant" for the grants' own root (aname "") */

struct p9_server {
    struct job *job;       /* the policy's grants, their root capabilities, the audit log */
    uint64_t devs[P9_DEVS_MAX]; /* the host devices met, in order: qid paths carry their index */
    unsigned ndevs;
    uint64_t start_sec;    /* the virtual root's times */
    struct stat root_st[POLICY_MAX_GRANTS]; /* each grant's root as it was at launch: its
                                             * attributes answer without a live check, so
                                             * that a grant revoked or expired before the guest
                                             * mounted it still mounts (and refuses the rest) */
    uint32_t msize;        /* negotiated by Tversion (0: none yet: only Tversion is served) */
    struct p9_fids fids;
    /* Wait for and take the io bucket's tokens (write: io.write, else io.read) for one operation
     * and `bytes` bytes: 0, or -EINTR when the job is stopping. NULL: no throttle. */
    int (*throttle)(void *ctx, bool write, uint64_t bytes);
    /* Give back bytes taken but not moved (a short read or write). */
    void (*refund)(void *ctx, bool write, uint64_t bytes);
    void *throttle_ctx;
    struct p9_stats stats;
};

/* A server over job's grants (grants_open done: job->grant_roots; each root's attributes are
 * taken now). */
void p9_server_init(struct p9_server *s, struct job *job);
/* Close every fid. */
void p9_server_fini(struct p9_server *s);

/* Serve one request: returns the reply's length (the header and fixed fields in m->reply, plus
 * for an Rread the data count written to m->rdata), never 0: a malformed request gets an
 * Rlerror (EPROTO when its tag could not even be read). */
size_t p9_server_handle(struct p9_server *s, const struct p9_msg *m);

#endif
