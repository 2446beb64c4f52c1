/* `isovm jail`: validate, then build the jail, the cgroup and the namespaces, drop every privilege
 * and exec `isovm launch` inside; the jailer waits outside, reports the cgroup and cleans up. */
#include "jail/jail.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "jail/cgroup.h"
#include "jail/jail_args.h"
#include "jail/jail_libs.h"
#include "vmm/run/launch_cli.h"
#include "lib/log.h"
#include "lib/test_hooks.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#define JAIL_MAX_BINDS (JAIL_MAX_LIBS + POLICY_MAX_GRANTS + 8)

static void jail_usage(FILE *f)
{
    fprintf(f,
        "usage: isovm jail --id ID --uid U --gid G [jail options] -- launch [launch options] [--]\n"
        "                  PROGRAM [ARGS...]\n"
        "\n"
        "Runs `isovm launch` as user U and group G with no capabilities and no_new_privs, in new\n"
        "mount, IPC, UTS and network namespaces, pivot_root'ed into a jail that holds only the\n"
        "program, the policy file, the host paths the policy grants (read-only or read-write as\n"
        "granted), isovm itself with its libraries and /dev/kvm, under a cgroup with limits from\n"
        "the policy. Must run as root. See docs/jailer.md.\n"
        "\n"
        "jail options:\n"
        "  --id ID               the job's name: 1..64 of letters, digits and '-'; the jail is\n"
        "                        CHROOT-BASE/isovm/ID and the cgroup PARENT/ID (both must not exist)\n"
        "  --uid U, --gid G      the unprivileged user and group the VMM runs as (not 0; required)\n"
        "  --chroot-base DIR     where jails are made (default " JAIL_DEFAULT_BASE "; must exist)\n"
        "  --cgroup KEY=VALUE    write VALUE to the job cgroup's file KEY after the policy's limits\n"
        "                        (repeatable), e.g. --cgroup pids.max=20 --cgroup memory.max=200M\n"
        "  --cgroup-version 1|2  cgroup v1 hierarchies or the v2 tree (default: /sys/fs/cgroup's)\n"
        "  --parent-cgroup NAME  the cgroup jobs are made under (default " JAIL_DEFAULT_PARENT ")\n"
        "  --netns PATH          join this network namespace (e.g. /run/netns/NAME) instead of a\n"
        "                        new empty one\n"
        "  --new-pid-ns          the VMM is PID 1 of a new PID namespace\n"
        "  --daemonize           detach (setsid, stdio on /dev/null); the jailer cleans up in the\n"
        "                        background\n"
        "  --resource-limit NAME=N  setrlimit NAME (nofile, fsize, nproc, as, core, cpu, data,\n"
        "                        memlock, stack, ...) to N or \"unlimited\" (repeatable)\n"
        "  -h, --help            show this help\n"
        "\n"
        "The launch options are `isovm launch`'s (isovm --help) and are checked before anything is\n"
        "made. --report FILE gets a \"cgroup\" object with the cgroup's limits and usage\n"
        "(docs/report.md); --control is refused under the jailer. Exit status: the job's, as\n"
        "`isovm launch` (docs/exit-codes.md); 125 for a jailer error.\n");
}

struct bind {
    char src[PATH_MAX];   /* host path */
    char dst[PATH_MAX];   /* the same path inside the jail (lexically normalized) */
    bool dir, rw, exec;
};

struct jail {
    const struct jail_args *a;
    const struct launch_opts *o;
    char vmm[PATH_MAX];            /* this binary, bound at the same path */
    char cwd[PATH_MAX];            /* made in the jail when a path given was relative */
    bool need_cwd;
    char jail_dir[PATH_MAX];       /* <base>/isovm/<id> */
    char root[PATH_MAX];           /* <jail_dir>/root */
    char report_host[PATH_MAX];    /* <jail_dir>/report.json */
    char report_user[PATH_MAX];    /* the user's --report FILE (absolute), "" for none or "-" */
    struct bind binds[JAIL_MAX_BINDS];
    unsigned nbinds;
    struct cgroup_job cg;
    int cg_fds[CGROUP_MAX_DIRS];
    int ncg_fds;
    int netns_fd;
    char **vmm_argv;
};

