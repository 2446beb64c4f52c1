/* The policy's "syscalls" section: profile and action names, the errno, and allow/deny lists of
 * syscalls by name or number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_internal.h"
#include "lib/syscall_names.h"

#define ERRNO_MAX 4095

const char *const syscall_profile_names[] = { "default", "deterministic", "none", NULL };
const char *const syscall_action_names[] = { "errno", "kill", "log", NULL };

/* Names glibc gives another number's name for. */
static const struct { const char *name; int value; } errno_aliases[] = {
    { "EWOULDBLOCK", EWOULDBLOCK },
    { "EDEADLOCK", EDEADLOCK },
    { "ENOTSUP", ENOTSUP },
};

const char *errno_name_of(int e)
{
    return e > 0 && e <= ERRNO_MAX ? strerrorname_np(e) : NULL;
}

static int errno_by_name(const char *name)
{
    for (int e = 1; e <= ERRNO_MAX; e++) {
        const char *n = strerrorname_np(e);
        if (n && strcmp(n, name) == 0)
            return e;
    }
    for (size_t i = 0; i < sizeof errno_aliases / sizeof errno_aliases[0]; i++)
        if (strcmp(errno_aliases[i].name, name) == 0)
            return errno_aliases[i].value;
    return -ENOENT;
}

/* The errno name within two edits of name, or NULL. */
static const char *errno_suggest(const char *name)
{
    const char *best = NULL;
    unsigned best_d = 3;
    for (int e = 1; e <= ERRNO_MAX; e++) {
        const char *n = strerrorname_np(e);
        unsigned d = n ? text_edits(name, n) : 99;
        if (d < best_d && 2 * d <= strlen(n)) {
            best_d = d;
            best = n;
        }
    }
    return best;
}

int errno_value_parse(const struct pval *v, int *e, char *msg, size_t len)
{
    if (v->type == V_INTEGER) {
        if (v->num < 1 || v->num > ERRNO_MAX)
            return policy_msgf(msg, len, "%s is outside 1..%d", v->desc, ERRNO_MAX);
        *e = (int)v->num;
        return 0;
    }
    if (v->type == V_STRING && strlen(v->str) == v->len) {
        int n = errno_by_name(v->str);
        if (n > 0) {
            *e = n;
            return 0;
        }
        const char *best = errno_suggest(v->str);
        return policy_msgf(msg, len, "unknown errno name %s%s%s%s; expected a name like \"EPERM\", "
                           "\"EACCES\" or \"ENOSYS\", or a number 1..%d", v->desc,
                           best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "",
                           ERRNO_MAX);
    }
    return policy_msgf(msg, len, "expected an errno name like \"EPERM\" or a number 1..%d, got %s",
                       ERRNO_MAX, v->desc);
}

int syscall_entry_parse(const struct pval *v, unsigned *nr, char *msg, size_t len)
{
    if (v->type == V_INTEGER) {
        if (v->num < 0 || v->num >= POLICY_SYSCALL_NR_MAX)
            return policy_msgf(msg, len, "syscall number %s is outside 0..%d", v->desc,
                               POLICY_SYSCALL_NR_MAX - 1);
        *nr = (unsigned)v->num;
        return 0;
    }
    if (v->type == V_STRING && strlen(v->str) == v->len) {
        int n = syscall_nr_by_name(v->str);
        if (n >= 0 && n < POLICY_SYSCALL_NR_MAX) {
            *nr = (unsigned)n;
            return 0;
        }
        const char *best = syscall_name_suggest(v->str);
        return policy_msgf(msg, len, "unknown syscall %s%s%s%s (names are Linux x86-64's, like "
                           "\"openat\", or isovm's \"isovm_cap_derive\"; or give the number)",
                           v->desc, best ? " (did you mean \"" : "", best ? best : "",
                           best ? "\"?)" : "");
    }
    return policy_msgf(msg, len, "expected a syscall name like \"openat\" or a number 0..%d, got %s",
                       POLICY_SYSCALL_NR_MAX - 1, v->desc);
}

int syscall_list_parse(const char *text, uint64_t *bitmap, char *msg, size_t len)
{
    uint64_t set[POLICY_SYSCALL_NR_MAX / 64] = { 0 };
    const char *s = text;
    while (*s) { /* "" is the empty list */
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char item[64];
        struct pval v = { .type = V_STRING, .str = item, .len = n };
        unsigned nr;
        if (n == 0 || n >= sizeof item)
            return policy_msgf(msg, len, "expected syscall names or numbers separated by commas, "
                               "like \"openat,read,231\"");
        memcpy(item, s, n);
        item[n] = '\0';
        text_quote(item, n, v.desc, sizeof v.desc);
        if (strspn(item, "0123456789") == n) {
            v.type = V_INTEGER;
            v.num = n > 6 ? POLICY_SYSCALL_NR_MAX : strtoll(item, NULL, 10);
            snprintf(v.desc, sizeof v.desc, "%s", item);
        }
        if (syscall_entry_parse(&v, &nr, msg, len))
            return -EINVAL;
        set[nr / 64] |= 1ull << (nr % 64);
        s = comma ? comma + 1 : s + n;
        if (comma && !*s)
            return policy_msgf(msg, len, "a list ends with a comma");
    }
    memcpy(bitmap, set, sizeof set);
    return 0;
}

static void write_list(const uint64_t *bitmap, FILE *f)
{
    const char *sep = "";
    fputc('[', f);
    for (unsigned nr = 0; nr < POLICY_SYSCALL_NR_MAX; nr++) {
        if (!(bitmap[nr / 64] & (1ull << (nr % 64))))
            continue;
        const char *name = syscall_name_any(nr);
        if (name)
            fprintf(f, "%s\"%s\"", sep, name);
        else
            fprintf(f, "%s%u", sep, nr);
        sep = ", ";
    }
    fputc(']', f);
}

const char *syscall_profile_name(enum syscall_profile p)
{
    return (unsigned)p <= SCP_NONE ? syscall_profile_names[p] : "?";
}

const char *syscall_action_name(enum syscall_action a)
{
    return (unsigned)a <= SCA_LOG ? syscall_action_names[a] : "?";
}

int syscall_policy_errno(const struct syscall_policy *s)
{
    return s->errno_value ? s->errno_value : s->profile == SCP_DEFAULT ? ENOSYS : EPERM;
}

void syscalls_write_json(const struct syscall_policy *s, FILE *f)
{
    int e = syscall_policy_errno(s);
    const char *en = errno_name_of(e);
    fprintf(f, "{\"profile\": \"%s\", \"action\": \"%s\", \"errno\": ",
            syscall_profile_name(s->profile), syscall_action_name(s->action));
    if (en)
        fprintf(f, "\"%s\"", en);
    else
        fprintf(f, "%d", e);
    fputs(", \"allow\": ", f);
    write_list(s->allow, f);
    fputs(", \"deny\": ", f);
    write_list(s->deny, f);
    fputc('}', f);
}
