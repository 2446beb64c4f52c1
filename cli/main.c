/* The isovm command line: dispatches to launch, jail, check, cap, image, quota and pool, and the overall usage. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli/check.h"
#include "cli/control_client.h"
#include "cli/image.h"
#include "cli/quota.h"
#include "cli/usage.h"
#include "firmware/abi.h"
#include "jail/jail.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/self_exec.h"
#include "pool/pool_client.h"
#include "pool/pool_serve.h"
#include "vmm/run/launch.h"
#include "vmm/run/launch_cli.h"
#include "vmm/run/san_noproc.h"

#define ISOVM_VERSION "0.1.0"

int main(int argc, char **argv)
{
    clock_main_mark(); /* the launch's phases count from here (docs/report.md) */
    self_args_note(argc, argv); /* for a job handed to isovm-slirp (launch_cli) */
    if (argc < 2) {
        isovm_usage(stderr);
        return EXIT_ISOVM_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        isovm_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("isovm %s (hypercall ABI %d)\n", ISOVM_VERSION, ISOVM_ABI_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "launch")) {
        launch_cli_pool_client = pool_client_run;
        return san_exit_without_proc(launch_cli(argc - 1, argv + 1, NULL, NULL));
    }
    if (!strcmp(cmd, "pool"))
        return pool_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "jail"))
        return jail_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "cap"))
        return cap_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "image"))
        return cmd_image(argc - 1, argv + 1);
    if (!strcmp(cmd, "quota"))
        return cmd_quota(argc - 1, argv + 1);
    return cli_bad_usage("unknown command \"%s\" (try: isovm launch -- PROGRAM, isovm check FILE)", cmd);
}
