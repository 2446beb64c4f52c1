/* The jailed job's cgroup: find v1 or v2, create, limit, read usage, remove. */
#include "jail/cgroup.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include "lib/log.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static bool has_word(const char *list, const char *word, char sep)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !memcmp(p, word, n))
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static int file_read(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

static int file_write(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    int e = errno;
    close(fd);
    if (w < 0)
        return -e;
    return (size_t)w == n ? 0 : -EIO;
}

/* v1: the hierarchies of the controllers we use, from /proc/self/mounts. */
static const char *const v1_ctrls[] = { "memory", "pids", "cpu", "cpuacct", "blkio" };

static int plan_v1(struct cgroup_job *cg, char *err, size_t errlen)
{
    FILE *m = fopen("/proc/self/mounts", "re");
    if (!m)
        return fail(err, errlen, -errno, "cgroup: cannot read /proc/self/mounts: %s",
                    strerror(errno));
    char line[4096];
    while (fgets(line, sizeof line, m)) {
        char dev[256], mnt[PATH_MAX], type[64], opts[1024];
        if (sscanf(line, "%255s %4095s %63s %1023s", dev, mnt, type, opts) != 4 ||
            strcmp(type, "cgroup") || strchr(mnt, '\\'))
            continue;
        char ctrls[64] = "";
        for (unsigned i = 0; i < sizeof v1_ctrls / sizeof v1_ctrls[0]; i++)
            if (has_word(opts, v1_ctrls[i], ',')) {
                size_t l = strlen(ctrls);
                snprintf(ctrls + l, sizeof ctrls - l, "%s%s", l ? "," : "", v1_ctrls[i]);
            }
        if (!ctrls[0] || cg->ndirs >= CGROUP_MAX_DIRS)
            continue;
        bool dup = false; /* a hierarchy mounted twice */
        for (unsigned i = 0; i < cg->ndirs; i++)
            dup |= !strcmp(cg->ctrls[i], ctrls);
        if (dup)
            continue;
        snprintf(cg->mount[cg->ndirs], PATH_MAX, "%s", mnt);
        snprintf(cg->ctrls[cg->ndirs], sizeof cg->ctrls[0], "%s", ctrls);
        cg->ndirs++;
    }
    fclose(m);
    static const char *const needed[] = { "memory", "pids", "cpu" };
    for (unsigned k = 0; k < 3; k++) {
        bool found = false;
        for (unsigned i = 0; i < cg->ndirs; i++)
            found |= has_word(cg->ctrls[i], needed[k], ',');
        if (!found)
            return fail(err, errlen, -ENOENT, "cgroup v1: no hierarchy with the %s controller is "
                        "mounted (cpu, memory and pids are needed)", needed[k]);
    }
    return 0;
}

/* v2: /sys/fs/cgroup when it is cgroup2, else the first cgroup2 mount. */
static int plan_v2(struct cgroup_job *cg, char *err, size_t errlen)
{
    struct statfs sf;
    char mnt[PATH_MAX] = "";
    if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
        strcpy(mnt, "/sys/fs/cgroup");
    } else {
        FILE *m = fopen("/proc/self/mounts", "re");
        char line[4096];
        while (m && fgets(line, sizeof line, m)) {
            char dev[256], path[PATH_MAX], type[64];
            if (sscanf(line, "%255s %4095s %63s", dev, path, type) == 3 &&
                !strcmp(type, "cgroup2") && !strchr(path, '\\')) {
                snprintf(mnt, sizeof mnt, "%s", path);
                break;
            }
        }
        if (m)
            fclose(m);
    }
    if (!mnt[0])
        return fail(err, errlen, -ENOENT, "cgroup v2: no cgroup2 file system is mounted");
    char path[PATH_MAX + 32], ctrls[512];
    snprintf(path, sizeof path, "%s/cgroup.controllers", mnt);
    if (file_read(path, ctrls, sizeof ctrls) < 0)
        return fail(err, errlen, -ENOENT, "cgroup v2: cannot read %s", path);
    static const char *const needed[] = { "memory", "pids", "cpu" };
    for (unsigned k = 0; k < 3; k++)
        if (!has_word(ctrls, needed[k], ' '))
            return fail(err, errlen, -ENOENT, "cgroup v2 at %s: no %s controller (is it bound to a "
                        "v1 hierarchy? try --cgroup-version 1)", mnt, needed[k]);
    snprintf(cg->mount[0], PATH_MAX, "%s", mnt);
    snprintf(cg->ctrls[0], sizeof cg->ctrls[0], "%s", has_word(ctrls, "io", ' ')
             ? "cpu,io,memory,pids" : "cpu,memory,pids");
    cg->ndirs = 1;
    return 0;
}

