/* The tenant ledger in SQLite: schema and migrations, budgets, reservations at a job's start, checkpoints, settlement and recovery of dead VMMs' jobs. */
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

struct ledger {
    sqlite3 *db;
    char path[PATH_MAX];
};

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
static int fail(struct ledger *l, int rc, const char *what, char *err, size_t errlen)
{
    int e = sql_errno(rc);
    const char *msg = l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc);
    if (e == -EBUSY)
        snprintf(err, errlen, "ledger %s: %s: locked by another process for more than %d ms (%s)",
                 l->path, what, LEDGER_BUSY_TIMEOUT_MS, msg);
    else if (e == -EIO && ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT))
        snprintf(err, errlen, "ledger %s: %s: not a usable ledger: %s (restore it from a backup, "
                 "or move it away to start a new one)", l->path, what, msg);
    else
        snprintf(err, errlen, "ledger %s: %s: %s", l->path, what, msg);
    return e;
}

static int exec(struct ledger *l, const char *sql, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail(l, rc, what, err, errlen);
}

static int prepare(struct ledger *l, sqlite3_stmt **st, const char *sql, const char *what,
                   char *err, size_t errlen)
{
    int rc = sqlite3_prepare_v2(l->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : fail(l, rc, what, err, errlen);
}

/* One row of a single-value query into *v (0 if no row or NULL). */
static int query_u64(struct ledger *l, sqlite3_stmt *st, uint64_t *v, const char *what, char *err,
                     size_t errlen)
{
    int rc = sqlite3_step(st);
    *v = 0;
    if (rc == SQLITE_ROW) {
        sqlite3_int64 x = sqlite3_column_int64(st, 0);
        *v = x > 0 ? (uint64_t)x : 0;
        rc = sqlite3_step(st);
    }
    int r = rc == SQLITE_DONE ? 0 : fail(l, rc, what, err, errlen);
    sqlite3_reset(st);
    return r;
}

/* SQLite keeps signed 64-bit integers: larger counts are stored as INT64_MAX. */
static sqlite3_int64 i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

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

static int migrate(struct ledger *l, char *err, size_t errlen)
{
    int rc = exec(l, "BEGIN IMMEDIATE", "starting the schema check", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    uint64_t version = 0;
    rc = prepare(l, &st, "PRAGMA user_version", "reading the schema version", err, errlen);
    if (rc == 0)
        rc = query_u64(l, st, &version, "reading the schema version", err, errlen);
    sqlite3_finalize(st);
    if (rc == 0 && version > LEDGER_SCHEMA_VERSION) {
        snprintf(err, errlen, "ledger %s: schema version %llu is newer than this isovm's (%d): "
                 "use a newer isovm", l->path, (unsigned long long)version, LEDGER_SCHEMA_VERSION);
        rc = -EPROTO;
    }
    for (; rc == 0 && version < LEDGER_SCHEMA_VERSION; version++) {
        char sql[64];
        rc = exec(l, migrations[version], "creating the schema", err, errlen);
        snprintf(sql, sizeof sql, "PRAGMA user_version = %llu", (unsigned long long)version + 1);
        if (rc == 0)
            rc = exec(l, sql, "recording the schema version", err, errlen);
    }
    if (rc == 0)
        return exec(l, "COMMIT", "committing the schema", err, errlen);
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
        rc = fail(l, src, "cannot open", err, errlen);
        ledger_close(l);
        return rc;
    }
    sqlite3_busy_timeout(l->db, LEDGER_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(l->db, 1);
    /* journal_mode answers with a row: sqlite3_exec discards it */
    rc = exec(l, "PRAGMA journal_mode = WAL", "switching to WAL", err, errlen);
    if (rc == 0)
        rc = exec(l, "PRAGMA foreign_keys = ON", "enabling foreign keys", err, errlen);
    if (rc == 0)
        rc = migrate(l, err, errlen);
    if (rc < 0) {
        ledger_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ledger_close(struct ledger *l)
{
    if (!l)
        return;
    if (l->db)
        sqlite3_close_v2(l->db);
    free(l);
}

/* ---- budgets ---- */

static int ensure_tenant(struct ledger *l, const char *tenant, int64_t now_s, char *err,
                         size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(l, &st, "INSERT OR IGNORE INTO tenants(name, created_s) VALUES (?1, ?2)",
                     "adding the tenant", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_s);
    int src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0 : fail(l, src, "adding the tenant", err, errlen);
}

static int check_tenant(const char *tenant, char *err, size_t errlen)
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
    int rc = check_tenant(tenant, err, errlen);
    if (rc < 0)
        return rc;
    rc = exec(l, "BEGIN IMMEDIATE", "setting budgets", err, errlen);
    if (rc < 0)
        return rc;
    rc = ensure_tenant(l, tenant, (int64_t)time(NULL), err, errlen);
    sqlite3_stmt *put = NULL, *del = NULL;
    if (rc == 0)
        rc = prepare(l, &put, "INSERT OR REPLACE INTO budgets(tenant, resource, amount, win) "
                     "VALUES (?1, ?2, ?3, ?4)", "setting budgets", err, errlen);
    if (rc == 0)
        rc = prepare(l, &del, "DELETE FROM budgets WHERE tenant = ?1 AND resource = ?2",
                     "lifting budgets", err, errlen);
    for (int r = 0; rc == 0 && r < QUOTA_NRES; r++) {
        sqlite3_stmt *st = b->of[r].set ? put : lift[r] ? del : NULL;
        if (!st)
            continue;
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, quota_resource_name((enum quota_resource)r), -1, SQLITE_STATIC);
        if (st == put) {
            sqlite3_bind_int64(st, 3, i64(b->of[r].amount));
            sqlite3_bind_text(st, 4, quota_window_name(b->of[r].window), -1, SQLITE_STATIC);
        }
        int src = sqlite3_step(st);
        sqlite3_reset(st);
        if (src != SQLITE_DONE)
            rc = fail(l, src, "setting budgets", err, errlen);
    }
    sqlite3_finalize(put);
    sqlite3_finalize(del);
    if (rc == 0)
        return exec(l, "COMMIT", "setting budgets", err, errlen);
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int load_budgets(struct ledger *l, const char *tenant, struct quota_budgets *b, bool *known,
                        char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    sqlite3_stmt *st = NULL;
    uint64_t n = 0;
    int rc = prepare(l, &st, "SELECT count(*) FROM tenants WHERE name = ?1", "reading budgets", err,
                     errlen);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        rc = query_u64(l, st, &n, "reading budgets", err, errlen);
    }
    sqlite3_finalize(st);
    if (known)
        *known = n > 0;
    if (rc < 0 || n == 0)
        return rc;
    rc = prepare(l, &st, "SELECT resource, amount, win FROM budgets WHERE tenant = ?1",
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
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0 : fail(l, src, "reading budgets", err, errlen);
}

int ledger_budgets_get(struct ledger *l, const char *tenant, struct quota_budgets *b, bool *known,
                       char *err, size_t errlen)
{
    int rc = check_tenant(tenant, err, errlen);
    if (rc < 0)
        return rc;
    return load_budgets(l, tenant, b, known, err, errlen);
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
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return 0;
    }
    return strtoull(p + 1, NULL, 10);
}

/* Settle dead owners' jobs inside the caller's transaction. */
static int settle_dead_locked(struct ledger *l, char *err, size_t errlen)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int rc = prepare(l, &sel, "SELECT id, owner_pid, owner_start FROM jobs WHERE state = 'running'",
                     "looking for dead VMMs", err, errlen);
    if (rc == 0)
        rc = prepare(l, &upd, "UPDATE jobs SET state = 'recovered', end_s = checkpoint_s, "
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
            rc = fail(l, u, "settling a dead VMM's job", err, errlen);
        else
            settled++;
    }
    if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = fail(l, src, "looking for dead VMMs", err, errlen);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return rc < 0 ? rc : settled;
}

int ledger_settle_dead(struct ledger *l, char *err, size_t errlen)
{
    int rc = exec(l, "BEGIN IMMEDIATE", "settling dead VMMs' jobs", err, errlen);
    if (rc < 0)
        return rc;
    int n = settle_dead_locked(l, err, errlen);
    if (n >= 0 && (rc = exec(l, "COMMIT", "settling dead VMMs' jobs", err, errlen)) == 0)
        return n;
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return n < 0 ? n : rc;
}

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
static int window_use(struct ledger *l, const char *tenant, int r, int64_t window_start,
                      uint64_t *used, uint64_t *held, char *err, size_t errlen)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT sum(u.%s) FROM usage u JOIN jobs j ON j.id = u.job_id "
             "WHERE j.tenant = ?1 AND u.at_s >= ?2", usage_column[r]);
    int rc = prepare(l, &st, sql, "adding up usage", err, errlen);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, window_start);
        rc = query_u64(l, st, used, "adding up usage", err, errlen);
    }
    sqlite3_finalize(st);
    if (rc < 0 || !held)
        return rc;
    snprintf(sql, sizeof sql, "SELECT sum(max(0, %s - (%s))) FROM jobs WHERE tenant = ?1 AND "
             "state = 'running'", reserved_column[r], total_expr[r]);
    rc = prepare(l, &st, sql, "adding up reservations", err, errlen);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        rc = query_u64(l, st, held, "adding up reservations", err, errlen);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Running jobs of the tenant and the sum of their guest RAM. */
