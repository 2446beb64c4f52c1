/* `isovm --help`: the overall usage, and bad usage of the top-level commands. */
#ifndef ISOVM_CLI_USAGE_H
#define ISOVM_CLI_USAGE_H
#include <stdio.h>

/* Every command, the launch options, isovm check and the exit statuses. */
void isovm_usage(FILE *f);

/* Print the message (as "isovm: ...") and the usage on stderr; returns 125. */
int cli_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
