/* futex(2) for job threads: WAIT, WAKE, their BITSET forms, REQUEUE, CMP_REQUEUE and WAKE_OP. */
#include "vmm/sys/sys_futex.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <time.h>
#include "vmm/sys/sys.h"

int futex_wake_addr(struct job *job, const struct proc *p, uint64_t addr, uint64_t n,
                    uint32_t mask)
{
    int woken = 0;
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS && (uint64_t)woken < n; i++) {
        struct vthread *t = &job->threads[i];
        if (t->state == VT_RUNNING && t->proc == p && t->futex_waiting && !t->futex_woken &&
            t->futex_addr == addr && (t->futex_bitset & mask)) {
            t->futex_woken = true;
            pthread_cond_signal(&t->wake);
            woken++;
        }
    }
    return woken;
}

/* Move up to n of process p's waiters from addr to addr2 (they stay asleep). */
static int futex_requeue_addr(struct job *job, const struct proc *p, uint64_t addr,
                              uint64_t addr2, uint64_t n)
{
    int moved = 0;
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS && (uint64_t)moved < n; i++) {
        struct vthread *t = &job->threads[i];
        if (t->state == VT_RUNNING && t->proc == p && t->futex_waiting && !t->futex_woken &&
            t->futex_addr == addr) {
            t->futex_addr = addr2;
            moved++;
        }
    }
    return moved;
}

/* The futex word: 4-byte aligned, readable (and writable for WAKE_OP) user memory. */
static int futex_word(struct job *job, const struct sc_call *c, uint64_t addr, unsigned need, uint32_t **word)
{
    (void)job;
    if (addr % 4)
        return -EINVAL;
    void *h;
    if (gpa_range_check(sc_gm(c), addr, 4, need, &h))
        return -EFAULT;
    if (sc_gm(c)->nfiles && gmem_range_has_file(sc_gm(c), addr, 4, false))
        return -EFAULT; /* a word in a file's mapping: the VMM reads it unguarded (not yet) */
    *word = h;
    return 0;
}

/* The CLOCK_MONOTONIC deadline for a wait: relative for FUTEX_WAIT, absolute (monotonic, or
 * realtime with FUTEX_CLOCK_REALTIME) for FUTEX_WAIT_BITSET. UINT64_MAX: no timeout. */
static int futex_deadline(struct job *job, const struct sc_call *c, uint64_t gva, bool absolute, bool realtime,
                          uint64_t *deadline)
{
    (void)job;
    *deadline = UINT64_MAX;
    if (!gva)
        return 0;
    struct timespec ts;
    int rc = gmem_copy_from(sc_gm(c), &ts, gva, sizeof ts);
    if (rc)
        return rc;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
        return -EINVAL;
    if ((uint64_t)ts.tv_sec > (UINT64_MAX / 1000000000ull) / 2)
        return 0; /* beyond any real deadline: wait forever */
    uint64_t want = ts_ns(&ts);
    *deadline = !absolute ? mono_ns() + want
                          : mono_deadline(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, want);
    return 0;
}

static int64_t futex_wait(struct job *job, struct sc_call *c, uint32_t mask, bool absolute,
                          bool realtime)
{
    struct vthread *self = c->self;
    uint64_t addr = c->a[0];
    uint32_t *word;
    int rc = futex_word(job, c, addr, GPERM_R, &word);
    if (rc)
        return rc;
    if (!mask)
        return -EINVAL;
    uint64_t deadline;
    if ((rc = futex_deadline(job, c, c->a[3], absolute, realtime, &deadline)))
        return rc;
    /* Compare and sleep under job->lock: a waker needs the lock, so no wake is missed. */
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != (uint32_t)c->a[2])
        return -EAGAIN;
    self->futex_addr = addr;
    self->futex_bitset = mask;
    self->futex_waiting = true;
    self->futex_woken = false;
    struct timespec ts = ns_ts(deadline);
    int64_t ret = 0;
    while (!self->futex_woken) {
        if (thread_stopping(self)) {
            ret = -EINTR;
            break;
        }
        int e = deadline == UINT64_MAX ? pthread_cond_wait(&self->wake, &job->lock)
                                       : pthread_cond_timedwait(&self->wake, &job->lock, &ts);
        if (e == ETIMEDOUT && !self->futex_woken) {
            ret = -ETIMEDOUT;
            break;
        }
    }
    self->futex_waiting = false;
    self->futex_woken = false;
    return ret;
}

/* FUTEX_WAKE_OP: *addr2 = op(*addr2, oparg); wake n on addr; if cmp(old, cmparg) wake n2 on
 * addr2. */
