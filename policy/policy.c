/* The job policy's fields: one table drives the file parser, --set overrides, the cross-field
 * checks and the JSON output, so they cannot disagree. */
#include "policy/policy.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "lib/json_str.h"
#include "policy/policy_internal.h"
#include "policy/units.h"

#define OFF(m) offsetof(struct policy, m)
#define NS_PER_S 1000000000ull

/* A bucket and its three fields, in bytes or in operations. */
#define BUCKET(key, m, ops, out, unit)                                                          \
    { key, FK_BUCKET, (ops), OFF(m), 0, 0, NULL, NULL },                                        \
    { key ".size", (ops) ? FK_COUNT : FK_SIZE, 0, OFF(m.size), 0, UINT64_MAX,                   \
      out "_size" unit, NULL },                                                                 \
    { key ".one_time_burst", (ops) ? FK_COUNT : FK_SIZE, 0, OFF(m.one_time_burst), 0,           \
      UINT64_MAX, out "_one_time_burst" unit, NULL },                                           \
    { key ".refill_time", FK_DURATION, FF_ZERO_NONE, OFF(m.refill_time_ns), 0, UINT64_MAX,      \
      out "_refill_time_ns", NULL }

const struct field policy_fields[] = {
    { "version", FK_VERSION, 0, 0, 1, 1, NULL, NULL },
    { "memory", FK_SIZE, FF_MULT_4K, OFF(memory_bytes), POLICY_MIN_MEMORY, POLICY_MAX_MEMORY,
      "memory_bytes", NULL },
    { "cpu", FK_GROUP, 0, 0, 0, 0, NULL, NULL },
    { "cpu.quota", FK_QUOTA, 0, OFF(cpu_quota_ns), POLICY_MIN_CPU_QUOTA_NS, UINT64_MAX,
      "cpu_quota_ns", NULL },
    { "cpu.period", FK_DURATION, 0, OFF(cpu_period_ns), POLICY_MIN_CPU_PERIOD_NS,
      POLICY_MAX_CPU_PERIOD_NS, "cpu_period_ns", NULL },
    { "cpu.time_limit", FK_DURATION, FF_ZERO_NONE, OFF(cpu_time_limit_ns), 0, UINT64_MAX,
      "cpu_time_limit_ns", NULL },
    { "timeout", FK_DURATION, FF_ZERO_NONE, OFF(timeout_ns), 0, UINT64_MAX, "timeout_ns", NULL },
    { "io", FK_GROUP, 0, 0, 0, 0, NULL, NULL },
    { "io.read", FK_GROUP, 0, 0, 0, 0, NULL, NULL },
    BUCKET("io.read.bandwidth", io_read.bytes, 0, "io_read_bandwidth", "_bytes"),
    BUCKET("io.read.ops", io_read.ops, FF_OPS, "io_read_ops", ""),
    { "io.write", FK_GROUP, 0, 0, 0, 0, NULL, NULL },
    BUCKET("io.write.bandwidth", io_write.bytes, 0, "io_write_bandwidth", "_bytes"),
    BUCKET("io.write.ops", io_write.ops, FF_OPS, "io_write_ops", ""),
    { "io.device", FK_HOST_PATH, 0, OFF(io_device), 0, POLICY_IO_DEVICE_MAX, NULL, NULL },
    /* the Linux tier's virtio-net: frames from the network to the guest (rx) and back (tx);
     * an operation is a frame. The io buckets never apply to the network. */
    { "net", FK_GROUP, 0, 0, 0, 0, NULL, NULL },
    { "net.rx", FK_GROUP, 0, 0, 0, 0, NULL, NULL },
    BUCKET("net.rx.bandwidth", net_rx.bytes, 0, "net_rx_bandwidth", "_bytes"),
    BUCKET("net.rx.ops", net_rx.ops, FF_OPS, "net_rx_ops", ""),
    { "net.tx", FK_GROUP, 0, 0, 0, 0, NULL, NULL },
    BUCKET("net.tx.bandwidth", net_tx.bytes, 0, "net_tx_bandwidth", "_bytes"),
    BUCKET("net.tx.ops", net_tx.ops, FF_OPS, "net_tx_ops", ""),
    { "max_threads", FK_COUNT, FF_U32, OFF(max_threads), 1, POLICY_MAX_THREADS, "max_threads", NULL },
    { "max_processes", FK_COUNT, FF_U32, OFF(max_processes), 1, POLICY_MAX_PROCESSES,
      "max_processes", NULL },
    { "max_capabilities", FK_COUNT, FF_U32, OFF(max_capabilities), POLICY_MIN_CAPS,
      POLICY_MAX_CAPS, "max_capabilities", NULL },
    { "vcpus", FK_COUNT, FF_U32, OFF(vcpus), 1, POLICY_MAX_VCPUS, "vcpus", NULL },
    /* the sandbox (policy_syscalls.c, policy_grants.c); written by policy_write_json by hand */
    { "syscalls", FK_GROUP, 0, 0, 0, 0, NULL, NULL },
    { "syscalls.profile", FK_ENUM, 0, OFF(syscalls.profile), 0, SCP_NONE, NULL,
      syscall_profile_names },
    { "syscalls.action", FK_ENUM, 0, OFF(syscalls.action), 0, SCA_LOG, NULL, syscall_action_names },
    { "syscalls.errno", FK_ERRNO, 0, OFF(syscalls.errno_value), 1, 4095, NULL, NULL },
    { "syscalls.allow", FK_SYSCALLS, 0, OFF(syscalls.allow), 0, POLICY_SYSCALL_NR_MAX - 1, NULL, NULL },
    { "syscalls.deny", FK_SYSCALLS, 0, OFF(syscalls.deny), 0, POLICY_SYSCALL_NR_MAX - 1, NULL, NULL },
    { "grants", FK_GRANTS, 0, OFF(grants), 0, POLICY_MAX_GRANTS, NULL, NULL },
    { "endpoints", FK_ENDPOINTS, 0, OFF(endpoints), 0, POLICY_MAX_ENDPOINTS, NULL, NULL },
    { "cwd", FK_GUEST_PATH, 0, OFF(cwd), 0, POLICY_GUEST_PATH_MAX, NULL, NULL },
    { "audit", FK_HOST_PATH, 0, OFF(audit_path), 0, POLICY_HOST_PATH_MAX, NULL, NULL },
    { "audit_max_bytes", FK_SIZE, FF_ZERO_NONE, OFF(audit_max_bytes), 0, UINT64_MAX,
      "audit_max_bytes", NULL },
    { "control", FK_HOST_PATH, 0, OFF(control_path), 0, POLICY_SOCKET_PATH_MAX, NULL, NULL },
    { "job_id", FK_JOB_ID, 0, OFF(job_id), 0, POLICY_JOB_ID_MAX, NULL, NULL },
    { "tenant", FK_JOB_ID, 0, OFF(tenant), 0, POLICY_TENANT_MAX, NULL, NULL },
    { "seed", FK_SEED, 0, OFF(seed), 0, UINT64_MAX, NULL, NULL },
};
_Static_assert(sizeof(enum syscall_profile) == sizeof(unsigned) &&
               sizeof(enum syscall_action) == sizeof(unsigned), "FK_ENUM stores an unsigned");
