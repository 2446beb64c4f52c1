/* `isovm launch`'s command line: options -> the policy (file, then overrides) -> the job. */
#include "vmm/run/launch_cli.h"
#include "vmm/run/launch_warm.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/log.h"
#include "lib/self_exec.h"
#include "lib/test_hooks.h"
#include "vmm/linux/lnet.h"
#include "vmm/run/jail_probe.h"
#include "vmm/run/tenant.h"

int (*launch_cli_pool_client)(const char *path, int argc, char **argv);
bool launch_cli_pool_job;

void launch_usage_options(FILE *f)
{
    fprintf(f,
        "launch options:\n"
        "  --policy FILE         read the job's limits from a JSON policy file (docs/policy.md)\n"
        "  --memory SIZE         guest RAM (default 64MiB, 256MiB with --rootfs; 8MiB..64GiB; suffixes\n"
        "                        K, M, G, KiB, MiB, GiB)\n"
        "  --cpu-quota Q         vCPU time per period, all threads together: \"25%%\" of the period or\n"
        "                        \"25ms\" (default 0: none)\n"
        "  --cpu-period D        the quota's period (default 100ms; 1ms..10s)\n"
        "  --cpu-time-limit D    total vCPU time before the job is killed (default 0: none)\n"
        "  --timeout D           wall-clock time before the job is killed (default 0: none)\n"
        "  --max-threads N       threads at once, main thread included (default 16; 1..64)\n"
        "  --max-processes N     processes at once, the first and unreaped ones included\n"
        "                        (default 16; 1..64)\n"
        "  --max-capabilities N  open descriptors at once, stdin/out/err included (default 64; 3..65536)\n"
        "  --set KEY=VALUE       set any policy field by its dotted key (repeatable), e.g.\n"
        "                        --set io.write.bandwidth=4MiB/s --set syscalls.deny=ptrace,kill\n"
        "\n"
        "sandbox options (docs/policy.md):\n"
        "  --grant GUEST=HOST[:ro|:rw|:RIGHT,RIGHT...]\n"
        "                        show host path HOST at guest path GUEST (repeatable; default ro;\n"
        "                        rights: read write create delete list stat seek truncate)\n"
        "  --connect PROTO:HOST:PORT\n"
        "                        let the job connect to tcp or udp HOST:PORT (repeatable; HOST a\n"
        "                        numeric IPv4 or [IPv6] address; no network without it; docs/network.md)\n"
        "  --listen tcp:HOST:PORT let the job listen on tcp HOST:PORT (repeatable)\n"
        "  --cwd PATH            the job's working directory, a guest path (default /)\n"
        "  --syscall-profile P   default, deterministic or none (default: default)\n"
        "  --syscall-action A    for a syscall outside the profile: errno, kill or log (default errno)\n"
        "  --seed N              the deterministic profile's random seed (0..18446744073709551615)\n"
        "  --audit FILE          write the audit log (JSON lines) to FILE\n"
        "  --control PATH        serve the control socket (isovm cap revoke ...) at PATH\n"
        "  --job-id ID           name the job in the audit log and the report (1..64 of A-Za-z0-9._-)\n"
        "\n"
        "quota options (docs/quota.md):\n"
        "  --tenant T            charge the job to tenant T's budgets in the ledger: its worst case\n"
        "                        is reserved before it starts (refused with 125 when nothing is\n"
        "                        left), its CPU time limit clamped to the budget's rest, its usage\n"
        "                        checkpointed every second, and it is stopped (\"quota\") when the\n"
        "                        tenant's budget runs out\n"
        "  --ledger PATH         the ledger (default: $ISOVM_LEDGER, else /var/lib/isovm/ledger.db\n"
        "                        for root, else ~/.local/state/isovm/ledger.db)\n"
        "  --ledger-socket PATH  reach the ledger through the keeper service listening at PATH\n"
        "                        (isovm quota keeper; default $ISOVM_LEDGER_SOCKET; without one,\n"
        "                        each job starts a keeper of its own)\n"
        "\n"
        "  --env KEY=VALUE       add a variable to the job's environment (repeatable; default empty)\n"
        "  --report FILE         write a JSON usage report when the job ends (- for stderr)\n"
        "  --pool PATH           run the job in a microVM made ahead by the pool serving at\n"
        "                        PATH (isovm pool serve; docs/pool.md)\n"
        "  -v, --verbose         log unknown syscalls and other details to stderr\n"
        "  --no-seccomp          DEBUGGING ONLY: run the VMM without its own seccomp filter\n"
        "                        (a warning is printed every time; docs/security.md)\n"
        "  -h, --help            show this help\n"
        "\n"
        "The Linux tier (docs/linux-tier.md): PROGRAM runs under Debian's stock kernel and\n"
        "isovm's init, in the root file system IMAGE (ext4, squashfs or erofs):\n"
        "  --rootfs IMAGE        boot the kernel with IMAGE as /dev/vda, read-only under a\n"
        "                        tmpfs overlay that takes the job's writes\n"
        "  --disk IMAGE[:ro|:rw] a further disk, /dev/vdb, /dev/vdc, ... in order (default :ro)\n"
        "  --kernel VMLINUX      a PVH vmlinux with modules.cpio beside it (default: the cache\n"
        "                        scripts/linux-kernel.sh fills)\n"
        "  --console-log FILE    the kernel's messages (ttyS0) to FILE\n"
        "  --no-snapshot         boot the kernel afresh: neither restore a snapshot of a booted\n"
        "                        guest from the cache nor make one (by default the first run\n"
        "                        makes one and later runs with the same kernel, memory, vCPUs\n"
        "                        and disk count start from it; $ISOVM_SNAPSHOT_CACHE)\n"
        "\n"
        "The policy file is read first; the other options then override its fields in\n"
        "command-line order, wherever they appear (--grant adds to the file's grants). A\n"
        "duration D needs a unit (250us, 500ms, 1.5s, 2m, 1h); 0 means none.\n");
}

