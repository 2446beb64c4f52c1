/* The Linux tier's authority: the capability table, grants and endpoints opened, the audit log and the control socket, and the shared file system and network devices that serve them. */
#include "vmm/run/lx_grants.h"
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "init/abi.h"
#include "lib/log.h"
#include "vmm/caps/audit.h"
#include "vmm/caps/cap.h"
#include "vmm/caps/fd.h"
#include "vmm/caps/grants.h"
#include "vmm/run/launch.h"

int lx_grants_open(struct lx_grants *g, const struct policy *p, uint64_t t0)
{
    memset(g, 0, sizeof *g);
    control_init(&g->ctl);
    struct job *job = g->job = calloc(1, sizeof *g->job);
    if (!job || job_init(job, p) < 0 || fd_table_init(job) < 0) {
        log_err("cannot set up the job's capabilities: out of memory");
        return EXIT_ISOVM_ERROR;
    }
    job->start_ns = t0;
    if (p->job_id[0])
        snprintf(job->job_id, sizeof job->job_id, "%s", p->job_id);
    else
        snprintf(job->job_id, sizeof job->job_id, "isovm-%d", (int)getpid());
    if (audit_open(job) < 0 || (p->control_path[0] && control_listen(&g->ctl, p->control_path) < 0) ||
        grants_open(job) < 0)
        return EXIT_ISOVM_ERROR;
    for (unsigned i = 0; i < job->ngrant_roots; i++)
        if (job->grant_roots[i].is_file) {
            log_err("policy grants[%u]: %s is a file: the Linux tier shares directories only "
                    "(grant the directory it is in)", i, p->grants[i].host);
            return EXIT_ISOVM_ERROR;
        }
    return 0;
}

int lx_grants_devices(struct lx_grants *g, struct ldev *d, struct lvm *m)
{
    const struct policy *p = &g->job->policy;
    if (p->ngrants) {
        if (share_init(&g->share, g->job, &m->ram, ISOVM_9P_TAG, &d->lock, &d->io_read, &d->io_write) < 0)
            return -1;
        g->share_made = true;
        if (ldev_add(d, &g->share.dev.mmio, "the grants' file system") < 0)
            return -1;
    }
    if (lnet_init(&g->net, &m->ram, p, g->job->start_ns) < 0)
        return -1;
    g->net_made = true;
    if (g->net.enabled && ldev_add(d, lnet_mmio(&g->net), "the network") < 0)
        return -1;
    return 0;
}

void lx_grants_devices_fini(struct lx_grants *g)
{
    if (g->share_made)
        share_fini(&g->share);
    if (g->net_made)
        lnet_fini(&g->net);
    g->share_made = g->net_made = false;
}

int lx_grants_start(struct lx_grants *g, struct ldev *d)
{
    g->share.kick_signal = SIGUSR1; /* vcpu_signals_init's handler: no SA_RESTART */
    if (g->share_made && share_start(&g->share) < 0)
        return -1;
    if (g->net_made && g->net.enabled && lnet_start(&g->net, &d->lock, ldev_rearm, d) < 0)
        return -1;
    g->started = true;
    return 0;
}

void lx_grants_stop(struct lx_grants *g)
{
    if (g->share_made)
        share_stop(&g->share);
    if (g->net_made)
        lnet_stop(&g->net);
}

bool lx_grants_abandoned(const struct lx_grants *g)
{
    return g->share_made && g->share.abandoned;
}

void lx_grants_poll_setup(const struct lx_grants *g, struct pollfd *pfd, uint64_t *deadline)
{
    control_poll_setup(&g->ctl, pfd, deadline);
}

/* A revoked (or expired) endpoint capability closes the network's connections to it now. */
static void lx_endpoints_sync(struct lx_grants *g)
{
    if (!g->net_made || !g->net.enabled || !g->started)
        return;
    struct job *job = g->job;
    bool tell[POLICY_MAX_ENDPOINTS] = { false };
    pthread_mutex_lock(&job->lock);
    for (uint32_t s = 0; s < job->caps->max; s++) {
        const struct cap *c = &job->caps->caps[s];
        if (c->id && c->kind == CAP_ENDPOINT && c->revoked && c->net.endpoint >= 0 &&
            c->net.endpoint < POLICY_MAX_ENDPOINTS && !g->ep_told[c->net.endpoint])
            tell[c->net.endpoint] = g->ep_told[c->net.endpoint] = true;
    }
    pthread_mutex_unlock(&job->lock);
    for (unsigned i = 0; i < POLICY_MAX_ENDPOINTS; i++)
        if (tell[i])
            lnet_revoke_endpoint(&g->net, i);
}

void lx_grants_step(struct lx_grants *g, short revents, uint64_t now)
{
    control_step(&g->ctl, g->job, revents, now);
    lx_endpoints_sync(g);
}