static int jerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int jerr(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_err("jail: %s", msg);
    return EXIT_ISOVM_ERROR;
}

/* `path` made absolute against cwd and normalized lexically ("." and ".." of the text). */
static int path_absolute(const char *cwd, const char *path, char *out, size_t len)
{
    char tmp[PATH_MAX * 2];
    if (snprintf(tmp, sizeof tmp, "%s/%s", path[0] == '/' ? "" : cwd, path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    size_t o = 0;
    out[0] = '\0';
    for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, "."))
            continue;
        if (!strcmp(c, "..")) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            out[o] = '\0';
            continue;
        }
        size_t n = strlen(c);
        if (o + 1 + n + 1 > len)
            return -ENAMETOOLONG;
        out[o++] = '/';
        memcpy(out + o, c, n + 1);
        o += n;
    }
    if (!o) {
        if (len < 2)
            return -ENAMETOOLONG;
        strcpy(out, "/");
    }
    return 0;
}

/* Add a bind of host `path` at the same place in the jail (path made absolute first). */
static int bind_add(struct jail *j, const char *what, const char *path, bool rw, bool exec)
{
    if (j->nbinds >= JAIL_MAX_BINDS)
        return jerr("too many paths to bind into the jail");
    struct bind *b = &j->binds[j->nbinds];
    if (path_absolute(j->cwd, path, b->dst, sizeof b->dst) < 0)
        return jerr("%s %s: path too long", what, path);
    if (!strcmp(b->dst, "/"))
        return jerr("%s %s: the host's root directory cannot be bound into a jail", what, path);
    struct stat st;
    if (stat(b->dst, &st) < 0)
        return jerr("%s %s: %s", what, path, strerror(errno));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return jerr("%s %s: not a directory or a regular file", what, path);
    if (path[0] != '/')
        j->need_cwd = true;
    for (unsigned i = 0; i < j->nbinds; i++)
        if (!strcmp(j->binds[i].dst, b->dst)) { /* bound already: widen to the union */
            j->binds[i].rw |= rw;
            j->binds[i].exec |= exec;
            return 0;
        }
    memcpy(b->src, b->dst, sizeof b->src);
    b->dir = S_ISDIR(st.st_mode);
    b->rw = rw;
    b->exec = exec;
    j->nbinds++;
    return 0;
}

/* Is fd a network namespace? NS_GET_NSTYPE where the kernel has it, else nsfs at least. */
static bool is_netns(int fd)
{
    int t = ioctl(fd, NS_GET_NSTYPE);
    if (t >= 0)
        return t == CLONE_NEWNET;
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && sf.f_type == NSFS_MAGIC;
}

static const uint32_t WRITE_RIGHTS = CAP_R_WRITE | CAP_R_CREATE | CAP_R_DELETE | CAP_R_TRUNCATE;