void launch_usage_exit_status(FILE *f)
{
    fprintf(f,
        "launch exit status: the job's own; 128+N when signal N kills it (a CPU fault, a signal\n"
        "it sends itself, or SIGINT/SIGTERM/SIGHUP sent to isovm); 124 timeout reached; 152 CPU\n"
        "time limit or the tenant's CPU budget reached; 153 the tenant's I/O or network budget\n"
        "reached; 125 isovm error (bad option or policy, no KVM, launch refused by a budget); 126 program refused\n"
        "(bad ELF); 127 not found. A job that dies after the memory limit refused it is reported\n"
        "as \"memory limit reached\" (exit_reason oom). See docs/exit-codes.md, docs/report.md.\n");
}

void launch_usage(FILE *f)
{
    fprintf(f,
        "usage: isovm launch [options] [--] PROGRAM [ARGS...]\n"
        "       isovm launch --rootfs IMAGE [options] [--] COMMAND [ARGS...]\n"
        "\n"
        "Runs a static Linux x86-64 program in its own KVM microVM. Every system call the\n"
        "program makes is forwarded to isovm, which implements it.\n"
        "\n");
    launch_usage_options(f);
    fputc('\n', f);
    launch_usage_exit_status(f);
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_errv(fmt, ap);
    va_end(ap);
    launch_usage(stderr);
    return EXIT_ISOVM_ERROR;
}

/* A policy field given on the command line, applied after the policy file. */
struct override {
    const char *key;   /* NULL for --grant */
    const char *value;
    const char *opt;   /* "--memory" ...; NULL for --set KEY=VALUE; "--connect", "--listen"
                        * (key NULL) for endpoints */
};

/* The policy: defaults (the Linux tier's memory default with --rootfs: Debian's kernel needs
 * more than the hypercall tier's default), then the file, then the overrides in order, then the
 * cross-field checks. Returns 0 or the exit status. */
static int build_policy(struct policy *p, const char *file, const struct override *ov, int n,
                        bool linux_tier)
{
    char err[1024];
    policy_defaults(p);
    if (linux_tier)
        p->memory_bytes = POLICY_DEFAULT_MEMORY_LINUX;
    if (file && policy_load(p, file, err, sizeof err) != 0) {
        log_err("%s", err);
        return EXIT_ISOVM_ERROR;
    }
    for (int i = 0; i < n; i++) {
        char origin[300];
        if (ov[i].opt)
            snprintf(origin, sizeof origin, "%s %s", ov[i].opt, ov[i].value);
        bool endpoint = !ov[i].key && ov[i].opt && strcmp(ov[i].opt, "--grant") != 0;
        int rc = ov[i].key ? policy_set_from(p, ov[i].key, ov[i].value, ov[i].opt ? origin : NULL,
                                             err, sizeof err)
               : endpoint  ? policy_add_endpoint(p, strcmp(ov[i].opt, "--listen") == 0 ? EP_LISTEN
                                                 : EP_CONNECT, ov[i].value, origin, err, sizeof err)
                           : policy_add_grant(p, ov[i].value, origin, err, sizeof err);
        if (rc != 0)
            return bad_usage("%s", err);
    }
    if (policy_validate(p, err, sizeof err) != 0) {
        log_err("policy: %s%s", err, file || n ? "" : " (defaults)");
        return EXIT_ISOVM_ERROR;
    }
    return 0;
}

