/* Unit tests for jail_args.c: `isovm jail` options, ids, cgroup keys and resource limits, valid
 * and hostile (nothing on the system is looked at). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "jail/jail_args.h"

/* Parse a NULL-terminated list after "jail"; returns the rc, err has the message. */
static int parse(struct jail_args *a, char *err, size_t errlen, ...)
{
    static char *argv[64]; /* a->launch_argv points into it */
    int argc = 0;
    argv[argc++] = "jail";
    va_list ap;
    va_start(ap, errlen);
    for (char *s; (s = va_arg(ap, char *)) && argc < 63;)
        argv[argc++] = s;
    va_end(ap);
    argv[argc] = NULL;
    err[0] = '\0';
    return jail_args_parse(argc, argv, a, err, errlen);
}

#define BASIC "--id", "job-1", "--uid", "1000", "--gid", "1000"
#define LAUNCH "--", "launch", "--", "/bin/true"

static void test_minimal(void **state)
{
    (void)state;
    struct jail_args a;
    char err[512];
    assert_int_equal(parse(&a, err, sizeof err, BASIC, LAUNCH, NULL), 0);
    assert_string_equal(a.id, "job-1");
    assert_int_equal(a.uid, 1000);
    assert_int_equal(a.gid, 1000);
    assert_string_equal(a.chroot_base, JAIL_DEFAULT_BASE);
    assert_string_equal(a.parent_cgroup, JAIL_DEFAULT_PARENT);
    assert_int_equal(a.cgroup_version, 0);
    assert_null(a.netns);
    assert_false(a.new_pid_ns);
    assert_false(a.daemonize);
    assert_int_equal(a.launch_argc, 3);
    assert_string_equal(a.launch_argv[0], "launch");
    assert_string_equal(a.launch_argv[2], "/bin/true");
}