const size_t policy_nfields = sizeof policy_fields / sizeof policy_fields[0];

void policy_defaults(struct policy *p)
{
    memset(p, 0, sizeof *p);
    p->memory_bytes = POLICY_DEFAULT_MEMORY;
    p->cpu_period_ns = POLICY_DEFAULT_CPU_PERIOD_NS;
    p->max_threads = POLICY_DEFAULT_MAX_THREADS;
    p->max_processes = POLICY_DEFAULT_MAX_PROCESSES;
    p->max_capabilities = POLICY_DEFAULT_MAX_CAPS;
    p->vcpus = 1;
    p->audit_max_bytes = POLICY_DEFAULT_AUDIT_MAX;
}

/* ---- the table ------------------------------------------------------------------------------ */

/* Is f directly inside parent (NULL: top level)? */
static bool is_child(const struct field *f, const struct field *parent)
{
    const char *name = f->key;
    if (parent) {
        size_t n = strlen(parent->key);
        if (strncmp(f->key, parent->key, n) != 0 || f->key[n] != '.')
            return false;
        name = f->key + n + 1;
    }
    return strchr(name, '.') == NULL;
}

static const char *last_name(const struct field *f)
{
    const char *dot = strrchr(f->key, '.');
    return dot ? dot + 1 : f->key;
}

