/* Launches one job: reads the program, builds the microVM, loads, runs, reports. */
#include "vmm/run/launch.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "firmware/abi.h"
#include "vmm/caps/audit.h"
#include "vmm/run/control.h"
#include "vmm/run/launch_warm.h"
#include "vmm/core/determinism.h"
#include "vmm/core/proc_image.h"
#include "vmm/caps/fd.h"
#include "vmm/caps/grants.h"
#include "vmm/core/job.h"
#include "lib/log.h"
#include "vmm/sys/exec_cache.h"
#include "vmm/sys/read_cache.h"
#include "vmm/run/report.h"
#include "vmm/run/supervisor.h"
#include "vmm/run/tenant.h"
#include "vmm/hypercall/syscall_filter.h"
#include "vmm/sys/sys.h"
#include "vmm/run/vmm_seccomp.h"
#include "vmm/run/vsc_bpf.h"
#include "vmm/run/vthread.h"

#define PG ((uint64_t)ISOVM_PAGE_SIZE)

/* Read the whole program file once; its descriptor is kept (*fd_out) for an exec of
 * /proc/self/exe. Returns 0, or the isovm exit status after a message. */
static int program_read(const char *path, uint64_t max, uint8_t **out, size_t *len, int *fd_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        log_err("%s: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        log_err("%s: %s", path, S_ISDIR(st.st_mode) ? "Is a directory" : "not a regular file");
        close(fd);
        return EXIT_CANNOT_EXEC;
    }
    if ((uint64_t)st.st_size > max) {
        log_err("%s: bad ELF: file of %lld bytes is larger than guest RAM", path,
                (long long)st.st_size);
        close(fd);
        return EXIT_CANNOT_EXEC;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        log_err("%s: out of memory reading the program", path);
        close(fd);
        return EXIT_ISOVM_ERROR;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_err("%s: read failed: %s", path, n < 0 ? strerror(errno) : "file shrank");
            free(buf);
            close(fd);
            return EXIT_CANNOT_EXEC;
        }
        got += (size_t)n;
    }
    *out = buf;
    *len = size;
    *fd_out = fd;
    return 0;
}

static void job_defaults(struct job *job, const struct launch_opts *o, uint64_t stack)
{
    /* Linux answers readlink("/proc/self/exe") with the absolute, resolved path; glibc's
     * static start-up asserts it begins with '/'. */
    char *abs = realpath(o->program, NULL);
    job->exe_path = abs ? abs : o->program;
    job->exe_path_owned = abs;
    const char *base = strrchr(job->exe_path, '/'); /* Linux's first comm: the file's name */
    snprintf(job->threads[0].comm, sizeof job->threads[0].comm, "%s",
             base ? base + 1 : job->exe_path);
    for (int r = 0; r < 16; r++)
        job->rlimits[r][0] = job->rlimits[r][1] = RLIM_INFINITY;
    job->rlimits[RLIMIT_STACK][0] = stack;
    /* the address space: reservations cost no memory (the memory limit counts frames in use) */
    job->rlimits[RLIMIT_AS][0] = job->rlimits[RLIMIT_AS][1] = job->vm.gm.user_hi;
    job->rlimits[RLIMIT_NOFILE][0] = job->rlimits[RLIMIT_NOFILE][1] = job->procs[0].fds_max;
    job->rlimits[RLIMIT_CORE][0] = job->rlimits[RLIMIT_CORE][1] = 0;
}

/* Free the job and everything it holds (after its vCPUs and VM are gone). */
static void job_teardown(struct job *job)
{
    grants_close(job);
    fd_table_fini(job);
    for (unsigned k = 1; k < ISOVM_MAX_PROCS; k++) /* other processes' address spaces */
        if (job->spaces[k]) {
            vm_space_destroy(&job->spaces[k]->gm);
            free(job->spaces[k]);
            job->spaces[k] = NULL;
        }
    for (unsigned k = 0; k < ISOVM_MAX_PROCS; k++) {
        proc_exe_put(job->procs[k].exe);
        job->procs[k].exe = NULL;
    }
    exec_cache_free(job);
    job_fini(job);
    free(job->exe_path_owned);
    free(job);
}

