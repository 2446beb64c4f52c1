/* Unit tests for the ledger keeper over real SQLite files: admission and clamps, refusals, checkpoints and the quota verdict, settlement, a VMM that dies or breaks the protocol, a keeper that is killed, a damaged ledger. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "quota/keeper.h"
#include "quota/ledger.h"

#define SEC_NS 1000000000ull
#define GIB (1ull << 30)

struct fix {
    char dir[64], path[128];
    pid_t service;              /* a keeper service the case started (killed at teardown) */
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_keeper.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    if (f->service > 0 && kill(f->service, SIGKILL) == 0) /* a case that failed midway */
        waitpid(f->service, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void set(const char *path, const char *tenant, const char *items)
{
    struct ledger *l;
    struct quota_budgets b = { 0 };
    bool lift[QUOTA_NRES] = { 0 };
    char err[256], buf[256];
    assert_int_equal(ledger_open(path, &l, err, sizeof err), 0);
    snprintf(buf, sizeof buf, "%s", items);
    for (char *save = NULL, *it = strtok_r(buf, " ", &save); it; it = strtok_r(NULL, " ", &save))
        if (quota_budget_apply(&b, it, err, sizeof err) < 0)
            fail_msg("%s", err);
    if (ledger_budgets_set(l, tenant, &b, lift, err, sizeof err) < 0)
        fail_msg("%s", err);
    ledger_close(l);
}

static struct ledger_job job(const char *id, const char *tenant, uint64_t cpu_limit)
{
    return (struct ledger_job){ .id = id, .tenant = tenant, .policy_digest = "ab",
                                .tier = "hypercall", .cpu_limit_ns = cpu_limit,
                                .memory_bytes = GIB };
}

/* One column of the job's row, as text ("" when missing). */
static void job_col(const char *path, const char *id, const char *col, char *out, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char sql[256];
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "SELECT %s FROM jobs WHERE id = ?1", col);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int keeper_exit(pid_t pid)
{
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* A verdict within a few seconds: 1 + the exhausted resource, or 0. */
static int verdict_wait(int fd, char *why, size_t len)
{
    bool warned = false;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 5000), 1);
    return keeper_verdicts_take(fd, &warned, why, len);
}

/* A job without a CPU limit is granted the budget's rest (clamped); checkpoints go in; its end
 * settles it with its reason and usage; the keeper exits 0. */
static void test_admit_checkpoint_end(void **state)
{
    struct fix *f = *state;
    set(f->path, "acme", "cpu=10s/day jobs=2");
    struct ledger_job j = job("j1", "acme", 0);
    char err[512], col[64];
    int fd;
    pid_t pid = keeper_spawn(f->path, &j, &fd, err, sizeof err);
    assert_true(pid > 0);
    struct ledger_admit a;
    assert_int_equal(keeper_admit_wait(fd, &a, err, sizeof err), 0);
    assert_true(a.clamped[QUOTA_CPU]);
    assert_int_equal(a.cpu_limit_ns, 10 * SEC_NS);
    assert_false(a.clamped[QUOTA_IO]);
    job_col(f->path, "j1", "state", col, sizeof col);
    assert_string_equal(col, "running");
    job_col(f->path, "j1", "owner_pid", col, sizeof col);
    assert_int_equal(atoi(col), pid); /* the keeper owns the record */
    struct ledger_usage u = { .cpu_ns = 3 * SEC_NS, .wall_ns = 4 * SEC_NS, .read_bytes = 100,
                              .hypercalls = 7 };
    assert_int_equal(keeper_checkpoint_send(fd, &u), 0);
    assert_int_equal(verdict_wait(fd, err, sizeof err), 0);
    job_col(f->path, "j1", "cpu_ns", col, sizeof col);
    assert_string_equal(col, "3000000000");
    /* a usage that goes down is not believed: the ledger keeps the larger figure */
    struct ledger_usage less = u;
    less.cpu_ns = SEC_NS;
    assert_int_equal(keeper_checkpoint_send(fd, &less), 0);
    assert_int_equal(verdict_wait(fd, err, sizeof err), 0);
    job_col(f->path, "j1", "cpu_ns", col, sizeof col);
    assert_string_equal(col, "3000000000");
    u.cpu_ns = 4 * SEC_NS;
    assert_int_equal(keeper_end(fd, &u, "exit", err, sizeof err), 0);
    close(fd);
    assert_int_equal(keeper_exit(pid), 0);
    job_col(f->path, "j1", "state", col, sizeof col);
    assert_string_equal(col, "ended");
    job_col(f->path, "j1", "exit_reason", col, sizeof col);
    assert_string_equal(col, "exit");
    job_col(f->path, "j1", "cpu_ns", col, sizeof col);
    assert_string_equal(col, "4000000000");
    job_col(f->path, "j1", "hypercalls", col, sizeof col);
    assert_string_equal(col, "7");
}

