/* `isovm launch`'s option parser, shared with `isovm jail` (which checks the same arguments). */
#ifndef ISOVM_LAUNCH_CLI_H
#define ISOVM_LAUNCH_CLI_H
#include <stdbool.h>
#include <stdio.h>
#include "vmm/run/launch.h"

/* Called with the parsed options (valid only during the call); its return is the exit status. */
typedef int (*launch_then_fn)(const struct launch_opts *o, void *ctx);

/* Parse `launch [options] [--] PROGRAM [ARGS...]` (argv[0] is "launch"), build and check the
 * policy, then run the job (then NULL) or call then(o, ctx). Bad usage prints a message and the
 * usage and returns 125; --help prints the usage and returns 0 without calling then. */
int launch_cli(int argc, char **argv, launch_then_fn then, void *ctx);

/* `isovm launch --pool PATH ...`: hands the whole command line (argv[0] "launch") to the pool
 * at PATH and returns the job's exit status. Set by main() (pool/pool_client.c, a layer above);
 * NULL in a pool's own VMM, which then takes --pool as said and runs the job itself. */
extern int (*launch_cli_pool_client)(const char *path, int argc, char **argv);
/* Set in a pool's VMM and a jailed pool's helper: the command line parsed is a pool's job, whose
 * --pool was its client's (a `then` caller then does not refuse it as isovm jail's). */
extern bool launch_cli_pool_job;

/* `isovm launch --help`: its usage line, options and exit statuses. */
void launch_usage(FILE *f);
/* The option list alone ("launch options:" ... "0 means none."), for `isovm --help` too. */
void launch_usage_options(FILE *f);
/* "launch exit status: ..." */
void launch_usage_exit_status(FILE *f);

#endif
