/* The isovm command line: `isovm launch [options] -- PROGRAM [ARGS...]`. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "launch.h"
#include "log.h"
#include "units.h"

#define ISOVM_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: isovm launch [options] [--] PROGRAM [ARGS...]\n"
        "       isovm --help | --version\n"
        "\n"
        "Runs a static Linux x86-64 program in its own KVM microVM. Every system call the\n"
        "program makes is forwarded to isovm, which implements it.\n"
        "\n"
        "launch options:\n"
        "  --memory SIZE       guest RAM (default 64MiB; 8MiB..64GiB; suffixes K, M, G, KiB, MiB, GiB)\n"
        "  --env KEY=VALUE     add a variable to the job's environment (repeatable; default empty)\n"
        "  --report FILE       write a JSON usage report when the job ends (- for stderr)\n"
        "  -v, --verbose       log unknown syscalls and other details to stderr\n"
        "  -h, --help          show this help\n"
        "\n"
        "exit status: the job's own; 128+N when a CPU fault kills it with signal N;\n"
        "125 isovm error (bad option, no KVM); 126 program refused (bad ELF); 127 not found.\n");
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_err("%s", msg);
    usage(stderr);
    return EXIT_ISOVM_ERROR;
}

static int cmd_launch(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "memory", required_argument, NULL, 'm' },
        { "env", required_argument, NULL, 'e' },
        { "report", required_argument, NULL, 'r' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct launch_opts o = { 0 };
    policy_defaults(&o.policy);
    char **env = calloc((size_t)argc + 1, sizeof *env);
    if (!env)
        return EXIT_ISOVM_ERROR;
    int envc = 0, c, status;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': {
            uint64_t v;
            int rc = size_parse(optarg, &v);
            if (rc) {
                status = bad_usage("--memory: expected a size like 64MiB, got \"%s\"", optarg);
                goto out;
            }
            if (v < ISOVM_MIN_MEMORY || v > ISOVM_MAX_MEMORY || v % 4096) {
                status = bad_usage("--memory: %s is outside 8MiB..64GiB or not a multiple of 4KiB",
                                   optarg);
                goto out;
            }
            o.policy.memory_bytes = v;
            break;
        }
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
        case 'v':
            log_verbose = 1;
            break;
        case 'h':
            usage(stdout);
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
    o.program = argv[optind];
    o.argv = argv + optind;
    o.argc = argc - optind;
    o.envp = env;
    o.envc = envc;
    status = launch_run(&o);
out:
    free(env);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_ISOVM_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("isovm %s (hypercall ABI %d)\n", ISOVM_VERSION, 1);
        return 0;
    }
    if (!strcmp(cmd, "launch"))
        return cmd_launch(argc - 1, argv + 1);
    return bad_usage("unknown command \"%s\" (try: isovm launch -- PROGRAM)", cmd);
}
