/* `isovm cap ...`: the control socket's client (docs/control.md). */
#ifndef ISOVM_CONTROL_CLIENT_H
#define ISOVM_CONTROL_CLIENT_H

/* isovm cap list|revoke|info --control PATH ...: 0 done, 1 the VMM answered an error, 125 bad
 * usage or the socket cannot be reached. argv[0] is "cap". */
int cap_main(int argc, char **argv);

#endif