/* Refusals: at the jobs budget, and with the CPU budget used up; the message names the budget
 * and the figures, and the keeper exits without recording a job. */
static void test_refusals(void **state)
{
    struct fix *f = *state;
    set(f->path, "t", "cpu=2s/day jobs=1");
    struct ledger_job j1 = job("a", "t", SEC_NS), j2 = job("b", "t", SEC_NS);
    char err[512], col[64];
    int fd1, fd2;
    pid_t p1 = keeper_spawn(f->path, &j1, &fd1, err, sizeof err);
    struct ledger_admit a;
    assert_int_equal(keeper_admit_wait(fd1, &a, err, sizeof err), 0);
    assert_false(a.clamped[QUOTA_CPU]); /* 1 s of its own fits in 2 s */
    assert_int_equal(a.cpu_limit_ns, SEC_NS);
    pid_t p2 = keeper_spawn(f->path, &j2, &fd2, err, sizeof err);
    assert_int_equal(keeper_admit_wait(fd2, &a, err, sizeof err), -EDQUOT);
    assert_non_null(strstr(err, "tenant t: jobs budget reached: 1 of 1 jobs running"));
    close(fd2);
    assert_int_equal(keeper_exit(p2), 1);
    job_col(f->path, "b", "state", col, sizeof col);
    assert_string_equal(col, "");
    struct ledger_usage u = { .cpu_ns = 2 * SEC_NS };
    assert_int_equal(keeper_end(fd1, &u, "exit", err, sizeof err), 0);
    close(fd1);
    assert_int_equal(keeper_exit(p1), 0);
    /* 2 s used of cpu=2s/day: nothing left */
    struct ledger_job j3 = job("c", "t", 0);
    int fd3;
    pid_t p3 = keeper_spawn(f->path, &j3, &fd3, err, sizeof err);
    assert_int_equal(keeper_admit_wait(fd3, &a, err, sizeof err), -EDQUOT);
    if (!strstr(err, "tenant t: budget cpu=2s/day used up: 2s used this day"))
        fail_msg("%s", err);
    close(fd3);
    assert_int_equal(keeper_exit(p3), 1);
}

/* A checkpoint past the budget gets the verdict to stop, naming the CPU budget. */
static void test_verdict_exhausted(void **state)
{
    struct fix *f = *state;
    set(f->path, "t", "cpu=2s/hour");
    struct ledger_job j = job("j", "t", 0);
    char err[512], why[512];
    int fd;
    pid_t pid = keeper_spawn(f->path, &j, &fd, err, sizeof err);
    struct ledger_admit a;
    assert_int_equal(keeper_admit_wait(fd, &a, err, sizeof err), 0);
    struct ledger_usage u = { .cpu_ns = SEC_NS };
    assert_int_equal(keeper_checkpoint_send(fd, &u), 0);
    assert_int_equal(verdict_wait(fd, why, sizeof why), 0);
    u.cpu_ns = 2 * SEC_NS + 1;
    assert_int_equal(keeper_checkpoint_send(fd, &u), 0);
    assert_int_equal(verdict_wait(fd, why, sizeof why), 1 + QUOTA_CPU);
    assert_non_null(strstr(why, "tenant t: budget cpu=2s/hour used up"));
    assert_int_equal(keeper_end(fd, &u, "quota", err, sizeof err), 0);
    close(fd);
    assert_int_equal(keeper_exit(pid), 0);
    char col[64];
    job_col(f->path, "j", "exit_reason", col, sizeof col);
    assert_string_equal(col, "quota");
}

/* The VMM dies (its socket closes) after a checkpoint: the keeper settles the job from that
 * checkpoint at once, state recovered, "vmm-died". */
