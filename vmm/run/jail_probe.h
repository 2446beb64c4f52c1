/* Test hook "jail-probe" (isovm-hooks only): print what the VMM sees of its jail. */
#ifndef ISOVM_JAIL_PROBE_H
#define ISOVM_JAIL_PROBE_H

/* Prints to stdout, one fact a line: ids, groups, capabilities (all five sets), no_new_privs,
 * pid, hostname, network interfaces, and the whole tree under / with kind, mode, ro/rw and
 * whether a regular file opens for writing. With hook "jail-probe-wait" it then waits until
 * stdin has a byte or ends (the test inspects the cgroup meanwhile). */
void jail_probe(void);

#endif
