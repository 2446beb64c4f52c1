/* The tenant ledger's usage as OpenMetrics 1.0 or the Prometheus text format 0.0.4, for `isovm quota report` and `quota serve`. */
#include "cli/quota_metrics.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "quota/budget.h"

/* A family's metadata. om: OpenMetrics 1.0 (a counter's family is named without _total, its
 * samples with it; # UNIT). Else the Prometheus text format 0.0.4, which Debian's promtool (2.42)
 * checks: a counter's HELP and TYPE carry the sample's name, _total included, and no # UNIT. */
static void om_family(FILE *f, bool om, const char *name, const char *type, const char *unit,
                      const char *help)
{
    const char *total = !om && !strcmp(type, "counter") ? "_total" : "";
    fprintf(f, "# HELP %s%s %s\n", name, total, help);
    fprintf(f, "# TYPE %s%s %s\n", name, total, type);
    if (unit && om)
        fprintf(f, "# UNIT %s %s\n", name, unit);
}


/* A budget gauge's sample: bytes as an exact integer (a %g of 200 GiB is 2.14748365e+11, 200
 * bytes over), seconds from nanoseconds with all nine decimals, trailing zeros dropped. */
static void metric_amount(FILE *f, const char *name, const char *tenant, const char *window,
                          uint64_t v, double scale)
{
    fprintf(f, "%s{tenant=\"%s\",window=\"%s\"} ", name, tenant, window);
    if (scale == 1) {
        fprintf(f, "%" PRIu64 "\n", v);
        return;
    }
    char frac[16];
    snprintf(frac, sizeof frac, "%09" PRIu64, v % 1000000000u);
    size_t n = strlen(frac);
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    fprintf(f, "%" PRIu64 "%s%s\n", v / 1000000000u, n ? "." : "", frac);
}

