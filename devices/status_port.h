/* The status port: the I/O port the guest's init writes boot phases and the job's end to (init/abi.h). */
#ifndef ISOVM_STATUS_PORT_H
#define ISOVM_STATUS_PORT_H
#include <stdbool.h>
#include <stdint.h>
#include "init/abi.h"

#define STATUS_PORT_LEN 4u /* one 32-bit register at ISOVM_STATUS_PORT */

struct status_port {
    bool ended;
    uint8_t kind;      /* enum isovm_status_kind of the end: EXIT, SIGNAL, OOM or INIT_ERROR */
    uint32_t detail;   /* its detail (24 bits) */
    uint64_t phase_ns[ISOVM_PHASE_MAX + 1]; /* CLOCK_MONOTONIC of each phase's first word; 0: not seen */
    uint64_t ignored;  /* accesses that did nothing: a read, a wrong size or offset, an unknown
                        * kind or phase, any word after the end */
    void (*on_end)(void *ctx, uint8_t kind, uint32_t detail); /* the run loop: stop the VM */
    void *ctx;
};

void status_port_init(struct status_port *p, void (*on_end)(void *ctx, uint8_t kind, uint32_t detail),
                      void *ctx);

/* An access at offset from ISOVM_STATUS_PORT with size bytes (the exit's data buffer holds 8),
 * at now_ns (CLOCK_MONOTONIC). Only 4-byte writes at offset 0 do anything; a read gives zeros.
 * 0, or -EINVAL for an access that was ignored (counted). The first end word calls on_end once;
 * each phase is recorded at its first word. */
int status_port_read(struct status_port *p, uint64_t offset, void *data, uint32_t size);
int status_port_write(struct status_port *p, uint64_t offset, const void *data, uint32_t size,
                      uint64_t now_ns);

/* isovm's exit status for the end: EXIT's status, 128 + SIGNAL's signal, OOM's status as given,
 * 125 for INIT_ERROR (isovm's own error: the init could not start the job); -1 before the end. */
int status_port_exit_status(const struct status_port *p);

#endif
