/* The Linux tier's snapshot file: a booted guest at the init's ready point (header, KVM state, device state, boot log, sparse RAM image). */
#ifndef ISOVM_LINUX_LSNAP_FILE_H
#define ISOVM_LINUX_LSNAP_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/serial/uart8250.h"
#include "vmm/linux/lstate.h"

#define LSNAP_MAGIC "ISOVMSN1"
#define LSNAP_VERSION 1u
#define LSNAP_PAGE 4096u
#define LSNAP_LOG_MAX (1u << 20)   /* bytes of boot log kept (the serial console's output) */
#define LSNAP_CHUNK (4u << 20)     /* RAM written and flushed at most this much between stop checks */

/* The VMM's own device state at the ready point: only the serial port has any (no virtio
 * device has been touched yet: the init loads no module before it). */
struct lsnap_dev {
    struct uart8250_state uart;
};

/* At offset 0. Host byte order and layout: the key covers the host, the kernel, the init and
 * this format, so a file is only ever read by the isovm and host that could have written it. */
struct lsnap_header {
    char magic[8];
    uint32_t version, header_size;
    uint8_t key[32];          /* lsnap_cache.h's key of what was booted, where */
    uint64_t mem_size;        /* bytes of guest RAM */
    uint32_t nvcpus, state_size; /* state_size: sizeof(struct lstate) + sizeof(struct lsnap_dev) */
    uint64_t state_off;       /* struct lstate, then struct lsnap_dev */
    uint64_t log_off, log_len;
    uint64_t ram_off;         /* mem_size bytes of RAM image, zero pages left as holes */
    uint8_t digest[32];       /* SHA-256 of the state and the log */
};

/* What a file must match to be used. */
struct lsnap_expect {
    uint8_t key[32];
    uint64_t mem_size;
    uint32_t nvcpus;
};

/* Check a header (len bytes read at offset 0 of a file of file_size bytes) against e: magic,
 * version, sizes, the key, and every region inside the file, page-aligned, in order and not
 * overlapping. 0 and *out, or -EINVAL (err: what is wrong) / -ESTALE (a well-formed file for
 * another key, RAM size or vCPU count). */
int lsnap_header_check(const void *buf, size_t len, uint64_t file_size, const struct lsnap_expect *e,
                       struct lsnap_header *out, char *err, size_t errlen);

/* Write a snapshot to fd (an empty file): the header, state, device state and log, then RAM's
 * non-zero pages at ram_off + their offset (the rest stays holes), LSNAP_CHUNK bytes at most at
 * a time, each flushed to the disk (sync_file_range) before stop(stop_ctx) is asked whether to
 * give up (stop may be NULL). *ram_bytes: RAM bytes written. 0, -ECANCELED (stop said so), or
 * another negative errno (err: what failed). */
int lsnap_write(int fd, const struct lsnap_expect *e, const struct lstate *st, const struct lsnap_dev *dev,
                const char *log, size_t log_len, const uint8_t *ram, uint64_t *ram_bytes,
                bool (*stop)(void *ctx), void *stop_ctx, char *err, size_t errlen);

/* Read a snapshot from fd into st, dev, a malloc'd *log (*log_len bytes; NULL when empty) and
 * ram (e->mem_size bytes, all zero: only the file's data extents are taken), after checking
 * the header, the digest and lstate_check. map_ram: the extents are mapped copy-on-write over
 * ram (sparse_map: ram must be a page-aligned mapping the caller may have replaced), else
 * copied. 0, -ESTALE (another key), or another negative errno (err: what is wrong). */
int lsnap_read(int fd, const struct lsnap_expect *e, struct lstate *st, struct lsnap_dev *dev,
               char **log, size_t *log_len, uint8_t *ram, bool map_ram, char *err, size_t errlen);

#endif
