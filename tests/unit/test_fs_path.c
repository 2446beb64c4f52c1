/* Unit tests for fs_path.c: lexical normalization, grant lookup, splitting and the symlink-target
 * rule, fed hostile paths ("..", "//", prefixes that are not components, very long names). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/caps/fs_path.h"

static void join_ok(const char *base, const char *path, const char *want)
{
    char out[PATH_MAX];
    int rc = fsp_join(base, path, out, sizeof out);
    if (rc != 0 || strcmp(out, want) != 0)
        fail_msg("fsp_join(\"%s\", \"%s\") = %d \"%s\"; want \"%s\"", base, path, rc,
                 rc ? "" : out, want);
}

static void test_join(void **state)
{
    (void)state;
    join_ok("/", "/data", "/data");
    join_ok("/", "//data", "/data");
    join_ok("/", "///data//x///", "/data/x");
    join_ok("/", "/data/./x/.", "/data/x");
    join_ok("/", "/data/../etc/passwd", "/etc/passwd");
    join_ok("/", "/../../../..", "/");
    join_ok("/", "/..", "/");
    join_ok("/", "..", "/");
    join_ok("/data", "../../../../etc/passwd", "/etc/passwd");
    join_ok("/data/sub", "..", "/data");
    join_ok("/data/sub", "x/../../y", "/data/y");
    join_ok("/data", "x", "/data/x");
    join_ok("/data", ".", "/data");
    join_ok("/data", "./", "/data");
    join_ok("/data", "/abs", "/abs");
    join_ok("/data", "...", "/data/...");
    join_ok("/data", "..x/.x/x..", "/data/..x/.x/x..");
    join_ok("", "x", "/x");
}

static void test_join_errors(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(fsp_join("/data", "", out, sizeof out), -ENOENT);
    /* a result that does not fit */
    char *longp = malloc(PATH_MAX + 10);
    assert_non_null(longp);
    longp[0] = '/';
    memset(longp + 1, 'a', PATH_MAX + 5);
    longp[PATH_MAX + 6] = '\0';
    assert_int_equal(fsp_join("/", longp, out, sizeof out), -ENAMETOOLONG);
    /* long, but ".." brings it back: components are applied one by one */
    char small[16];
    assert_int_equal(fsp_join("/", "/aaaaaaaaaaaaaaaaaaaaaaaa/../b", small, sizeof small),
                     -ENAMETOOLONG);
    assert_int_equal(fsp_join("/", "/aaaaaaaaaa/../b", small, sizeof small), 0);
    assert_string_equal(small, "/b");
    assert_int_equal(fsp_join("/", "/", small, 1), -ENAMETOOLONG);
    /* a thousand ".." never climb above "/" */
    char *dots = malloc(3 * 1000 + 8);
    assert_non_null(dots);
    dots[0] = '\0';
    for (int i = 0; i < 1000; i++)
        strcat(dots, "../");
    strcat(dots, "etc");
    assert_int_equal(fsp_join("/data/a/b", dots, out, sizeof out), 0);
    assert_string_equal(out, "/etc");
    free(dots);
    free(longp);
}

static void test_beneath(void **state)
{
    (void)state;
    assert_string_equal(fsp_beneath("/data", "/data"), "");
    assert_string_equal(fsp_beneath("/data", "/data/x/y"), "x/y");
    assert_null(fsp_beneath("/data", "/dataX"));
    assert_null(fsp_beneath("/data", "/dat"));
    assert_null(fsp_beneath("/data", "/"));
    assert_null(fsp_beneath("/data/x", "/data"));
    assert_string_equal(fsp_beneath("/", "/"), "");
    assert_string_equal(fsp_beneath("/", "/etc"), "etc");
}

