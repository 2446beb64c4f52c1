/* Launching a job: program file, microVM, loader, stack, run, report. */
#ifndef ISOVM_LAUNCH_H
#define ISOVM_LAUNCH_H
#include <stdint.h>

#define ISOVM_DEFAULT_MEMORY (64ull << 20)
#define ISOVM_MIN_MEMORY     (8ull << 20)
#define ISOVM_MAX_MEMORY     (64ull << 30)
#define ISOVM_PIE_BASE       0x400000ull

/* Exit statuses isovm itself uses (docs/exit-codes.md). */
#define EXIT_ISOVM_ERROR   125
#define EXIT_CANNOT_EXEC   126
#define EXIT_NOT_FOUND     127

struct launch_opts {
    uint64_t memory;
    const char *program;
    int argc;                 /* job argv, argv[0] = program as given */
    char *const *argv;
    int envc;
    char **envp;
    const char *report_path;  /* NULL: none; "-": stderr */
};

/* Run the job to its end. Returns the status isovm should exit with. */
int launch_run(const struct launch_opts *o);

#endif