int cgroup_plan(struct cgroup_job *cg, int version, const char *parent, const char *id, char *err,
                size_t errlen)
{
    memset(cg, 0, sizeof *cg);
    if (version == 0) {
        struct statfs sf;
        if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
            version = 2;
        } else {
            struct cgroup_job probe;
            char e1[256];
            memset(&probe, 0, sizeof probe);
            version = plan_v1(&probe, e1, sizeof e1) == 0 ? 1 : 2;
        }
    }
    cg->version = version;
    int rc = version == 1 ? plan_v1(cg, err, errlen) : plan_v2(cg, err, errlen);
    if (rc)
        return rc;
    for (unsigned i = 0; i < cg->ndirs; i++) {
        struct stat st;
        char mnt[PATH_MAX];
        memcpy(mnt, cg->mount[i], PATH_MAX);
        if (snprintf(cg->parent[i], PATH_MAX, "%s/%s", mnt, parent) >= PATH_MAX ||
            snprintf(cg->dir[i], PATH_MAX, "%s/%s/%s", mnt, parent, id) >= PATH_MAX)
            return fail(err, errlen, -ENAMETOOLONG, "cgroup: path too long under %s",
                        cg->mount[i]);
        if (access(cg->mount[i], W_OK) != 0)
            return fail(err, errlen, -errno, "cgroup: %s: %s", cg->mount[i], strerror(errno));
        if (lstat(cg->dir[i], &st) == 0)
            return fail(err, errlen, -EEXIST, "cgroup %s exists already: another job with id "
                        "\"%s\" runs (or one was killed: see docs/jailer.md, cleaning up)",
                        cg->dir[i], id);
        if (lstat(cg->parent[i], &st) == 0 && !S_ISDIR(st.st_mode))
            return fail(err, errlen, -ENOTDIR, "cgroup: %s is not a directory", cg->parent[i]);
    }
    return 0;
}

/* The job directory holding KEY's controller; -1 when none does. */
static int dir_for_key(const struct cgroup_job *cg, const char *key)
{
    char ctrl[64];
    const char *dot = strchr(key, '.');
    size_t n = dot ? (size_t)(dot - key) : 0;
    if (!n || n >= sizeof ctrl)
        return -1;
    memcpy(ctrl, key, n);
    ctrl[n] = '\0';
    if (cg->version == 2)
        return has_word(cg->ctrls[0], ctrl, ',') || !strcmp(ctrl, "cgroup") ? 0 : -1;
    for (unsigned i = 0; i < cg->ndirs; i++)
        if (has_word(cg->ctrls[i], ctrl, ','))
            return (int)i;
    return -1;
}

bool cgroup_key_known(const struct cgroup_job *cg, const char *key)
{
    return dir_for_key(cg, key) >= 0;
}

int cgroup_create(struct cgroup_job *cg, char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    int rc;
    for (unsigned i = 0; i < cg->ndirs; i++) {
        if (mkdir(cg->parent[i], 0755) == 0)
            cg->made_parent[i] = true;
        else if (errno != EEXIST) {
            rc = fail(err, errlen, -errno, "cgroup: mkdir %s: %s", cg->parent[i], strerror(errno));
            goto undo;
        }
        if (cg->version == 2) {
            char enable[64] = "", ctrls[64];
            snprintf(ctrls, sizeof ctrls, "%s", cg->ctrls[0]);
            for (char *t = strtok(ctrls, ","); t; t = strtok(NULL, ",")) {
                size_t l = strlen(enable);
                snprintf(enable + l, sizeof enable - l, "%s+%s", l ? " " : "", t);
            }
            const char *where[2] = { cg->mount[0], cg->parent[0] };
            for (int w = 0; w < 2; w++) {
                snprintf(path, sizeof path, "%s/cgroup.subtree_control", where[w]);
                if ((rc = file_write(path, enable)) < 0) {
                    rc = fail(err, errlen, rc, "cgroup: writing \"%s\" to %s: %s", enable, path,
                              strerror(-rc));
                    goto undo;
                }
            }
        }
        if (mkdir(cg->dir[i], 0755) != 0) {
            rc = fail(err, errlen, -errno, "cgroup: mkdir %s: %s", cg->dir[i],
                      errno == EEXIST ? "exists already: another job with this id runs"
                                      : strerror(errno));
            goto undo;
        }
        cg->made = i + 1;
    }
    return 0;
undo:
    cgroup_remove(cg);
    return rc;
}

