/* The job policy: limits a job runs under, parsed from a JSON file and overridable per field. */
#ifndef ISOVM_POLICY_H
#define ISOVM_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "policy/rights.h"

/* One token bucket, as Firecracker's rate limiter: `size` tokens, refilled completely every
 * `refill_time_ns` (so the rate is size / refill_time), plus `one_time_burst` extra tokens that
 * are spent first and never refilled. size == 0 means no limit (the bucket is disabled). */
struct bucket_cfg {
    uint64_t size;
    uint64_t one_time_burst;
    uint64_t refill_time_ns;
};

/* Limits of one direction (read or write): bytes and operations. */
struct io_limit {
    struct bucket_cfg bytes;
    struct bucket_cfg ops;
};

#define POLICY_MAX_GRANTS      32
#define POLICY_GUEST_PATH_MAX  256   /* bytes with the NUL */
#define POLICY_HOST_PATH_MAX   1024  /* bytes with the NUL */
#define POLICY_SOCKET_PATH_MAX 108   /* sun_path */
#define POLICY_JOB_ID_MAX      65    /* 64 characters and the NUL */
#define POLICY_TENANT_MAX      65    /* 64 characters and the NUL (docs/quota.md) */
#define POLICY_IO_DEVICE_MAX   64    /* io.device: a /dev path */
/* Syscall numbers a filter can name: 0..1023 (Linux's and isovm's own, ISOVM_SYS_* >= 1000). */
#define POLICY_SYSCALL_NR_MAX  1024

/* One piece of the job's file-system view: guest path -> host path, with rights. */
struct grant {
    char guest[POLICY_GUEST_PATH_MAX]; /* absolute, normalized ("/data"), never "/" itself */
    char host[POLICY_HOST_PATH_MAX];   /* absolute host path of a directory or a regular file */
    uint32_t rights;                   /* CAP_R_* (rights.h) */
    uint64_t expires_ns;               /* relative to the job's start; 0 = never */
};

/* One network endpoint the job may use (docs/network.md): connect to PROTO:HOST:PORT (tcp or
 * udp), or listen on tcp:HOST:PORT. HOST is a numeric IPv4 or IPv6 address: isovm resolves no
 * names. */
#define POLICY_MAX_ENDPOINTS   32
#define POLICY_ENDPOINT_TEXT   56    /* "listen tcp:[ffff:ffff:...]:65535" with the NUL */
enum endpoint_mode { EP_CONNECT, EP_LISTEN };
enum endpoint_proto { EP_TCP, EP_UDP };
struct endpoint {
    enum endpoint_mode mode;
    enum endpoint_proto proto;
    bool v6;                           /* IPv6 address (else IPv4 in addr[0..4)) */
    uint8_t addr[16];                  /* network byte order */
    uint16_t port;                     /* 1..65535, host byte order */
    uint64_t expires_ns;               /* relative to the job's start; 0 = never */
};

enum syscall_profile {
    SCP_DEFAULT,        /* every syscall isovm implements */
    SCP_DETERMINISTIC,  /* memory, I/O on granted objects, exit; virtual clock, seeded random */
    SCP_NONE,           /* nothing but what "allow" lists */
};

/* What happens to a syscall outside the allowlist. */
enum syscall_action {
    SCA_ERRNO,  /* fails with errno_value */
    SCA_KILL,   /* the job ends with SIGSYS (exit 159) */
    SCA_LOG,    /* allowed, and written to the audit log */
};

struct syscall_policy {
    enum syscall_profile profile;
    enum syscall_action action;
    int errno_value;              /* positive errno; 0 = the default (EPERM; ENOSYS under
                                   * SCP_DEFAULT, so that probing programs fall back) */
    uint64_t allow[POLICY_SYSCALL_NR_MAX / 64]; /* added to the profile */
    uint64_t deny[POLICY_SYSCALL_NR_MAX / 64];  /* taken from the profile (after allow) */
};

/* "default", "deterministic", "none"; "errno", "kill", "log": the policy file's words ("?" for
 * another value). */
