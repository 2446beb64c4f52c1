/* The usage report: JSON describing how the job ended and what it used. */
#ifndef ISOVM_REPORT_H
#define ISOVM_REPORT_H
#include "job.h"
#include "launch.h"

/* Write the report to path ("-": stderr). 0 or -errno (with a message printed). */
int report_write(const char *path, const struct job *job, const struct launch_opts *o,
                 uint64_t wall_ns);

#endif
