/* Unit tests for the Linux tier's network for real on this host (no KVM): a fake driver sends the frames a guest's TCP would (ARP, SYN, data, FIN) through virtio-net and libslirp to real sockets on 127.0.0.1. */
#include <arpa/inet.h>
#include <errno.h>
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

static uint16_t server_port, listen_port, udp_port;
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
    struct policy p;
    policy_defaults(&p);
    endpoint(&p, EP_CONNECT, EP_TCP, server_port);  /* 0: 10.0.2.100 */
    endpoint(&p, EP_LISTEN, EP_TCP, listen_port);   /* 1 */
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

static void test_config(void **state)
{
    (void)state;
    struct lnet_guest_config gc;
    lnet_guest_config(&net, &gc);
    char s[32];
    assert_string_equal(inet_ntop(AF_INET, &gc.addr, s, sizeof s), "10.0.2.15");
    assert_string_equal(inet_ntop(AF_INET, &gc.gateway, s, sizeof s), "10.0.2.2");
    assert_int_equal(gc.prefix_len, 24);
    assert_int_equal(gc.nendpoints, 1); /* the connect endpoint only */
    assert_string_equal(inet_ntop(AF_INET, &gc.endpoints[0].addr, s, sizeof s), "10.0.2.100");
    assert_int_equal(gc.endpoints[0].port, server_port);
    assert_string_equal(gc.endpoints[0].hostname, "ep0.isovm");
    struct lnet none;
    struct policy p;
    policy_defaults(&p);
    assert_int_equal(lnet_init(&none, &ram.ram, &p, 0), 0);
    assert_false(none.enabled);
    assert_null(lnet_mmio(&none));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_connect_exact),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_revoke),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
