/* Unit tests for the tenant ledger over real SQLite files: budgets, reservations, concurrency limits across processes, checkpoints, dead-owner recovery, damaged ledgers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quota/ledger.h"

#define SEC_NS 1000000000ull
#define GIB (1ull << 30)
/* 2026-12-05 15:04:05 UTC */
#define NOW 1796483045

static char self_exe[4096];

struct fix {
    char dir[64], path[128];
    struct ledger *l;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_ledger.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    /* a folder that does not exist yet: ledger_open makes it */
    snprintf(f->path, sizeof f->path, "%s/state/isovm/ledger.db", f->dir);
    char err[256];
    if (ledger_open(f->path, &f->l, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    ledger_close(f->l);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void set(struct ledger *l, const char *tenant, const char *items)
{
    struct quota_budgets b = { 0 };
    bool lift[QUOTA_NRES] = { 0 };
    char err[256], buf[256];
    snprintf(buf, sizeof buf, "%s", items);
    for (char *save = NULL, *it = strtok_r(buf, " ", &save); it; it = strtok_r(NULL, " ", &save)) {
        if (quota_budget_apply(&b, it, err, sizeof err) < 0)
            fail_msg("%s", err);
        for (int r = 0; r < QUOTA_NRES; r++)
            if (!strncmp(it, quota_resource_name((enum quota_resource)r),
                         strlen(quota_resource_name((enum quota_resource)r))) &&
                strstr(it, "=unlimited"))
                lift[r] = true;
    }
    if (ledger_budgets_set(l, tenant, &b, lift, err, sizeof err) < 0)
        fail_msg("%s", err);
}

static struct ledger_job job(const char *id, const char *tenant)
{
    return (struct ledger_job){ .id = id, .tenant = tenant, .policy_digest = "ab", .tier = "hypercall",
                                .memory_bytes = GIB, .owner_pid = getpid(),
                                .owner_start = ledger_owner_start(getpid()) };
}

static void test_budgets_round_trip(void **state)
{
    struct fix *f = *state;
    struct quota_budgets b;
    bool known = true;
    char err[256];
    assert_int_equal(ledger_budgets_get(f->l, "acme", &b, &known, err, sizeof err), 0);
    assert_false(known);
    set(f->l, "acme", "cpu=10h/day io=200GiB/month jobs=4 memory=8GiB");
    assert_int_equal(ledger_budgets_get(f->l, "acme", &b, &known, err, sizeof err), 0);
    assert_true(known);
    assert_int_equal(b.of[QUOTA_CPU].amount, 36000 * SEC_NS);
    assert_int_equal(b.of[QUOTA_CPU].window, QUOTA_DAY);
    assert_int_equal(b.of[QUOTA_IO].window, QUOTA_MONTH);
    assert_int_equal(b.of[QUOTA_JOBS].amount, 4);
    assert_false(b.of[QUOTA_NET].set);
    /* a later set changes what it names and keeps the rest; unlimited lifts */
    set(f->l, "acme", "jobs=6 io=unlimited");
    assert_int_equal(ledger_budgets_get(f->l, "acme", &b, &known, err, sizeof err), 0);
    assert_int_equal(b.of[QUOTA_JOBS].amount, 6);
    assert_false(b.of[QUOTA_IO].set);
    assert_true(b.of[QUOTA_CPU].set);
    /* names that are not tenants */
    struct quota_budgets none = { 0 };
    bool lift[QUOTA_NRES] = { 0 };
    assert_int_equal(ledger_budgets_set(f->l, "../x", &none, lift, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "tenant '../x'"));
    assert_int_equal(ledger_budgets_get(f->l, "", &b, &known, err, sizeof err), -EINVAL);
    assert_true(ledger_tenant_valid("team-7.ci_x"));
    assert_false(ledger_tenant_valid("-x"));
    assert_false(ledger_tenant_valid("a b"));
}

/* jobs=2: a third running job is refused with the figures; an ended one frees its place. */
static void test_jobs_at_once(void **state)
{
    struct fix *f = *state;
    struct ledger_admit a;
    char err[256];
    set(f->l, "t", "jobs=2 memory=3GiB");
    struct ledger_job j1 = job("j1", "t"), j2 = job("j2", "t"), j3 = job("j3", "t");
    assert_int_equal(ledger_job_begin(f->l, &j1, NOW, &a, err, sizeof err), 0);
    assert_int_equal(ledger_job_begin(f->l, &j2, NOW, &a, err, sizeof err), 0);
    assert_int_equal(ledger_job_begin(f->l, &j3, NOW, &a, err, sizeof err), -EDQUOT);
    assert_non_null(strstr(err, "tenant t: jobs budget reached: 2 of 2 jobs running"));
    /* the same id twice */
    assert_int_equal(ledger_job_begin(f->l, &j1, NOW, &a, err, sizeof err), -EEXIST);
    struct ledger_usage u = { .cpu_ns = SEC_NS };
    assert_int_equal(ledger_job_end(f->l, "j1", &u, NOW + 5, "exit", err, sizeof err), 0);
    /* memory: one job of 1 GiB running, a 3 GiB one does not fit in 3 GiB */
    struct ledger_job big = job("big", "t");
    big.memory_bytes = 3 * GIB;
    assert_int_equal(ledger_job_begin(f->l, &big, NOW, &a, err, sizeof err), -EDQUOT);
    assert_non_null(strstr(err, "memory budget 3GiB: running jobs hold 1GiB, this job needs 3GiB"));
    assert_int_equal(ledger_job_begin(f->l, &j3, NOW, &a, err, sizeof err), 0);
    /* ending a job twice, or one never begun */
    assert_int_equal(ledger_job_end(f->l, "j1", &u, NOW + 6, "exit", err, sizeof err), -ESTALE);
    assert_int_equal(ledger_job_end(f->l, "nope", &u, NOW + 6, "exit", err, sizeof err), -ENOENT);
}

/* cpu=10s/day shared by jobs: a job with a CPU limit of its own reserves it (clamped to what
 * no job holds); a job without one reserves nothing, is limited to that rest, and is stopped at
 * a checkpoint once the tenant's use and the reservations fill the budget; a job is refused when
 * nothing is left, until the next day. */
static void test_cpu_budget_reserved_and_settled(void **state)
{
    struct fix *f = *state;
    struct ledger_admit a;
    char err[256];
    set(f->l, "t", "cpu=10s/day");
    struct ledger_job j1 = job("j1", "t");
    j1.cpu_limit_ns = 4 * SEC_NS;
    assert_int_equal(ledger_job_begin(f->l, &j1, NOW, &a, err, sizeof err), 0);
    assert_int_equal(a.cpu_limit_ns, 4 * SEC_NS);
    assert_false(a.clamped[QUOTA_CPU]);
    /* two jobs without a limit of their own: each limited to the 6 s not held, both admitted */
    struct ledger_job j2 = job("j2", "t"), j3 = job("j3", "t");
    assert_int_equal(ledger_job_begin(f->l, &j2, NOW, &a, err, sizeof err), 0);
    assert_int_equal(a.cpu_limit_ns, 6 * SEC_NS);
    assert_true(a.clamped[QUOTA_CPU]);
    assert_int_equal(ledger_job_begin(f->l, &j3, NOW, &a, err, sizeof err), 0);
    assert_int_equal(a.cpu_limit_ns, 6 * SEC_NS);
    /* one asking 7 s gets the 6 s left, and holds them */
    struct ledger_job j4 = job("j4", "t");
    j4.cpu_limit_ns = 7 * SEC_NS;
    assert_int_equal(ledger_job_begin(f->l, &j4, NOW, &a, err, sizeof err), 0);
    assert_int_equal(a.cpu_limit_ns, 6 * SEC_NS);
    assert_true(a.clamped[QUOTA_CPU]);
    /* nothing left while they run */
    struct ledger_job j5 = job("j5", "t");
    assert_int_equal(ledger_job_begin(f->l, &j5, NOW, &a, err, sizeof err), -EDQUOT);
    if (!strstr(err, "budget cpu=10s/day used up: 0.000s used this day, 10s held by running "
                     "jobs; nothing left until 2026-12-06 00:00 UTC"))
        fail_msg("%s", err);
    /* j1 ends having used 1 s: 3 s of its reservation come back */
    struct ledger_usage u1 = { .cpu_ns = SEC_NS };
    assert_int_equal(ledger_job_end(f->l, "j1", &u1, NOW + 2, "exit", err, sizeof err), 0);
    /* j2 at 2 s: 1 + 2 used, 6 held by j4: 9 of 10, still going */
    int ex = 1;
    struct ledger_usage u2 = { .cpu_ns = 2 * SEC_NS };
    assert_int_equal(ledger_job_checkpoint(f->l, "j2", &u2, NOW + 3, &ex, err, sizeof err), 0);
    assert_int_equal(ex, 0);
    /* j3 at 1 s: 4 used and 6 held fill the budget: j3 stops (and j2 at its next checkpoint) */
    struct ledger_usage u3 = { .cpu_ns = SEC_NS };
    assert_int_equal(ledger_job_checkpoint(f->l, "j3", &u3, NOW + 3, &ex, err, sizeof err), 0);
    assert_int_equal(ex, 1 + QUOTA_CPU);
    if (!strstr(err, "budget cpu=10s/day used up (4s used this day, 6s held by running jobs)"))
        fail_msg("%s", err);
    assert_int_equal(ledger_job_checkpoint(f->l, "j2", &u2, NOW + 4, &ex, err, sizeof err), 0);
    assert_int_equal(ex, 1 + QUOTA_CPU);
    assert_int_equal(ledger_job_end(f->l, "j2", &u2, NOW + 4, "quota", err, sizeof err), 0);
    assert_int_equal(ledger_job_end(f->l, "j3", &u3, NOW + 4, "quota", err, sizeof err), 0);
    /* j4, which holds its 6 s, runs on to them: then its grant is used */
    struct ledger_usage u4 = { .cpu_ns = 5 * SEC_NS };
    assert_int_equal(ledger_job_checkpoint(f->l, "j4", &u4, NOW + 5, &ex, err, sizeof err), 0);
    assert_int_equal(ex, 0);
    u4.cpu_ns = 6 * SEC_NS;
    assert_int_equal(ledger_job_checkpoint(f->l, "j4", &u4, NOW + 6, &ex, err, sizeof err), 0);
    assert_int_equal(ex, 1 + QUOTA_CPU);
    if (!strstr(err, "budget cpu=10s/day used up (10s used this day)"))
        fail_msg("%s", err);
    assert_int_equal(ledger_job_end(f->l, "j4", &u4, NOW + 6, "quota", err, sizeof err), 0);
    assert_int_equal(ledger_job_begin(f->l, &j5, NOW + 7, &a, err, sizeof err), -EDQUOT);
    /* the next day the budget is whole again */
    assert_int_equal(ledger_job_begin(f->l, &j5, NOW + 86400, &a, err, sizeof err), 0);
    assert_int_equal(a.cpu_limit_ns, 10 * SEC_NS);
}

static int count_tenant(const struct ledger_tenant_use *t, void *ctx)
{
    struct ledger_tenant_use *out = ctx;
    *out = *t;
    return 0;
}

/* A VMM killed with its job running: the next ledger user settles the job from its last
 * checkpoint and frees its reservation. */
static void test_dead_owner_settled(void **state)
{
    struct fix *f = *state;
    struct ledger_admit a;
    char err[256];
    set(f->l, "t", "cpu=10s/day jobs=1");
    /* the child is a new process image (this binary's --child mode): nothing of this process's
     * ledger connection crosses the fork, and valgrind does not follow it */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self_exe, self_exe, "--child", "dies", f->path, (char *)NULL);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(st, 0);
    /* the settlement frees the job's place and 6 of its 8 s */
    struct ledger_job j = job("next", "t");
    assert_int_equal(ledger_job_begin(f->l, &j, NOW + 2, &a, err, sizeof err), 0);
    assert_int_equal(a.cpu_limit_ns, 8 * SEC_NS);
    struct ledger_tenant_use t;
    assert_int_equal(ledger_report(f->l, "t", 0, NOW + 2, count_tenant, &t, err, sizeof err), 0);
    assert_int_equal(t.jobs_total, 2);
    assert_int_equal(t.jobs_recovered, 1);
    assert_int_equal(t.jobs_running, 1);
    assert_int_equal(t.total.cpu_ns, 2 * SEC_NS);
    assert_int_equal(t.total.read_bytes, 100);
    assert_int_equal(t.used[QUOTA_CPU], 2 * SEC_NS);
    assert_int_equal(t.used[QUOTA_JOBS], 1);
    assert_int_equal(t.used[QUOTA_MEMORY], GIB);
}

/* 20 processes begin a job at once against jobs=5: exactly 5 run, 15 are refused. */
static void test_concurrent_begins(void **state)
{
    struct fix *f = *state;
    char err[256];
    set(f->l, "busy", "jobs=5");
    int go[2], res[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(res), 0);
    pid_t kids[20];
    for (int i = 0; i < 20; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            char id[16], rfd[16], gfd[16];
            snprintf(id, sizeof id, "c%d", i);
            snprintf(rfd, sizeof rfd, "%d", res[1]);
            snprintf(gfd, sizeof gfd, "%d", go[0]);
            close(go[1]);
            execl(self_exe, self_exe, "--child", "begin", f->path, id, rfd, gfd, (char *)NULL);
            _exit(127);
        }
    }
    close(go[0]);
    close(go[1]);
    close(res[1]);
    int admitted = 0, refused = 0, errors = 0;
    for (int i = 0; i < 20; i++) {
        char c;
        assert_int_equal(read(res[0], &c, 1), 1);
        admitted += c == 'A';
        refused += c == 'R';
        errors += c == 'E';
    }
    close(res[0]);
    assert_int_equal(errors, 0);
    assert_int_equal(admitted, 5);
    assert_int_equal(refused, 15);
    struct ledger_tenant_use t;
    assert_int_equal(ledger_report(f->l, "busy", 0, NOW, count_tenant, &t, err, sizeof err), 0);
    assert_int_equal(t.jobs_running, 5);
    for (int i = 0; i < 20; i++) {
        kill(kids[i], SIGTERM);
        assert_int_equal(waitpid(kids[i], NULL, 0), kids[i]);
    }
    /* their owners gone, the next report settles all five */
    assert_int_equal(ledger_report(f->l, "busy", 0, NOW, count_tenant, &t, err, sizeof err), 0);
    assert_int_equal(t.jobs_running, 0);
    assert_int_equal(t.jobs_recovered, 5);
}

static void test_damaged_ledgers(void **state)
{
    struct fix *f = *state;
    char path[160], err[256];
    struct ledger *l = NULL;
    /* not a database */
    snprintf(path, sizeof path, "%s/junk.db", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 512; i++)
        fputs("this is not an SQLite database. ", fp);
    fclose(fp);
    assert_int_equal(ledger_open(path, &l, err, sizeof err), -EIO);
    assert_null(l);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "not a usable ledger"));
    /* a newer schema than this build's */
    snprintf(path, sizeof path, "%s/newer.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(ledger_open(path, &l, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "schema version 99 is newer"));
    /* a folder that cannot be made */
    snprintf(path, sizeof path, "%s/junk.db/sub/ledger.db", f->dir);
    assert_true(ledger_open(path, &l, err, sizeof err) < 0);
    assert_non_null(strstr(err, "cannot make its folder"));
    /* locked by another writer past the busy timeout is -EBUSY, not a hang or a crash (the
     * timeout cut from 30 s to 300 ms here) */
    ledger_set_busy_timeout(f->l, 300);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    struct quota_budgets b = { 0 };
    bool lift[QUOTA_NRES] = { 0 };
    assert_int_equal(ledger_budgets_set(f->l, "x", &b, lift, err, sizeof err), -EBUSY);
    assert_non_null(strstr(err, "locked by another process"));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(ledger_budgets_set(f->l, "x", &b, lift, err, sizeof err), 0);
    /* the ledger is intact after all of it */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_default_path(void **state)
{
    (void)state;
    char buf[256];
    setenv("ISOVM_LEDGER", "/srv/l.db", 1);
    assert_int_equal(ledger_default_path(buf, sizeof buf), 0);
    assert_string_equal(buf, "/srv/l.db");
    assert_int_equal(ledger_default_path(buf, 4), -ENAMETOOLONG);
    assert_string_equal(buf, "");
    unsetenv("ISOVM_LEDGER");
    assert_int_equal(ledger_default_path(buf, sizeof buf), 0);
    if (geteuid() == 0)
        assert_string_equal(buf, "/var/lib/isovm/ledger.db");
}

/* --child dies PATH: begin a job and checkpoint it, then end without ledger_job_end (a VMM
 * killed mid-job). --child begin PATH ID RESULT-FD GO-FD: wait for EOF on GO-FD, begin job ID,
 * write A (admitted), R (refused by a budget) or E to RESULT-FD, then stay alive as its owner. */
static int child(int argc, char **argv)
{
    struct ledger *l;
    struct ledger_admit a;
    char e[256];
    if (argc >= 4 && !strcmp(argv[2], "dies")) {
        if (ledger_open(argv[3], &l, e, sizeof e) < 0)
            return 1;
        struct ledger_job j = job("dies", "t");
        j.cpu_limit_ns = 8 * SEC_NS;
        int ex;
        struct ledger_usage u = { .cpu_ns = 2 * SEC_NS, .read_bytes = 100 };
        int rc = ledger_job_begin(l, &j, NOW, &a, e, sizeof e) < 0 ||
                 ledger_job_checkpoint(l, "dies", &u, NOW + 1, &ex, e, sizeof e) < 0;
        ledger_close(l);
        return rc ? 2 : 0;
    }
    if (argc >= 7 && !strcmp(argv[2], "begin")) {
        int rfd = atoi(argv[5]), gfd = atoi(argv[6]);
        char c = 'E';
        if (read(gfd, &c, 1) < 0) /* EOF: all start together */
            return 3;
        c = 'E';
        if (ledger_open(argv[3], &l, e, sizeof e) == 0) {
            struct ledger_job j = job(argv[4], "busy");
            int rc = ledger_job_begin(l, &j, NOW, &a, e, sizeof e);
            c = rc == 0 ? 'A' : rc == -EDQUOT ? 'R' : 'E';
            ledger_close(l);
        }
        if (write(rfd, &c, 1) != 1)
            return 4;
        pause();
        return 0;
    }
    return 2;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--child"))
        return child(argc, argv);
    if (!realpath("/proc/self/exe", self_exe))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_budgets_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_budget_reserved_and_settled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_owner_settled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_begins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_ledgers, setup, teardown),
        cmocka_unit_test(test_default_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
