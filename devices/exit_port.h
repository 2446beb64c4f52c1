/* The isovm exit port: the register the guest's init writes the job's end to (exit status or signal), for the run loop. */
#ifndef ISOVM_EXIT_PORT_H
#define ISOVM_EXIT_PORT_H
#include <stdbool.h>
#include <stdint.h>

/* The ABI the guest's init uses. Two 32-bit registers; the run loop maps them at an I/O port
 * base (EXIT_PORT_IO_BASE: `outl` after ioperm) or in MMIO, and passes offsets from it. */
#define EXIT_PORT_IO_BASE 0x4f8u   /* free on a PC: not the hypercall tier's 0x4f0/0x4f1 */
#define EXIT_PORT_LEN     8u
#define EXIT_PORT_ID_REG  0u       /* read: EXIT_PORT_ID, so init knows the port is there */
#define EXIT_PORT_END_REG 4u       /* write once: EXIT_PORT_WORD(reason, code) */
#define EXIT_PORT_ID      0x58565349u /* "ISVX" */
#define EXIT_PORT_MAGIC   0x15e7u     /* the word's top half: a stray write does not end a job */

enum exit_port_reason {
    EXIT_PORT_EXITED = 0,     /* code: the job's exit status */
    EXIT_PORT_SIGNALED = 1,   /* code: the signal that killed it */
    EXIT_PORT_INIT_ERROR = 2, /* code: the status isovm exits with (e.g. 127 program not found) */
};
#define EXIT_PORT_WORD(reason, code) \
    ((uint32_t)EXIT_PORT_MAGIC << 16 | (uint32_t)(reason) << 8 | ((uint32_t)(code) & 0xffu))

struct exit_port {
    bool ended;
    uint8_t reason, code;
    uint64_t ignored; /* accesses that did nothing: wrong size or offset, no magic, an unknown
                       * reason, a second end */
    void (*on_end)(void *ctx, uint8_t reason, uint8_t code); /* the run loop: stop the VM */
    void *ctx;
};

void exit_port_init(struct exit_port *p, void (*on_end)(void *ctx, uint8_t reason, uint8_t code),
                    void *ctx);

/* An access at offset from the base with size bytes (the exit's data buffer holds 8). Only
 * aligned 4-byte accesses to the two registers do anything; a bad read gives zeros. 0, or
 * -EINVAL for an access that was ignored. The first valid end word calls on_end once. */
int exit_port_read(struct exit_port *p, uint64_t offset, void *data, uint32_t size);
int exit_port_write(struct exit_port *p, uint64_t offset, const void *data, uint32_t size);

/* isovm's exit status for the end written: the code for EXITED and INIT_ERROR, 128 + the
 * signal for SIGNALED; -1 while no end was written. */
int exit_port_status(const struct exit_port *p);

#endif
