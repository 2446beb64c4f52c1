/* The capability table: create (never amplifying), check at every use, reference counting,
 * cascading revocation and the chain each entry was derived through. */
#include "vmm/caps/cap.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "firmware/abi.h"

_Static_assert(ISOVM_RIGHT_READ == CAP_R_READ && ISOVM_RIGHT_WRITE == CAP_R_WRITE &&
               ISOVM_RIGHT_CREATE == CAP_R_CREATE && ISOVM_RIGHT_DELETE == CAP_R_DELETE &&
               ISOVM_RIGHT_LIST == CAP_R_LIST && ISOVM_RIGHT_STAT == CAP_R_STAT &&
               ISOVM_RIGHT_SEEK == CAP_R_SEEK && ISOVM_RIGHT_TRUNCATE == CAP_R_TRUNCATE &&
               ISOVM_RIGHT_EXEC == CAP_R_EXEC,
               "abi.h rights match rights.h");

int cap_table_init(struct cap_table *t, uint32_t max)
{
    memset(t, 0, sizeof *t);
    t->caps = calloc(max ? max : 1, sizeof *t->caps);
    if (!t->caps)
        return -ENOMEM;
    t->max = max;
    t->next_id = 1;
    return 0;
}

/* A socket the job set to linger (SO_LINGER with a time) would make close wait, with the job
 * lock held, until its data is sent or the time is up: the linger is turned off first, so
 * close returns at once and the kernel sends what is queued in the background (an abortive
 * close, linger 0, stays as the job set it). docs/network.md. */
static void socket_linger_off(int fd)
{
    struct linger l;
    socklen_t len = sizeof l;
    if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) == 0 && l.l_onoff && l.l_linger > 0) {
        l = (struct linger){ .l_onoff = 0, .l_linger = 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
}

static void fd_release(struct cap *e)
{
    if (e->host_fd >= 0 && !e->keep_fd) {
        if (e->kind == CAP_SOCKET)
            socket_linger_off(e->host_fd);
        close(e->host_fd);
    }
    e->host_fd = -1;
}

void cap_table_fini(struct cap_table *t)
{
    for (uint32_t i = 0; t->caps && i < t->max; i++) {
        if (t->caps[i].id) {
            fd_release(&t->caps[i]);
            free(t->caps[i].path);
        }
    }
    free(t->caps);
    memset(t, 0, sizeof *t);
}

int cap_create(struct cap_table *t, uint32_t parent, enum cap_kind kind, enum cap_origin origin,
               uint32_t rights, uint64_t expires_ns, int host_fd, const char *path)
{
    struct cap *p = NULL;
    if (parent != CAP_NONE) {
        if (parent >= t->max || !t->caps[parent].id)
            return -EBADF;
        p = &t->caps[parent];
        if (p->revoked)
            return p->expired ? -EKEYEXPIRED : -EKEYREVOKED;
        if (rights & ~p->rights)
            return -EPERM;
        if (p->expires_ns && (!expires_ns || p->expires_ns < expires_ns))
            expires_ns = p->expires_ns;
    }
    if (t->used == t->max || t->next_id == UINT32_MAX)
        return -EMFILE;
    uint32_t slot = 0;
    while (t->caps[slot].id)
        slot++;
    char *copy = NULL;
    if (path && !(copy = strdup(path)))
        return -ENOMEM;
    struct cap *e = &t->caps[slot];
    uint32_t gen = e->gen;
    *e = (struct cap){
        .id = t->next_id++, .gen = gen, .kind = kind, .origin = origin, .rights = rights,
        .expires_ns = expires_ns, .parent = parent, .host_fd = host_fd,
        .pinned = parent == CAP_NONE && origin != CAP_FROM_PIPE && origin != CAP_FROM_EPOLL &&
                  origin != CAP_FROM_EVENTFD && origin != CAP_FROM_NULL, .path = copy,
    };
    if (p)
        p->children++;
    t->used++;
    return (int)slot;
}

struct cap *cap_get(struct cap_table *t, uint32_t slot, uint32_t gen)
{
    if (slot >= t->max || !t->caps[slot].id || t->caps[slot].gen != gen)
        return NULL;
    return &t->caps[slot];
}

int cap_check(struct cap_table *t, uint32_t slot, uint32_t gen, uint32_t need, uint64_t now_ns,
              bool *newly_expired)
{
    struct cap *e = cap_get(t, slot, gen);
    if (newly_expired)
        *newly_expired = false;
    if (!e)
        return -EBADF;
    if (e->revoked)
        return e->expired ? -EKEYEXPIRED : -EKEYREVOKED;
    if (e->expires_ns && now_ns >= e->expires_ns) {
        /* The whole subtree expires with it (children never outlive their parent): revoke
         * from the topmost entry of the chain whose deadline has passed. */
        uint32_t top = slot;
        while (t->caps[top].parent != CAP_NONE) {
            const struct cap *p = &t->caps[t->caps[top].parent];
            if (!p->expires_ns || now_ns < p->expires_ns || p->revoked)
                break;
            top = t->caps[top].parent;
        }
        cap_revoke(t, top, true, NULL, NULL);
        if (newly_expired)
            *newly_expired = true;
        return -EKEYEXPIRED;
    }
    if ((e->rights & need) != need)
        return -EACCES;
    return 0;
}

/* Free an entry nobody holds any more, then its parent if that was all it held. */
static void release(struct cap_table *t, uint32_t slot)
{
    while (slot != CAP_NONE) {
        struct cap *e = &t->caps[slot];
        if (e->refs || e->children || e->pinned || e->io_busy)
            return;
        uint32_t parent = e->parent;
        fd_release(e);
        free(e->path);
        uint32_t gen = e->gen + 1;
        memset(e, 0, sizeof *e);
        e->gen = gen;
        e->host_fd = -1;
        t->used--;
        if (parent == CAP_NONE)
            return;
        t->caps[parent].children--;
        slot = parent;
    }
}

void cap_ref(struct cap_table *t, uint32_t slot)
{
    t->caps[slot].refs++;
}

void cap_unref(struct cap_table *t, uint32_t slot)
{
    if (t->caps[slot].refs)
        t->caps[slot].refs--;
    release(t, slot);
}

bool cap_descends(const struct cap_table *t, uint32_t slot, uint32_t ancestor)
{
    /* a chain is at most max long: the bound guards against a corrupted table */
    for (uint32_t n = 0; slot != CAP_NONE && n <= t->max; n++) {
        if (slot == ancestor)
            return true;
        slot = t->caps[slot].parent;
    }
    return false;
}

int cap_revoke(struct cap_table *t, uint32_t slot, bool expired,
               void (*each)(void *ctx, uint32_t slot), void *ctx)
{
    int n = 0;
    /* Root of the subtree first, then every live descendant. Parents always exist while they
     * have children, so the ancestor walk finds every member. O(max * depth). */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < t->max; i++) {
            struct cap *e = &t->caps[i];
            if (!e->id || e->revoked || (pass == 0) != (i == slot) || !cap_descends(t, i, slot))
                continue;
            /* atomic: a host call's retry loop reads it without the lock (cap_hold.h) */
            __atomic_store_n(&e->revoked, true, __ATOMIC_RELEASE);
            e->expired = expired;
            if (!e->io_busy)
                fd_release(e);
            else if (e->kind == CAP_SOCKET && e->host_fd >= 0)
                shutdown(e->host_fd, SHUT_RDWR); /* wake a thread blocked in recv or accept */
            n++;
            if (each)
                each(ctx, i);
        }
    }
    return n;
}

