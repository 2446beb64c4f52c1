/* The tenant ledger's file: its path, schema and migrations, opening and closing, tenants and their budgets, VMM owners' start times and the settling of dead VMMs' jobs. */
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

/* ---- paths and names ---- */

int ledger_default_path(char *buf, size_t len)
{
    const char *env = getenv("ISOVM_LEDGER");
    int n;
    if (len)
        buf[0] = '\0';
    if (env && *env) {
        n = snprintf(buf, len, "%s", env);
    } else if (geteuid() == 0) {
        n = snprintf(buf, len, "/var/lib/isovm/ledger.db");
    } else {
        const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        if (state && *state == '/')
            n = snprintf(buf, len, "%s/isovm/ledger.db", state);
        else if (home && *home)
            n = snprintf(buf, len, "%s/.local/state/isovm/ledger.db", home);
        else
            return -ENOENT;
    }
    if (n < 0 || (size_t)n >= len) {
        if (len)
            buf[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

bool ledger_tenant_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > LEDGER_TENANT_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
            return false;
    return true;
}

/* mkdir -p of path's folder (0755 for new ones). */
static int make_parent(const char *path)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return -ENAMETOOLONG;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        struct stat sb;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -errno;
        if (stat(dir, &sb) < 0)
            return -errno;
        if (!S_ISDIR(sb.st_mode))
            return -ENOTDIR;
        if (!c)
            return 0;
        *p = c;
    }
}

/* ---- schema ---- */

static const char SCHEMA_V1[] =
    "CREATE TABLE tenants ("
    "  name TEXT PRIMARY KEY,"
    "  created_s INTEGER NOT NULL);"
    "CREATE TABLE budgets ("
    "  tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,"
    "  resource TEXT NOT NULL CHECK (resource IN ('cpu','io','net','jobs','memory')),"
    "  amount INTEGER NOT NULL CHECK (amount >= 0),"
    "  win TEXT NOT NULL CHECK (win IN ('','hour','day','week','month')),"
    "  PRIMARY KEY (tenant, resource));"
    "CREATE TABLE jobs ("
    "  id TEXT PRIMARY KEY,"
    "  tenant TEXT NOT NULL REFERENCES tenants(name),"
    "  policy_digest TEXT NOT NULL,"
    "  tier TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('running','ended','recovered')),"
    "  owner_pid INTEGER NOT NULL,"
    "  owner_start INTEGER NOT NULL,"
    "  start_s INTEGER NOT NULL,"
    "  checkpoint_s INTEGER NOT NULL,"
    "  end_s INTEGER,"
    "  exit_reason TEXT,"
    "  reserved_cpu_ns INTEGER NOT NULL DEFAULT 0,"
    "  reserved_io_bytes INTEGER NOT NULL DEFAULT 0,"
    "  reserved_net_bytes INTEGER NOT NULL DEFAULT 0,"
    "  memory_bytes INTEGER NOT NULL DEFAULT 0,"
    "  cpu_ns INTEGER NOT NULL DEFAULT 0,"
    "  wall_ns INTEGER NOT NULL DEFAULT 0,"
    "  memory_peak_bytes INTEGER NOT NULL DEFAULT 0,"
    "  read_bytes INTEGER NOT NULL DEFAULT 0,"
    "  read_ops INTEGER NOT NULL DEFAULT 0,"
    "  write_bytes INTEGER NOT NULL DEFAULT 0,"
    "  write_ops INTEGER NOT NULL DEFAULT 0,"
    "  net_rx_bytes INTEGER NOT NULL DEFAULT 0,"
    "  net_tx_bytes INTEGER NOT NULL DEFAULT 0,"
    "  hypercalls INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX jobs_by_tenant ON jobs(tenant, state);"
    /* what each checkpoint added, when: the windowed budgets' arithmetic */
    "CREATE TABLE usage ("
    "  job_id TEXT NOT NULL REFERENCES jobs(id),"
    "  at_s INTEGER NOT NULL,"
    "  cpu_ns INTEGER NOT NULL,"
    "  io_bytes INTEGER NOT NULL,"
    "  net_bytes INTEGER NOT NULL);"
    "CREATE INDEX usage_by_job ON usage(job_id, at_s);"
    "CREATE INDEX usage_by_time ON usage(at_s);";