const char *syscall_profile_name(enum syscall_profile p);
const char *syscall_action_name(enum syscall_action a);

/* The errno a call the filter refuses gets: errno_value, or the default EPERM (ENOSYS under
 * SCP_DEFAULT, so that probing programs fall back). */
int syscall_policy_errno(const struct syscall_policy *s);

struct policy {
    uint64_t memory_bytes;       /* guest RAM; default 64MiB, 8MiB..64GiB, multiple of 4KiB */
    uint64_t cpu_quota_ns;       /* vCPU time per period, all vCPUs together; 0 = unlimited */
    uint64_t cpu_period_ns;      /* default 100ms; 1ms..10s */
    uint64_t cpu_time_limit_ns;  /* total vCPU time before the job is killed; 0 = none */
    uint64_t timeout_ns;         /* wall-clock limit; 0 = none */
    struct io_limit io_read, io_write;
    struct io_limit net_rx, net_tx; /* the Linux tier's network: rx to the guest, tx from it;
                                   * an operation is a frame (docs/policy.md) */
    uint32_t max_threads;        /* vCPUs (threads) at once, main thread included; 1..64, default 16 */
    uint32_t max_processes;      /* processes at once, the first and unreaped ones included (the
                                  * hypercall tier); 1..64, default 16 */
    uint32_t max_capabilities;   /* open descriptors at once (stdin/out/err count); 3..65536, default 64 */
    uint32_t vcpus;              /* the Linux tier's vCPUs; 1..POLICY_MAX_VCPUS, default 1 (the
                                  * hypercall tier has one vCPU per thread: max_threads) */
    uint32_t cpu_quota_bp;       /* cpu.quota given as a percentage: in basis points (1/100 %) of the
                                  * period, and cpu_quota_ns follows cpu_period_ns; 0 otherwise */
    struct syscall_policy syscalls;
    struct grant grants[POLICY_MAX_GRANTS];
    unsigned ngrants;
    struct endpoint endpoints[POLICY_MAX_ENDPOINTS];
    unsigned nendpoints;
    char cwd[POLICY_GUEST_PATH_MAX];          /* initial working directory; "" = "/" */
    char audit_path[POLICY_HOST_PATH_MAX];    /* audit log (JSON lines); "" = none */
    uint64_t audit_max_bytes;                 /* bytes this job may write to it; 0 = no limit */
    char control_path[POLICY_SOCKET_PATH_MAX];/* control socket of the running VMM; "" = none */
    char job_id[POLICY_JOB_ID_MAX];           /* names the job in audit and report; "" = isovm-PID */
    char tenant[POLICY_TENANT_MAX];           /* the ledger's tenant the job is charged to; "" = none */
    uint64_t seed;                            /* deterministic profile: the randomness seed */
    char io_device[POLICY_IO_DEVICE_MAX];     /* block device the job's I/O goes to ("/dev/vda"):
                                               * isovm jail limits it in the cgroup; "" = none */
};

#define POLICY_DEFAULT_MEMORY        (64ull << 20)
#define POLICY_DEFAULT_MEMORY_LINUX  (256ull << 20) /* the Linux tier's, when neither the file nor
                                                     * an option gives memory */
#define POLICY_MIN_MEMORY            (8ull << 20)
#define POLICY_MAX_MEMORY            (64ull << 30)
#define POLICY_DEFAULT_CPU_PERIOD_NS 100000000ull
#define POLICY_MIN_CPU_PERIOD_NS     1000000ull
#define POLICY_MAX_CPU_PERIOD_NS     10000000000ull
#define POLICY_DEFAULT_MAX_THREADS   16
#define POLICY_MAX_THREADS           64
#define POLICY_DEFAULT_MAX_PROCESSES 16
#define POLICY_MAX_PROCESSES         64
#define POLICY_DEFAULT_MAX_CAPS      64
#define POLICY_MIN_CAPS              3
#define POLICY_MAX_CAPS              65536
#define POLICY_MAX_VCPUS             8
#define POLICY_MIN_CPU_QUOTA_NS      100000ull   /* 100us: a smaller quota is refused */
#define POLICY_MAX_FILE_SIZE         (1u << 20)  /* policy files larger than 1 MiB are refused */
#define POLICY_DEFAULT_AUDIT_MAX     (16ull << 20) /* audit_max_bytes */

