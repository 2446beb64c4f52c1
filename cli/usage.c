/* `isovm --help`: every command, the launch options, and what isovm check does. */
#include "cli/usage.h"
#include <stdarg.h>
#include "lib/log.h"
#include "vmm/run/launch.h"
#include "vmm/run/launch_cli.h"

void isovm_usage(FILE *f)
{
    fprintf(f,
        "usage: isovm launch [options] [--] PROGRAM [ARGS...]\n"
        "       isovm check [--print] FILE...\n"
        "       isovm cap list|revoke|info --control PATH ... (isovm cap --help)\n"
        "       isovm image build|from-dir ... -o IMG (isovm image --help)\n"
        "       isovm quota set|show|report|serve|keeper ... (isovm quota --help)\n"
        "       isovm pool serve --socket PATH [--size N] [--memory SIZE] (isovm pool --help)\n"
        "       isovm jail --id ID --uid U --gid G [jail options] -- launch ... (isovm jail --help)\n"
        "       isovm --help | --version\n"
        "\n"
        "Runs a static Linux x86-64 program in its own KVM microVM. Every system call the\n"
        "program makes is forwarded to isovm, which implements it.\n"
        "\n");
    launch_usage_options(f);
    fprintf(f,
        "\n"
        "check: validate each policy FILE without running anything and print \"FILE: ok\", or\n"
        "with --print the effective policy as JSON. Errors go to stderr as FILE:LINE:COL: KEY: ...\n"
        "Exit status 0 when every FILE is valid, 1 when any is not, 125 on bad usage.\n"
        "\n");
    launch_usage_exit_status(f);
}

int cli_bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_errv(fmt, ap);
    va_end(ap);
    isovm_usage(stderr);
    return EXIT_ISOVM_ERROR;
}

