/* The ledger's jobs: the windowed budgets' arithmetic, reservations at a job's start against its tenant's budgets, checkpoints and settlement at its end. */
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
#include "lib/clock.h"
#include "quota/ledger_sql.h"

/* ---- the windowed budgets' arithmetic ---- */

static const char *const usage_column[QUOTA_NRES] = { "cpu_ns", "io_bytes", "net_bytes", NULL,
                                                      NULL };
static const char *const reserved_column[QUOTA_NRES] = { "reserved_cpu_ns", "reserved_io_bytes",
                                                         "reserved_net_bytes", NULL, NULL };
/* a job's running total of the resource, from its row */
static const char *const total_expr[QUOTA_NRES] = {
    "cpu_ns", "read_bytes + write_bytes", "net_rx_bytes + net_tx_bytes", NULL, NULL
};

/* The tenant's use of windowed resource r since window_start (checkpointed), and what its
 * running jobs still hold of their reservations. */
int ledger_window_use(struct ledger *l, const char *tenant, int r, int64_t window_start,
                      uint64_t *used, uint64_t *held, char *err, size_t errlen)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT sum(u.%s) FROM usage u JOIN jobs j ON j.id = u.job_id "
             "WHERE j.tenant = ?1 AND u.at_s >= ?2", usage_column[r]);
    int rc = ledger_prepare(l, &st, sql, "adding up usage", err, errlen);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, window_start);
        rc = ledger_query_u64(l, st, used, "adding up usage", err, errlen);
    }
    ledger_finish(l, st);
    if (rc < 0 || !held)
        return rc;
    snprintf(sql, sizeof sql, "SELECT sum(max(0, %s - (%s))) FROM jobs WHERE tenant = ?1 AND "
             "state = 'running'", reserved_column[r], total_expr[r]);
    rc = ledger_prepare(l, &st, sql, "adding up reservations", err, errlen);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        rc = ledger_query_u64(l, st, held, "adding up reservations", err, errlen);
    }
    ledger_finish(l, st);
    return rc;
}

