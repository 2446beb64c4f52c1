/* The job's capability table: each descriptor is a handle on an entry that carries an object,
 * rights, an expiry, its parent and a generation. Derive never amplifies; revoke cascades. */
#ifndef ISOVM_CAP_H
#define ISOVM_CAP_H
#include <stdbool.h>
#include <stdint.h>
#include "policy/rights.h"

#define CAP_NONE UINT32_MAX

enum cap_kind {
    CAP_CONSOLE, CAP_DIR, CAP_FILE,
    CAP_ENDPOINT, /* a policy endpoint (network grant): a root with no host descriptor */
    CAP_SOCKET,   /* a host socket, derived from an endpoint (or from a listening socket) */
    CAP_PIPE,     /* one end of a host pipe the job made (pipe, pipe2): a root of its own */
    CAP_EPOLL,    /* a host epoll instance the job made (epoll_create1): a root of its own */
    CAP_EVENTFD,  /* a host eventfd the job made (eventfd2): a root of its own */
    CAP_NULL,     /* the job's /dev/null: a copy of the host's, a root of its own */
};

/* How an entry came to be (the audit log's "how" of each link in a chain). */
enum cap_origin {
    CAP_FROM_CONSOLE,  /* stdin/stdout/stderr at launch */
    CAP_FROM_GRANT,    /* a policy grant at launch */
    CAP_FROM_OPEN,     /* open/openat beneath a directory capability */
    CAP_FROM_DERIVE,   /* ISOVM_SYS_CAP_DERIVE (attenuation) */
    CAP_FROM_SOCKET,   /* socket() beneath an endpoint (sys_net.c) */
    CAP_FROM_ACCEPT,   /* accept/accept4 on a listening socket */
    CAP_FROM_PIPE,     /* pipe/pipe2 (sys_pipe.c) */
    CAP_FROM_EPOLL,    /* epoll_create/epoll_create1 (sys_epoll.c) */
    CAP_FROM_EVENTFD,  /* eventfd/eventfd2 (sys_eventfd.c) */
    CAP_FROM_NULL,     /* an open of /dev/null (sys_fs.c) */
};

/* A socket's or an endpoint's network facts (sys_net.c). */
enum cap_sock_state { SOCK_ST_NEW, SOCK_ST_BOUND, SOCK_ST_LISTENING, SOCK_ST_CONNECTED };
struct cap_net {
    bool v6;              /* AF_INET6 (else AF_INET) */
    uint8_t proto;        /* EP_TCP / EP_UDP (policy.h) */
    uint8_t state;        /* enum cap_sock_state (sockets) */
    int16_t endpoint;     /* CAP_ENDPOINT: index in policy.endpoints */
};

struct cap {
    uint32_t id;          /* unique in the job, never reused, from 1; 0: the slot is free */
    uint32_t gen;         /* bumped each time the slot is freed: stale handles never match */
    enum cap_kind kind;
    enum cap_origin origin;
    uint32_t rights;      /* CAP_R_*: always a subset of the parent's */
    uint64_t expires_ns;  /* CLOCK_MONOTONIC deadline, never later than the parent's; 0: never */
    uint32_t parent;      /* slot of the parent; CAP_NONE for a root */
    uint32_t refs;        /* descriptors holding it */
    uint32_t children;    /* live entries whose parent it is */
    uint32_t io_busy;     /* host I/O on host_fd in progress with the job lock released */
    int host_fd;          /* isovm's descriptor; -1 once revoked and closed */
    bool revoked;         /* revoked or expired: every use fails */
    bool expired;         /* revoked because its deadline passed */
    bool pinned;          /* a root (grant, console): kept while the job runs, even unreferenced */
    bool keep_fd;         /* never close host_fd (the console's 0-2) */
    char *path;           /* guest path of the object ("/data/a.txt"); NULL for the console;
                           * an endpoint's "connect tcp:127.0.0.1:80", a socket's peer */
    struct cap_net net;   /* CAP_ENDPOINT, CAP_SOCKET */
};

struct cap_table {
    struct cap *caps;
    uint32_t max;         /* slots (policy.max_capabilities) */
    uint32_t used;        /* live entries */
    uint32_t next_id;
};