/* Every field at its documented default (no CPU, time or I/O limit). */
void policy_defaults(struct policy *p);

/* Parse and validate the JSON policy at `path` into *p (which the caller has set to defaults
 * or to earlier values; fields the file does not name are left alone; *p is untouched on error).
 * On error returns -EINVAL (or -errno for I/O) and writes one line to err: "FILE:LINE:COL: KEY:
 * what is wrong", or "FILE: reason" for a file that cannot be a policy: -EISDIR for a directory,
 * -EINVAL for another non-regular file, -EFBIG over POLICY_MAX_FILE_SIZE, -errno from open/read. */
int policy_load(struct policy *p, const char *path, char *err, size_t errlen);

/* Same as policy_load, from a string; `name` stands for the file in messages. */
int policy_parse(struct policy *p, const char *text, size_t len, const char *name, char *err,
                 size_t errlen);

/* Set one field by its dotted key as written in the policy file ("cpu.quota", "memory",
 * "io.write.bandwidth", ...) from a string value, with the same parsing and checks as the file.
 * Used for command-line overrides. -EINVAL with a message naming key and value on error
 * ("--set cpu.quota=lots: expected ..."); *p is untouched on error. A value of decimal digits is
 * taken as a JSON integer, anything else as a JSON string. */
int policy_set(struct policy *p, const char *key, const char *value, char *err, size_t errlen);

/* policy_set, with `origin` (e.g. "--memory lots") instead of "--set KEY=VALUE" opening the
 * message. origin NULL: as policy_set. */
int policy_set_from(struct policy *p, const char *key, const char *value, const char *origin,
                    char *err, size_t errlen);

/* Append a grant given as GUEST=HOST[:ro|:rw|:RIGHT,RIGHT...] (--grant; default rights "ro";
 * the rights follow the last ':'), with the checks of the file's "grants". -EINVAL with a message
 * opening with `origin` (NULL: "--grant SPEC") on error; *p is untouched on error. */
int policy_add_grant(struct policy *p, const char *spec, const char *origin, char *err,
                     size_t errlen);

/* Append an endpoint given as PROTO:HOST:PORT (--connect; --listen with mode EP_LISTEN), with
 * the checks of the file's "endpoints". -EINVAL with a message opening with `origin` (NULL:
 * "--connect SPEC") on error; *p is untouched on error. */
int policy_add_endpoint(struct policy *p, enum endpoint_mode mode, const char *spec,
                        const char *origin, char *err, size_t errlen);

/* "tcp:127.0.0.1:8080", "udp:[::1]:53": the endpoint's address as the policy writes it. */
void endpoint_format(const struct endpoint *e, char *buf, size_t len);

/* Cross-field checks (e.g. quota <= period * max_threads). Run after file and overrides. */
int policy_validate(const struct policy *p, char *err, size_t errlen);

/* Write the policy as a JSON object (one key per line, indented by `indent` spaces), with the
 * units in key names (memory_bytes, cpu_quota_ns, ...). Used by the usage report and by
 * `isovm check --print`. The "{" goes where the stream is, the keys are indented by indent + 2
 * spaces and the closing "}" by indent, with no newline after it, so that a caller can write
 * `  "policy": ` and then policy_write_json(p, f, 2). */
void policy_write_json(const struct policy *p, FILE *f, int indent);

/* Line and column (1-based; a column counts characters, as jansson's do) of the value at a
 * dotted path of object keys and array indexes ("cpu.quota", "grants[1].host") in JSON text that
 * jansson accepted. 0, or -ENOENT when the text has no such member or element. */
int policy_locate(const char *text, size_t len, const char *path, int *line, int *col);

/* The same for the member's key (where an unknown key is reported). */
int policy_locate_key(const char *text, size_t len, const char *path, int *line, int *col);

#endif
