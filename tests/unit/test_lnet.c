/* Unit tests for the Linux tier's network for real on this host (no KVM): a fake driver sends the frames a guest's TCP and UDP would (ARP, SYN, data, FIN, datagrams, malformed ones) through virtio-net and libslirp or the UDP forward to real sockets on 127.0.0.1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio/net/vnet.h"
#include "lib/clock.h"
#include "vmm/linux/lnet.h"
#include "virtio_fixture.h"

#define RXQ_BASE 0x10000ull
#define TXQ_BASE 0x18000ull
#define BUFS 0x40000ull  /* 64 slots of 2 KiB: rx 0..31, tx 32..63 */
#define GPORT 40000

static struct fake_ram ram;
static struct lnet net;
static struct tq q[2];
static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned tx_slot, rx_posted;
static uint8_t my_mac[6], gw_mac[6];

/* libslirp 4.7's slirp_remove_guestfwd does not free a slirp_add_unix forward's path (31
 * bytes per revoked endpoint, once): its leak, not isovm's */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0"; /* glib has no frame pointers: unwind slowly to see slirp */
}
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:slirp_add_unix\n";
}

/* ---- frames ---- */

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/* An IPv4 packet from the guest (10.0.2.15) to dst, proto, l4 bytes; l4 checksum filled in at
 * csum_off inside l4 (over the pseudo-header). Returns the frame length. */
static uint32_t ip_frame(uint8_t *fr, uint32_t dst, uint8_t proto, const uint8_t *l4, uint32_t l4len,
                         unsigned csum_off)
{
    memcpy(fr, gw_mac, 6);
    memcpy(fr + 6, my_mac, 6);
    put16(fr + 12, 0x0800);
    uint8_t *ip = fr + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + l4len));
    ip[8] = 64;
    ip[9] = proto;
    inet_pton(AF_INET, LNET_GUEST_ADDR, ip + 12);
    memcpy(ip + 16, &dst, 4);
    put16(ip + 10, csum(ip, 20, 0));
    memcpy(ip + 20, l4, l4len);
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = proto;
    put16(pseudo + 10, (uint16_t)l4len);
    uint32_t s = 0;
    for (int i = 0; i < 12; i += 2)
        s += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
    put16(ip + 20 + csum_off, csum(ip + 20, l4len, s));
    return 14 + 20 + l4len;
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static uint32_t tcp_frame(uint8_t *fr, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
                          uint32_t ack, uint8_t flags, const void *data, uint32_t len)
{
    uint8_t l4[20 + 1460];
    memset(l4, 0, 20);
    put16(l4, sport);
    put16(l4 + 2, dport);
    put32(l4 + 4, seq);
    put32(l4 + 8, ack);
    l4[12] = 5 << 4;
    l4[13] = flags;
    put16(l4 + 14, 65535);
    if (len)
        memcpy(l4 + 20, data, len);
    return ip_frame(fr, dst, 6, l4, 20 + len, 16);
}

/* ---- the fake driver ---- */

static void guest_send(const uint8_t *fr, uint32_t len)
{
    pthread_mutex_lock(&dev_lock);
    uint64_t a = BUFS + 2048ull * (32 + tx_slot++ % 32);
    uint8_t *p = fr_ptr(&ram, a, VNET_HDR_LEN + len);
    memset(p, 0, VNET_HDR_LEN);
    memcpy(p + VNET_HDR_LEN, fr, len);
    struct tbuf b = { a, VNET_HDR_LEN + len, false };
    tq_add(&q[1], &b, 1);
    vmmio_notify(lnet_mmio(&net), VNET_TXQ);
    uint32_t id, l;
    while (tq_used(&q[1], &id, &l))
        ;
    pthread_mutex_unlock(&dev_lock);
}

/* The next frame the device put in a guest buffer, within ms; its length, or 0. */
static uint32_t guest_recv(uint8_t *fr, unsigned ms)
{
    uint64_t end = mono_ns() + ms * 1000000ull;
    do {
        pthread_mutex_lock(&dev_lock);
        while (rx_posted < 8) { /* keep eight buffers posted, slots taken round robin */
            static unsigned slot;
            struct tbuf b = { BUFS + 2048ull * (slot++ % 32), 2048, true };
            tq_add(&q[0], &b, 1);
            rx_posted++;
            vmmio_notify(lnet_mmio(&net), VNET_RXQ);
        }
        uint32_t id, len;
        bool got = tq_used(&q[0], &id, &len);
        if (got) {
            rx_posted--;
            uint64_t gpa = 0;
            /* the used id is the head descriptor: find its address in the table */
            memcpy(&gpa, fr_ptr(&ram, q[0].desc + 16ull * id, 8), 8);
            assert_true(len >= VNET_HDR_LEN);
            memcpy(fr, fr_ptr(&ram, gpa + VNET_HDR_LEN, len - VNET_HDR_LEN), len - VNET_HDR_LEN);
        }
        pthread_mutex_unlock(&dev_lock);
        if (got)
            return len - VNET_HDR_LEN;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    } while (mono_ns() < end);
    return 0;
}

/* A TCP segment to the guest, within ms (other frames skipped). */
struct seg {
    uint32_t src;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint8_t data[1500];
    uint32_t len;
};

