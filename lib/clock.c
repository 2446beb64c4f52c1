/* Time for the VMM: clocks read in nanoseconds, timespec conversions, monotonic deadlines. */
#include "lib/clock.h"
#include <stdio.h>

uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    return clock_gettime(id, &ts) == 0 ? ts_ns(&ts) : 0;
}

uint64_t clock_main_mono_ns, clock_main_real_ns;

void clock_main_mark(void)
{
    clock_main_mono_ns = clock_ns(CLOCK_MONOTONIC);
    clock_main_real_ns = clock_ns(CLOCK_REALTIME);
}

void clock_secs_text(char *buf, size_t len, uint64_t ns)
{
    snprintf(buf, len, "%llu.%03llus", (unsigned long long)(ns / 1000000000ull),
             (unsigned long long)(ns / 1000000ull % 1000));
}

uint64_t mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t ts_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

struct timespec ns_ts(uint64_t ns)
{
    return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ull),
                              .tv_nsec = (long)(ns % 1000000000ull) };
}

uint64_t mono_deadline(clockid_t id, uint64_t when_ns)
{
    uint64_t now = mono_ns();
    if (id == CLOCK_MONOTONIC)
        return when_ns;
    uint64_t clock_now = clock_ns(id);
    return when_ns <= clock_now ? now : now + (when_ns - clock_now);
}
