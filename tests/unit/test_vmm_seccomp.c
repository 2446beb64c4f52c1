/* Unit tests for the VMM's seccomp allowlists (the hypercall tier's, the Linux tier's and its
 * groups): clean tables, documented row by row in docs/security.md with their exact sizes,
 * filters that build, and kill what they must (children). */
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
#include "vmm/run/vsc_bpf.h"

static void check_rows(const struct vsc_rule *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct vsc_rule *r = &rows[i];
        if (!r->name[0] || strlen(r->reason) < 10)
            fail_msg("row %zu (%s): no name or no reason", i, r->name[0] ? r->name : "?");
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

/* The Linux tier's list and its groups: clean; a group never names a syscall of the base list
 * (it adds syscalls, never widens a row); a syscall two groups need has the same rule in both. */
static void test_linux_tables_clean(void **state)
{
    (void)state;
    struct vsc_table t[VSC_LINUX_TABLES_MAX];
    unsigned all = VSC_LINUX_GRANTS | VSC_LINUX_NET | VSC_LINUX_CONTROL | VSC_LINUX_TENANT |
                   VSC_LINUX_POOL;
    size_t n = vmm_seccomp_linux_tables(all, t);
    assert_int_equal(n, 6);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(t[i].count > 0);
        check_rows(t[i].rules, t[i].count);
        for (size_t a = 0; a < t[i].count; a++) {
            bool shared = false;
            for (size_t j = 0; j < i; j++)
                for (size_t b = 0; b < t[j].count; b++) {
                    const struct vsc_rule *x = &t[i].rules[a], *y = &t[j].rules[b];
                    if (x->nr != y->nr)
                        continue;
                    if (j == 0)
                        fail_msg("%s is in the base list and in %s", x->name, t[i].name);
                    if (x->nargs != y->nargs || x->errno_value != y->errno_value ||
                        memcmp(x->args, y->args, x->nargs * sizeof x->args[0]))
                        fail_msg("%s has other rules in %s and %s", x->name, t[j].name, t[i].name);
                    shared = true;
                }
            total += !shared;
        }
    }
    assert_int_equal(vmm_seccomp_linux_syscall_count(all), total);
    assert_int_equal(vmm_seccomp_linux_syscall_count(0), vsc_linux_rules_count);
    assert_int_equal(vmm_seccomp_linux_tables(0, t), 1);
    assert_ptr_equal(t[0].rules, vsc_linux_rules);
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

/* The text of docs/security.md from the heading `title` (a line "### title") to the next
 * "### " heading. */
static const char *doc_section(const char *doc, const char *title, size_t *len)
{
    char h[128];
    snprintf(h, sizeof h, "\n### %s\n", title);
    const char *at = strstr(doc, h);
    if (!at)
        fail_msg("docs/security.md has no section \"### %s\"", title);
    at += strlen(h);
    const char *end = strstr(at, "\n### ");
    *len = end ? (size_t)(end - at) : strlen(at);
    return at;
}

/* Each of `rows` has a table line "| `name` |" in the section, and the section has no other
 * such line. */
static void doc_rows_match(const char *doc, const char *title, const struct vsc_rule *rows, size_t n)
{
    size_t len;
    const char *sec = doc_section(doc, title, &len);
    char *text = strndup(sec, len);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        char row[64];
        snprintf(row, sizeof row, "| `%s` |", rows[i].name);
        if (!strstr(text, row))
            fail_msg("docs/security.md, \"%s\": no row for %s", title, rows[i].name);
    }
    size_t documented = 0;
    for (const char *p = text; (p = strstr(p, "\n| `")); p++) {
        const char *end = strchr(p + 4, '`');
        if (end && strncmp(end, "` |", 3) == 0)
            documented++;
    }
    if (documented != n)
        fail_msg("docs/security.md, \"%s\": %zu rows, the table has %zu", title, documented, n);
    free(text);
}

/* The number after `phrase` in the doc, which must be followed by " syscalls". */
static unsigned long doc_count(const char *doc, const char *phrase)
{
    const char *at = strstr(doc, phrase);
    if (!at)
        fail_msg("docs/security.md does not say \"%s\"", phrase);
    char *end;
    unsigned long n = strtoul(at + strlen(phrase), &end, 10);
    if (strncmp(end, n == 1 ? " syscall" : " syscalls", n == 1 ? 8 : 9) != 0)
        fail_msg("docs/security.md: \"%s\" is not followed by a number of syscalls", phrase);
    return n;
}

