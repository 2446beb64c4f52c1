/* Names of capability rights, for the policy file, the audit log and messages. */
#include "policy/rights.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const names[CAP_RIGHTS_COUNT] = {
    "read", "write", "create", "delete", "list", "stat", "seek", "truncate", "exec",
};

const char *right_name(uint32_t bit)
{
    for (unsigned i = 0; i < CAP_RIGHTS_COUNT; i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}

int rights_from_name(const char *name, uint32_t *rights)
{
    static const struct { const char *name; uint32_t rights; } sets[] = {
        { "ro", CAP_RIGHTS_RO }, { "rw", CAP_RIGHTS_RW }, { "rx", CAP_RIGHTS_RX },
        { "rwx", CAP_RIGHTS_ALL },
    };
    for (unsigned i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        if (!strcmp(name, sets[i].name)) {
            *rights = sets[i].rights;
            return 0;
        }
    }
    for (unsigned i = 0; i < CAP_RIGHTS_COUNT; i++) {
        if (!strcmp(name, names[i])) {
            *rights = 1u << i;
            return 0;
        }
    }
    return -EINVAL;
}

static void format(uint32_t rights, bool json, char *buf, size_t len)
{
    size_t o = 0;
    if (!len)
        return;
    buf[0] = '\0';
    if (json)
        o += (size_t)snprintf(buf + o, len - o, "[");
    for (unsigned i = 0; i < CAP_RIGHTS_COUNT && o < len; i++) {
        if (!(rights & (1u << i)))
            continue;
        o += (size_t)snprintf(buf + o, len - o, json ? "%s\"%s\"" : "%s%s",
                              (json ? o > 1 : o > 0) ? "," : "", names[i]);
    }
    if (o < len) {
        if (json)
            snprintf(buf + o, len - o, "]");
        else if (o == 0)
            snprintf(buf, len, "none");
    }
}

void rights_format(uint32_t rights, char *buf, size_t len) { format(rights, false, buf, len); }
void rights_format_json(uint32_t rights, char *buf, size_t len) { format(rights, true, buf, len); }
