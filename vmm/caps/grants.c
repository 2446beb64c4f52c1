/* Opening the policy's grants at launch: the root capabilities of the file-system view. */
#include "vmm/caps/grants.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vmm/caps/audit.h"
#include "vmm/caps/fs_path.h"
#include "lib/host_path.h"
#include "lib/log.h"

/* Reopen a granted regular file by name beneath its parent directory, never through /proc
 * (the jailed VMM has none), and check it is still the granted inode. fd or -errno (-ESTALE:
 * another file took the name). O_TRUNC is applied only after the check. */
int grant_file_reopen(const struct grant_root *r, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW)) | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, r->parent_fd, r->name, &how, sizeof how);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat((int)fd, &st) < 0 || (uint64_t)st.st_dev != r->dev || (uint64_t)st.st_ino != r->ino) {
        close((int)fd);
        return -ESTALE;
    }
    if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY && ftruncate((int)fd, 0) < 0) {
        int e = errno;
        close((int)fd);
        return -e;
    }
    return (int)fd;
}

/* One line naming grant i and what is wrong with its host path; -err. */
static int grant_err(const struct grant *g, unsigned i, int err, const char *what)
{
    log_err("policy grants[%u].host: %s: %s", i, g->host, what ? what : strerror(err));
    return -err;
}

/* Open grants[i]'s host path: a directory to resolve beneath, or a regular file (O_PATH, with
 * its parent directory and name in *r to reopen it). No component of the path may be a symlink,
 * the last one included: what a grant shows is what its path names, not what a link there
 * points to at launch (a job could have made that link: docs/filesystem.md). */
static int grant_host_open(const struct grant *g, unsigned i, struct grant_root *r)
{
    int fd = host_path_open(g->host, O_PATH);
    if (fd == -ELOOP) {
        char why[3 * PATH_MAX];
        host_path_symlink_explain(g->host, why, sizeof why);
        return grant_err(g, i, ELOOP, why);
    }
    if (fd < 0)
        return grant_err(g, i, -fd, NULL);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return grant_err(g, i, e, NULL);
    }
    if (S_ISDIR(st.st_mode)) {
        /* the very directory just opened, readable for getdents */
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int e = errno;
        close(fd);
        if (dfd < 0)
            return grant_err(g, i, e, NULL);
        r->is_file = false;
        return dfd;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return grant_err(g, i, EINVAL, "not a directory or a regular file");
    }
    /* its parent directory and name (no symlink in the path: realpath only tidies it) */
    char real[PATH_MAX];
    if (!realpath(g->host, real)) {
        int e = errno;
        close(fd);
        return grant_err(g, i, e, NULL);
    }
    char *slash = strrchr(real, '/');
    if (strlen(slash + 1) >= sizeof r->name) {
        close(fd);
        return grant_err(g, i, ENAMETOOLONG, "name too long");
    }
    snprintf(r->name, sizeof r->name, "%s", slash + 1);
    *slash = '\0';
    r->parent_fd = host_path_open(real[0] ? real : "/", O_PATH | O_DIRECTORY);
    if (r->parent_fd < 0) {
        int e = -r->parent_fd;
        close(fd);
        log_err("policy grants[%u].host: %s: its directory: %s", i, g->host, strerror(e));
        return -e;
    }
    r->is_file = true;
    r->dev = (uint64_t)st.st_dev;
    r->ino = (uint64_t)st.st_ino;
    /* A file the job could not open as its rights allow is a policy error found now. */
    int mode = (g->rights & CAP_R_WRITE) ? ((g->rights & CAP_R_READ) ? O_RDWR : O_WRONLY)
                                         : O_RDONLY;
    if (g->rights & (CAP_R_READ | CAP_R_WRITE)) {
        int probe = grant_file_reopen(r, mode | O_NOCTTY | O_NONBLOCK);
        if (probe < 0) {
            close(fd);
            close(r->parent_fd);
            r->parent_fd = -1;
            return grant_err(g, i, -probe, NULL);
        }
        close(probe);
    }
    return fd;
}

