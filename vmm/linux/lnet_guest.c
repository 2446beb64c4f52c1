/* The frames the network's thread handles itself before slirp: ARP for the endpoints' virtual addresses, UDP to and from granted endpoints, ICMP port unreachable, refused SYNs counted. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "vmm/linux/lnet_core.h"
#include "vmm/linux/lnet_frame.h"

/* ---- ARP, UDP endpoints: frames the net thread answers itself ---- */

static uint32_t guest_addr(void)
{
    return htonl(NET_ADDR | GUEST_HOST);
}

/* The MAC of a virtual address, as libslirp makes it for those it answers ARP for: 52:55 and
 * the address, so that an address keeps its MAC when the net thread answers for it instead. */
static void virtual_mac(uint32_t addr, uint8_t mac[6])
{
    mac[0] = 0x52;
    mac[1] = 0x55;
    memcpy(mac + 2, &addr, 4);
}

/* The connect endpoint at guest-visible address addr (network byte order), or -1: each has an
 * address of its own. */
static int endpoint_at(const struct lnet_core *c, uint32_t addr)
{
    for (unsigned i = 0; i < c->neps; i++)
        if (c->eps[i].e.mode == EP_CONNECT && c->eps[i].vaddr.s_addr == addr)
            return (int)i;
    return -1;
}

/* slirp answers ARP for the gateway and for the addresses of its forwards: an open TCP connect
 * endpoint's. The net thread answers for a udp endpoint's address, and for a closed endpoint's
 * (its forward removed), so that the guest's next attempt is refused at once (a RST from slirp,
 * a port unreachable from here) rather than ending in an ARP timeout. The request still goes on
 * to slirp, which ignores what it does not know. */
static void arp_from_guest(struct lnet_core *c, const struct lnet_pkt *p)
{
    int i = endpoint_at(c, p->dst_addr);
    if (i < 0 || (!c->eps[i].udp && !c->eps[i].closed))
        return;
    uint8_t mac[6], fr[LNET_ARP_FRAME];
    virtual_mac(p->dst_addr, mac);
    lnet_rxq_push(c, fr, lnet_frame_arp_reply(fr, p, mac));
}

/* A port unreachable for the guest's datagram (orig, parsed as p), from its destination. */
static void icmp_unreach(struct lnet_core *c, const uint8_t *orig, const struct lnet_pkt *p)
{
    uint8_t mac[6], fr[LNET_ICMP_UNREACH_FRAME];
    virtual_mac(p->dst_addr, mac);
    lnet_rxq_push(c, fr, lnet_frame_icmp_port_unreach(fr, mac, orig, p));
}

/* A guest UDP datagram (well-formed, parsed as p): to an open udp endpoint's address and port
 * from the guest's address, it is sent from the flow's socket for its source port (opened on the
 * first); to a closed one it is answered with port unreachable; any other is dropped. */
static void udp_from_guest(struct lnet_core *c, const struct frame *f, const struct lnet_pkt *p)
{
    int i = endpoint_at(c, p->dst_addr);
    struct ep_state *s = i >= 0 ? &c->eps[i] : NULL;
    if (!s || !s->udp || s->e.port != p->dst_port || p->src_addr != guest_addr() ||
        p->src_port == 0) {
        c->udp_dropped++;
        return;
    }
    if (s->closed) {
        s->refused++;
        icmp_unreach(c, f->data, p);
        return;
    }
    uint64_t now = mono_ns();
    int rc = 0;
    struct lnet_udp_flow *fl = lnet_udp_find(&c->udp, (unsigned)i, p->src_port);
    if (!fl)
        fl = lnet_udp_open(&c->udp, (unsigned)i, p->src_port, (const struct sockaddr *)&s->real,
                           s->real_len, now, &rc);
    if (fl)
        rc = lnet_udp_send(fl, f->data + p->payload_off, p->payload_len, now);
    if (rc == 0) {
        s->dgrams_sent++;
        s->bytes_sent += p->payload_len;
        return;
    }
    s->dgrams_dropped++;
    if (rc == -ECONNREFUSED)
        icmp_unreach(c, f->data, p);
    else
        log_debug("lnet: endpoint %d: datagram from guest port %u: %s", i, p->src_port,
                  strerror(-rc));
}

