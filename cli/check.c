/* `isovm check [--print] FILE...`: validate policy files without running anything. */
#include "cli/check.h"
#include <getopt.h>
#include <stdio.h>
#include "cli/usage.h"
#include "lib/log.h"
#include "policy/policy.h"
#include "vmm/run/launch.h"

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "print", no_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int print = 0, c, status = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            print = 1;
            break;
        case 'h':
            isovm_usage(stdout);
            return 0;
        default:
            return cli_bad_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_bad_usage("%s", "check: missing FILE (usage: isovm check [--print] FILE...)");
    for (int i = optind; i < argc; i++) {
        struct policy p;
        char err[1024];
        policy_defaults(&p);
        int rc = policy_load(&p, argv[i], err, sizeof err);
        if (rc == 0) { /* policy_load checks too; this catches anything it could not place */
            char verr[800];
            if (policy_validate(&p, verr, sizeof verr) != 0) {
                snprintf(err, sizeof err, "%.200s: %s", argv[i], verr);
                rc = -1;
            }
        }
        if (rc != 0) {
            fprintf(stderr, "%s\n", err);
            status = 1;
        } else if (print) {
            policy_write_json(&p, stdout, 0);
            putchar('\n');
        } else {
            printf("%s: ok\n", argv[i]);
        }
    }
    if (fflush(stdout) != 0) {
        log_err("check: cannot write the output");
        return EXIT_ISOVM_ERROR;
    }
    return status;
}

