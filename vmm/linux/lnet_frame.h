/* The guest's Ethernet frames as the network backend reads them before slirp does (ARP requests, IPv4 TCP SYNs, UDP datagrams, malformed IPv4), and the frames it makes itself (UDP, ARP replies, ICMP port unreachable). */
#ifndef ISOVM_LNET_FRAME_H
#define ISOVM_LNET_FRAME_H
#include <stdint.h>

#define LNET_ETH_HDR      14
#define LNET_IPV4_HDR     20   /* the frames lnet_frame_* make have no options */
#define LNET_UDP_HDR      8
/* the largest UDP payload in one frame of the 1500-byte MTU (no fragments either way) */
#define LNET_UDP_MAX_PAYLOAD (1500 - LNET_IPV4_HDR - LNET_UDP_HDR)
#define LNET_ARP_FRAME    42   /* Ethernet + ARP for IPv4 over Ethernet */
#define LNET_ICMP_UNREACH_FRAME (LNET_ETH_HDR + LNET_IPV4_HDR + 8 + 60 + 8) /* at most */

enum lnet_pkt_kind {
    LNET_PKT_OTHER,    /* not IPv4 nor ARP, or IPv4 that is not TCP/UDP: slirp decides */
    LNET_PKT_BAD,      /* IPv4 the backend refuses: malformed header (version, IHL, lengths,
                        * header checksum), a fragment, a TCP/UDP header that does not fit, a
                        * UDP length or checksum that does not agree */
    LNET_PKT_ARP_REQ,  /* an ARP request for IPv4 over Ethernet */
    LNET_PKT_TCP_SYN,  /* a TCP SYN without ACK: a new connection */
    LNET_PKT_TCP,      /* any other TCP segment */
    LNET_PKT_UDP,      /* a whole, well-formed UDP datagram */
};

struct lnet_pkt {
    enum lnet_pkt_kind kind;
    uint32_t src_addr, dst_addr;       /* network byte order; ARP: sender and target address */
    uint16_t src_port, dst_port;       /* host byte order */
    uint8_t src_mac[6];                /* the frame's source; ARP: the sender's hardware address */
    uint32_t ip_off, ip_hdr_len;       /* TCP/UDP: the IPv4 header inside the frame */
    uint32_t payload_off, payload_len; /* UDP: the datagram's bytes inside the frame */
};

/* Classify frame[0..len): every length checked against len and the IPv4 total length before a
 * byte is read, each field read once, arithmetic in 32 bits on values of 16 at most. Never fails:
 * what it does not understand is OTHER, what it refuses is BAD. Bytes after the IPv4 total
 * length (Ethernet padding) are ignored. A UDP datagram's length must equal the IPv4 payload's,
 * and its checksum, when not 0, must be right. */
void lnet_frame_parse(const uint8_t *frame, uint32_t len, struct lnet_pkt *out);

/* An Ethernet/IPv4/UDP frame from src:sport to dst:dport (addresses in network byte order, ports
 * in host byte order) carrying payload[0..len), with the IPv4 header checksum and the UDP
 * checksum right. out has room for LNET_ETH_HDR + LNET_IPV4_HDR + LNET_UDP_HDR + len bytes.
 * Returns the frame's length, or 0 when len > LNET_UDP_MAX_PAYLOAD (nothing written). */
uint32_t lnet_frame_udp(uint8_t *out, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                        uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                        const uint8_t *payload, uint32_t len);

/* An ARP reply to a request (req: LNET_PKT_ARP_REQ from lnet_frame_parse): target_mac has
 * req->dst_addr. out has room for LNET_ARP_FRAME bytes; returns LNET_ARP_FRAME. */
uint32_t lnet_frame_arp_reply(uint8_t *out, const struct lnet_pkt *req, const uint8_t target_mac[6]);

/* An ICMP port unreachable from src_mac/the original datagram's destination to its source,
 * quoting its IPv4 header and first 8 bytes (orig: the guest's frame, p its parse, a UDP one).
 * out has room for LNET_ICMP_UNREACH_FRAME bytes; returns the frame's length. */
uint32_t lnet_frame_icmp_port_unreach(uint8_t *out, const uint8_t src_mac[6], const uint8_t *orig,
                                      const struct lnet_pkt *p);

/* The RFC 1071 checksum of p[0..n) added to sum (folded, not complemented). */
uint32_t lnet_csum_add(const uint8_t *p, uint32_t n, uint32_t sum);

#endif