void lx_grants_net_config(const struct lx_grants *g, struct lnet_guest_config *out)
{
    memset(out, 0, sizeof *out);
    if (g->net_made && g->net.enabled)
        lnet_guest_config(&g->net, out);
}

int lx_grants_job_spec(struct lx_grants *g, struct job_spec *spec)
{
    const struct policy *p = &g->job->policy;
    if (p->ngrants) {
        spec->shares = calloc(p->ngrants, sizeof *spec->shares);
        if (!spec->shares)
            return -ENOMEM;
        for (unsigned i = 0; i < p->ngrants; i++) /* rw: any right that changes the tree */
            spec->shares[i] = (struct job_share){ p->grants[i].guest,
                (p->grants[i].rights & (CAP_R_WRITE | CAP_R_CREATE | CAP_R_DELETE | CAP_R_TRUNCATE)) != 0 };
        spec->nshares = p->ngrants;
    }
    struct lnet_guest_config nc;
    lx_grants_net_config(g, &nc);
    if (!g->net_made || !g->net.enabled)
        return 0;
    spec->has_net = true;
    spec->net_addr = ntohl(nc.addr.s_addr);
    spec->net_prefix = nc.prefix_len;
    if (nc.nendpoints) {
        spec->hosts = calloc(nc.nendpoints, sizeof *spec->hosts);
        if (!spec->hosts)
            return -ENOMEM;
        for (unsigned i = 0; i < nc.nendpoints; i++) {
            snprintf(g->hostnames[i], sizeof g->hostnames[i], "%s", nc.endpoints[i].hostname);
            spec->hosts[i] = (struct job_host){ g->hostnames[i], ntohl(nc.endpoints[i].addr.s_addr) };
        }
        spec->nhosts = nc.nendpoints;
    }
    if (nc.dns_endpoint >= 0) {
        spec->has_nameserver = true;
        spec->nameserver = ntohl(nc.endpoints[nc.dns_endpoint].addr.s_addr);
    }
    return 0;
}

void lx_grants_usage(const struct lx_grants *g, uint64_t *read_bytes, uint64_t *read_ops,
                     uint64_t *write_bytes, uint64_t *write_ops, uint64_t *net_rx,
                     uint64_t *net_tx)
{
    if (g->share_made) {
        const struct p9_stats *s = &g->share.srv.stats;
        *read_bytes += s->read_bytes;
        *read_ops += s->reads;
        *write_bytes += s->write_bytes;
        *write_ops += s->writes;
    }
    if (g->net_made && g->net.enabled) {
        *net_rx += g->net.dev.stats.rx_bytes;
        *net_tx += g->net.dev.stats.tx_bytes;
    }
}

void lx_grants_report(struct lx_grants *g, json_t *r)
{
    struct job *job = g->job;
    if (g->share_made) {
        const struct p9_stats *s = &g->share.srv.stats;
        json_object_set_new(r, "shared_fs", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "requests", (json_int_t)s->requests, "errors", (json_int_t)s->errors,
            "malformed", (json_int_t)s->malformed, "reads", (json_int_t)s->reads,
            "writes", (json_int_t)s->writes, "metadata", (json_int_t)s->metadata,
            "read_bytes", (json_int_t)s->read_bytes, "write_bytes", (json_int_t)s->write_bytes,
            "read_throttled_ns", (json_int_t)g->share.read_throttled_ns,
            "write_throttled_ns", (json_int_t)g->share.write_throttled_ns));
    }
    json_t *net = g->net_made ? lnet_report(&g->net) : NULL;
    if (net)
        json_object_set_new(r, "network", net);
    audit_end(job); /* the log's last lines: its counts are final */
    json_t *den = json_object();
    uint64_t total = 0;
    for (unsigned k = 0; k < DENY_KINDS; k++) {
        json_object_set_new(den, deny_kind_name(k), json_integer((json_int_t)job->stats.denials[k]));
        total += job->stats.denials[k];
    }
    json_object_set_new(r, "denials", den);
    json_object_set_new(r, "denials_total", json_integer((json_int_t)total));
    json_object_set_new(r, "audit", json_pack("{s:I, s:I, s:I, s:I, s:I}",
        "lines_written", (json_int_t)job->stats.audit_lines_written,
        "bytes_written", (json_int_t)job->stats.audit_bytes_written,
        "lines_dropped", (json_int_t)job->stats.audit_lines_dropped,
        "bytes_dropped", (json_int_t)job->stats.audit_bytes_dropped,
        "denials_suppressed", (json_int_t)job->stats.audit_denials_suppressed));
}

void lx_grants_close(struct lx_grants *g)
{
    lx_grants_devices_fini(g);
    control_close(&g->ctl);
    if (g->job) {
        audit_close(g->job);
        grants_close(g->job);
        fd_table_fini(g->job);
        job_fini(g->job);
        free(g->job);
        g->job = NULL;
    }
}
