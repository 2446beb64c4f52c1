/* The status port: 32-bit `out` to ISOVM_STATUS_PORT (the test build appends "KIND DETAIL" lines
 * to a file instead), and the guest's end: sync, the last write, power off. */
#include "init/status.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>
#include "init/seam.h"
#if !SEAM_TEST
#include <sys/io.h>
#endif

#if SEAM_TEST
static int status_fd = -1;
#endif

int status_open(void)
{
#if SEAM_TEST
    status_fd = open(SEAM_STATUS_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    return status_fd < 0 ? -errno : 0;
#else
    return ioperm(ISOVM_STATUS_PORT, 4, 1) ? -errno : 0;
#endif
}

void status_send(enum isovm_status_kind kind, unsigned detail)
{
    unsigned v = ISOVM_STATUS(kind, detail);
#if SEAM_TEST
    char line[32];
    int n = snprintf(line, sizeof line, "%u %u\n", ISOVM_STATUS_KIND(v), ISOVM_STATUS_DETAIL(v));
    if (status_fd >= 0 && write(status_fd, line, (size_t)n) < 0)
        (void)0; /* nowhere to say it */
#else
    __asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"((unsigned short)ISOVM_STATUS_PORT));
#endif
}

void status_phase(enum isovm_phase phase)
{
    status_send(ISOVM_STATUS_PHASE, phase);
}

_Noreturn void status_end(enum isovm_status_kind kind, unsigned detail)
{
    sync();
    status_send(kind, detail);
#if SEAM_TEST
    _exit(0);
#else
    reboot(RB_POWER_OFF);
    /* still here: exiting makes the kernel panic, and panic=-1 with reboot=k resets the guest */
    _exit(1);
#endif
}
