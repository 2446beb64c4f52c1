/* The network's facts for others: the guest's configuration for its init, the report's "network" object. */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include "vmm/linux/lnet_core.h"

void lnet_guest_config(const struct lnet *n, struct lnet_guest_config *out)
{
    memset(out, 0, sizeof(*out));
    out->dns_endpoint = -1;
    const struct lnet_core *c = n->core;
    if (!n->enabled || !c)
        return;
    memcpy(out->mac, guest_mac, 6);
    out->addr.s_addr = htonl(NET_ADDR | GUEST_HOST);
    out->gateway.s_addr = htonl(NET_ADDR | GW_HOST);
    out->prefix_len = LNET_PREFIX_LEN;
    for (unsigned i = 0; i < c->neps; i++) {
        const struct ep_state *s = &c->eps[i];
        if (s->e.mode != EP_CONNECT)
            continue;
        struct lnet_guest_endpoint *g = &out->endpoints[out->nendpoints++];
        g->index = i;
        g->udp = s->e.proto == EP_UDP;
        g->addr = s->vaddr;
        g->port = s->e.port;
        g->dns = g->udp && g->port == DNS_PORT;
        if (g->dns && out->dns_endpoint < 0)
            out->dns_endpoint = (int)(out->nendpoints - 1);
        snprintf(g->hostname, sizeof g->hostname, "ep%u.isovm", i);
    }
}

json_t *lnet_report(const struct lnet *n)
{
    const struct lnet_core *c = n->core;
    if (!n->enabled || !c)
        return NULL;
    const struct vnet *v = &n->dev;
    json_t *eps = json_array();
    /* the per-endpoint counters are the net thread's; read while it may run, they are at worst
     * a round old (the report is written after lnet_stop) */
    for (unsigned i = 0; i < c->neps; i++) {
        const struct ep_state *s = &c->eps[i];
        char text[POLICY_ENDPOINT_TEXT];
        endpoint_format(&s->e, text, sizeof text);
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:b}", "endpoint", text,
                              "connections", (json_int_t)s->connections,
                              "refused", (json_int_t)s->refused,
                              "failed", (json_int_t)s->failed, "closed", s->closed);
        if (o && s->udp) {
            json_t *u = json_pack("{s:I, s:I, s:I, s:I, s:I}",
                                  "datagrams_sent", (json_int_t)s->dgrams_sent,
                                  "bytes_sent", (json_int_t)s->bytes_sent,
                                  "datagrams_received", (json_int_t)s->dgrams_received,
                                  "bytes_received", (json_int_t)s->bytes_received,
                                  "datagrams_dropped", (json_int_t)s->dgrams_dropped);
            json_object_update(o, u);
            json_decref(u);
        }
        json_array_append_new(eps, o);
    }
    pthread_mutex_t *lock = (pthread_mutex_t *)&c->lock;
    pthread_mutex_lock(lock);
    uint64_t queue_drops = c->rx_queue_drops;
    pthread_mutex_unlock(lock);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                     "rx_packets", (json_int_t)v->stats.rx_packets,
                     "rx_bytes", (json_int_t)v->stats.rx_bytes,
                     "tx_packets", (json_int_t)v->stats.tx_packets,
                     "tx_bytes", (json_int_t)v->stats.tx_bytes,
                     "rx_dropped", (json_int_t)(v->stats.rx_dropped + queue_drops),
                     "tx_dropped", (json_int_t)v->stats.tx_dropped,
                     "rx_throttled_ns", (json_int_t)v->rx.throttled_ns,
                     "tx_throttled_ns", (json_int_t)v->tx.throttled_ns,
                     "refused", (json_int_t)c->refused_other,
                     "datagrams_dropped", (json_int_t)c->udp_dropped,
                     "connections_over_limit", (json_int_t)c->fwd_limit_refused,
                     "malformed", (json_int_t)c->malformed,
                     "udp_flows_evicted", (json_int_t)c->udp.evicted,
                     "endpoints", eps);
}