/* Everything checked before the system is touched. 0 or the exit status after a message. */
static int jail_validate(struct jail *j)
{
    const struct jail_args *a = j->a;
    const struct launch_opts *o = j->o;
    struct stat st;
    if (geteuid() != 0)
        return jerr("isovm jail must run as root (it makes namespaces, a cgroup and /dev/kvm); "
                    "the job then runs as --uid %u --gid %u", (unsigned)a->uid, (unsigned)a->gid);
    if (!getcwd(j->cwd, sizeof j->cwd))
        return jerr("cannot tell the current directory: %s", strerror(errno));
    if (stat(a->chroot_base, &st) < 0)
        return jerr("--chroot-base %s: %s", a->chroot_base, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return jerr("--chroot-base %s: not a directory", a->chroot_base);
    if (access(a->chroot_base, W_OK | X_OK) < 0)
        return jerr("--chroot-base %s: not writable: %s", a->chroot_base, strerror(errno));
    struct statvfs vfs;
    if (statvfs(a->chroot_base, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
        return jerr("--chroot-base %s: on a read-only file system", a->chroot_base);
    if (snprintf(j->jail_dir, sizeof j->jail_dir, "%s/isovm/%s", a->chroot_base, a->id) >= PATH_MAX - 32)
        return jerr("--chroot-base %s: path too long", a->chroot_base);
    size_t jl = strlen(j->jail_dir);
    memcpy(j->root, j->jail_dir, jl);
    strcpy(j->root + jl, "/root");
    memcpy(j->report_host, j->jail_dir, jl);
    strcpy(j->report_host + jl, "/report.json");
    if (lstat(j->jail_dir, &st) == 0)
        return jerr("%s exists already: another job with id \"%s\" runs, or a killed jailer "
                    "left it (docs/jailer.md: cleaning up)", j->jail_dir, a->id);
    if (a->netns) {
        int fd = open(a->netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return jerr("--netns %s: %s", a->netns, strerror(errno));
        bool ok = is_netns(fd);
        close(fd);
        if (!ok)
            return jerr("--netns %s: not a network namespace", a->netns);
    }
    char err[1024];
    if (cgroup_plan(&j->cg, a->cgroup_version, a->parent_cgroup, a->id, err, sizeof err) < 0)
        return jerr("%s", err);
    for (unsigned i = 0; i < a->ncgroups; i++)
        if (!cgroup_key_known(&j->cg, a->cgroups[i].key))
            return jerr("--cgroup %s=%s: no cgroup v%d controller of this job has \"%s\" (%s)",
                        a->cgroups[i].key, a->cgroups[i].value, j->cg.version, a->cgroups[i].key,
                        j->cg.version == 2 ? j->cg.ctrls[0] : "cpu, cpuacct, memory, pids, blkio");
    if (o->policy.io_device[0]) {
        if (stat(o->policy.io_device, &st) < 0)
            return jerr("policy io.device %s: %s", o->policy.io_device, strerror(errno));
        if (!S_ISBLK(st.st_mode))
            return jerr("policy io.device %s: not a block device", o->policy.io_device);
        if (!cgroup_key_known(&j->cg, j->cg.version == 2 ? "io.max" : "blkio.throttle.read_bps_device"))
            return jerr("policy io.device %s: the job's cgroup has no %s controller",
                        o->policy.io_device, j->cg.version == 2 ? "io" : "blkio");
    }
    if (o->policy.control_path[0])
        return jerr("--control %s: the control socket is not available under isovm jail (it "
                    "would be inside the jail's mount namespace)", o->policy.control_path);

    /* the VMM and what it loads */
    ssize_t n = readlink("/proc/self/exe", j->vmm, sizeof j->vmm - 1);
    if (n <= 0)
        return jerr("cannot find isovm's own binary (/proc/self/exe): %s", strerror(errno));
    j->vmm[n] = '\0';
    int rc;
    if ((rc = bind_add(j, "isovm", j->vmm, false, true)))
        return rc;
    struct jail_libs libs;
    if (jail_libs_self(&libs, err, sizeof err) < 0)
        return jerr("%s", err + (strncmp(err, "jail: ", 6) ? 0 : 6));
    for (unsigned i = 0; i < libs.n; i++)
        if ((rc = bind_add(j, "library", libs.path[i], false, true)))
            return rc;
    /* the job's files */
    if (stat(o->program, &st) < 0) {
        int e = errno;
        log_err("%s: %s", o->program, strerror(e));
        return e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
    }
    if (!S_ISREG(st.st_mode)) {
        log_err("%s: %s", o->program, S_ISDIR(st.st_mode) ? "Is a directory" : "not a regular file");
        return EXIT_CANNOT_EXEC;
    }
    if ((rc = bind_add(j, "program", o->program, false, false)))
        return rc;
    if (o->policy_file && (rc = bind_add(j, "--policy", o->policy_file, false, false)))
        return rc;
    for (unsigned i = 0; i < o->policy.ngrants; i++) {
        char what[64];
        snprintf(what, sizeof what, "policy grants[%u].host", i);
        if ((rc = bind_add(j, what, o->policy.grants[i].host,
                           (o->policy.grants[i].rights & WRITE_RIGHTS) != 0, false)))
            return rc;
    }
    if (o->policy.audit_path[0]) {
        char abs[PATH_MAX];
        if (path_absolute(j->cwd, o->policy.audit_path, abs, sizeof abs) < 0)
            return jerr("--audit %s: path too long", o->policy.audit_path);
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", abs);
        *strrchr(dir, '/') = '\0';
        if (access(dir[0] ? dir : "/", W_OK) < 0 && access(abs, W_OK) < 0)
            return jerr("--audit %s: cannot be created: %s", o->policy.audit_path, strerror(errno));
    }
    if (o->policy.audit_path[0] && o->policy.audit_path[0] != '/')
        j->need_cwd = true;
    if (o->report_path && strcmp(o->report_path, "-") != 0 &&
        path_absolute(j->cwd, o->report_path, j->report_user, sizeof j->report_user) < 0)
        return jerr("--report %s: path too long", o->report_path);
    /* The VMM cannot see /sys in the jail, where launch tells PVM apart (vm.c): tell it here.
     * isovm-hooks' jail-probe runs anyway (tests/jail: the VMM then fails at KVM). */
    if (access("/sys/module/kvm_pvm", F_OK) == 0 && access("/sys/module/kvm_amd", F_OK) != 0 &&
        access("/sys/module/kvm_intel", F_OK) != 0 && !test_hook("jail-probe"))
        return jerr("/dev/kvm on this host is PVM (kvm_pvm), which cannot run isovm's ring-0 "
                    "firmware");
    return 0;
}

/* The VMM's argv: launch's own options, --report inside the jail, then the program and args. */
static int vmm_argv_build(struct jail *j)
{
    const struct jail_args *a = j->a;
    int prog = (int)(j->o->argv - a->launch_argv); /* index of PROGRAM in launch argv */
    if (prog < 1 || prog >= a->launch_argc)
        return jerr("cannot find PROGRAM in the launch arguments");
    int nopts = prog;
    if (!strcmp(a->launch_argv[prog - 1], "--"))
        nopts--;
    j->vmm_argv = calloc((size_t)a->launch_argc + 8, sizeof *j->vmm_argv);
    if (!j->vmm_argv)
        return jerr("out of memory");
    int k = 0;
    j->vmm_argv[k++] = j->vmm;
    for (int i = 0; i < nopts; i++)
        j->vmm_argv[k++] = a->launch_argv[i];
    if (j->report_user[0]) {
        j->vmm_argv[k++] = "--report";
        j->vmm_argv[k++] = JAIL_REPORT_PATH;
    }
    j->vmm_argv[k++] = "--";
    for (int i = prog; i < a->launch_argc; i++)
        j->vmm_argv[k++] = a->launch_argv[i];
    j->vmm_argv[k] = NULL;
    return 0;
}

/* A token bucket's sustained rate per second (size per refill time); 0 for none. */
static uint64_t bucket_rate(const struct bucket_cfg *b)
{
    if (!b->size || !b->refill_time_ns)
        return 0;
    unsigned __int128 r = (unsigned __int128)b->size * 1000000000u / b->refill_time_ns;
    return r ? (r > UINT64_MAX ? UINT64_MAX : (uint64_t)r) : 1;
}

/* The cgroup's limits: the policy's as a second line of defence, then --cgroup. */
static int cgroup_limits(struct jail *j)
{
    const struct policy *p = &j->o->policy;
    const struct cgroup_job *cg = &j->cg;
    char err[1024], v[64];
    uint64_t mem = p->memory_bytes + JAIL_VMM_MEMORY_ALLOWANCE;
    unsigned pids = p->max_threads + JAIL_VMM_PIDS_ALLOWANCE;
    snprintf(v, sizeof v, "%llu", (unsigned long long)mem);
    if (cgroup_set(cg, cg->version == 2 ? "memory.max" : "memory.limit_in_bytes", v, err,
                   sizeof err) < 0)
        return jerr("%s", err);
    snprintf(v, sizeof v, "%u", pids);
    if (cgroup_set(cg, "pids.max", v, err, sizeof err) < 0)
        return jerr("%s", err);
    if (p->cpu_quota_ns) {
        unsigned long long q = (p->cpu_quota_ns + 999) / 1000, per = p->cpu_period_ns / 1000;
        if (q < 1000)
            q = 1000; /* the kernel's smallest quota: 1ms */
        if (cg->version == 2) {
            snprintf(v, sizeof v, "%llu %llu", q, per);
            if (cgroup_set(cg, "cpu.max", v, err, sizeof err) < 0)
                return jerr("%s", err);
        } else {
            snprintf(v, sizeof v, "%llu", per);
            if (cgroup_set(cg, "cpu.cfs_period_us", v, err, sizeof err) < 0)
                return jerr("%s", err);
            snprintf(v, sizeof v, "%llu", q);
            if (cgroup_set(cg, "cpu.cfs_quota_us", v, err, sizeof err) < 0)
                return jerr("%s", err);
        }
    }
    if (p->io_device[0]) { /* the policy's I/O rates on the device it names */
        struct stat st;
        if (stat(p->io_device, &st) < 0 || !S_ISBLK(st.st_mode))
            return jerr("policy io.device %s: not a block device", p->io_device);
        uint64_t rate[4] = { bucket_rate(&p->io_read.bytes), bucket_rate(&p->io_write.bytes),
                             bucket_rate(&p->io_read.ops), bucket_rate(&p->io_write.ops) };
        static const char *const v2key[4] = { "rbps", "wbps", "riops", "wiops" };
        static const char *const v1file[4] = {
            "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
            "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device" };
        char line[160];
        int n = snprintf(line, sizeof line, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
        for (int k = 0; k < 4; k++) {
            if (!rate[k])
                continue;
            if (cg->version == 2) {
                n += snprintf(line + n, sizeof line - (size_t)n, " %s=%llu", v2key[k],
                              (unsigned long long)rate[k]);
            } else {
                snprintf(v, sizeof v, "%u:%u %llu", major(st.st_rdev), minor(st.st_rdev),
                         (unsigned long long)rate[k]);
                if (cgroup_set(cg, v1file[k], v, err, sizeof err) < 0)
                    return jerr("policy io.device %s: %s", p->io_device, err);
            }
        }
        if (cg->version == 2 && strchr(line, '=') && cgroup_set(cg, "io.max", line, err, sizeof err) < 0)
            return jerr("policy io.device %s: %s", p->io_device, err);
    }
    for (unsigned i = 0; i < j->a->ncgroups; i++)
        if (cgroup_set(cg, j->a->cgroups[i].key, j->a->cgroups[i].value, err, sizeof err) < 0)
            return jerr("--cgroup %s=%s: %s", j->a->cgroups[i].key, j->a->cgroups[i].value, err);
    return 0;
}

/* Remove the jail directory (the mounts lived in the VMM's mount namespace and are gone). */
static void jail_dir_remove(struct jail *j)
{
    if (rmdir(j->root) < 0 && errno != ENOENT)
        log_err("jail: cannot remove %s: %s", j->root, strerror(errno));
    if (unlink(j->report_host) < 0 && errno != ENOENT)
        log_err("jail: cannot remove %s: %s", j->report_host, strerror(errno));
    if (rmdir(j->jail_dir) < 0 && errno != ENOENT)
        log_err("jail: cannot remove %s: %s", j->jail_dir, strerror(errno));
}

/* Make the jail directory, the report file and the cgroup. 0 or the exit status (undone). */
static int jail_make(struct jail *j)
{
    char base[PATH_MAX + 8];
    snprintf(base, sizeof base, "%s/isovm", j->a->chroot_base);
    if (mkdir(base, 0711) < 0 && errno != EEXIST)
        return jerr("mkdir %s: %s", base, strerror(errno));
    if (mkdir(j->jail_dir, 0700) < 0)
        return jerr("mkdir %s: %s", j->jail_dir, errno == EEXIST
                    ? "exists already: another job with this id runs" : strerror(errno));
    if (mkdir(j->root, 0700) < 0) {
        int e = errno;
        jail_dir_remove(j);
        return jerr("mkdir %s: %s", j->root, strerror(e));
    }
    if (j->report_user[0]) {
        int fd = open(j->report_host, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || fchown(fd, j->a->uid, j->a->gid) < 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            jail_dir_remove(j);
            return jerr("%s: %s", j->report_host, strerror(e));
        }
        close(fd);
    }
    if (j->o->policy.audit_path[0]) { /* made here, owned by the job's user, bound read-write */
        char abs[PATH_MAX];
        path_absolute(j->cwd, j->o->policy.audit_path, abs, sizeof abs);
        int fd = open(abs, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd >= 0) {
            if (fchown(fd, j->a->uid, j->a->gid) < 0)
                log_err("jail: chown %s: %s", abs, strerror(errno));
            close(fd);
        }
        int rc = bind_add(j, "--audit", abs, true, false);
        if (rc) {
            jail_dir_remove(j);
            return rc;
        }
    }
    char err[1024];
    if (cgroup_create(&j->cg, err, sizeof err) < 0) {
        jail_dir_remove(j);
        return jerr("%s", err);
    }
    int rc = cgroup_limits(j);
    if (!rc && (j->ncg_fds = cgroup_procs_open(&j->cg, j->cg_fds)) < 0)
        rc = jerr("cgroup %s: cannot open cgroup.procs: %s", j->cg.dir[0], strerror(-j->ncg_fds));
    if (!rc && j->a->netns && (j->netns_fd = open(j->a->netns, O_RDONLY | O_CLOEXEC)) < 0)
        rc = jerr("--netns %s: %s", j->a->netns, strerror(errno));
    if (rc) {
        cgroup_remove(&j->cg);
        jail_dir_remove(j);
    }
    return rc;
}

/* ---- in the child: from here on any failure ends it with 125 after a message ---- */

static void child_die(const char *what, const char *path) __attribute__((noreturn));
static void child_die(const char *what, const char *path)
{
    log_err("jail: %s%s%s: %s", what, path ? " " : "", path ? path : "", strerror(errno));
    _exit(EXIT_ISOVM_ERROR);
}

/* mkdir -p of the directories above `path` (inside the jail's tmpfs, as the cwd is its root). */
static void mkdir_parents(const char *path, bool last_too)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, ".%s", path);
    for (char *s = p + 2; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                child_die("mkdir", p + 1);
            *s = '/';
        }
    if (last_too && mkdir(p, 0755) < 0 && errno != EEXIST)
        child_die("mkdir", p + 1);
}

static void bind_one(const struct bind *b)
{
    char dst[PATH_MAX + 2];
    snprintf(dst, sizeof dst, ".%s", b->dst);
    mkdir_parents(b->dst, false);
    if (b->dir) {
        if (mkdir(dst, 0755) < 0 && errno != EEXIST)
            child_die("mkdir", b->dst);
    } else {
        int fd = open(dst, O_RDONLY | O_CREAT | O_CLOEXEC, 0444); /* may exist in a parent bind */
        if (fd < 0)
            child_die("create the mount point", b->dst);
        close(fd);
    }
    if (mount(b->src, dst, "none", MS_BIND | (b->dir ? MS_REC : 0), NULL) < 0)
        child_die("bind-mount", b->src);
    unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (b->rw ? 0 : MS_RDONLY) |
                       (b->exec ? 0 : MS_NOEXEC);
    if (mount("none", dst, "none", fl, NULL) < 0)
        child_die(b->rw ? "remount nosuid,nodev" : "remount read-only", b->dst);
}

static int bind_cmp(const void *a, const void *b)
{
    size_t la = strlen(((const struct bind *)a)->dst), lb = strlen(((const struct bind *)b)->dst);
    return la < lb ? -1 : la > lb;
}

static int capset_all(uint32_t eff, uint32_t perm, uint32_t inh, bool keep_current)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (keep_current && syscall(SYS_capget, &h, d) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (!keep_current) {
            d[i].effective = eff;
            d[i].permitted = perm;
        }
        d[i].inheritable = inh;
    }
    return (int)syscall(SYS_capset, &h, d);
}

static void caps_drop_and_switch(const struct jail_args *a)
{
    for (int c = 0; c < 64; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            child_die("drop the capability bounding set", NULL);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        child_die("clear the ambient capabilities", NULL);
    if (capset_all(0, 0, 0, true) < 0)
        child_die("clear the inheritable capabilities", NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_die("set no_new_privs", NULL);
    if (setgroups(0, NULL) < 0)
        child_die("setgroups", NULL);
    if (setresgid(a->gid, a->gid, a->gid) < 0)
        child_die("setresgid", NULL);
    if (setresuid(a->uid, a->uid, a->uid) < 0) /* clears the effective and permitted sets */
        child_die("setresuid", NULL);
    if (capset_all(0, 0, 0, false) < 0)
        child_die("clear the capabilities", NULL);
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0 || d[0].effective || d[0].permitted || d[0].inheritable ||
        d[1].effective || d[1].permitted || d[1].inheritable) {
        errno = EPERM;
        child_die("capabilities remain after dropping them", NULL);
    }
}

static void jail_child(struct jail *j) __attribute__((noreturn));
static void jail_child(struct jail *j)
{
    const struct jail_args *a = j->a;
    for (int i = 0; i < j->ncg_fds; i++) {
        if (write(j->cg_fds[i], "0", 1) != 1)
            child_die("enter the cgroup", j->cg.dir[i]);
        close(j->cg_fds[i]);
    }
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (a->netns ? 0 : CLONE_NEWNET)) < 0)
        child_die("unshare the mount, IPC, UTS and network namespaces", NULL);
    if (a->netns && setns(j->netns_fd, CLONE_NEWNET) < 0)
        child_die("join the network namespace", a->netns);
    if (j->netns_fd >= 0)
        close(j->netns_fd);
    if (sethostname("isovm", 5) < 0)
        child_die("sethostname", NULL);
    if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
        child_die("make the mounts private", NULL);
    /* the jail's root: a small tmpfs (nothing of it outlives the namespace), read-only at the end */
    if (mount("isovm-jail", j->root, "tmpfs", MS_NOSUID | MS_NOEXEC,
              "mode=0755,size=256k,nr_inodes=4096") < 0)
        child_die("mount the jail's tmpfs on", j->root);
    if (chdir(j->root) < 0)
        child_die("chdir", j->root);
    /* parents before what they hold: a grant inside another grant's directory, a library in a
     * granted /lib, stay visible */
    qsort(j->binds, j->nbinds, sizeof j->binds[0], bind_cmp);
    for (unsigned i = 0; i < j->nbinds; i++)
        bind_one(&j->binds[i]);
    if (j->report_user[0]) {
        struct bind r = { .dir = false, .rw = true };
        snprintf(r.src, sizeof r.src, "%s", j->report_host);
        snprintf(r.dst, sizeof r.dst, "%s", JAIL_REPORT_PATH);
        bind_one(&r);
    }
    mkdir_parents("/dev/kvm", false);
    if (mknod("./dev/kvm", S_IFCHR | 0600, makedev(10, 232)) < 0)
        child_die("mknod", "/dev/kvm");
    if (chown("./dev/kvm", a->uid, a->gid) < 0)
        child_die("chown", "/dev/kvm");
    if (j->need_cwd)
        mkdir_parents(j->cwd, true);
    /* read-only from here (device nodes still open read-write: the mount is not nodev) */
    if (mount("none", ".", "none", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
        child_die("remount the jail read-only", NULL);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        child_die("pivot_root into", j->root);
    if (umount2(".", MNT_DETACH) < 0)
        child_die("detach the old root", NULL);
    if (chdir(j->need_cwd ? j->cwd : "/") < 0)
        child_die("chdir in the jail", j->cwd);
    struct rlimit core0 = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &core0) < 0) /* no core dump of guest memory; --resource-limit core=N */
        child_die("setrlimit core", NULL);
    for (unsigned i = 0; i < a->nrlimits; i++) {
        struct rlimit rl = { a->rlimits[i].value, a->rlimits[i].value };
        if (setrlimit(a->rlimits[i].resource, &rl) < 0)
            child_die("--resource-limit: setrlimit", NULL);
    }
    caps_drop_and_switch(a);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) /* after setuid, which clears it */
        child_die("set the parent-death signal", NULL);
    execv(j->vmm, j->vmm_argv);
    child_die("exec", j->vmm);
}

