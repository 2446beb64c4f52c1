/* isovm's init, PID 1 of a Linux-tier guest: mounts, the job file from the VMM, modules, the job's
 * streams, its root, network, names, shares and cgroup; runs the job and hands its end to the VMM
 * (init/abi.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "init/abi.h"
#include "init/cgroup.h"
#include "init/fsutil.h"
#include "init/job_fetch.h"
#include "init/job_file.h"
#include "init/job_run.h"
#include "init/modules.h"
#include "init/modules_order.h"
#include "init/mounts.h"
#include "init/msg.h"
#include "init/names.h"
#include "init/netcfg.h"
#include "init/outcome.h"
#include "init/seam.h"
#include "init/shares.h"
#include "init/status.h"
#include "init/streams.h"

/* The kernel opens /dev/console as 0, 1 and 2 when the initramfs has it; otherwise they are
 * closed, and the init opens the console itself (after devtmpfs) so that no later open lands
 * on them. */
static void console_fds(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0)
            continue;
        int c = open("/dev/console", O_RDWR | O_NOCTTY);
        if (c < 0)
            c = open("/dev/null", O_RDWR);
        if (c >= 0 && c != fd) {
            dup2(c, fd);
            close(c);
        }
    }
}

/* The job file from the VMM (the job channel), parsed; its time and seed applied. */
static void fetch_job(struct job_spec *spec, bool after_prepare)
{
    char *text, err[512];
    size_t n;
    int rc = job_fetch(after_prepare, &text, &n, err, sizeof err);
    if (rc)
        die(ISOVM_STAGE_JOB_FILE, -rc, "%s", err);
    rc = job_parse(text, n, spec, err, sizeof err);
    free(text);
    if (rc)
        die(ISOVM_STAGE_JOB_FILE, -rc, "the job file: %s", err);
    if ((rc = job_apply(spec, err, sizeof err)))
        die(ISOVM_STAGE_JOB_FILE, -rc, "%s", err);
    /* the initramfs is RAM; the init is not read again (after a prepare file, "/" is the job's
     * root: nothing there is the init's) */
    if (!after_prepare)
        unlink(ISOVM_INIT_PATH);
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The modules the job's file systems need, its streams, its root and overlay mounted and moved
 * into: what a job file's root and overlay lines ask for, a prepare file's included. */
static void root_setup(const struct job_spec *spec, struct streams *st)
{
    char err[512];
    int rc;
    const char *tags[MODULES_TAGS_WANTED_MAX];
    size_t ntags = modules_wanted_tags(spec, tags, sizeof tags / sizeof tags[0]);
    if ((rc = modules_load(tags, ntags, err, sizeof err)))
        die(ISOVM_STAGE_MODULES, -rc, "%s", err);
    if ((rc = streams_open(st, err, sizeof err)))
        die(ISOVM_STAGE_STREAMS, -rc, "%s", err);
    msg_use_stderr(st->err);
    enum isovm_init_stage stage;
    if ((rc = mounts_root(spec, &stage, err, sizeof err)))
        die(stage, -rc, "%s", err);
    if ((rc = mounts_new_root(err, sizeof err)))
        die(ISOVM_STAGE_NEW_ROOT, -rc, "%s", err);
}

/* After a prepare file: the job file proper, which must name the prepared root and overlay. */
static void fetch_prepared_job(struct job_spec *prepared, struct job_spec *spec)
{
    fetch_job(spec, true);
    if (spec->prepare)
        die(ISOVM_STAGE_JOB_FILE, EINVAL, "the job file: a second prepare file");
    if (!same_str(spec->root_dev, prepared->root_dev) ||
        !same_str(spec->root_fstype, prepared->root_fstype) || spec->overlay != prepared->overlay ||
        !same_str(spec->overlay_dev, prepared->overlay_dev) ||
        !same_str(spec->overlay_fstype, prepared->overlay_fstype))
        die(ISOVM_STAGE_JOB_FILE, EINVAL,
            "the job file: its root or overlay is not the one prepared (%s %s)",
            prepared->root_dev, prepared->root_fstype);
    job_spec_free(prepared);
}

int main(void)
{
    char err[512];
    int rc;
    if (getpid() != 1) {
        fprintf(stderr, "isovm-init: this is the init of an isovm guest; it runs as PID 1 only\n");
        return 125;
    }
    if ((rc = status_open())) {
        fprintf(stderr, "isovm-init: cannot reach the status port: %s\n", strerror(-rc));
        _exit(1); /* in a guest: a panic, and with panic=-1 a reset the VMM sees */
    }
    status_phase(ISOVM_PHASE_INIT_START);
    if ((rc = seam_open()))
        die(ISOVM_STAGE_SETUP, -rc, "the test build has no /test: %s", strerror(-rc));
    if ((rc = mounts_early(err, sizeof err)))
        die(ISOVM_STAGE_SETUP, -rc, "%s", err);
    console_fds();
    write_file("/proc/self/oom_score_adj", "-1000"); /* the OOM killer takes the job, not PID 1 */

    /* a guest to be snapshotted loads its modules now, all but the transport (init/abi.h) */
    const char *preload = getenv(ISOVM_PRELOAD_ENV);
    if (preload && !strcmp(preload, "1") && (rc = modules_preload(err, sizeof err)))
        die(ISOVM_STAGE_MODULES, -rc, "%s", err);
    /* the snapshot point (init/abi.h, the job channel): nothing of any job's before it */
    status_phase(ISOVM_PHASE_READY);
    /* the job file first: it says which file systems' modules to load. A prepare file (a
     * machine made ahead of its job) says only that for the root: the root set up, the job file
     * proper follows once a job has come (init/abi.h, the job channel) */
    struct job_spec spec, prepared;
    struct streams st;
    fetch_job(&spec, false);
    root_setup(&spec, &st);
    if (spec.prepare) {
        /* the job's cgroup too (the controllers' setup is most of its cost); its limits are
         * written with the job file below (cgroup_setup again: what exists is kept) */
        struct job_cgroup pcg;
        if ((rc = cgroup_setup("/sys/fs/cgroup", &spec, SEAM_TEST, &pcg, err, sizeof err)))
            die(ISOVM_STAGE_CGROUP, -rc, "%s", err);
        close(pcg.procs_fd);
        if (pcg.events_fd >= 0)
            close(pcg.events_fd);
        prepared = spec;
        status_phase(ISOVM_PHASE_PREPARED);
        fetch_prepared_job(&prepared, &spec);
    }
    enum isovm_init_stage stage;
    if ((rc = mounts_disks(&spec, err, sizeof err)))
        die(ISOVM_STAGE_DISKS, -rc, "%s", err);
    /* the names before the shares: the init writes nothing into a share */
    if ((rc = netcfg_up(&spec, err, sizeof err)) || (rc = names_write(&spec, err, sizeof err)))
        die(ISOVM_STAGE_NET, -rc, "%s", err);
    if ((rc = shares_mount(&spec, err, sizeof err)))
        die(ISOVM_STAGE_SHARES, -rc, "%s", err);
    status_phase(ISOVM_PHASE_ROOT_READY);

    struct job_cgroup cg;
    if ((rc = cgroup_setup("/sys/fs/cgroup", &spec, SEAM_TEST, &cg, err, sizeof err)))
        die(ISOVM_STAGE_CGROUP, -rc, "%s", err);
    long long oom_before = cgroup_oom_kills(&cg);

    status_phase(ISOVM_PHASE_JOB_START);
    pid_t pid;
    if ((rc = job_start(&spec, &st, &cg, &pid, &stage, err, sizeof err)))
        die(stage, -rc, "%s", err);
    int ws;
    if ((rc = job_wait(pid, &ws)))
        die(ISOVM_STAGE_JOB, -rc, "lost the job's process: %s", strerror(-rc));
    status_phase(ISOVM_PHASE_JOB_END);
    struct outcome o = outcome_of(ws, oom_before, cgroup_oom_kills(&cg));
    if (o.kind == ISOVM_STATUS_OOM)
        msg_console("the guest kernel's OOM killer ended a process of the job (guest RAM: %llu MiB)",
                    (unsigned long long)(spec.memory >> 20));
    job_kill_rest();
    shares_release(&spec); /* mounted after the disks, maybe on one */
    mounts_release(&spec);
    status_end(o.kind, o.detail);
}
