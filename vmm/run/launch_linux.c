/* The Linux tier's launch: checks the images and the kernel, boots the VM, supervises the job, reports. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "init/abi.h"
#include "init/blob.h"
#include "init/job_write.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "limits/cpu_quota.h"
#include "vmm/linux/boot.h"
#include "vmm/linux/image_check.h"
#include "vmm/linux/ldev.h"
#include "vmm/linux/lvcpu.h"
#include "vmm/linux/lsnap.h"
#include "vmm/linux/lvm.h"
#include "vmm/linux/pvh.h"
#include "vmm/run/launch.h"
#include "vmm/run/launch_warm.h"
#include "vmm/run/lx_end.h"
#include "vmm/run/lx_grants.h"
#include "vmm/run/report.h"
#include "vmm/run/tenant.h"
#include "vmm/run/vcpu_run.h"
#include "vmm/run/vmm_seccomp.h"

#define LX_MIN_MEMORY (128ull << 20) /* Debian's stock kernel and the init need this much */
#define LX_CMDLINE "console=ttyS0 reboot=k panic=-1 8250.nr_uarts=1 i8042.noaux i8042.nomux " \
                   "i8042.nopnp i8042.dumbkbd tsc=reliable no_timer_check random.trust_cpu=on " \
                   "cryptomgr.notests pci=off rdinit=/init"


static void lx_on_end(void *ctx)
{
    struct lx *x = ctx;
    uint64_t one = 1;
    if (write(x->end_fd, &one, sizeof one) < 0)
        log_debug("end eventfd: %s", strerror(errno));
}

/* ---- files: images, the kernel, its modules ---- */

/* Open an image and check it (vmm/linux/image_check.c) on the descriptor the disk is then
 * served from; 0 or EXIT_ISOVM_ERROR after a message naming it. */
static int lx_image_open(struct lx *x, const char *path, bool rw, enum image_role role)
{
    const char *opt = role == IMAGE_ROLE_ROOT ? "--rootfs" : "--disk";
    int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        log_err("%s %s: cannot open%s: %s", opt, path, rw ? " for writing" : "", strerror(errno));
        return EXIT_ISOVM_ERROR;
    }
    struct image_info info;
    char err[600] = "";
    if (image_check_fd(fd, path, role, &info, err, sizeof err) < 0) {
        log_err("%s", err);
        close(fd);
        return EXIT_ISOVM_ERROR;
    }
    if (rw && info.read_only) {
        log_err("%s %s: a %s image cannot be written (give it :ro)", opt, path, info.fstype);
        close(fd);
        return EXIT_ISOVM_ERROR;
    }
    if (role == IMAGE_ROLE_ROOT)
        fstat(fd, &x->root_st); /* a machine made ahead serves only jobs of this very image */
    x->disk_fd[x->ndisks] = fd;
    x->disk_path[x->ndisks] = path;
    x->disk_fstype[x->ndisks] = info.fstype;
    x->ndisks++;
    return 0;
}

/* A whole file, mapped read-only; 0 or EXIT_ISOVM_ERROR after a message. keep_fd: the file
 * stays open there (else closed). */
static int lx_map(const char *path, const char *what, uint8_t **out, size_t *size, int *keep_fd)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        log_err("%s %s: %s", what, path, fd < 0 ? strerror(errno) : "not a non-empty regular file");
        if (fd >= 0)
            close(fd);
        return EXIT_ISOVM_ERROR;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (keep_fd && p != MAP_FAILED)
        *keep_fd = fd;
    else
        close(fd);
    if (p == MAP_FAILED) {
        log_err("%s %s: %s", what, path, strerror(errno));
        return EXIT_ISOVM_ERROR;
    }
    *out = p;
    *size = (size_t)st.st_size;
    return 0;
}

/* The kernel's path: --kernel, else $ISOVM_KERNEL, else the kernel cache's current/vmlinux;
 * 0, or EXIT_ISOVM_ERROR after a message. lx_kernel maps it and its modules.cpio beside it. */
