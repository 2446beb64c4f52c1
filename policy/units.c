/* Parses and prints sizes ("64MiB"), durations ("500ms"), percentages ("25%") and counts,
 * overflow-checked. */
#include "policy/units.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Leading decimal digits of *s into *v, advancing *s. -EINVAL if there are none, -ERANGE on
 * overflow (the digits are still consumed). */
static int digits(const char **s, uint64_t *v)
{
    const char *p = *s;
    int rc = 0;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    *v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (__builtin_mul_overflow(*v, 10, v) || __builtin_add_overflow(*v, (uint64_t)(*p - '0'), v))
            rc = -ERANGE;
    }
    *s = p;
    return rc;
}

int size_parse(const char *s, uint64_t *out)
{
    uint64_t v;
    if (!s)
        return -EINVAL;
    int rc = digits(&s, &v);
    if (rc == -EINVAL)
        return rc;
    static const struct { const char *suffix; unsigned shift; } units[] = {
        { "", 0 }, { "b", 0 },
        { "k", 10 }, { "kb", 10 }, { "kib", 10 },
        { "m", 20 }, { "mb", 20 }, { "mib", 20 },
        { "g", 30 }, { "gb", 30 }, { "gib", 30 },
        { "t", 40 }, { "tb", 40 }, { "tib", 40 },
    };
    for (unsigned i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(s, units[i].suffix) == 0) {
            if (rc)
                return rc;
            if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
                return -ERANGE;
            *out = v << units[i].shift;
            return 0;
        }
    }
    return -EINVAL;
}

int count_parse(const char *s, uint64_t *out)
{
    uint64_t v;
    if (!s)
        return -EINVAL;
    int rc = digits(&s, &v);
    if (rc == -EINVAL || *s)
        return -EINVAL;
    if (rc)
        return rc;
    *out = v;
    return 0;
}

int duration_parse(const char *s, uint64_t *ns)
{
    static const struct { const char *unit; uint64_t ns; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "ms", 1000000 },
        { "s", 1000000000ull }, { "m", 60000000000ull }, { "min", 60000000000ull },
        { "h", 3600000000000ull },
    };
    uint64_t whole, frac = 0;
    unsigned fdigits = 0; /* significant fraction digits kept in frac */
    if (!s)
        return -EINVAL;
    const char *start = s;
    int range = digits(&s, &whole);
    if (range == -EINVAL)
        return -EINVAL;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        const char *f = s;
        while (isdigit((unsigned char)*s))
            s++;
        const char *end = s;
        while (end > f && end[-1] == '0') /* "1.50s" is "1.5s" */
            end--;
        if (end - f > 18)                 /* never whole nanoseconds, whatever the unit */
            return -EINVAL;
        for (; f < end; f++, fdigits++)
            frac = frac * 10 + (uint64_t)(*f - '0');
    }
    if (*s == '\0') { /* no unit: only a plain zero means anything */
        if (range == 0 && whole == 0 && !strchr(start, '.')) {
            *ns = 0;
            return 0;
        }
        return -EINVAL;
    }
    for (unsigned i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(s, units[i].unit) != 0)
            continue;
        if (range)
            return range;
        uint64_t pow10 = 1;
        for (unsigned d = 0; d < fdigits; d++)
            pow10 *= 10;
        unsigned __int128 fr = (unsigned __int128)frac * units[i].ns;
        if (fr % pow10)
            return -EINVAL; /* finer than a nanosecond */
        uint64_t v;
        if (__builtin_mul_overflow(whole, units[i].ns, &v) ||
            __builtin_add_overflow(v, (uint64_t)(fr / pow10), &v))
            return -ERANGE;
        *ns = v;
        return 0;
    }
    return -EINVAL;
}

int percent_parse(const char *s, uint64_t *bp)
{
    uint64_t whole, frac = 0;
    if (!s)
        return -EINVAL;
    int range = digits(&s, &whole);
    if (range == -EINVAL)
        return -EINVAL;
    if (*s == '.') {
        s++;
        unsigned n = 0;
        for (; isdigit((unsigned char)*s); s++, n++) {
            if (n == 2)
                return -EINVAL; /* at most two decimals */
            frac = frac * 10 + (uint64_t)(*s - '0');
        }
        if (n == 0)
            return -EINVAL;
        if (n == 1)
            frac *= 10;
    }
    if (strcmp(s, "%") != 0)
        return -EINVAL;
    uint64_t v;
    if (range || __builtin_mul_overflow(whole, 100, &v) || __builtin_add_overflow(v, frac, &v))
        return -ERANGE;
    *bp = v;
    return 0;
}

void size_format(uint64_t bytes, char *buf, size_t len)
{
    static const char *const names[] = { "TiB", "GiB", "MiB", "KiB" };
    static const unsigned shifts[] = { 40, 30, 20, 10 };
    if (!len)
        return;
    for (unsigned i = 0; bytes && i < 4; i++) {
        if (bytes % (1ull << shifts[i]) == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(bytes >> shifts[i]), names[i]);
            return;
        }
    }
    snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
}

void duration_format(uint64_t ns, char *buf, size_t len)
{
    static const struct { const char *unit; uint64_t ns; } units[] = {
        { "h", 3600000000000ull }, { "m", 60000000000ull }, { "s", 1000000000ull },
        { "ms", 1000000 }, { "us", 1000 },
    };
    if (!len)
        return;
    for (unsigned i = 0; ns && i < sizeof units / sizeof units[0]; i++) {
        if (ns % units[i].ns == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(ns / units[i].ns), units[i].unit);
            return;
        }
    }
    snprintf(buf, len, ns ? "%lluns" : "%llu", (unsigned long long)ns);
}

void percent_format(uint64_t bp, char *buf, size_t len)
{
    unsigned long long whole = bp / 100, frac = bp % 100;
    if (frac == 0)
        snprintf(buf, len, "%llu%%", whole);
    else if (frac % 10 == 0)
        snprintf(buf, len, "%llu.%llu%%", whole, frac / 10);
    else
        snprintf(buf, len, "%llu.%02llu%%", whole, frac);
}