int cgroup_set(const struct cgroup_job *cg, const char *key, const char *value, char *err,
               size_t errlen)
{
    int d = dir_for_key(cg, key);
    if (d < 0)
        return fail(err, errlen, -ENOENT, "cgroup v%d: no hierarchy has the controller of \"%s\"",
                    cg->version, key);
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s", cg->dir[d], key);
    int rc = file_write(path, value);
    if (rc < 0)
        return fail(err, errlen, rc, "cgroup: writing \"%s\" to %s: %s", value, path,
                    rc == -ENOENT ? "no such cgroup file" : strerror(-rc));
    return 0;
}

int cgroup_procs_open(const struct cgroup_job *cg, int *fds)
{
    for (unsigned i = 0; i < cg->ndirs; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/cgroup.procs", cg->dir[i]);
        fds[i] = open(path, O_WRONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            int e = errno;
            while (i--)
                close(fds[i]);
            return -e;
        }
    }
    return (int)cg->ndirs;
}

int cgroup_read(const struct cgroup_job *cg, const char *key, char *buf, size_t len)
{
    int d = dir_for_key(cg, key);
    if (d < 0)
        return -ENOENT;
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s", cg->dir[d], key);
    return file_read(path, buf, len);
}

/* The number after `field ` in a "key value" list file (cpu.stat, pids.events, memory.stat). */
static bool field_u64(const char *text, const char *field, uint64_t *v)
{
    size_t n = strlen(field);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, field, n) && p[n] == ' ') {
            *v = strtoull(p + n + 1, NULL, 10);
            return true;
        }
    return false;
}

static void key_str(FILE *f, const char **sep, const char *key, const char *value)
{
    fprintf(f, "%s\n    \"%s\": \"", *sep, key);
    for (const char *c = value; *c; c++)
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if ((unsigned char)*c < 0x20)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    fputc('"', f);
    *sep = ",";
}

static void key_num(FILE *f, const char **sep, const char *key, uint64_t v)
{
    fprintf(f, "%s\n    \"%s\": %llu", *sep, key, (unsigned long long)v);
    *sep = ",";
}

/* A limit file's value: a number, or the string ("max", "-1", "quota period"). */
static void key_limit(FILE *f, const char **sep, const struct cgroup_job *cg, const char *name,
                      const char *file)
{
    char buf[256];
    if (cgroup_read(cg, file, buf, sizeof buf) < 0)
        return;
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    if (buf[0] >= '0' && buf[0] <= '9' && !*end)
        key_num(f, sep, name, v);
    else
        key_str(f, sep, name, buf);
}

/* io.stat (v2): "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.." lines, summed. */
static void io_v2(FILE *f, const char **sep, const struct cgroup_job *cg)
{
    char buf[8192];
    if (cgroup_read(cg, "io.stat", buf, sizeof buf) < 0)
        return;
    static const char *const keys[] = { "rbytes", "wbytes", "rios", "wios" };
    static const char *const names[] = { "io_read_bytes", "io_write_bytes", "io_read_ops",
                                         "io_write_ops" };
    for (int k = 0; k < 4; k++) {
        uint64_t sum = 0;
        char pat[16];
        snprintf(pat, sizeof pat, "%s=", keys[k]);
        for (const char *p = strstr(buf, pat); p; p = strstr(p + 1, pat))
            if (p == buf || p[-1] == ' ')
                sum += strtoull(p + strlen(pat), NULL, 10);
        key_num(f, sep, names[k], sum);
    }
}

