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
#include "pool/pool_warm.h"
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
};

/* Fork one warm VMM into s (of the Linux tier when linux is set, else from img). 0 or -errno. */
static int slot_fill(struct slot *s, int sock_fd, const struct vm_image *img,
                     const struct launch_opts *linux, bool wait_filter)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (pid == 0) {
        struct pool_warm_args a = { .sock_fd = sock_fd, .link_fd = sv[1], .img = img,
                                    .linux = linux, .wait_filter = wait_filter };
        pool_warm_main(&a);
    }
    close(sv[1]);
    *s = (struct slot){ .pid = pid, .link = sv[0], .ready = false };
    return 0;
}

static void fds_std_open(void)
{
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0 && open("/dev/null", i ? O_WRONLY : O_RDONLY) != i)
            _exit(EXIT_ISOVM_ERROR);
}

static int serve(const char *path, int size, uint64_t memory, const struct launch_opts *linux,
                 bool wait_filter)
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
            int rc = slot_fill(&slots[i], lfd, &img, linux, wait_filter);
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
            while (waitpid(-1, NULL, WNOHANG) > 0) /* VMMs whose jobs are done */
                ;
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
            if (n < 0 && errno == EINTR)
                continue;
            /* end of file: the VMM took a job (or died); a new one takes its place */
            close(slots[i].link);
            slots[i].link = -1;
            if (slots[i].ready) {
                ready--;
                slots[i].refill_ns = mono_ns() + POOL_REFILL_DELAY_NS;
                continue;
            }
            int ws = 0; /* it ended while making its VM: its own message says why */
            if (waitpid(slots[i].pid, &ws, 0) == slots[i].pid && WIFSIGNALED(ws))
                log_err("pool: a warm VMM was killed by signal %d before it was ready",
                        WTERMSIG(ws));
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
    for (int i = 0; i < size; i++) /* waiting VMMs see the end of their link and exit */
        if (slots[i].link >= 0)
            close(slots[i].link);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
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
    o.rootfs = rootfs;
    o.kernel = kernel;
    if (!wait_filter)
        fprintf(stderr, "isovm: WARNING: pool serve --no-seccomp: waiting VMMs run WITHOUT their "
                        "waiting filter (debugging only, never in production)\n");
    return serve(path, (int)size, p->memory_bytes, rootfs ? &o : NULL, wait_filter);
}