static bool recv_tcp(struct seg *s, unsigned ms)
{
    uint8_t fr[2048];
    uint64_t end = mono_ns() + ms * 1000000ull;
    while (mono_ns() < end) {
        uint32_t n = guest_recv(fr, 50);
        if (n < 54 || get16(fr + 12) != 0x0800 || fr[14 + 9] != 6)
            continue;
        const uint8_t *ip = fr + 14, *t = ip + (ip[0] & 15) * 4;
        uint32_t tot = get16(ip + 2), hl = (uint32_t)(t[12] >> 4) * 4;
        memcpy(&s->src, ip + 12, 4);
        s->sport = get16(t);
        s->dport = get16(t + 2);
        s->seq = get32(t + 4);
        s->ack = get32(t + 8);
        s->flags = t[13];
        s->len = tot - (uint32_t)(t - ip) - hl;
        memcpy(s->data, t + hl, s->len);
        return true;
    }
    return false;
}

/* ---- a guest TCP connection ---- */

struct conn {
    uint32_t dst;
    uint16_t sport, dport;
    uint32_t snd, rcv; /* next sequence numbers to send and to receive */
};

static uint8_t syn_answer(struct conn *c)
{
    uint8_t fr[128];
    c->snd = 1000;
    guest_send(fr, tcp_frame(fr, c->dst, c->sport, c->dport, c->snd, 0, F_SYN, NULL, 0));
    struct seg s;
    while (recv_tcp(&s, 2000)) {
        if (s.dport != c->sport)
            continue;
        if ((s.flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK)) {
            c->snd++;
            c->rcv = s.seq + 1;
            guest_send(fr, tcp_frame(fr, c->dst, c->sport, c->dport, c->snd, c->rcv, F_ACK, NULL, 0));
        }
        return s.flags;
    }
    return 0;
}

static void conn_send(struct conn *c, const uint8_t *d, uint32_t len, uint8_t extra)
{
    uint8_t fr[1600];
    guest_send(fr, tcp_frame(fr, c->dst, c->sport, c->dport, c->snd, c->rcv, F_ACK | extra, d, len));
    c->snd += len + ((extra & F_FIN) ? 1 : 0);
}

/* Receive in-order data into buf until FIN (true) or want bytes; ACK everything. */
static bool conn_recv(struct conn *c, uint8_t *buf, size_t want, size_t *got, unsigned ms)
{
    struct seg s;
    uint64_t end = mono_ns() + ms * 1000000ull;
    while (*got < want && mono_ns() < end && recv_tcp(&s, 200)) {
        if (s.dport != c->sport || s.seq != c->rcv) {
            conn_send(c, NULL, 0, 0); /* a duplicate ACK */
            continue;
        }
        memcpy(buf + *got, s.data, s.len);
        *got += s.len;
        c->rcv += s.len;
        bool fin = s.flags & F_FIN;
        if (fin)
            c->rcv++;
        if (s.len || fin)
            conn_send(c, NULL, 0, 0);
        if (fin)
            return true;
        if (s.flags & F_RST)
            return false;
    }
    return false;
}

/* ---- the host side ---- */

static int tcp_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

static int accept_within(int lfd, int ms)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    if (poll(&p, 1, ms) != 1)
        return -1;
    return accept(lfd, NULL, NULL);
}

static uint16_t server_port, listen_port, udp_port, dead_udp_port;
static int server_fd, udp_fd;

static void endpoint(struct policy *p, enum endpoint_mode m, enum endpoint_proto pr, uint16_t port)
{
    struct endpoint *e = &p->endpoints[p->nendpoints++];
    e->mode = m;
    e->proto = pr;
    inet_pton(AF_INET, "127.0.0.1", e->addr);
    e->port = port;
}

