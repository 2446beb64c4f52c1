/* The job's cgroup (v2): the init moves to a leaf of its own, the children get the pids and
 * memory controllers, the job's leaf gets pids.max; memory.events' oom_kill tells an OOM kill. */
#include "init/cgroup.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init/fsutil.h"

static bool has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *c = list; (c = strstr(c, w)); c += n)
        if ((c == list || c[-1] == ' ') && (c[n] == ' ' || c[n] == '\n' || c[n] == '\0'))
            return true;
    return false;
}

static int put(const char *base, const char *file, const char *value, char *err, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", base, file);
    int rc = write_file(path, value);
    if (rc)
        snprintf(err, len, "cannot write \"%s\" to %s: %s", value, path, strerror(-rc));
    return rc;
}

int cgroup_setup(const char *base, const struct job_spec *s, bool limit_memory,
                 struct job_cgroup *cg, char *err, size_t len)
{
    char path[512], *controllers, num[32];
    size_t n;
    int rc;
    cg->procs_fd = cg->events_fd = -1;
    snprintf(path, sizeof path, "%s/cgroup.controllers", base);
    if ((rc = read_file(path, 4096, &controllers, &n))) {
        snprintf(err, len, "cannot read %s: %s", path, strerror(-rc));
        return rc;
    }
    controllers[strcspn(controllers, "\n")] = '\0';
    bool pids = has_word(controllers, "pids"), memory = has_word(controllers, "memory");
    if (s->max_threads && !pids) {
        snprintf(err, len, "max_threads %" PRIu64 " cannot be enforced: the guest kernel offers no pids "
                 "controller (%s: \"%s\")", s->max_threads, path, controllers);
        free(controllers);
        return -ENOTSUP;
    }
    free(controllers);
    for (const char *const *d = (const char *const[]){"init", "job", NULL}; *d; d++) {
        snprintf(path, sizeof path, "%s/%s", base, *d);
        if (mkdir(path, 0755) && errno != EEXIST) {
            rc = -errno;
            snprintf(err, len, "cannot make the cgroup %s: %s", path, strerror(-rc));
            return rc;
        }
    }
    /* no process may stay in a cgroup whose children have controllers (but the root's) */
    snprintf(num, sizeof num, "%d", (int)getpid());
    if ((rc = put(base, "init/cgroup.procs", num, err, len)) ||
        (pids && (rc = put(base, "cgroup.subtree_control", "+pids", err, len))) ||
        (memory && (rc = put(base, "cgroup.subtree_control", "+memory", err, len))))
        return rc;
    if (s->max_threads) {
        snprintf(num, sizeof num, "%" PRIu64, s->max_threads);
        if ((rc = put(base, "job/pids.max", num, err, len)))
            return rc;
    }
    if (memory && limit_memory && s->memory) {
        snprintf(num, sizeof num, "%" PRIu64, s->memory);
        if ((rc = put(base, "job/memory.max", num, err, len)))
            return rc;
    }
    snprintf(path, sizeof path, "%s/job/cgroup.procs", base);
    if ((cg->procs_fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
        rc = -errno;
        snprintf(err, len, "cannot open %s: %s", path, strerror(-rc));
        return rc;
    }
    if (memory) {
        snprintf(path, sizeof path, "%s/job/memory.events", base);
        if ((cg->events_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            rc = -errno;
            snprintf(err, len, "cannot open %s: %s", path, strerror(-rc));
            close(cg->procs_fd);
            cg->procs_fd = -1;
            return rc;
        }
    }
    return 0;
}

int cgroup_join(const struct job_cgroup *cg)
{
    if (cg->procs_fd < 0)
        return -EBADF;
    return write(cg->procs_fd, "0", 1) == 1 ? 0 : -errno;
}

long long cgroup_oom_kills(const struct job_cgroup *cg)
{
    char b[1024];
    if (cg->events_fd < 0)
        return -1;
    ssize_t n = pread(cg->events_fd, b, sizeof b - 1, 0);
    if (n <= 0)
        return -1;
    b[n] = '\0';
    for (char *line = b; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (!strncmp(line, "oom_kill ", 9)) {
            char *end;
            errno = 0;
            long long v = strtoll(line + 9, &end, 10);
            return (errno || end == line + 9 || v < 0) ? -1 : v;
        }
    }
    return -1;
}
