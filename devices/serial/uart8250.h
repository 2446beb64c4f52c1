/* A 16550A UART at an I/O port base, as much as the kernel's console needs: transmit (to a
 * callback: the console log), the registers the 8250 driver probes, loopback, no receive. */
#ifndef ISOVM_UART8250_H
#define ISOVM_UART8250_H
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_PORTS     8

struct uart8250 {
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
    uint64_t tx_bytes;                                /* bytes the guest transmitted */
    void (*tx)(void *ctx, uint8_t byte);              /* NULL: transmitted bytes are dropped */
    void *ctx;
};

/* Its registers, for a snapshot: every byte value is one the guest could have written. */
struct uart8250_state {
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, pad;
};

void uart8250_init(struct uart8250 *u, void (*tx)(void *ctx, uint8_t byte), void *ctx);

/* A byte read or written at `offset` (0..7) from the base; other offsets read 0xff and ignore
 * writes. Never fails. */
uint8_t uart8250_read(struct uart8250 *u, unsigned offset);
void uart8250_write(struct uart8250 *u, unsigned offset, uint8_t value);

void uart8250_save(const struct uart8250 *u, struct uart8250_state *s);
void uart8250_load(struct uart8250 *u, const struct uart8250_state *s);

#endif
