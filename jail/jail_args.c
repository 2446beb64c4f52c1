/* Parses and checks the `isovm jail` options (pure: nothing on the system is looked at). */
#include "jail/jail_args.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

bool jail_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > JAIL_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

bool jail_cgroup_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 64 || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

bool jail_cgroup_key_valid(const char *key)
{
    static const char *const refused[] = {
        "cgroup.procs", "cgroup.threads", "tasks", "cgroup.subtree_control", "cgroup.type",
        "cgroup.kill", "cgroup.freeze", "notify_on_release", "release_agent",
        "cgroup.clone_children", "cgroup.sane_behavior",
    };
    size_t n = strlen(key);
    if (n < 3 || n > 63 || key[0] == '.' || key[n - 1] == '.' || !strchr(key, '.') ||
        strstr(key, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (!strcmp(key, refused[i]))
            return false;
    return true;
}

int jail_rlimit_resource(const char *name)
{
    static const struct { const char *name; int res; } names[] = {
        { "as", RLIMIT_AS }, { "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU },
        { "data", RLIMIT_DATA }, { "fsize", RLIMIT_FSIZE }, { "memlock", RLIMIT_MEMLOCK },
        { "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC }, { "stack", RLIMIT_STACK },
        { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE }, { "rtprio", RLIMIT_RTPRIO },
        { "sigpending", RLIMIT_SIGPENDING },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name))
            return names[i].res;
    return -1;
}

/* Decimal 0..max, digits only. */
static int u64_parse(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            return -ERANGE;
    }
    if (v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

enum {
    JO_ID = 256, JO_UID, JO_GID, JO_BASE, JO_CGROUP, JO_CGVER, JO_PARENT, JO_NETNS, JO_PIDNS,
    JO_DAEMON, JO_RLIMIT,
};

static int set_cgroup(struct jail_args *a, const char *arg, char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return bad(err, errlen, "--cgroup: expected KEY=VALUE, got \"%s\"", arg);
    size_t klen = (size_t)(eq - arg);
    struct jail_cgroup_set *s = &a->cgroups[a->ncgroups];
    if (a->ncgroups >= JAIL_MAX_CGROUP_SETS)
        return bad(err, errlen, "--cgroup: at most %d", JAIL_MAX_CGROUP_SETS);
    if (klen >= sizeof s->key)
        return bad(err, errlen, "--cgroup %s: key too long", arg);
    memcpy(s->key, arg, klen);
    s->key[klen] = '\0';
    if (!jail_cgroup_key_valid(s->key))
        return bad(err, errlen, "--cgroup %s: \"%s\" is not a cgroup limit file name "
                   "(like memory.max or pids.max: a-z0-9_. with a dot, no '/' or \"..\")",
                   arg, s->key);
    const char *v = eq + 1;
    if (strlen(v) >= sizeof s->value || strpbrk(v, "\n\r"))
        return bad(err, errlen, "--cgroup %s: the value must be one line of at most %zu bytes",
                   arg, sizeof s->value - 1);
    if (!*v)
        return bad(err, errlen, "--cgroup %s: empty value", arg);
    snprintf(s->value, sizeof s->value, "%s", v);
    a->ncgroups++;
    return 0;
}

static int set_rlimit(struct jail_args *a, const char *arg, char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    char name[32];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof name)
        return bad(err, errlen, "--resource-limit: expected NAME=N, got \"%s\"", arg);
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    int res = jail_rlimit_resource(name);
    if (res < 0)
        return bad(err, errlen, "--resource-limit %s: unknown limit \"%s\" (as, core, cpu, data, "
                   "fsize, memlock, msgqueue, nice, nofile, nproc, rtprio, sigpending, stack)",
                   arg, name);
    uint64_t v;
    if (!strcmp(eq + 1, "unlimited"))
        v = RLIM_INFINITY;
    else if (u64_parse(eq + 1, UINT64_MAX - 1, &v) != 0)
        return bad(err, errlen, "--resource-limit %s: expected a number or \"unlimited\"", arg);
    for (unsigned i = 0; i < a->nrlimits; i++)
        if (a->rlimits[i].resource == res) {
            a->rlimits[i].value = v;
            return 0;
        }
    if (a->nrlimits >= JAIL_MAX_RLIMITS)
        return bad(err, errlen, "--resource-limit: at most %d", JAIL_MAX_RLIMITS);
    a->rlimits[a->nrlimits++] = (struct jail_rlimit){ res, v };
    return 0;
}

/* The options' loop. pool: `isovm pool serve --jail ...`: no --id (the pool names each VMM's
 * jail), no --new-pid-ns or --daemonize, nothing after the options. */
static int args_parse(int argc, char **argv, struct jail_args *a, bool pool, char *err,
                      size_t errlen)
{
    static const struct option longopts[] = {
        { "id", required_argument, NULL, JO_ID },
        { "uid", required_argument, NULL, JO_UID },
        { "gid", required_argument, NULL, JO_GID },
        { "chroot-base", required_argument, NULL, JO_BASE },
        { "cgroup", required_argument, NULL, JO_CGROUP },
        { "cgroup-version", required_argument, NULL, JO_CGVER },
        { "parent-cgroup", required_argument, NULL, JO_PARENT },
        { "netns", required_argument, NULL, JO_NETNS },
        { "new-pid-ns", no_argument, NULL, JO_PIDNS },
        { "daemonize", no_argument, NULL, JO_DAEMON },
        { "resource-limit", required_argument, NULL, JO_RLIMIT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    a->chroot_base = JAIL_DEFAULT_BASE;
    a->parent_cgroup = JAIL_DEFAULT_PARENT;
    bool have_id = false;
    int c, rc;
    uint64_t v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (pool && (c == JO_ID || c == JO_PIDNS || c == JO_DAEMON))
            return bad(err, errlen, "pool serve --jail: %s is not a pool's option (docs/pool.md)",
                       c == JO_ID ? "--id (each VMM's jail is named by the pool)"
                       : c == JO_PIDNS ? "--new-pid-ns" : "--daemonize");
        switch (c) {
        case JO_ID:
            if (!jail_id_valid(optarg))
                return bad(err, errlen, "--id \"%s\": expected 1..%d of letters, digits and '-'",
                           optarg, JAIL_ID_MAX);
            snprintf(a->id, sizeof a->id, "%s", optarg);
            have_id = true;
            break;
        case JO_UID:
        case JO_GID: {
            const char *opt = c == JO_UID ? "--uid" : "--gid";
            if (u64_parse(optarg, 0xfffffffeu, &v) != 0)
                return bad(err, errlen, "%s \"%s\": expected a number (0..4294967294)", opt, optarg);
            if (v == 0)
                return bad(err, errlen, "%s 0: the VMM must not run as root; give an "
                           "unprivileged id", opt);
            if (c == JO_UID) {
                a->uid = (uid_t)v;
                a->have_uid = true;
            } else {
                a->gid = (gid_t)v;
                a->have_gid = true;
            }
            break;
        }
        case JO_BASE:
            if (optarg[0] != '/' || strlen(optarg) > 512)
                return bad(err, errlen, "--chroot-base \"%s\": expected an absolute path "
                           "(at most 512 bytes)", optarg);
            a->chroot_base = optarg;
            break;
        case JO_CGROUP:
            if ((rc = set_cgroup(a, optarg, err, errlen)))
                return rc;
            break;
        case JO_CGVER:
            if (strcmp(optarg, "1") && strcmp(optarg, "2"))
                return bad(err, errlen, "--cgroup-version \"%s\": expected 1 or 2", optarg);
            a->cgroup_version = optarg[0] - '0';
            break;
        case JO_PARENT:
            if (!jail_cgroup_name_valid(optarg))
                return bad(err, errlen, "--parent-cgroup \"%s\": expected one name of 1..64 "
                           "letters, digits, '.', '_' and '-'", optarg);
            a->parent_cgroup = optarg;
            break;
        case JO_NETNS:
            if (optarg[0] != '/')
                return bad(err, errlen, "--netns \"%s\": expected an absolute path "
                           "(e.g. /run/netns/NAME)", optarg);
            a->netns = optarg;
            break;
        case JO_PIDNS:
            a->new_pid_ns = true;
            break;
        case JO_DAEMON:
            a->daemonize = true;
            break;
        case JO_RLIMIT:
            if ((rc = set_rlimit(a, optarg, err, errlen)))
                return rc;
            break;
        case 'h':
            a->help = true;
            return 0;
        case ':':
            return bad(err, errlen, "option %s needs a value", argv[optind - 1]);
        default:
            return bad(err, errlen, "unknown option %s", argv[optind - 1]);
        }
    }
    if (pool) {
        if (!a->have_uid || !a->have_gid)
            return bad(err, errlen, "pool serve --jail: --uid and --gid are required (the "
                       "VMMs run as that unprivileged user and group)");
        if (optind < argc)
            return bad(err, errlen, "pool serve --jail: unexpected \"%s\" (the jail's options "
                       "come last)", argv[optind]);
        return 0;
    }
    if (!have_id)
        return bad(err, errlen, "%s", "jail: --id ID is required");
    if (!a->have_uid || !a->have_gid)
        return bad(err, errlen, "jail: --uid and --gid are required (the VMM runs as that "
                   "unprivileged user and group)");
    if (optind >= argc || strcmp(argv[optind], "launch") != 0)
        return bad(err, errlen, "jail: expected \"-- launch [launch options] -- PROGRAM [ARGS...]\""
                   " after the jail options%s%s%s", optind < argc ? ", got \"" : "",
                   optind < argc ? argv[optind] : "", optind < argc ? "\"" : "");
    a->launch_argc = argc - optind;
    a->launch_argv = argv + optind;
    return 0;
}

int jail_args_parse(int argc, char **argv, struct jail_args *a, char *err, size_t errlen)
{
    return args_parse(argc, argv, a, false, err, errlen);
}

int jail_args_parse_pool(int argc, char **argv, struct jail_args *a, char *err, size_t errlen)
{
    return args_parse(argc, argv, a, true, err, errlen);
}
