/* `isovm jail`: validate, then build the jail, the cgroup and the namespaces, drop every privilege
 * and exec `isovm launch` inside; the jailer waits outside, reports the cgroup and cleans up. */
#include "jail/jail.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "jail/jail_child.h"
#include "lib/log.h"
#include "lib/test_hooks.h"
#include "quota/ledger.h"
#include "vmm/run/launch_cli.h"
#include "vmm/run/tenant.h"

static void jail_usage(FILE *f)
{
    fprintf(f,
        "usage: isovm jail --id ID --uid U --gid G [jail options] -- launch [launch options] [--]\n"
        "                  PROGRAM [ARGS...]\n"
        "\n"
        "Runs `isovm launch` as user U and group G with no capabilities and no_new_privs, in new\n"
        "mount, IPC, UTS and network namespaces, pivot_root'ed into a jail that holds only the\n"
        "program, the policy file, the host paths the policy grants (read-only or read-write as\n"
        "granted), isovm itself with its libraries and /dev/kvm, under a cgroup with limits from\n"
        "the policy. With --rootfs (the Linux tier) the kernel and its modules, the images (a\n"
        "--disk :rw read-write) and the job user's own snapshot cache take the program's place.\n"
        "Must run as root. See docs/jailer.md.\n"
        "\n"
        "jail options:\n"
        "  --id ID               the job's name: 1..64 of letters, digits and '-'; the jail is\n"
        "                        CHROOT-BASE/isovm/ID and the cgroup PARENT/ID (both must not exist)\n"
        "  --uid U, --gid G      the unprivileged user and group the VMM runs as (not 0; required)\n"
        "  --chroot-base DIR     where jails are made (default " JAIL_DEFAULT_BASE "; must exist)\n"
        "  --cgroup KEY=VALUE    write VALUE to the job cgroup's file KEY after the policy's limits\n"
        "                        (repeatable), e.g. --cgroup pids.max=20 --cgroup memory.max=200M\n"
        "  --cgroup-version 1|2  cgroup v1 hierarchies or the v2 tree (default: /sys/fs/cgroup's)\n"
        "  --parent-cgroup NAME  the cgroup jobs are made under (default " JAIL_DEFAULT_PARENT ")\n"
        "  --netns PATH          join this network namespace (e.g. /run/netns/NAME) instead of a\n"
        "                        new empty one\n"
        "  --new-pid-ns          the VMM is PID 1 of a new PID namespace\n"
        "  --daemonize           detach (setsid, stdio on /dev/null); the jailer cleans up in the\n"
        "                        background\n"
        "  --resource-limit NAME=N  setrlimit NAME (nofile, fsize, nproc, as, core, cpu, data,\n"
        "                        memlock, stack, ...) to N or \"unlimited\" (repeatable)\n"
        "  -h, --help            show this help\n"
        "\n"
        "The launch options are `isovm launch`'s (isovm --help) and are checked before anything is\n"
        "made. --report FILE gets a \"cgroup\" object with the cgroup's limits and usage\n"
        "(docs/report.md); --control is refused under the jailer. Exit status: the job's, as\n"
        "`isovm launch` (docs/exit-codes.md); 125 for a jailer error.\n");
}

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

/* The VMM's report with the "cgroup" object added before its closing brace, to the user's file. */
static int report_merge(struct jail *j)
{
    FILE *in = fopen(j->report_host, "re");
    if (!in)
        return jerr("the job's report %s: %s", j->report_host, strerror(errno));
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    bool whole = feof(in) && !ferror(in);
    fclose(in);
    if (!whole)
        return jerr("the job's report %s: %s", j->report_host,
                    n == sizeof buf - 1 ? "larger than 1 MiB" : "read error");
    buf[n] = '\0';
    char *end = strrchr(buf, '}');
    if (!n)
        return 0; /* the VMM wrote none (it failed before the job ran) */
    if (!end)
        return jerr("the job's report %s is not a JSON object", j->report_host);
    FILE *out = fopen(j->report_user, "we");
    if (!out)
        return jerr("cannot write report %s: %s", j->report_user, strerror(errno));
    char *last = end;
    while (last > buf && (last[-1] == '\n' || last[-1] == ' '))
        last--;
    fwrite(buf, 1, (size_t)(last - buf), out);
    fprintf(out, ",\n");
    cgroup_report(&j->cg, out);
    fprintf(out, "\n}\n");
    if (fclose(out) != 0)
        return jerr("cannot write report %s: %s", j->report_user, strerror(errno));
    return 0;
}