static int held_now(struct ledger *l, const char *tenant, uint64_t *jobs, uint64_t *memory,
                    char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(l, &st, "SELECT count(*), sum(memory_bytes) FROM jobs WHERE tenant = ?1 AND "
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
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0 : fail(l, src, "counting running jobs", err, errlen);
}

/* A resource amount in the budget's units, for messages. */
static void amount_text(int r, uint64_t v, char *buf, size_t len)
{
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
    int rc = settle_dead_locked(l, err, errlen);
    if (rc >= 0)
        rc = ensure_tenant(l, j->tenant, now_s, err, errlen);
    struct quota_budgets b;
    if (rc >= 0)
        rc = load_budgets(l, j->tenant, &b, NULL, err, errlen);
    if (rc < 0)
        return rc;
    /* a duplicate id is an error whatever the budgets say */
    sqlite3_stmt *dup = NULL;
    uint64_t seen = 0;
    rc = prepare(l, &dup, "SELECT count(*) FROM jobs WHERE id = ?1", "looking up the job id", err,
                 errlen);
    if (rc == 0) {
        sqlite3_bind_text(dup, 1, j->id, -1, SQLITE_STATIC);
        rc = query_u64(l, dup, &seen, "looking up the job id", err, errlen);
    }
    sqlite3_finalize(dup);
    if (rc < 0)
        return rc;
    if (seen) {
        snprintf(err, errlen, "ledger %s: a job with the id '%s' is already recorded", l->path,
                 j->id);
        return -EEXIST;
    }
    uint64_t jobs, memory;
    rc = held_now(l, j->tenant, &jobs, &memory, err, errlen);
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
        amount_text(QUOTA_MEMORY, b.of[QUOTA_MEMORY].amount, x, sizeof x);
        amount_text(QUOTA_MEMORY, memory, y, sizeof y);
        amount_text(QUOTA_MEMORY, j->memory_bytes, z, sizeof z);
        snprintf(err, errlen, "tenant %s: memory budget %s: running jobs hold %s, this job needs %s",
                 j->tenant, x, y, z);
        return -EDQUOT;
    }
    const uint64_t own[QUOTA_NRES] = { j->cpu_limit_ns, j->io_limit_bytes, j->net_limit_bytes };
    uint64_t grant[QUOTA_NRES] = { j->cpu_limit_ns, j->io_limit_bytes, j->net_limit_bytes };
    for (int r = QUOTA_CPU; r <= QUOTA_NET; r++) {
        const struct quota_budget *bd = &b.of[r];
        if (!bd->set)
            continue;
        uint64_t used, held;
        int64_t start = quota_window_start(bd->window, now_s);
        rc = window_use(l, j->tenant, r, start, &used, &held, err, errlen);
        if (rc < 0)
            return rc;
        uint64_t taken = used + held < used ? UINT64_MAX : used + held;
        uint64_t left = bd->amount > taken ? bd->amount - taken : 0;
        if (left == 0) {
            char budget[64], when[40];
            quota_budget_format((enum quota_resource)r, bd, budget, sizeof budget);
            amount_text(r, used, x, sizeof x);
            amount_text(r, held, y, sizeof y);
            window_text(bd->window, quota_window_end(bd->window, now_s), when, sizeof when);
            snprintf(err, errlen, "tenant %s: budget %s used up: %s used this %s, %s held by "
                     "running jobs; nothing left until %s", j->tenant, budget, x,
                     quota_window_name(bd->window), y, when);
            return -EDQUOT;
        }
        if (!own[r] || own[r] > left) {
            grant[r] = left;
            a->clamped[r] = true;
        }
    }
    a->cpu_limit_ns = grant[QUOTA_CPU];
    a->io_limit_bytes = grant[QUOTA_IO];
    a->net_limit_bytes = grant[QUOTA_NET];
    sqlite3_stmt *st = NULL;
    rc = prepare(l, &st,
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
    sqlite3_bind_int64(st, 6, i64(j->owner_start));
    sqlite3_bind_int64(st, 7, now_s);
    /* an unbudgeted resource reserves nothing: it cannot run out */
    sqlite3_bind_int64(st, 8, b.of[QUOTA_CPU].set ? i64(grant[QUOTA_CPU]) : 0);
    sqlite3_bind_int64(st, 9, b.of[QUOTA_IO].set ? i64(grant[QUOTA_IO]) : 0);
    sqlite3_bind_int64(st, 10, b.of[QUOTA_NET].set ? i64(grant[QUOTA_NET]) : 0);
    sqlite3_bind_int64(st, 11, i64(j->memory_bytes));
    int src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src == SQLITE_DONE)
        return 0;
    if ((src & 0xff) == SQLITE_CONSTRAINT) {
        snprintf(err, errlen, "ledger %s: a job with the id '%s' is already recorded", l->path,
                 j->id);
        return -EEXIST;
    }
    return fail(l, src, "recording the job", err, errlen);
}

