/* Writes the usage report as JSON, one key per line, units in key names. */
#include "vmm/run/report.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "vmm/core/fault.h"
#include "vmm/caps/audit.h"
#include "lib/log.h"
#include "vmm/hypercall/syscall_filter.h"
#include "lib/clock.h"
#include "lib/syscall_names.h"
#include "vmm/run/tenant.h"

const char *report_end_name(enum job_end e)
{
    switch (e) {
    case JOB_EXITED: return "exit";
    case JOB_SIGNALED: return "signal";
    case JOB_OOM: return "oom";
    case JOB_CPU_LIMIT: return "cpu-limit";
    case JOB_TIMEOUT: return "timeout";
    case JOB_KILLED: return "killed";
    case JOB_INTERNAL_ERROR: return "internal-error";
    case JOB_QUOTA: return "quota";
    default: return "running";
    }
}

static void key_u64(FILE *f, const char *key, uint64_t v)
{
    fprintf(f, "  \"%s\": %llu,\n", key, (unsigned long long)v);
}

FILE *report_open(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stderr : fopen(path, "w");
    if (!f)
        log_err("cannot write report %s: %s", path, strerror(errno));
    return f;
}

int report_write(const char *path, const struct job *job, const struct launch_opts *o,
                 uint64_t wall_ns)
{
    FILE *f = report_open(path);
    return f ? report_write_to(f, path, job, o, wall_ns) : -EIO;
}

