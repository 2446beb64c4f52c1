/* Unit tests for the init's cgroup set-up (init/cgroup.c) over a fake cgroup2 directory, and for
 * how a job's end becomes a status (init/outcome.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init/cgroup.h"
#include "init/outcome.h"

static char base[64];

static void put(const char *rel, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *get(const char *rel)
{
    static char b[256];
    char p[256];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    size_t n = fread(b, 1, sizeof b - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* A fake hierarchy: the files the kernel would have, empty, so writes can be read back. */
static int setup(void **state)
{
    (void)state;
    snprintf(base, sizeof base, "/tmp/isovm-test-cgroup.XXXXXX");
    if (!mkdtemp(base))
        return -1;
    char p[256];
    for (const char *const *d = (const char *const[]){"init", "job", NULL}; *d; d++) {
        snprintf(p, sizeof p, "%s/%s", base, *d);
        mkdir(p, 0755);
    }
    put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put("cgroup.subtree_control", "");
    put("init/cgroup.procs", "");
    put("job/cgroup.procs", "");
    put("job/pids.max", "");
    put("job/memory.max", "");
    put("job/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_setup_writes(void **state)
{
    (void)state;
    struct job_spec s = {.max_threads = 64, .memory = 1u << 28};
    struct job_cgroup cg;
    char err[256] = "";
    assert_int_equal(cgroup_setup(base, &s, false, &cg, err, sizeof err), 0);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    assert_string_equal(get("init/cgroup.procs"), pid);
    /* two writes of one file: the fake file keeps the last, the kernel adds both */
    assert_string_equal(get("cgroup.subtree_control"), "+memory");
    assert_string_equal(get("job/pids.max"), "64");
    assert_string_equal(get("job/memory.max"), ""); /* only the test build limits memory */
    assert_true(cg.procs_fd >= 0);
    assert_true(cg.events_fd >= 0);
    assert_int_equal(cgroup_oom_kills(&cg), 0);
    put("job/memory.events", "low 0\nhigh 0\nmax 9\noom 3\noom_kill 2\noom_group_kill 0\n");
    assert_int_equal(cgroup_oom_kills(&cg), 2);
    assert_int_equal(cgroup_join(&cg), 0);
    assert_string_equal(get("job/cgroup.procs"), "0");
    close(cg.procs_fd);
    close(cg.events_fd);

    /* the test build's stand-in for the guest's RAM */
    assert_int_equal(cgroup_setup(base, &s, true, &cg, err, sizeof err), 0);
    assert_string_equal(get("job/memory.max"), "268435456");
    close(cg.procs_fd);
    close(cg.events_fd);
}

static void test_no_limit_no_pids_write(void **state)
{
    (void)state;
    struct job_spec s = {0};
    struct job_cgroup cg;
    char err[256];
    assert_int_equal(cgroup_setup(base, &s, true, &cg, err, sizeof err), 0);
    assert_string_equal(get("job/pids.max"), "");
    assert_string_equal(get("job/memory.max"), ""); /* memory 0: not given */
    close(cg.procs_fd);
    close(cg.events_fd);
}

static void test_missing_controllers(void **state)
{
    (void)state;
    put("cgroup.controllers", "cpu io\n");
    struct job_spec s = {.max_threads = 8};
    struct job_cgroup cg;
    char err[256] = "";
    assert_int_equal(cgroup_setup(base, &s, false, &cg, err, sizeof err), -ENOTSUP);
    assert_non_null(strstr(err, "max_threads 8 cannot be enforced: the guest kernel offers no pids controller"));
    assert_non_null(strstr(err, "\"cpu io\""));
    assert_int_equal(cg.procs_fd, -1);
    /* no limit asked: fine, and no OOM count without the memory controller */
    s.max_threads = 0;
    assert_int_equal(cgroup_setup(base, &s, false, &cg, err, sizeof err), 0);
    assert_int_equal(cg.events_fd, -1);
    assert_int_equal(cgroup_oom_kills(&cg), -1);
    assert_string_equal(get("cgroup.subtree_control"), "");
    close(cg.procs_fd);
    /* "pidsx" is not "pids" */
    put("cgroup.controllers", "pidsx mem\n");
    s.max_threads = 8;
    assert_int_equal(cgroup_setup(base, &s, false, &cg, err, sizeof err), -ENOTSUP);
}

static void test_errors_name_the_file(void **state)
{
    (void)state;
    struct job_spec s = {.max_threads = 8};
    struct job_cgroup cg;
    char err[256] = "", p[256];
    snprintf(p, sizeof p, "%s/job/pids.max", base);
    unlink(p);
    assert_int_equal(cgroup_setup(base, &s, false, &cg, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "cannot write \"8\" to "));
    assert_non_null(strstr(err, "/job/pids.max: No such file or directory"));
    snprintf(p, sizeof p, "%s/cgroup.controllers", base);
    unlink(p);
    assert_int_equal(cgroup_setup(base, &s, false, &cg, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "cannot read "));
    assert_int_equal(cg.procs_fd, -1);
    assert_int_equal(cg.events_fd, -1);
}

static void test_oom_kills_malformed(void **state)
{
    (void)state;
    struct job_spec s = {0};
    struct job_cgroup cg;
    char err[256];
    assert_int_equal(cgroup_setup(base, &s, false, &cg, err, sizeof err), 0);
    put("job/memory.events", "oom_kill\n");
    assert_int_equal(cgroup_oom_kills(&cg), -1);
    put("job/memory.events", "oom_killx 3\n");
    assert_int_equal(cgroup_oom_kills(&cg), -1);
    put("job/memory.events", "");
    assert_int_equal(cgroup_oom_kills(&cg), -1);
    put("job/memory.events", "oom 1\noom_kill 12345678901\n");
    assert_true(cgroup_oom_kills(&cg) == 12345678901LL);
    close(cg.procs_fd);
    close(cg.events_fd);
}

/* A real wait status from a child that does what f says. */
static int status_of(int code, int sig)
{
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        if (sig) {
            signal(sig, SIG_DFL);
            raise(sig);
        }
        _exit(code);
    }
    int ws;
    assert_int_equal(waitpid(p, &ws, 0), p);
    return ws;
}

static void test_outcome(void **state)
{
    (void)state;
    struct outcome o = outcome_of(status_of(7, 0), 0, 0);
    assert_int_equal(o.kind, ISOVM_STATUS_EXIT);
    assert_int_equal(o.detail, 7);
    o = outcome_of(status_of(0, SIGKILL), 0, 0);
    assert_int_equal(o.kind, ISOVM_STATUS_SIGNAL);
    assert_int_equal(o.detail, SIGKILL);
    o = outcome_of(status_of(0, SIGKILL), 0, 1);
    assert_int_equal(o.kind, ISOVM_STATUS_OOM);
    assert_int_equal(o.detail, 128 + SIGKILL);
    /* a process of the job was OOM-killed and the job exited with what it made of that */
    o = outcome_of(status_of(1, 0), 2, 3);
    assert_int_equal(o.kind, ISOVM_STATUS_OOM);
    assert_int_equal(o.detail, 1);
    /* counts unknown or unchanged: no OOM */
    o = outcome_of(status_of(0, SIGKILL), -1, 5);
    assert_int_equal(o.kind, ISOVM_STATUS_SIGNAL);
    o = outcome_of(status_of(0, SIGKILL), 3, -1);
    assert_int_equal(o.kind, ISOVM_STATUS_SIGNAL);
    o = outcome_of(status_of(255, 0), 3, 3);
    assert_int_equal(o.kind, ISOVM_STATUS_EXIT);
    assert_int_equal(o.detail, 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_setup_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_limit_no_pids_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_controllers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom_kills_malformed, setup, teardown),
        cmocka_unit_test(test_outcome),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
