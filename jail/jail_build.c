/* isovm jail, first part: check every argument before anything is made, then make the jail
 * directory, the report file and the cgroup with the policy's limits. */
#include "jail/jail_build.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "lib/host_path.h"
#include "lib/log.h"
#include "lib/test_hooks.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int jerr(const char *fmt, ...)
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

/* The per-uid snapshot cache, when it exists: a directory (not a link) of the job's user, mode
 * 0700, so that no other tenant's VMM wrote or can read it. 0 or the exit status. */
static int snap_dir_check(struct jail *j)
{
    struct stat st;
    if (lstat(j->snap_dir, &st) < 0)
        return errno == ENOENT ? 0 : jerr("the snapshot cache %s: %s", j->snap_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != j->a->uid || (st.st_mode & 077))
        return jerr("the snapshot cache %s is not a directory of uid %u with mode 0700 (remove "
                    "it: it is made again)", j->snap_dir, (unsigned)j->a->uid);
    return 0;
}

/* An output file the VMM writes (--audit, --console-log): it can be made where it is named.
 * 0 or the exit status after a message. */
static int output_file_check(struct jail *j, const char *what, const char *path)
{
    char abs[PATH_MAX];
    if (path_absolute(j->cwd, path, abs, sizeof abs) < 0)
        return jerr("%s %s: path too long", what, path);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", abs);
    *strrchr(dir, '/') = '\0';
    if (access(dir[0] ? dir : "/", W_OK) < 0 && access(abs, W_OK) < 0)
        return jerr("%s %s: cannot be created: %s", what, path, strerror(errno));
    if (path[0] != '/')
        j->need_cwd = true;
    return 0;
}

/* An output file made (when missing) for the job's user and bound read-write at its path. */
static int output_file_make(struct jail *j, const char *what, const char *path, int flags)
{
    char abs[PATH_MAX];
    path_absolute(j->cwd, path, abs, sizeof abs);
    int fd = open(abs, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY | flags, 0600);
    if (fd >= 0) {
        if (fchown(fd, j->a->uid, j->a->gid) < 0)
            log_err("jail: chown %s: %s", abs, strerror(errno));
        close(fd);
    }
    return bind_add(j, what, abs, true, false);
}

/* The kernel as the VMM finds it (vmm/run/launch_linux.c, lx_kernel): --kernel, else
 * $ISOVM_KERNEL, else the kernel cache's current/vmlinux; looked up here, while the jailer has
 * its environment (the VMM gets none but ISOVM_SNAPSHOT_CACHE) and passed as --kernel. */
