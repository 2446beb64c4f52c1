/* A real library's job: SQLite (Debian's libsqlite3.a, unmodified, its default unix VFS) makes a database in a journal mode, writes two transactions and reads them back.
 *
 *   sqlite_job DB MODE     MODE: delete, truncate, persist, memory, wal, off
 *
 * Prints "journal=MODE rows=N sum=S" and exits 0, or "error: ..." and exits 1. Run twice on
 * one database it finds the first run's rows. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static int fail(sqlite3 *db, const char *what, const char *msg)
{
    printf("error: %s: %s\n", what, msg ? msg : sqlite3_errmsg(db));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        printf("usage: sqlite_job DB MODE\n");
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK)
        return fail(db, "open", NULL);
    char sql[256], *err = NULL;
    snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s;", argv[2]);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        return fail(db, "journal_mode", NULL);
    char mode[32];
    snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    const char *work =
        "CREATE TABLE IF NOT EXISTS t(x INTEGER, y TEXT);"
        "BEGIN; INSERT INTO t VALUES(1, 'one'); INSERT INTO t VALUES(2, 'two'); COMMIT;"
        "BEGIN IMMEDIATE; UPDATE t SET y = upper(y) WHERE x = 2; COMMIT;";
    if (sqlite3_exec(db, work, NULL, NULL, &err) != SQLITE_OK)
        return fail(db, "write", err);
    if (sqlite3_prepare_v2(db, "SELECT count(*), sum(x) FROM t", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        return fail(db, "read", NULL);
    printf("journal=%s rows=%d sum=%d\n", mode, sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
    sqlite3_finalize(st);
    if (sqlite3_close(db) != SQLITE_OK)
        return fail(db, "close", NULL);
    return 0;
}