static int64_t futex_wake_op(struct job *job, struct sc_call *c)
{
    uint32_t *word2, *unused;
    int rc = futex_word(job, c, c->a[4], GPERM_R | GPERM_W, &word2);
    if (rc)
        return rc;
    if ((rc = futex_word(job, c, c->a[0], GPERM_R, &unused)))
        return rc;
    uint32_t enc = (uint32_t)c->a[5];
    unsigned op = (enc >> 28) & 0xf, cmp = (enc >> 24) & 0xf;
    uint32_t oparg = (enc >> 12) & 0xfff, cmparg = enc & 0xfff;
    if (op & 8) { /* FUTEX_OP_OPARG_SHIFT */
        if (oparg > 31)
            return -EINVAL;
        oparg = 1u << oparg;
        op &= 7;
    } else if (oparg & 0x800) {
        oparg |= 0xfffff000u; /* sign-extend the 12-bit argument */
    }
    if (cmparg & 0x800)
        cmparg |= 0xfffff000u;
    uint32_t old = __atomic_load_n(word2, __ATOMIC_SEQ_CST), val;
    switch (op) {
    case FUTEX_OP_SET: val = oparg; break;
    case FUTEX_OP_ADD: val = old + oparg; break;
    case FUTEX_OP_OR: val = old | oparg; break;
    case FUTEX_OP_ANDN: val = old & ~oparg; break;
    case FUTEX_OP_XOR: val = old ^ oparg; break;
    default: return -ENOSYS;
    }
    bool hit;
    int32_t so = (int32_t)old, sc = (int32_t)cmparg;
    switch (cmp) {
    case FUTEX_OP_CMP_EQ: hit = so == sc; break;
    case FUTEX_OP_CMP_NE: hit = so != sc; break;
    case FUTEX_OP_CMP_LT: hit = so < sc; break;
    case FUTEX_OP_CMP_LE: hit = so <= sc; break;
    case FUTEX_OP_CMP_GT: hit = so > sc; break;
    case FUTEX_OP_CMP_GE: hit = so >= sc; break;
    default: return -ENOSYS;
    }
    __atomic_store_n(word2, val, __ATOMIC_SEQ_CST);
    int woken = futex_wake_addr(job, sc_proc(c), c->a[0], (uint32_t)c->a[2], FUTEX_BITSET_ANY);
    if (hit)
        woken += futex_wake_addr(job, sc_proc(c), c->a[4], (uint32_t)c->a[3], FUTEX_BITSET_ANY);
    return woken;
}

/* futex(addr, op, val, timeout|val2, addr2, val3) */
int64_t sys_futex(struct job *job, struct sc_call *c)
{
    int op = (int)(c->a[1] & FUTEX_CMD_MASK);
    bool realtime = c->a[1] & FUTEX_CLOCK_REALTIME;
    if (realtime && op != FUTEX_WAIT_BITSET && op != FUTEX_WAIT)
        return -ENOSYS;
    uint32_t *word;
    int rc;
    switch (op) {
    case FUTEX_WAIT:
        return futex_wait(job, c, FUTEX_BITSET_ANY, false, false);
    case FUTEX_WAIT_BITSET:
        return futex_wait(job, c, (uint32_t)c->a[5], true, realtime);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
        if ((rc = futex_word(job, c, c->a[0], GPERM_R, &word)))
            return rc;
        if (op == FUTEX_WAKE_BITSET && !(uint32_t)c->a[5])
            return -EINVAL;
        return futex_wake_addr(job, sc_proc(c), c->a[0], (uint32_t)c->a[2],
                               op == FUTEX_WAKE ? FUTEX_BITSET_ANY : (uint32_t)c->a[5]);
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
        uint32_t *word2;
        if ((rc = futex_word(job, c, c->a[0], GPERM_R, &word)) ||
            (rc = futex_word(job, c, c->a[4], GPERM_R, &word2)))
            return rc;
        if ((int32_t)c->a[2] < 0 || (int32_t)c->a[3] < 0)
            return -EINVAL;
        if (op == FUTEX_CMP_REQUEUE &&
            __atomic_load_n(word, __ATOMIC_SEQ_CST) != (uint32_t)c->a[5])
            return -EAGAIN;
        int woken = futex_wake_addr(job, sc_proc(c), c->a[0], (uint32_t)c->a[2], FUTEX_BITSET_ANY);
        return woken + futex_requeue_addr(job, sc_proc(c), c->a[0], c->a[4], (uint32_t)c->a[3]);
    }
    case FUTEX_WAKE_OP:
        return futex_wake_op(job, c);
    default:
        return -ENOSYS; /* PI futexes and the rest */
    }
}
