/* Opening the policy's grants at launch: the root capabilities of the file-system view. */
#include "grants.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit.h"
#include "fs_path.h"
#include "log.h"

/* Open grants[i]'s host path: a directory to resolve beneath, or a regular file to reopen. */
static int grant_host_open(const struct grant *g, unsigned i, bool *is_file)
{
    int fd = open(g->host, O_PATH | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        log_err("policy grants[%u].host: %s: %s", i, g->host, strerror(e));
        return -e;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        fd = open(g->host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            log_err("policy grants[%u].host: %s: %s", i, g->host, strerror(e));
            return -e;
        }
        *is_file = false;
        return fd;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        log_err("policy grants[%u].host: %s: not a directory or a regular file", i, g->host);
        return -EINVAL;
    }
    /* A file the job could not open as its rights allow is a policy error found now. */
    int mode = (g->rights & CAP_R_WRITE) ? ((g->rights & CAP_R_READ) ? O_RDWR : O_WRONLY)
                                         : O_RDONLY;
    if (g->rights & (CAP_R_READ | CAP_R_WRITE)) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        int probe = open(proc, mode | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (probe < 0) {
            int e = errno;
            close(fd);
            log_err("policy grants[%u].host: %s: %s", i, g->host, strerror(e));
            return -e;
        }
        close(probe);
    }
    *is_file = true;
    return fd;
}

int grants_open(struct job *job)
{
    const struct policy *p = &job->policy;
    for (unsigned i = 0; i < p->ngrants; i++) {
        const struct grant *g = &p->grants[i];
        char norm[POLICY_GUEST_PATH_MAX];
        if (fsp_join("/", g->guest, norm, sizeof norm) || strcmp(norm, g->guest) != 0 ||
            strcmp(norm, "/") == 0) {
            log_err("policy grants[%u].guest: \"%s\" is not an absolute normalized path below /",
                    i, g->guest);
            return -EINVAL;
        }
        bool is_file = false;
        int fd = grant_host_open(g, i, &is_file);
        if (fd < 0)
            return fd;
        uint64_t deadline = 0;
        if (g->expires_ns && __builtin_add_overflow(job->start_ns, g->expires_ns, &deadline))
            deadline = UINT64_MAX;
        int slot = cap_create(&job->caps, CAP_NONE, is_file ? CAP_FILE : CAP_DIR,
                              CAP_FROM_GRANT, g->rights, deadline, fd, g->guest);
        if (slot < 0) {
            close(fd);
            log_err("policy grants[%u]: %s", i,
                    slot == -EMFILE ? "more grants than max_capabilities leaves room for"
                                    : strerror(-slot));
            return slot;
        }
        job->grant_roots[i] = (struct grant_root){
            .slot = (uint32_t)slot, .gen = job->caps.caps[slot].gen, .is_file = is_file };
        job->ngrant_roots = i + 1;
        audit_cap(job, "grant", (uint32_t)slot, -1, UINT64_MAX, "policy");
    }
    return endpoints_open(job);
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
        int slot = cap_create(&job->caps, CAP_NONE, CAP_ENDPOINT, CAP_FROM_GRANT,
                              CAP_R_READ | CAP_R_WRITE, deadline, -1, path);
        if (slot < 0) {
            log_err("policy endpoints[%u]: %s", i,
                    slot == -EMFILE ? "more grants and endpoints than max_capabilities leaves "
                                      "room for" : strerror(-slot));
            return slot;
        }
        job->caps.caps[slot].net = (struct cap_net){
            .v6 = ep->v6, .proto = (uint8_t)ep->proto, .endpoint = (int16_t)i };
        audit_cap(job, "grant", (uint32_t)slot, -1, UINT64_MAX, "policy");
    }
    return 0;
}

int grants_index_of_root(const struct job *job, uint32_t root_slot)
{
    for (unsigned i = 0; i < job->ngrant_roots; i++)
        if (job->grant_roots[i].slot == root_slot &&
            job->caps.caps[root_slot].gen == job->grant_roots[i].gen)
            return (int)i;
    return -1;
}