/* Every family, each with all tenants' samples; # EOF last in OpenMetrics. */
static void metrics_print(FILE *f, const struct ledger_tenant_use *rows, int n, bool om)
{
#define FOR_TENANTS(fmt, expr)                                                                    \
    for (int i = 0; i < n; i++)                                                                   \
        fprintf(f, fmt, rows[i].tenant, expr)
    om_family(f, om, "isovm_tenant_cpu_seconds", "counter", "seconds", "vCPU time used by the tenant's jobs.");
    FOR_TENANTS("isovm_tenant_cpu_seconds_total{tenant=\"%s\"} %.9f\n",
                (double)rows[i].total.cpu_ns / 1e9);
    om_family(f, om, "isovm_tenant_wall_seconds", "counter", "seconds", "Wall-clock time of the tenant's jobs.");
    FOR_TENANTS("isovm_tenant_wall_seconds_total{tenant=\"%s\"} %.9f\n",
                (double)rows[i].total.wall_ns / 1e9);
    om_family(f, om, "isovm_tenant_read_bytes", "counter", "bytes", "Bytes the tenant's jobs read.");
    FOR_TENANTS("isovm_tenant_read_bytes_total{tenant=\"%s\"} %" PRIu64 "\n", rows[i].total.read_bytes);
    om_family(f, om, "isovm_tenant_write_bytes", "counter", "bytes", "Bytes the tenant's jobs wrote.");
    FOR_TENANTS("isovm_tenant_write_bytes_total{tenant=\"%s\"} %" PRIu64 "\n", rows[i].total.write_bytes);
    om_family(f, om, "isovm_tenant_read_operations", "counter", NULL, "Read operations of the tenant's jobs.");
    FOR_TENANTS("isovm_tenant_read_operations_total{tenant=\"%s\"} %" PRIu64 "\n", rows[i].total.read_ops);
    om_family(f, om, "isovm_tenant_write_operations", "counter", NULL, "Write operations of the tenant's jobs.");
    FOR_TENANTS("isovm_tenant_write_operations_total{tenant=\"%s\"} %" PRIu64 "\n", rows[i].total.write_ops);
    om_family(f, om, "isovm_tenant_network_receive_bytes", "counter", "bytes", "Bytes the tenant's jobs received.");
    FOR_TENANTS("isovm_tenant_network_receive_bytes_total{tenant=\"%s\"} %" PRIu64 "\n", rows[i].total.net_rx_bytes);
    om_family(f, om, "isovm_tenant_network_transmit_bytes", "counter", "bytes", "Bytes the tenant's jobs sent.");
    FOR_TENANTS("isovm_tenant_network_transmit_bytes_total{tenant=\"%s\"} %" PRIu64 "\n", rows[i].total.net_tx_bytes);
    om_family(f, om, "isovm_tenant_hypercalls", "counter", NULL, "Hypercalls the tenant's jobs made.");
    FOR_TENANTS("isovm_tenant_hypercalls_total{tenant=\"%s\"} %" PRIu64 "\n", rows[i].total.hypercalls);
    om_family(f, om, "isovm_tenant_jobs", "counter", NULL, "Jobs the tenant started.");
    FOR_TENANTS("isovm_tenant_jobs_total{tenant=\"%s\"} %" PRIu64 "\n", rows[i].jobs_total);
    om_family(f, om, "isovm_tenant_jobs_running", "gauge", NULL, "Jobs of the tenant running now.");
    FOR_TENANTS("isovm_tenant_jobs_running{tenant=\"%s\"} %" PRIu64 "\n", rows[i].jobs_running);
    om_family(f, om, "isovm_tenant_memory_held_bytes", "gauge", "bytes", "Guest RAM of the tenant's running jobs.");
    FOR_TENANTS("isovm_tenant_memory_held_bytes{tenant=\"%s\"} %" PRIu64 "\n", rows[i].used[QUOTA_MEMORY]);
    /* budgets and their use in the current window, one family per resource with a window */
    static const struct { int r; const char *unit; double scale; } win[] = {
        { QUOTA_CPU, "seconds", 1e9 }, { QUOTA_IO, "bytes", 1 }, { QUOTA_NET, "bytes", 1 },
    };
    for (size_t k = 0; k < sizeof win / sizeof win[0]; k++) {
        for (int limit = 0; limit <= 1; limit++) {
            /* the unit must end the family's name: ..._used_seconds, ..._limit_seconds */
            char name[128];
            snprintf(name, sizeof name, "isovm_tenant_budget_%s_%s_%s",
                     quota_resource_name((enum quota_resource)win[k].r), limit ? "limit" : "used",
                     win[k].unit);
            om_family(f, om, name, "gauge", win[k].unit,
                      limit ? "The budget per window." : "Used in the budget's current window.");
            for (int i = 0; i < n; i++) {
                const struct quota_budget *b = &rows[i].budgets.of[win[k].r];
                uint64_t v = limit ? b->amount : rows[i].used[win[k].r];
                if (b->set)
                    metric_amount(f, name, rows[i].tenant, quota_window_name(b->window), v,
                                  win[k].scale);
            }
        }
    }
    om_family(f, om, "isovm_tenant_budget_jobs_limit", "gauge", NULL, "Jobs the tenant may run at once.");
    for (int i = 0; i < n; i++)
        if (rows[i].budgets.of[QUOTA_JOBS].set)
            fprintf(f, "isovm_tenant_budget_jobs_limit{tenant=\"%s\"} %" PRIu64 "\n", rows[i].tenant,
                    rows[i].budgets.of[QUOTA_JOBS].amount);
    om_family(f, om, "isovm_tenant_budget_memory_limit_bytes", "gauge", "bytes", "Guest RAM the tenant's jobs may hold at once.");
    for (int i = 0; i < n; i++)
        if (rows[i].budgets.of[QUOTA_MEMORY].set)
            fprintf(f, "isovm_tenant_budget_memory_limit_bytes{tenant=\"%s\"} %" PRIu64 "\n",
                    rows[i].tenant, rows[i].budgets.of[QUOTA_MEMORY].amount);
    if (om)
        fprintf(f, "# EOF\n");
#undef FOR_TENANTS
}

struct metrics_rows {
    struct ledger_tenant_use *rows; /* every tenant: a family's samples are printed together */
    int n;
};

static int metrics_collect(const struct ledger_tenant_use *t, void *ctx)
{
    struct metrics_rows *m = ctx;
    struct ledger_tenant_use *n = realloc(m->rows, (size_t)(m->n + 1) * sizeof *n);
    if (!n)
        return -ENOMEM;
    m->rows = n;
    n[m->n++] = *t;
    return 0;
}

int quota_metrics_write(FILE *f, struct ledger *l, const char *tenant, int64_t since_s,
                        int64_t now_s, bool openmetrics, char *err, size_t errlen)
{
    struct metrics_rows m = { 0 };
    int rc = ledger_report(l, tenant, since_s, now_s, metrics_collect, &m, err, errlen);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc == 0) {
        metrics_print(f, m.rows, m.n, openmetrics);
        if (fflush(f) != 0 || ferror(f)) {
            snprintf(err, errlen, "writing the metrics: %s", strerror(errno));
            rc = -EIO;
        }
    }
    free(m.rows);
    return rc;
}
