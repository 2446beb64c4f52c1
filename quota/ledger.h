/* The tenant ledger: an SQLite database of tenants, their budgets, every job and its usage, shared
 * by all VMMs of a host (docs/quota.md). */
#ifndef ISOVM_QUOTA_LEDGER_H
#define ISOVM_QUOTA_LEDGER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "quota/budget.h"

/* The schema this build writes; older ledgers are migrated up on open, newer ones refused. */
#define LEDGER_SCHEMA_VERSION 1
/* How long one ledger call waits for another process's write transaction before it gives up:
 * long enough for 20 launches at once on one slow (emulated) CPU to queue for their
 * reservations, each a few milliseconds of work on a real one. */
#define LEDGER_BUSY_TIMEOUT_MS 30000
#define LEDGER_TENANT_MAX 64
#define LEDGER_JOB_ID_MAX 128

struct ledger;

/* The ledger's path when --ledger is not given: $ISOVM_LEDGER, else /var/lib/isovm/ledger.db
 * for root, else ${XDG_STATE_HOME:-$HOME/.local/state}/isovm/ledger.db. 0, or -ENAMETOOLONG /
 * -ENOENT (no HOME) with buf empty. */
int ledger_default_path(char *buf, size_t len);

/* Open (creating it, its folder and the schema if missing) and migrate the ledger at path.
 * WAL journal, foreign keys on, a busy timeout. 0, or a negative errno with a message naming the
 * file and what is wrong in err: -ENOENT/-EACCES (cannot open), -EIO (not a database, corrupt),
 * -EPROTO (a newer schema than this build knows), -EBUSY (locked past the timeout). */
int ledger_open(const char *path, struct ledger **out, char *err, size_t errlen);
void ledger_close(struct ledger *l);
/* Keep the statements this connection prepares for its whole life (the keeper service, which
 * runs the same few for every job); a connection that does not re-prepares each time, so that
 * it reads the schema anew and notices a ledger damaged under it. */
void ledger_cache_statements(struct ledger *l);
/* Wait at most ms for another writer from now on (tests: a locked ledger without 30 s waits). */
void ledger_set_busy_timeout(struct ledger *l, int ms);

/* A tenant name: 1 to LEDGER_TENANT_MAX characters of [A-Za-z0-9._-], not starting with '.' or
 * '-'. */
bool ledger_tenant_valid(const char *name);

/* Create the tenant if new and apply the items that `b` sets; an item with set false removes
 * that budget when `lift` says so. */
int ledger_budgets_set(struct ledger *l, const char *tenant, const struct quota_budgets *b,
                       const bool lift[QUOTA_NRES], char *err, size_t errlen);
/* The tenant's budgets; *known false (and b all unset) for a tenant the ledger has never seen. */
int ledger_budgets_get(struct ledger *l, const char *tenant, struct quota_budgets *b, bool *known,
                       char *err, size_t errlen);

/* What a job has used so far (totals since its start). */
struct ledger_usage {
    uint64_t cpu_ns, wall_ns, memory_peak_bytes;
    uint64_t read_bytes, read_ops, write_bytes, write_ops;
    uint64_t net_rx_bytes, net_tx_bytes, hypercalls;
};

/* A job asking to start: its own limits (0: none) are its worst case. */
struct ledger_job {
    const char *id;            /* unique in the ledger */
    const char *tenant;
    const char *policy_digest; /* hex SHA-256 of the policy as run */
    const char *tier;          /* "hypercall" or "linux" */
    uint64_t cpu_limit_ns, io_limit_bytes, net_limit_bytes;
    uint64_t memory_bytes;     /* guest RAM */
    int owner_pid;             /* the VMM's pid and its start time (ledger_owner_start) */
    uint64_t owner_start;
};

/* What the ledger granted: the job's limits clamped to what its tenant has left (0: none). */
struct ledger_admit {
    uint64_t cpu_limit_ns, io_limit_bytes, net_limit_bytes;
    bool clamped[QUOTA_NRES]; /* this limit is the budget's rest, not the job's own */
};

/* The start time of process pid (ticks since boot, /proc/PID/stat field 22); 0 if none or a
 * zombie. */
uint64_t ledger_owner_start(int pid);

/* Settle the jobs whose VMM died (pid gone or reused): ended at their last checkpoint, state
 * "recovered", their reservations released. Returns how many, or a negative errno. */
int ledger_settle_dead(struct ledger *l, char *err, size_t errlen);

/* Settle a running job whose VMM went away without its end (its keeper saw the socket close):
 * ended at its last checkpoint, state "recovered", exit reason `reason`. */
int ledger_job_abandon(struct ledger *l, const char *id, const char *reason, char *err,
                       size_t errlen);

/* Reserve the job's worst case against its tenant's budgets and record it as running, in one
 * write transaction (so concurrent launches cannot both take the last of a budget). now_s: the
 * wall clock. -EDQUOT when a budget refuses it (err names the budget and the figures), -EEXIST
 * for a job id already in the ledger, another negative errno on a ledger failure. */
int ledger_job_begin(struct ledger *l, const struct ledger_job *j, int64_t now_s,
                     struct ledger_admit *a, char *err, size_t errlen);

/* Record the running job's usage so far (a checkpoint). *exhausted: 0, or 1 + the resource
 * (QUOTA_CPU, QUOTA_IO, QUOTA_NET) of a windowed budget of its tenant that is used up, or of
 * the job's own reservation (what in why): the job should stop ("quota"). */
int ledger_job_checkpoint(struct ledger *l, const char *id, const struct ledger_usage *u,
                          int64_t now_s, int *exhausted, char *why, size_t whylen);

/* The job's end: its final usage and exit reason; its reservation settled to that usage. */
int ledger_job_end(struct ledger *l, const char *id, const struct ledger_usage *u, int64_t now_s,
                   const char *exit_reason, char *err, size_t errlen);

/* One tenant's figures for a report. */
struct ledger_tenant_use {
    char tenant[LEDGER_TENANT_MAX + 1];
    struct quota_budgets budgets;
    uint64_t used[QUOTA_NRES];    /* cpu/io/net: within the budget's current window (all time
                                   * without a budget); jobs/memory: held now */
    uint64_t jobs_total, jobs_running, jobs_recovered;
    struct ledger_usage total;    /* every job since `since_s` */
};

/* Call fn for every tenant (or only `tenant`), jobs since since_s (0: all). */
int ledger_report(struct ledger *l, const char *tenant, int64_t since_s, int64_t now_s,
                  int (*fn)(const struct ledger_tenant_use *t, void *ctx), void *ctx, char *err,
                  size_t errlen);

#endif