/* Each migration takes schema N to N + 1; migrations[0] makes version 1 from nothing. */
static const char *const migrations[LEDGER_SCHEMA_VERSION] = { SCHEMA_V1 };

static int schema_version(struct ledger *l, uint64_t *version, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    *version = 0;
    int rc = ledger_prepare(l, &st, "PRAGMA user_version", "reading the schema version", err,
                            errlen);
    if (rc == 0)
        rc = ledger_query_u64(l, st, version, "reading the schema version", err, errlen);
    ledger_finish(l, st);
    return rc;
}

static int migrate(struct ledger *l, char *err, size_t errlen)
{
    /* a ledger at this schema (every open but the first) needs no write lock: a read in WAL
     * mode waits for no writer, so many launches at once do not queue here */
    uint64_t version = 0;
    int rc = schema_version(l, &version, err, errlen);
    if (rc == 0 && version == LEDGER_SCHEMA_VERSION)
        return 0;
    /* a new ledger: WAL, which the file keeps (journal_mode answers with a row: sqlite3_exec
     * discards it) */
    if (rc == 0 && version == 0 &&
        (rc = ledger_exec(l, "PRAGMA journal_mode = WAL", "switching to WAL", err, errlen)) < 0)
        return rc;
    rc = ledger_exec(l, "BEGIN IMMEDIATE", "starting the schema check", err, errlen);
    if (rc < 0)
        return rc;
    rc = schema_version(l, &version, err, errlen);
    if (rc == 0 && version > LEDGER_SCHEMA_VERSION) {
        snprintf(err, errlen, "ledger %s: schema version %llu is newer than this isovm's (%d): "
                 "use a newer isovm", l->path, (unsigned long long)version, LEDGER_SCHEMA_VERSION);
        rc = -EPROTO;
    }
    for (; rc == 0 && version < LEDGER_SCHEMA_VERSION; version++) {
        char sql[64];
        rc = ledger_exec(l, migrations[version], "creating the schema", err, errlen);
        snprintf(sql, sizeof sql, "PRAGMA user_version = %llu", (unsigned long long)version + 1);
        if (rc == 0)
            rc = ledger_exec(l, sql, "recording the schema version", err, errlen);
    }
    if (rc == 0)
        return ledger_exec(l, "COMMIT", "committing the schema", err, errlen);
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int ledger_open(const char *path, struct ledger **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen)
        err[0] = '\0';
    struct ledger *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    if (!path || !*path || snprintf(l->path, sizeof l->path, "%s", path) >= (int)sizeof l->path) {
        snprintf(err, errlen, "ledger path '%.64s': empty or too long", path ? path : "");
        free(l);
        return -ENAMETOOLONG;
    }
    int rc = make_parent(path);
    if (rc < 0) {
        snprintf(err, errlen, "ledger %s: cannot make its folder: %s", path, strerror(-rc));
        free(l);
        return rc;
    }
    int src = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                              SQLITE_OPEN_FULLMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = ledger_fail(l, src, "cannot open", err, errlen);
        ledger_close(l);
        return rc;
    }
    ledger_set_busy_timeout(l, LEDGER_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(l->db, 1);
    rc = 0;
    /* in WAL mode, NORMAL syncs at checkpoints, not at every commit: a commit survives the
     * death of any process (kill -9 of a VMM or keeper), and the file stays consistent through
     * a power loss, which may lose the last commits (docs/quota.md) */
    if (rc == 0)
        rc = ledger_exec(l, "PRAGMA synchronous = NORMAL", "setting synchronous", err, errlen);
    if (rc == 0)
        rc = ledger_exec(l, "PRAGMA foreign_keys = ON", "enabling foreign keys", err, errlen);
    if (rc == 0)
        rc = migrate(l, err, errlen);
    if (rc < 0) {
        ledger_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

/* SQLite's own busy handler sleeps 1, 2, 5 ... up to 100 ms between tries: a writer that finds
 * the ledger locked for a moment then loses far more than the moment. This one tries again
 * every 0.5-2 ms (jittered, so waiters do not wake together) until the busy timeout. */
static int busy_wait(void *ctx, int tries)
{
    struct ledger *l = ctx;
    uint64_t t = mono_ns();
    if (tries == 0) {
        l->busy_since_ns = t;
        l->busy_seed ^= t;
    }
    if (t - l->busy_since_ns >= (uint64_t)l->busy_ms * 1000000ull)
        return 0;
    l->busy_seed = l->busy_seed * 6364136223846793005ull + 1442695040888963407ull;
    struct timespec d = { 0, (long)(500000 + (l->busy_seed >> 33) % 1500000) };
    nanosleep(&d, NULL);
    return 1;
}

void ledger_cache_statements(struct ledger *l)
{
    l->cache_statements = true;
}

void ledger_set_busy_timeout(struct ledger *l, int ms)
{
    l->busy_ms = ms;
    l->busy_seed ^= (uint64_t)getpid() << 32;
    sqlite3_busy_handler(l->db, busy_wait, l);
}

void ledger_close(struct ledger *l)
{
    if (!l)
        return;
    ledger_stmts_free(l);
    if (l->db)
        sqlite3_close_v2(l->db);
    free(l);
}

/* ---- budgets ---- */

int ledger_ensure_tenant(struct ledger *l, const char *tenant, int64_t now_s, char *err,
                         size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = ledger_prepare(l, &st, "INSERT OR IGNORE INTO tenants(name, created_s) VALUES (?1, ?2)",
                     "adding the tenant", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_s);
    int src = sqlite3_step(st);
    ledger_finish(l, st);
    return src == SQLITE_DONE ? 0 : ledger_fail(l, src, "adding the tenant", err, errlen);
}

int ledger_check_tenant(const char *tenant, char *err, size_t errlen)
{
    if (ledger_tenant_valid(tenant))
        return 0;
    snprintf(err, errlen, "tenant '%.80s': 1 to %d of A-Z a-z 0-9 . _ -, not starting with . or -",
             tenant ? tenant : "", LEDGER_TENANT_MAX);
    return -EINVAL;
}

int ledger_budgets_set(struct ledger *l, const char *tenant, const struct quota_budgets *b,
                       const bool lift[QUOTA_NRES], char *err, size_t errlen)
{
    int rc = ledger_check_tenant(tenant, err, errlen);
    if (rc < 0)
        return rc;
    rc = ledger_exec(l, "BEGIN IMMEDIATE", "setting budgets", err, errlen);
    if (rc < 0)
        return rc;
    rc = ledger_ensure_tenant(l, tenant, (int64_t)time(NULL), err, errlen);
    sqlite3_stmt *put = NULL, *del = NULL;
    if (rc == 0)
        rc = ledger_prepare(l, &put, "INSERT OR REPLACE INTO budgets(tenant, resource, amount, win) "
                     "VALUES (?1, ?2, ?3, ?4)", "setting budgets", err, errlen);
    if (rc == 0)
        rc = ledger_prepare(l, &del, "DELETE FROM budgets WHERE tenant = ?1 AND resource = ?2",
                     "lifting budgets", err, errlen);
    for (int r = 0; rc == 0 && r < QUOTA_NRES; r++) {
        sqlite3_stmt *st = b->of[r].set ? put : lift[r] ? del : NULL;
        if (!st)
            continue;
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, quota_resource_name((enum quota_resource)r), -1, SQLITE_STATIC);
        if (st == put) {
            sqlite3_bind_int64(st, 3, ledger_i64(b->of[r].amount));
            sqlite3_bind_text(st, 4, quota_window_name(b->of[r].window), -1, SQLITE_STATIC);
        }
        int src = sqlite3_step(st);
        sqlite3_reset(st);
        if (src != SQLITE_DONE)
            rc = ledger_fail(l, src, "setting budgets", err, errlen);
    }
    ledger_finish(l, put);
    ledger_finish(l, del);
    if (rc == 0)
        return ledger_exec(l, "COMMIT", "setting budgets", err, errlen);
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int ledger_load_budgets(struct ledger *l, const char *tenant, struct quota_budgets *b, bool *known,
                        char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    uint64_t n = 0;
    int rc = ledger_query_u64_text(l, "SELECT count(*) FROM tenants WHERE name = ?1", tenant, &n,
                                   "reading budgets", err, errlen);
    if (known)
        *known = n > 0;
    if (rc < 0 || n == 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = ledger_prepare(l, &st, "SELECT resource, amount, win FROM budgets WHERE tenant = ?1",
                 "reading budgets", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        const char *win = (const char *)sqlite3_column_text(st, 2);
        for (int r = 0; r < QUOTA_NRES; r++) {
            if (!res || strcmp(res, quota_resource_name((enum quota_resource)r)))
                continue;
            b->of[r].set = true;
            sqlite3_int64 a = sqlite3_column_int64(st, 1);
            b->of[r].amount = a > 0 ? (uint64_t)a : 0;
            for (int w = QUOTA_AT_ONCE; w <= QUOTA_MONTH; w++)
                if (win && !strcmp(win, quota_window_name((enum quota_window)w)))
                    b->of[r].window = (enum quota_window)w;
        }
    }
    ledger_finish(l, st);
    return src == SQLITE_DONE ? 0 : ledger_fail(l, src, "reading budgets", err, errlen);
}

int ledger_budgets_get(struct ledger *l, const char *tenant, struct quota_budgets *b, bool *known,
                       char *err, size_t errlen)
{
    int rc = ledger_check_tenant(tenant, err, errlen);
    if (rc < 0)
        return rc;
    return ledger_load_budgets(l, tenant, b, known, err, errlen);
}

/* ---- owners ---- */

uint64_t ledger_owner_start(int pid)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* "pid (comm) state ...": the fields after the last ')', starttime is field 22 */
    char *p = strrchr(buf, ')');
    if (!p || !p[1] || !p[2])
        return 0;
    p++;
    if (p[1] == 'Z' || p[1] == 'X') /* exited, not yet reaped by its parent: dead all the same */
        return 0;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return 0;
    }
    return strtoull(p + 1, NULL, 10);
}

/* Settle dead owners' jobs inside the caller's transaction. */
int ledger_settle_dead_locked(struct ledger *l, char *err, size_t errlen)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int rc = ledger_prepare(l, &sel, "SELECT id, owner_pid, owner_start FROM jobs WHERE state = 'running'",
                     "looking for dead VMMs", err, errlen);
    if (rc == 0)
        rc = ledger_prepare(l, &upd, "UPDATE jobs SET state = 'recovered', end_s = checkpoint_s, "
                     "exit_reason = 'vmm-died' WHERE id = ?1 AND state = 'running'",
                     "settling a dead VMM's job", err, errlen);
    int settled = 0, src = SQLITE_DONE;
    while (rc == 0 && (src = sqlite3_step(sel)) == SQLITE_ROW) {
        int pid = sqlite3_column_int(sel, 1);
        uint64_t start = (uint64_t)sqlite3_column_int64(sel, 2);
        if (ledger_owner_start(pid) == start && start != 0)
            continue;
        sqlite3_bind_text(upd, 1, (const char *)sqlite3_column_text(sel, 0), -1, SQLITE_TRANSIENT);
        int u = sqlite3_step(upd);
        sqlite3_reset(upd);
        if (u != SQLITE_DONE)
            rc = ledger_fail(l, u, "settling a dead VMM's job", err, errlen);
        else
            settled++;
    }
    if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = ledger_fail(l, src, "looking for dead VMMs", err, errlen);
    ledger_finish(l, sel);
    ledger_finish(l, upd);
    return rc < 0 ? rc : settled;
}

int ledger_job_abandon(struct ledger *l, const char *id, const char *reason, char *err,
                       size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = ledger_prepare(l, &st, "UPDATE jobs SET state = 'recovered', end_s = checkpoint_s, "
                            "exit_reason = ?2 WHERE id = ?1 AND state = 'running'",
                            "settling the job from its last checkpoint", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    ledger_finish(l, st);
    return src == SQLITE_DONE ? 0
                              : ledger_fail(l, src, "settling the job from its last checkpoint",
                                            err, errlen);
}

int ledger_settle_dead(struct ledger *l, char *err, size_t errlen)
{
    int rc = ledger_exec(l, "BEGIN IMMEDIATE", "settling dead VMMs' jobs", err, errlen);
    if (rc < 0)
        return rc;
    int n = ledger_settle_dead_locked(l, err, errlen);
    if (n >= 0 && (rc = ledger_exec(l, "COMMIT", "settling dead VMMs' jobs", err, errlen)) == 0)
        return n;
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return n < 0 ? n : rc;
}