static int setup(void **state)
{
    (void)state;
    fake_ram_init(&ram);
    server_fd = tcp_listener(&server_port);
    int t = tcp_listener(&listen_port); /* a free port for the listen endpoint */
    close(t);
    udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(udp_fd, (struct sockaddr *)&a, sizeof a);
    socklen_t l = sizeof a;
    getsockname(udp_fd, (struct sockaddr *)&a, &l);
    udp_port = ntohs(a.sin_port);
    int d = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* a UDP port nobody listens on */
    a.sin_port = 0;
    bind(d, (struct sockaddr *)&a, sizeof a);
    getsockname(d, (struct sockaddr *)&a, &l);
    dead_udp_port = ntohs(a.sin_port);
    close(d);
    struct policy p;
    policy_defaults(&p);
    endpoint(&p, EP_CONNECT, EP_TCP, server_port);  /* 0: 10.0.2.100 */
    endpoint(&p, EP_LISTEN, EP_TCP, listen_port);   /* 1 */
    endpoint(&p, EP_CONNECT, EP_UDP, udp_port);     /* 2: 10.0.2.102, the echo server */
    endpoint(&p, EP_CONNECT, EP_UDP, 53);           /* 3: 10.0.2.103, a resolver (config only) */
    endpoint(&p, EP_CONNECT, EP_UDP, dead_udp_port); /* 4: 10.0.2.104, refuses (port unreachable) */
    assert_true(lnet_linked()); /* the weak references resolved: libslirp is linked in */
    assert_int_equal(lnet_init(&net, &ram.ram, &p, mono_ns()), 0);
    assert_true(net.enabled);
    tq_init(&q[0], &ram, 64, RXQ_BASE);
    tq_init(&q[1], &ram, 64, TXQ_BASE);
    drv_setup(lnet_mmio(&net), q, 2);
    assert_int_equal(lnet_start(&net, &dev_lock, NULL, NULL), 0);
    struct lnet_guest_config gc;
    lnet_guest_config(&net, &gc);
    memcpy(my_mac, gc.mac, 6);
    /* ARP for the gateway: slirp learns the guest's MAC and answers with its own */
    uint8_t fr[64] = { 0 };
    memset(fr, 0xff, 6);
    memcpy(fr + 6, my_mac, 6);
    put16(fr + 12, 0x0806);
    uint8_t *a2 = fr + 14;
    put16(a2, 1);
    put16(a2 + 2, 0x0800);
    a2[4] = 6;
    a2[5] = 4;
    put16(a2 + 6, 1);
    memcpy(a2 + 8, my_mac, 6);
    memcpy(a2 + 14, &gc.addr, 4);
    memcpy(a2 + 24, &gc.gateway, 4);
    guest_send(fr, 60);
    uint8_t in[2048];
    uint32_t n;
    while ((n = guest_recv(in, 2000)) && get16(in + 12) != 0x0806)
        ;
    assert_true(n >= 42);
    assert_int_equal(get16(in + 14 + 6), 2); /* a reply */
    memcpy(gw_mac, in + 14 + 8, 6);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lnet_fini(&net);
    close(server_fd);
    close(udp_fd);
    fake_ram_free(&ram);
    return 0;
}

static uint32_t ep_addr(unsigned i)
{
    return htonl(0x0a000200u | (LNET_EP_ADDR_BASE + i));
}

/* ---- UDP ---- */

static uint32_t udp_frame(uint8_t *fr, uint32_t dst, uint16_t sport, uint16_t dport,
                          const void *data, uint32_t len)
{
    static uint8_t l4[8 + 1500];
    put16(l4, sport);
    put16(l4 + 2, dport);
    put16(l4 + 4, (uint16_t)(8 + len));
    put16(l4 + 6, 0);
    if (len)
        memcpy(l4 + 8, data, len);
    return ip_frame(fr, dst, 17, l4, 8 + len, 6);
}

/* The next IPv4 frame of protocol proto for the guest within ms (others skipped): its length. */
static uint32_t recv_ip(uint8_t *fr, uint8_t proto, unsigned ms)
{
    uint64_t end = mono_ns() + ms * 1000000ull;
    while (mono_ns() < end) {
        uint32_t n = guest_recv(fr, 50);
        if (n >= 34 && get16(fr + 12) == 0x0800 && fr[14 + 9] == proto)
            return n;
    }
    return 0;
}

/* The pseudo-header sum of an IPv4 packet's layer 4 (unfolded). */
static uint32_t pseudo(const uint8_t *ip, uint32_t l4len)
{
    uint32_t s = get16(ip + 12) + get16(ip + 14) + get16(ip + 16) + get16(ip + 18);
    return s + ip[9] + l4len;
}

/* A UDP datagram for the guest, checked (lengths, both checksums): its payload. */
struct dgram {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t data[1500];
    uint32_t len;
};

static bool recv_udp(struct dgram *d, unsigned ms)
{
    uint8_t fr[2048];
    uint32_t n = recv_ip(fr, 17, ms);
    if (!n)
        return false;
    const uint8_t *ip = fr + 14;
    assert_int_equal(ip[0], 0x45);
    uint32_t tot = get16(ip + 2);
    assert_int_equal(14 + tot, n);
    assert_int_equal(csum(ip, 20, 0), 0); /* the header checksum is right */
    const uint8_t *u = ip + 20;
    assert_int_equal(get16(u + 4), tot - 20);
    if (get16(u + 6))
        assert_int_equal(csum(u, tot - 20, pseudo(ip, tot - 20)), 0);
    memcpy(&d->src, ip + 12, 4);
    memcpy(&d->dst, ip + 16, 4);
    d->sport = get16(u);
    d->dport = get16(u + 2);
    d->len = tot - 28;
    memcpy(d->data, u + 8, d->len);
    assert_memory_equal(fr, my_mac, 6);
    return true;
}

/* An ICMP port unreachable for the guest within ms: the quoted datagram's ports. */
static bool recv_unreach(uint32_t from, uint16_t *sport, uint16_t *dport, unsigned ms)
{
    uint8_t fr[2048];
    uint32_t n = recv_ip(fr, 1, ms);
    if (!n)
        return false;
    const uint8_t *ip = fr + 14, *icmp = ip + 20;
    uint32_t tot = get16(ip + 2);
    assert_int_equal(14 + tot, n);
    assert_int_equal(csum(ip, 20, 0), 0);
    assert_int_equal(csum(icmp, tot - 20, 0), 0);
    assert_int_equal(icmp[0], 3);
    assert_int_equal(icmp[1], 3);
    assert_memory_equal(ip + 12, &from, 4);
    const uint8_t *qt = icmp + 8; /* the guest's IPv4 header, then its UDP header */
    assert_int_equal(qt[9], 17);
    assert_memory_equal(qt + 16, &from, 4);
    *sport = get16(qt + 20);
    *dport = get16(qt + 22);
    return true;
}

