/* What the other syscall files need of the network's: reading a socket, and poll's view of
 * an unconnected datagram socket (both filter datagrams by their source). */
#ifndef ISOVM_SYS_NET_H
#define ISOVM_SYS_NET_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

/* read/readv on a socket: as recvfrom without an address (a datagram from an ungranted
 * source is dropped, counted and audited, and the next one waited for). Bytes or -errno. */
int64_t net_read(struct job *job, struct sc_call *c, uint32_t slot, const struct iovec *iov,
                 int n, uint64_t total);

/* poll found data to read on capability `slot` (host descriptor host_fd, held by the caller):
 * for an unconnected datagram socket, drop queued datagrams from ungranted sources (counted,
 * audited) and answer whether something the job may read is left; true for anything else.
 * Never waits. job->lock held. */
bool net_poll_filter(struct job *job, struct sc_call *c, uint32_t slot, int host_fd);

#endif