/* Running jobs of the tenant and the sum of their guest RAM. */
int ledger_held_now(struct ledger *l, const char *tenant, uint64_t *jobs, uint64_t *memory,
                    char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = ledger_prepare(l, &st, "SELECT count(*), sum(memory_bytes) FROM jobs WHERE tenant = ?1 AND "
                     "state = 'running'", "counting running jobs", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    *jobs = *memory = 0;
    if (src == SQLITE_ROW) {
        *jobs = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_int64 m = sqlite3_column_int64(st, 1);
        *memory = m > 0 ? (uint64_t)m : 0;
        src = SQLITE_DONE;
    }
    ledger_finish(l, st);
    return src == SQLITE_DONE ? 0 : ledger_fail(l, src, "counting running jobs", err, errlen);
}

/* A resource amount in the budget's units, for messages. */
void ledger_amount_text(int r, uint64_t v, char *buf, size_t len)
{
    if (r == QUOTA_CPU && (v % 1000000000ull || v == 0)) { /* 3.000s, not 3000245402ns */
        clock_secs_text(buf, len, v);
        return;
    }
    struct quota_budget b = { .set = true, .amount = v, .window = QUOTA_AT_ONCE };
    char tmp[64];
    quota_budget_format((enum quota_resource)r, &b, tmp, sizeof tmp);
    const char *eq = strchr(tmp, '=');
    snprintf(buf, len, "%s", eq ? eq + 1 : tmp);
}

static void window_text(enum quota_window w, int64_t end_s, char *buf, size_t len)
{
    time_t t = (time_t)end_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
        snprintf(buf, len, "the %s's end", quota_window_name(w));
}

/* ---- jobs ---- */

static int begin_locked(struct ledger *l, const struct ledger_job *j, int64_t now_s,
                        struct ledger_admit *a, char *err, size_t errlen)
{
    int rc = ledger_ensure_tenant(l, j->tenant, now_s, err, errlen);
    struct quota_budgets b;
    if (rc >= 0)
        rc = ledger_load_budgets(l, j->tenant, &b, NULL, err, errlen);
    if (rc < 0)
        return rc;
    /* a duplicate id is an error whatever the budgets say */
    uint64_t seen = 0;
    rc = ledger_query_u64_text(l, "SELECT count(*) FROM jobs WHERE id = ?1", j->id, &seen,
                               "looking up the job id", err, errlen);
    if (rc < 0)
        return rc;
    if (seen) {
        snprintf(err, errlen, "ledger %s: a job with the id '%s' is already recorded", l->path,
                 j->id);
        return -EEXIST;
    }
    uint64_t jobs, memory;
    rc = ledger_held_now(l, j->tenant, &jobs, &memory, err, errlen);
    if (rc < 0)
        return rc;
    char x[64], y[64], z[64];
    if (b.of[QUOTA_JOBS].set && jobs >= b.of[QUOTA_JOBS].amount) {
        snprintf(err, errlen, "tenant %s: jobs budget reached: %llu of %llu jobs running",
                 j->tenant, (unsigned long long)jobs, (unsigned long long)b.of[QUOTA_JOBS].amount);
        return -EDQUOT;
    }
    if (b.of[QUOTA_MEMORY].set &&
        (memory > b.of[QUOTA_MEMORY].amount || j->memory_bytes > b.of[QUOTA_MEMORY].amount - memory)) {
        ledger_amount_text(QUOTA_MEMORY, b.of[QUOTA_MEMORY].amount, x, sizeof x);
        ledger_amount_text(QUOTA_MEMORY, memory, y, sizeof y);
        ledger_amount_text(QUOTA_MEMORY, j->memory_bytes, z, sizeof z);
        snprintf(err, errlen, "tenant %s: memory budget %s: running jobs hold %s, this job needs %s",
                 j->tenant, x, y, z);
        return -EDQUOT;
    }
    const uint64_t own[QUOTA_NRES] = { j->cpu_limit_ns, j->io_limit_bytes, j->net_limit_bytes };
    uint64_t grant[QUOTA_NRES] = { j->cpu_limit_ns, j->io_limit_bytes, j->net_limit_bytes };
    uint64_t reserve[QUOTA_NRES] = { 0 };
    for (int r = QUOTA_CPU; r <= QUOTA_NET; r++) {
        const struct quota_budget *bd = &b.of[r];
        if (!bd->set)
            continue;
        uint64_t used, held;
        int64_t start = quota_window_start(bd->window, now_s);
        rc = ledger_window_use(l, j->tenant, r, start, &used, &held, err, errlen);
        if (rc < 0)
            return rc;
        uint64_t taken = used + held < used ? UINT64_MAX : used + held;
        uint64_t left = bd->amount > taken ? bd->amount - taken : 0;
        if (left == 0) {
            char budget[64], when[40];
            quota_budget_format((enum quota_resource)r, bd, budget, sizeof budget);
            ledger_amount_text(r, used, x, sizeof x);
            ledger_amount_text(r, held, y, sizeof y);
            window_text(bd->window, quota_window_end(bd->window, now_s), when, sizeof when);
            snprintf(err, errlen, "tenant %s: budget %s used up: %s used this %s, %s held by "
                     "running jobs; nothing left until %s", j->tenant, budget, x,
                     quota_window_name(bd->window), y, when);
            return -EDQUOT;
        }
        /* a job with a limit of its own reserves it (what is left at most): no other job can
         * take it. A job without one reserves nothing and shares what no job holds: its limit
         * is that rest, and its checkpoints stop it once the tenant's use and the others'
         * reservations fill the budget (ledger_job_checkpoint) */
        if (!own[r] || own[r] > left) {
            grant[r] = left;
            a->clamped[r] = true;
        }
        reserve[r] = own[r] ? grant[r] : 0;
    }
    a->cpu_limit_ns = grant[QUOTA_CPU];
    a->io_limit_bytes = grant[QUOTA_IO];
    a->net_limit_bytes = grant[QUOTA_NET];
    sqlite3_stmt *st = NULL;
    rc = ledger_prepare(l, &st,
                 "INSERT INTO jobs(id, tenant, policy_digest, tier, state, owner_pid, owner_start, "
                 "start_s, checkpoint_s, reserved_cpu_ns, reserved_io_bytes, reserved_net_bytes, "
                 "memory_bytes) VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11)",
                 "recording the job", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->policy_digest ? j->policy_digest : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, j->tier ? j->tier : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, j->owner_pid);
    sqlite3_bind_int64(st, 6, ledger_i64(j->owner_start));
    sqlite3_bind_int64(st, 7, now_s);
    /* an unbudgeted resource reserves nothing: it cannot run out */
    sqlite3_bind_int64(st, 8, ledger_i64(reserve[QUOTA_CPU]));
    sqlite3_bind_int64(st, 9, ledger_i64(reserve[QUOTA_IO]));
    sqlite3_bind_int64(st, 10, ledger_i64(reserve[QUOTA_NET]));
    sqlite3_bind_int64(st, 11, ledger_i64(j->memory_bytes));
    int src = sqlite3_step(st);
    ledger_finish(l, st);
    if (src == SQLITE_DONE)
        return 0;
    if ((src & 0xff) == SQLITE_CONSTRAINT) {
        snprintf(err, errlen, "ledger %s: a job with the id '%s' is already recorded", l->path,
                 j->id);
        return -EEXIST;
    }
    return ledger_fail(l, src, "recording the job", err, errlen);
}

int ledger_job_begin(struct ledger *l, const struct ledger_job *j, int64_t now_s,
                     struct ledger_admit *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (errlen)
        err[0] = '\0';
    int rc = ledger_check_tenant(j->tenant, err, errlen);
    if (rc < 0)
        return rc;
    if (!j->id || !*j->id || strlen(j->id) > LEDGER_JOB_ID_MAX) {
        snprintf(err, errlen, "job id '%.40s': empty or longer than %d", j->id ? j->id : "",
                 LEDGER_JOB_ID_MAX);
        return -EINVAL;
    }
    rc = ledger_exec(l, "BEGIN IMMEDIATE", "reserving the job's budget", err, errlen);
    if (rc < 0)
        return rc;
    /* dead owners' jobs are settled only when they stand in the way: a refusal is looked at
     * again once they are (every ledger user settles them too: quota report, quota set) */
    rc = begin_locked(l, j, now_s, a, err, errlen);
    if (rc == -EDQUOT) {
        char serr[256];
        int n = ledger_settle_dead_locked(l, serr, sizeof serr);
        if (n < 0) {
            snprintf(err, errlen, "%s", serr);
            rc = n;
        } else if (n > 0) {
            memset(a, 0, sizeof *a);
            rc = begin_locked(l, j, now_s, a, err, errlen);
        }
    }
    if (rc == 0)
        rc = ledger_exec(l, "COMMIT", "reserving the job's budget", err, errlen);
    if (rc < 0) {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        memset(a, 0, sizeof *a);
    }
    return rc;
}

/* Write the job's new totals and what they added since the last checkpoint. `state`: NULL to
 * stay running, else the final state with exit_reason. Inside the caller's transaction. */
static int record_usage(struct ledger *l, const char *id, const struct ledger_usage *u,
                        int64_t now_s, const char *exit_reason, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = ledger_prepare(l, &st, "SELECT cpu_ns, read_bytes + write_bytes, net_rx_bytes + net_tx_bytes, "
                     "state FROM jobs WHERE id = ?1", "reading the job", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        ledger_finish(l, st);
        if (src == SQLITE_DONE) {
            snprintf(err, errlen, "ledger %s: no job '%s'", l->path, id);
            return -ENOENT;
        }
        return ledger_fail(l, src, "reading the job", err, errlen);
    }
    uint64_t before[3];
    for (int i = 0; i < 3; i++) {
        sqlite3_int64 v = sqlite3_column_int64(st, i);
        before[i] = v > 0 ? (uint64_t)v : 0;
    }
    const char *state = (const char *)sqlite3_column_text(st, 3);
    bool running = state && !strcmp(state, "running");
    ledger_finish(l, st);
    if (!running) {
        snprintf(err, errlen, "ledger %s: job '%s' has already ended (a VMM that ran on after its "
                 "job was settled as dead?)", l->path, id);
        return -ESTALE;
    }
    uint64_t now_tot[3] = { u->cpu_ns, u->read_bytes + u->write_bytes,
                            u->net_rx_bytes + u->net_tx_bytes };
    uint64_t add[3];
    for (int i = 0; i < 3; i++)
        add[i] = now_tot[i] > before[i] ? now_tot[i] - before[i] : 0;
    if (add[0] || add[1] || add[2]) {
        rc = ledger_prepare(l, &st, "INSERT INTO usage(job_id, at_s, cpu_ns, io_bytes, net_bytes) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)", "recording usage", err, errlen);
        if (rc < 0)
            return rc;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_s);
        for (int i = 0; i < 3; i++)
            sqlite3_bind_int64(st, 3 + i, ledger_i64(add[i]));
        src = sqlite3_step(st);
        ledger_finish(l, st);
        if (src != SQLITE_DONE)
            return ledger_fail(l, src, "recording usage", err, errlen);
    }
    rc = ledger_prepare(l, &st,
                 "UPDATE jobs SET checkpoint_s = ?2, cpu_ns = ?3, wall_ns = ?4, "
                 "memory_peak_bytes = ?5, read_bytes = ?6, read_ops = ?7, write_bytes = ?8, "
                 "write_ops = ?9, net_rx_bytes = ?10, net_tx_bytes = ?11, hypercalls = ?12, "
                 "state = CASE WHEN ?13 IS NULL THEN state ELSE 'ended' END, "
                 "end_s = CASE WHEN ?13 IS NULL THEN end_s ELSE ?2 END, "
                 "exit_reason = coalesce(?13, exit_reason) WHERE id = ?1",
                 "recording usage", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_s);
    const uint64_t v[] = { u->cpu_ns, u->wall_ns, u->memory_peak_bytes, u->read_bytes, u->read_ops,
                           u->write_bytes, u->write_ops, u->net_rx_bytes, u->net_tx_bytes,
                           u->hypercalls };
    for (int i = 0; i < 10; i++)
        sqlite3_bind_int64(st, 3 + i, ledger_i64(v[i]));
    if (exit_reason)
        sqlite3_bind_text(st, 13, exit_reason, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 13);
    src = sqlite3_step(st);
    ledger_finish(l, st);
    return src == SQLITE_DONE ? 0 : ledger_fail(l, src, "recording usage", err, errlen);
}