/* ---- the jailer, outside ---- */

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

/* The VMM's report with the "cgroup" object added before its closing brace, to the user's file. */
static int report_merge(struct jail *j)
{
    FILE *in = fopen(j->report_host, "re");
    if (!in)
        return jerr("the job's report %s: %s", j->report_host, strerror(errno));
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    bool whole = feof(in) && !ferror(in);
    fclose(in);
    if (!whole)
        return jerr("the job's report %s: %s", j->report_host,
                    n == sizeof buf - 1 ? "larger than 1 MiB" : "read error");
    buf[n] = '\0';
    char *end = strrchr(buf, '}');
    if (!n)
        return 0; /* the VMM wrote none (it failed before the job ran) */
    if (!end)
        return jerr("the job's report %s is not a JSON object", j->report_host);
    FILE *out = fopen(j->report_user, "we");
    if (!out)
        return jerr("cannot write report %s: %s", j->report_user, strerror(errno));
    char *last = end;
    while (last > buf && (last[-1] == '\n' || last[-1] == ' '))
        last--;
    fwrite(buf, 1, (size_t)(last - buf), out);
    fprintf(out, ",\n");
    cgroup_report(&j->cg, out);
    fprintf(out, "\n}\n");
    if (fclose(out) != 0)
        return jerr("cannot write report %s: %s", j->report_user, strerror(errno));
    return 0;
}

