/* Socket addresses as the job names them: copied from guest memory once, checked, written back. */
#ifndef ISOVM_SYS_NET_ADDR_H
#define ISOVM_SYS_NET_ADDR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "vmm/core/job.h"

#define NET_ADDR_MAX  128            /* sizeof(struct sockaddr_storage): a longer addrlen is EINVAL */
#define SIN6_LEN_MIN  24             /* Linux accepts a sockaddr_in6 without sin6_scope_id */


/* An address as the job named it, parsed: family, address bytes, port. */
struct net_addr {
    bool v6;
    uint8_t addr[16];
    uint16_t port;
};

void net_addr_text(const struct net_addr *a, uint8_t proto, char *buf, size_t len);

/* The job's sockaddr (addrlen bytes at gva, the socklen_t it passed) for a socket of family v6:
 * copied once, then parsed. 0 and *out, or -EINVAL (length), -EFAULT, -EAFNOSUPPORT. */
int net_addr_import(struct guest_mem *gm, uint64_t gva, uint64_t addrlen, bool v6,
                    struct net_addr *out);

/* The host sockaddr for a parsed address (built by isovm, never the job's bytes). */
socklen_t net_addr_host(const struct net_addr *a, struct sockaddr_storage *ss);

void net_addr_parse_host(const struct sockaddr_storage *ss, struct net_addr *a);

/* An (addr, addrlen) result pair: read the job's buffer length once, before any work, and
 * check the buffer is writable. NULL addr: nothing to return (*len -1). */
int net_addr_out_prepare(struct guest_mem *gm, uint64_t addr_gva, uint64_t len_gva, int32_t *len);

/* Write a host address to the prepared pair: its first min(len, actual) bytes and the actual
 * length, as Linux does. */
int net_addr_out(struct guest_mem *gm, uint64_t addr_gva, uint64_t len_gva, int32_t len,
                 const struct sockaddr_storage *ss, socklen_t actual);

#endif
