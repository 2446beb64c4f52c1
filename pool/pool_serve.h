/* `isovm pool serve`: keeps N warm VMMs ready at a Unix socket and refills as jobs take them. */
#ifndef ISOVM_POOL_SERVE_H
#define ISOVM_POOL_SERVE_H
#include <stdio.h>

/* `isovm pool ...` (argv[0] "pool"): its exit status. */
int pool_main(int argc, char **argv);
void pool_usage(FILE *f);

#endif
