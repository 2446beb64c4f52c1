/* libFuzzer harness for the network backend's frame parser (lnet_frame_parse) and the frames it makes from what it parsed: UDP replies, ICMP port unreachable, ARP replies, each parsed back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/linux/lnet_frame.h"

/* Input: one Ethernet frame as the guest would transmit it (at most 1514 bytes are used, as
 * virtio-net's tx path allows). Checked: a UDP datagram's payload and headers lie inside the
 * frame; a reply made from it parses back as the same UDP datagram reversed; a port unreachable
 * made from it is a well-formed IPv4 frame of its announced length; an ARP reply made from a
 * request is not taken for a request. Then the input's bytes as a payload: lnet_frame_udp's
 * frame parses back to exactly them. */
#define FRAME_MAX 1514

static const uint8_t mac_a[6] = { 0x02, 0x15, 0x15, 0, 0, 1 }, mac_b[6] = { 0x52, 0x55, 10, 0, 2, 100 };

static void check_udp(const uint8_t *payload, uint32_t len, uint32_t src, uint16_t sport,
                      uint32_t dst, uint16_t dport)
{
    static uint8_t out[FRAME_MAX];
    uint32_t n = lnet_frame_udp(out, mac_a, mac_b, src, sport, dst, dport, payload, len);
    if (len > LNET_UDP_MAX_PAYLOAD) {
        if (n)
            abort();
        return;
    }
    if (n != LNET_ETH_HDR + LNET_IPV4_HDR + LNET_UDP_HDR + len || n > FRAME_MAX)
        abort();
    struct lnet_pkt p;
    lnet_frame_parse(out, n, &p);
    if (p.kind != LNET_PKT_UDP || p.src_addr != src || p.dst_addr != dst || p.src_port != sport ||
        p.dst_port != dport || p.payload_len != len || p.payload_off + len != n ||
        memcmp(out + p.payload_off, payload, len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t len = size > FRAME_MAX ? FRAME_MAX : (uint32_t)size;
    uint8_t *frame = malloc(len ? len : 1); /* exactly len: ASan sees a read past the frame */
    if (!frame)
        return 0;
    memcpy(frame, data, len);
    struct lnet_pkt p;
    lnet_frame_parse(frame, len, &p);
    switch (p.kind) {
    case LNET_PKT_UDP: {
        if (p.payload_off < LNET_ETH_HDR + LNET_IPV4_HDR + LNET_UDP_HDR ||
            (uint64_t)p.payload_off + p.payload_len > len ||
            p.ip_off != LNET_ETH_HDR || p.ip_hdr_len < 20 || p.ip_hdr_len > 60 ||
            p.payload_off != p.ip_off + p.ip_hdr_len + LNET_UDP_HDR)
            abort();
        check_udp(frame + p.payload_off, p.payload_len, p.dst_addr, p.dst_port, p.src_addr,
                  p.src_port);
        uint8_t icmp[LNET_ICMP_UNREACH_FRAME];
        uint32_t n = lnet_frame_icmp_port_unreach(icmp, mac_b, frame, &p);
        struct lnet_pkt q;
        lnet_frame_parse(icmp, n, &q);
        if (n > sizeof icmp || q.kind != LNET_PKT_OTHER || q.src_addr != p.dst_addr ||
            q.dst_addr != p.src_addr || (uint32_t)(icmp[16] << 8 | icmp[17]) + LNET_ETH_HDR != n)
            abort();
        break;
    }
    case LNET_PKT_ARP_REQ: {
        uint8_t arp[LNET_ARP_FRAME];
        struct lnet_pkt q;
        lnet_frame_parse(arp, lnet_frame_arp_reply(arp, &p, mac_b), &q);
        if (q.kind != LNET_PKT_OTHER)
            abort();
        break;
    }
    case LNET_PKT_TCP:
    case LNET_PKT_TCP_SYN:
        if (p.ip_off + p.ip_hdr_len + 20 > len)
            abort();
        break;
    default:
        break;
    }
    uint32_t a = 0, b = 0;
    if (len >= 8) {
        memcpy(&a, frame, 4);
        memcpy(&b, frame + 4, 4);
    }
    check_udp(frame, len, a, (uint16_t)a, b, (uint16_t)(b >> 16));
    free(frame);
    return 0;
}