const struct field *field_child(const struct field *parent, const char *name)
{
    for (size_t i = 0; i < policy_nfields; i++) {
        const struct field *f = &policy_fields[i];
        if (is_child(f, parent) && strcmp(last_name(f), name) == 0)
            return f;
    }
    return NULL;
}

const struct field *field_by_key(const char *key)
{
    for (size_t i = 0; i < policy_nfields; i++)
        if (strcmp(policy_fields[i].key, key) == 0)
            return &policy_fields[i];
    return NULL;
}

void field_children(const struct field *parent, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < policy_nfields; i++)
        if (is_child(&policy_fields[i], parent))
            text_appendf(buf, len, "%s%s", buf[0] ? ", " : "", last_name(&policy_fields[i]));
}

const char *field_suggest(const struct field *parent, const char *name)
{
    const char *best = NULL;
    unsigned best_d = 3;
    for (size_t i = 0; i < policy_nfields; i++) {
        const struct field *f = &policy_fields[i];
        if (!is_child(f, parent))
            continue;
        unsigned d = text_edits(name, last_name(f));
        if (d < best_d && 2 * d <= strlen(last_name(f))) {
            best_d = d;
            best = last_name(f);
        }
    }
    return best;
}

/* ---- parsing one value ---------------------------------------------------------------------- */

#define SIZE_EXPECT "expected a size like \"64MiB\" or an integer number of bytes"
#define QUOTA_EXPECT "expected a quota like \"25%%\" (of the period) or \"25ms\" (per period), or 0 for none"

static uint64_t *u64_at(struct policy *q, const struct field *f)
{
    return (uint64_t *)((char *)q + f->off);
}

#define msgf policy_msgf
static int get_size(const struct pval *v, uint64_t *x, char *msg, size_t len)
{
    if (v->type == V_INTEGER && v->num >= 0) {
        *x = (uint64_t)v->num;
        return 0;
    }
    if (v->type == V_STRING) {
        int rc = size_parse(v->str, x);
        if (rc == -ERANGE)
            return msgf(msg, len, "%s is too large (the most is 16777215TiB)", v->desc);
        if (rc == 0)
            return 0;
    }
    return msgf(msg, len, SIZE_EXPECT ", got %s", v->desc);
}

static int range_error(const struct field *f, uint64_t x, char *msg, size_t len)
{
    char a[40], lo[40], hi[40];
    if (f->kind == FK_SIZE) {
        size_format(x, a, sizeof a);
        size_format(f->min, lo, sizeof lo);
        size_format(f->max, hi, sizeof hi);
    } else if (f->kind == FK_DURATION) {
        duration_format(x, a, sizeof a);
        duration_format(f->min, lo, sizeof lo);
        duration_format(f->max, hi, sizeof hi);
    } else {
        snprintf(a, sizeof a, "%llu", (unsigned long long)x);
        snprintf(lo, sizeof lo, "%llu", (unsigned long long)f->min);
        snprintf(hi, sizeof hi, "%llu", (unsigned long long)f->max);
    }
    return msgf(msg, len, "%s is outside %s..%s", a, lo, hi);
}

/* A rate "4MiB/s" or "1000/s" as a bucket: the refill time is 100ms, or the nearest longer time
 * that keeps size / refill_time exactly the rate (so 4MiB/s is 425984 bytes per 101.5625ms and
 * 7/s is 7 per second); size = rate * refill_time; no one-time burst. */