/* An empty table of `max` slots. 0 or -ENOMEM. */
int cap_table_init(struct cap_table *t, uint32_t max);
/* Close every host descriptor the table owns and free it. */
void cap_table_fini(struct cap_table *t);

/* A stream with no position and no file behind it in the grants: the console, a pipe end, an
 * epoll instance or an eventfd (lseek, pread: ESPIPE; stat made up from the host descriptor's
 * type). */
static inline bool cap_is_stream(const struct cap *e)
{
    return e->kind == CAP_CONSOLE || e->kind == CAP_PIPE || e->kind == CAP_EPOLL ||
           e->kind == CAP_EVENTFD || e->kind == CAP_NULL;
}

/* A new entry derived from `parent` (CAP_NONE: a root, pinned). Its rights must be a subset of
 * the parent's (else -EPERM: amplification) and the parent must be live (-EKEYREVOKED); its
 * expiry is the earlier of expires_ns and the parent's. -EMFILE when every slot is taken,
 * -ENOMEM. On success the table owns host_fd (and a copy of path), refs is 0 and the slot
 * is returned; on failure nothing changes (the caller still owns host_fd). */
int cap_create(struct cap_table *t, uint32_t parent, enum cap_kind kind, enum cap_origin origin,
               uint32_t rights, uint64_t expires_ns, int host_fd, const char *path);

/* The entry in `slot` if it is still the one of generation `gen`, else NULL. */
struct cap *cap_get(struct cap_table *t, uint32_t slot, uint32_t gen);

/* May the entry be used for `need` now? 0, or -EBADF (stale handle), -EKEYREVOKED (revoked),
 * -EKEYEXPIRED (past its deadline: the first use that finds it so revokes it and its subtree,
 * and sets *newly_expired so the caller can log it once), -EACCES (a right in `need` missing;
 * callers that must answer as Linux does, EBADF for read/write, translate). O(1). */
int cap_check(struct cap_table *t, uint32_t slot, uint32_t gen, uint32_t need, uint64_t now_ns,
              bool *newly_expired);

/* A descriptor takes / drops a reference. Dropping the last one of an entry that is not pinned
 * and has no children frees it (closing its host descriptor), and so on up the chain. */
void cap_ref(struct cap_table *t, uint32_t slot);
void cap_unref(struct cap_table *t, uint32_t slot);

/* Revoke `slot` and every entry derived from it: each is marked revoked (expired, if so) and
 * its host descriptor closed (at once, or when its in-flight I/O ends). `each` (may be NULL)
 * is called once per entry newly revoked, root of the subtree first. Returns how many. */
int cap_revoke(struct cap_table *t, uint32_t slot, bool expired,
               void (*each)(void *ctx, uint32_t slot), void *ctx);

/* Host I/O on the entry's descriptor without the job lock: begin returns the descriptor (or
 * -EKEYREVOKED) and keeps it open until the matching end, even if revoked meanwhile. */
int cap_io_begin(struct cap_table *t, uint32_t slot);
void cap_io_end(struct cap_table *t, uint32_t slot);

/* The chain from the root down to `slot`, root first: out[0..max) gets its first max links.
 * Returns the chain's length (which may exceed max). */
int cap_chain(const struct cap_table *t, uint32_t slot, uint32_t *out, int max);

/* Move `slot` (which has no children) under `parent` (live): its expiry becomes the earlier of
 * its own and the new parent's. A socket created under one endpoint connects under another.
 * 0, -EBUSY (it has children), -EKEYREVOKED / -EKEYEXPIRED (the parent is not live). */
int cap_reparent(struct cap_table *t, uint32_t slot, uint32_t parent);

/* Replace the entry's path (a socket's peer). 0 or -ENOMEM (the old path stays). */
int cap_set_path(struct cap_table *t, uint32_t slot, const char *path);

/* The slot of the live entry with this id, or CAP_NONE. */
uint32_t cap_find_id(const struct cap_table *t, uint32_t id);

/* Is `slot` `ancestor` or derived from it? */
bool cap_descends(const struct cap_table *t, uint32_t slot, uint32_t ancestor);

#endif
