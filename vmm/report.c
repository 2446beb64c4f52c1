/* Writes the usage report as JSON, one key per line, units in key names. */
#include "report.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "fault.h"
#include "log.h"
#include "syscalls.h"

static const char *end_name(enum job_end e)
{
    switch (e) {
    case JOB_EXITED: return "exit";
    case JOB_SIGNALED: return "signal";
    case JOB_INTERNAL_ERROR: return "internal-error";
    default: return "running";
    }
}

int report_write(const char *path, const struct job *job, const struct launch_opts *o,
                 uint64_t wall_ns)
{
    FILE *f = strcmp(path, "-") == 0 ? stderr : fopen(path, "w");
    if (!f) {
        int e = errno;
        log_err("cannot write report %s: %s", path, strerror(e));
        return -e;
    }
    const struct job_stats *st = &job->stats;
    fprintf(f, "{\n");
    fprintf(f, "  \"isovm_report_version\": 1,\n");
    fprintf(f, "  \"exit_reason\": \"%s\",\n", end_name(job->end));
    fprintf(f, "  \"exit_status\": %d,\n", job->exit_status);
    if (job->end == JOB_SIGNALED)
        fprintf(f, "  \"signal\": \"%s\",\n", signal_name(job->signal));
    fprintf(f, "  \"memory_limit_bytes\": %llu,\n", (unsigned long long)o->policy.memory_bytes);
    fprintf(f, "  \"wall_time_ns\": %llu,\n", (unsigned long long)wall_ns);
    fprintf(f, "  \"read_bytes\": %llu,\n", (unsigned long long)st->bytes_read);
    fprintf(f, "  \"written_bytes\": %llu,\n", (unsigned long long)st->bytes_written);
    fprintf(f, "  \"hypercalls_total\": %llu,\n", (unsigned long long)st->hypercalls_total);
    fprintf(f, "  \"syscalls\": {");
    const char *sep = "";
    for (unsigned i = 0; i < SYSCALL_TABLE_SIZE; i++) {
        if (st->syscalls[i]) {
            fprintf(f, "%s\n    \"%u\": %llu", sep, i, (unsigned long long)st->syscalls[i]);
            sep = ",";
        }
    }
    fprintf(f, "%s},\n", *sep ? "\n  " : "");
    fprintf(f, "  \"unknown_syscalls_total\": %llu,\n", (unsigned long long)st->unknown_total);
    fprintf(f, "  \"unknown_syscalls\": {");
    sep = "";
    for (unsigned i = 0; i < st->unknown_distinct; i++) {
        fprintf(f, "%s\n    \"%llu\": %llu", sep, (unsigned long long)st->unknown_nr[i],
                (unsigned long long)st->unknown_count[i]);
        sep = ",";
    }
    fprintf(f, "%s},\n", *sep ? "\n  " : "");
    fprintf(f, "  \"vm_exits\": {\n");
    fprintf(f, "    \"io\": %llu,\n", (unsigned long long)st->exits_io);
    fprintf(f, "    \"hlt\": %llu,\n", (unsigned long long)st->exits_hlt);
    fprintf(f, "    \"shutdown\": %llu,\n", (unsigned long long)st->exits_shutdown);
    fprintf(f, "    \"interrupted\": %llu,\n", (unsigned long long)st->exits_intr);
    fprintf(f, "    \"other\": %llu\n", (unsigned long long)st->exits_other);
    fprintf(f, "  }\n}\n");
    int bad = ferror(f);
    if (f != stderr && fclose(f) != 0)
        bad = 1;
    if (bad) {
        log_err("cannot write report %s: write error", path);
        return -EIO;
    }
    return 0;
}
