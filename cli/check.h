/* `isovm check [--print] FILE...`: validate policy files without running anything. */
#ifndef ISOVM_CLI_CHECK_H
#define ISOVM_CLI_CHECK_H

/* argv[0] is "check". Prints "FILE: ok" (or with --print the effective policy as JSON) for each
 * valid FILE and FILE:LINE:COL: KEY: ... on stderr for each invalid one. Returns 0 when every
 * FILE is valid, 1 when any is not, 125 on bad usage. */
int cmd_check(int argc, char **argv);

#endif
