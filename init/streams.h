/* The job's streams: the three named virtio-console ports (init/abi.h), found by name in sysfs. */
#ifndef ISOVM_INIT_STREAMS_H
#define ISOVM_INIT_STREAMS_H
#include <stddef.h>

struct streams {
    int in, out, err; /* isovm.stdin (read), isovm.stdout and isovm.stderr (write); O_CLOEXEC */
};

/* Waits (up to ISOVM_INIT_WAIT_MS) until all three ports carry their names, and opens them.
 * 0, or -errno with err saying which port is missing or why it did not open. */
int streams_open(struct streams *st, char *err, size_t len);

/* isovm.stderr opened now, without waiting and non-blocking, or -1: for the init's last words
 * when it fails before streams_open. */
int streams_find_stderr(void);

#endif
