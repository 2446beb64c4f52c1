/* The test build's seam: the wait for devices and ports, shortened by the test harness. */
#include "init/seam.h"
#include <stdlib.h>
#include "init/abi.h"

int seam_wait_ms(void)
{
#if SEAM_TEST
    const char *s = getenv("ISOVM_INIT_TEST_WAIT_MS");
    if (s && *s) {
        long v = strtol(s, NULL, 10);
        if (v > 0 && v < ISOVM_INIT_WAIT_MS)
            return (int)v;
    }
#endif
    return ISOVM_INIT_WAIT_MS;
}