static int lx_kernel_path(const struct launch_opts *o, char *path, size_t len)
{
    const char *k = o->kernel ? o->kernel : getenv("ISOVM_KERNEL");
    if (k && *k) {
        snprintf(path, len, "%s", k);
    } else {
        const char *cache = getenv("ISOVM_KERNEL_CACHE"), *xdg = getenv("XDG_CACHE_HOME"),
                   *home = getenv("HOME");
        if (cache && *cache)
            snprintf(path, len, "%s/current/vmlinux", cache);
        else if (xdg && *xdg)
            snprintf(path, len, "%s/isovm/kernel/current/vmlinux", xdg);
        else
            snprintf(path, len, "%s/.cache/isovm/kernel/current/vmlinux", home ? home : "");
        if (access(path, R_OK) != 0) {
            log_err("no kernel: %s: %s (run scripts/linux-kernel.sh, or give --kernel VMLINUX)",
                    path, strerror(errno));
            return EXIT_ISOVM_ERROR;
        }
    }
    return 0;
}

static int lx_kernel(struct lx *x, uint64_t low_ram)
{
    char path[PATH_MAX], mods[PATH_MAX];
    int rc = lx_kernel_path(x->o, path, sizeof path);
    if (rc)
        return rc;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) : 1;
    snprintf(mods, sizeof mods, "%.*s/modules.cpio", dirlen, slash ? path : ".");
    snprintf(x->kernel_path, sizeof x->kernel_path, "%s", path);
    snprintf(x->modules_path, sizeof x->modules_path, "%s", mods);
    if ((rc = lx_map(path, "kernel", &x->kernel, &x->kernel_size, &x->kernel_fd)))
        return rc;
    fstat(x->kernel_fd, &x->kernel_st);
    /* checked here, before any VM exists, for its message (boot_load checks it again) */
    struct pvh_kernel checked;
    char err[256] = "";
    if (pvh_kernel_check(x->kernel, x->kernel_size, 0x100000, low_ram, &checked, err, sizeof err) < 0) {
        log_err("kernel %s: %s", path, err);
        return EXIT_ISOVM_ERROR;
    }
    return lx_map(mods, "the kernel's modules (beside --kernel)", &x->modules, &x->modules_size, NULL);
}

/* ---- the job file ---- */

static int lx_job_file(struct lx *x, char **text, size_t *len)
{
    const struct launch_opts *o = x->o;
    if (x->warm) { /* made ahead: the root only (init/abi.h, prepare files) */
        struct job_spec prep = { .version = ISOVM_JOB_VERSION, .prepare = true,
                                 .root_dev = "/dev/vda", .root_fstype = x->disk_fstype[0],
                                 .overlay = JOB_OVERLAY_TMPFS };
        char err[256] = "";
        if (job_write(&prep, text, len, err, sizeof err) < 0) {
            log_err("cannot describe the machine to the guest's init: %s", err);
            return EXIT_ISOVM_ERROR;
        }
        return 0;
    }
    /* the --disk images are the job's to mount: no disk lines (init/abi.h) */
    struct job_spec spec = {
        .version = ISOVM_JOB_VERSION,
        .argv = (char **)o->argv, .argc = (size_t)o->argc,
        .envp = o->envp, .envc = (size_t)o->envc,
        .cwd = o->policy.cwd[0] ? o->policy.cwd : "/",
        .root_dev = "/dev/vda", .root_fstype = x->disk_fstype[0],
        .overlay = JOB_OVERLAY_TMPFS,
        .max_threads = o->policy.max_threads,
        .memory = o->policy.memory_bytes,
    };
    /* the guest's wall clock and randomness: a restored guest's are the snapshot's */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    spec.has_time = true;
    spec.time_sec = (int64_t)now.tv_sec;
    spec.time_nsec = (uint32_t)now.tv_nsec;
    if (getrandom(spec.seed, sizeof spec.seed, 0) != (ssize_t)sizeof spec.seed) {
        log_err("cannot get randomness for the guest: %s", strerror(errno));
        return EXIT_ISOVM_ERROR;
    }
    spec.has_seed = true;
    char err[256] = "";
    int rc = lx_grants_job_spec(&x->g, &spec);
    if (rc == 0)
        rc = job_write(&spec, text, len, err, sizeof err);
    free(spec.shares);
    free(spec.hosts);
    if (rc < 0) {
        log_err("cannot describe the job to the guest's init: %s", err[0] ? err : strerror(-rc));
        return EXIT_ISOVM_ERROR;
    }
    return 0;
}