static int get_rate(const struct field *f, const struct pval *v, struct bucket_cfg *b, char *msg,
                    size_t len)
{
    bool ops = f->flags & FF_OPS;
    const char *what = ops ? "expected a rate like \"1000/s\"" : "expected a rate like \"4MiB/s\"";
    size_t n = strlen(v->str);
    char amount[64];
    uint64_t rate;
    if (n < 3 || n - 2 >= sizeof amount || strcmp(v->str + n - 2, "/s") != 0)
        goto bad;
    memcpy(amount, v->str, n - 2);
    amount[n - 2] = '\0';
    int rc = ops ? count_parse(amount, &rate) : size_parse(amount, &rate);
    if (rc == -ERANGE)
        return msgf(msg, len, "%s is too large", v->desc);
    if (rc)
        goto bad;
    if (rate == 0)
        return msgf(msg, len, "a rate of %s would block all I/O (use 0 for no limit)", v->desc);
    uint64_t g = rate, m = NS_PER_S;
    while (m) { /* g = gcd(rate, 1s in ns) */
        uint64_t t = g % m;
        g = m;
        m = t;
    }
    uint64_t step = NS_PER_S / g; /* refill times that give whole tokens are multiples of this */
    uint64_t refill = step >= NS_PER_S / 10 ? step : (NS_PER_S / 10 + step - 1) / step * step;
    b->size = (uint64_t)((unsigned __int128)rate * refill / NS_PER_S);
    b->refill_time_ns = refill;
    b->one_time_burst = 0;
    return 0;
bad:
    return msgf(msg, len, "%s, an object {\"size\", \"one_time_burst\", \"refill_time\"}, or 0 for "
                "no limit, got %s", what, v->desc);
}

void bucket_reset(struct policy *q, const struct field *bucket)
{
    memset((char *)q + bucket->off, 0, sizeof(struct bucket_cfg));
}

int bucket_check(const struct policy *q, const struct field *bucket, char *msg, size_t len)
{
    const struct bucket_cfg *b = (const struct bucket_cfg *)((const char *)q + bucket->off);
    char a[40];
    if (bucket->flags & FF_OPS)
        snprintf(a, sizeof a, "%llu", (unsigned long long)b->size);
    else
        size_format(b->size, a, sizeof a);
    if (b->size && !b->refill_time_ns)
        return msgf(msg, len, "size %s with refill_time 0 would never refill; give a refill_time "
                    "like \"1s\" (or size 0 for no limit)", a);
    if (!b->size && b->one_time_burst)
        return msgf(msg, len, "one_time_burst without a size: size 0 means no limit at all");
    return 0;
}

static char *text_at(struct policy *q, const struct field *f)
{
    return (char *)q + f->off;
}

/* The sandbox kinds (FK_ENUM and after) from a scalar value. */
static int sandbox_apply(struct policy *q, const struct field *f, const struct pval *v, char *msg,
                         size_t len)
{
    char list[160];
    int rc;
    bool str = v->type == V_STRING;
    switch (f->kind) {
    case FK_ENUM:
        names_list(f->names, list, sizeof list);
        for (unsigned i = 0; str && f->names[i]; i++) {
            if (strcmp(v->str, f->names[i]) == 0 && strlen(v->str) == v->len) {
                *(unsigned *)(void *)text_at(q, f) = i;
                return 0;
            }
        }
        if (str) {
            const char *best = name_suggest(v->str, f->names);
            return msgf(msg, len, "unknown value %s%s%s%s; expected one of %s", v->desc,
                        best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "", list);
        }
        return msgf(msg, len, "expected one of %s, got %s", list, v->desc);
    case FK_ERRNO:
        return errno_value_parse(v, (int *)(void *)text_at(q, f), msg, len);
    case FK_SYSCALLS:
        if (str) /* --set: "openat,read,231" */
            return syscall_list_parse(v->str, (uint64_t *)(void *)text_at(q, f), msg, len);
        return msgf(msg, len, "expected an array of syscall names or numbers like [\"openat\", "
                    "231], got %s", v->desc);
    case FK_GRANTS:
        return msgf(msg, len, "expected an array of grants like [{\"guest\": \"/data\", \"host\": "
                    "\"/srv/in\", \"rights\": \"ro\"}], got %s", v->desc);
    case FK_ENDPOINTS:
        return msgf(msg, len, "expected an array of endpoints like [{\"connect\": "
                    "\"tcp:127.0.0.1:8080\"}, {\"listen\": \"tcp:127.0.0.1:9000\"}], got %s",
                    v->desc);
    case FK_GUEST_PATH:
    case FK_HOST_PATH:
    case FK_JOB_ID:
        if (!str)
            return msgf(msg, len, "expected a %s string, got %s",
                        f->kind == FK_JOB_ID ? (f->off == OFF(tenant) ? "tenant" : "job id")
                                             : "path", v->desc);
        rc = f->kind == FK_GUEST_PATH ? guest_path_check(v->str, v->len, true, msg, len)
           : f->kind == FK_HOST_PATH  ? host_path_check(v->str, v->len, f->max, false, msg, len)
           : f->off == OFF(tenant)    ? tenant_check(v->str, v->len, msg, len)
                                      : job_id_check(v->str, v->len, msg, len);
        if (rc)
            return rc;
        strcpy(text_at(q, f), v->str); /* the checks bound the length below f->max */
        return 0;
    case FK_SEED: {
        uint64_t x;
        if (v->type == V_INTEGER && v->num >= 0) {
            *u64_at(q, f) = (uint64_t)v->num;
            return 0;
        }
        if (str && v->len && strlen(v->str) == v->len && (rc = count_parse(v->str, &x)) != -EINVAL) {
            if (rc == -ERANGE)
                return msgf(msg, len, "%s is above 18446744073709551615", v->desc);
            *u64_at(q, f) = x;
            return 0;
        }
        return msgf(msg, len, "expected an integer 0..9223372036854775807 or a string of decimal "
                    "digits up to \"18446744073709551615\", got %s", v->desc);
    }
    default:
        return -EINVAL;
    }
}