/* The job's ledger keeper, started (or the keeper service reached) by the jailer outside the jail, its socket inherited by the
 * VMM (not close-on-exec) as --ledger-fd N; the VMM reads the reservation from it. 0 or 125. */
static int keeper_start(struct jail *j)
{
    char err[1024];
    int fd;
    pid_t pid = tenant_keeper_open(j->o, j->ledger_path, j->ledger_socket[0] ? j->ledger_socket
                                   : NULL, j->job_id, &fd, err, sizeof err);
    if (pid < 0) {
        log_err("%s", err);
        return EXIT_ISOVM_ERROR;
    }
    j->keeper_pid = pid;
    j->keeper_fd = fd;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
        return jerr("ledger keeper's socket: %s", strerror(errno));
    snprintf(j->ledger_fd_text, sizeof j->ledger_fd_text, "%d", fd);
    return 0;
}

/* Wait for the keeper to record the job's end (or settle it, when no VMM ran). */
static void keeper_wait(struct jail *j)
{
    if (j->keeper_pid <= 0)
        return;
    while (waitpid(j->keeper_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    j->keeper_pid = 0;
}

static int jail_run(const struct launch_opts *o, void *ctx)
{
    struct jail *j = ctx;
    j->o = o;
    j->netns_fd = -1;
    j->keeper_fd = -1;
    int rc = jail_validate(j);
    if (rc)
        return rc;
    if (o->policy.tenant[0]) { /* the ledger is found now: the environment is cleared below */
        const char *sock = tenant_keeper_socket(o);
        if (sock)
            snprintf(j->ledger_socket, sizeof j->ledger_socket, "%s", sock);
        if (o->ledger_path)
            snprintf(j->ledger_path, sizeof j->ledger_path, "%s", o->ledger_path);
        else if (!sock && ledger_default_path(j->ledger_path, sizeof j->ledger_path) < 0)
            return jerr("ledger: no default path (set $ISOVM_LEDGER or give --ledger PATH)");
        if (o->policy.job_id[0])
            snprintf(j->job_id, sizeof j->job_id, "%s", o->policy.job_id);
        else
            tenant_job_id(j->job_id, sizeof j->job_id);
    }
    if ((rc = vmm_argv_build(j)))
        return rc;
    /* nothing has been touched yet; now the order of docs/jailer.md */
    const char *hook = test_hooks_env();
    char hook_copy[256] = "";
    if (hook)
        snprintf(hook_copy, sizeof hook_copy, "%s", hook);
    if (syscall(SYS_close_range, 3, ~0u, 0) < 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    clearenv();
    if (hook_copy[0])
        setenv("ISOVM_TEST_HOOK", hook_copy, 1);
    if (j->snap_dir[0]) /* the Linux tier's per-uid snapshot cache, bound at the same path */
        setenv("ISOVM_SNAPSHOT_CACHE", j->snap_dir, 1);
    if (j->o->rootfs && j->o->policy.nendpoints) /* the network's forwards (jail_child.c) */
        setenv("TMPDIR", JAIL_TMP_PATH, 1);
    if ((rc = jail_make(j)))
        return rc;
    if (j->a->daemonize) { /* after the jail and cgroup exist: their errors still reach the caller */
        pid_t d = fork();
        if (d < 0) {
            rc = jerr("fork: %s", strerror(errno));
            goto cleanup;
        }
        if (d > 0)
            _exit(0); /* the background jailer owns the cleanup now */
        setsid();
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
            if (nul > 2)
                close(nul);
        }
    }
    struct sigaction sa = { .sa_handler = forward_signal };
    sigemptyset(&sa.sa_mask);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (j->o->policy.tenant[0] && (rc = keeper_start(j)))
        goto cleanup;
    /* --new-pid-ns: the child alone in a new PID namespace (clone like fork: the jailer's own
     * later children, e.g. a sanitizer's helper, stay in its namespace) */
    pid_t pid = j->a->new_pid_ns ? (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0)
                                 : fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        jail_child(j);
    }
    if (pid < 0) {
        rc = jerr("%s: %s", j->a->new_pid_ns ? "clone a new PID namespace" : "fork",
                  strerror(errno));
        sigprocmask(SIG_SETMASK, &old, NULL);
        goto cleanup;
    }
    child_pid = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (j->keeper_fd >= 0) { /* the VMM holds the keeper's socket now: its death is the EOF */
        close(j->keeper_fd);
        j->keeper_fd = -1;
    }
    for (int i = 0; i < j->ncg_fds; i++)
        close(j->cg_fds[i]);
    j->ncg_fds = 0;
    if (j->netns_fd >= 0)
        close(j->netns_fd);
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) {
            ws = EXIT_ISOVM_ERROR << 8;
            break;
        }
    child_pid = 0;
    keeper_wait(j); /* the job settled in the ledger before isovm jail returns */
    rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    if (WIFSIGNALED(ws))
        log_err("jail: the VMM was killed by signal %d", WTERMSIG(ws));
    if (j->report_user[0]) {
        int mrc = report_merge(j);
        if (mrc && rc == 0)
            rc = mrc;
    }
cleanup:
    if (j->keeper_fd >= 0) { /* no VMM was started: the keeper settles the reservation */
        close(j->keeper_fd);
        j->keeper_fd = -1;
    }
    keeper_wait(j);
    for (int i = 0; i < j->ncg_fds; i++)
        close(j->cg_fds[i]);
    if (cgroup_remove(&j->cg) < 0 && rc == 0)
        rc = EXIT_ISOVM_ERROR;
    jail_dir_remove(j);
    return rc;
}