/* docs/security.md states each list's size ("The allowlist holds N syscalls", "The Linux
 * tier's list holds N syscalls", "the grants group adds N syscalls", "the network group adds N
 * syscalls") and lists every row as a table line starting "| `name` |" in its own section, the
 * sanitizer rows as "| `name` (sanitizer) |". */
static void test_doc_matches(void **state)
{
    (void)state;
    const char *doc = doc_read();
    unsigned long n = doc_count(doc, "The allowlist holds ");
    if (n != vmm_seccomp_syscall_count())
        fail_msg("docs/security.md says %lu syscalls, the table has %zu", n,
                 vmm_seccomp_syscall_count());
    n = doc_count(doc, "The Linux tier's list holds ");
    if (n != vmm_seccomp_linux_syscall_count(0))
        fail_msg("docs/security.md says the Linux tier's list holds %lu syscalls, the table has %zu",
                 n, vmm_seccomp_linux_syscall_count(0));
    n = doc_count(doc, "The grants group adds ");
    if (n != vsc_linux_grant_rules_count)
        fail_msg("docs/security.md says the grants group adds %lu syscalls, it has %zu", n,
                 vsc_linux_grant_rules_count);
    n = doc_count(doc, "The network group adds ");
    if (n != vsc_linux_net_rules_count)
        fail_msg("docs/security.md says the network group adds %lu syscalls, it has %zu", n,
                 vsc_linux_net_rules_count);
    doc_rows_match(doc, "The allowlist", vsc_rules, vsc_rules_count);
    doc_rows_match(doc, "The Linux tier's allowlist", vsc_linux_rules, vsc_linux_rules_count);
    doc_rows_match(doc, "The Linux tier's grants group", vsc_linux_grant_rules,
                   vsc_linux_grant_rules_count);
    doc_rows_match(doc, "The Linux tier's network group", vsc_linux_net_rules,
                   vsc_linux_net_rules_count);
    n = doc_count(doc, "The control group adds ");
    if (n != vsc_linux_control_rules_count)
        fail_msg("docs/security.md says the control group adds %lu syscalls, it has %zu", n,
                 vsc_linux_control_rules_count);
    doc_rows_match(doc, "The Linux tier's control group", vsc_linux_control_rules,
                   vsc_linux_control_rules_count);
    n = doc_count(doc, "The tenant group adds ");
    if (n != vsc_linux_tenant_rules_count)
        fail_msg("docs/security.md says the tenant group adds %lu syscalls, it has %zu", n,
                 vsc_linux_tenant_rules_count);
    doc_rows_match(doc, "The Linux tier's tenant group", vsc_linux_tenant_rules,
                   vsc_linux_tenant_rules_count);
    n = doc_count(doc, "The pool group adds ");
    if (n != vsc_linux_pool_rules_count)
        fail_msg("docs/security.md says the pool group adds %lu syscalls, it has %zu", n,
                 vsc_linux_pool_rules_count);
    doc_rows_match(doc, "The Linux tier's pool group", vsc_linux_pool_rules,
                   vsc_linux_pool_rules_count);
    n = doc_count(doc, "The waiting filter kills ");
    if (n != vsc_pool_wait_denied_count)
        fail_msg("docs/security.md says the waiting filter kills %lu syscalls, it has %zu", n,
                 vsc_pool_wait_denied_count);
    doc_rows_match(doc, "A pool's waiting VMMs", vsc_pool_wait_denied, vsc_pool_wait_denied_count);
    for (size_t i = 0; i < vsc_san_rules_count; i++) {
        char row[64];
        snprintf(row, sizeof row, "| `%s` (sanitizer) |", vsc_san_rules[i].name);
        if (!strstr(doc, row))
            fail_msg("docs/security.md has no sanitizer row for %s", vsc_san_rules[i].name);
    }
}

static void test_builds(void **state)
{
    (void)state;
    scmp_filter_ctx ctx;
    assert_int_equal(vmm_seccomp_build(&ctx, SCMP_ACT_KILL_PROCESS, getpid()), 0);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
    seccomp_release(ctx);
    for (unsigned groups = 0; groups < 16; groups++) { /* the Linux tier's, each group set */
        struct vsc_table t[VSC_LINUX_TABLES_MAX];
        size_t n = vmm_seccomp_linux_tables(groups, t);
        assert_int_equal(vmm_seccomp_build_tables(&ctx, SCMP_ACT_KILL_PROCESS, getpid(), t, n), 0);
        assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
        seccomp_release(ctx);
    }
    close(fd);
}