int grants_open(struct job *job)
{
    const struct policy *p = &job->policy;
    if (p->ngrants) {
        job->grant_roots = calloc(POLICY_MAX_GRANTS, sizeof *job->grant_roots);
        if (!job->grant_roots) {
            log_err("cannot open the policy's grants: out of memory");
            return -ENOMEM;
        }
    }
    for (unsigned i = 0; i < p->ngrants; i++) {
        const struct grant *g = &p->grants[i];
        char norm[POLICY_GUEST_PATH_MAX];
        if (fsp_join("/", g->guest, norm, sizeof norm) || strcmp(norm, g->guest) != 0 ||
            strcmp(norm, "/") == 0) {
            log_err("policy grants[%u].guest: \"%s\" is not an absolute normalized path below /",
                    i, g->guest);
            return -EINVAL;
        }
        struct grant_root r = { .parent_fd = -1 };
        int fd = grant_host_open(g, i, &r);
        if (fd < 0)
            return fd;
        bool is_file = r.is_file;
        uint64_t deadline = 0;
        if (g->expires_ns && __builtin_add_overflow(job->start_ns, g->expires_ns, &deadline))
            deadline = UINT64_MAX;
        int slot = cap_create(job->caps, CAP_NONE, is_file ? CAP_FILE : CAP_DIR,
                              CAP_FROM_GRANT, g->rights, deadline, fd, g->guest);
        if (slot < 0) {
            close(fd);
            if (r.parent_fd >= 0)
                close(r.parent_fd);
            log_err("policy grants[%u]: %s", i,
                    slot == -EMFILE ? "more grants than max_capabilities leaves room for"
                                    : strerror(-slot));
            return slot;
        }
        r.slot = (uint32_t)slot;
        r.gen = job->caps->caps[slot].gen;
        job->grant_roots[i] = r;
        job->ngrant_roots = i + 1;
        audit_cap(job, "grant", (uint32_t)slot, -1, UINT64_MAX, "policy");
    }
    return endpoints_open(job);
}

void grants_close(struct job *job)
{
    for (unsigned i = 0; i < job->ngrant_roots; i++)
        if (job->grant_roots[i].is_file && job->grant_roots[i].parent_fd > 2) {
            close(job->grant_roots[i].parent_fd);
            job->grant_roots[i].parent_fd = -1;
        }
    free(job->grant_roots);
    job->grant_roots = NULL;
    job->ngrant_roots = 0;
}

int endpoints_open(struct job *job)
{
    const struct policy *p = &job->policy;
    for (unsigned i = 0; i < p->nendpoints && i < POLICY_MAX_ENDPOINTS; i++) {
        const struct endpoint *ep = &p->endpoints[i];
        char text[POLICY_ENDPOINT_TEXT], path[POLICY_ENDPOINT_TEXT + 8];
        endpoint_format(ep, text, sizeof text);
        snprintf(path, sizeof path, "%s %s", ep->mode == EP_LISTEN ? "listen" : "connect", text);
        uint64_t deadline = 0;
        if (ep->expires_ns && __builtin_add_overflow(job->start_ns, ep->expires_ns, &deadline))
            deadline = UINT64_MAX;
        int slot = cap_create(job->caps, CAP_NONE, CAP_ENDPOINT, CAP_FROM_GRANT,
                              CAP_R_READ | CAP_R_WRITE, deadline, -1, path);
        if (slot < 0) {
            log_err("policy endpoints[%u]: %s", i,
                    slot == -EMFILE ? "more grants and endpoints than max_capabilities leaves "
                                      "room for" : strerror(-slot));
            return slot;
        }
        job->caps->caps[slot].net = (struct cap_net){
            .v6 = ep->v6, .proto = (uint8_t)ep->proto, .endpoint = (int16_t)i };
        audit_cap(job, "grant", (uint32_t)slot, -1, UINT64_MAX, "policy");
    }
    return 0;
}

int grants_index_of_root(const struct job *job, uint32_t root_slot)
{
    for (unsigned i = 0; i < job->ngrant_roots; i++)
        if (job->grant_roots[i].slot == root_slot &&
            job->caps->caps[root_slot].gen == job->grant_roots[i].gen)
            return (int)i;
    return -1;
}
