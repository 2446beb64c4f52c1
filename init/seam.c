/* The test build's seam: the wait for devices and ports, shortened by the test harness; the record
 * of what the guest's init would apply, and /test kept reachable after the move into the new root. */
#include "init/seam.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "init/abi.h"

int seam_wait_ms(void)
{
#if SEAM_TEST
    const char *s = getenv("ISOVM_INIT_TEST_WAIT_MS");
    if (s && *s) {
        long v = strtol(s, NULL, 10);
        if (v > 0 && v < ISOVM_INIT_WAIT_MS)
            return (int)v;
    }
#endif
    return ISOVM_INIT_WAIT_MS;
}

#if SEAM_TEST
static int test_dir = -1;

int seam_open(void)
{
    if (test_dir < 0)
        test_dir = open(SEAM_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return test_dir < 0 ? -errno : 0;
}

int seam_dir_fd(void) { return test_dir; }

int seam_record(const char *fmt, ...)
{
    char line[4096 + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof line - 1)
        return -EOVERFLOW;
    line[n++] = '\n';
    int rc = seam_open();
    if (rc)
        return rc;
    int fd = openat(test_dir, SEAM_APPLIED_NAME, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, line, (size_t)n);
    rc = w < 0 ? -errno : w != n ? -EIO : 0;
    close(fd);
    return rc;
}

DIR *seam_opendir(const char *name)
{
    if (seam_open())
        return NULL;
    int fd = openat(test_dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}
#else
int seam_open(void)
{
    return 0;
}
#endif
