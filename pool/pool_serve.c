/* `isovm pool serve`: the socket, N warm VMMs forked ahead, refilled as each takes a job. */
#include "pool/pool_serve.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "policy/policy.h"
#include "jail/jail_child.h"
#include "jail/jail_pool.h"
#include "pool/pool_jail.h"
#include "pool/pool_warm.h"
#include "pool/pool_wire.h"
#include "vmm/core/vm_image.h"
#include "vmm/run/launch.h"

#define POOL_SIZE_MAX     64
#define POOL_START_FAILS  3 /* warm VMMs failing in a row before they came up: the pool stops */
/* A VMM that took a job is replaced this much later while others are still warm, so that
 * making the new VM (a CPU's worth for a few ms) does not compete with that job's start. */
#define POOL_REFILL_DELAY_NS 30000000ull

void pool_usage(FILE *f)
{
    fprintf(f,
        "usage: isovm pool serve --socket PATH [--size N] [--memory SIZE] [--policy FILE]\n"
        "                        [--rootfs IMAGE [--kernel VMLINUX] [--vcpus N]] [--no-seccomp]\n"
        "                        [--jail --uid U --gid G [jail options]]\n"
        "\n"
        "Keeps N microVMs made ahead (RAM mapped, firmware and page tables in place, vCPU 0\n"
        "open), each in a VMM process of its own waiting at the Unix socket PATH (mode 0600,\n"
        "this user only). `isovm launch --pool PATH [options] -- PROGRAM` hands its job to one\n"
        "of them, with its stdio, working directory, umask and environment, and gets the exit\n"
        "status back; the pool makes another VMM meanwhile. Each VMM serves exactly one job and\n"
        "then exits: nothing of one job reaches the next. A job its VMM's machine does not fit\n"
        "(other memory; another tier; for the Linux tier another root image, kernel or vCPU\n"
        "count, a disk, grant or console log) is served cold by that VMM (its report says\n"
        "\"start\": \"pool-cold\").\n"
        "\n"
        "  --socket PATH   the socket to serve (a stale socket there is replaced)\n"
        "  --size N        warm VMMs kept ready (default 2; 1..%d)\n"
        "  --memory SIZE   their guest RAM (default: the policy's, else 64MiB)\n"
        "  --policy FILE   take the memory (and vCPUs) from this policy file\n"
        "  --rootfs IMAGE  the Linux tier: machines of Debian's kernel with IMAGE as their root,\n"
        "                  each restored from the booted guest's snapshot (made by the first),\n"
        "                  its init run until the root is mounted; a `launch --pool --rootfs\n"
        "                  IMAGE` job then starts at its job file (memory default 256MiB)\n"
        "  --kernel VMLINUX  the Linux tier's kernel (default: as isovm launch finds it)\n"
        "  --vcpus N       the Linux tier's vCPUs (default: the policy's, else 1)\n"
        "  --no-seccomp    waiting VMMs without their waiting filter (debugging only; a job's\n"
        "                  own filter follows its launch's options)\n"
        "  --jail --uid U --gid G [--chroot-base DIR] [--parent-cgroup NAME]\n"
        "        [--cgroup-version 1|2] [--cgroup KEY=VALUE]... [--netns PATH]\n"
        "        [--resource-limit NAME=N]...\n"
        "                  (last; as root) each VMM is jailed before it makes its VM, as isovm\n"
        "                  jail would jail it: its own cgroup, mount, IPC, UTS and network\n"
        "                  namespaces, an empty root with /dev/kvm, user U:G with no\n"
        "                  capabilities; a job's files (program, policy, grants, report,\n"
        "                  audit log) are bound into its VMM's jail when it comes, and its\n"
        "                  policy's limits set on the VMM's cgroup. Hypercall tier only\n"
        "  -h, --help      show this help\n"
        "\n"
        "SIGINT, SIGTERM or SIGHUP stops the pool: the socket is removed and the waiting VMMs\n"
        "exit; jobs already taken run to their end. Exit status 0, or 125 on an error (bad\n"
        "option, socket in use, VMMs that cannot start: no KVM). See docs/pool.md.\n",
        POOL_SIZE_MAX);
}