static int jail_run(const struct launch_opts *o, void *ctx)
{
    struct jail *j = ctx;
    j->o = o;
    j->netns_fd = -1;
    int rc = jail_validate(j);
    if (rc || (rc = vmm_argv_build(j)))
        return rc;
    /* nothing has been touched yet; now the order of docs/jailer.md */
    const char *hook = test_hooks_env();
    char hook_copy[256] = "";
    if (hook)
        snprintf(hook_copy, sizeof hook_copy, "%s", hook);
    if (syscall(SYS_close_range, 3, ~0u, 0) < 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    clearenv();
    if (hook_copy[0])
        setenv("ISOVM_TEST_HOOK", hook_copy, 1);
    if ((rc = jail_make(j)))
        return rc;
    if (j->a->daemonize) { /* after the jail and cgroup exist: their errors still reach the caller */
        pid_t d = fork();
        if (d < 0) {
            rc = jerr("fork: %s", strerror(errno));
            goto cleanup;
        }
        if (d > 0)
            _exit(0); /* the background jailer owns the cleanup now */
        setsid();
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
            if (nul > 2)
                close(nul);
        }
    }
    struct sigaction sa = { .sa_handler = forward_signal };
    sigemptyset(&sa.sa_mask);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* --new-pid-ns: the child alone in a new PID namespace (clone like fork: the jailer's own
     * later children, e.g. a sanitizer's helper, stay in its namespace) */
    pid_t pid = j->a->new_pid_ns ? (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0)
                                 : fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        jail_child(j);
    }
    if (pid < 0) {
        rc = jerr("%s: %s", j->a->new_pid_ns ? "clone a new PID namespace" : "fork",
                  strerror(errno));
        sigprocmask(SIG_SETMASK, &old, NULL);
        goto cleanup;
    }
    child_pid = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    for (int i = 0; i < j->ncg_fds; i++)
        close(j->cg_fds[i]);
    j->ncg_fds = 0;
    if (j->netns_fd >= 0)
        close(j->netns_fd);
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) {
            ws = EXIT_ISOVM_ERROR << 8;
            break;
        }
    child_pid = 0;
    rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    if (WIFSIGNALED(ws))
        log_err("jail: the VMM was killed by signal %d", WTERMSIG(ws));
    if (j->report_user[0]) {
        int mrc = report_merge(j);
        if (mrc && rc == 0)
            rc = mrc;
    }
cleanup:
    for (int i = 0; i < j->ncg_fds; i++)
        close(j->cg_fds[i]);
    if (cgroup_remove(&j->cg) < 0 && rc == 0)
        rc = EXIT_ISOVM_ERROR;
    jail_dir_remove(j);
    return rc;
}

int jail_main(int argc, char **argv)
{
    struct jail_args a;
    char err[1024];
    if (jail_args_parse(argc, argv, &a, err, sizeof err) < 0) {
        log_err("%s", err);
        fprintf(stderr, "usage: isovm jail --id ID --uid U --gid G [jail options] -- launch "
                "[launch options] [--] PROGRAM [ARGS...] (isovm jail --help)\n");
        return EXIT_ISOVM_ERROR;
    }
    if (a.help) {
        jail_usage(stdout);
        return 0;
    }
    static struct jail j; /* large: not on the stack */
    memset(&j, 0, sizeof j);
    j.a = &a;
    j.netns_fd = -1;
    int rc = launch_cli(a.launch_argc, a.launch_argv, jail_run, &j);
    free(j.vmm_argv);
    return rc;
}