/* ARP for addr: the MAC in the reply, false when none comes within ms. */
static bool arp_resolve(uint32_t addr, uint8_t mac[6], unsigned ms)
{
    uint8_t fr[64] = { 0 };
    memset(fr, 0xff, 6);
    memcpy(fr + 6, my_mac, 6);
    put16(fr + 12, 0x0806);
    uint8_t *a = fr + 14;
    put16(a, 1);
    put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, 1);
    memcpy(a + 8, my_mac, 6);
    inet_pton(AF_INET, LNET_GUEST_ADDR, a + 14);
    memcpy(a + 24, &addr, 4);
    guest_send(fr, 60);
    uint8_t in[2048];
    uint64_t end = mono_ns() + ms * 1000000ull;
    while (mono_ns() < end) {
        uint32_t n = guest_recv(in, 50);
        if (n < 42 || get16(in + 12) != 0x0806 || get16(in + 14 + 6) != 2 ||
            memcmp(in + 14 + 14, &addr, 4))
            continue;
        assert_memory_equal(in, my_mac, 6);
        assert_memory_equal(in + 14 + 18, my_mac, 6);
        memcpy(mac, in + 14 + 8, 6);
        return true;
    }
    return false;
}

/* A datagram on the echo server within ms: its length (and the sender), -1 when none. */
static ssize_t host_recv(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, ms) != 1)
        return -1;
    socklen_t l = sizeof *from;
    return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &l);
}

static json_t *ep_report(json_t *r, unsigned i, const char *key)
{
    return json_object_get(json_array_get(json_object_get(r, "endpoints"), i), key);
}

static void test_config(void **state)
{
    (void)state;
    struct lnet_guest_config gc;
    lnet_guest_config(&net, &gc);
    char s[32];
    assert_string_equal(inet_ntop(AF_INET, &gc.addr, s, sizeof s), "10.0.2.15");
    assert_string_equal(inet_ntop(AF_INET, &gc.gateway, s, sizeof s), "10.0.2.2");
    assert_int_equal(gc.prefix_len, 24);
    assert_int_equal(gc.nendpoints, 4); /* the connect endpoints only */
    assert_string_equal(inet_ntop(AF_INET, &gc.endpoints[0].addr, s, sizeof s), "10.0.2.100");
    assert_int_equal(gc.endpoints[0].port, server_port);
    assert_string_equal(gc.endpoints[0].hostname, "ep0.isovm");
    assert_false(gc.endpoints[0].udp);
    assert_false(gc.endpoints[0].dns);
    assert_int_equal(gc.endpoints[1].index, 2);
    assert_true(gc.endpoints[1].udp);
    assert_false(gc.endpoints[1].dns);
    assert_string_equal(inet_ntop(AF_INET, &gc.endpoints[1].addr, s, sizeof s), "10.0.2.102");
    assert_string_equal(gc.endpoints[1].hostname, "ep2.isovm");
    /* the resolver: udp port 53, the third connect endpoint */
    assert_int_equal(gc.dns_endpoint, 2);
    assert_int_equal(gc.endpoints[2].index, 3);
    assert_true(gc.endpoints[2].dns);
    assert_string_equal(inet_ntop(AF_INET, &gc.endpoints[2].addr, s, sizeof s), "10.0.2.103");
    assert_int_equal(gc.endpoints[2].port, 53);
    struct lnet none;
    struct policy p;
    policy_defaults(&p);
    assert_int_equal(lnet_init(&none, &ram.ram, &p, 0), 0);
    assert_false(none.enabled);
    assert_null(lnet_mmio(&none));
    lnet_guest_config(&none, &gc);
    assert_int_equal(gc.nendpoints, 0);
    assert_int_equal(gc.dns_endpoint, -1);
    lnet_fini(&none);
}