int field_apply(struct policy *q, const struct field *f, const struct pval *v, char *msg, size_t len)
{
    uint64_t x = 0;
    int rc;
    switch (f->kind) {
    case FK_GROUP: {
        char keys[160];
        field_children(f, keys, sizeof keys);
        return msgf(msg, len, "expected an object with keys %s, got %s", keys, v->desc);
    }
    case FK_VERSION:
        if (v->type != V_INTEGER)
            return msgf(msg, len, "expected the integer 1, got %s", v->desc);
        if (v->num != 1)
            return msgf(msg, len, "unsupported version %lld (this isovm reads version 1)", v->num);
        return 0;
    case FK_SIZE:
        if ((rc = get_size(v, &x, msg, len)))
            return rc;
        if (x < f->min || x > f->max)
            return range_error(f, x, msg, len);
        if ((f->flags & FF_MULT_4K) && x % 4096) {
            char a[40];
            size_format(x, a, sizeof a);
            return msgf(msg, len, "%s is not a multiple of 4KiB", a);
        }
        *u64_at(q, f) = x;
        return 0;
    case FK_DURATION:
        if ((rc = pval_duration(v, f->flags & FF_ZERO_NONE, &x, msg, len)))
            return rc;
        if (!(x == 0 && (f->flags & FF_ZERO_NONE)) && (x < f->min || x > f->max))
            return range_error(f, x, msg, len);
        *u64_at(q, f) = x;
        return 0;
    case FK_COUNT:
        if (v->type != V_INTEGER)
            return msgf(msg, len, "expected an integer, got %s", v->desc);
        if (v->num < 0 && f->max == UINT64_MAX)
            return msgf(msg, len, "expected a non-negative integer, got %s", v->desc);
        if (v->num < 0 || (uint64_t)v->num < f->min || (uint64_t)v->num > f->max)
            return msgf(msg, len, "%s is outside %llu..%llu", v->desc, (unsigned long long)f->min,
                        (unsigned long long)f->max);
        if (f->flags & FF_U32)
            *(uint32_t *)((char *)q + f->off) = (uint32_t)v->num;
        else
            *u64_at(q, f) = (uint64_t)v->num;
        return 0;
    case FK_QUOTA:
        if ((v->type == V_INTEGER && v->num == 0) || (v->type == V_STRING && !strcmp(v->str, "0"))) {
            q->cpu_quota_ns = 0;
            q->cpu_quota_bp = 0;
            return 0;
        }
        if (v->type != V_STRING)
            return msgf(msg, len, QUOTA_EXPECT ", got %s", v->desc);
        size_t n = strlen(v->str);
        if (n && v->str[n - 1] == '%') {
            rc = percent_parse(v->str, &x);
            if (rc == -EINVAL)
                return msgf(msg, len, QUOTA_EXPECT "%s, got %s",
                            strchr(v->str, '.') ? " (a percentage has at most two decimals)" : "",
                            v->desc);
            if (rc == 0 && x == 0)
                return msgf(msg, len, "0%% would never let the job run (use 0 for no quota)");
            if (rc || x > 10000ull * POLICY_MAX_THREADS)
                return msgf(msg, len, "%s is above %u%% (100%% for each of at most %u threads)",
                            v->desc, 100 * POLICY_MAX_THREADS, POLICY_MAX_THREADS);
            q->cpu_quota_bp = (uint32_t)x;
            policy_quota_follow(q);
            return 0;
        }
        rc = duration_parse(v->str, &x);
        if (rc == -ERANGE)
            return msgf(msg, len, "%s is too large", v->desc);
        if (rc)
            return msgf(msg, len, QUOTA_EXPECT ", got %s", v->desc);
        if (x == 0)
            return msgf(msg, len, "a quota of %s would never let the job run (use 0 for no quota)",
                        v->desc);
        if (x < f->min) {
            char a[40], lo[40];
            duration_format(x, a, sizeof a);
            duration_format(f->min, lo, sizeof lo);
            return msgf(msg, len, "%s is below the minimum quota %s", a, lo);
        }
        q->cpu_quota_ns = x;
        q->cpu_quota_bp = 0;
        return 0;
    case FK_BUCKET: {
        struct bucket_cfg *b = (struct bucket_cfg *)((char *)q + f->off);
        if ((v->type == V_INTEGER && v->num == 0) || (v->type == V_STRING && !strcmp(v->str, "0"))) {
            memset(b, 0, sizeof *b);
            return 0;
        }
        if (v->type == V_STRING)
            return get_rate(f, v, b, msg, len);
        return msgf(msg, len, "expected a rate like \"%s\", an object {\"size\", \"one_time_burst\", "
                    "\"refill_time\"}, or 0 for no limit, got %s",
                    (f->flags & FF_OPS) ? "1000/s" : "4MiB/s", v->desc);
    }
    default:
        return sandbox_apply(q, f, v, msg, len);
    }
    return -EINVAL;
}

