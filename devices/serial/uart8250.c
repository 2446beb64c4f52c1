/* A transmit-only 16550A: THR to a callback, the line and modem status the driver expects
 * (transmitter always empty, no received data, loopback that mirrors MCR into MSR). */
#include "devices/serial/uart8250.h"
#include <string.h>

#define REG_RBR_THR 0   /* DLAB 0: receive / transmit; DLAB 1: divisor latch low */
#define REG_IER     1   /* DLAB 1: divisor latch high */
#define REG_IIR_FCR 2
#define REG_LCR     3
#define REG_MCR     4
#define REG_LSR     5
#define REG_MSR     6
#define REG_SCR     7

#define LCR_DLAB    0x80
#define MCR_LOOP    0x10
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define IIR_NO_INT  0x01
#define IIR_FIFO    0xc0   /* FIFOs enabled (a 16550A) */
#define FCR_ENABLE  0x01

void uart8250_init(struct uart8250 *u, void (*tx)(void *ctx, uint8_t byte), void *ctx)
{
    memset(u, 0, sizeof *u);
    u->tx = tx;
    u->ctx = ctx;
    u->mcr = 0x08; /* OUT2 */
}

/* MSR in loopback: DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD; else the line is up. */
static uint8_t msr(const struct uart8250 *u)
{
    if (!(u->mcr & MCR_LOOP))
        return 0xb0; /* DCD, DSR, CTS */
    return (uint8_t)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) | ((u->mcr & 0x04) << 4) |
                     ((u->mcr & 0x08) << 4));
}

uint8_t uart8250_read(struct uart8250 *u, unsigned offset)
{
    switch (offset) {
    case REG_RBR_THR: return u->lcr & LCR_DLAB ? u->dll : 0;
    case REG_IER: return u->lcr & LCR_DLAB ? u->dlm : u->ier;
    case REG_IIR_FCR: return (uint8_t)(IIR_NO_INT | (u->fcr & FCR_ENABLE ? IIR_FIFO : 0));
    case REG_LCR: return u->lcr;
    case REG_MCR: return u->mcr;
    case REG_LSR: return LSR_THRE | LSR_TEMT;
    case REG_MSR: return msr(u);
    case REG_SCR: return u->scr;
    default: return 0xff;
    }
}

void uart8250_write(struct uart8250 *u, unsigned offset, uint8_t value)
{
    switch (offset) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB)
            u->dll = value;
        else if (!(u->mcr & MCR_LOOP)) {
            u->tx_bytes++;
            if (u->tx)
                u->tx(u->ctx, value);
        }
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB)
            u->dlm = value;
        else
            u->ier = value & 0x0f;
        break;
    case REG_IIR_FCR: u->fcr = value; break;
    case REG_LCR: u->lcr = value; break;
    case REG_MCR: u->mcr = value & 0x1f; break;
    case REG_SCR: u->scr = value; break;
    default: break; /* LSR, MSR: read-only */
    }
}

void uart8250_save(const struct uart8250 *u, struct uart8250_state *s)
{
    *s = (struct uart8250_state){ .ier = u->ier, .lcr = u->lcr, .mcr = u->mcr, .scr = u->scr,
                                  .fcr = u->fcr, .dll = u->dll, .dlm = u->dlm };
}

void uart8250_load(struct uart8250 *u, const struct uart8250_state *s)
{
    u->ier = s->ier;
    u->lcr = s->lcr;
    u->mcr = s->mcr;
    u->scr = s->scr;
    u->fcr = s->fcr;
    u->dll = s->dll;
    u->dlm = s->dlm;
}