int jail_main(int argc, char **argv)
{
    struct jail_args a;
    char err[1024];
    if (jail_args_parse(argc, argv, &a, err, sizeof err) < 0) {
        log_err("%s", err);
        fprintf(stderr, "usage: isovm jail --id ID --uid U --gid G [jail options] -- launch "
                "[launch options] [--] PROGRAM [ARGS...] (isovm jail --help)\n");
        return EXIT_ISOVM_ERROR;
    }
    if (a.help) {
        jail_usage(stdout);
        return 0;
    }
    static struct jail j; /* large: not on the stack */
    memset(&j, 0, sizeof j);
    j.a = &a;
    j.netns_fd = -1;
    /* the VMM gets the launch arguments as given; launch_cli may edit its own in place */
    j.launch_argv = calloc((size_t)a.launch_argc + 1, sizeof *j.launch_argv);
    for (int i = 0; j.launch_argv && i < a.launch_argc; i++)
        if (!(j.launch_argv[i] = strdup(a.launch_argv[i]))) {
            while (i-- > 0)
                free(j.launch_argv[i]);
            free(j.launch_argv);
            j.launch_argv = NULL;
        }
    if (!j.launch_argv)
        return jerr("out of memory");
    int rc = launch_cli(a.launch_argc, a.launch_argv, jail_run, &j);
    free(j.vmm_argv);
    for (int i = 0; i < a.launch_argc; i++)
        free(j.launch_argv[i]);
    free(j.launch_argv);
    return rc;
}
