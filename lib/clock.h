/* Time for the VMM: clocks read in nanoseconds, timespec conversions, monotonic deadlines. */
#ifndef ISOVM_CLOCK_H
#define ISOVM_CLOCK_H
#include <stdint.h>
#include <time.h>

/* Clock `id` in nanoseconds; 0 when it cannot be read (e.g. the CPU clock of a thread that has
 * just finished). */
uint64_t clock_ns(clockid_t id);

/* CLOCK_MONOTONIC in nanoseconds: every VMM deadline is on this clock. */
uint64_t mono_ns(void);

/* A timespec the caller has checked (tv_sec >= 0, 0 <= tv_nsec < 1e9) in nanoseconds, and back. */
uint64_t ts_ns(const struct timespec *ts);
struct timespec ns_ts(uint64_t ns);

/* When main() began, on CLOCK_MONOTONIC and CLOCK_REALTIME (clock_main_mark sets them; 0
 * before): the reference of a launch's phases in its report, and, with a caller's own realtime
 * stamp taken before the exec, the process start's cost. */
extern uint64_t clock_main_mono_ns, clock_main_real_ns;
void clock_main_mark(void);

/* ns as seconds with milliseconds, for messages: "3.000s". */
void clock_secs_text(char *buf, size_t len, uint64_t ns);

/* The CLOCK_MONOTONIC time at which clock `id` reads when_ns (now, if it already has). */
uint64_t mono_deadline(clockid_t id, uint64_t when_ns);

#endif