/* Called with the devices' lock held, on the vCPU thread that wrote the phase. */
static void lx_on_phase(void *ctx, unsigned phase)
{
    struct lx *x = ctx;
    x->phase_cpu_ns[phase] = lx_cpu_ns(x);
    if ((phase == ISOVM_PHASE_READY && x->snap_mode == LX_SNAP_MAKE) ||
        (phase == ISOVM_PHASE_PREPARED && x->warm)) {
        /* this vCPU parks before it runs another instruction: the init's next one asks for the
         * job, which is not there yet; the supervisor parks the others and saves the snapshot,
         * or (a machine made ahead) the job's launch adopts the machine and lets it go */
        atomic_store(&x->sh.pause, true);
        uint64_t one = 1;
        if (write(x->ready_fd, &one, sizeof one) < 0)
            log_debug("ready eventfd: %s", strerror(errno));
    }
}

/* ---- the launch ---- */

/* The devices over x->m, the job's disks among them. */
static int lx_devices(struct lx *x, int console_log)
{
    const struct launch_opts *o = x->o;
    struct ldev_disk_cfg dcfg[LAUNCH_MAX_DISKS + 1];
    for (unsigned i = 0; i < x->ndisks; i++)
        dcfg[i] = (struct ldev_disk_cfg){ x->disk_path[i], x->disk_fd[i], i == 0 || !o->disks[i - 1].rw };
    x->dev_made = true;
    if (ldev_init(&x->d, &x->m, dcfg, x->ndisks, &o->policy.io_read, &o->policy.io_write,
                  x->warm ? -1 : STDIN_FILENO, x->warm ? -1 : STDOUT_FILENO,
                  x->warm ? -1 : STDERR_FILENO, console_log, lx_on_end, x) < 0)
        return -1;
    if (x->warm)
        ldev_streams_hold(&x->d);
    return lx_grants_devices(&x->g, &x->d, &x->m);
}

/* The machine and its devices, restored from the snapshot cache when it holds this boot, else
 * to be booted (x->snap_mode says which, and whether a snapshot is to be made) with
 * x->cmdline: cmdline, and the init's preload flag (init/abi.h) when a snapshot is used, so that
 * a restored guest has its modules but the transport loaded already. */
static int lx_machine(struct lx *x, uint64_t mem, int console_log, const char *cmdline)
{
    x->vm_made = true;
    if (lvm_create(&x->m, mem, x->nvcpus) < 0 || lx_devices(x, console_log) < 0)
        return -1;
    x->snap_mode = LX_SNAP_NONE;
    snprintf(x->cmdline, sizeof x->cmdline, "%s", cmdline);
    if (x->o->no_snapshot)
        return 0;
    snprintf(x->cmdline, sizeof x->cmdline, "%s %s=1", cmdline, ISOVM_PRELOAD_ENV);
    if (lsnap_prepare(&x->snap, &x->m, &x->d, x->kernel_path, x->modules_path, x->cmdline) < 0) {
        snprintf(x->cmdline, sizeof x->cmdline, "%s", cmdline);
        return 0;
    }
    bool dirty;
    int rc = lsnap_restore(&x->snap, &x->m, &x->d, console_log, x->warm, &dirty);
    if (rc == 0) {
        x->snap_mode = LX_SNAP_RESTORED;
        return 0;
    }
    x->snap_mode = LX_SNAP_MAKE;
    if (dirty) { /* a snapshot that failed half-way: start from a new machine */
        lx_grants_devices_fini(&x->g);
        ldev_fini(&x->d);
        lvm_destroy(&x->m);
        if (lvm_create(&x->m, mem, x->nvcpus) < 0 || lx_devices(x, console_log) < 0)
            return -1;
    }
    if (!(x->d.boot_log = malloc(LSNAP_LOG_MAX)))
        return -1;
    x->d.boot_log_cap = LSNAP_LOG_MAX;
    return 0;
}

