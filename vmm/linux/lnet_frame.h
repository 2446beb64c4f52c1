/* The few facts the network backend reads from a guest's Ethernet frame before slirp sees it: IPv4, TCP SYN or UDP, addresses and ports. */
#ifndef ISOVM_LNET_FRAME_H
#define ISOVM_LNET_FRAME_H
#include <stdint.h>

enum lnet_pkt_kind {
    LNET_PKT_OTHER,    /* not IPv4 TCP/UDP, a fragment, or malformed: slirp decides */
    LNET_PKT_TCP_SYN,  /* a TCP SYN without ACK: a new connection */
    LNET_PKT_TCP,      /* any other TCP segment */
    LNET_PKT_UDP,
};

struct lnet_pkt {
    enum lnet_pkt_kind kind;
    uint32_t src_addr, dst_addr;       /* network byte order */
    uint16_t src_port, dst_port;       /* host byte order */
    uint32_t payload_off, payload_len; /* UDP: the datagram's bytes inside the frame */
};

/* Classify frame[0..len): every length checked against len and the IPv4 total length before a
 * byte is read, each field read once. Never fails: what it does not understand is OTHER. */
void lnet_frame_parse(const uint8_t *frame, uint32_t len, struct lnet_pkt *out);

#endif