/* blkio (v1): "MAJ:MIN Read N" ... "Total N" lines; Read and Write summed over devices. */
static void io_v1(FILE *f, const char **sep, const struct cgroup_job *cg)
{
    static const char *const files[] = { "blkio.throttle.io_service_bytes",
                                         "blkio.throttle.io_serviced" };
    static const char *const names[2][2] = { { "io_read_bytes", "io_write_bytes" },
                                             { "io_read_ops", "io_write_ops" } };
    for (int k = 0; k < 2; k++) {
        char buf[8192];
        if (cgroup_read(cg, files[k], buf, sizeof buf) < 0)
            continue;
        uint64_t rd = 0, wr = 0;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
            char dev[32], op[16];
            unsigned long long v;
            if (sscanf(line, "%31s %15s %llu", dev, op, &v) == 3) {
                if (!strcmp(op, "Read"))
                    rd += v;
                else if (!strcmp(op, "Write"))
                    wr += v;
            }
        }
        key_num(f, sep, names[k][0], rd);
        key_num(f, sep, names[k][1], wr);
    }
}

void cgroup_report(const struct cgroup_job *cg, FILE *f)
{
    const char *sep = "";
    char buf[4096];
    uint64_t v;
    fprintf(f, "  \"cgroup\": {");
    key_num(f, &sep, "version", (uint64_t)cg->version);
    key_str(f, &sep, "path", cg->version == 2 ? cg->dir[0] + strlen(cg->mount[0])
                                              : cg->dir[0] + strlen(cg->mount[0]));
    if (cg->version == 2) {
        key_limit(f, &sep, cg, "memory_max", "memory.max");
        key_limit(f, &sep, cg, "pids_max", "pids.max");
        key_limit(f, &sep, cg, "cpu_max", "cpu.max");
        if (cgroup_read(cg, "cpu.stat", buf, sizeof buf) == 0 && field_u64(buf, "usage_usec", &v))
            key_num(f, &sep, "cpu_usage_ns", v * 1000);
        if (cgroup_read(cg, "cpu.stat", buf, sizeof buf) == 0 &&
            field_u64(buf, "throttled_usec", &v))
            key_num(f, &sep, "cpu_throttled_ns", v * 1000);
        key_limit(f, &sep, cg, "memory_peak_bytes", "memory.peak");
        if (cgroup_read(cg, "memory.events", buf, sizeof buf) == 0 && field_u64(buf, "oom", &v))
            key_num(f, &sep, "memory_oom_events", v);
        if (cgroup_read(cg, "memory.events", buf, sizeof buf) == 0 && field_u64(buf, "oom_kill", &v))
            key_num(f, &sep, "memory_oom_kill_events", v);
        key_limit(f, &sep, cg, "pids_peak", "pids.peak");
        if (cgroup_read(cg, "pids.events", buf, sizeof buf) == 0 && field_u64(buf, "max", &v))
            key_num(f, &sep, "pids_max_events", v);
        io_v2(f, &sep, cg);
    } else {
        key_limit(f, &sep, cg, "memory_max", "memory.limit_in_bytes");
        key_limit(f, &sep, cg, "pids_max", "pids.max");
        key_limit(f, &sep, cg, "cpu_cfs_quota_us", "cpu.cfs_quota_us");
        key_limit(f, &sep, cg, "cpu_cfs_period_us", "cpu.cfs_period_us");
        key_limit(f, &sep, cg, "cpu_usage_ns", "cpuacct.usage");
        if (cgroup_read(cg, "cpu.stat", buf, sizeof buf) == 0 &&
            field_u64(buf, "throttled_time", &v))
            key_num(f, &sep, "cpu_throttled_ns", v);
        key_limit(f, &sep, cg, "memory_peak_bytes", "memory.max_usage_in_bytes");
        key_limit(f, &sep, cg, "memory_failcnt", "memory.failcnt");
        if (cgroup_read(cg, "pids.events", buf, sizeof buf) == 0 && field_u64(buf, "max", &v))
            key_num(f, &sep, "pids_max_events", v);
        io_v1(f, &sep, cg);
    }
    fprintf(f, "\n  }");
}

int cgroup_remove(struct cgroup_job *cg)
{
    int first = 0;
    while (cg->made > 0) {
        unsigned i = cg->made - 1;
        int tries = 0, r;
        /* the last task leaves the cgroup a moment after its parent reaped it */
        while ((r = rmdir(cg->dir[i])) != 0 && errno == EBUSY && ++tries < 1000)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
        if (r != 0 && errno != ENOENT) {
            int e = errno;
            log_err("cgroup: cannot remove %s: %s", cg->dir[i], strerror(e));
            if (!first)
                first = -e;
        }
        cg->made--;
    }
    return first;
}