/* The VMM's own seccomp filter, the Linux tier's list with the groups the job needs
 * (docs/security.md); 0 or -1 after a message. */
static int lx_seccomp(struct lx *x)
{
    json_object_seed(0); /* jansson seeds its hash from /dev/urandom: now, not at the report */
    if (x->o->no_seccomp) {
        vmm_seccomp_warn_disabled();
        return 0;
    }
    unsigned groups = (x->o->policy.ngrants ? VSC_LINUX_GRANTS : 0) |
                      (x->o->policy.nendpoints ? VSC_LINUX_NET : 0) |
                      (x->o->policy.control_path[0] ? VSC_LINUX_CONTROL : 0) |
                      (x->o->tenant ? VSC_LINUX_TENANT : 0) |
                      (launch_warm_client_fd() >= 0 ? VSC_LINUX_POOL : 0);
    if (vmm_seccomp_install_linux(groups) < 0)
        return -1;
    vmm_seccomp_test_hooks(x->m.kvm.kvm_fd); /* isovm-hooks only: a forbidden call, SIGSYS */
    return 0;
}

/* While the guest stands parked for its snapshot, the supervisor is not polling: a signal or
 * the wall-clock timeout still ends the run within a slice of the parking or a chunk of the
 * file (x->end set; the CPU limits need no check, the vCPUs do not run). */
static bool lx_stop_now(void *ctx)
{
    struct lx *x = ctx;
    uint64_t timeout = x->o->policy.timeout_ns;
    if (timeout && mono_ns() >= x->t0 + timeout) {
        x->end = LX_TIMEOUT;
        return true;
    }
    return lx_take_signal(x);
}

/* The init is at its ready point and its vCPU parked: park the others, save the snapshot, then
 * (and only then) install the VMM's filter on every thread, hand the guest its job and let it
 * run. 0; 1 when a signal or the timeout came meanwhile (x->end says which: the run stops, no
 * snapshot left behind); -1 when the filter cannot be installed (the run must stop). */
static int lx_snapshot_at_ready(struct lx *x, const char *job_text, size_t job_len)
{
    /* parked in 20 ms slices (each kicks again), 10 s in all */
    uint64_t give_up = mono_ns() + 10000000000ull;
    bool stopped = false;
    int rc;
    while ((rc = lvcpu_pause(&x->sh, x->vcpu, x->nvcpus, 20)) == -ETIMEDOUT && mono_ns() < give_up)
        if (lx_stop_now(x))
            return 1;
    /* the devices' state under their lock; the file written without it */
    struct lsnap_dev dev;
    memset(&dev, 0, sizeof dev);
    pthread_mutex_lock(&x->d.lock);
    uart8250_save(&x->d.uart, &dev.uart);
    char *log = x->d.boot_log;
    size_t log_len = x->d.boot_log_len;
    bool touched = x->d.mmio_accesses != 0;
    x->d.boot_log = NULL;
    pthread_mutex_unlock(&x->d.lock);
    if (rc == -ETIMEDOUT)
        log_warn("no snapshot made: the vCPUs did not stop within 10 s");
    else if (rc == 0 && touched)
        log_warn("no snapshot made: the guest touched a virtio device before its init was ready");
    else if (rc == 0) {
        rc = lsnap_make(&x->snap, &x->m, &dev, log, log_len, lx_stop_now, x);
        x->snap_made = rc == 0;
        stopped = rc == -ECANCELED;
    }
    free(log);
    if (stopped)
        return 1;
    pthread_mutex_lock(&x->d.lock);
    job_port_set(&x->d.job, job_text, (uint32_t)job_len);
    pthread_mutex_unlock(&x->d.lock);
    rc = x->warm ? 0 : lx_seccomp(x); /* made ahead: the job's filter when it comes */
    lvcpu_resume(&x->sh);
    return rc;
}