/* Run `call` in a child under the installed filter: how did the child end? The child exits 0 when
 * the call returned and `expect_errno` (if nonzero) is its errno, 1 otherwise. */
/* -1: the hypercall tier's filter; -2: a pool's waiting filter; -3: the waiting filter, then the
 * hypercall tier's stacked on it (a pooled job); else the Linux tier's groups */
static int linux_groups = -1;

static int under_filter(long (*call)(void), int expect_errno)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if ((linux_groups <= -2 && vmm_seccomp_install_pool_wait() < 0) ||
            (linux_groups != -2 &&
             (linux_groups < 0 ? vsc_bpf_install_hypercall() /* what isovm loads */
                               : vmm_seccomp_install_linux((unsigned)linux_groups)) < 0))
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

static long do_tgkill_self(void) { return syscall(SYS_tgkill, getpid(), gettid(), 0); }

/* The hypercall tier's precompiled filter (tools/vsc_bpf_gen.c) with a pid patched in is, word
 * for word, what libseccomp builds from the table for that pid. */
static void test_precompiled_matches(void **state)
{
    (void)state;
    unsigned pids[] = { 1, (unsigned)getpid(), 4194304 };
    for (size_t p = 0; p < sizeof pids / sizeof pids[0]; p++) {
        scmp_filter_ctx ctx;
        assert_int_equal(vmm_seccomp_build(&ctx, SCMP_ACT_KILL_PROCESS, (int)pids[p]), 0);
        int fd = memfd_create("bpf", 0);
        assert_true(fd >= 0);
        assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
        seccomp_release(ctx);
        off_t size = lseek(fd, 0, SEEK_END);
        assert_int_equal(size, (off_t)(vsc_hypercall_bpf_len * sizeof(struct sock_filter)));
        struct sock_filter *want = malloc((size_t)size), *got = malloc((size_t)size);
        assert_non_null(want);
        assert_non_null(got);
        assert_int_equal(pread(fd, want, (size_t)size, 0), size);
        close(fd);
        vsc_bpf_hypercall_for(got, pids[p]);
        assert_memory_equal(got, want, (size_t)size);
        free(want);
        free(got);
    }
    assert_true(vsc_hypercall_bpf_pid_count >= 1); /* tgkill's own-pid condition */
}

static void test_kills(void **state)
{
    (void)state;
    int st = under_filter(do_getpid, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* allowed: runs and exits */
    st = under_filter(do_tgkill_self, 0); /* the own pid patched in */
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
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

static long do_ioctl_irqfd(void) { return syscall(SYS_ioctl, 0, KVM_IRQFD, 0); }
static long do_ioctl_set_regs(void) { return syscall(SYS_ioctl, 0, KVM_SET_REGS, 0); }
static long do_eventfd(void) { return syscall(SYS_eventfd2, 0, 0); }
static long do_socket_unix(void) { return syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); }
static long do_openat_cwd(void) { return syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY); }
static long do_pread(void) { return syscall(SYS_pread64, -1, NULL, 0, 0); }
static long do_statx_fd(void) { return syscall(SYS_statx, 0, "", AT_EMPTY_PATH, 0, NULL); }
static long do_statx_cwd(void) { return syscall(SYS_statx, AT_FDCWD, "/", 0, 0, NULL); }
static long do_openat_fd(void) { return syscall(SYS_openat, 0, "x", O_RDONLY); }
static long do_openat2_fd(void)
{
    struct open_how how = { .flags = O_RDONLY };
    return syscall(SYS_openat2, 0, "x", &how, sizeof how);
}

static void assert_runs(long (*call)(void))
{
    int st = under_filter(call, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("expected an allowed call, got status 0x%x", st);
}

/* The Linux tier's filter: its base list alone kills what only the hypercall tier or a group
 * needs (sockets, path calls, setup ioctls, eventfd2); each group, when added, allows its own
 * calls and still not the rest. */
static long do_mount(void) { return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL); }
static long do_unshare(void) { return syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */); }
static long do_bpf(void) { return syscall(SYS_bpf, 0, NULL, 0); }
static long do_io_uring(void) { return syscall(SYS_io_uring_setup, 1, NULL); }

/* A pool's waiting filter: what a launch does before its own filter (open from the cwd, sockets,
 * eventfds, pread) runs; the calls no VMM makes kill; with a job's allowlist stacked on it,
 * the allowlist's own refusals still kill and its allowed calls still run. */
