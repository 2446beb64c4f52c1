/* The ledger's reports: each tenant's budgets, their use in the current window, and its jobs' totals, read in one transaction. */
#include "quota/ledger.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "quota/ledger_sql.h"

/* ---- reports ---- */

static int tenant_use(struct ledger *l, const char *tenant, int64_t since_s, int64_t now_s,
                      struct ledger_tenant_use *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    snprintf(t->tenant, sizeof t->tenant, "%s", tenant);
    int rc = ledger_load_budgets(l, tenant, &t->budgets, NULL, err, errlen);
    if (rc < 0)
        return rc;
    for (int r = QUOTA_CPU; r <= QUOTA_NET; r++) {
        const struct quota_budget *b = &t->budgets.of[r];
        int64_t start = b->set ? quota_window_start(b->window, now_s) : since_s;
        rc = ledger_window_use(l, tenant, r, start, &t->used[r], NULL, err, errlen);
        if (rc < 0)
            return rc;
    }
    rc = ledger_held_now(l, tenant, &t->used[QUOTA_JOBS], &t->used[QUOTA_MEMORY], err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = ledger_prepare(l, &st, "SELECT count(*), sum(state = 'running'), sum(state = 'recovered'), "
                 "sum(cpu_ns), sum(wall_ns), max(memory_peak_bytes), sum(read_bytes), sum(read_ops), "
                 "sum(write_bytes), sum(write_ops), sum(net_rx_bytes), sum(net_tx_bytes), "
                 "sum(hypercalls) FROM jobs WHERE tenant = ?1 AND start_s >= ?2",
                 "adding up jobs", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_s);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        uint64_t v[13];
        for (int i = 0; i < 13; i++) {
            sqlite3_int64 x = sqlite3_column_int64(st, i);
            v[i] = x > 0 ? (uint64_t)x : 0;
        }
        t->jobs_total = v[0];
        t->jobs_running = v[1];
        t->jobs_recovered = v[2];
        t->total = (struct ledger_usage){ .cpu_ns = v[3], .wall_ns = v[4],
                                          .memory_peak_bytes = v[5], .read_bytes = v[6],
                                          .read_ops = v[7], .write_bytes = v[8], .write_ops = v[9],
                                          .net_rx_bytes = v[10], .net_tx_bytes = v[11],
                                          .hypercalls = v[12] };
        src = SQLITE_DONE;
    }
    ledger_finish(l, st);
    return src == SQLITE_DONE ? 0 : ledger_fail(l, src, "adding up jobs", err, errlen);
}

int ledger_report(struct ledger *l, const char *tenant, int64_t since_s, int64_t now_s,
                  int (*fn)(const struct ledger_tenant_use *t, void *ctx), void *ctx, char *err,
                  size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (tenant) {
        int rc = ledger_check_tenant(tenant, err, errlen);
        if (rc < 0)
            return rc;
    }
    int rc = ledger_settle_dead(l, err, errlen);
    if (rc < 0)
        return rc;
    /* one read transaction: every figure from the same moment */
    rc = ledger_exec(l, "BEGIN", "reading the ledger", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = ledger_prepare(l, &st, "SELECT name FROM tenants WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
                 "listing tenants", err, errlen);
    if (rc == 0) {
        if (tenant)
            sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 1);
        int src = SQLITE_DONE;
        while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
            char name[LEDGER_TENANT_MAX + 1];
            const char *nm = (const char *)sqlite3_column_text(st, 0);
            snprintf(name, sizeof name, "%s", nm ? nm : "");
            struct ledger_tenant_use t;
            rc = tenant_use(l, name, since_s, now_s, &t, err, errlen);
            if (rc == 0)
                rc = fn(&t, ctx);
        }
        if (rc == 0 && src != SQLITE_DONE)
            rc = ledger_fail(l, src, "listing tenants", err, errlen);
    }
    ledger_finish(l, st);
    sqlite3_exec(l->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