/* ---- the run: a launch's own machine, or one made ahead of its job ---- */

/* The signals that stop a run (the supervisor reads them on its signalfd). */
static sigset_t lx_stop_signals(void)
{
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    return sigs;
}

/* Guest RAM for o: its memory rounded up to whole 2 MiB pages. */
static uint64_t lx_mem(const struct launch_opts *o)
{
    return (o->policy.memory_bytes + (2u << 20) - 1) / (2u << 20) * (2u << 20);
}

/* The run's start is now (t0), and how long after main() that is (a pooled job's main: its
 * client's). */
static void lx_start_clock(struct lx *x)
{
    x->t0 = mono_ns();
    x->launch_ns = clock_main_mono_ns && clock_main_mono_ns <= x->t0 ? x->t0 - clock_main_mono_ns : 0;
}

/* The machine made ahead in this process (a pool's VMM), its guest parked at PREPARED; NULL:
 * none. */
static struct lx *lx_warm;

static struct lx *lx_new(const struct launch_opts *o)
{
    struct lx *x = calloc(1, sizeof *x);
    if (!x) {
        log_err("out of memory");
        return NULL;
    }
    x->o = o;
    lx_start_clock(x);
    x->end_fd = x->ready_fd = x->sig_fd = x->kernel_fd = x->console_log = -1;
    return x;
}

/* Everything up to the guest's first instruction: the images checked, the kernel, the grants,
 * the console log, the supervisor's signals, the machine (restored from the snapshot, or loaded
 * to boot), the job file (a prepare file for a machine made ahead), the vCPUs' shared state.
 * 0, or an exit status after a message. */
