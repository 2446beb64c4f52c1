/* The Linux tier's vCPU loop: port I/O and MMIO exits to the devices, the rest counted or fatal. */
#include "vmm/linux/lvcpu.h"
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include "lib/clock.h"
#include "lib/log.h"

static void lvcpu_fail(struct lvcpu_shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lvcpu_fail(struct lvcpu_shared *sh, const char *fmt, ...)
{
    bool was = atomic_exchange(&sh->failed, true);
    if (!was) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sh->fail_msg, sizeof sh->fail_msg, fmt, ap);
        va_end(ap);
    }
    if (sh->on_end)
        sh->on_end(sh->end_ctx);
}

static void lvcpu_io(struct lvcpu_shared *sh, struct kvm_run *run)
{
    uint8_t *base = (uint8_t *)run + run->io.data_offset;
    bool write = run->io.direction == KVM_EXIT_IO_OUT;
    for (uint32_t i = 0; i < run->io.count; i++) {
        uint8_t *data = base + (size_t)i * run->io.size;
        if (!ldev_pio(sh->d, run->io.port, write, data, run->io.size)) {
            atomic_fetch_add(&sh->exits[LX_UNCLAIMED], 1);
            if (!write)
                memset(data, 0xff, run->io.size); /* nothing there: a floating bus */
        }
    }
}

static void lvcpu_hold(struct lvcpu_shared *sh)
{
    pthread_mutex_lock(&sh->hold_lock);
    while (atomic_load(&sh->held) && !atomic_load(&sh->stop) && !atomic_load(&sh->pause))
        pthread_cond_wait(&sh->wake, &sh->hold_lock);
    pthread_mutex_unlock(&sh->hold_lock);
}

/* Serve one exit of KVM_RUN; false when the vCPU must leave its loop. */
static bool lvcpu_exit(struct lvcpu_shared *sh, unsigned index, struct kvm_run *run)
{
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        atomic_fetch_add(&sh->exits[LX_IO], 1);
        lvcpu_io(sh, run);
        return true;
    case KVM_EXIT_MMIO:
        atomic_fetch_add(&sh->exits[LX_MMIO], 1);
        if (!ldev_mmio(sh->d, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data, run->mmio.len)) {
            atomic_fetch_add(&sh->exits[LX_UNCLAIMED], 1);
            if (!run->mmio.is_write)
                memset(run->mmio.data, 0xff, sizeof run->mmio.data);
        }
        return true;
    case KVM_EXIT_INTR:
        atomic_fetch_add(&sh->exits[LX_INTR], 1);
        return true;
    case KVM_EXIT_SHUTDOWN:      /* a triple fault */
    case KVM_EXIT_SYSTEM_EVENT:  /* a reset or power-off KVM saw */
        /* the supervisor reports either as a guest reset (no end on the status port) */
        atomic_fetch_add(&sh->exits[run->exit_reason == KVM_EXIT_SHUTDOWN ? LX_SHUTDOWN : LX_OTHER], 1);
        atomic_store(&sh->stop, true);
        if (sh->on_end)
            sh->on_end(sh->end_ctx);
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        lvcpu_fail(sh, "vCPU %u: KVM could not enter the guest (reason %#llx)", index,
                   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        atomic_store(&sh->stop, true);
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        lvcpu_fail(sh, "vCPU %u: KVM internal error (suberror %u)", index, run->internal.suberror);
        atomic_store(&sh->stop, true);
        return false;
    default:
        atomic_fetch_add(&sh->exits[LX_OTHER], 1);
        lvcpu_fail(sh, "vCPU %u: unexpected VM exit %u", index, run->exit_reason);
        atomic_store(&sh->stop, true);
        return false;
    }
}

/* Park for a snapshot: first finish the I/O or MMIO the last exit asked for (KVM completes it
 * at the next KVM_RUN, which immediate_exit makes return before any guest instruction), so that
 * the registers KVM gives are the guest's whole state; then wait until resumed or stopped. */
static void lvcpu_park(struct lvcpu *v, struct lvm_vcpu *vc)
{
    struct lvcpu_shared *sh = v->sh;
    bool ok = true;
    for (unsigned i = 0; ok && i < 64; i++) { /* a string I/O may complete in several exits */
        vc->run->immediate_exit = 1;
        if (ioctl(vc->fd, KVM_RUN, 0) < 0) {
            if (errno != EINTR && errno != EAGAIN) {
                lvcpu_fail(sh, "KVM_RUN on vCPU %u: %s", v->index, strerror(errno));
                ok = false;
            }
            break;
        }
        ok = lvcpu_exit(sh, v->index, vc->run);
    }
    vc->run->immediate_exit = 0;
    pthread_mutex_lock(&sh->hold_lock);
    sh->parked++;
    pthread_cond_broadcast(&sh->parked_cond);
    while (atomic_load(&sh->pause) && !atomic_load(&sh->stop))
        pthread_cond_wait(&sh->wake, &sh->hold_lock);
    sh->parked--;
    pthread_mutex_unlock(&sh->hold_lock);
}