static int usage_error(const char *what)
{
    log_err("pool: %s", what);
    pool_usage(stderr);
    return EXIT_ISOVM_ERROR;
}

/* Bind the pool's datagram socket at path, replacing a stale socket (nothing bound there) but
 * never a live one or another file. SO_PASSCRED: every request carries its sender's uid. */
static int socket_bind(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path) {
        log_err("pool: --socket %s: path too long for a Unix socket", path);
        return -1;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            log_err("pool: --socket %s: exists and is not a socket", path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool live = probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof a) == 0;
        if (probe >= 0)
            close(probe);
        if (live) {
            log_err("pool: --socket %s: a pool is serving there already", path);
            return -1;
        }
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    mode_t old = umask(0177);
    /* SO_PASSCRED before bind: no request comes in without its sender's credentials */
    int rc = fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0
                 ? -1
                 : bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (rc < 0) {
        log_err("pool: --socket %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

struct slot {
    pid_t pid;
    int link;   /* -1: empty */
    bool ready;
    uint64_t refill_ns; /* when empty: when to fork its next VMM */
    struct jail_pool_vmm *jv; /* --jail: its VMM's jail (NULL: none, or handed to the gone list) */
};

/* --jail: the pool's jail options, a scratch jail to make each VMM's in, the jails of VMMs that
 * left their slot (took a job, or died), removed once the VMM is reaped. */
struct pool_jails {
    uid_t owner;                     /* the pool's user: its clients' */
    const struct jail_args *a;       /* NULL: no jail */
    const struct launch_opts *o;     /* the pool's policy: each VMM's cgroup limits until a job */
    struct jail *scratch;
    unsigned seq;
    struct jail_pool_vmm **gone;
    size_t ngone, cap;
};

/* Keep v until its VMM is reaped (pool_jails_reaped). */
static void jails_gone_add(struct pool_jails *pj, struct jail_pool_vmm *v)
{
    if (pj->ngone == pj->cap) {
        size_t cap = pj->cap ? pj->cap * 2 : 16;
        struct jail_pool_vmm **g = realloc(pj->gone, cap * sizeof *g);
        if (!g) { /* cannot keep it: removed when its VMM is gone at the latest: now would be
                   * too early; leave it to the operator (docs/pool.md) */
            log_err("pool: out of memory: the jail %s will not be removed", v->jail_dir);
            free(v);
            return;
        }
        pj->gone = g;
        pj->cap = cap;
    }
    pj->gone[pj->ngone++] = v;
}

/* A child was reaped: when it was a VMM of the gone list, remove its jail and cgroup. */
static void jails_reaped(struct pool_jails *pj, pid_t pid)
{
    for (size_t i = 0; i < pj->ngone; i++)
        if (pj->gone[i]->pid == pid) {
            jail_pool_vmm_remove(pj->gone[i]);
            free(pj->gone[i]);
            pj->gone[i] = pj->gone[--pj->ngone];
            return;
        }
}

/* Reap every child that ended (VMMs, helpers); their jails removed. */
static void children_reap(struct pool_jails *pj, bool block)
{
    pid_t pid;
    while ((pid = waitpid(-1, NULL, block ? 0 : WNOHANG)) > 0 || (pid < 0 && errno == EINTR))
        if (pid > 0)
            jails_reaped(pj, pid);
}

/* Fork one warm VMM into s (of the Linux tier when linux is set, else from img; jailed first
 * with --jail). 0, -errno, or -ECANCELED when its jail could not be made (said why). */
static int slot_fill(struct slot *s, int sock_fd, const struct vm_image *img,
                     const struct launch_opts *linux, bool wait_filter, struct pool_jails *pj)
{
    struct jail_pool_vmm *jv = NULL;
    if (pj->a) {
        if (!(jv = malloc(sizeof *jv)))
            return -ENOMEM;
        if (jail_pool_vmm_make(jv, pj->a, pj->seq++, pj->o, pj->scratch)) {
            free(jv);
            return -ECANCELED;
        }
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;
        if (jv) {
            jail_pool_vmm_forked(pj->scratch);
            jail_pool_vmm_remove(jv);
            free(jv);
        }
        return -e;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        if (jv) {
            jail_pool_vmm_forked(pj->scratch);
            jail_pool_vmm_remove(jv);
            free(jv);
        }
        return -e;
    }
    if (pid == 0) {
        if (jv)
            jail_enter(pj->scratch); /* its user, namespaces, cgroup and empty root from here */
        struct pool_warm_args a = { .sock_fd = sock_fd, .link_fd = sv[1], .img = img,
                                    .linux = linux, .wait_filter = wait_filter,
                                    .owner = pj->owner, .jailed = jv != NULL };
        pool_warm_main(&a);
    }
    close(sv[1]);
    if (jv) {
        jail_pool_vmm_forked(pj->scratch);
        jv->pid = pid;
    }
    *s = (struct slot){ .pid = pid, .link = sv[0], .ready = false, .jv = jv };
    return 0;
}

static void fds_std_open(void)
{
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0 && open("/dev/null", i ? O_WRONLY : O_RDONLY) != i)
            _exit(EXIT_ISOVM_ERROR);
}

static int serve(const char *path, int size, uint64_t memory, const struct launch_opts *linux,
                 bool wait_filter, struct pool_jails *pj)
{
    fds_std_open(); /* the socket, links and image never take 0-2, which each warm VMM frees
                     * for its client's stdio */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    /* every warm VMM's RAM starts as a copy-on-write map of one image made here (the
     * hypercall tier's; the Linux tier's machines map the booted guest's snapshot) */
    struct vm_image img = { .fd = -1 };
    if (sfd < 0 || (!linux && vm_image_make(&img, memory) < 0))
        return EXIT_ISOVM_ERROR;
    int lfd = socket_bind(path);
    if (lfd < 0) {
        vm_image_close(&img);
        return EXIT_ISOVM_ERROR;
    }
    struct slot slots[POOL_SIZE_MAX];
    for (int i = 0; i < size; i++)
        slots[i] = (struct slot){ .pid = -1, .link = -1 };
    int fails = 0, status = 0, ready = 0;
    bool announced = false, fork_failing = false;
    for (;;) {
        uint64_t now = mono_ns(), wake = UINT64_MAX;
        for (int i = 0; i < size; i++) {
            if (slots[i].link >= 0)
                continue;
            if (slots[i].refill_ns > now && (ready > 0 || fork_failing)) {
                wake = slots[i].refill_ns < wake ? slots[i].refill_ns : wake;
                continue;
            }
            int rc = slot_fill(&slots[i], lfd, &img, linux, wait_filter, pj);
            if (rc == -ECANCELED) { /* its jail: the message said why */
                if (++fails >= POOL_START_FAILS) {
                    log_err("pool: %d warm VMMs' jails in a row could not be made; stopping",
                            fails);
                    status = EXIT_ISOVM_ERROR;
                    goto stop;
                }
                slots[i].refill_ns = now + 1000000000ull;
                wake = slots[i].refill_ns < wake ? slots[i].refill_ns : wake;
                continue;
            }
            if (rc < 0) { /* no process or descriptor to spare now: try again in a second */
                if (!fork_failing)
                    log_err("pool: cannot start a warm VMM: %s (trying again every second)",
                            strerror(-rc));
                fork_failing = true;
                slots[i].refill_ns = now + 1000000000ull;
                wake = slots[i].refill_ns < wake ? slots[i].refill_ns : wake;
                continue;
            }
            fork_failing = false;
        }
        struct pollfd p[POOL_SIZE_MAX + 1];
        p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        for (int i = 0; i < size; i++)
            p[i + 1] = (struct pollfd){ .fd = slots[i].link, .events = POLLIN };
        int timeout = wake == UINT64_MAX ? -1 : (int)((wake - now) / 1000000 + 1);
        if (poll(p, (nfds_t)size + 1, timeout) < 0 && errno != EINTR) {
            log_err("pool: poll: %s", strerror(errno));
            status = EXIT_ISOVM_ERROR;
            goto stop;
        }
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            bool stop = false;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                stop |= si.ssi_signo != SIGCHLD;
            children_reap(pj, false); /* VMMs whose jobs are done, helpers */
            if (stop)
                goto stop;
        }
        for (int i = 0; i < size; i++) {
            if (!p[i + 1].revents)
                continue;
            char c;
            ssize_t n = read(slots[i].link, &c, 1);
            if (n == 1 && c == 'R' && !slots[i].ready) {
                slots[i].ready = true;
                fails = 0;
                if (++ready == size && !announced) {
                    log_err("pool: %d warm microVMs of %llu MiB%s%s ready at %s", size,
                            (unsigned long long)(memory >> 20), linux ? ", root " : "",
                            linux ? linux->rootfs : "", path);
                    announced = true;
                }
                continue;
            }
            if (n == 1 && c == POOL_LINK_TAKEN && slots[i].jv && slots[i].ready) {
                /* a jailed VMM took a job: a helper binds its files into the jail */
                fflush(NULL);
                pid_t h = fork();
                if (h == 0)
                    pool_jail_helper(slots[i].link, slots[i].jv);
                if (h < 0) /* the VMM sees its link close: the client gets 125 */
                    log_err("pool: cannot fork the helper of a jailed VMM's job: %s",
                            strerror(errno));
            } else if (n < 0 && errno == EINTR) {
                continue;
            }
            /* end of file: the VMM took a job (or died); a new one takes its place */
            close(slots[i].link);
            slots[i].link = -1;
            if (slots[i].jv) { /* removed once the VMM is reaped */
                jails_gone_add(pj, slots[i].jv);
                slots[i].jv = NULL;
            }
            if (slots[i].ready) {
                ready--;
                slots[i].refill_ns = mono_ns() + POOL_REFILL_DELAY_NS;
                continue;
            }
            int ws = 0; /* it ended while making its VM: its own message says why */
            if (waitpid(slots[i].pid, &ws, 0) == slots[i].pid) {
                if (WIFSIGNALED(ws))
                    log_err("pool: a warm VMM was killed by signal %d before it was ready",
                            WTERMSIG(ws));
                jails_reaped(pj, slots[i].pid);
            }
            if (++fails >= POOL_START_FAILS) {
                log_err("pool: %d warm VMMs in a row ended before they were ready; stopping",
                        fails);
                status = EXIT_ISOVM_ERROR;
                goto stop;
            }
        }
    }
stop:
    unlink(path);
    close(lfd);
    for (int i = 0; i < size; i++) { /* waiting VMMs see the end of their link and exit */
        if (slots[i].link >= 0)
            close(slots[i].link);
        if (slots[i].jv)
            jails_gone_add(pj, slots[i].jv);
    }
    /* --jail: the jails are removed once their VMMs are gone, the jobs taken run to their end */
    children_reap(pj, pj->ngone > 0);
    free(pj->gone);
    if (!linux)
        vm_image_close(&img);
    return status;
}

int pool_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        pool_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_ISOVM_ERROR : 0;
    }
    if (strcmp(argv[1], "serve") != 0)
        return usage_error("unknown subcommand (isovm pool serve --socket PATH)");
    static const struct option longopts[] = {
        { "socket", required_argument, NULL, 's' },
        { "size", required_argument, NULL, 'n' },
        { "memory", required_argument, NULL, 'm' },
        { "policy", required_argument, NULL, 'p' },
        { "rootfs", required_argument, NULL, 'r' },
        { "kernel", required_argument, NULL, 'k' },
        { "vcpus", required_argument, NULL, 'v' },
        { "no-seccomp", no_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    /* --jail: every argument after it is a jail option (jail/jail_args.c) */
    static struct jail_args jail_args;
    bool jailed = false;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--jail")) {
            char jerrmsg[1024];
            if (jail_args_parse_pool(argc - i, argv + i, &jail_args, jerrmsg, sizeof jerrmsg) < 0)
                return usage_error(jerrmsg);
            if (jail_args.help) {
                pool_usage(stdout);
                return 0;
            }
            jailed = true;
            argc = i;
            break;
        }
    const char *path = NULL, *memory = NULL, *policy_file = NULL, *rootfs = NULL, *kernel = NULL,
               *vcpus = NULL;
    long size = 2;
    bool wait_filter = true;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': path = optarg; break;
        case 'm': memory = optarg; break;
        case 'p': policy_file = optarg; break;
        case 'r': rootfs = optarg; break;
        case 'k': kernel = optarg; break;
        case 'v': vcpus = optarg; break;
        case 'S': wait_filter = false; break;
        case 'n': {
            char *end;
            errno = 0;
            size = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || size < 1 || size > POOL_SIZE_MAX) {
                char m[120];
                snprintf(m, sizeof m, "--size: expected 1..%d, got \"%s\"", POOL_SIZE_MAX, optarg);
                return usage_error(m);
            }
            break;
        }
        case 'h': pool_usage(stdout); return 0;
        case ':': return usage_error("an option needs a value");
        default: return usage_error("unknown option");
        }
    }
    if (optind < argc - 1)
        return usage_error("unexpected argument after the options");
    if (!path || !path[0])
        return usage_error("serve needs --socket PATH");
    if (!rootfs && (kernel || vcpus))
        return usage_error("--kernel and --vcpus need --rootfs (the Linux tier)");
    static struct launch_opts o; /* the Linux tier's machines: what a launch of them would give */
    struct policy *p = &o.policy;
    char err[1024];
    policy_defaults(p);
    if (rootfs)
        p->memory_bytes = POLICY_DEFAULT_MEMORY_LINUX;
    if (policy_file && policy_load(p, policy_file, err, sizeof err) != 0) {
        log_err("%s", err);
        return EXIT_ISOVM_ERROR;
    }
    const char *sets[][2] = { { "memory", memory }, { "vcpus", vcpus } };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        if (!sets[i][1])
            continue;
        char origin[300];
        snprintf(origin, sizeof origin, "--%s %s", sets[i][0], sets[i][1]);
        if (policy_set_from(p, sets[i][0], sets[i][1], origin, err, sizeof err) != 0)
            return usage_error(err);
    }
    if (policy_validate(p, err, sizeof err) != 0) {
        log_err("policy: %s", err);
        return EXIT_ISOVM_ERROR;
    }
    if (rootfs && (p->ngrants || p->nendpoints)) {
        log_err("pool: --policy %s: a pool's machines have no grants or endpoints (a job's own "
                "policy gives them; such a job is served cold)", policy_file);
        return EXIT_ISOVM_ERROR;
    }
    if (jailed && rootfs)
        return usage_error("--jail serves the hypercall tier only: drop --rootfs (Linux-tier "
                           "jobs: isovm jail, or a pool without --jail)");
    o.rootfs = rootfs;
    o.kernel = kernel;
    struct pool_jails pj = { .owner = geteuid(), .o = &o };
    if (jailed) {
        if (jail_pool_check(&jail_args))
            return EXIT_ISOVM_ERROR;
        pj.a = &jail_args;
        if (!(pj.scratch = calloc(1, sizeof *pj.scratch))) {
            log_err("pool: out of memory");
            return EXIT_ISOVM_ERROR;
        }
    }
    if (!wait_filter)
        fprintf(stderr, "isovm: WARNING: pool serve --no-seccomp: waiting VMMs run WITHOUT their "
                        "waiting filter (debugging only, never in production)\n");
    int status = serve(path, (int)size, p->memory_bytes, rootfs ? &o : NULL, wait_filter, &pj);
    free(pj.scratch);
    return status;
}