static void test_connect_exact(void **state)
{
    (void)state;
    struct conn c = { ep_addr(0), GPORT, server_port, 0, 0 };
    assert_int_equal(syn_answer(&c) & (F_SYN | F_ACK), F_SYN | F_ACK);
    int s = accept_within(server_fd, 2000);
    assert_true(s >= 0);
    /* guest to host: 3000 bytes in three segments */
    uint8_t up[3000], down[20000], got[20000];
    for (size_t i = 0; i < sizeof up; i++)
        up[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof down; i++)
        down[i] = (uint8_t)(i * 13 + i / 251);
    for (int k = 0; k < 3; k++)
        conn_send(&c, up + 1000 * k, 1000, F_PSH);
    size_t n = 0;
    while (n < sizeof up) {
        struct pollfd p = { .fd = s, .events = POLLIN };
        assert_int_equal(poll(&p, 1, 2000), 1);
        ssize_t r = read(s, got + n, sizeof up - n);
        assert_true(r > 0);
        n += (size_t)r;
    }
    assert_memory_equal(got, up, sizeof up);
    /* host to guest: 20000 bytes, then the host's half-close arrives as a FIN */
    assert_int_equal(write(s, down, sizeof down), (ssize_t)sizeof down);
    shutdown(s, SHUT_WR);
    size_t g = 0;
    assert_true(conn_recv(&c, got, sizeof got, &g, 3000));
    assert_int_equal(g, sizeof down);
    assert_memory_equal(got, down, sizeof down);
    /* the guest may still send after the host's half-close; then its FIN ends the host's read */
    conn_send(&c, up, 100, F_PSH | F_FIN);
    n = 0;
    for (;;) {
        struct pollfd p = { .fd = s, .events = POLLIN };
        assert_int_equal(poll(&p, 1, 2000), 1);
        ssize_t r = read(s, got + n, 200);
        assert_true(r >= 0);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    assert_int_equal(n, 100);
    assert_memory_equal(got, up, 100);
    close(s);
}

/* A host endpoint sending in small segments to a guest that reads nothing: slirp stops taking
 * bytes, the forward's socket to slirp and its pipe fill, the host's socket buffers fill. The
 * net thread must go idle, not poll a readable host socket it has no room to read from. */
static void test_backpressure_idle(void **state)
{
    (void)state;
    struct conn c = { ep_addr(0), GPORT + 80, server_port, 0, 0 };
    assert_int_equal(syn_answer(&c) & (F_SYN | F_ACK), F_SYN | F_ACK);
    int s = accept_within(server_fd, 2000);
    assert_true(s >= 0);
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint8_t small[100];
    memset(small, 'z', sizeof small);
    size_t sent = 0;
    uint64_t end = mono_ns() + 3000000000ull;
    while (sent < (4u << 20) && mono_ns() < end) {
        ssize_t w = send(s, small, sizeof small, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
            struct pollfd p = { .fd = s, .events = POLLOUT };
            if (errno != EAGAIN || poll(&p, 1, 300) == 0)
                break; /* nothing drains any more */
            continue;
        }
        sent += (size_t)w;
    }
    assert_true(sent > 300000); /* past slirp's socket, the forward's pipe and socket */
    struct timespec t0, t1, nap = { 0, 400000000 };
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    int64_t cpu_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    if (cpu_ms >= 100)
        fail_msg("the process used %lld ms of CPU in 400 ms with the guest not reading",
                 (long long)cpu_ms);
    close(s);
    conn_send(&c, NULL, 0, F_RST);
}

static void test_refused(void **state)
{
    (void)state;
    /* an ungranted port at the endpoint's address, and an address nobody granted: RST */
    struct conn a = { ep_addr(0), GPORT + 1, (uint16_t)(server_port + 1), 0, 0 };
    assert_true(syn_answer(&a) & F_RST);
    struct conn b = { ep_addr(5), GPORT + 2, server_port, 0, 0 };
    assert_true(syn_answer(&b) & F_RST);
    struct conn h = { htonl(0x7f000001), GPORT + 3, server_port, 0, 0 }; /* 127.0.0.1 itself */
    assert_true(syn_answer(&h) & F_RST);
    assert_int_equal(accept_within(server_fd, 200), -1); /* no host connection */
    /* UDP to the endpoint's address and the udp socket's port: dropped, nothing on the host */
    uint8_t l4[8 + 5] = { 0 }, fr[128];
    put16(l4, GPORT);
    put16(l4 + 2, udp_port);
    put16(l4 + 4, sizeof l4);
    memcpy(l4 + 8, "hello", 5);
    uint32_t h127 = htonl(0x7f000001);
    guest_send(fr, ip_frame(fr, h127, 17, l4, sizeof l4, 6));
    guest_send(fr, ip_frame(fr, ep_addr(0), 17, l4, sizeof l4, 6));
    struct pollfd p = { .fd = udp_fd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 200), 0);
    json_t *r = lnet_report(&net);
    assert_non_null(r);
    assert_true(json_integer_value(json_object_get(r, "refused")) >= 3);
    assert_int_equal(json_integer_value(json_object_get(r, "datagrams_dropped")), 2);
    assert_true(json_integer_value(json_object_get(r, "tx_packets")) > 0);
    json_decref(r);
}

