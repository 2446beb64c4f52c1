/* Parses sizes such as "64MiB" into bytes, overflow-checked. */
#include "units.h"
#include <ctype.h>
#include <errno.h>
#include <strings.h>

int size_parse(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    uint64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            return -ERANGE;
        s++;
    }
    static const struct { const char *suffix; unsigned shift; } units[] = {
        { "", 0 }, { "b", 0 },
        { "k", 10 }, { "kb", 10 }, { "kib", 10 },
        { "m", 20 }, { "mb", 20 }, { "mib", 20 },
        { "g", 30 }, { "gb", 30 }, { "gib", 30 },
        { "t", 40 }, { "tb", 40 }, { "tib", 40 },
    };
    for (unsigned i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(s, units[i].suffix) == 0) {
            if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
                return -ERANGE;
            *out = v << units[i].shift;
            return 0;
        }
    }
    return -EINVAL;
}
