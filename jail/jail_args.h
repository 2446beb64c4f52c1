/* The `isovm jail` command line: parsed and checked without touching the system. */
#ifndef ISOVM_JAIL_ARGS_H
#define ISOVM_JAIL_ARGS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JAIL_ID_MAX          64
#define JAIL_MAX_CGROUP_SETS 32
#define JAIL_MAX_RLIMITS     16
#define JAIL_DEFAULT_BASE    "/srv/isovm"
#define JAIL_DEFAULT_PARENT  "isovm"

struct jail_cgroup_set {   /* --cgroup KEY=VALUE */
    char key[64];
    char value[256];
};

struct jail_rlimit {       /* --resource-limit NAME=N */
    int resource;          /* RLIMIT_* */
    uint64_t value;        /* RLIM_INFINITY for "unlimited" */
};

struct jail_args {
    char id[JAIL_ID_MAX + 1];
    uid_t uid;
    gid_t gid;
    bool have_uid, have_gid;
    const char *chroot_base;       /* default JAIL_DEFAULT_BASE */
    const char *parent_cgroup;     /* default JAIL_DEFAULT_PARENT */
    int cgroup_version;            /* 0: detect; 1 or 2 */
    const char *netns;             /* NULL: a new empty network namespace */
    bool new_pid_ns, daemonize, help;
    struct jail_cgroup_set cgroups[JAIL_MAX_CGROUP_SETS];
    unsigned ncgroups;
    struct jail_rlimit rlimits[JAIL_MAX_RLIMITS];
    unsigned nrlimits;
    int launch_argc;               /* argv from "launch" on: the VMM's command */
    char **launch_argv;
};

/* Parse `isovm jail [options] -- launch ...` (argv[0] is "jail"). Checks every value's form
 * (id, numbers, cgroup key names, rlimit names) but not the system. 0, or -EINVAL with one line
 * in err naming the option and the value. --help sets a->help and returns 0. */
int jail_args_parse(int argc, char **argv, struct jail_args *a, char *err, size_t errlen);

/* The jail options of `isovm pool serve ... --jail [options]` (argv[0] is "--jail"): as above but
 * for --id, --new-pid-ns and --daemonize (refused), and nothing may follow them. */
int jail_args_parse_pool(int argc, char **argv, struct jail_args *a, char *err, size_t errlen);

/* 1..64 of A-Za-z0-9 and '-'. */
bool jail_id_valid(const char *id);

/* A cgroup interface file name: "memory.max", "pids.max", "cpu.cfs_quota_us" ...: 1..63 of
 * a-z0-9_. with a '.', not starting with '.', no "..", never cgroup.procs/tasks/... which would
 * move processes or change the tree. */
bool jail_cgroup_key_valid(const char *key);

/* A parent cgroup name: one path component of A-Za-z0-9._- (not "." or ".."), 1..64. */
bool jail_cgroup_name_valid(const char *name);

/* "nofile" -> RLIMIT_NOFILE ...; -1 for an unknown name. */
int jail_rlimit_resource(const char *name);

#endif