int launch_run(const struct launch_opts *o)
{
    if (o->rootfs) {
        launch_warm_drop(); /* a hypercall tier's pool VM: this job boots its own machine */
        return launch_linux_run(o);
    }
    launch_linux_warm_drop(); /* a Linux tier's pool machine: this job makes a VM of its own */
    uint64_t t0 = mono_ns();
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is the job's EPIPE, not isovm's death */
    if (o->no_seccomp)
        vmm_seccomp_warn_disabled();
    FILE *report = NULL;
    struct vcpu warm_vcpu0 = { .fd = -1 }; /* a pooled VMM's vCPU 0, until thread 0 has it */
    uint8_t *file;
    size_t size;
    int exe_fd;
    int status = program_read(o->program, o->policy.memory_bytes, &file, &size, &exe_fd);
    if (status)
        return status;

    struct job *job = calloc(1, sizeof *job);
    if (!job) {
        free(file);
        close(exe_fd);
        log_err("out of memory");
        return EXIT_ISOVM_ERROR;
    }
    if (job_init(job, &o->policy) < 0 || fd_table_init(job) < 0 ||
        supervisor_signals_init() < 0) {
        free(file);
        close(exe_fd);
        job_teardown(job);
        log_err("cannot set up the job: out of memory");
        return EXIT_ISOVM_ERROR;
    }
    if (syscall_filter_build(job) < 0) {
        free(file);
        close(exe_fd);
        job_teardown(job);
        return EXIT_ISOVM_ERROR;
    }
    job->start_ns = t0;
    job->phase_ns[PH_LAUNCH] = t0;
    job->phase_ns[PH_PROGRAM] = mono_ns(); /* the file was read before the job existed */
    job->thread_start = vthread_start;
    job->on_user_fault = sig_deliver_fault;
    determinism_init(job);
    struct control_server ctl;
    control_init(&ctl);
    if (o->policy.job_id[0])
        snprintf(job->job_id, sizeof job->job_id, "%s", o->policy.job_id);
    else
        snprintf(job->job_id, sizeof job->job_id, "isovm-%d", (int)getpid());
    if (audit_open(job) < 0 ||
        (o->policy.control_path[0] && control_listen(&ctl, o->policy.control_path) < 0)) {
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    /* a pooled launch adopts the VM and vCPU 0 its VMM made before the job came */
    bool warm = launch_warm_take(&job->vm, &warm_vcpu0, o->policy.memory_bytes);
    job->start = launch_start_name(launch_warm_start());
    if (!warm && vm_create(&job->vm, o->policy.memory_bytes) < 0) {
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    job->phase_ns[PH_VM] = mono_ns();
    if (grants_open(job) < 0) { /* the message names the grant */
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    job->phase_ns[PH_GRANTS] = mono_ns();
    struct guest_mem *gm = &job->vm.gm;
    uint64_t stack = proc_image_stack_bytes(o->policy.memory_bytes);
    job_defaults(job, o, stack);
    if (!(job->procs[0].exe = proc_exe_new(exe_fd, job->exe_path))) {
        log_err("out of memory");
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    exe_fd = -1; /* the first process's now */
    struct proc_image img;
    char err[256] = "";
    if (proc_image_check(gm, file, size, stack, &img, err, sizeof err) < 0) {
        log_err("%s: bad ELF: %s", o->program, err);
        status = EXIT_CANNOT_EXEC;
        goto out;
    }
    struct proc_image_args args = { .argc = o->argc, .argv = o->argv, .envc = o->envc,
                                     .envp = o->envp, .execfn = o->program };
    uint64_t rsp;
    int rc = proc_image_load(job, gm, &img, &args, &rsp, err, sizeof err);
    if (rc < 0) {
        log_err("%s: %s", o->program, err);
        status = EXIT_CANNOT_EXEC;
        goto out;
    }
    proc_image_apply(&job->procs[0], &img);
    gm->pt_dirty = false;
    job->phase_ns[PH_ELF] = job->phase_ns[PH_STACK] = mono_ns(); /* one step: load and stack */
    struct vthread *main_thread = &job->threads[0];
    main_thread->tid = 1;
    if (warm)
        main_thread->vcpu = warm_vcpu0;
    warm_vcpu0.fd = -1; /* the thread's now, destroyed with it */
    if (warm ? vcpu_start_at(&job->vm, &main_thread->vcpu, img.info.entry, rsp) < 0
             : vcpu_create(&job->vm, &main_thread->vcpu, 0, img.info.entry, rsp) < 0) {
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    job->phase_ns[PH_VCPU] = mono_ns();
    free(file);
    file = NULL;
    /* the keeper reserved while all of the above was built: the reservation, and the CPU time
     * limit clamped to the budget's rest (o is launch_cli's own, writable object) */
    if (o->tenant) {
        if ((status = tenant_admit((struct launch_opts *)o, o->tenant, job->start_ns)) != 0)
            goto out;
        job->policy.cpu_time_limit_ns = o->policy.cpu_time_limit_ns;
    }
    /* Everything the job needs is set up: the report file is opened now (it is written at the
     * end, and the filter allows no open from the cwd), then the VMM's own seccomp filter goes
     * on before the first guest instruction; every thread is created after it and inherits it. */
    if (o->report_path && !(report = report_open(o->report_path))) {
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    /* /proc/self/fd serves chmod/access/utimens on old kernels; a jailed VMM has no /proc and
     * does without it (those calls then reopen their target or fail with ENOENT). */
    /* The job's umask is isovm's own (as a child inherits its parent's; a pool's client's),
     * and from here it alone decides the modes of what the job creates: the VMM's is 0 (it
     * creates nothing more itself: the report and audit log are open) */
    job->procs[0].umask = (unsigned)umask(0) & 0777;
    job->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC); /* -1 (a jail without it): none */
    int proc_rc = sys_fs_proc_dir_open();
    if (proc_rc < 0 && proc_rc != -ENOENT)
        log_debug("no /proc/self/fd: %s", strerror(-proc_rc));
    if (!o->no_seccomp && vsc_bpf_install_hypercall() < 0) {
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    vmm_seccomp_test_hooks(job->vm.kvm.kvm_fd);
    job->phase_ns[PH_FILTER] = mono_ns();
    job_supervise(job, &ctl, o->tenant);
    job->phase_ns[PH_END] = job->end_ns;
    control_close(&ctl);
    if (o->tenant) { /* settled while the report is written and the microVM torn down */
        struct ledger_usage u;
        pthread_mutex_lock(&job->lock);
        job_ledger_usage(job, mono_ns(), &u);
        pthread_mutex_unlock(&job->lock);
        tenant_end_send(o->tenant, &u, report_end_name(job->end));
    }
    audit_end(job); /* the log's last lines: the report's audit counts are final */
    status = job->exit_status;
    if (job->rcache.armed) /* the job ended after reads the firmware served */
        read_cache_sync(job, job->rcache.owner);
    if (report) {
        FILE *f = report;
        report = NULL; /* closed by report_write_to */
        if (report_write_to(f, o->report_path, job, o, mono_ns() - t0) < 0 && status == 0)
            status = EXIT_ISOVM_ERROR;
    }
out:
    if (report && report != stderr)
        fclose(report);
    control_close(&ctl);
    audit_close(job);
    free(file);
    if (exe_fd >= 0)
        close(exe_fd);
    launch_warm_done(status); /* a pooled job's client has its status before the teardown */
    if (warm_vcpu0.fd >= 0)
        vcpu_destroy(&job->vm, &warm_vcpu0);
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        if (job->threads[i].vcpu.fd >= 0)
            vcpu_destroy(&job->vm, &job->threads[i].vcpu);
    vm_destroy(&job->vm);
    job_teardown(job);
    if (o->tenant) /* `isovm quota report` after isovm sees the job settled */
        tenant_end_wait(o->tenant);
    return status;
}