static int kernel_locate(struct jail *j, char *path, size_t len)
{
    const char *k = j->o->kernel ? j->o->kernel : getenv("ISOVM_KERNEL");
    const char *cache = getenv("ISOVM_KERNEL_CACHE"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    int n;
    if (k && *k)
        n = snprintf(path, len, "%s", k);
    else if (cache && *cache)
        n = snprintf(path, len, "%s/current/vmlinux", cache);
    else if (xdg && *xdg)
        n = snprintf(path, len, "%s/isovm/kernel/current/vmlinux", xdg);
    else
        n = snprintf(path, len, "%s/.cache/isovm/kernel/current/vmlinux", home ? home : "");
    if (n < 0 || (size_t)n >= len)
        return jerr("the kernel's path is too long");
    if (path_absolute(j->cwd, path, j->kernel, sizeof j->kernel) < 0)
        return jerr("the kernel %s: path too long", path);
    j->kernel_from_jailer = !j->o->kernel;
    if (access(j->kernel, R_OK) != 0)
        return j->o->kernel ? jerr("--kernel %s: %s", j->o->kernel, strerror(errno))
                            : jerr("no kernel: %s: %s (run scripts/linux-kernel.sh, or give "
                                   "--kernel VMLINUX)", j->kernel, strerror(errno));
    return 0;
}

/* The Linux tier's host files (docs/jailer.md, "The Linux tier"): the kernel and the
 * modules.cpio beside it, the root image and each disk (read-write only for a --disk :rw), and
 * the per-uid snapshot cache unless --no-snapshot. 0 or the exit status after a message. */
static int linux_tier_validate(struct jail *j)
{
    const struct launch_opts *o = j->o;
    char path[PATH_MAX], mods[PATH_MAX];
    int rc = kernel_locate(j, path, sizeof path);
    if (rc)
        return rc;
    snprintf(mods, sizeof mods, "%.*s/modules.cpio", (int)(strrchr(j->kernel, '/') - j->kernel),
             j->kernel);
    if ((rc = bind_add(j, o->kernel ? "--kernel" : "the kernel", j->kernel, false, false)) ||
        (rc = bind_add(j, "the kernel's modules", mods, false, false)) ||
        (rc = bind_add(j, "--rootfs", o->rootfs, false, false)))
        return rc;
    for (unsigned i = 0; i < o->ndisks; i++)
        if ((rc = bind_add(j, "--disk", o->disks[i].path, o->disks[i].rw, false)))
            return rc;
    if (o->no_snapshot)
        return 0;
    char rel[PATH_MAX];
    if (snprintf(rel, sizeof rel, "%s/isovm/" JAIL_SNAPSHOTS_DIR "/%u", j->a->chroot_base,
                 (unsigned)j->a->uid) >= (int)sizeof rel ||
        path_absolute(j->cwd, rel, j->snap_dir, sizeof j->snap_dir) < 0)
        return jerr("--chroot-base %s: path too long", j->a->chroot_base);
    return snap_dir_check(j);
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

static int job_files_validate(struct jail *j);

static const uint32_t WRITE_RIGHTS = CAP_R_WRITE | CAP_R_CREATE | CAP_R_DELETE | CAP_R_TRUNCATE;

/* The policy's io.device: a block device whose limits the job's cgroup can take. 0 or the exit
 * status after a message. */
static int io_device_check(const struct jail *j)
{
    const char *dev = j->o->policy.io_device;
    struct stat st;
    if (!dev[0])
        return 0;
    if (stat(dev, &st) < 0)
        return jerr("policy io.device %s: %s", dev, strerror(errno));
    if (!S_ISBLK(st.st_mode))
        return jerr("policy io.device %s: not a block device", dev);
    if (!cgroup_key_known(&j->cg, j->cg.version == 2 ? "io.max" : "blkio.throttle.read_bps_device"))
        return jerr("policy io.device %s: the job's cgroup has no %s controller", dev,
                    j->cg.version == 2 ? "io" : "blkio");
    return 0;
}

int jail_host_validate(struct jail *j)
{
    const struct jail_args *a = j->a;
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
    return 0;
}

/* Everything checked before the system is touched. 0 or the exit status after a message. */
int jail_validate(struct jail *j)
{
    const struct launch_opts *o = j->o;
    char err[1024];
    int rc = jail_host_validate(j);
    if (rc)
        return rc;
    if ((rc = io_device_check(j)))
        return rc;
    if (o->policy.control_path[0])
        return jerr("--control %s: the control socket is not available under isovm jail (it "
                    "would be inside the jail's mount namespace)", o->policy.control_path);

    /* the VMM and what it loads */
    ssize_t n = readlink("/proc/self/exe", j->vmm, sizeof j->vmm - 1);
    if (n <= 0)
        return jerr("cannot find isovm's own binary (/proc/self/exe): %s", strerror(errno));
    j->vmm[n] = '\0';
    if ((rc = bind_add(j, "isovm", j->vmm, false, true)))
        return rc;
    struct jail_libs libs;
    if (jail_libs_self(&libs, err, sizeof err) < 0)
        return jerr("%s", err + (strncmp(err, "jail: ", 6) ? 0 : 6));
    for (unsigned i = 0; i < libs.n; i++)
        if ((rc = bind_add(j, "library", libs.path[i], false, true)))
            return rc;
    if ((rc = job_files_validate(j)))
        return rc;
    /* isovm-hooks' jail-probe runs anyway (tests/jail: the VMM then fails at KVM) */
    return test_hook("jail-probe") ? 0 : jail_pvm_refuse();
}

int jail_pvm_refuse(void)
{
    if (access("/sys/module/kvm_pvm", F_OK) == 0 && access("/sys/module/kvm_amd", F_OK) != 0 &&
        access("/sys/module/kvm_intel", F_OK) != 0)
        return jerr("/dev/kvm on this host is PVM (kvm_pvm), which cannot run isovm's ring-0 "
                    "firmware");
    return 0;
}

int jail_validate_pooled(struct jail *j)
{
    const struct launch_opts *o = j->o;
    if (geteuid() != 0)
        return jerr("a jailed pool's server must run as root");
    if (!getcwd(j->cwd, sizeof j->cwd))
        return jerr("cannot tell the current directory: %s", strerror(errno));
    if (o->rootfs)
        return jerr("--rootfs %s: a jailed pool serves hypercall-tier jobs only (run a Linux-tier "
                    "job with isovm jail, or through a pool without --jail)", o->rootfs);
    if (o->policy.tenant[0])
        return jerr("--tenant %s: a jailed pool does not serve jobs charged to a tenant (run it "
                    "with isovm jail)", o->policy.tenant);
    if (o->policy.control_path[0])
        return jerr("--control %s: the control socket is not available in a jailed pool (it "
                    "would be inside the jail's mount namespace)", o->policy.control_path);
    int rc = io_device_check(j);
    if (rc)
        return rc;
    return job_files_validate(j); /* the VMM is in its jail already, isovm and all */
}

/* The job's files: the program (the hypercall tier; the Linux tier's COMMAND is the guest's),
 * or the Linux tier's kernel, images and snapshot cache; the policy file, the grants, the output
 * files. 0 or the exit status after a message. */
static int job_files_validate(struct jail *j)
{
    const struct launch_opts *o = j->o;
    struct stat st;
    int rc;
    if (o->rootfs) {
        if ((rc = linux_tier_validate(j)))
            return rc;
    } else if (stat(o->program, &st) < 0) {
        int e = errno;
        log_err("%s: %s", o->program, strerror(e));
        return e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
    }
    if (!o->rootfs && !S_ISREG(st.st_mode)) {
        log_err("%s: %s", o->program, S_ISDIR(st.st_mode) ? "Is a directory" : "not a regular file");
        return EXIT_CANNOT_EXEC;
    }
    if (!o->rootfs && (rc = bind_add(j, "program", o->program, false, false)))
        return rc;
    if (o->policy_file && (rc = bind_add(j, "--policy", o->policy_file, false, false)))
        return rc;
    for (unsigned i = 0; i < o->policy.ngrants; i++) {
        char what[64];
        snprintf(what, sizeof what, "policy grants[%u].host", i);
        /* as the VMM refuses it at launch: bound, the link's target would pass unnoticed */
        int fd = host_path_open(o->policy.grants[i].host, O_PATH);
        if (fd == -ELOOP) {
            char why[3 * PATH_MAX];
            host_path_symlink_explain(o->policy.grants[i].host, why, sizeof why);
            return jerr("%s %s: %s", what, o->policy.grants[i].host, why);
        }
        if (fd >= 0)
            close(fd);
        if ((rc = bind_add(j, what, o->policy.grants[i].host,
                           (o->policy.grants[i].rights & WRITE_RIGHTS) != 0, false)))
            return rc;
    }
    if (o->policy.audit_path[0] && (rc = output_file_check(j, "--audit", o->policy.audit_path)))
        return rc;
    if (o->console_log && (rc = output_file_check(j, "--console-log", o->console_log)))
        return rc;
    if (o->report_path && strcmp(o->report_path, "-") != 0) {
        /* a pooled job's VMM writes its report at its own path, bound (no cgroup object merged:
         * the jail outlives the client's wait); isovm jail's VMM to JAIL_REPORT_PATH */
        if (j->pool)
            return output_file_check(j, "--report", o->report_path);
        if (path_absolute(j->cwd, o->report_path, j->report_user, sizeof j->report_user) < 0)
            return jerr("--report %s: path too long", o->report_path);
    }
    return 0;
}

/* The VMM's argv: launch's own options, --report inside the jail, the Linux tier's kernel when
 * the jailer found it, then the program and args. */
int vmm_argv_build(struct jail *j)
{
    const struct jail_args *a = j->a;
    int prog = (int)(j->o->argv - a->launch_argv); /* index of PROGRAM in launch argv */
    if (prog < 1 || prog >= a->launch_argc)
        return jerr("cannot find PROGRAM in the launch arguments");
    int nopts = prog;
    if (!strcmp(a->launch_argv[prog - 1], "--"))
        nopts--;
    j->vmm_argv = calloc((size_t)a->launch_argc + 12, sizeof *j->vmm_argv);
    if (!j->vmm_argv)
        return jerr("out of memory");
    int k = 0;
    j->vmm_argv[k++] = j->vmm;
    for (int i = 0; i < nopts; i++)
        j->vmm_argv[k++] = j->launch_argv[i];
    if (j->report_user[0]) {
        j->vmm_argv[k++] = "--report";
        j->vmm_argv[k++] = JAIL_REPORT_PATH;
    }
    if (j->kernel_from_jailer) { /* the VMM has no environment to find it by */
        j->vmm_argv[k++] = "--kernel";
        j->vmm_argv[k++] = j->kernel;
    }
    if (j->o->policy.tenant[0]) { /* the keeper's socket (jail.c), and the job's ledger id */
        j->vmm_argv[k++] = "--ledger-fd";
        j->vmm_argv[k++] = j->ledger_fd_text;
        j->vmm_argv[k++] = "--job-id";
        j->vmm_argv[k++] = j->job_id;
    }
    j->vmm_argv[k++] = "--";
    for (int i = prog; i < a->launch_argc; i++)
        j->vmm_argv[k++] = j->launch_argv[i];
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

int jail_cgroup_limits(struct jail *j)
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
void jail_dir_remove(struct jail *j)
{
    if (rmdir(j->root) < 0 && errno != ENOENT)
        log_err("jail: cannot remove %s: %s", j->root, strerror(errno));
    if (unlink(j->report_host) < 0 && errno != ENOENT)
        log_err("jail: cannot remove %s: %s", j->report_host, strerror(errno));
    if (rmdir(j->jail_dir) < 0 && errno != ENOENT)
        log_err("jail: cannot remove %s: %s", j->jail_dir, strerror(errno));
}

/* The per-uid snapshot cache: <base>/isovm/.snapshots (root's, 0711) and in it <uid> (the job's
 * user's, 0700), kept after the job (its snapshots serve the user's later jobs), bound
 * read-write. 0 or the exit status after a message. */
static int snap_dir_make(struct jail *j)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", j->snap_dir);
    *strrchr(parent, '/') = '\0';
    if (mkdir(parent, 0711) < 0 && errno != EEXIST)
        return jerr("mkdir %s: %s", parent, strerror(errno));
    if (mkdir(j->snap_dir, 0700) == 0) {
        if (chown(j->snap_dir, j->a->uid, j->a->gid) < 0)
            return jerr("chown %s: %s", j->snap_dir, strerror(errno));
    } else if (errno != EEXIST) {
        return jerr("mkdir %s: %s", j->snap_dir, strerror(errno));
    }
    int rc = snap_dir_check(j); /* made meanwhile by someone else? */
    return rc ? rc : bind_add(j, "the snapshot cache", j->snap_dir, true, false);
}

int jail_outputs_make(struct jail *j)
{
    const struct launch_opts *o = j->o;
    int rc = 0;
    if (o->policy.audit_path[0])
        rc = output_file_make(j, "--audit", o->policy.audit_path, O_APPEND);
    if (!rc && o->console_log)
        rc = output_file_make(j, "--console-log", o->console_log, 0);
    if (!rc && j->pool && o->report_path && strcmp(o->report_path, "-") != 0)
        rc = output_file_make(j, "--report", o->report_path, 0);
    return rc;
}

/* Make the jail directory, the report file and the cgroup. 0 or the exit status (undone). */
int jail_make(struct jail *j)
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
    int rc = jail_outputs_make(j);
    if (!rc && j->snap_dir[0])
        rc = snap_dir_make(j);
    if (rc) {
        jail_dir_remove(j);
        return rc;
    }
    char err[1024];
    if (cgroup_create(&j->cg, err, sizeof err) < 0) {
        jail_dir_remove(j);
        return jerr("%s", err);
    }
    rc = jail_cgroup_limits(j);
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
