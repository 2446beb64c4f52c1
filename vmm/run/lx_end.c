/* The end of a Linux-tier run: its exit reason, the status isovm exits with and its line on stderr, and the report. */
#include "vmm/run/lx_end.h"
#include "vmm/run/launch_warm.h"
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include "lib/log.h"
#include "vmm/run/tenant.h"

/* ---- the report ---- */

const char *lx_reason(const struct lx *x)
{
    switch (x->end) {
    case LX_GUEST:
        switch (x->d.status.kind) {
        case ISOVM_STATUS_EXIT: return "exit";
        case ISOVM_STATUS_SIGNAL: return "signal";
        case ISOVM_STATUS_OOM: return "oom";
        default: return "init-error";
        }
    case LX_PANIC: return "kernel-panic";
    case LX_RESET: return "guest-reset";
    case LX_TIMEOUT: return "timeout";
    case LX_CPU_LIMIT: return "cpu-limit";
    case LX_QUOTA: return "quota";
    case LX_KILLED: return "killed";
    default: return "internal-error";
    }
}

/* t from the run's start; null when not seen, or seen before the job came (a machine made
 * ahead: its boot) */
static json_t *lx_since(const struct lx *x, uint64_t t)
{
    return t && t >= x->t0 ? json_integer((json_int_t)(t - x->t0)) : json_null();
}

int lx_report(struct lx *x, int status, FILE *out)
{
    json_t *r = json_object(), *boot = json_object(), *disks = json_array(), *exits = json_object(),
           *cons = json_object();
    json_object_set_new(r, "tier", json_string("linux"));
    if (x->o->tenant) {
        char ledger[512];
        tenant_report_json(x->o->tenant, ledger, sizeof ledger);
        json_t *lj = json_loads(ledger, 0, NULL);
        if (lj)
            json_object_set_new(r, "ledger", lj);
    }
    json_object_set_new(r, "exit_reason", json_string(lx_reason(x)));
    json_object_set_new(r, "exit_status", json_integer(status));
    if (x->end == LX_GUEST && x->d.status.kind == ISOVM_INIT_ERROR) {
        json_object_set_new(r, "init_error_stage", json_integer(x->d.status.detail >> 16));
        json_object_set_new(r, "init_error_errno", json_integer(x->d.status.detail & 0xffff));
    }
    json_object_set_new(r, "wall_time_ns", json_integer((json_int_t)(x->end_ns - x->t0)));
    json_object_set_new(r, "memory_bytes", json_integer((json_int_t)x->m.mem_size));
    json_object_set_new(r, "vcpus", json_integer(x->nvcpus));
    json_object_set_new(r, "cpu_time_ns", json_integer((json_int_t)lx_cpu_ns(x)));
    json_object_set_new(r, "cpu_throttled_ns", json_integer((json_int_t)x->quota.throttled_ns));
    json_object_set_new(r, "start", json_string(launch_start_name(launch_warm_start())));
    json_object_set_new(boot, "launch_ns", json_integer((json_int_t)x->launch_ns));
    json_object_set_new(boot, "vmm_start_ns", json_integer(0));
    bool restored = x->snap_mode == LX_SNAP_RESTORED;
    uint64_t entry = atomic_load(&x->sh.first_entry_ns);
    json_object_set_new(boot, "snapshot", json_string(restored ? "restored" : x->snap_made ? "made" : "none"));
    json_object_set_new(boot, "kernel_entry_ns", lx_since(x, restored ? 0 : entry));
    json_object_set_new(boot, "ready_ns", lx_since(x, restored ? entry : x->d.status.phase_ns[ISOVM_PHASE_READY]));
    json_object_set_new(boot, "init_start_ns", lx_since(x, x->d.status.phase_ns[ISOVM_PHASE_INIT_START]));
    json_object_set_new(boot, "root_ready_ns", lx_since(x, x->d.status.phase_ns[ISOVM_PHASE_ROOT_READY]));
    json_object_set_new(boot, "job_start_ns", lx_since(x, x->d.status.phase_ns[ISOVM_PHASE_JOB_START]));
    json_object_set_new(boot, "job_end_ns", lx_since(x, x->d.status.phase_ns[ISOVM_PHASE_JOB_END]));
    json_object_set_new(r, "boot", boot);
    /* the vCPUs' CPU time while the job ran: its share of a CPU is this over job_end - job_start */
    if (x->phase_cpu_ns[ISOVM_PHASE_JOB_START] && x->phase_cpu_ns[ISOVM_PHASE_JOB_END])
        json_object_set_new(r, "job_cpu_time_ns",
                            json_integer((json_int_t)(x->phase_cpu_ns[ISOVM_PHASE_JOB_END] -
                                                      x->phase_cpu_ns[ISOVM_PHASE_JOB_START])));
    for (unsigned i = 0; i < x->d.ndisks; i++) {
        const struct vblk_stats *s = &x->d.disk[i].stats;
        char dev[16];
        snprintf(dev, sizeof dev, "/dev/vd%c", 'a' + (int)i);
        json_array_append_new(disks, json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "device", dev, "image", x->disk_path[i], "read_only", x->d.disk[i].read_only,
            "read_ops", (json_int_t)s->read_ops, "read_bytes", (json_int_t)s->read_bytes,
            "write_ops", (json_int_t)s->write_ops, "write_bytes", (json_int_t)s->write_bytes,
            "flushes", (json_int_t)s->flushes, "read_throttled_ns", (json_int_t)s->read_throttled_ns,
            "write_throttled_ns", (json_int_t)s->write_throttled_ns, "io_errors", (json_int_t)s->io_errors));
    }
    json_object_set_new(r, "disks", disks);
    json_object_set_new(cons, "stdin_bytes", json_integer((json_int_t)x->d.cons.port[LDEV_PORT_STDIN].bytes));
    json_object_set_new(cons, "stdout_bytes", json_integer((json_int_t)x->d.cons.port[LDEV_PORT_STDOUT].bytes));
    json_object_set_new(cons, "stderr_bytes", json_integer((json_int_t)x->d.cons.port[LDEV_PORT_STDERR].bytes));
    json_object_set_new(cons, "dropped_bytes", json_integer((json_int_t)(x->d.cons.port[LDEV_PORT_STDOUT].dropped +
                                                                        x->d.cons.port[LDEV_PORT_STDERR].dropped)));
    json_object_set_new(cons, "serial_bytes", json_integer((json_int_t)x->d.serial_bytes));
    json_object_set_new(r, "console", cons);
    static const char *names[LX_KINDS] = { "io", "mmio", "unclaimed", "interrupted", "shutdown", "other" };
    for (unsigned i = 0; i < LX_KINDS; i++)
        json_object_set_new(exits, names[i], json_integer((json_int_t)atomic_load(&x->sh.exits[i])));
    json_object_set_new(r, "vm_exits", exits);
    json_object_set_new(r, "status_port_ignored", json_integer((json_int_t)x->d.status.ignored));
    lx_grants_report(&x->g, r);
    int rc = json_dumpf(r, out, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (rc == 0 && fputc('\n', out) == EOF)
        rc = -1;
    if (fflush(out) == EOF)
        rc = -1;
    json_decref(r);
    if (rc < 0)
        log_err("cannot write the report %s", x->o->report_path);
    return rc < 0 ? -EIO : 0;
}