static int lx_setup(struct lx *x)
{
    const struct launch_opts *o = x->o;
    int status;
    uint64_t mem = lx_mem(o);
    if (mem < LX_MIN_MEMORY) {
        log_err("memory %llu bytes: the Linux tier needs at least %llu MiB (Debian's kernel and "
                "the init); give --memory 256M or more", (unsigned long long)o->policy.memory_bytes,
                LX_MIN_MEMORY >> 20);
        return EXIT_ISOVM_ERROR;
    }
    /* every image checked before anything boots */
    if ((status = lx_image_open(x, o->rootfs, false, IMAGE_ROLE_ROOT)))
        return status;
    for (unsigned i = 0; i < o->ndisks; i++)
        if ((status = lx_image_open(x, o->disks[i].path, o->disks[i].rw, IMAGE_ROLE_DISK)))
            return status;
    if ((status = lx_kernel(x, mem < LVM_LOW_RAM_MAX ? mem : LVM_LOW_RAM_MAX)))
        return status;
    x->g_open = true;
    if ((status = lx_grants_open(&x->g, &o->policy, x->t0)))
        return status;
    if (o->console_log) {
        x->console_log = open(o->console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
        if (x->console_log < 0) {
            log_err("--console-log %s: %s", o->console_log, strerror(errno));
            return EXIT_ISOVM_ERROR;
        }
    }
    /* the report file is opened now: the VMM's seccomp filter allows no open once the guest
     * runs (a machine made ahead opens its job's when the job comes) */
    if (!x->warm && o->report_path && !(x->report = report_open(o->report_path)))
        return EXIT_ISOVM_ERROR;
    sigset_t sigs = lx_stop_signals();
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    sigdelset(&sigs, SIGUSR1);
    x->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    x->end_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    x->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (x->sig_fd < 0 || x->end_fd < 0 || x->ready_fd < 0 || vcpu_signals_init() < 0) {
        log_err("cannot set up the supervisor: %s", strerror(errno));
        return EXIT_ISOVM_ERROR;
    }
    x->nvcpus = o->policy.vcpus ? o->policy.vcpus : 1;
    const char *cmdline = o->console_log ? LX_CMDLINE : LX_CMDLINE " quiet";
    if (lx_machine(x, mem, x->console_log, cmdline) < 0 || lx_job_file(x, &x->job_text, &x->job_len))
        return EXIT_ISOVM_ERROR;
    if (x->snap_mode != LX_SNAP_RESTORED) {
        struct boot_parts parts = {
            .kernel = x->kernel, .kernel_size = x->kernel_size,
            .kernel_path = o->kernel ? o->kernel : "the cached kernel", .kernel_fd = x->kernel_fd,
            .init = isovm_init_start, .init_size = (size_t)(isovm_init_end - isovm_init_start),
            .modules_cpio = x->modules, .modules_cpio_size = x->modules_size,
            .cmdline = x->cmdline,
        };
        ldev_acpi(&x->d, &parts.acpi, x->nvcpus);
        struct boot_layout layout;
        if (boot_load(&x->m, &parts, &layout) < 0)
            return EXIT_ISOVM_ERROR;
    }
    munmap(x->kernel, x->kernel_size);
    x->kernel = NULL;
    close(x->kernel_fd);
    x->kernel_fd = -1;
    x->d.on_phase = lx_on_phase;
    x->sh = (struct lvcpu_shared){ .m = &x->m, .d = &x->d, .on_end = lx_on_end, .end_ctx = x };
    if (lvcpu_shared_init(&x->sh) < 0)
        return EXIT_ISOVM_ERROR;
    cpu_quota_init(&x->quota, o->policy.cpu_quota_ns, o->policy.cpu_period_ns, mono_ns(), 0);
    return 0;
}

/* The guest runs: the device thread and the vCPUs started, supervised until the run ends; a
 * run that boots without a snapshot saves one at the init's ready point and goes on. A
 * machine made ahead stops at the init's PREPARED instead (x->end LX_READY, its vCPU parked).
 * 0, or -1 (the run could not start, or its snapshot failed it: x->end says how it ended). */
static int lx_go(struct lx *x)
{
    if (ldev_start(&x->d) < 0 || lx_grants_start(&x->g, &x->d) < 0)
        return -1;
    for (unsigned i = 0; i < x->nvcpus; i++)
        if (lvcpu_start(&x->vcpu[i], &x->sh, i) < 0)
            return -1;
    lx_supervise(x, x->sig_fd);
    if (x->end == LX_READY && !x->d.status.phase_ns[ISOVM_PHASE_PREPARED]) {
        int rc = lx_snapshot_at_ready(x, x->job_text, x->job_len);
        if (rc < 0)
            x->end = LX_FAILED;
        if (rc)
            return -1;
        x->end = LX_RUNNING;
        lx_supervise(x, x->sig_fd);
    }
    return 0;
}

/* The vCPUs stopped and joined, the grants' workers and the device thread stopped (what of
 * them was made: a machine whose making failed half-way has some). */
static void lx_stop(struct lx *x)
{
    atomic_store(&x->sh.stop, true);
    for (unsigned i = 0; i < x->nvcpus; i++)
        lvcpu_kick(&x->vcpu[i]);
    for (unsigned i = 0; i < x->nvcpus; i++)
        lvcpu_join(&x->vcpu[i]);
    if (x->g_open)
        lx_grants_stop(&x->g);
    if (x->dev_made)
        ldev_stop(&x->d);
}

/* The run's end: the vCPUs and devices stopped, the status, the ledger settled, the report
 * written, the pool's client told. Returns the status isovm exits with (lx_free tears the
 * machine down). */
static int lx_finish(struct lx *x)
{
    const struct launch_opts *o = x->o;
    lx_stop(x);
    x->end_ns = mono_ns();
    cpu_quota_finish(&x->quota, x->end_ns);
    int status = lx_status(x);
    if (o->tenant && x->end == LX_KEEPER_LOST) {
        close(o->tenant->fd);
        o->tenant->fd = -1;
    } else if (o->tenant) { /* settled while the report is written and the machine torn down */
        struct ledger_usage u;
        lx_ledger_usage(x, x->end_ns, &u);
        tenant_end_send(o->tenant, &u, lx_reason(x));
    }
    if (x->report && lx_report(x, status, x->report) < 0 && status == 0)
        status = EXIT_ISOVM_ERROR;
    if (lx_grants_abandoned(&x->g)) {
        /* a worker stuck in a host call may still touch guest RAM, the devices and the job:
         * nothing is torn down under it, and nothing runs at exit (atexit handlers,
         * LeakSanitizer's check, which would stop that thread too) */
        if (x->report && x->report != stderr)
            fclose(x->report);
        fflush(NULL);
        if (o->tenant)
            tenant_end_wait(o->tenant);
        _exit(status);
    }
    launch_warm_done(status); /* a pool's client has its status now, before the teardown */
    return status;
}

/* Everything x holds, torn down (the run stopped, or never started). */
static void lx_free(struct lx *x)
{
    if (x->g_open)
        lx_grants_close(&x->g);
    if (x->dev_made)
        ldev_fini(&x->d);
    if (x->vm_made)
        lvm_destroy(&x->m);
    for (unsigned i = 0; i < x->ndisks; i++)
        close(x->disk_fd[i]);
    if (x->kernel)
        munmap(x->kernel, x->kernel_size);
    if (x->kernel_fd >= 0)
        close(x->kernel_fd);
    if (x->modules)
        munmap(x->modules, x->modules_size);
    free(x->job_text);
    if (x->console_log >= 0)
        close(x->console_log);
    if (x->report && x->report != stderr)
        fclose(x->report);
    if (x->sig_fd >= 0)
        close(x->sig_fd);
    if (x->end_fd >= 0)
        close(x->end_fd);
    if (x->ready_fd >= 0)
        close(x->ready_fd);
    if (x->dev_made)
        free(x->d.boot_log);
    free(x);
}

/* The run's stop, then everything torn down: for a run whose vCPUs may have started. */
static void lx_stop_free(struct lx *x)
{
    lx_stop(x);
    lx_free(x);
}

int launch_linux_warm_prepare(const struct launch_opts *o)
{
    struct lx *x = lx_new(o);
    if (!x)
        return -ENOMEM;
    x->warm = true;
    int status = lx_setup(x);
    if (!status && x->snap_mode != LX_SNAP_MAKE)
        job_port_set(&x->d.job, x->job_text, (uint32_t)x->job_len);
    if (!status && (lx_go(x) < 0 || x->end != LX_READY ||
                    !x->d.status.phase_ns[ISOVM_PHASE_PREPARED])) {
        log_err("pool: the machine made ahead did not reach its init's PREPARED (%s)",
                x->end == LX_READY || x->end == LX_RUNNING ? "it could not start" : lx_reason(x));
        status = EXIT_ISOVM_ERROR;
    }
    if (status) {
        lx_stop_free(x);
        return -EIO;
    }
    /* waiting for a job, the VMM ends on SIGINT, SIGTERM or SIGHUP as any process does (its
     * other threads keep them blocked); a job's adoption blocks them again for its supervisor */
    sigset_t sigs = lx_stop_signals();
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    lx_warm = x;
    return 0;
}

void launch_linux_warm_drop(void)
{
    if (!lx_warm)
        return;
    lx_stop_free(lx_warm);
    lx_warm = NULL;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whether the machine made ahead serves this job: the same root image and kernel (unchanged),
 * memory and vCPUs, no disk, grant or endpoint (devices the machine lacks), no console log or
 * fresh boot asked for. */
static bool lx_warm_fits(const struct lx *x, const struct launch_opts *o)
{
    struct stat root, kernel;
    char kpath[PATH_MAX];
    unsigned vcpus = o->policy.vcpus ? o->policy.vcpus : 1;
    return stat(o->rootfs, &root) == 0 && same_file(&root, &x->root_st) &&
           lx_kernel_path(o, kpath, sizeof kpath) == 0 && stat(kpath, &kernel) == 0 &&
           same_file(&kernel, &x->kernel_st) && lx_mem(o) == x->m.mem_size && vcpus == x->nvcpus &&
           !o->ndisks && !o->policy.ngrants && !o->policy.nendpoints && !o->console_log &&
           !o->no_snapshot;
}

/* Give the machine made ahead this job: its own grants' state (audit log, control socket),
 * report, job file, streams and limits, from now; the job's filter on every thread; the parked
 * vCPU let go. 0, or an exit status after a message (the machine is then the run's to end). */
static int lx_adopt(struct lx *x, const struct launch_opts *o)
{
    sigset_t sigs = lx_stop_signals();
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* the supervisor's again, on its signalfd */
    x->o = o;
    x->warm = false;
    lx_start_clock(x);
    x->cpu_base_ns = 0; /* lx_cpu_ns subtracts it: the whole making's time, then set aside */
    x->cpu_base_ns = lx_cpu_ns(x);
    x->end = LX_RUNNING;
    lx_grants_close(&x->g); /* the pool's empty one */
    int status;
    if ((status = lx_grants_open(&x->g, &o->policy, x->t0)))
        return status;
    if (o->report_path && !(x->report = report_open(o->report_path)))
        return EXIT_ISOVM_ERROR;
    free(x->job_text);
    x->job_text = NULL;
    if ((status = lx_job_file(x, &x->job_text, &x->job_len)))
        return status;
    cpu_quota_init(&x->quota, o->policy.cpu_quota_ns, o->policy.cpu_period_ns, mono_ns(), 0);
    if (o->tenant && (status = tenant_admit((struct launch_opts *)o, o->tenant, x->t0)) != 0)
        return status;
    pthread_mutex_lock(&x->d.lock);
    job_port_set(&x->d.job, x->job_text, (uint32_t)x->job_len);
    pthread_mutex_unlock(&x->d.lock);
    ldev_streams_attach(&x->d, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, &o->policy.io_read,
                        &o->policy.io_write);
    if (lx_seccomp(x) < 0)
        return EXIT_ISOVM_ERROR;
    lvcpu_resume(&x->sh);
    return 0;
}

int launch_linux_run(const struct launch_opts *o)
{
    struct lx *x = lx_warm;
    int status;
    lx_warm = NULL;
    signal(SIGPIPE, SIG_IGN);
    if (x && lx_warm_fits(x, o)) {
        launch_warm_set_start(LAUNCH_WARM);
        if ((status = lx_adopt(x, o))) {
            lx_stop(x);
            goto out;
        }
        lx_supervise(x, x->sig_fd);
        status = lx_finish(x);
        goto out;
    }
    if (x) /* made ahead for another kind of job: this one boots its own */
        lx_stop_free(x);
    if (launch_warm_client_fd() >= 0) /* a pool's VMM (either tier's) makes this job's machine */
        launch_warm_set_start(LAUNCH_POOL_COLD);
    if (!(x = lx_new(o)))
        return EXIT_ISOVM_ERROR;
    status = lx_setup(x);
    if (status)
        goto out;
    status = EXIT_ISOVM_ERROR;
    /* the keeper reserved while the machine was built: the reservation, and the CPU time limit
     * clamped to the budget's rest, before the guest runs (o is launch_cli's, writable) */
    if (o->tenant && (status = tenant_admit((struct launch_opts *)o, o->tenant, x->t0)) != 0)
        goto out;
    /* the VMM's own seccomp filter before the first guest instruction, every thread started
     * from here inheriting it; except when this run makes a snapshot: then at the init's ready
     * point, once the snapshot is saved, on every thread (TSYNC), before the guest gets its job
     * or touches a device (docs/security.md) */
    if (x->snap_mode != LX_SNAP_MAKE) {
        job_port_set(&x->d.job, x->job_text, (uint32_t)x->job_len);
        if (lx_seccomp(x) < 0)
            goto out;
    }
    lx_go(x);
    status = lx_finish(x);
out:
    lx_free(x);
    if (o->tenant) /* `isovm quota report` after isovm sees the job settled */
        tenant_end_wait(o->tenant);
    return status;
}