void policy_quota_follow(struct policy *q)
{
    if (!q->cpu_quota_bp)
        return;
    uint64_t ns;
    if (__builtin_mul_overflow(q->cpu_period_ns, (uint64_t)q->cpu_quota_bp, &ns))
        ns = UINT64_MAX;
    q->cpu_quota_ns = ns / 10000;
}

/* ---- cross-field checks --------------------------------------------------------------------- */

int policy_check(const struct policy *p, const char **key, char *msg, size_t len)
{
    /* each stored field in its range (a caller may have set fields directly) */
    for (size_t i = 0; i < policy_nfields; i++) {
        const struct field *f = &policy_fields[i];
        uint64_t x;
        *key = f->key;
        switch (f->kind) {
        case FK_SIZE:
        case FK_DURATION:
        case FK_COUNT:
            x = (f->flags & FF_U32) ? *(const uint32_t *)((const char *)p + f->off)
                                    : *(const uint64_t *)((const char *)p + f->off);
            if (x == 0 && (f->flags & FF_ZERO_NONE))
                break;
            if (x < f->min || x > f->max)
                return range_error(f, x, msg, len);
            if ((f->flags & FF_MULT_4K) && x % 4096)
                return msgf(msg, len, "%llu bytes is not a multiple of 4KiB", (unsigned long long)x);
            break;
        case FK_BUCKET:
            if (bucket_check(p, f, msg, len))
                return -EINVAL;
            break;
        case FK_ENUM:
            x = *(const unsigned *)(const void *)((const char *)p + f->off);
            if (x > f->max)
                return msgf(msg, len, "value %llu is not one of the names", (unsigned long long)x);
            break;
        case FK_ERRNO:
            x = (uint64_t)(int64_t)*(const int *)(const void *)((const char *)p + f->off);
            if (x != 0 && (x < f->min || x > f->max))
                return msgf(msg, len, "%lld is outside %llu..%llu (or 0 for the default)",
                            (long long)x, (unsigned long long)f->min, (unsigned long long)f->max);
            break;
        case FK_GUEST_PATH:
        case FK_HOST_PATH:
        case FK_JOB_ID: {
            const char *t = (const char *)p + f->off;
            size_t n = strnlen(t, f->max);
            if (n == f->max)
                return msgf(msg, len, "not NUL-terminated");
            if (n && (f->kind == FK_GUEST_PATH ? guest_path_check(t, n, true, msg, len)
                      : f->kind == FK_HOST_PATH ? host_path_check(t, n, f->max, false, msg, len)
                      : f->off == OFF(tenant) ? tenant_check(t, n, msg, len)
                      : job_id_check(t, n, msg, len)))
                return -EINVAL;
            break;
        }
        case FK_GRANTS:
            if (grants_check(p, key, msg, len))
                return -EINVAL;
            break;
        case FK_ENDPOINTS:
            if (endpoints_check(p, key, msg, len))
                return -EINVAL;
            break;
        default:
            break;
        }
    }
    *key = "cpu.quota";
    char a[40], per[40], most[40];
    duration_format(p->cpu_period_ns, per, sizeof per);
    if (p->cpu_quota_bp) {
        char pct[24];
        percent_format(p->cpu_quota_bp, pct, sizeof pct);
        if (p->cpu_quota_bp > 10000ull * p->max_threads)
            return msgf(msg, len, "%s is more than 100%% for each of max_threads %u (at most %u%%)",
                        pct, p->max_threads, 100 * p->max_threads);
        if (p->cpu_quota_ns < POLICY_MIN_CPU_QUOTA_NS) {
            duration_format(p->cpu_quota_ns, a, sizeof a);
            duration_format(POLICY_MIN_CPU_QUOTA_NS, most, sizeof most);
            return msgf(msg, len, "%s of the %s period is %s, below the minimum quota %s", pct, per,
                        a, most);
        }
    } else if (p->cpu_quota_ns) {
        uint64_t cap;
        if (__builtin_mul_overflow(p->cpu_period_ns, (uint64_t)p->max_threads, &cap))
            cap = UINT64_MAX;
        duration_format(p->cpu_quota_ns, a, sizeof a);
        duration_format(cap, most, sizeof most);
        if (p->cpu_quota_ns > cap)
            return msgf(msg, len, "%s per %s period is more than the period for each of "
                        "max_threads %u (at most %s)", a, per, p->max_threads, most);
        if (p->cpu_quota_ns < POLICY_MIN_CPU_QUOTA_NS) {
            duration_format(POLICY_MIN_CPU_QUOTA_NS, most, sizeof most);
            return msgf(msg, len, "%s is below the minimum quota %s", a, most);
        }
    }
    *key = NULL;
    return 0;
}