/* Is a windowed budget of the job's tenant used up, or the job's own reservation? A job that
 * reserved nothing (no limit of its own) stops once the tenant's use and what the running jobs
 * still hold of their reservations fill the budget. */
static int exhausted_locked(struct ledger *l, const char *id, int64_t now_s, int *exhausted,
                            char *why, size_t whylen)
{
    *exhausted = 0;
    sqlite3_stmt *st = NULL;
    int rc = ledger_prepare(l, &st, "SELECT tenant, reserved_cpu_ns, reserved_io_bytes, reserved_net_bytes, "
                     "cpu_ns, read_bytes + write_bytes, net_rx_bytes + net_tx_bytes FROM jobs "
                     "WHERE id = ?1", "reading the job", why, whylen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        ledger_finish(l, st);
        return ledger_fail(l, src == SQLITE_DONE ? SQLITE_ERROR : src, "reading the job", why, whylen);
    }
    char tenant[LEDGER_TENANT_MAX + 1];
    const char *tn = (const char *)sqlite3_column_text(st, 0);
    snprintf(tenant, sizeof tenant, "%s", tn ? tn : "");
    uint64_t reserved[3], total[3];
    for (int i = 0; i < 3; i++) {
        sqlite3_int64 a = sqlite3_column_int64(st, 1 + i), b = sqlite3_column_int64(st, 4 + i);
        reserved[i] = a > 0 ? (uint64_t)a : 0;
        total[i] = b > 0 ? (uint64_t)b : 0;
    }
    ledger_finish(l, st);
    struct quota_budgets b;
    rc = ledger_load_budgets(l, tenant, &b, NULL, why, whylen);
    for (int r = QUOTA_CPU; rc == 0 && r <= QUOTA_NET; r++) {
        if (!b.of[r].set)
            continue;
        uint64_t used, held;
        rc = ledger_window_use(l, tenant, r, quota_window_start(b.of[r].window, now_s), &used,
                               &held, why, whylen);
        if (rc < 0)
            break;
        char budget[64], x[64], y[64];
        quota_budget_format((enum quota_resource)r, &b.of[r], budget, sizeof budget);
        uint64_t taken = reserved[r] ? used : used + held < used ? UINT64_MAX : used + held;
        if (taken >= b.of[r].amount) {
            ledger_amount_text(r, used, x, sizeof x);
            ledger_amount_text(r, held, y, sizeof y);
            if (reserved[r] || !held)
                snprintf(why, whylen, "tenant %s: budget %s used up (%s used this %s)", tenant,
                         budget, x, quota_window_name(b.of[r].window));
            else
                snprintf(why, whylen, "tenant %s: budget %s used up (%s used this %s, %s held by "
                         "running jobs)", tenant, budget, x, quota_window_name(b.of[r].window), y);
            *exhausted = 1 + r;
            break;
        }
        if (reserved[r] && total[r] >= reserved[r]) {
            ledger_amount_text(r, reserved[r], x, sizeof x);
            snprintf(why, whylen, "tenant %s: budget %s: this job used the %s it was granted",
                     tenant, budget, x);
            *exhausted = 1 + r;
            break;
        }
    }
    return rc;
}