static void test_all_options(void **state)
{
    (void)state;
    struct jail_args a;
    char err[512];
    assert_int_equal(parse(&a, err, sizeof err, BASIC, "--chroot-base", "/tmp/j",
                           "--cgroup", "pids.max=20", "--cgroup", "memory.max=100M",
                           "--cgroup-version", "1", "--parent-cgroup", "tenants.a",
                           "--netns", "/run/netns/x", "--new-pid-ns", "--daemonize",
                           "--resource-limit", "nofile=128", "--resource-limit", "fsize=unlimited",
                           "--resource-limit", "nofile=256", LAUNCH, NULL), 0);
    assert_string_equal(a.chroot_base, "/tmp/j");
    assert_int_equal(a.ncgroups, 2);
    assert_string_equal(a.cgroups[0].key, "pids.max");
    assert_string_equal(a.cgroups[0].value, "20");
    assert_string_equal(a.cgroups[1].value, "100M");
    assert_int_equal(a.cgroup_version, 1);
    assert_string_equal(a.parent_cgroup, "tenants.a");
    assert_string_equal(a.netns, "/run/netns/x");
    assert_true(a.new_pid_ns && a.daemonize);
    assert_int_equal(a.nrlimits, 2); /* nofile given twice: the last wins */
    assert_int_equal(a.rlimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(a.rlimits[0].value, 256);
    assert_int_equal(a.rlimits[1].resource, RLIMIT_FSIZE);
    assert_true(a.rlimits[1].value == (uint64_t)RLIM_INFINITY);
}

/* Each hostile command line fails with -EINVAL and a message containing `want`. */
static void refused(const char *want, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "jail";
    va_list ap;
    va_start(ap, want);
    for (char *s; (s = va_arg(ap, char *)) && argc < 63;)
        argv[argc++] = s;
    va_end(ap);
    argv[argc] = NULL;
    struct jail_args a;
    char err[512] = "";
    int rc = jail_args_parse(argc, argv, &a, err, sizeof err);
    if (rc != -EINVAL || !strstr(err, want))
        fail_msg("rc %d err \"%s\"; want -EINVAL and \"%s\"", rc, err, want);
}

static void test_bad_ids(void **state)
{
    (void)state;
    refused("--id", "--id", "", "--uid", "1", "--gid", "1", LAUNCH, NULL);
    refused("--id \"a/b\"", "--id", "a/b", "--uid", "1", "--gid", "1", LAUNCH, NULL);
    refused("--id \"..\"", "--id", "..", "--uid", "1", "--gid", "1", LAUNCH, NULL);
    refused("--id \"a_b\"", "--id", "a_b", "--uid", "1", "--gid", "1", LAUNCH, NULL);
    refused("--id \"a b\"", "--id", "a b", "--uid", "1", "--gid", "1", LAUNCH, NULL);
    char long_id[70];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    refused("--id", "--id", long_id, "--uid", "1", "--gid", "1", LAUNCH, NULL);
    long_id[64] = '\0';
    assert_true(jail_id_valid(long_id));
    assert_true(jail_id_valid("A-z-0"));
    refused("--id ID is required", "--uid", "1", "--gid", "1", LAUNCH, NULL);
}

static void test_bad_ids_numbers(void **state)
{
    (void)state;
    refused("--uid and --gid are required", "--id", "x", LAUNCH, NULL);
    refused("--uid and --gid are required", "--id", "x", "--uid", "5", LAUNCH, NULL);
    refused("--uid and --gid are required", "--id", "x", "--gid", "5", LAUNCH, NULL);
    refused("--uid 0", "--id", "x", "--uid", "0", "--gid", "5", LAUNCH, NULL);
    refused("--gid 0", "--id", "x", "--uid", "5", "--gid", "0", LAUNCH, NULL);
    refused("--uid \"-1\"", "--id", "x", "--uid", "-1", "--gid", "5", LAUNCH, NULL);
    refused("--uid \"1k\"", "--id", "x", "--uid", "1k", "--gid", "5", LAUNCH, NULL);
    refused("--gid \"4294967295\"", "--id", "x", "--uid", "1", "--gid", "4294967295", LAUNCH, NULL);
    refused("--uid \"99999999999999999999999\"", "--id", "x", "--uid", "99999999999999999999999",
            "--gid", "1", LAUNCH, NULL);
    refused("--uid \"\"", "--id", "x", "--uid", "", "--gid", "1", LAUNCH, NULL);
}

static void test_bad_cgroup(void **state)
{
    (void)state;
    refused("\"../x\" is not a cgroup", BASIC, "--cgroup", "../x=1", LAUNCH, NULL);
    refused("\"a/b.max\" is not a cgroup", BASIC, "--cgroup", "a/b.max=1", LAUNCH, NULL);
    refused("\"pids..max\" is not", BASIC, "--cgroup", "pids..max=1", LAUNCH, NULL);
    refused("\"cgroup.procs\" is not", BASIC, "--cgroup", "cgroup.procs=1", LAUNCH, NULL);
    refused("\"tasks\" is not", BASIC, "--cgroup", "tasks=1", LAUNCH, NULL);
    refused("\"release_agent\" is not", BASIC, "--cgroup", "release_agent=/x", LAUNCH, NULL);
    refused("\"Memory.max\" is not", BASIC, "--cgroup", "Memory.max=1", LAUNCH, NULL);
    refused("expected KEY=VALUE", BASIC, "--cgroup", "pids.max", LAUNCH, NULL);
    refused("expected KEY=VALUE", BASIC, "--cgroup", "=5", LAUNCH, NULL);
    refused("empty value", BASIC, "--cgroup", "pids.max=", LAUNCH, NULL);
    refused("one line", BASIC, "--cgroup", "pids.max=1\n2", LAUNCH, NULL);
    refused("--cgroup-version \"3\"", BASIC, "--cgroup-version", "3", LAUNCH, NULL);
    refused("--parent-cgroup \"a/b\"", BASIC, "--parent-cgroup", "a/b", LAUNCH, NULL);
    refused("--parent-cgroup \"..\"", BASIC, "--parent-cgroup", "..", LAUNCH, NULL);
    assert_true(jail_cgroup_key_valid("cpu.cfs_quota_us"));
    assert_true(jail_cgroup_key_valid("blkio.throttle.read_bps_device"));
    assert_false(jail_cgroup_key_valid(".max"));
    assert_false(jail_cgroup_key_valid("max."));
    assert_false(jail_cgroup_key_valid("nodot"));
}

static void test_bad_other(void **state)
{
    (void)state;
    refused("--chroot-base \"rel\"", BASIC, "--chroot-base", "rel", LAUNCH, NULL);
    refused("--netns \"x\": expected an absolute path", BASIC, "--netns", "x", LAUNCH, NULL);
    refused("unknown limit \"bogus\"", BASIC, "--resource-limit", "bogus=1", LAUNCH, NULL);
    refused("a number or \"unlimited\"", BASIC, "--resource-limit", "nofile=-1", LAUNCH, NULL);
    refused("expected NAME=N", BASIC, "--resource-limit", "nofile", LAUNCH, NULL);
    refused("unknown option --frob", BASIC, "--frob", LAUNCH, NULL);
    refused("option --id needs a value", "--id", NULL);
    refused("expected \"-- launch", BASIC, NULL);
    refused("got \"run\"", BASIC, "--", "run", "x", NULL);
}

static void test_help(void **state)
{
    (void)state;
    struct jail_args a;
    char err[512];
    assert_int_equal(parse(&a, err, sizeof err, "--help", NULL), 0);
    assert_true(a.help);
}

/* pool serve --jail's options: the same values, but no --id, --new-pid-ns, --daemonize, and
 * nothing after them */
static int parse_pool(struct jail_args *a, char *err, size_t errlen, int argc, char **argv)
{
    err[0] = '\0';
    return jail_args_parse_pool(argc, argv, a, err, errlen);
}

static void test_pool(void **state)
{
    (void)state;
    struct jail_args a;
    char err[512];
    char *ok[] = { "--jail", "--uid", "1000", "--gid", "1001", "--chroot-base", "/srv/p",
                   "--cgroup", "pids.max=9", "--netns", "/run/netns/t", "--resource-limit",
                   "nofile=64", NULL };
    assert_int_equal(parse_pool(&a, err, sizeof err, 13, ok), 0);
    assert_int_equal(a.uid, 1000);
    assert_int_equal(a.gid, 1001);
    assert_string_equal(a.chroot_base, "/srv/p");
    assert_int_equal(a.ncgroups, 1);
    assert_string_equal(a.netns, "/run/netns/t");
    assert_int_equal(a.nrlimits, 1);
    assert_string_equal(a.id, "");
    assert_int_equal(a.launch_argc, 0);
    struct { const char *want; char *argv[8]; } bad[] = {
        { "--uid and --gid are required", { "--jail", "--uid", "1000", NULL } },
        { "--id (each VMM's jail is named by the pool) is not a pool's option",
          { "--jail", "--uid", "1", "--gid", "1", "--id", "x", NULL } },
        { "--new-pid-ns is not a pool's option",
          { "--jail", "--uid", "1", "--gid", "1", "--new-pid-ns", NULL } },
        { "--daemonize is not a pool's option",
          { "--jail", "--uid", "1", "--gid", "1", "--daemonize", NULL } },
        { "unexpected \"launch\"", { "--jail", "--uid", "1", "--gid", "1", "launch", NULL } },
        { "--gid 0: the VMM must not run as root", { "--jail", "--uid", "1", "--gid", "0", NULL } },
        { "unknown option --size", { "--jail", "--uid", "1", "--gid", "1", "--size", "2", NULL } },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int n = 0;
        while (bad[i].argv[n])
            n++;
        assert_int_equal(parse_pool(&a, err, sizeof err, n, bad[i].argv), -EINVAL);
        if (!strstr(err, bad[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_all_options),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_bad_ids_numbers),
        cmocka_unit_test(test_bad_cgroup),
        cmocka_unit_test(test_bad_other),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
