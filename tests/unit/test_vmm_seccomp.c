/* Unit tests for the VMM's seccomp allowlist: a clean table, documented row by row in
 * docs/security.md with its exact size, a filter that builds, and kills what it must (children). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/run/vmm_seccomp.h"

static void check_rows(const struct vsc_rule *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct vsc_rule *r = &rows[i];
        if (!r->name || !r->name[0] || !r->reason || strlen(r->reason) < 10)
            fail_msg("row %zu (%s): no name or no reason", i, r->name ? r->name : "?");
        if (r->nr < 0 || r->nargs > VSC_MAX_ARGS)
            fail_msg("row %s: bad number or argument count", r->name);
        for (unsigned a = 0; a < r->nargs; a++) {
            const struct vsc_arg *g = &r->args[a];
            if (g->index > 5 || g->nvalues < 1 || g->nvalues > VSC_MAX_VALUES ||
                (g->op != VSC_IN && g->op != VSC_BELOW))
                fail_msg("row %s: bad condition %u", r->name, a);
            for (unsigned b = 0; b < a; b++)
                if (r->args[b].index == g->index)
                    fail_msg("row %s: two conditions on argument %u", r->name, g->index);
        }
        for (size_t j = 0; j < i; j++)
            if (rows[j].nr == r->nr || strcmp(rows[j].name, r->name) == 0)
                fail_msg("%s appears twice (rows %zu and %zu)", r->name, j, i);
    }
}

static void test_table_clean(void **state)
{
    (void)state;
    assert_true(vsc_rules_count > 10);
    check_rows(vsc_rules, vsc_rules_count);
    check_rows(vsc_san_rules, vsc_san_rules_count);
    /* one row per syscall: the count of syscalls is the count of rows */
    assert_int_equal(vmm_seccomp_syscall_count(), vsc_rules_count);
}

static char *doc_read(void)
{
    FILE *f = fopen(ISOVM_SECURITY_DOC, "r");
    if (!f)
        fail_msg("%s: %s", ISOVM_SECURITY_DOC, strerror(errno));
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* docs/security.md states the size ("The allowlist holds N syscalls") and lists every row as a
 * table line starting "| `name` |", the sanitizer rows as "| `name` (sanitizer) |". */
static void test_doc_matches(void **state)
{
    (void)state;
    const char *doc = doc_read();
    const char *at = strstr(doc, "The allowlist holds ");
    assert_non_null(at);
    unsigned long n = strtoul(at + strlen("The allowlist holds "), NULL, 10);
    assert_true(strstr(at, " syscalls") != NULL);
    if (n != vmm_seccomp_syscall_count())
        fail_msg("docs/security.md says %lu syscalls, the table has %zu", n,
                 vmm_seccomp_syscall_count());
    for (size_t i = 0; i < vsc_rules_count; i++) {
        char row[64];
        snprintf(row, sizeof row, "| `%s` |", vsc_rules[i].name);
        if (!strstr(doc, row))
            fail_msg("docs/security.md has no row for %s", vsc_rules[i].name);
    }
    for (size_t i = 0; i < vsc_san_rules_count; i++) {
        char row[64];
        snprintf(row, sizeof row, "| `%s` (sanitizer) |", vsc_san_rules[i].name);
        if (!strstr(doc, row))
            fail_msg("docs/security.md has no sanitizer row for %s", vsc_san_rules[i].name);
    }
    /* and no documented row the table lacks */
    size_t documented = 0;
    for (const char *p = doc; (p = strstr(p, "\n| `")); p++) {
        const char *end = strchr(p + 4, '`');
        if (end && strncmp(end, "` |", 3) == 0)
            documented++;
    }
    assert_int_equal(documented, vsc_rules_count);
}

static void test_builds(void **state)
{
    (void)state;
    scmp_filter_ctx ctx;
    assert_int_equal(vmm_seccomp_build(&ctx, SCMP_ACT_KILL_PROCESS, getpid()), 0);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
    close(fd);
    seccomp_release(ctx);
}

/* Run `call` in a child under the installed filter: how did the child end? The child exits 0 when
 * the call returned and `expect_errno` (if nonzero) is its errno, 1 otherwise. */
static int under_filter(long (*call)(void), int expect_errno)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (vmm_seccomp_install() < 0)
            _exit(2);
        errno = 0;
        long r = call();
        _exit(expect_errno ? (r < 0 && errno == expect_errno ? 0 : 1) : 0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void assert_killed(int st)
{
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
        fail_msg("expected death by SIGSYS, got status 0x%x", st);
}

static long do_getpid(void) { return syscall(SYS_getpid); }
static long do_execve(void)
{
    char *const argv[] = { "/bin/true", NULL };
    return syscall(SYS_execve, "/bin/true", argv, NULL);
}
static long do_ioctl_create_vm(void) { return syscall(SYS_ioctl, 0, KVM_CREATE_VM, 0); }
static long do_ioctl_high_bits(void) { return syscall(SYS_ioctl, 0, (1ul << 32) | KVM_RUN, 0); }
static long do_mmap_exec(void)
{
    return syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static long do_mprotect_exec(void) { return syscall(SYS_mprotect, 0, 4096, PROT_EXEC); }
static long do_socket_netlink(void) { return syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0); }
static long do_socket_raw_inet(void) { return syscall(SYS_socket, AF_INET, SOCK_RAW | SOCK_CLOEXEC, 1); }
static long do_socket_tcp(void)
{
    return syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}
static long do_openat2_cwd(void)
{
    struct open_how how = { .flags = O_RDONLY };
    return syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
}
static long do_openat2_cwd_zero_extended(void)
{
    struct open_how how = { .flags = O_RDONLY };
    return syscall(SYS_openat2, (long)(unsigned)AT_FDCWD, "/", &how, sizeof how);
}
static long do_clone3(void) { return syscall(SYS_clone3, NULL, 0); }
static long do_tgkill_other(void) { return syscall(SYS_tgkill, 1, 1, 0); }
static long do_setuid(void) { return syscall(SYS_setuid, 0); }
static long do_i386_getpid(void) /* getpid (20) through the 32-bit entry: another architecture */
{
    long r = 20;
    __asm__ volatile("int $0x80" : "+a"(r) : : "memory");
    return r;
}
static long do_x32_getpid(void) { return syscall(0x40000000 | SYS_getpid); }

static void test_kills(void **state)
{
    (void)state;
    int st = under_filter(do_getpid, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* allowed: runs and exits */
    st = under_filter(do_socket_tcp, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = under_filter(do_clone3, ENOSYS); /* glibc's cue to fall back to clone */
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    long (*killed[])(void) = { do_execve, do_ioctl_create_vm, do_ioctl_high_bits, do_mmap_exec,
                               do_mprotect_exec, do_socket_netlink, do_socket_raw_inet,
                               do_openat2_cwd, do_openat2_cwd_zero_extended, do_tgkill_other,
                               do_setuid, do_i386_getpid, do_x32_getpid };
    for (size_t i = 0; i < sizeof killed / sizeof killed[0]; i++) {
        print_message("forbidden call %zu\n", i);
        assert_killed(under_filter(killed[i], 0));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_clean),
        cmocka_unit_test(test_doc_matches),
        cmocka_unit_test(test_builds),
        cmocka_unit_test(test_kills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
