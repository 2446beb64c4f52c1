/* The usage report: JSON describing how the job ended and what it used. */
#ifndef ISOVM_REPORT_H
#define ISOVM_REPORT_H
#include <stdio.h>
#include "vmm/core/job.h"
#include "vmm/run/launch.h"

/* The report's exit_reason for how the job ended ("exit", "signal", "quota", ...). */
const char *report_end_name(enum job_end e);
/* Write the report to path ("-": stderr). 0 or -errno (with a message printed). */
int report_write(const char *path, const struct job *job, const struct launch_opts *o,
                 uint64_t wall_ns);

/* The two halves of report_write: open path ("-": stderr) for writing, NULL after a message;
 * then write the report to f and close it (unless stderr). The launch opens the file before the
 * VMM's seccomp filter is installed (docs/security.md), writes it when the job ends. */
FILE *report_open(const char *path);
int report_write_to(FILE *f, const char *path, const struct job *job,
                    const struct launch_opts *o, uint64_t wall_ns);

#endif