static void test_vmm_dies(void **state)
{
    struct fix *f = *state;
    set(f->path, "t", "jobs=3");
    struct ledger_job j = job("j", "t", 0);
    char err[512], col[64];
    int fd;
    pid_t pid = keeper_spawn(f->path, &j, &fd, err, sizeof err);
    struct ledger_admit a;
    assert_int_equal(keeper_admit_wait(fd, &a, err, sizeof err), 0);
    struct ledger_usage u = { .cpu_ns = 5 * SEC_NS, .write_bytes = 4096 };
    assert_int_equal(keeper_checkpoint_send(fd, &u), 0);
    assert_int_equal(verdict_wait(fd, err, sizeof err), 0);
    close(fd);
    assert_int_equal(keeper_exit(pid), 0);
    job_col(f->path, "j", "state", col, sizeof col);
    assert_string_equal(col, "recovered");
    job_col(f->path, "j", "exit_reason", col, sizeof col);
    assert_string_equal(col, "vmm-died");
    job_col(f->path, "j", "cpu_ns", col, sizeof col);
    assert_string_equal(col, "5000000000");
    job_col(f->path, "j", "write_bytes", col, sizeof col);
    assert_string_equal(col, "4096");
}

/* A VMM that breaks the protocol (a forged type, a short message) is cut off: its job settled
 * as "protocol-error" from its last good checkpoint; the keeper exits 1. */
static void test_protocol_violation(void **state)
{
    struct fix *f = *state;
    for (int k = 0; k < 3; k++) { /* a forged type, a short message, a forged exit reason */
        char id[16], err[512], col[64];
        snprintf(id, sizeof id, "bad-%d", k);
        struct ledger_job j = job(id, "t", 0);
        int fd;
        pid_t pid = keeper_spawn(f->path, &j, &fd, err, sizeof err);
        struct ledger_admit a;
        assert_int_equal(keeper_admit_wait(fd, &a, err, sizeof err), 0);
        struct keeper_msg m = { .magic = KEEPER_MAGIC, .type = KEEPER_ADMIT };
        m.usage.cpu_ns = 99 * SEC_NS;
        size_t n = sizeof m;
        if (k == 1)
            n = 10;
        if (k == 2) {
            m.type = KEEPER_END;
            memcpy(m.reason, "EXIT;drop", 9);
        }
        assert_int_equal(send(fd, &m, n, 0), (ssize_t)n);
        assert_int_equal(keeper_exit(pid), 1);
        close(fd);
        job_col(f->path, id, "exit_reason", col, sizeof col);
        assert_string_equal(col, "protocol-error");
        job_col(f->path, id, "cpu_ns", col, sizeof col);
        assert_string_equal(col, "0"); /* nothing of the forged message was recorded */
    }
}

/* A keeper killed with SIGKILL leaves its job running in the ledger; the next ledger user
 * settles it from its last checkpoint (the owner pid is dead). */
static void test_keeper_killed(void **state)
{
    struct fix *f = *state;
    struct ledger_job j = job("k", "t", 0);
    char err[512], col[64];
    int fd;
    pid_t pid = keeper_spawn(f->path, &j, &fd, err, sizeof err);
    struct ledger_admit a;
    assert_int_equal(keeper_admit_wait(fd, &a, err, sizeof err), 0);
    struct ledger_usage u = { .cpu_ns = 2 * SEC_NS };
    assert_int_equal(keeper_checkpoint_send(fd, &u), 0);
    assert_int_equal(verdict_wait(fd, err, sizeof err), 0);
    kill(pid, SIGKILL);
    assert_int_equal(keeper_exit(pid), 128 + SIGKILL);
    job_col(f->path, "k", "state", col, sizeof col);
    assert_string_equal(col, "running");
    /* the VMM's side sees the keeper gone */
    assert_int_equal(keeper_end(fd, &u, "exit", err, sizeof err) < 0, 1);
    close(fd);
    struct ledger *l;
    assert_int_equal(ledger_open(f->path, &l, err, sizeof err), 0);
    assert_int_equal(ledger_settle_dead(l, err, sizeof err), 1);
    ledger_close(l);
    job_col(f->path, "k", "state", col, sizeof col);
    assert_string_equal(col, "recovered");
    job_col(f->path, "k", "cpu_ns", col, sizeof col);
    assert_string_equal(col, "2000000000");
}

