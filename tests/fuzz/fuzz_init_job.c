/* libFuzzer harness for the job file (init/job_file.c): the input is a whole job file. A file
 * the parser accepts must be well formed (argv and envp NULL-terminated, every string inside
 * the decoded copy, shares normalized and hiding nothing, limits kept) and survive the writer's
 * round trip (init/job_write.c) unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "init/job_file.h"
#include "init/job_write.h"

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void same(const struct job_spec *a, const struct job_spec *b)
{
    if (a->prepare != b->prepare || a->argc != b->argc || a->envc != b->envc || !same_str(a->cwd, b->cwd) ||
        !same_str(a->root_dev, b->root_dev) || !same_str(a->root_fstype, b->root_fstype) ||
        a->overlay != b->overlay || !same_str(a->overlay_dev, b->overlay_dev) ||
        !same_str(a->overlay_fstype, b->overlay_fstype) || a->ndisks != b->ndisks ||
        a->nshares != b->nshares || a->has_net != b->has_net || a->net_addr != b->net_addr ||
        a->net_prefix != b->net_prefix || a->nhosts != b->nhosts ||
        a->has_nameserver != b->has_nameserver || a->nameserver != b->nameserver ||
        a->max_threads != b->max_threads || a->memory != b->memory || a->has_time != b->has_time ||
        a->time_sec != b->time_sec || a->time_nsec != b->time_nsec || a->has_seed != b->has_seed ||
        memcmp(a->seed, b->seed, sizeof a->seed))
        abort();
    for (size_t i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], b->argv[i]))
            abort();
    for (size_t i = 0; i < a->envc; i++)
        if (strcmp(a->envp[i], b->envp[i]))
            abort();
    for (size_t i = 0; i < a->ndisks; i++)
        if (!same_str(a->disks[i].dev, b->disks[i].dev) ||
            !same_str(a->disks[i].fstype, b->disks[i].fstype) ||
            !same_str(a->disks[i].mountpoint, b->disks[i].mountpoint) ||
            a->disks[i].rw != b->disks[i].rw)
            abort();
    for (size_t i = 0; i < a->nshares; i++)
        if (strcmp(a->shares[i].mountpoint, b->shares[i].mountpoint) || a->shares[i].rw != b->shares[i].rw)
            abort();
    for (size_t i = 0; i < a->nhosts; i++)
        if (strcmp(a->hosts[i].name, b->hosts[i].name) || a->hosts[i].addr != b->hosts[i].addr)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct job_spec s;
    char err[256];
    if (job_parse((const char *)data, size, &s, err, sizeof err)) {
        if (!err[0] || strlen(err) >= sizeof err)
            abort(); /* every refusal says why */
        return 0;
    }
    /* a prepare file: a root, and nothing of a job's; any other: a program */
    if (s.prepare ? s.argc || s.envc || s.ndisks || s.nshares || s.has_net || s.nhosts ||
                        s.has_nameserver || s.max_threads || s.memory || s.has_time || s.has_seed ||
                        !s.root_dev || strcmp(s.cwd, "/")
                  : s.argc < 1 || s.argv[s.argc] || s.envp[s.envc] || !s.argv[0][0] || !s.root_dev)
        abort();
    if (s.has_time ? s.time_sec < 0 || s.time_nsec > 999999999 : s.time_sec || s.time_nsec)
        abort();
    if (s.nshares > ISOVM_JOB_SHARES_MAX || s.nhosts > ISOVM_JOB_HOSTS_MAX ||
        (s.has_net ? s.net_prefix < 1 || s.net_prefix > 32 : s.net_addr || s.net_prefix) ||
        (!s.has_nameserver && s.nameserver))
        abort();
    /* a share's mount point is normalized, fits the 9p options, and is shared once */
    for (size_t i = 0; i < s.nshares; i++) {
        const char *m = s.shares[i].mountpoint;
        size_t n = strlen(m);
        if (m[0] != '/' || n < 2 || n > ISOVM_JOB_SHARE_PATH_MAX || m[n - 1] == '/' || strstr(m, "//") ||
            strstr(m, "/./") || strstr(m, "/../") || strchr(m, ',') ||
            (n >= 2 && !strcmp(m + n - 2, "/.")) || (n >= 3 && !strcmp(m + n - 3, "/..")))
            abort();
        for (size_t j = 0; j < i; j++) {
            size_t l = strlen(s.shares[j].mountpoint);
            if (!strcmp(m, s.shares[j].mountpoint) || (l == n && !strncmp(s.shares[j].mountpoint, m, n)))
                abort();
        }
    }
    for (size_t i = 0; i < s.nhosts; i++)
        if (!s.hosts[i].name[0] || strlen(s.hosts[i].name) > 253)
            abort();
    char *text;
    size_t len;
    if (job_write(&s, &text, &len, err, sizeof err))
        abort();
    struct job_spec again;
    if (job_parse(text, len, &again, err, sizeof err))
        abort();
    same(&s, &again);
    job_spec_free(&again);
    free(text);
    job_spec_free(&s);
    return 0;
}
