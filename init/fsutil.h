/* Small file helpers of the init: read a bounded file, write a short one, make directories. */
#ifndef ISOVM_INIT_FSUTIL_H
#define ISOVM_INIT_FSUTIL_H
#include <stddef.h>
#include <sys/types.h>

/* Reads all of path into a malloc'd, NUL-terminated *buf of *len bytes. 0, -errno, or -EFBIG
 * when the file has more than max bytes. */
int read_file(const char *path, size_t max, char **buf, size_t *len);

/* Writes s to path (which must exist: a sysfs, cgroup or proc file). 0 or -errno. */
int write_file(const char *path, const char *s);

/* mkdir -p: every missing component of path with mode. 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

/* Milliseconds of CLOCK_MONOTONIC. */
long long now_ms(void);

#endif