int ledger_job_begin(struct ledger *l, const struct ledger_job *j, int64_t now_s,
                     struct ledger_admit *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (errlen)
        err[0] = '\0';
    int rc = check_tenant(j->tenant, err, errlen);
    if (rc < 0)
        return rc;
    if (!j->id || !*j->id || strlen(j->id) > LEDGER_JOB_ID_MAX) {
        snprintf(err, errlen, "job id '%.40s': empty or longer than %d", j->id ? j->id : "",
                 LEDGER_JOB_ID_MAX);
        return -EINVAL;
    }
    rc = exec(l, "BEGIN IMMEDIATE", "reserving the job's budget", err, errlen);
    if (rc < 0)
        return rc;
    rc = begin_locked(l, j, now_s, a, err, errlen);
    if (rc == 0)
        rc = exec(l, "COMMIT", "reserving the job's budget", err, errlen);
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
    int rc = prepare(l, &st, "SELECT cpu_ns, read_bytes + write_bytes, net_rx_bytes + net_tx_bytes, "
                     "state FROM jobs WHERE id = ?1", "reading the job", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (src == SQLITE_DONE) {
            snprintf(err, errlen, "ledger %s: no job '%s'", l->path, id);
            return -ENOENT;
        }
        return fail(l, src, "reading the job", err, errlen);
    }
    uint64_t before[3];
    for (int i = 0; i < 3; i++) {
        sqlite3_int64 v = sqlite3_column_int64(st, i);
        before[i] = v > 0 ? (uint64_t)v : 0;
    }
    const char *state = (const char *)sqlite3_column_text(st, 3);
    bool running = state && !strcmp(state, "running");
    sqlite3_finalize(st);
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
        rc = prepare(l, &st, "INSERT INTO usage(job_id, at_s, cpu_ns, io_bytes, net_bytes) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)", "recording usage", err, errlen);
        if (rc < 0)
            return rc;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_s);
        for (int i = 0; i < 3; i++)
            sqlite3_bind_int64(st, 3 + i, i64(add[i]));
        src = sqlite3_step(st);
        sqlite3_finalize(st);
        if (src != SQLITE_DONE)
            return fail(l, src, "recording usage", err, errlen);
    }
    rc = prepare(l, &st,
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
        sqlite3_bind_int64(st, 3 + i, i64(v[i]));
    if (exit_reason)
        sqlite3_bind_text(st, 13, exit_reason, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 13);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0 : fail(l, src, "recording usage", err, errlen);
}