int cap_io_begin(struct cap_table *t, uint32_t slot)
{
    struct cap *e = &t->caps[slot];
    if (e->revoked || e->host_fd < 0)
        return e->expired ? -EKEYEXPIRED : -EKEYREVOKED;
    e->io_busy++;
    return e->host_fd;
}

void cap_io_end(struct cap_table *t, uint32_t slot)
{
    struct cap *e = &t->caps[slot];
    if (e->io_busy && --e->io_busy == 0) {
        if (e->revoked)
            fd_release(e);
        release(t, slot);
    }
}

int cap_chain(const struct cap_table *t, uint32_t slot, uint32_t *out, int max)
{
    int len = 0;
    for (uint32_t s = slot; s != CAP_NONE && len <= (int)t->max; s = t->caps[s].parent)
        len++;
    int k = len;
    for (uint32_t s = slot; s != CAP_NONE && k > 0; s = t->caps[s].parent) {
        k--;
        if (k < max)
            out[k] = s;
    }
    return len;
}

int cap_reparent(struct cap_table *t, uint32_t slot, uint32_t parent)
{
    struct cap *e = &t->caps[slot], *p = &t->caps[parent];
    if (e->children)
        return -EBUSY;
    if (!p->id || p->revoked)
        return p->expired ? -EKEYEXPIRED : -EKEYREVOKED;
    if (e->parent == parent)
        return 0;
    if (e->parent != CAP_NONE)
        t->caps[e->parent].children--;
    e->parent = parent;
    p->children++;
    if (p->expires_ns && (!e->expires_ns || p->expires_ns < e->expires_ns))
        e->expires_ns = p->expires_ns;
    return 0;
}

int cap_set_path(struct cap_table *t, uint32_t slot, const char *path)
{
    char *copy = path ? strdup(path) : NULL;
    if (path && !copy)
        return -ENOMEM;
    free(t->caps[slot].path);
    t->caps[slot].path = copy;
    return 0;
}

uint32_t cap_find_id(const struct cap_table *t, uint32_t id)
{
    for (uint32_t i = 0; id && i < t->max; i++)
        if (t->caps[i].id == id)
            return i;
    return CAP_NONE;
}
