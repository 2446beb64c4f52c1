/* The ledger's internals shared by quota/ledger*.c: the handle, SQLite plumbing and the budget arithmetic's queries; not for use outside quota/. */
#ifndef ISOVM_QUOTA_LEDGER_SQL_H
#define ISOVM_QUOTA_LEDGER_SQL_H
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "quota/ledger.h"

/* Statements prepared once and kept for the connection's life (a keeper service runs the same
 * few statements for every job). */
#define LEDGER_STMT_CACHE 48
struct ledger_stmt {
    char *sql;
    sqlite3_stmt *st;
    bool in_use;
};

struct ledger {
    sqlite3 *db;
    struct ledger_stmt cached[LEDGER_STMT_CACHE];
    int ncached;
    bool cache_statements;  /* ledger_cache_statements */
    int busy_ms;            /* the busy timeout in force */
    uint64_t busy_since_ns; /* when the current wait for a lock began */
    uint64_t busy_seed;     /* the busy handler's jitter */
    char path[PATH_MAX];
};

/* Fill err with "ledger PATH: WHAT: SQLite's message" and return the negative errno for the
 * SQLite result rc (-EBUSY locked, -EIO not a database or corrupt, -EEXIST a constraint, ...). */
int ledger_fail(struct ledger *l, int rc, const char *what, char *err, size_t errlen);
/* sqlite3_exec / a prepared statement, failures through ledger_fail. ledger_prepare takes a
 * cached statement of the same text when one is free (or prepares and caches it); every
 * statement it gives is handed back with ledger_finish (reset and kept, or finalized), never
 * sqlite3_finalize. ledger_stmts_free: all of them, before the connection closes. */
int ledger_exec(struct ledger *l, const char *sql, const char *what, char *err, size_t errlen);
int ledger_prepare(struct ledger *l, sqlite3_stmt **st, const char *sql, const char *what,
                   char *err, size_t errlen);
void ledger_finish(struct ledger *l, sqlite3_stmt *st);
void ledger_stmts_free(struct ledger *l);
/* The single value of a one-row query into *v (0 for no row, NULL or a negative); resets st. */
int ledger_query_u64(struct ledger *l, sqlite3_stmt *st, uint64_t *v, const char *what,
                     char *err, size_t errlen);
/* The same for a whole query whose one parameter ?1 is text. */
int ledger_query_u64_text(struct ledger *l, const char *sql, const char *text, uint64_t *v,
                          const char *what, char *err, size_t errlen);

/* SQLite keeps signed 64-bit integers: larger counts are stored as INT64_MAX. */
static inline sqlite3_int64 ledger_i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

/* ledger.c: tenants and budgets, dead owners (inside the caller's transaction) */
int ledger_check_tenant(const char *tenant, char *err, size_t errlen);
int ledger_ensure_tenant(struct ledger *l, const char *tenant, int64_t now_s, char *err,
                         size_t errlen);
int ledger_load_budgets(struct ledger *l, const char *tenant, struct quota_budgets *b,
                        bool *known, char *err, size_t errlen);
/* Settle the jobs of dead VMMs; returns how many, or a negative errno. */
int ledger_settle_dead_locked(struct ledger *l, char *err, size_t errlen);

/* ledger_jobs.c: the tenant's checkpointed use of windowed resource r since window_start and
 * (held not NULL) what its running jobs still hold of their reservations; its running jobs and
 * their guest RAM; an amount in the budget's units, for messages. */
int ledger_window_use(struct ledger *l, const char *tenant, int r, int64_t window_start,
                      uint64_t *used, uint64_t *held, char *err, size_t errlen);
int ledger_held_now(struct ledger *l, const char *tenant, uint64_t *jobs, uint64_t *memory,
                    char *err, size_t errlen);
void ledger_amount_text(int r, uint64_t v, char *buf, size_t len);

#endif