int lx_status(struct lx *x)
{
    switch (x->end) {
    case LX_GUEST: {
        int s = status_port_exit_status(&x->d.status);
        if (x->d.status.kind == ISOVM_INIT_ERROR) {
            static const char *stages[] = {
                [ISOVM_STAGE_SETUP] = "setting up /proc, /sys and /dev",
                [ISOVM_STAGE_MODULES] = "loading the kernel's modules",
                [ISOVM_STAGE_STREAMS] = "opening the job's streams",
                [ISOVM_STAGE_JOB_FILE] = "fetching or applying the job file",
                [ISOVM_STAGE_ROOT] = "mounting the root image",
                [ISOVM_STAGE_OVERLAY] = "setting up the writable layer",
                [ISOVM_STAGE_DISKS] = "mounting a disk",
                [ISOVM_STAGE_NEW_ROOT] = "entering the new root",
                [ISOVM_STAGE_CGROUP] = "setting up the job's cgroup",
                [ISOVM_STAGE_JOB] = "starting the job",
                [ISOVM_STAGE_SHARES] = "mounting a grant's shared file system",
                [ISOVM_STAGE_NET] = "setting up the network",
            };
            unsigned st = x->d.status.detail >> 16;
            int e = (int)(x->d.status.detail & 0xffff);
            const char *what = st < sizeof stages / sizeof stages[0] && stages[st] ? stages[st] : "an unknown stage";
            if (st == ISOVM_STAGE_ROOT)
                log_err("the guest kernel cannot mount the root image %s as %s: %s", x->disk_path[0],
                        x->disk_fstype[0], strerror(e));
            else
                log_err("the guest's init failed %s: %s", what, strerror(e));
        }
        else if (x->d.status.kind == ISOVM_STATUS_OOM)
            log_err("job ran out of memory: the guest kernel's OOM killer ended one of its processes "
                    "(memory %llu bytes)", (unsigned long long)x->m.mem_size);
        return s;
    }
    case LX_PANIC:
        log_err("the guest kernel panicked (see --console-log)");
        return EXIT_ISOVM_ERROR;
    case LX_RESET:
        log_err("the guest reset or powered off before the job ended (see --console-log)");
        return EXIT_ISOVM_ERROR;
    case LX_TIMEOUT:
        log_err("job killed: wall-clock timeout after %.3fs",
                (double)x->o->policy.timeout_ns / 1e9);
        return 124;
    case LX_CPU_LIMIT:
        log_err("job killed by SIGXCPU: CPU time limit reached (%.3fs of vCPU time)",
                (double)lx_cpu_ns(x) / 1e9);
        return 152;
    case LX_KILLED:
        if (x->client_gone)
            log_err("job killed: its client (isovm launch --pool) disconnected");
        else
            log_err("isovm received %s: job stopped", strsignal(x->signo));
        return 128 + x->signo;
    case LX_QUOTA:
        log_err("job stopped: quota: %s", x->quota_why);
        return tenant_quota_status(x->quota_res);
    case LX_KEEPER_LOST:
        log_err("internal: the ledger keeper ended while the job ran: the job cannot be charged "
                "to its tenant");
        return EXIT_ISOVM_ERROR;
    default:
        log_err("internal error: %s", x->sh.fail_msg[0] ? x->sh.fail_msg : "the run loop failed");
        return EXIT_ISOVM_ERROR;
    }
}
