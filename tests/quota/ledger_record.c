/* Test helper: records one job's usage in a tenant ledger through its own API (begin, checkpoints, end), as a launch with --tenant would, without KVM. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "quota/ledger.h"

/* The job's usage when it has used cpu_ns of CPU: the other figures follow from it, so a test
 * can predict them (wall twice the CPU, 1 MiB read in 16 operations per CPU second, ...). */
static struct ledger_usage usage_at(uint64_t cpu_ns)
{
    uint64_t ms = cpu_ns / 1000000u;
    return (struct ledger_usage){ .cpu_ns = cpu_ns, .wall_ns = 2 * cpu_ns,
                                  .memory_peak_bytes = 64u << 20, .read_bytes = ms << 10,
                                  .read_ops = ms / 64, .write_bytes = ms << 9, .write_ops = ms / 128,
                                  .net_rx_bytes = ms * 100, .net_tx_bytes = ms * 10,
                                  .hypercalls = ms * 3 };
}

static int parse_ns(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -EINVAL;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: ledger_record LEDGER TENANT JOB_ID CPU_NS...\n"
                        "  begins job JOB_ID of TENANT, checkpoints at each CPU_NS but the last (totals\n"
                        "  so far), and ends it (exit reason \"exit\") at the last\n");
        return 2;
    }
    const char *path = argv[1], *tenant = argv[2], *id = argv[3];
    uint64_t cpu[64];
    int n = argc - 4;
    if (n > (int)(sizeof cpu / sizeof cpu[0])) {
        fprintf(stderr, "ledger_record: at most %zu CPU_NS figures\n", sizeof cpu / sizeof cpu[0]);
        return 2;
    }
    for (int i = 0; i < n; i++)
        if (parse_ns(argv[4 + i], &cpu[i]) < 0) {
            fprintf(stderr, "ledger_record: CPU_NS '%s' is not a number of nanoseconds\n", argv[4 + i]);
            return 2;
        }
    struct ledger *l;
    char err[512];
    if (ledger_open(path, &l, err, sizeof err) < 0) {
        fprintf(stderr, "ledger_record: %s\n", err);
        return 1;
    }
    struct ledger_job j = { .id = id, .tenant = tenant, .policy_digest = "00", .tier = "hypercall",
                            .memory_bytes = 64u << 20, .owner_pid = getpid(),
                            .owner_start = ledger_owner_start(getpid()) };
    struct ledger_admit a;
    int64_t now = (int64_t)time(NULL);
    int rc = ledger_job_begin(l, &j, now, &a, err, sizeof err);
    for (int i = 0; rc == 0 && i + 1 < n; i++) {
        struct ledger_usage u = usage_at(cpu[i]);
        int exhausted = 0;
        rc = ledger_job_checkpoint(l, id, &u, now, &exhausted, err, sizeof err);
    }
    if (rc == 0) {
        struct ledger_usage u = usage_at(cpu[n - 1]);
        rc = ledger_job_end(l, id, &u, now, "exit", err, sizeof err);
    }
    ledger_close(l);
    if (rc < 0) {
        fprintf(stderr, "ledger_record: job %s of %s in %s: %s\n", id, tenant, path, err);
        return 1;
    }
    return 0;
}