/* Is a windowed budget of the job's tenant used up, or the job's own reservation? */
static int exhausted_locked(struct ledger *l, const char *id, int64_t now_s, bool *exhausted,
                            char *why, size_t whylen)
{
    *exhausted = false;
    sqlite3_stmt *st = NULL;
    int rc = prepare(l, &st, "SELECT tenant, reserved_cpu_ns, reserved_io_bytes, reserved_net_bytes, "
                     "cpu_ns, read_bytes + write_bytes, net_rx_bytes + net_tx_bytes FROM jobs "
                     "WHERE id = ?1", "reading the job", why, whylen);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        sqlite3_finalize(st);
        return fail(l, src == SQLITE_DONE ? SQLITE_ERROR : src, "reading the job", why, whylen);
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
    sqlite3_finalize(st);
    struct quota_budgets b;
    rc = load_budgets(l, tenant, &b, NULL, why, whylen);
    for (int r = QUOTA_CPU; rc == 0 && r <= QUOTA_NET; r++) {
        if (!b.of[r].set)
            continue;
        uint64_t used;
        rc = window_use(l, tenant, r, quota_window_start(b.of[r].window, now_s), &used, NULL, why,
                        whylen);
        if (rc < 0)
            break;
        char budget[64], x[64];
        quota_budget_format((enum quota_resource)r, &b.of[r], budget, sizeof budget);
        if (used >= b.of[r].amount) {
            amount_text(r, used, x, sizeof x);
            snprintf(why, whylen, "tenant %s: budget %s used up (%s used this %s)", tenant, budget,
                     x, quota_window_name(b.of[r].window));
            *exhausted = true;
            break;
        }
        if (total[r] >= reserved[r]) {
            amount_text(r, reserved[r], x, sizeof x);
            snprintf(why, whylen, "tenant %s: budget %s: this job used the %s it was granted",
                     tenant, budget, x);
            *exhausted = true;
            break;
        }
    }
    return rc;
}