static void test_grant_find(void **state)
{
    (void)state;
    const char *g[] = {"/data", "/data/in", "/out", "/cfg.json"};
    const char *rest = NULL;
    assert_int_equal(fsp_grant_find(g, 4, "/data", &rest), 0);
    assert_string_equal(rest, "");
    assert_int_equal(fsp_grant_find(g, 4, "/data/x", &rest), 0);
    assert_string_equal(rest, "x");
    assert_int_equal(fsp_grant_find(g, 4, "/data/in/a", &rest), 1); /* the longest wins */
    assert_string_equal(rest, "a");
    assert_int_equal(fsp_grant_find(g, 4, "/data/inside", &rest), 0);
    assert_string_equal(rest, "inside");
    assert_int_equal(fsp_grant_find(g, 4, "/dataX", &rest), -1);
    assert_int_equal(fsp_grant_find(g, 4, "/etc/passwd", &rest), -1);
    assert_int_equal(fsp_grant_find(g, 4, "/", &rest), -1);
    assert_int_equal(fsp_grant_find(g, 4, "/cfg.json", &rest), 3);
    assert_int_equal(fsp_grant_find(g, 4, "/cfg.jsonx", &rest), -1);
    assert_int_equal(fsp_grant_find(g, 0, "/data", &rest), -1);
    /* hostile inputs normalized first, as sys_fs.c does */
    char out[PATH_MAX];
    assert_int_equal(fsp_join("/", "/data/../etc/passwd", out, sizeof out), 0);
    assert_int_equal(fsp_grant_find(g, 4, out, &rest), -1);
    assert_int_equal(fsp_join("/", "//data//x", out, sizeof out), 0);
    assert_int_equal(fsp_grant_find(g, 4, out, &rest), 0);
    assert_string_equal(rest, "x");
    assert_int_equal(fsp_join("/out", "../data/./x", out, sizeof out), 0);
    assert_int_equal(fsp_grant_find(g, 4, out, &rest), 0);
}

static void test_dirfd_relative(void **state)
{
    (void)state;
    /* relative to a directory descriptor at /data/sub: must stay beneath it */
    char out[PATH_MAX];
    assert_int_equal(fsp_join("/data/sub", "../x", out, sizeof out), 0);
    assert_null(fsp_beneath("/data/sub", out));
    assert_int_equal(fsp_join("/data/sub", "a/../../sub/b", out, sizeof out), 0);
    assert_string_equal(fsp_beneath("/data/sub", out), "b");
    assert_int_equal(fsp_join("/data/sub", "../subX/y", out, sizeof out), 0);
    assert_null(fsp_beneath("/data/sub", out));
    assert_int_equal(fsp_join("/data/sub", ".", out, sizeof out), 0);
    assert_string_equal(fsp_beneath("/data/sub", out), "");
}

static void test_ancestor(void **state)
{
    (void)state;
    const char *g[] = {"/data/in", "/out"};
    assert_true(fsp_is_ancestor(g, 2, "/"));
    assert_true(fsp_is_ancestor(g, 2, "/data"));
    assert_false(fsp_is_ancestor(g, 2, "/data/in"));
    assert_false(fsp_is_ancestor(g, 2, "/dat"));
    assert_false(fsp_is_ancestor(g, 2, "/etc"));
    assert_false(fsp_is_ancestor(g, 2, "/out"));
    assert_true(fsp_is_ancestor(g, 0, "/"));
}

static void test_split(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    assert_string_equal(fsp_split("a", dir, sizeof dir), "a");
    assert_string_equal(dir, ".");
    assert_string_equal(fsp_split("a/b/c", dir, sizeof dir), "c");
    assert_string_equal(dir, "a/b");
    assert_null(fsp_split("", dir, sizeof dir));
    assert_null(fsp_split("ab/c", dir, 2)); /* "ab" needs 3 bytes */
    assert_string_equal(fsp_split("a/b", dir, 2), "b");
}

/* Only targets that lead downward from the link's directory: they mean the same wherever the
 * link is moved, so renaming never makes one lead out of its grant (issue 12, finding 1). */
static void test_symlink_downward(void **state)
{
    (void)state;
    assert_true(fsp_symlink_downward("x"));
    assert_true(fsp_symlink_downward("./x/y"));
    assert_true(fsp_symlink_downward("."));
    assert_true(fsp_symlink_downward("x//y/"));
    assert_true(fsp_symlink_downward("...x/..y/x.."));
    assert_false(fsp_symlink_downward(""));
    assert_false(fsp_symlink_downward("/etc/passwd"));
    assert_false(fsp_symlink_downward("//x"));
    assert_false(fsp_symlink_downward(".."));
    assert_false(fsp_symlink_downward("../x"));                   /* the old rule allowed it */
    assert_false(fsp_symlink_downward("../../outside-secret.txt")); /* the finding's link */
    assert_false(fsp_symlink_downward("x/../y"));                 /* even when it ends below */
    assert_false(fsp_symlink_downward("x/.."));
    assert_false(fsp_symlink_downward("x/y/../../.."));
    assert_false(fsp_symlink_downward("./.."));
    assert_false(fsp_symlink_downward("x//..//y"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),       cmocka_unit_test(test_join_errors),
        cmocka_unit_test(test_beneath),    cmocka_unit_test(test_grant_find),
        cmocka_unit_test(test_dirfd_relative), cmocka_unit_test(test_ancestor),
        cmocka_unit_test(test_split),      cmocka_unit_test(test_symlink_downward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
