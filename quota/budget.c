/* Parses and prints a tenant's budget items ("cpu=10h/day") and computes calendar windows in UTC. */
#include "quota/budget.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "policy/units.h"

static const char *const resource_names[QUOTA_NRES] = { "cpu", "io", "net", "jobs", "memory" };
static const char *const window_names[] = { "", "hour", "day", "week", "month" };

const char *quota_resource_name(enum quota_resource r)
{
    return (unsigned)r < QUOTA_NRES ? resource_names[r] : NULL;
}

const char *quota_window_name(enum quota_window w)
{
    return (unsigned)w <= QUOTA_MONTH ? window_names[w] : "";
}

static bool windowed(enum quota_resource r)
{
    return r == QUOTA_CPU || r == QUOTA_IO || r == QUOTA_NET;
}

int quota_budget_apply(struct quota_budgets *b, const char *item, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    const char *eq = item ? strchr(item, '=') : NULL;
    if (!eq) {
        snprintf(err, errlen, "budget '%s': expected NAME=VALUE (cpu=10h/day, io=200GiB/month, "
                 "net=5GiB/day, jobs=4, memory=8GiB)", item ? item : "");
        return -EINVAL;
    }
    size_t nlen = (size_t)(eq - item);
    int r = -1;
    for (int i = 0; i < QUOTA_NRES; i++)
        if (strlen(resource_names[i]) == nlen && !strncmp(item, resource_names[i], nlen))
            r = i;
    if (r < 0) {
        snprintf(err, errlen, "budget '%s': unknown budget '%.*s' (known: cpu, io, net, jobs, "
                 "memory)", item, (int)(nlen > 32 ? 32 : nlen), item);
        return -EINVAL;
    }
    const char *val = eq + 1;
    struct quota_budget nb = { .set = true, .window = QUOTA_AT_ONCE };
    if (!strcmp(val, "unlimited")) {
        b->of[r] = (struct quota_budget){ 0 };
        return 0;
    }
    char amount[64];
    const char *slash = strchr(val, '/');
    if (windowed((enum quota_resource)r)) {
        if (!slash) {
            snprintf(err, errlen, "budget '%s': %s needs a window: %s=AMOUNT/hour, /day, /week or "
                     "/month", item, resource_names[r], resource_names[r]);
            return -EINVAL;
        }
        int w = -1;
        for (int i = QUOTA_HOUR; i <= QUOTA_MONTH; i++)
            if (!strcmp(slash + 1, window_names[i]))
                w = i;
        if (w < 0) {
            snprintf(err, errlen, "budget '%s': unknown window '%.16s' (hour, day, week, month)",
                     item, slash + 1);
            return -EINVAL;
        }
        nb.window = (enum quota_window)w;
    } else if (slash) {
        snprintf(err, errlen, "budget '%s': %s is held at once and takes no window", item,
                 resource_names[r]);
        return -EINVAL;
    }
    size_t alen = slash ? (size_t)(slash - val) : strlen(val);
    if (alen == 0 || alen >= sizeof amount) {
        snprintf(err, errlen, "budget '%s': %s amount", item, alen ? "too long an" : "no");
        return -EINVAL;
    }
    memcpy(amount, val, alen);
    amount[alen] = '\0';
    int rc;
    const char *what;
    switch (r) {
    case QUOTA_CPU:
        rc = duration_parse(amount, &nb.amount);
        what = "a duration (10h, 90m, 500s)";
        break;
    case QUOTA_JOBS:
        rc = count_parse(amount, &nb.amount);
        what = "a whole number";
        break;
    default:
        rc = size_parse(amount, &nb.amount);
        what = "a size (200GiB, 512MiB)";
        break;
    }
    if (rc < 0) {
        if (rc == -ERANGE)
            snprintf(err, errlen, "budget '%s': '%s' is too large", item, amount);
        else
            snprintf(err, errlen, "budget '%s': '%s' is not %s", item, amount, what);
        return -EINVAL;
    }
    b->of[r] = nb;
    return 0;
}

void quota_budget_format(enum quota_resource r, const struct quota_budget *b, char *buf,
                         size_t len)
{
    char amount[48];
    if (!len)
        return;
    if ((unsigned)r >= QUOTA_NRES) {
        buf[0] = '\0';
        return;
    }
    if (!b->set) {
        snprintf(buf, len, "%s=unlimited", resource_names[r]);
        return;
    }
    if (r == QUOTA_CPU)
        duration_format(b->amount, amount, sizeof amount);
    else if (r == QUOTA_JOBS)
        snprintf(amount, sizeof amount, "%llu", (unsigned long long)b->amount);
    else if (b->amount && b->amount % 1024 == 0)
        size_format(b->amount, amount, sizeof amount);
    else /* size_format would say "N bytes", which does not parse back */
        snprintf(amount, sizeof amount, "%lluB", (unsigned long long)b->amount);
    if (b->window == QUOTA_AT_ONCE)
        snprintf(buf, len, "%s=%s", resource_names[r], amount);
    else
        snprintf(buf, len, "%s=%s/%s", resource_names[r], amount, quota_window_name(b->window));
}

/* The window's start for a broken-down UTC time: fields below the window zeroed, the week
 * taken back to Monday. */
static int64_t start_of(enum quota_window w, struct tm tm)
{
    tm.tm_sec = 0;
    tm.tm_min = 0;
    if (w != QUOTA_HOUR)
        tm.tm_hour = 0;
    if (w == QUOTA_MONTH)
        tm.tm_mday = 1;
    if (w == QUOTA_WEEK)
        tm.tm_mday -= (tm.tm_wday + 6) % 7; /* timegm normalises a day before the 1st */
    tm.tm_isdst = 0;
    return (int64_t)timegm(&tm);
}

int64_t quota_window_start(enum quota_window w, int64_t now_s)
{
    struct tm tm;
    time_t t = (time_t)now_s;
    if (w == QUOTA_AT_ONCE || (unsigned)w > QUOTA_MONTH || !gmtime_r(&t, &tm))
        return 0;
    return start_of(w, tm);
}

int64_t quota_window_end(enum quota_window w, int64_t now_s)
{
    struct tm tm;
    time_t t = (time_t)quota_window_start(w, now_s);
    if (w == QUOTA_AT_ONCE || (unsigned)w > QUOTA_MONTH || !gmtime_r(&t, &tm))
        return 0;
    switch (w) {
    case QUOTA_HOUR: tm.tm_hour += 1; break;
    case QUOTA_DAY: tm.tm_mday += 1; break;
    case QUOTA_WEEK: tm.tm_mday += 7; break;
    default: tm.tm_mon += 1; break;
    }
    tm.tm_isdst = 0;
    return (int64_t)timegm(&tm);
}