int ledger_job_checkpoint(struct ledger *l, const char *id, const struct ledger_usage *u,
                          int64_t now_s, bool *exhausted, char *why, size_t whylen)
{
    *exhausted = false;
    if (whylen)
        why[0] = '\0';
    int rc = exec(l, "BEGIN IMMEDIATE", "checkpointing the job's usage", why, whylen);
    if (rc < 0)
        return rc;
    rc = record_usage(l, id, u, now_s, NULL, why, whylen);
    if (rc == 0)
        rc = exhausted_locked(l, id, now_s, exhausted, why, whylen);
    if (rc == 0) {
        char cerr[256];
        rc = exec(l, "COMMIT", "checkpointing the job's usage", cerr, sizeof cerr);
        if (rc < 0)
            snprintf(why, whylen, "%s", cerr);
    }
    if (rc < 0) {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        *exhausted = false;
    }
    return rc;
}

int ledger_job_end(struct ledger *l, const char *id, const struct ledger_usage *u, int64_t now_s,
                   const char *exit_reason, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    int rc = exec(l, "BEGIN IMMEDIATE", "recording the job's end", err, errlen);
    if (rc < 0)
        return rc;
    rc = record_usage(l, id, u, now_s, exit_reason ? exit_reason : "unknown", err, errlen);
    if (rc == 0)
        rc = exec(l, "COMMIT", "recording the job's end", err, errlen);
    if (rc < 0)
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- reports ---- */

static int tenant_use(struct ledger *l, const char *tenant, int64_t since_s, int64_t now_s,
                      struct ledger_tenant_use *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    snprintf(t->tenant, sizeof t->tenant, "%s", tenant);
    int rc = load_budgets(l, tenant, &t->budgets, NULL, err, errlen);
    if (rc < 0)
        return rc;
    for (int r = QUOTA_CPU; r <= QUOTA_NET; r++) {
        const struct quota_budget *b = &t->budgets.of[r];
        int64_t start = b->set ? quota_window_start(b->window, now_s) : since_s;
        rc = window_use(l, tenant, r, start, &t->used[r], NULL, err, errlen);
        if (rc < 0)
            return rc;
    }
    rc = held_now(l, tenant, &t->used[QUOTA_JOBS], &t->used[QUOTA_MEMORY], err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = prepare(l, &st, "SELECT count(*), sum(state = 'running'), sum(state = 'recovered'), "
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
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0 : fail(l, src, "adding up jobs", err, errlen);
}

int ledger_report(struct ledger *l, const char *tenant, int64_t since_s, int64_t now_s,
                  int (*fn)(const struct ledger_tenant_use *t, void *ctx), void *ctx, char *err,
                  size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (tenant) {
        int rc = check_tenant(tenant, err, errlen);
        if (rc < 0)
            return rc;
    }
    int rc = ledger_settle_dead(l, err, errlen);
    if (rc < 0)
        return rc;
    /* one read transaction: every figure from the same moment */
    rc = exec(l, "BEGIN", "reading the ledger", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = prepare(l, &st, "SELECT name FROM tenants WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
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
            rc = fail(l, src, "listing tenants", err, errlen);
    }
    sqlite3_finalize(st);
    sqlite3_exec(l->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
