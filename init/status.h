/* The status port (init/abi.h): the init's phases and the job's end for the VMM, and the guest's
 * end after it. */
#ifndef ISOVM_INIT_STATUS_H
#define ISOVM_INIT_STATUS_H
#include "init/abi.h"

/* Gains access to the port (ioperm). 0 or -errno. */
int status_open(void);

/* One 32-bit write: ISOVM_STATUS(kind, detail). */
void status_send(enum isovm_status_kind kind, unsigned detail);
void status_phase(enum isovm_phase phase);

/* The end: sync, the last status write (the VMM ends the guest at it), then power off as a
 * fallback; never returns. */
_Noreturn void status_end(enum isovm_status_kind kind, unsigned detail);

#endif
