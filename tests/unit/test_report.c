/* Unit tests for the usage report's filter, denial and host-timing keys: valid JSON (jansson),
 * totals that add up, names for every filtered number. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <jansson.h>

#include "vmm/caps/audit.h"
#include "job_fixture.h"
#include "vmm/run/report.h"
#include "vmm/hypercall/syscall_filter.h"

static json_t *report_of(struct job *job, const struct launch_opts *o)
{
    char path[] = "/tmp/isovm-test-report.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(report_write(path, job, o, 123), 0);
    json_error_t err;
    json_t *r = json_load_file(path, 0, &err);
    if (!r)
        fail_msg("report is not JSON: %s at line %d", err.text, err.line);
    unlink(path);
    return r;
}

static json_int_t num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return json_integer_value(v);
}

static void test_report_filter_keys(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    struct launch_opts o = { .program = "/opt/jobs/blocked" };
    policy_defaults(&o.policy);
    o.policy.syscalls.profile = SCP_NONE;
    o.policy.syscalls.action = SCA_KILL;
    job->policy = o.policy;
    assert_int_equal(syscall_filter_build(job), 0);
    job->stats.filtered[SYS_getpid] = 2;
    job->stats.filtered[1023] = 1;               /* no name: the number */
    job->stats.filtered[SYS_socket] = 5;         /* a name, though isovm does not implement it */
    job->stats.filtered[ISOVM_SYS_CAP_INFO] = 1;
    job->stats.filtered_beyond = 3;              /* 5000, -1, ... */
    job->stats.filter_logged = 4;
    job->stats.audit_lines_written = 11;
    job->stats.audit_bytes_written = 4000;
    job->stats.audit_lines_dropped = 7;
    job->stats.audit_bytes_dropped = 900;
    job->stats.audit_denials_suppressed = 290;
    audit_deny(job, DENY_SYSCALL, SYS_getpid, 0, CAP_NONE, NULL);
    audit_deny(job, DENY_RIGHTS, SYS_write, EBADF, CAP_NONE, NULL);
    audit_deny(job, DENY_RIGHTS, SYS_write, EBADF, CAP_NONE, NULL);
    job->end = JOB_SIGNALED;
    job->exit_status = 159;
    job->signal = SIGSYS;

    json_t *r = report_of(job, &o);
    assert_int_equal(num(r, "isovm_report_version"), 3);
    assert_string_equal(json_string_value(json_object_get(r, "signal")), "SIGSYS");
    assert_int_equal(num(r, "exit_status"), 159);

    json_t *f = json_object_get(r, "filter");
    assert_string_equal(json_string_value(json_object_get(f, "profile")), "none");
    assert_string_equal(json_string_value(json_object_get(f, "action")), "kill");
    assert_int_equal(num(f, "errno"), EPERM);
    assert_int_equal(json_object_size(f), 3);

    json_t *fs = json_object_get(r, "filtered_syscalls");
    assert_int_equal(json_object_size(fs), 5);
    assert_int_equal(num(fs, "socket"), 5);
    assert_int_equal(num(fs, "getpid"), 2);
    assert_int_equal(num(fs, "1023"), 1);
    assert_int_equal(num(fs, "isovm_cap_info"), 1);
    assert_int_equal(num(fs, "other"), 3);
    assert_int_equal(num(r, "filtered_syscalls_total"), 12);
    assert_int_equal(num(r, "filter_logged_total"), 4);

    json_t *d = json_object_get(r, "denials");
    assert_int_equal(json_object_size(d), DENY_KINDS);
    for (unsigned k = 0; k < DENY_KINDS; k++)
        assert_int_equal(num(d, deny_kind_name((enum deny_kind)k)), job->stats.denials[k]);
    assert_int_equal(num(d, "syscall-filter"), 1);
    assert_int_equal(num(d, "rights"), 2);
    assert_int_equal(num(r, "denials_total"), 3);

    /* the audit log's counters (docs/audit.md) */
    json_t *au = json_object_get(r, "audit");
    assert_int_equal(json_object_size(au), 5);
    assert_int_equal(num(au, "lines_written"), 11);
    assert_int_equal(num(au, "bytes_written"), 4000);
    assert_int_equal(num(au, "lines_dropped"), 7);
    assert_int_equal(num(au, "bytes_dropped"), 900);
    assert_int_equal(num(au, "denials_suppressed"), 290);

    /* every host-timing field names a key of the report; the obvious ones are there */
    json_t *ht = json_object_get(r, "host_timing_fields");
    assert_true(json_is_array(ht));
    size_t i;
    json_t *v;
    bool wall = false, cpu = false;
    json_array_foreach(ht, i, v) {
        assert_true(json_is_string(v));
        assert_non_null(json_object_get(r, json_string_value(v)));
        wall |= strcmp(json_string_value(v), "wall_time_ns") == 0;
        cpu |= strcmp(json_string_value(v), "cpu_time_ns") == 0;
    }
    assert_true(wall && cpu);
    /* older keys stay */
    assert_non_null(json_object_get(r, "denied_syscalls"));
    assert_non_null(json_object_get(r, "unknown_syscalls"));
    assert_non_null(json_object_get(r, "vm_exits"));
    json_decref(r);
    fix_job_free(job);
}

static void test_report_empty_filter(void **state)
{
    (void)state;
    struct job *job = fix_job_new(); /* default profile, errno action */
    struct launch_opts o = { .program = "/opt/jobs/hello" };
    policy_defaults(&o.policy);
    job->end = JOB_EXITED;
    json_t *r = report_of(job, &o);
    json_t *f = json_object_get(r, "filter");
    assert_string_equal(json_string_value(json_object_get(f, "profile")), "default");
    assert_string_equal(json_string_value(json_object_get(f, "action")), "errno");
    assert_int_equal(num(f, "errno"), ENOSYS);
    assert_int_equal(json_object_size(json_object_get(r, "filtered_syscalls")), 0);
    assert_int_equal(num(r, "filtered_syscalls_total"), 0);
    assert_int_equal(num(r, "denials_total"), 0);
    assert_null(json_object_get(r, "signal"));
    json_decref(r);
    fix_job_free(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_filter_keys),
        cmocka_unit_test(test_report_empty_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
