/* A tenant's budgets as written on the command line ("cpu=10h/day io=200GiB/month jobs=4") and
 * the calendar windows (UTC) that windowed budgets count in. Parsing and arithmetic only. */
#ifndef ISOVM_QUOTA_BUDGET_H
#define ISOVM_QUOTA_BUDGET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a budget limits. cpu, io and net are amounts used within a window; jobs and memory are
 * held at once (the running jobs of the tenant, the sum of their memory limits). */
enum quota_resource {
    QUOTA_CPU,    /* vCPU time, ns */
    QUOTA_IO,     /* bytes read and written through grants and disks */
    QUOTA_NET,    /* bytes received and sent over the network */
    QUOTA_JOBS,   /* jobs running at once */
    QUOTA_MEMORY, /* bytes of guest RAM of the jobs running at once */
    QUOTA_NRES
};

/* Calendar windows in UTC: the hour, the day (from midnight), the ISO week (from Monday
 * midnight), the month (from the 1st, midnight). QUOTA_AT_ONCE: not a window (jobs, memory). */
enum quota_window { QUOTA_AT_ONCE, QUOTA_HOUR, QUOTA_DAY, QUOTA_WEEK, QUOTA_MONTH };

struct quota_budget {
    bool set;                 /* false: no limit on this resource */
    uint64_t amount;          /* ns, bytes or a count, per the resource */
    enum quota_window window; /* QUOTA_AT_ONCE for jobs and memory, a calendar window else */
};

struct quota_budgets {
    struct quota_budget of[QUOTA_NRES];
};

/* "cpu", "io", "net", "jobs", "memory"; NULL past the end. */
const char *quota_resource_name(enum quota_resource r);
/* "hour", "day", "week", "month"; "" for QUOTA_AT_ONCE. */
const char *quota_window_name(enum quota_window w);

/* Apply one "NAME=VALUE" item to *b: cpu=DURATION/WINDOW ("10h/day", "90m/hour"),
 * io=SIZE/WINDOW and net=SIZE/WINDOW ("200GiB/month"), jobs=COUNT, memory=SIZE ("8GiB"), or
 * NAME=unlimited to lift that budget. Returns 0, or -EINVAL with a message naming the item and
 * what is wrong in err (always NUL-terminated when errlen > 0); *b is unchanged on error. */
int quota_budget_apply(struct quota_budgets *b, const char *item, char *err, size_t errlen);

/* The budget as the command line writes it ("cpu=10h/day", "jobs=4", "memory=8GiB"), into buf
 * (always NUL-terminated). */
void quota_budget_format(enum quota_resource r, const struct quota_budget *b, char *buf,
                         size_t len);

/* The start of the window that holds the wall-clock time `now_s` (seconds since the epoch), in
 * seconds since the epoch; 0 for QUOTA_AT_ONCE or a time gmtime cannot break down. */
int64_t quota_window_start(enum quota_window w, int64_t now_s);
/* The start of the next window after the one that holds now_s. */
int64_t quota_window_end(enum quota_window w, int64_t now_s);

#endif
