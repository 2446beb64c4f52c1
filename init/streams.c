/* The job's streams: scans /sys/class/virtio-ports/vportNpM/name for isovm.stdin, isovm.stdout
 * and isovm.stderr, waits for all three, and opens /dev/vportNpM of each. */
#include "init/streams.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "init/abi.h"
#include "init/fsutil.h"
#include "init/seam.h"

enum { PORT_IN, PORT_OUT, PORT_ERR, PORTS };
static const char *const port_names[PORTS] = {ISOVM_PORT_STDIN, ISOVM_PORT_STDOUT, ISOVM_PORT_STDERR};

/* One look at the ports there are: found[i] = the vport of port_names[i], or "". -EEXIST when
 * two ports carry one name (err says which). */
static int scan(char found[PORTS][64], char *err, size_t len)
{
    for (int i = 0; i < PORTS; i++)
        found[i][0] = '\0';
    DIR *d = opendir(SEAM_PORTS_SYSDIR);
    if (!d)
        return 0; /* the class appears with virtio_console's first port */
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= 64)
            continue;
        char path[256], name[128];
        snprintf(path, sizeof path, "%s/%.63s/name", SEAM_PORTS_SYSDIR, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* not named (yet) */
        ssize_t n = read(fd, name, sizeof name - 1);
        close(fd);
        if (n <= 0)
            continue;
        name[n] = '\0';
        name[strcspn(name, "\n")] = '\0';
        for (int i = 0; i < PORTS; i++) {
            if (strcmp(name, port_names[i]))
                continue;
            if (found[i][0]) {
                snprintf(err, len, "two ports are named %s: %s and %s", name, found[i], e->d_name);
                rc = -EEXIST;
            }
            snprintf(found[i], sizeof found[i], "%.63s", e->d_name);
        }
    }
    closedir(d);
    return rc;
}

static int open_port(const char *vport, int flags)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", SEAM_PORTS_DEVDIR, vport);
    int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
    return fd < 0 ? -errno : fd;
}

int streams_open(struct streams *st, char *err, size_t len)
{
    char found[PORTS][64];
    long long deadline = now_ms() + seam_wait_ms();
    int rc;
    st->in = st->out = st->err = -1;
    for (;;) {
        if ((rc = scan(found, err, len)))
            return rc;
        if (found[PORT_IN][0] && found[PORT_OUT][0] && found[PORT_ERR][0])
            break;
        if (now_ms() >= deadline) {
            char missing[128] = "";
            for (int i = 0; i < PORTS; i++)
                if (!found[i][0])
                    snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                             missing[0] ? ", " : "", port_names[i]);
            snprintf(err, len,
                     "no port named %s under %s after %d ms (the VMM gives one virtio-console "
                     "device with the ports named in init/abi.h)",
                     missing, SEAM_PORTS_SYSDIR, seam_wait_ms());
            return -ENODEV;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int *fds[PORTS] = {&st->in, &st->out, &st->err};
    for (int i = 0; i < PORTS; i++) {
        /* the device node follows the sysfs entry; give it the rest of the wait */
        while ((rc = open_port(found[i], i == PORT_IN ? O_RDONLY : O_WRONLY)) == -ENOENT &&
               now_ms() < deadline) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (rc < 0) {
            snprintf(err, len, "cannot open %s/%s (port %s): %s", SEAM_PORTS_DEVDIR, found[i],
                     port_names[i], strerror(-rc));
            for (int j = 0; j < i; j++)
                close(*fds[j]);
            st->in = st->out = st->err = -1;
            return rc;
        }
        *fds[i] = rc;
    }
    return 0;
}

int streams_find_stderr(void)
{
    char found[PORTS][64], err[256];
    if (scan(found, err, sizeof err) || !found[PORT_ERR][0])
        return -1;
    int fd = open_port(found[PORT_ERR], O_WRONLY | O_NONBLOCK);
    return fd < 0 ? -1 : fd;
}