/* The endpoint refused a datagram of flow fl (an ICMP port unreachable reached its socket):
 * the guest hears it too, quoting a datagram of the flow's. */
static void udp_refused(struct lnet_core *c, const struct lnet_udp_flow *fl)
{
    const struct ep_state *s = &c->eps[fl->ep];
    uint8_t orig[LNET_ETH_HDR + LNET_IPV4_HDR + LNET_UDP_HDR], mac[6];
    virtual_mac(s->vaddr.s_addr, mac);
    uint32_t n = lnet_frame_udp(orig, mac, guest_mac, guest_addr(), fl->guest_port,
                                s->vaddr.s_addr, s->e.port, orig, 0);
    struct lnet_pkt p;
    lnet_frame_parse(orig, n, &p);
    if (p.kind == LNET_PKT_UDP)
        icmp_unreach(c, orig, &p);
}

/* What came back on flow fl's socket: each datagram a frame from the endpoint's address and
 * port to the guest's port, into the rx queue (dropped and counted when it is full, or when the
 * datagram is larger than one frame holds). */
void lnet_udp_to_guest(struct lnet_core *c, struct lnet_udp_flow *fl)
{
    struct ep_state *s = &c->eps[fl->ep];
    uint8_t buf[LNET_UDP_MAX_PAYLOAD], fr[VNET_FRAME_MAX], mac[6];
    virtual_mac(s->vaddr.s_addr, mac);
    for (unsigned k = 0; k < UDP_RX_BATCH; k++) {
        ssize_t r = lnet_udp_recv(fl, buf, sizeof buf, mono_ns());
        if (r == -EAGAIN)
            return;
        if (r < 0) { /* an ICMP error for an earlier datagram, reported once */
            if (r == -ECONNREFUSED)
                udp_refused(c, fl);
            continue;
        }
        if ((size_t)r > sizeof buf) {
            s->dgrams_dropped++; /* no fragments towards the guest */
            continue;
        }
        uint32_t n = lnet_frame_udp(fr, guest_mac, mac, s->vaddr.s_addr, s->e.port, guest_addr(),
                                    fl->guest_port, buf, (uint32_t)r);
        if (!lnet_rxq_push(c, fr, n)) {
            s->dgrams_dropped++;
            return; /* the rest waits in the socket until the queue drains */
        }
        s->dgrams_received++;
        s->bytes_received += (uint64_t)r;
    }
}

/* A TCP SYN slirp will see: count what restricted mode will refuse. */
static void count_syn(struct lnet_core *c, const struct lnet_pkt *p)
{
    int i = endpoint_at(c, p->dst_addr);
    struct ep_state *s = i >= 0 ? &c->eps[i] : NULL;
    if (!s || s->udp || s->e.port != p->dst_port)
        c->refused_other++;
    else if (s->closed)
        s->refused++;
}

/* Look at a guest frame before slirp does: true when slirp should have it. Malformed IPv4 and
 * every UDP datagram stop here; ARP requests and TCP SYNs are answered or counted, then go on. */
bool lnet_tx_filter(struct lnet_core *c, const struct frame *f)
{
    struct lnet_pkt p;
    lnet_frame_parse(f->data, f->len, &p);
    switch (p.kind) {
    case LNET_PKT_BAD:
        c->malformed++;
        return false;
    case LNET_PKT_UDP:
        udp_from_guest(c, f, &p);
        return false;
    case LNET_PKT_ARP_REQ:
        arp_from_guest(c, &p);
        return true;
    case LNET_PKT_TCP_SYN:
        count_syn(c, &p);
        return true;
    default:
        return true;
    }
}