static void *lvcpu_thread(void *arg)
{
    struct lvcpu *v = arg;
    struct lvcpu_shared *sh = v->sh;
    struct lvm_vcpu *vc = &sh->m->vcpu[v->index];
    struct kvm_run *run = vc->run;
    if (pthread_getcpuclockid(pthread_self(), &v->cpu_clock) == 0)
        atomic_store(&v->clock_ready, true);
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
    if (v->index == 0)
        atomic_store(&sh->first_entry_ns, mono_ns());
    /* immediate_exit is cleared only after KVM_RUN returned for it, before the flags are looked
     * at again: a kick (flag, then immediate_exit, then the signal) is never lost, even when it
     * comes between the check and KVM_RUN */
    while (!atomic_load(&sh->stop)) {
        if (atomic_load(&sh->pause)) {
            lvcpu_park(v, vc);
            continue;
        }
        if (atomic_load(&sh->held)) {
            lvcpu_hold(sh);
            continue;
        }
        if (ioctl(vc->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                run->immediate_exit = 0;
                atomic_fetch_add(&sh->exits[LX_INTR], 1);
                continue;
            }
            lvcpu_fail(sh, "KVM_RUN on vCPU %u: %s", v->index, strerror(errno));
            break;
        }
        if (!lvcpu_exit(sh, v->index, run))
            break;
    }
    uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    atomic_store(&v->cpu_final, cpu ? cpu : 1);
    return NULL;
}

int lvcpu_shared_init(struct lvcpu_shared *sh)
{
    pthread_condattr_t a;
    int rc = pthread_mutex_init(&sh->hold_lock, NULL);
    if (!rc)
        rc = pthread_cond_init(&sh->wake, NULL);
    if (!rc && !(rc = pthread_condattr_init(&a))) {
        rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC); /* lvcpu_pause's deadline */
        if (!rc)
            rc = pthread_cond_init(&sh->parked_cond, &a);
        pthread_condattr_destroy(&a);
    }
    return -rc;
}

int lvcpu_start(struct lvcpu *v, struct lvcpu_shared *sh, unsigned index)
{
    v->sh = sh;
    v->index = index;
    atomic_store(&v->clock_ready, false);
    atomic_store(&v->cpu_final, 0);
    int rc = pthread_create(&v->thread, NULL, lvcpu_thread, v);
    if (rc) {
        log_err("cannot start vCPU %u's thread: %s", index, strerror(rc));
        return -rc;
    }
    v->started = true;
    return 0;
}

void lvcpu_kick(struct lvcpu *v)
{
    if (!v->started)
        return;
    v->sh->m->vcpu[v->index].run->immediate_exit = 1;
    pthread_kill(v->thread, SIGUSR1);
    pthread_mutex_lock(&v->sh->hold_lock);
    pthread_cond_broadcast(&v->sh->wake);
    pthread_mutex_unlock(&v->sh->hold_lock);
}

uint64_t lvcpu_cpu_ns(struct lvcpu *v)
{
    uint64_t final = atomic_load(&v->cpu_final);
    if (final)
        return final;
    return v->started && atomic_load(&v->clock_ready) ? clock_ns(v->cpu_clock) : 0;
}

void lvcpu_join(struct lvcpu *v)
{
    if (v->started) {
        pthread_join(v->thread, NULL);
        v->started = false;
    }
}

int lvcpu_pause(struct lvcpu_shared *sh, struct lvcpu *v, unsigned n, int timeout_ms)
{
    atomic_store(&sh->pause, true);
    for (unsigned i = 0; i < n; i++)
        lvcpu_kick(&v[i]);
    struct timespec until = ns_ts(mono_ns() + (uint64_t)timeout_ms * 1000000u);
    int rc = 0;
    pthread_mutex_lock(&sh->hold_lock);
    while (sh->parked < n && !atomic_load(&sh->stop) && rc == 0)
        rc = pthread_cond_timedwait(&sh->parked_cond, &sh->hold_lock, &until);
    bool all = sh->parked == n;
    pthread_mutex_unlock(&sh->hold_lock);
    if (all)
        return 0;
    return atomic_load(&sh->stop) ? -ECANCELED : -ETIMEDOUT;
}

void lvcpu_resume(struct lvcpu_shared *sh)
{
    pthread_mutex_lock(&sh->hold_lock);
    atomic_store(&sh->pause, false);
    pthread_cond_broadcast(&sh->wake);
    pthread_mutex_unlock(&sh->hold_lock);
}