int report_write_to(FILE *f, const char *path, const struct job *job,
                    const struct launch_opts *o, uint64_t wall_ns)
{
    const struct job_stats *st = &job->stats;
    const struct guest_mem *gm = &job->vm.gm;
    fprintf(f, "{\n");
    fprintf(f, "  \"isovm_report_version\": 3,\n");
    fprintf(f, "  \"exit_reason\": \"%s\",\n", report_end_name(job->end));
    fprintf(f, "  \"exit_status\": %d,\n", job->exit_status);
    if (job->signal)
        fprintf(f, "  \"signal\": \"%s\",\n", signal_name(job->signal));
    fprintf(f, "  \"policy\": ");
    policy_write_json(&o->policy, f, 2);
    fprintf(f, ",\n");
    key_u64(f, "wall_time_ns", wall_ns);
    /* when each step of the launch was done, counted from main() (0: not reached) */
    static const char *const phase_names[PH_COUNT] = {
        "launch", "program_read", "vm_created", "grants_opened", "elf_loaded", "stack_built",
        "vcpu_created", "filter_installed", "first_entry", "job_end",
    };
    /* cold, or through a pool: its warm VM ("warm"), or one made after the job came */
    fprintf(f, "  \"start\": \"%s\",\n", job->start ? job->start : "cold");
    fprintf(f, "  \"phases_ns\": {\"main_realtime\": %llu", (unsigned long long)clock_main_real_ns);
    for (int i = 0; i < PH_COUNT; i++) {
        uint64_t t = job->phase_ns[i];
        fprintf(f, ", \"%s\": %llu", phase_names[i],
                (unsigned long long)(t && clock_main_mono_ns && t >= clock_main_mono_ns
                                     ? t - clock_main_mono_ns : 0));
    }
    fprintf(f, "},\n");
    key_u64(f, "stop_latency_ns", job->end_ns && job->stopped_ns > job->end_ns
                                      ? job->stopped_ns - job->end_ns : 0);
    if (o->tenant) {
        char ledger[512];
        tenant_report_json(o->tenant, ledger, sizeof ledger);
        fprintf(f, "  \"ledger\": %s,\n", ledger);
    }
    key_u64(f, "cpu_time_ns", st->cpu_ns);
    key_u64(f, "cpu_throttled_ns", st->cpu_throttled_ns);
    key_u64(f, "cpu_throttled_periods", st->cpu_throttled_periods);
    key_u64(f, "memory_limit_bytes", o->policy.memory_bytes);
    key_u64(f, "memory_reserved_bytes", gm->frames_total ? o->policy.memory_bytes - gm->frames_total * 4096 : 0);
    key_u64(f, "memory_usable_bytes", gm->frames_total * 4096);
    key_u64(f, "memory_peak_bytes", gm->size ? gmem_peak_bytes(gm) : 0);
    key_u64(f, "memory_page_faults", gm->first_touches);
    key_u64(f, "memory_address_space_peak_bytes", gm->user_pages_peak * 4096);
    key_u64(f, "memory_enomem_total", st->enomem_total);
    key_u64(f, "read_bytes", st->bytes_read);
    key_u64(f, "read_ops", st->read_ops);
    key_u64(f, "read_throttled_ns", st->read_throttled_ns);
    key_u64(f, "read_cache_fills", st->read_cache_fills);
    key_u64(f, "read_cache_hits", st->read_cache_hits);
    key_u64(f, "written_bytes", st->bytes_written);
    key_u64(f, "write_ops", st->write_ops);
    key_u64(f, "write_throttled_ns", st->write_throttled_ns);
    key_u64(f, "threads_created", st->threads_created);
    key_u64(f, "threads_peak", st->threads_peak);
    key_u64(f, "threads_refused", st->threads_refused);
    key_u64(f, "processes_created", st->procs_created);
    key_u64(f, "processes_peak", st->procs_peak);
    key_u64(f, "processes_refused", st->procs_refused);
    key_u64(f, "processes_killed", st->procs_killed);
    key_u64(f, "capabilities_limit", o->policy.max_capabilities);
    key_u64(f, "capabilities_peak", st->caps_peak);
    key_u64(f, "capabilities_refused", st->caps_refused);
    key_u64(f, "tlb_shootdowns", st->tlb_shootdowns);
    key_u64(f, "hypercalls_total", st->hypercalls_total);
    fprintf(f, "  \"syscalls\": {");
    const char *sep = "";
    for (unsigned i = 0; i < SYSCALL_TABLE_SIZE; i++) {
        if (st->syscalls[i]) {
            fprintf(f, "%s\n    \"%u\": %llu", sep, i, (unsigned long long)st->syscalls[i]);
            sep = ",";
        }
    }
    fprintf(f, "%s},\n", *sep ? "\n  " : "");
    key_u64(f, "denied_syscalls_total", st->denied_total);
    fprintf(f, "  \"denied_syscalls\": {");
    sep = "";
    for (unsigned i = 0; i < SYSCALL_TABLE_SIZE; i++) {
        if (st->denied[i]) {
            const char *name = syscall_name(i);
            fprintf(f, "%s\n    \"%s\": %llu", sep, name ? name : "?",
                    (unsigned long long)st->denied[i]);
            sep = ",";
        }
    }
    fprintf(f, "%s},\n", *sep ? "\n  " : "");
    key_u64(f, "unknown_syscalls_total", st->unknown_total);
    fprintf(f, "  \"unknown_syscalls\": {");
    sep = "";
    for (unsigned i = 0; i < st->unknown_distinct; i++) {
        fprintf(f, "%s\n    \"%llu\": %llu", sep, (unsigned long long)st->unknown_nr[i],
                (unsigned long long)st->unknown_count[i]);
        sep = ",";
    }
    fprintf(f, "%s},\n", *sep ? "\n  " : "");
    fprintf(f, "  \"filter\": {\n");
    fprintf(f, "    \"profile\": \"%s\",\n", syscall_profile_name(o->policy.syscalls.profile));
    fprintf(f, "    \"action\": \"%s\",\n", syscall_action_name(o->policy.syscalls.action));
    fprintf(f, "    \"errno\": %d\n", job->filter_errno);
    fprintf(f, "  },\n");
    uint64_t filtered_total = st->filtered_beyond;
    fprintf(f, "  \"filtered_syscalls\": {");
    sep = "";
    for (unsigned i = 0; i < SYSCALL_TABLE_SIZE; i++) {
        if (st->filtered[i]) {
            char num[16];
            const char *name = syscall_name(i);
            if (!name) {
                snprintf(num, sizeof num, "%u", i);
                name = num;
            }
            fprintf(f, "%s\n    \"%s\": %llu", sep, name, (unsigned long long)st->filtered[i]);
            sep = ",";
            filtered_total += st->filtered[i];
        }
    }
    if (st->filtered_beyond) { /* numbers past the table; unknown_syscalls has them by number */
        fprintf(f, "%s\n    \"other\": %llu", sep, (unsigned long long)st->filtered_beyond);
        sep = ",";
    }
    fprintf(f, "%s},\n", *sep ? "\n  " : "");
    key_u64(f, "filtered_syscalls_total", filtered_total);
    key_u64(f, "filter_logged_total", st->filter_logged);
    uint64_t denials_total = 0;
    fprintf(f, "  \"denials\": {");
    for (unsigned k = 0; k < DENY_KINDS; k++) {
        fprintf(f, "%s\n    \"%s\": %llu", k ? "," : "", deny_kind_name((enum deny_kind)k),
                (unsigned long long)st->denials[k]);
        denials_total += st->denials[k];
    }
    fprintf(f, "\n  },\n");
    key_u64(f, "denials_total", denials_total);
    fprintf(f, "  \"network\": {\n");
    fprintf(f, "    \"endpoints\": %u,\n", o->policy.nendpoints);
    fprintf(f, "    \"connections\": %llu,\n", (unsigned long long)st->net_connections);
    fprintf(f, "    \"bytes_sent\": %llu,\n", (unsigned long long)st->net_bytes_sent);
    fprintf(f, "    \"bytes_received\": %llu,\n", (unsigned long long)st->net_bytes_received);
    fprintf(f, "    \"datagrams_dropped\": %llu,\n", (unsigned long long)st->net_datagrams_dropped);
    fprintf(f, "    \"denials\": %llu\n", (unsigned long long)st->denials[DENY_NETWORK]);
    fprintf(f, "  },\n");
    fprintf(f, "  \"audit\": {\n"); /* the audit log (docs/audit.md); all 0 without one */
    fprintf(f, "    \"lines_written\": %llu,\n", (unsigned long long)st->audit_lines_written);
    fprintf(f, "    \"bytes_written\": %llu,\n", (unsigned long long)st->audit_bytes_written);
    fprintf(f, "    \"lines_dropped\": %llu,\n", (unsigned long long)st->audit_lines_dropped);
    fprintf(f, "    \"bytes_dropped\": %llu,\n", (unsigned long long)st->audit_bytes_dropped);
    fprintf(f, "    \"denials_suppressed\": %llu\n",
            (unsigned long long)st->audit_denials_suppressed);
    fprintf(f, "  },\n");
    fprintf(f, "  \"vm_exits\": {\n");
    fprintf(f, "    \"io\": %llu,\n", (unsigned long long)st->exits_io);
    fprintf(f, "    \"hlt\": %llu,\n", (unsigned long long)st->exits_hlt);
    fprintf(f, "    \"shutdown\": %llu,\n", (unsigned long long)st->exits_shutdown);
    fprintf(f, "    \"interrupted\": %llu,\n", (unsigned long long)st->exits_intr);
    fprintf(f, "    \"other\": %llu\n", (unsigned long long)st->exits_other);
    fprintf(f, "  },\n");
    /* Keys whose values depend on the host's speed and scheduling (docs/report.md): the rest
     * is the same from run to run of a job that does the same thing. */
    static const char *const host_timing[] = {
        "wall_time_ns", "stop_latency_ns", "cpu_time_ns", "cpu_throttled_ns", "cpu_throttled_periods",
        "read_throttled_ns", "write_throttled_ns", "threads_peak", "processes_peak", "tlb_shootdowns",
        "vm_exits", "phases_ns",
    };
    fprintf(f, "  \"host_timing_fields\": [");
    for (size_t i = 0; i < sizeof host_timing / sizeof host_timing[0]; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", host_timing[i]);
    fprintf(f, "]\n}\n");
    int bad = ferror(f);
    if (f != stderr && fclose(f) != 0)
        bad = 1;
    if (bad) {
        log_err("cannot write report %s: write error", path);
        return -EIO;
    }
    return 0;
}
