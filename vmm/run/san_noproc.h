/* Ending a sanitizer build's process where LeakSanitizer cannot work (no /proc in the jail). */
#ifndef ISOVM_SAN_NOPROC_H
#define ISOVM_SAN_NOPROC_H

/* Returns status. In an ASan build without /proc (the VMM under isovm jail), flushes stdio and
 * _exits with status instead: LeakSanitizer's exit-time check needs /proc/PID/task and would
 * turn every job into a "fatal error" (and it cannot be switched off from the environment there,
 * which ASan reads through /proc/self/environ). Leaks are checked by plain launches. */
int san_exit_without_proc(int status);

#endif