/* A ledger that is not a database: the keeper's ADMIT carries the error naming the file. */
static void test_damaged_ledger(void **state)
{
    struct fix *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 512; i++)
        fputs("not a database ", fp);
    fclose(fp);
    struct ledger_job j = job("x", "t", 0);
    char err[512];
    int fd;
    pid_t pid = keeper_spawn(f->path, &j, &fd, err, sizeof err);
    struct ledger_admit a;
    assert_int_equal(keeper_admit_wait(fd, &a, err, sizeof err), -EIO);
    assert_non_null(strstr(err, f->path));
    close(fd);
    assert_int_equal(keeper_exit(pid), 1);
}

/* The keeper service: a child process serving the case's ledger at DIR/k.sock. */
static pid_t service_start(struct fix *f, char *sock, size_t len)
{
    snprintf(sock, len, "%s/k.sock", f->dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(keeper_service_run(f->path, sock));
    f->service = pid;
    for (int i = 0; i < 500 && access(sock, F_OK) != 0; i++)
        usleep(10000);
    assert_int_equal(access(sock, F_OK), 0);
    return pid;
}

/* Jobs through the keeper service: admitted and refused as by a keeper of their own, owned by
 * the service's pid; one ends, one's VMM goes away (settled from its checkpoint), a forged BEGIN
 * and a message before BEGIN are cut off without a job; SIGTERM waits for the running job, then
 * the service exits 0 and removes its socket; a second service on a live socket is refused. */
static void test_service(void **state)
{
    struct fix *f = *state;
    set(f->path, "t", "jobs=2 cpu=100s/day");
    char sock[100], err[512], col[64];
    pid_t svc = service_start(f, sock, sizeof sock);
    struct ledger_job j1 = job("s1", "t", 0), j2 = job("s2", "t", 3 * SEC_NS), j3 = job("s3", "t", 0);
    j1.policy_digest = j2.policy_digest = j3.policy_digest = "";
    int fd1, fd2, fd3;
    struct ledger_admit a;
    assert_int_equal(keeper_service_connect(sock, &j1, &fd1, err, sizeof err), 0);
    assert_int_equal(keeper_admit_wait(fd1, &a, err, sizeof err), 0);
    assert_int_equal(a.cpu_limit_ns, 100 * SEC_NS);
    assert_int_equal(keeper_service_connect(sock, &j2, &fd2, err, sizeof err), 0);
    assert_int_equal(keeper_admit_wait(fd2, &a, err, sizeof err), 0);
    assert_int_equal(a.cpu_limit_ns, 3 * SEC_NS);
    job_col(f->path, "s1", "owner_pid", col, sizeof col);
    assert_int_equal(atoi(col), svc);
    assert_int_equal(keeper_service_connect(sock, &j3, &fd3, err, sizeof err), 0);
    assert_int_equal(keeper_admit_wait(fd3, &a, err, sizeof err), -EDQUOT);
    assert_non_null(strstr(err, "jobs budget reached: 2 of 2"));
    close(fd3);
    /* s2 checkpoints, then its VMM goes away */
    struct ledger_usage u = { .cpu_ns = 2 * SEC_NS };
    assert_int_equal(keeper_checkpoint_send(fd2, &u), 0);
    assert_int_equal(verdict_wait(fd2, err, sizeof err), 0);
    close(fd2);
    /* a forged BEGIN, and a checkpoint before any BEGIN: the connection is closed, no job */
    int bad = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    assert_int_equal(connect(bad, (struct sockaddr *)&sa, sizeof sa), 0);
    struct keeper_msg m = { .magic = KEEPER_MAGIC, .type = KEEPER_BEGIN };
    snprintf(m.job.id, sizeof m.job.id, "forged");
    snprintf(m.job.tenant, sizeof m.job.tenant, "../t");
    snprintf(m.job.tier, sizeof m.job.tier, "linux");
    assert_int_equal(send(bad, &m, sizeof m, 0), (ssize_t)sizeof m);
    char buf[sizeof m];
    assert_int_equal(recv(bad, buf, sizeof buf, 0), 0); /* closed, nothing sent */
    close(bad);
    bad = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(bad, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(keeper_checkpoint_send(bad, &u), 0);
    assert_int_equal(recv(bad, buf, sizeof buf, 0), 0);
    close(bad);
    job_col(f->path, "forged", "state", col, sizeof col);
    assert_string_equal(col, "");
    /* a second service is refused while this one listens */
    pid_t again = fork();
    if (again == 0)
        _exit(keeper_service_run(f->path, sock));
    assert_int_equal(keeper_exit(again), 1);
    /* SIGTERM: s1 is still served to its end */
    kill(svc, SIGTERM);
    usleep(100000);
    assert_int_equal(access(sock, F_OK), 0);
    u.cpu_ns = 5 * SEC_NS;
    assert_int_equal(keeper_end(fd1, &u, "exit", err, sizeof err), 0);
    close(fd1);
    assert_int_equal(keeper_exit(svc), 0);
    f->service = 0;
    assert_int_equal(access(sock, F_OK), -1);
    job_col(f->path, "s1", "state", col, sizeof col);
    assert_string_equal(col, "ended");
    job_col(f->path, "s2", "exit_reason", col, sizeof col);
    assert_string_equal(col, "vmm-died");
    job_col(f->path, "s2", "cpu_ns", col, sizeof col);
    assert_string_equal(col, "2000000000");
}

/* The socket file appears only once the service listens: a launch that finds the file can
 * connect (under load a connect between bind and listen was refused; seen under valgrind). No
 * one else may use the file, no temporary name is left beside it; a rerun over a stale file serves. */
static void test_service_socket_ready(void **state)
{
    struct fix *f = *state;
    char sock[100];
    snprintf(sock, sizeof sock, "%s/k.sock", f->dir);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    memcpy(a.sun_path, sock, strlen(sock) + 1);
    for (int round = 0; round < 20; round++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
            _exit(keeper_service_run(f->path, sock));
        f->service = pid;
        int spins = 0;
        while (access(sock, F_OK) != 0 && spins++ < 20000000)
            ; /* no sleep: as close behind the file's appearance as this process gets */
        int c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_true(c >= 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
            fail_msg("round %d: the socket file was there, connect: %s", round, strerror(errno));
        close(c);
        struct stat st;
        assert_int_equal(stat(sock, &st), 0);
        assert_int_equal(st.st_mode & 077, 0); /* the service user's only */
        char tmp[128];
        snprintf(tmp, sizeof tmp, "%s.%d", sock, (int)pid);
        assert_int_equal(access(tmp, F_OK), -1);
        kill(pid, SIGKILL); /* the file stays behind, stale */
        assert_int_equal(keeper_exit(pid), 128 + SIGKILL);
        f->service = 0;
        if (round < 19)
            assert_int_equal(unlink(sock), 0);
    }
    /* over the stale file: replaced, and served */
    pid_t pid = fork();
    if (pid == 0)
        _exit(keeper_service_run(f->path, sock));
    f->service = pid;
    int c = -1;
    for (int i = 0; i < 500; i++) {
        c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) == 0)
            break;
        close(c);
        c = -1;
        usleep(10000);
    }
    assert_true(c >= 0);
    close(c);
    kill(pid, SIGTERM);
    assert_int_equal(keeper_exit(pid), 0);
    f->service = 0;
    assert_int_equal(access(sock, F_OK), -1);
}

/* The service killed with SIGKILL while a job runs: the next ledger user settles the job. */
static void test_service_killed(void **state)
{
    struct fix *f = *state;
    char sock[100], err[512], col[64];
    pid_t svc = service_start(f, sock, sizeof sock);
    struct ledger_job j = job("k1", "t", 0);
    j.policy_digest = "";
    int fd;
    assert_int_equal(keeper_service_connect(sock, &j, &fd, err, sizeof err), 0);
    struct ledger_admit a;
    assert_int_equal(keeper_admit_wait(fd, &a, err, sizeof err), 0);
    kill(svc, SIGKILL);
    assert_int_equal(keeper_exit(svc), 128 + SIGKILL);
    f->service = 0;
    struct ledger *l;
    assert_int_equal(ledger_open(f->path, &l, err, sizeof err), 0);
    assert_int_equal(ledger_settle_dead(l, err, sizeof err), 1);
    ledger_close(l);
    job_col(f->path, "k1", "state", col, sizeof col);
    assert_string_equal(col, "recovered");
    close(fd);
    /* no service at the path: a clear error */
    assert_true(keeper_service_connect(sock, &j, &fd, err, sizeof err) < 0);
    assert_non_null(strstr(err, "cannot reach the keeper service"));
}

/* A keeper that does not answer: the wait for the reservation ends at its deadline (-ETIME)
 * or when the stop descriptor becomes readable (-ECANCELED), not at the 35 s reply timeout. */
static void test_admit_wait_ends(void **state)
{
    (void)state;
    int sv[2], stop[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(pipe(stop), 0);
    struct ledger_admit a;
    char err[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t now = (uint64_t)t0.tv_sec * SEC_NS + (uint64_t)t0.tv_nsec;
    assert_int_equal(keeper_admit_wait_until(sv[0], &a, stop[0], now + 100000000ull, err,
                                             sizeof err), -ETIME);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 99 && ms < 1000);
    assert_int_equal(write(stop[1], "x", 1), 1);
    assert_int_equal(keeper_admit_wait_until(sv[0], &a, stop[0], 0, err, sizeof err),
                     -ECANCELED);
    close(sv[0]);
    close(sv[1]);
    close(stop[0]);
    close(stop[1]);
}

/* The wire check, case by case (the fuzz harness covers the rest). */
static void test_msg_check(void **state)
{
    (void)state;
    struct keeper_msg m = { .magic = KEEPER_MAGIC, .type = KEEPER_CHECKPOINT }, out;
    char err[256];
    snprintf(m.text, sizeof m.text, "ignored");
    assert_int_equal(keeper_msg_from_vmm(&m, sizeof m, &out, err, sizeof err), 0);
    assert_int_equal(out.text[0], 0);
    assert_int_equal(keeper_msg_from_vmm(&m, sizeof m - 1, &out, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "bytes"));
    m.type = KEEPER_END;
    assert_int_equal(keeper_msg_from_vmm(&m, sizeof m, &out, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "without an exit reason"));
    snprintf(m.reason, sizeof m.reason, "cpu-limit");
    assert_int_equal(keeper_msg_from_vmm(&m, sizeof m, &out, err, sizeof err), 0);
    assert_string_equal(out.reason, "cpu-limit");
    snprintf(m.reason, sizeof m.reason, "a'b");
    assert_int_equal(keeper_msg_from_vmm(&m, sizeof m, &out, err, sizeof err), -EPROTO);
    memset(m.reason, 'a', sizeof m.reason);
    assert_int_equal(keeper_msg_from_vmm(&m, sizeof m, &out, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "NUL"));
    m.type = KEEPER_SETTLED;
    assert_int_equal(keeper_msg_from_vmm(&m, sizeof m, &out, err, sizeof err), -EPROTO);
    /* BEGIN: every text checked */
    struct keeper_msg b = { .magic = KEEPER_MAGIC, .type = KEEPER_BEGIN };
    snprintf(b.job.id, sizeof b.job.id, "isovm-1-ab");
    snprintf(b.job.tenant, sizeof b.job.tenant, "acme");
    snprintf(b.job.tier, sizeof b.job.tier, "hypercall");
    assert_int_equal(keeper_msg_from_vmm(&b, sizeof b, &out, err, sizeof err), 0);
    assert_string_equal(out.job.tenant, "acme");
    snprintf(b.job.digest, sizeof b.job.digest, "abc");
    assert_int_equal(keeper_msg_from_vmm(&b, sizeof b, &out, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "64"));
    memset(b.job.digest, 'f', 64);
    b.job.digest[64] = 0;
    assert_int_equal(keeper_msg_from_vmm(&b, sizeof b, &out, err, sizeof err), 0);
    snprintf(b.job.tenant, sizeof b.job.tenant, "-x");
    assert_int_equal(keeper_msg_from_vmm(&b, sizeof b, &out, err, sizeof err), -EPROTO);
    snprintf(b.job.tenant, sizeof b.job.tenant, "acme");
    snprintf(b.job.id, sizeof b.job.id, "a/b");
    assert_int_equal(keeper_msg_from_vmm(&b, sizeof b, &out, err, sizeof err), -EPROTO);
    snprintf(b.job.id, sizeof b.job.id, "ok");
    snprintf(b.job.tier, sizeof b.job.tier, "other");
    assert_int_equal(keeper_msg_from_vmm(&b, sizeof b, &out, err, sizeof err), -EPROTO);
    memset(b.job.tier, 'x', sizeof b.job.tier);
    assert_int_equal(keeper_msg_from_vmm(&b, sizeof b, &out, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "NUL"));
    m.type = KEEPER_CHECKPOINT;
    m.magic = 0;
    assert_int_equal(keeper_msg_from_vmm(&m, sizeof m, &out, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "magic"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_admit_checkpoint_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmm_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keeper_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_socket_ready, setup, teardown),
        cmocka_unit_test(test_admit_wait_ends),
        cmocka_unit_test(test_msg_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
