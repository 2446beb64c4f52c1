/* Socket addresses as the job names them: guest addresses validated and copied once, here only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vmm/caps/audit.h"
#include "vmm/caps/fd.h"
#include "vmm/sys/io_admit.h"
#include "vmm/sys/sys_net.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_io.h"
#include "vmm/sys/net_addr.h"

void net_addr_text(const struct net_addr *a, uint8_t proto, char *buf, size_t len)
{
    struct endpoint e = { .proto = proto, .v6 = a->v6, .port = a->port };
    memcpy(e.addr, a->addr, sizeof e.addr);
    endpoint_format(&e, buf, len);
}

/* A refusal for the network: counted, audited with what was asked ("tcp:127.0.0.1:9"). */

/* ---- guest addresses: validated and copied once, here only ---------------------------------- */

/* The job's sockaddr (addrlen bytes at gva, the socklen_t it passed) for a socket of family v6:
 * copied once, then parsed. 0 and *out, or -EINVAL (length), -EFAULT, -EAFNOSUPPORT. */
int net_addr_import(struct guest_mem *gm, uint64_t gva, uint64_t addrlen, bool v6,
                    struct net_addr *out)
{
    int32_t n = (int32_t)(uint32_t)addrlen; /* the kernel takes it as an int */
    if (n < (int32_t)sizeof(sa_family_t) || n > NET_ADDR_MAX)
        return -EINVAL;
    uint8_t raw[NET_ADDR_MAX];
    int rc = gmem_copy_from(gm, raw, gva, (uint64_t)n);
    if (rc)
        return rc;
    sa_family_t fam;
    memcpy(&fam, raw, sizeof fam);
    if (fam != (v6 ? AF_INET6 : AF_INET))
        return -EAFNOSUPPORT;
    memset(out, 0, sizeof *out);
    out->v6 = v6;
    if (!v6) {
        struct sockaddr_in sin;
        if (n < (int32_t)sizeof sin)
            return -EINVAL;
        memcpy(&sin, raw, sizeof sin);
        memcpy(out->addr, &sin.sin_addr, 4);
        out->port = ntohs(sin.sin_port);
    } else {
        struct sockaddr_in6 s6;
        memset(&s6, 0, sizeof s6);
        if (n < SIN6_LEN_MIN)
            return -EINVAL;
        memcpy(&s6, raw, (size_t)n < sizeof s6 ? (size_t)n : sizeof s6);
        memcpy(out->addr, &s6.sin6_addr, 16);
        out->port = ntohs(s6.sin6_port);
    }
    return 0;
}

/* The host sockaddr for a parsed address (built by isovm, never the job's bytes). */
socklen_t net_addr_host(const struct net_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        memcpy(&s6->sin6_addr, a->addr, 16);
        return sizeof *s6;
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a->port);
    memcpy(&sin->sin_addr, a->addr, 4);
    return sizeof *sin;
}

void net_addr_parse_host(const struct sockaddr_storage *ss, struct net_addr *a)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        a->v6 = true;
        memcpy(a->addr, &s6->sin6_addr, 16);
        a->port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        memcpy(a->addr, &sin->sin_addr, 4);
        a->port = ntohs(sin->sin_port);
    }
}

/* An (addr, addrlen) result pair: read the job's buffer length once, before any work, and
 * check the buffer is writable. NULL addr: nothing to return (*len -1). */
int net_addr_out_prepare(struct guest_mem *gm, uint64_t addr_gva, uint64_t len_gva, int32_t *len)
{
    *len = -1;
    if (!addr_gva)
        return 0;
    int rc = gmem_copy_from(gm, len, len_gva, sizeof *len);
    if (rc)
        return rc;
    if (*len < 0)
        return -EINVAL;
    rc = gpa_range_check(gm, addr_gva, (uint64_t)*len, GPERM_W, NULL);
    return rc ? rc : gpa_range_check(gm, len_gva, sizeof *len, GPERM_W, NULL);
}

/* Write a host address to the prepared pair: its first min(len, actual) bytes and the actual
 * length, as Linux does. */
int net_addr_out(struct guest_mem *gm, uint64_t addr_gva, uint64_t len_gva, int32_t len,
                 const struct sockaddr_storage *ss, socklen_t actual)
{
    if (!addr_gva || len < 0)
        return 0;
    uint64_t n = (uint64_t)len < actual ? (uint64_t)len : actual;
    int32_t out = (int32_t)actual;
    int rc = gmem_copy_to(gm, addr_gva, ss, n);
    return rc ? rc : gmem_copy_to(gm, len_gva, &out, sizeof out);
}