enum {
    OPT_POLICY = 256, OPT_CPU_QUOTA, OPT_CPU_PERIOD, OPT_CPU_TIME_LIMIT, OPT_TIMEOUT,
    OPT_MAX_THREADS, OPT_MAX_PROCESSES, OPT_MAX_CAPS, OPT_SET, OPT_GRANT, OPT_CWD, OPT_SYSCALL_PROFILE,
    OPT_SYSCALL_ACTION, OPT_SEED, OPT_AUDIT, OPT_CONTROL, OPT_JOB_ID, OPT_TENANT, OPT_LEDGER,
    OPT_LEDGER_FD, OPT_LEDGER_SOCKET,
    OPT_CONNECT = 400, OPT_LISTEN,
};
enum { OPT_NO_SECCOMP = 0x1000, OPT_POOL };
enum { OPT_ROOTFS = 0x1100, OPT_DISK, OPT_KERNEL, OPT_CONSOLE_LOG, OPT_NO_SNAPSHOT }; /* the Linux tier */

int launch_cli(int argc, char **argv, launch_then_fn then, void *ctx)
{
    static const struct option longopts[] = {
        { "policy", required_argument, NULL, OPT_POLICY },
        { "memory", required_argument, NULL, 'm' },
        { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
        { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
        { "cpu-time-limit", required_argument, NULL, OPT_CPU_TIME_LIMIT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "max-threads", required_argument, NULL, OPT_MAX_THREADS },
        { "max-processes", required_argument, NULL, OPT_MAX_PROCESSES },
        { "max-capabilities", required_argument, NULL, OPT_MAX_CAPS },
        { "set", required_argument, NULL, OPT_SET },
        { "grant", required_argument, NULL, OPT_GRANT },
        { "connect", required_argument, NULL, OPT_CONNECT },
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "cwd", required_argument, NULL, OPT_CWD },
        { "syscall-profile", required_argument, NULL, OPT_SYSCALL_PROFILE },
        { "syscall-action", required_argument, NULL, OPT_SYSCALL_ACTION },
        { "seed", required_argument, NULL, OPT_SEED },
        { "audit", required_argument, NULL, OPT_AUDIT },
        { "control", required_argument, NULL, OPT_CONTROL },
        { "job-id", required_argument, NULL, OPT_JOB_ID },
        { "tenant", required_argument, NULL, OPT_TENANT },
        { "ledger", required_argument, NULL, OPT_LEDGER },
        { "ledger-socket", required_argument, NULL, OPT_LEDGER_SOCKET },
        { "ledger-fd", required_argument, NULL, OPT_LEDGER_FD }, /* isovm jail's keeper socket */
        { "env", required_argument, NULL, 'e' },
        { "report", required_argument, NULL, 'r' },
        { "verbose", no_argument, NULL, 'v' },
        { "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
        { "pool", required_argument, NULL, OPT_POOL },
        { "rootfs", required_argument, NULL, OPT_ROOTFS },
        { "disk", required_argument, NULL, OPT_DISK },
        { "kernel", required_argument, NULL, OPT_KERNEL },
        { "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
        { "no-snapshot", no_argument, NULL, OPT_NO_SNAPSHOT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    /* option -> policy key, for the dedicated overrides */
    static const struct { int opt; const char *name, *key; } direct[] = {
        { 'm', "--memory", "memory" },
        { OPT_CPU_QUOTA, "--cpu-quota", "cpu.quota" },
        { OPT_CPU_PERIOD, "--cpu-period", "cpu.period" },
        { OPT_CPU_TIME_LIMIT, "--cpu-time-limit", "cpu.time_limit" },
        { OPT_TIMEOUT, "--timeout", "timeout" },
        { OPT_MAX_THREADS, "--max-threads", "max_threads" },
        { OPT_MAX_PROCESSES, "--max-processes", "max_processes" },
        { OPT_MAX_CAPS, "--max-capabilities", "max_capabilities" },
        { OPT_GRANT, "--grant", NULL }, /* policy_add_grant */
        { OPT_CONNECT, "--connect", NULL }, /* policy_add_endpoint */
        { OPT_LISTEN, "--listen", NULL },
        { OPT_CWD, "--cwd", "cwd" },
        { OPT_SYSCALL_PROFILE, "--syscall-profile", "syscalls.profile" },
        { OPT_SYSCALL_ACTION, "--syscall-action", "syscalls.action" },
        { OPT_SEED, "--seed", "seed" },
        { OPT_AUDIT, "--audit", "audit" },
        { OPT_CONTROL, "--control", "control" },
        { OPT_JOB_ID, "--job-id", "job_id" },
        { OPT_TENANT, "--tenant", "tenant" },
    };
    struct launch_opts o = { 0 };
    const char *policy_file = NULL, *ledger_path = NULL, *pool = NULL;
    int ledger_fd = -1;
    struct tenant_link tenant = { .fd = -1 };
    char **env = calloc((size_t)argc + 1, sizeof *env);
    struct override *ov = calloc((size_t)argc + 1, sizeof *ov);
    char **keys = calloc((size_t)argc + 1, sizeof *keys); /* --set keys, copied */
    int envc = 0, nov = 0, nkeys = 0, c, status;
    if (!env || !ov || !keys) {
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_POLICY:
            if (policy_file) {
                status = bad_usage("--policy given twice (\"%s\" and \"%s\")", policy_file, optarg);
                goto out;
            }
            policy_file = optarg;
            break;
        case OPT_SET: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                status = bad_usage("--set: expected KEY=VALUE, got \"%s\"", optarg);
                goto out;
            }
            keys[nkeys] = strndup(optarg, (size_t)(eq - optarg));
            if (!keys[nkeys]) {
                status = EXIT_ISOVM_ERROR;
                goto out;
            }
            ov[nov++] = (struct override){ keys[nkeys++], eq + 1, NULL };
            break;
        }
        case 'm':
        case OPT_CPU_QUOTA:
        case OPT_CPU_PERIOD:
        case OPT_CPU_TIME_LIMIT:
        case OPT_TIMEOUT:
        case OPT_MAX_THREADS:
        case OPT_MAX_PROCESSES:
        case OPT_MAX_CAPS:
        case OPT_GRANT:
        case OPT_CONNECT:
        case OPT_LISTEN:
        case OPT_CWD:
        case OPT_SYSCALL_PROFILE:
        case OPT_SYSCALL_ACTION:
        case OPT_SEED:
        case OPT_AUDIT:
        case OPT_CONTROL:
        case OPT_JOB_ID:
        case OPT_TENANT:
            for (unsigned i = 0; i < sizeof direct / sizeof direct[0]; i++)
                if (direct[i].opt == c)
                    ov[nov++] = (struct override){ direct[i].key, optarg, direct[i].name };
            break;
        case 'e':
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                status = bad_usage("--env: expected KEY=VALUE, got \"%s\"", optarg);
                goto out;
            }
            env[envc++] = optarg;
            break;
        case 'r':
            o.report_path = optarg;
            break;
        case OPT_LEDGER:
            if (!optarg[0]) {
                status = bad_usage("%s", "--ledger: expected a path");
                goto out;
            }
            ledger_path = optarg;
            break;
        case OPT_LEDGER_SOCKET:
            if (!optarg[0]) {
                status = bad_usage("%s", "--ledger-socket: expected a path");
                goto out;
            }
            o.ledger_socket = optarg;
            break;
        case OPT_LEDGER_FD: {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 3 || v > 1023) {
                status = bad_usage("--ledger-fd: expected a descriptor number 3..1023, got \"%s\"",
                                   optarg);
                goto out;
            }
            ledger_fd = (int)v;
            break;
        }
        case 'v':
            log_verbose = 1;
            break;
        case OPT_NO_SECCOMP:
            o.no_seccomp = true;
            break;
        case OPT_POOL:
            if (!optarg[0]) {
                status = bad_usage("%s", "--pool: expected the pool's socket path");
                goto out;
            }
            pool = optarg;
            break;
        case OPT_ROOTFS:
            if (o.rootfs) {
                status = bad_usage("--rootfs given twice (\"%s\" and \"%s\")", o.rootfs, optarg);
                goto out;
            }
            o.rootfs = optarg;
            break;
        case OPT_DISK: {
            if (o.ndisks == LAUNCH_MAX_DISKS) {
                status = bad_usage("--disk: at most %d disks", LAUNCH_MAX_DISKS);
                goto out;
            }
            /* IMAGE[:ro|:rw]: a trailing ":ro" or ":rw" is the mode, the rest the path */
            size_t n = strlen(optarg);
            bool rw = false;
            if (n > 3 && (!strcmp(optarg + n - 3, ":ro") || !strcmp(optarg + n - 3, ":rw"))) {
                rw = optarg[n - 1] == 'w';
                optarg[n - 3] = '\0';
            }
            if (!optarg[0]) {
                status = bad_usage("%s", "--disk: expected IMAGE[:ro|:rw]");
                goto out;
            }
            o.disks[o.ndisks].path = optarg;
            o.disks[o.ndisks++].rw = rw;
            break;
        }
        case OPT_KERNEL:
            o.kernel = optarg;
            break;
        case OPT_CONSOLE_LOG:
            o.console_log = optarg;
            break;
        case OPT_NO_SNAPSHOT:
            o.no_snapshot = true;
            break;
        case 'h':
            launch_usage(stdout);
            status = 0;
            goto out;
        case ':':
            status = bad_usage("option %s needs a value", argv[optind - 1]);
            goto out;
        default:
            status = bad_usage("unknown option %s", argv[optind - 1]);
            goto out;
        }
    }
    if (optind >= argc) {
        status = bad_usage("%s", "launch: missing PROGRAM (usage: isovm launch [options] -- PROGRAM [ARGS...])");
        goto out;
    }
    if (!o.rootfs && (o.ndisks || o.kernel || o.console_log || o.no_snapshot)) {
        status = bad_usage("%s", "--disk, --kernel, --console-log and --no-snapshot need --rootfs (the Linux tier)");
        goto out;
    }
    if (pool && then && !launch_cli_pool_job) { /* isovm jail's (a jailed pool's helper parses
                                                 * a job that came through a pool) */
        status = bad_usage("%s", "--pool is isovm launch's (a pool's VMMs are not jailed one by one)");
        goto out;
    }
    if (pool && launch_cli_pool_client) { /* the pool's VMM reads the rest */
        status = launch_cli_pool_client(pool, argc, argv);
        goto out;
    }
    if ((status = build_policy(&o.policy, policy_file, ov, nov, o.rootfs != NULL)) != 0)
        goto out;
    o.policy_file = policy_file;
    o.ledger_path = ledger_path;
    if (ledger_fd >= 0 && (then || !o.policy.tenant[0])) {
        status = bad_usage("%s", "--ledger-fd is isovm jail's, for a job with a tenant");
        goto out;
    }
    o.program = argv[optind];
    o.argv = argv + optind;
    o.argc = argc - optind;
    o.envp = env;
    o.envc = envc;
    if (o.rootfs && o.policy.nendpoints > 0 && !lnet_linked() && launch_warm_client_fd() >= 0) {
        /* a pool's VMM cannot become isovm-slirp: it is not isovm launch */
        status = bad_usage("%s", "--pool: a Linux-tier job with network endpoints launches on its "
                           "own (its VMM is isovm-slirp, with libslirp): drop --pool");
        goto out;
    }
    if (o.rootfs && o.policy.nendpoints > 0 && !lnet_linked()) {
        /* the Linux tier's network needs libslirp, which this (static) isovm lacks: the same
         * VMM linked with it takes over with the same arguments, before anything is built or
         * started (a jail's jailer too, so that it binds that binary and its libraries) */
        self_exec_sibling(LNET_SLIRP_BINARY, "the Linux tier's network (policy endpoints)");
        status = EXIT_ISOVM_ERROR;
        goto out;
    }
    if (!then && test_hook("jail-probe"))
        jail_probe(); /* isovm-hooks only: what a jailed VMM sees */
    if (!then && o.policy.tenant[0]) { /* the keeper reserves while the microVM is built */
        if ((status = tenant_start(&o, &tenant, ledger_path, ledger_fd)) != 0)
            goto out;
        o.tenant = &tenant;
    }
    status = then ? then(&o, ctx) : launch_run(&o);
out:
    if (tenant.fd >= 0 && !tenant.end_sent) { /* a job that never started */
        struct ledger_usage none = { 0 };
        tenant_end_send(&tenant, &none, status == EXIT_NOT_FOUND    ? "not-found"
                                      : status == EXIT_CANNOT_EXEC ? "cannot-exec"
                                                                   : "internal-error");
    }
    tenant_end_wait(&tenant);
    for (int i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    free(ov);
    free(env);
    return status;
}