int policy_validate(const struct policy *p, char *err, size_t errlen)
{
    const char *key;
    char msg[400];
    if (policy_check(p, &key, msg, sizeof msg) == 0)
        return 0;
    snprintf(err, errlen, "%s: %s", key, msg);
    return -EINVAL;
}

/* ---- command-line overrides ----------------------------------------------------------------- */

int policy_set_from(struct policy *p, const char *key, const char *value, const char *origin,
                    char *err, size_t errlen)
{
    char org[200], msg[400], clean_key[80];
    if (!key || !value)
        return -EINVAL;
    if (origin) {
        text_clean(origin, org, sizeof org);
    } else {
        char k[80], v[100];
        text_clean(key, k, sizeof k);
        text_clean(value, v, sizeof v);
        snprintf(org, sizeof org, "--set %s=%s", k, v);
    }
    text_clean(key, clean_key, sizeof clean_key);
    const struct field *f = field_by_key(key);
    if (!f) {
        char keys[700] = "";
        const char *best = NULL;
        unsigned best_d = 3;
        for (size_t i = 0; i < policy_nfields; i++) {
            const struct field *g = &policy_fields[i];
            unsigned d = text_edits(key, g->key);
            if (g->kind != FK_GROUP && d < best_d && 2 * d <= strlen(g->key)) {
                best_d = d;
                best = g->key;
            }
            if (g->kind == FK_GROUP || g->kind == FK_GRANTS || g->kind == FK_ENDPOINTS || strstr(g->key, ".size") ||
                strstr(g->key, ".one_time_burst") || strstr(g->key, ".refill_time"))
                continue;
            text_appendf(keys, sizeof keys, "%s%s", keys[0] ? ", " : "", g->key);
        }
        snprintf(err, errlen, "%s: unknown key \"%s\"%s%s%s; valid keys: %s, and a bucket's "
                 "io.DIRECTION.KIND.size, .one_time_burst, .refill_time", org, clean_key,
                 best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "", keys);
        return -EINVAL;
    }
    if (f->kind == FK_GROUP) {
        char keys[160] = "", kids[160];
        field_children(f, kids, sizeof kids);
        for (char *tok = strtok(kids, ", "); tok; tok = strtok(NULL, ", "))
            text_appendf(keys, sizeof keys, "%s%s.%s", keys[0] ? ", " : "", f->key, tok);
        snprintf(err, errlen, "%s: \"%s\" is a group; set one of %s", org, f->key, keys);
        return -EINVAL;
    }
    if (f->kind == FK_GRANTS) {
        snprintf(err, errlen, "%s: grants cannot be set with --set; add each with --grant "
                 "GUEST=HOST[:RIGHTS]", org);
        return -EINVAL;
    }
    if (f->kind == FK_ENDPOINTS) {
        snprintf(err, errlen, "%s: endpoints cannot be set with --set; add each with --connect "
                 "PROTO:HOST:PORT or --listen tcp:HOST:PORT", org);
        return -EINVAL;
    }
    struct pval v = { .type = V_STRING, .str = value, .len = strlen(value) };
    uint64_t n;
    int rc = count_parse(value, &n);
    bool text_kind = f->kind == FK_SYSCALLS || f->kind == FK_GUEST_PATH ||
                     f->kind == FK_HOST_PATH || f->kind == FK_JOB_ID || f->kind == FK_ENUM;
    if (text_kind || (f->kind == FK_SEED && rc != -EINVAL)) {
        /* a job id "42" is a string; a seed takes the whole 64-bit range */
        text_quote(value, strlen(value), v.desc, sizeof v.desc);
    } else if (rc == 0 && n <= (uint64_t)INT64_MAX) {
        v.type = V_INTEGER;
        v.num = (long long)n;
        snprintf(v.desc, sizeof v.desc, "%llu", (unsigned long long)n);
    } else if (rc == -ERANGE || rc == 0) {
        snprintf(err, errlen, "%s: number too large (at most 9223372036854775807)", org);
        return -EINVAL;
    } else {
        text_quote(value, strlen(value), v.desc, sizeof v.desc);
    }
    struct policy q = *p;
    if (field_apply(&q, f, &v, msg, sizeof msg)) {
        snprintf(err, errlen, "%s: %s", org, msg);
        return -EINVAL;
    }
    policy_quota_follow(&q);
    *p = q;
    return 0;
}

