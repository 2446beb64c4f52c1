/* The ledger's SQLite plumbing: errors as negative errno with the file and SQLite's message, statements, one-value queries. */
#include "quota/ledger_sql.h"
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

/* ---- errors ---- */

/* A negative errno for an SQLite result code. */
static int sql_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return -EIO;
    case SQLITE_CANTOPEN: return errno == EACCES ? -EACCES : -ENOENT;
    case SQLITE_PERM:
    case SQLITE_AUTH: return -EACCES;
    case SQLITE_READONLY: return -EROFS;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_CONSTRAINT: return -EEXIST;
    case SQLITE_NOMEM: return -ENOMEM;
    default: return -EIO;
    }
}

/* Fill err with "ledger PATH: WHAT: SQLite's message" and return the errno for rc. */
int ledger_fail(struct ledger *l, int rc, const char *what, char *err, size_t errlen)
{
    int e = sql_errno(rc);
    const char *msg = l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc);
    if (e == -EBUSY)
        snprintf(err, errlen, "ledger %s: %s: locked by another process for more than %d ms (%s)",
                 l->path, what, l->busy_ms, msg);
    else if (e == -EIO && ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT))
        snprintf(err, errlen, "ledger %s: %s: not a usable ledger: %s (restore it from a backup, "
                 "or move it away to start a new one)", l->path, what, msg);
    else
        snprintf(err, errlen, "ledger %s: %s: %s", l->path, what, msg);
    return e;
}

int ledger_exec(struct ledger *l, const char *sql, const char *what, char *err, size_t errlen)
{
    if (!l->cache_statements || strchr(sql, ';')) { /* several statements: SQLite's own loop */
        int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : ledger_fail(l, rc, what, err, errlen);
    }
    sqlite3_stmt *st; /* BEGIN IMMEDIATE, COMMIT: kept prepared as the rest */
    int rc = ledger_prepare(l, &st, sql, what, err, errlen);
    if (rc < 0)
        return rc;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        ;
    ledger_finish(l, st);
    return src == SQLITE_DONE ? 0 : ledger_fail(l, src, what, err, errlen);
}

int ledger_prepare(struct ledger *l, sqlite3_stmt **st, const char *sql, const char *what,
                   char *err, size_t errlen)
{
    for (int i = 0; i < l->ncached; i++) {
        struct ledger_stmt *c = &l->cached[i];
        if (!c->in_use && !strcmp(c->sql, sql)) {
            c->in_use = true;
            *st = c->st;
            return 0;
        }
    }
    bool keep = l->cache_statements && l->ncached < LEDGER_STMT_CACHE;
    int rc = sqlite3_prepare_v3(l->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, st, NULL);
    if (rc != SQLITE_OK)
        return ledger_fail(l, rc, what, err, errlen);
    char *copy = keep ? strdup(sql) : NULL;
    if (copy)
        l->cached[l->ncached++] = (struct ledger_stmt){ .sql = copy, .st = *st, .in_use = true };
    return 0;
}

void ledger_finish(struct ledger *l, sqlite3_stmt *st)
{
    if (!st)
        return;
    for (int i = 0; i < l->ncached; i++)
        if (l->cached[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            l->cached[i].in_use = false;
            return;
        }
    sqlite3_finalize(st);
}

void ledger_stmts_free(struct ledger *l)
{
    for (int i = 0; i < l->ncached; i++) {
        sqlite3_finalize(l->cached[i].st);
        free(l->cached[i].sql);
    }
    l->ncached = 0;
}

/* One row of a single-value query into *v (0 if no row or NULL). */
int ledger_query_u64(struct ledger *l, sqlite3_stmt *st, uint64_t *v, const char *what, char *err,
                     size_t errlen)
{
    int rc = sqlite3_step(st);
    *v = 0;
    if (rc == SQLITE_ROW) {
        sqlite3_int64 x = sqlite3_column_int64(st, 0);
        *v = x > 0 ? (uint64_t)x : 0;
        rc = sqlite3_step(st);
    }
    int r = rc == SQLITE_DONE ? 0 : ledger_fail(l, rc, what, err, errlen);
    sqlite3_reset(st);
    return r;
}



int ledger_query_u64_text(struct ledger *l, const char *sql, const char *text, uint64_t *v,
                          const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    *v = 0;
    int rc = ledger_prepare(l, &st, sql, what, err, errlen);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        rc = ledger_query_u64(l, st, v, what, err, errlen);
    }
    ledger_finish(l, st);
    return rc;
}