static void test_pool_wait_kills(void **state)
{
    (void)state;
    linux_groups = -2;
    long (*runs[])(void) = { do_getpid, do_openat_cwd, do_socket_unix, do_socket_tcp, do_eventfd,
                             do_pread };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        assert_runs(runs[i]);
    long (*killed[])(void) = { do_execve, do_setuid, do_mount, do_unshare, do_bpf, do_io_uring,
                               do_i386_getpid };
    for (size_t i = 0; i < sizeof killed / sizeof killed[0]; i++) {
        print_message("pool wait: forbidden call %zu\n", i);
        assert_killed(under_filter(killed[i], 0));
    }
    linux_groups = -3;
    assert_runs(do_getpid);
    assert_killed(under_filter(do_execve, 0));
    assert_killed(under_filter(do_openat_cwd, 0)); /* the job's allowlist's refusal */
    linux_groups = -1;
}

/* No syscall the waiting filter kills is one an allowlist allows: stacked under a job's, it
 * refuses nothing the job's allows (a sanitized build's runtime needs are let through: ptrace). */
static void test_pool_wait_table(void **state)
{
    (void)state;
    struct vsc_table t[VSC_LINUX_TABLES_MAX + 1];
    size_t n = vmm_seccomp_linux_tables(~0u, t);
    t[n++] = (struct vsc_table){ "hypercall", vsc_rules, vsc_rules_count };
    for (size_t d = 0; d < vsc_pool_wait_denied_count; d++) {
        const struct vsc_rule *r = &vsc_pool_wait_denied[d];
        assert_true(r->reason[0]);
        for (size_t i = 0; i < n; i++)
            for (size_t a = 0; a < t[i].count; a++)
                if (t[i].rules[a].nr == r->nr)
                    fail_msg("the waiting filter kills %s, which the %s list allows", r->name,
                             t[i].name);
        for (size_t a = 0; a < vsc_san_rules_count; a++)
            if (vsc_san_rules[a].nr == r->nr && strcmp(r->name, "ptrace"))
                fail_msg("the waiting filter kills %s, which a sanitizer needs", r->name);
        for (size_t e = 0; e < d; e++)
            if (vsc_pool_wait_denied[e].nr == r->nr)
                fail_msg("%s is in the waiting filter twice", r->name);
    }
}

static void test_linux_kills(void **state)
{
    (void)state;
    linux_groups = 0;
    assert_runs(do_getpid);
    int st = under_filter(do_clone3, ENOSYS);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    long (*killed[])(void) = { do_execve, do_ioctl_create_vm, do_ioctl_high_bits, do_ioctl_irqfd,
                               do_ioctl_set_regs, do_mmap_exec, do_mprotect_exec, do_socket_tcp,
                               do_socket_unix, do_socket_netlink, do_openat2_fd, do_openat_cwd,
                               do_statx_fd, do_pread, do_eventfd, do_tgkill_other, do_setuid,
                               do_i386_getpid, do_x32_getpid };
    for (size_t i = 0; i < sizeof killed / sizeof killed[0]; i++) {
        print_message("linux: forbidden call %zu\n", i);
        assert_killed(under_filter(killed[i], 0));
    }
    linux_groups = VSC_LINUX_GRANTS;
    assert_runs(do_openat2_fd);
    assert_runs(do_openat_fd);
    assert_killed(under_filter(do_openat2_cwd, 0));
    assert_killed(under_filter(do_openat_cwd, 0));
    assert_killed(under_filter(do_statx_cwd, 0));
    assert_killed(under_filter(do_statx_fd, 0));
    assert_killed(under_filter(do_pread, 0));
    assert_killed(under_filter(do_socket_tcp, 0));
    linux_groups = VSC_LINUX_NET;
    assert_runs(do_socket_tcp);
    assert_runs(do_socket_unix);
    assert_runs(do_eventfd);
    assert_killed(under_filter(do_socket_netlink, 0));
    assert_killed(under_filter(do_socket_raw_inet, 0));
    assert_killed(under_filter(do_openat2_fd, 0));
    linux_groups = -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_clean),
        cmocka_unit_test(test_doc_matches),
        cmocka_unit_test(test_builds),
        cmocka_unit_test(test_kills),
        cmocka_unit_test(test_precompiled_matches),
        cmocka_unit_test(test_linux_tables_clean),
        cmocka_unit_test(test_linux_kills),
        cmocka_unit_test(test_pool_wait_table),
        cmocka_unit_test(test_pool_wait_kills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
