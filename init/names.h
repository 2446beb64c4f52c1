/* The job's names (host and nameserver lines, init/abi.h): the new root's /etc/hosts and
 * /etc/resolv.conf. */
#ifndef ISOVM_INIT_NAMES_H
#define ISOVM_INIT_NAMES_H
#include <stddef.h>
#include "init/job_file.h"

/* In the new root: /etc/hosts ("127.0.0.1 localhost", then "ADDR NAME" per host line) when the
 * job file has host lines, /etc/resolv.conf ("nameserver ADDR") when it has a nameserver line;
 * each replaces the root's, or on a read-only root is bind-mounted (read-only) over it from a
 * small tmpfs. 0, or -errno with err naming the file. */
int names_write(const struct job_spec *s, char *err, size_t len);

#endif
