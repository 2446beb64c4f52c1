/* Guest Ethernet frames classified for the network backend (ARP requests, IPv4 TCP SYNs, UDP datagrams, what is malformed), every length checked before it is used; and the UDP, ARP and ICMP frames the backend makes for the guest. */
#include "vmm/linux/lnet_frame.h"
#include <string.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_MIN_HDR 20
#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define IP_TTL 64

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

uint32_t lnet_csum_add(const uint8_t *p, uint32_t n, uint32_t sum)
{
    /* at most 65535 bytes: 32767 words of 16 bits and a carry fold per word keep sum < 2^17 */
    for (uint32_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

static uint16_t csum_final(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The pseudo-header's sum: addresses as they are in the packet, protocol, layer-4 length. */
static uint32_t pseudo_sum(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint32_t l4len)
{
    uint8_t ph[12];
    memcpy(ph, src, 4);
    memcpy(ph + 4, dst, 4);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)l4len);
    return lnet_csum_add(ph, sizeof ph, 0);
}

static void parse_arp(const uint8_t *frame, uint32_t len, struct lnet_pkt *out)
{
    if (len < LNET_ARP_FRAME)
        return;
    const uint8_t *a = frame + LNET_ETH_HDR;
    /* Ethernet (1), IPv4, 6- and 4-byte addresses, a request (1) */
    if (be16(a) != 1 || be16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 || be16(a + 6) != 1)
        return;
    memcpy(out->src_mac, a + 8, 6);
    memcpy(&out->src_addr, a + 14, 4);
    memcpy(&out->dst_addr, a + 24, 4);
    out->kind = LNET_PKT_ARP_REQ;
}

void lnet_frame_parse(const uint8_t *frame, uint32_t len, struct lnet_pkt *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = LNET_PKT_OTHER;
    if (len < LNET_ETH_HDR)
        return;
    uint16_t type = be16(frame + 12);
    if (type == ETHERTYPE_ARP) {
        parse_arp(frame, len, out);
        return;
    }
    if (type != ETHERTYPE_IPV4)
        return;
    memcpy(out->src_mac, frame + 6, 6);
    out->kind = LNET_PKT_BAD; /* from here on, what is not understood is refused */
    uint32_t avail = len - LNET_ETH_HDR;
    if (avail < LNET_IPV4_HDR)
        return;
    const uint8_t *ip = frame + LNET_ETH_HDR;
    uint8_t vihl = ip[0];
    uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4u;
    uint32_t total = be16(ip + 2);
    if (vihl >> 4 != 4 || ihl < LNET_IPV4_HDR || total < ihl || total > avail)
        return;
    if (csum_final(lnet_csum_add(ip, ihl, 0)) != 0)
        return;
    uint16_t frag = be16(ip + 6);
    if (frag & 0x3fff) /* more fragments, or an offset: not a whole datagram */
        return;
    uint8_t proto = ip[9];
    memcpy(&out->src_addr, ip + 12, 4);
    memcpy(&out->dst_addr, ip + 16, 4);
    out->ip_off = LNET_ETH_HDR;
    out->ip_hdr_len = ihl;
    const uint8_t *l4 = ip + ihl;
    uint32_t l4len = total - ihl;
    if (proto == PROTO_TCP) {
        if (l4len < TCP_MIN_HDR)
            return;
        out->src_port = be16(l4);
        out->dst_port = be16(l4 + 2);
        uint8_t flags = l4[13];
        out->kind = (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN ? LNET_PKT_TCP_SYN : LNET_PKT_TCP;
    } else if (proto == PROTO_UDP) {
        if (l4len < LNET_UDP_HDR)
            return;
        uint32_t ulen = be16(l4 + 4);
        if (ulen != l4len)
            return;
        uint16_t sum = be16(l4 + 6);
        if (sum != 0 && csum_final(lnet_csum_add(l4, l4len, pseudo_sum(ip + 12, ip + 16,
                                                                       PROTO_UDP, l4len))) != 0)
            return;
        out->src_port = be16(l4);
        out->dst_port = be16(l4 + 2);
        out->payload_off = LNET_ETH_HDR + ihl + LNET_UDP_HDR;
        out->payload_len = ulen - LNET_UDP_HDR;
        out->kind = LNET_PKT_UDP;
    } else {
        out->kind = LNET_PKT_OTHER;
    }
}

/* An Ethernet header and an IPv4 header without options; returns the IPv4 header's address. */
static uint8_t *ip_header(uint8_t *out, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                          uint32_t src, uint32_t dst, uint8_t proto, uint32_t l4len)
{
    memcpy(out, dst_mac, 6);
    memcpy(out + 6, src_mac, 6);
    put16(out + 12, ETHERTYPE_IPV4);
    uint8_t *ip = out + LNET_ETH_HDR;
    memset(ip, 0, LNET_IPV4_HDR);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(LNET_IPV4_HDR + l4len));
    put16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = IP_TTL;
    ip[9] = proto;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    put16(ip + 10, csum_final(lnet_csum_add(ip, LNET_IPV4_HDR, 0)));
    return ip;
}

uint32_t lnet_frame_udp(uint8_t *out, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                        uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                        const uint8_t *payload, uint32_t len)
{
    if (len > LNET_UDP_MAX_PAYLOAD)
        return 0;
    uint32_t l4len = LNET_UDP_HDR + len;
    uint8_t *ip = ip_header(out, dst_mac, src_mac, src, dst, PROTO_UDP, l4len);
    uint8_t *u = ip + LNET_IPV4_HDR;
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)l4len);
    put16(u + 6, 0);
    memcpy(u + LNET_UDP_HDR, payload, len);
    uint16_t sum = csum_final(lnet_csum_add(u, l4len, pseudo_sum(ip + 12, ip + 16, PROTO_UDP, l4len)));
    put16(u + 6, sum ? sum : 0xffff); /* 0 would mean "no checksum" */
    return LNET_ETH_HDR + LNET_IPV4_HDR + l4len;
}

uint32_t lnet_frame_arp_reply(uint8_t *out, const struct lnet_pkt *req, const uint8_t target_mac[6])
{
    memcpy(out, req->src_mac, 6);
    memcpy(out + 6, target_mac, 6);
    put16(out + 12, ETHERTYPE_ARP);
    uint8_t *a = out + LNET_ETH_HDR;
    put16(a, 1);
    put16(a + 2, ETHERTYPE_IPV4);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, 2); /* a reply */
    memcpy(a + 8, target_mac, 6);
    memcpy(a + 14, &req->dst_addr, 4);
    memcpy(a + 18, req->src_mac, 6);
    memcpy(a + 24, &req->src_addr, 4);
    return LNET_ARP_FRAME;
}

uint32_t lnet_frame_icmp_port_unreach(uint8_t *out, const uint8_t src_mac[6], const uint8_t *orig,
                                      const struct lnet_pkt *p)
{
    uint32_t quote = p->ip_hdr_len + 8; /* 28..68: a UDP datagram has its 8-byte header */
    uint32_t l4len = 8 + quote;
    uint8_t *ip = ip_header(out, p->src_mac, src_mac, p->dst_addr, p->src_addr, PROTO_ICMP, l4len);
    uint8_t *icmp = ip + LNET_IPV4_HDR;
    memset(icmp, 0, 8);
    icmp[0] = 3; /* destination unreachable */
    icmp[1] = 3; /* port unreachable */
    memcpy(icmp + 8, orig + p->ip_off, quote);
    put16(icmp + 2, csum_final(lnet_csum_add(icmp, l4len, 0)));
    return LNET_ETH_HDR + LNET_IPV4_HDR + l4len;
}
