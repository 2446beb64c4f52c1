/* Unit tests for the init's program lookup (init/exec_path.c): the job's PATH, names with '/',
 * 126 and 127 as a shell has them, a file without #! run by /bin/sh; each in a child process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init/exec_path.h"

static char dir[64];

static void file(const char *rel, const char *text, mode_t mode)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(p, mode), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/isovm-test-exec.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char p[256];
    snprintf(p, sizeof p, "%s/a", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/b", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/b/sub", dir);
    mkdir(p, 0755);
    file("a/plain", "exit 1\n", 0644);             /* found first, not executable */
    file("b/plain", "#!/bin/sh\nexit 9\n", 0755);  /* then this one runs */
    file("b/seven", "#!/bin/sh\nexit 7\n", 0755);
    file("b/noshebang", "exit $(( 40 + $# ))\n", 0755);
    file("a/denied", "#!/bin/sh\nexit 0\n", 0644);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs exec_job in a child (in dir, with PATH=path, or no PATH when path is NULL); returns the
 * child's exit status: the program's, or exec_job's when nothing ran, with *err the errno
 * exec_job gave (carried back through a pipe; 0 when the program ran). */
static int run(const char *const argv[], const char *path, int *err)
{
    char pathvar[512];
    snprintf(pathvar, sizeof pathvar, "PATH=%s", path ? path : "");
    char *envp[] = {path ? pathvar : (char *)"X=1", NULL};
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (chdir(dir))
            _exit(99);
        int e = 0, st = exec_job((char *const *)argv, envp, &e);
        if (write(p[1], &e, sizeof e) != sizeof e)
            _exit(98);
        _exit(st);
    }
    close(p[1]);
    int e = 0;
    *err = read(p[0], &e, sizeof e) == sizeof e ? e : 0;
    close(p[0]);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    return WEXITSTATUS(ws);
}

static void test_path_search(void **state)
{
    (void)state;
    char path[256];
    int err;
    snprintf(path, sizeof path, "%s/a:%s/b", dir, dir);
    assert_int_equal(run((const char *[]){"seven", NULL}, path, &err), 7);
    assert_int_equal(err, 0); /* it ran */
    /* a/plain is found first but cannot run: the search goes on to b/plain, as a shell's does */
    assert_int_equal(run((const char *[]){"plain", NULL}, path, &err), 9);
    /* only a non-executable one: 126 */
    assert_int_equal(run((const char *[]){"denied", NULL}, path, &err), 126);
    assert_int_equal(err, EACCES);
    /* nowhere: 127 */
    assert_int_equal(run((const char *[]){"nosuch", NULL}, path, &err), 127);
    assert_int_equal(err, ENOENT);
    /* a directory of the name is not a program */
    assert_int_equal(run((const char *[]){"sub", NULL}, path, &err), 126);
}

static void test_empty_entry_is_cwd(void **state)
{
    (void)state;
    int err;
    /* the test runs in dir: "" and ":" entries mean the working directory */
    assert_int_equal(run((const char *[]){"seven", NULL}, "/nonexistent:", &err), 127);
    assert_int_equal(run((const char *[]){"b/seven", NULL}, "/nonexistent", &err), 7);
    char cwd_b[256];
    snprintf(cwd_b, sizeof cwd_b, "/nonexistent::%s/b", dir);
    assert_int_equal(run((const char *[]){"seven", NULL}, cwd_b, &err), 7);
}

static void test_slash_names(void **state)
{
    (void)state;
    int err;
    assert_int_equal(run((const char *[]){"./b/seven", NULL}, "/nonexistent", &err), 7);
    assert_int_equal(run((const char *[]){"./b/none", NULL}, "/nonexistent", &err), 127);
    assert_int_equal(err, ENOENT);
    assert_int_equal(run((const char *[]){"./a/denied", NULL}, "/nonexistent", &err), 126);
    assert_int_equal(err, EACCES);
    assert_int_equal(run((const char *[]){"./a/plain/x", NULL}, "/nonexistent", &err), 127);
    assert_int_equal(err, ENOTDIR);
}

static void test_no_shebang_runs_with_sh(void **state)
{
    (void)state;
    int err;
    char path[256];
    snprintf(path, sizeof path, "%s/b", dir);
    /* /bin/sh FILE ARGS: $# is the number of ARGS */
    assert_int_equal(run((const char *[]){"noshebang", "x", "y", NULL}, path, &err), 42);
}

static void test_default_path(void **state)
{
    (void)state;
    int err;
    char *envp[] = {(char *)"A=1", NULL};
    assert_string_equal(exec_path_of(envp), EXEC_DEFAULT_PATH);
    char *envp2[] = {(char *)"PATHX=1", (char *)"PATH=/p", NULL};
    assert_string_equal(exec_path_of(envp2), "/p");
    /* without PATH, sh is found in the default PATH */
    assert_int_equal(run((const char *[]){"sh", "-c", "exit 3", NULL}, NULL, &err), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_search),
        cmocka_unit_test(test_empty_entry_is_cwd),
        cmocka_unit_test(test_slash_names),
        cmocka_unit_test(test_no_shebang_runs_with_sh),
        cmocka_unit_test(test_default_path),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
