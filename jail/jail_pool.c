/* A pool's jailed VMMs: each one's jail and cgroup made ahead of its job; a job's files bound into that jail when it comes. */
#include "jail/jail_pool.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jail/jail_child.h"
#include "lib/log.h"
#include "vmm/run/launch_cli.h"

int jail_pool_check(const struct jail_args *a)
{
    struct jail_args probe = *a;
    snprintf(probe.id, sizeof probe.id, "pool-%ld-0", (long)getpid());
    struct jail *j = calloc(1, sizeof *j);
    if (!j)
        return jerr("out of memory");
    j->a = &probe;
    j->pool = true;
    int rc = jail_host_validate(j);
    free(j);
    return rc ? rc : jail_pvm_refuse();
}

int jail_pool_vmm_make(struct jail_pool_vmm *v, const struct jail_args *base, unsigned seq,
                       const struct launch_opts *o, struct jail *j)
{
    v->a = *base;
    snprintf(v->a.id, sizeof v->a.id, "pool-%ld-%u", (long)getpid(), seq);
    v->pid = -1;
    memset(j, 0, offsetof(struct jail, binds)); /* the binds: none (nbinds 0) */
    j->nbinds = 0;
    j->ncg_fds = 0;
    j->a = &v->a;
    j->o = o;
    j->pool = true;
    j->netns_fd = -1;
    j->keeper_fd = -1;
    int rc = jail_host_validate(j);
    if (rc || (rc = jail_make(j)))
        return rc;
    memcpy(v->jail_dir, j->jail_dir, sizeof v->jail_dir);
    memcpy(v->root, j->root, sizeof v->root);
    v->cg = j->cg;
    return 0;
}

void jail_pool_vmm_forked(struct jail *j)
{
    for (int i = 0; i < j->ncg_fds; i++)
        close(j->cg_fds[i]);
    j->ncg_fds = 0;
    if (j->netns_fd >= 0)
        close(j->netns_fd);
    j->netns_fd = -1;
}

void jail_pool_vmm_remove(struct jail_pool_vmm *v)
{
    cgroup_remove(&v->cg);
    if (rmdir(v->root) < 0 && errno != ENOENT)
        log_err("jail: cannot remove %s: %s", v->root, strerror(errno));
    if (rmdir(v->jail_dir) < 0 && errno != ENOENT)
        log_err("jail: cannot remove %s: %s", v->jail_dir, strerror(errno));
}

struct bind_ctx {
    const struct jail_pool_vmm *v;
    char *cwd;
    size_t len;
};

/* launch_cli's parse done: the job's checks, files, limits and binds. */
static int bind_then(const struct launch_opts *o, void *ctx)
{
    struct bind_ctx *c = ctx;
    struct jail *j = calloc(1, sizeof *j);
    if (!j)
        return jerr("out of memory");
    j->a = &c->v->a;
    j->o = o;
    j->pool = true;
    j->netns_fd = -1;
    j->keeper_fd = -1;
    j->cg = c->v->cg;
    memcpy(j->jail_dir, c->v->jail_dir, sizeof j->jail_dir);
    memcpy(j->root, c->v->root, sizeof j->root);
    int rc = jail_validate_pooled(j);
    if (!rc)
        rc = jail_outputs_make(j);
    if (!rc)
        rc = jail_cgroup_limits(j); /* the job's own: its memory may not be the pool's */
    if (!rc) {
        char ns[64], root[64];
        snprintf(ns, sizeof ns, "/proc/%ld/ns/mnt", (long)c->v->pid);
        snprintf(root, sizeof root, "/proc/%ld/root", (long)c->v->pid);
        int mntns = open(ns, O_RDONLY | O_CLOEXEC);
        int rootfd = mntns < 0 ? -1 : open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (mntns < 0 || rootfd < 0)
            rc = jerr("the VMM's %s: %s", mntns < 0 ? ns : root, strerror(errno));
        else
            jail_binds_into(j, mntns, rootfd); /* exits 125 after a message on failure */
        if (mntns >= 0)
            close(mntns);
        if (rootfd >= 0)
            close(rootfd);
        snprintf(c->cwd, c->len, "%s", j->need_cwd ? j->cwd : "/");
    }
    free(j);
    return rc;
}

int jail_pool_bind(const struct jail_pool_vmm *v, int argc, char **argv, char *cwd, size_t len)
{
    struct bind_ctx c = { .v = v, .cwd = cwd, .len = len };
    snprintf(cwd, len, "/"); /* --help: nothing bound, then() not called */
    launch_cli_pool_client = NULL; /* the job's own --pool: its client's, not followed here */
    launch_cli_pool_job = true;
    return launch_cli(argc, argv, bind_then, &c);
}