int ledger_job_checkpoint(struct ledger *l, const char *id, const struct ledger_usage *u,
                          int64_t now_s, int *exhausted, char *why, size_t whylen)
{
    *exhausted = 0;
    if (whylen)
        why[0] = '\0';
    int rc = ledger_exec(l, "BEGIN IMMEDIATE", "checkpointing the job's usage", why, whylen);
    if (rc < 0)
        return rc;
    rc = record_usage(l, id, u, now_s, NULL, why, whylen);
    if (rc == 0)
        rc = exhausted_locked(l, id, now_s, exhausted, why, whylen);
    if (rc == 0) {
        char cerr[256];
        rc = ledger_exec(l, "COMMIT", "checkpointing the job's usage", cerr, sizeof cerr);
        if (rc < 0)
            snprintf(why, whylen, "%s", cerr);
    }
    if (rc < 0) {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        *exhausted = 0;
    }
    return rc;
}

int ledger_job_end(struct ledger *l, const char *id, const struct ledger_usage *u, int64_t now_s,
                   const char *exit_reason, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    int rc = ledger_exec(l, "BEGIN IMMEDIATE", "recording the job's end", err, errlen);
    if (rc < 0)
        return rc;
    rc = record_usage(l, id, u, now_s, exit_reason ? exit_reason : "unknown", err, errlen);
    if (rc == 0)
        rc = ledger_exec(l, "COMMIT", "recording the job's end", err, errlen);
    if (rc < 0)
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