int policy_set(struct policy *p, const char *key, const char *value, char *err, size_t errlen)
{
    return policy_set_from(p, key, value, NULL, err, errlen);
}

/* ---- output --------------------------------------------------------------------------------- */

void policy_write_json(const struct policy *p, FILE *f, int indent)
{
    const char *sep = "";
    fputs("{", f);
    for (size_t i = 0; i < policy_nfields; i++) {
        const struct field *fl = &policy_fields[i];
        if (!fl->out)
            continue;
        uint64_t x = (fl->flags & FF_U32) ? *(const uint32_t *)((const char *)p + fl->off)
                                          : *(const uint64_t *)((const char *)p + fl->off);
        fprintf(f, "%s\n%*s\"%s\": %llu", sep, indent + 2, "", fl->out, (unsigned long long)x);
        sep = ",";
    }
    fprintf(f, ",\n%*s\"syscalls\": ", indent + 2, "");
    syscalls_write_json(&p->syscalls, f);
    fprintf(f, ",\n%*s\"grants\": ", indent + 2, "");
    grants_write_json(p, f, indent);
    fprintf(f, ",\n%*s\"endpoints\": ", indent + 2, "");
    endpoints_write_json(p, f, indent);
    const struct { const char *key; const char *text; size_t max; const char *none; } texts[] = {
        { "cwd", p->cwd, sizeof p->cwd, "\"/\"" },
        { "audit_path", p->audit_path, sizeof p->audit_path, "null" },
        { "control_path", p->control_path, sizeof p->control_path, "null" },
        { "job_id", p->job_id, sizeof p->job_id, "null" },
        { "tenant", p->tenant, sizeof p->tenant, "null" },
        { "io_device", p->io_device, sizeof p->io_device, "null" },
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        fprintf(f, ",\n%*s\"%s\": ", indent + 2, "", texts[i].key);
        if (texts[i].text[0])
            json_put_string(f, texts[i].text, strnlen(texts[i].text, texts[i].max));
        else
            fputs(texts[i].none, f);
    }
    fprintf(f, ",\n%*s\"seed\": %llu", indent + 2, "", (unsigned long long)p->seed);
    fprintf(f, "\n%*s}", indent, "");
}