static void test_listen(void **state)
{
    (void)state;
    int cl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(listen_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int rc = connect(cl, (struct sockaddr *)&a, sizeof a);
    assert_true(rc == 0 || errno == EINPROGRESS);
    struct seg s;
    bool syn = false;
    while (!syn && recv_tcp(&s, 2000))
        syn = (s.flags & (F_SYN | F_ACK)) == F_SYN && s.dport == listen_port;
    assert_true(syn); /* slirp opens the connection towards the guest's port */
    close(cl);
    /* revoked: the host port closes */
    assert_int_equal(lnet_revoke_endpoint(&net, 1), 0);
    assert_int_equal(lnet_revoke_endpoint(&net, 1), -EALREADY);
    struct timespec ts = { 0, 100000000 };
    nanosleep(&ts, NULL);
    cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(cl, (struct sockaddr *)&a, sizeof a), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(cl);
}

static void test_revoke(void **state)
{
    (void)state;
    struct conn c = { ep_addr(0), GPORT + 10, server_port, 0, 0 };
    assert_int_equal(syn_answer(&c) & (F_SYN | F_ACK), F_SYN | F_ACK);
    int s = accept_within(server_fd, 2000);
    assert_true(s >= 0);
    conn_send(&c, (const uint8_t *)"ping", 4, F_PSH);
    char b[8];
    struct pollfd p = { .fd = s, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(read(s, b, sizeof b), 4);
    assert_int_equal(lnet_revoke_endpoint(&net, 0), 0);
    /* the live connection ends: the host's read sees EOF, the guest a FIN */
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_true(read(s, b, sizeof b) <= 0);
    uint8_t got[64];
    size_t g = 0;
    assert_true(conn_recv(&c, got, sizeof got, &g, 2000));
    close(s);
    /* the address still answers ARP (slirp no longer does: its forward is gone), so that a
     * guest whose ARP entry expired still gets the RST at once */
    uint8_t mac[6];
    assert_true(arp_resolve(ep_addr(0), mac, 2000));
    static const uint8_t want[6] = { 0x52, 0x55, 10, 0, 2, 100 };
    assert_memory_equal(mac, want, 6);
    /* a new connection is refused */
    struct conn d = { ep_addr(0), GPORT + 11, server_port, 0, 0 };
    assert_true(syn_answer(&d) & F_RST);
    assert_int_equal(accept_within(server_fd, 200), -1);
    json_t *r = lnet_report(&net);
    json_t *e0 = json_array_get(json_object_get(r, "endpoints"), 0);
    assert_int_equal(json_integer_value(json_object_get(e0, "refused")), 1);
    assert_true(json_integer_value(json_object_get(e0, "connections")) >= 2);
    assert_true(json_is_true(json_object_get(e0, "closed")));
    json_decref(r);
}

static void test_udp_exchange(void **state)
{
    (void)state;
    /* the udp endpoint's address answers ARP (the net thread's answer: slirp knows no forward
     * there), with slirp's MAC scheme, 52:55 and the address */
    uint8_t mac[6];
    assert_true(arp_resolve(ep_addr(2), mac, 2000));
    static const uint8_t want[6] = { 0x52, 0x55, 10, 0, 2, 102 };
    assert_memory_equal(mac, want, 6);
    static const uint32_t sizes[] = { 0, 1, 100, 1000, 1400, 1471, 1472 };
    uint8_t fr[1600], up[1472], got[2048];
    uint16_t host_port[2] = { 0, 0 };
    uint64_t bytes = 0;
    for (unsigned k = 0; k < 2 * sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t len = sizes[k / 2];
        uint16_t gport = (uint16_t)(GPORT + 20 + k % 2); /* two guest sockets, interleaved */
        for (uint32_t i = 0; i < len; i++)
            up[i] = (uint8_t)(i * 31 + k);
        guest_send(fr, udp_frame(fr, ep_addr(2), gport, udp_port, up, len));
        struct sockaddr_in from;
        ssize_t n = host_recv(udp_fd, got, sizeof got, &from, 2000);
        assert_int_equal(n, (ssize_t)len);
        assert_memory_equal(got, up, len);
        assert_int_equal(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
        /* one host socket per guest source port */
        if (!host_port[k % 2])
            host_port[k % 2] = ntohs(from.sin_port);
        assert_int_equal(ntohs(from.sin_port), host_port[k % 2]);
        /* the echo: back to the socket it came from, reversed so that it differs */
        for (uint32_t i = 0; i < len; i++)
            got[i] = (uint8_t)~up[len - 1 - i];
        assert_int_equal(sendto(udp_fd, got, len, 0, (struct sockaddr *)&from, sizeof from),
                         (ssize_t)len);
        struct dgram d;
        assert_true(recv_udp(&d, 2000));
        assert_int_equal(d.src, ep_addr(2));
        assert_int_equal(d.sport, udp_port);
        assert_int_equal(d.dst, htonl(0x0a00020f));
        assert_int_equal(d.dport, gport);
        assert_int_equal(d.len, len);
        assert_memory_equal(d.data, got, len);
        bytes += len;
    }
    assert_int_not_equal(host_port[0], host_port[1]);
    /* a guest datagram without a checksum (0) is fine too */
    guest_send(fr, udp_frame(fr, ep_addr(2), GPORT + 20, udp_port, "abc", 3));
    fr[14 + 20 + 6] = fr[14 + 20 + 7] = 0;
    guest_send(fr, 14 + 20 + 8 + 3);
    struct sockaddr_in from;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(host_recv(udp_fd, got, sizeof got, &from, 2000), 3);
        assert_memory_equal(got, "abc", 3);
    }
    /* a reply larger than one frame holds is dropped and counted */
    static uint8_t big[1473];
    assert_int_equal(sendto(udp_fd, big, sizeof big, 0, (struct sockaddr *)&from, sizeof from),
                     (ssize_t)sizeof big);
    assert_int_equal(sendto(udp_fd, "ok", 2, 0, (struct sockaddr *)&from, sizeof from), 2);
    struct dgram d;
    assert_true(recv_udp(&d, 2000));
    assert_int_equal(d.len, 2);
    json_t *r = lnet_report(&net);
    assert_int_equal(json_integer_value(ep_report(r, 2, "datagrams_sent")), 16);
    assert_int_equal(json_integer_value(ep_report(r, 2, "bytes_sent")), bytes + 6);
    assert_int_equal(json_integer_value(ep_report(r, 2, "datagrams_received")), 15);
    assert_int_equal(json_integer_value(ep_report(r, 2, "bytes_received")), bytes + 2);
    assert_int_equal(json_integer_value(ep_report(r, 2, "datagrams_dropped")), 1);
    assert_null(ep_report(r, 0, "datagrams_sent")); /* a tcp endpoint has no such counts */
    json_decref(r);
}

static void test_udp_backpressure(void **state)
{
    (void)state;
    /* the guest takes no frame while the echo server sends 600 datagrams: the rx queue's soft
     * bound stops the net thread reading the socket, so the kernel's buffer drops what does not
     * fit and the queue never overflows; what arrives comes in order, each once */
    uint8_t fr[128], got[2048];
    guest_send(fr, udp_frame(fr, ep_addr(2), GPORT + 25, udp_port, "hi", 2));
    struct sockaddr_in from;
    assert_int_equal(host_recv(udp_fd, got, sizeof got, &from, 2000), 2);
    json_t *r = lnet_report(&net);
    json_int_t recv0 = json_integer_value(ep_report(r, 2, "datagrams_received"));
    json_int_t drop0 = json_integer_value(ep_report(r, 2, "datagrams_dropped"));
    json_int_t rxdrop0 = json_integer_value(json_object_get(r, "rx_dropped"));
    json_decref(r);
    for (uint32_t i = 0; i < 600; i++) {
        uint8_t b[64] = { 0 };
        put32(b, i);
        sendto(udp_fd, b, sizeof b, 0, (struct sockaddr *)&from, sizeof from);
    }
    struct timespec ts = { 0, 300000000 };
    nanosleep(&ts, NULL);
    struct dgram d;
    uint32_t n = 0;
    int64_t last = -1;
    while (recv_udp(&d, 300)) {
        assert_int_equal(d.len, 64);
        assert_int_equal(d.dport, GPORT + 25);
        int64_t seq = get32(d.data);
        assert_true(seq > last);
        last = seq;
        n++;
    }
    print_message("backpressure: %u of 600 datagrams arrived\n", n);
    assert_true(n >= 128);
    r = lnet_report(&net);
    assert_int_equal(json_integer_value(ep_report(r, 2, "datagrams_received")), recv0 + n);
    assert_int_equal(json_integer_value(ep_report(r, 2, "datagrams_dropped")), drop0);
    assert_int_equal(json_integer_value(json_object_get(r, "rx_dropped")), rxdrop0);
    json_decref(r);
}

static void test_udp_refused(void **state)
{
    (void)state;
    json_t *r = lnet_report(&net);
    json_int_t before = json_integer_value(json_object_get(r, "datagrams_dropped"));
    json_int_t sent = json_integer_value(ep_report(r, 2, "datagrams_sent"));
    json_decref(r);
    uint8_t fr[128];
    /* an ungranted port at the udp endpoint's address; the granted port at an ungranted
     * address, at the tcp endpoint's and at the gateway's; the host's loopback itself */
    guest_send(fr, udp_frame(fr, ep_addr(2), GPORT + 30, (uint16_t)(udp_port + 1), "x", 1));
    guest_send(fr, udp_frame(fr, ep_addr(9), GPORT + 30, udp_port, "x", 1));
    guest_send(fr, udp_frame(fr, ep_addr(0), GPORT + 30, udp_port, "x", 1));
    guest_send(fr, udp_frame(fr, htonl(0x0a000202), GPORT + 30, udp_port, "x", 1));
    guest_send(fr, udp_frame(fr, htonl(0x7f000001), GPORT + 30, udp_port, "x", 1));
    /* the right address and port from a source that is not the guest's address, or port 0 */
    uint32_t n = udp_frame(fr, ep_addr(2), GPORT + 30, udp_port, "x", 1);
    fr[14 + 15] = 16; /* 10.0.2.16: both checksums made right again below */
    put16(fr + 14 + 10, 0);
    put16(fr + 14 + 10, csum(fr + 14, 20, 0));
    put16(fr + 14 + 20 + 6, 0);
    guest_send(fr, n);
    guest_send(fr, udp_frame(fr, ep_addr(2), 0, udp_port, "x", 1));
    struct sockaddr_in from;
    uint8_t got[64];
    assert_int_equal(host_recv(udp_fd, got, sizeof got, &from, 300), -1);
    assert_int_equal(guest_recv(got, 100), 0); /* and no answer to the guest */
    r = lnet_report(&net);
    assert_int_equal(json_integer_value(json_object_get(r, "datagrams_dropped")), before + 7);
    assert_int_equal(json_integer_value(ep_report(r, 2, "datagrams_sent")), sent);
    json_decref(r);
}

static void test_udp_malformed(void **state)
{
    (void)state;
    json_t *r = lnet_report(&net);
    json_int_t before = json_integer_value(json_object_get(r, "malformed"));
    json_int_t sent = json_integer_value(ep_report(r, 2, "datagrams_sent"));
    json_decref(r);
    uint8_t fr[1600], *ip = fr + 14, *u = ip + 20;
    const uint32_t len = 100;
    uint8_t data[100] = { 1, 2, 3 };
    unsigned bad = 0;
    for (int k = 0; k < 10; k++) {
        uint32_t n = udp_frame(fr, ep_addr(2), GPORT + 40, udp_port, data, len);
        bool fix_ip = true;
        switch (k) {
        case 0: ip[0] = 0x44; break;                       /* IHL 16 bytes */
        case 1: ip[0] = 0x4f; break;                       /* IHL 60: past the UDP header */
        case 2: put16(ip + 2, (uint16_t)(n - 14 + 1)); break; /* total length past the frame */
        case 3: put16(ip + 2, 19); break;                  /* total length below the header */
        case 4: put16(ip + 6, 0x2000); break;              /* more fragments */
        case 5: put16(ip + 6, 0x0010); break;              /* a fragment's offset */
        case 6: put16(u + 4, (uint16_t)(8 + len + 1)); break; /* UDP length past the datagram */
        case 7: put16(u + 4, (uint16_t)(8 + len - 1)); break; /* ... short of it */
        case 8: put16(ip + 10, (uint16_t)(get16(ip + 10) ^ 1)); fix_ip = false; break;
        case 9: u[8] ^= 0xff; break;                      /* the UDP checksum is wrong */
        }
        if (fix_ip) {
            put16(ip + 10, 0);
            put16(ip + 10, csum(ip, 20, 0));
        }
        guest_send(fr, n);
        bad++;
    }
    /* and a frame too short for its IPv4 header */
    guest_send(fr, 14 + 19);
    bad++;
    struct sockaddr_in from;
    uint8_t got[2048];
    assert_int_equal(host_recv(udp_fd, got, sizeof got, &from, 300), -1);
    r = lnet_report(&net);
    assert_int_equal(json_integer_value(json_object_get(r, "malformed")), before + bad);
    assert_int_equal(json_integer_value(ep_report(r, 2, "datagrams_sent")), sent);
    json_decref(r);
    /* the same datagram well-formed goes through */
    guest_send(fr, udp_frame(fr, ep_addr(2), GPORT + 40, udp_port, data, len));
    assert_int_equal(host_recv(udp_fd, got, sizeof got, &from, 2000), (ssize_t)len);
}

static void test_udp_port_unreachable(void **state)
{
    (void)state;
    /* the real endpoint refuses (nothing on its port): the guest gets the port unreachable */
    uint8_t fr[128];
    guest_send(fr, udp_frame(fr, ep_addr(4), GPORT + 50, dead_udp_port, "anyone?", 7));
    uint16_t sp = 0, dp = 0;
    assert_true(recv_unreach(ep_addr(4), &sp, &dp, 2000));
    assert_int_equal(sp, GPORT + 50);
    assert_int_equal(dp, dead_udp_port);
    json_t *r = lnet_report(&net);
    assert_int_equal(json_integer_value(ep_report(r, 4, "datagrams_sent")), 1);
    json_decref(r);
}

static void test_udp_revoke(void **state)
{
    (void)state;
    uint8_t fr[128], got[64];
    struct sockaddr_in from;
    guest_send(fr, udp_frame(fr, ep_addr(2), GPORT + 60, udp_port, "before", 6));
    assert_int_equal(host_recv(udp_fd, got, sizeof got, &from, 2000), 6);
    assert_int_equal(lnet_revoke_endpoint(&net, 2), 0);
    struct timespec ts = { 0, 100000000 };
    nanosleep(&ts, NULL);
    /* the flow's socket is closed: the host's answer reaches nobody */
    assert_int_equal(sendto(udp_fd, "late", 4, 0, (struct sockaddr *)&from, sizeof from), 4);
    /* a later datagram is refused at once, and nothing reaches the host */
    guest_send(fr, udp_frame(fr, ep_addr(2), GPORT + 60, udp_port, "after", 5));
    uint16_t sp = 0, dp = 0;
    assert_true(recv_unreach(ep_addr(2), &sp, &dp, 2000));
    assert_int_equal(sp, GPORT + 60);
    assert_int_equal(dp, udp_port);
    assert_int_equal(host_recv(udp_fd, got, sizeof got, &from, 200), -1);
    struct dgram d;
    assert_false(recv_udp(&d, 200)); /* "late" never arrived */
    /* the address still answers ARP */
    uint8_t mac[6];
    assert_true(arp_resolve(ep_addr(2), mac, 2000));
    json_t *r = lnet_report(&net);
    assert_int_equal(json_integer_value(ep_report(r, 2, "refused")), 1);
    assert_true(json_is_true(ep_report(r, 2, "closed")));
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_connect_exact),
        cmocka_unit_test(test_backpressure_idle),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_udp_exchange),
        cmocka_unit_test(test_udp_backpressure),
        cmocka_unit_test(test_udp_refused),
        cmocka_unit_test(test_udp_malformed),
        cmocka_unit_test(test_udp_port_unreachable),
        cmocka_unit_test(test_udp_revoke),
        cmocka_unit_test(test_revoke),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
