/* The job port: the I/O ports the guest's init reads its job file from (init/abi.h, the job channel). */
#ifndef ISOVM_JOB_PORT_H
#define ISOVM_JOB_PORT_H
#include <stdint.h>
#include "init/abi.h"

/* ISOVM_JOB_PORT_LEN bytes at ISOVM_JOB_PORT: offset 0, a 32-bit register (the file's length;
 * reading it rewinds), offset 4, an 8-bit register (the file's next byte). Plain data, no locking:
 * one vCPU's exits reach it at a time. */
struct job_port {
    const uint8_t *data; /* the job file (the caller's), NULL: no job */
    uint32_t len, pos;   /* its length; the next byte offset 4 gives (at most len) */
    uint64_t bytes;      /* bytes of the file given (one per read below its end, rewinds included) */
    uint64_t ignored;    /* accesses that did nothing: any write, a wrong size or offset */
};

/* No job yet: the length reads 0. */
void job_port_init(struct job_port *p);

/* The job file the port gives from now on, rewound to its first byte; the caller keeps data alive
 * as long as the port is used. data may be NULL when len is 0. */
void job_port_set(struct job_port *p, const void *data, uint32_t len);

/* An access at offset from ISOVM_JOB_PORT (0..ISOVM_JOB_PORT_LEN-1) of size bytes; data is the
 * exit's buffer (8 bytes at least). A 4-byte read at offset 0 gives the length (little-endian) and
 * rewinds; a 1-byte read at offset 4 gives the next byte, 0 past the end. 0, or -EINVAL for any
 * other access: a read then gives all ones (min(size, 8) bytes of 0xff); counted in ignored. */
int job_port_read(struct job_port *p, uint64_t offset, void *data, uint32_t size);
int job_port_write(struct job_port *p, uint64_t offset, const void *data, uint32_t size);

#endif
