/* Helpers of the read and write paths that the socket and file handlers share (sys_io.c). */
#ifndef ISOVM_SYS_IO_H
#define ISOVM_SYS_IO_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

/* One guest buffer read or written through the direction's throttle at offset `off` (-1: the
 * descriptor's position), on capability `slot` which the caller has checked (sys_io.c). */
int64_t io_buffer(struct job *job, struct sc_call *c, uint32_t slot, bool is_write, uint64_t gva,
                  uint64_t len, int64_t off);
/* A guest iovec array of cnt entries at gva (cnt <= IOV_LIMIT), copied once, each entry checked
 * for the GPERM_ bits in `need`, into host iovecs `out`; *total the sum (overflow-checked).
 * Returns the count or -errno (sys_io.c). */
#define IOV_LIMIT 1024
int iov_import(struct job *job, const struct sc_call *c, uint64_t gva, uint64_t cnt, unsigned need, struct iovec *out,
               uint64_t *total);
/* The first `max` bytes of iov[0..n) starting `skip` bytes in, as a new iovec array (sys_io.c). */
int iov_window(const struct iovec *iov, int n, uint64_t skip, uint64_t max, struct iovec *out);

struct cap;
struct fd_slot;
/* fcntl's lock commands on descriptor c->a[0] (capability e in `slot`, descriptor s), from
 * sys_fcntl (sys_lock.c). */
int64_t fcntl_lock(struct job *job, struct sc_call *c, struct cap *e, uint32_t slot,
                   const struct fd_slot *s);

#endif
