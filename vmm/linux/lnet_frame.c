/* Guest Ethernet frames classified for the network backend: IPv4 TCP SYNs and UDP datagrams, every length checked before it is used. */
#include "vmm/linux/lnet_frame.h"
#include <string.h>

#define ETH_HDR 14
#define ETHERTYPE_IPV4 0x0800
#define IPV4_MIN_HDR 20
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_MIN_HDR 20
#define UDP_HDR 8
#define TCP_SYN 0x02
#define TCP_ACK 0x10

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

void lnet_frame_parse(const uint8_t *frame, uint32_t len, struct lnet_pkt *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = LNET_PKT_OTHER;
    if (len < ETH_HDR + IPV4_MIN_HDR || be16(frame + 12) != ETHERTYPE_IPV4)
        return;
    const uint8_t *ip = frame + ETH_HDR;
    uint32_t avail = len - ETH_HDR;
    uint8_t vihl = ip[0];
    uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4u;
    uint32_t total = be16(ip + 2);
    if (vihl >> 4 != 4 || ihl < IPV4_MIN_HDR || total < ihl || total > avail)
        return;
    uint16_t frag = be16(ip + 6);
    if (frag & 0x3fff) /* more fragments, or an offset: not a whole datagram */
        return;
    uint8_t proto = ip[9];
    memcpy(&out->src_addr, ip + 12, 4);
    memcpy(&out->dst_addr, ip + 16, 4);
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
        if (l4len < UDP_HDR)
            return;
        uint32_t ulen = be16(l4 + 4);
        if (ulen < UDP_HDR || ulen > l4len)
            return;
        out->src_port = be16(l4);
        out->dst_port = be16(l4 + 2);
        out->payload_off = ETH_HDR + ihl + UDP_HDR;
        out->payload_len = ulen - UDP_HDR;
        out->kind = LNET_PKT_UDP;
    }
}
