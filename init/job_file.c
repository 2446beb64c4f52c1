/* The job file's parser: checks every byte, line, key and field of a job file (init/abi.h) and
 * decodes it into a struct job_spec whose strings point into one decoded copy of the file. */
#include "init/job_file.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "init/abi.h"

enum key {
    K_VERSION, K_PREPARE, K_ARG, K_ENV, K_CWD, K_ROOT, K_OVERLAY, K_DISK, K_SHARE, K_NET, K_HOST, K_NAMESERVER,
    K_MAX_THREADS, K_MEMORY, K_TIME, K_SEED, K_COUNT
};

#define FIELDS_MAX 4

static const struct {
    const char *name;
    bool repeat;
    unsigned min_fields, max_fields;
    const char *shape; /* for messages */
} keys[K_COUNT] = {
    [K_VERSION] = {"version", false, 1, 1, "version N"},
    [K_PREPARE] = {"prepare", false, 1, 1, "prepare 1"},
    [K_ARG] = {"arg", true, 1, 1, "arg VALUE"},
    [K_ENV] = {"env", true, 1, 1, "env KEY=VALUE"},
    [K_CWD] = {"cwd", false, 1, 1, "cwd PATH"},
    [K_ROOT] = {"root", false, 2, 2, "root DEV FSTYPE"},
    [K_OVERLAY] = {"overlay", false, 1, 3, "overlay tmpfs | overlay disk DEV FSTYPE"},
    [K_DISK] = {"disk", true, 4, 4, "disk DEV FSTYPE MOUNTPOINT ro|rw"},
    [K_SHARE] = {"share", true, 2, 2, "share MOUNTPOINT ro|rw"},
    [K_NET] = {"net", false, 2, 2, "net ADDR PREFIXLEN"},
    [K_HOST] = {"host", true, 2, 2, "host NAME ADDR"},
    [K_NAMESERVER] = {"nameserver", false, 1, 1, "nameserver ADDR"},
    [K_MAX_THREADS] = {"max_threads", false, 1, 1, "max_threads N"},
    [K_MEMORY] = {"memory", false, 1, 1, "memory N"},
    [K_TIME] = {"time", false, 2, 2, "time SEC NSEC"},
    [K_SEED] = {"seed", false, 1, 1, "seed HEX"},
};

static const char *const fstypes[] = {"squashfs", "erofs", "ext4", "ext3", "ext2"};

bool job_fstype_known(const char *fstype)
{
    for (size_t i = 0; i < sizeof fstypes / sizeof fstypes[0]; i++)
        if (!strcmp(fstype, fstypes[i]))
            return true;
    return false;
}

bool job_fstype_writable(const char *fstype)
{
    return job_fstype_known(fstype) && strcmp(fstype, "squashfs") && strcmp(fstype, "erofs");
}

struct parser {
    struct job_spec *s;
    char *err;
    size_t errlen;
    unsigned line;
    const char *key;
    size_t argcap, envcap;
};

__attribute__((format(printf, 2, 3))) static int bad(struct parser *p, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->err && p->errlen) {
        if (p->key)
            snprintf(p->err, p->errlen, "line %u: %s: %s", p->line, p->key, msg);
        else if (p->line)
            snprintf(p->err, p->errlen, "line %u: %s", p->line, msg);
        else
            snprintf(p->err, p->errlen, "%s", msg);
    }
    return -EINVAL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the NUL-terminated field f in place. */
static int decode(struct parser *p, char *f, unsigned fieldno)
{
    char *w = f;
    for (const char *r = f; *r;) {
        if (*r != '%') {
            *w++ = *r++;
            continue;
        }
        int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
        if (hi < 0 || lo < 0)
            return bad(p, "field %u: bad escape \"%.3s\" (want %%XX, two hex digits)", fieldno, r);
        if (hi == 0 && lo == 0)
            return bad(p, "field %u: %%00: a NUL byte cannot be passed", fieldno);
        *w++ = (char)(hi << 4 | lo);
        r += 3;
    }
    *w = '\0';
    return 0;
}

static int number(struct parser *p, const char *f, uint64_t min, uint64_t max, uint64_t *v)
{
    uint64_t n = 0;
    if (!*f)
        return bad(p, "empty number");
    for (const char *c = f; *c; c++) {
        if (*c < '0' || *c > '9')
            return bad(p, "\"%.40s\" is not a decimal number", f);
        unsigned d = (unsigned)(*c - '0');
        if (n > (UINT64_MAX - d) / 10)
            return bad(p, "\"%.40s\" is too large", f);
        n = n * 10 + d;
    }
    if (n < min || n > max)
        return bad(p, "%llu is out of range (%llu..%llu)", (unsigned long long)n,
                   (unsigned long long)min, (unsigned long long)max);
    *v = n;
    return 0;
}

/* seed: exactly 2 * ISOVM_JOB_SEED_BYTES hex digits, either case. */
static int seed(struct parser *p, const char *f, uint8_t *out)
{
    size_t n = strlen(f);
    if (n != 2 * ISOVM_JOB_SEED_BYTES)
        return bad(p, "%zu hex digits, want %d (%d bytes)", n, 2 * ISOVM_JOB_SEED_BYTES,
                   ISOVM_JOB_SEED_BYTES);
    for (size_t i = 0; i < ISOVM_JOB_SEED_BYTES; i++) {
        int hi = hexval(f[2 * i]), lo = hexval(f[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return bad(p, "\"%.2s\" at column %zu is not two hex digits", f + 2 * i, 2 * i + 1);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Strict dotted IPv4: four decimal numbers 0..255 without leading zeros, '.' between them. */
static int ipv4(struct parser *p, const char *f, uint32_t *out)
{
    uint32_t a = 0;
    const char *c = f;
    for (int i = 0; i < 4; i++) {
        if (i && *c != '.')
            goto refused;
        if (i)
            c++;
        const char *start = c;
        unsigned v = 0;
        while (*c >= '0' && *c <= '9' && c - start < 4)
            v = v * 10 + (unsigned)(*c++ - '0');
        size_t digits = (size_t)(c - start);
        if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && *start == '0'))
            goto refused;
        a = a << 8 | v;
    }
    if (*c)
        goto refused;
    *out = a;
    return 0;
refused:
    return bad(p, "\"%.40s\" is not a dotted IPv4 address (a.b.c.d, each 0..255, no leading zeros)", f);
}

void job_ipv4_str(uint32_t a, char out[JOB_IPV4_STR_MAX])
{
    snprintf(out, JOB_IPV4_STR_MAX, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* An address a host can be reached at: not "this network" (0/8), not multicast, reserved or
 * the broadcast address (224/3). */
static int unicast(struct parser *p, const char *f, uint32_t a)
{
    if (a >> 24 == 0)
        return bad(p, "%s is in 0.0.0.0/8 (\"this network\")", f);
    if (a >= 0xe0000000u)
        return bad(p, "%s is a multicast, reserved or broadcast address", f);
    return 0;
}

/* A hostname as /etc/hosts and resolvers take it: labels of [A-Za-z0-9-] (1..63 bytes, no '-'
 * first or last) joined by '.', at most 253 bytes, the last label not all digits. */
static int hostname(struct parser *p, const char *f)
{
    size_t n = strlen(f), label = 0;
    bool digits_only = true;
    if (n == 0 || n > 253)
        return bad(p, "hostname of %zu bytes (want 1..253)", n);
    for (size_t i = 0; i <= n; i++) {
        char c = f[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63)
                return bad(p, "\"%.60s\" is not a hostname: a label of %zu bytes (want 1..63)", f, label);
            if (f[i - 1] == '-' || f[i - label] == '-')
                return bad(p, "\"%.60s\" is not a hostname: a label starts or ends with '-'", f);
            if (c == '\0' && digits_only)
                return bad(p, "\"%.60s\" is not a hostname: its last label is all digits", f);
            label = 0;
            digits_only = true;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
            return bad(p, "\"%.60s\" is not a hostname: byte 0x%02x (want A-Z, a-z, 0-9, '-', '.')",
                       f, (unsigned char)c);
        if (c < '0' || c > '9')
            digits_only = false;
        label++;
    }
    if (!strcasecmp(f, "localhost"))
        return bad(p, "localhost is the init's own line of /etc/hosts (127.0.0.1)");
    return 0;
}

/* The next component of the path at *s, skipping empty ones and ".": its start and *len, or
 * NULL at the end. */
static const char *component(const char **s, size_t *len)
{
    for (;;) {
        while (**s == '/')
            (*s)++;
        if (!**s)
            return NULL;
        const char *c = *s;
        while (**s && **s != '/')
            (*s)++;
        *len = (size_t)(*s - c);
        if (*len != 1 || c[0] != '.')
            return c;
    }
}

enum path_rel { PATH_SAME, PATH_ABOVE, PATH_BELOW, PATH_APART };

/* Where path a is against path b, component by component (lexically: disks' mount points need
 * not be normalized): the same, strictly above b, strictly below it, or neither. */
static enum path_rel path_rel(const char *a, const char *b)
{
    for (;;) {
        size_t la = 0, lb = 0;
        const char *ca = component(&a, &la), *cb = component(&b, &lb);
        if (!ca)
            return cb ? PATH_ABOVE : PATH_SAME;
        if (!cb)
            return PATH_BELOW;
        if (la != lb || memcmp(ca, cb, la))
            return PATH_APART;
    }
}

/* A share's mount point: absolute, normalized, not "/", no ',' (the 9p options' separator). */
static int share_path(struct parser *p, const char *f)
{
    size_t n = strlen(f);
    if (f[0] != '/')
        return bad(p, "mount point \"%.60s\" is not an absolute path", f);
    if (n == 1)
        return bad(p, "mount point \"/\": a share cannot be the root");
    if (n > ISOVM_JOB_SHARE_PATH_MAX)
        return bad(p, "mount point of %zu bytes, more than %d", n, ISOVM_JOB_SHARE_PATH_MAX);
    if (strchr(f, ','))
        return bad(p, "mount point \"%.60s\" has a ',', which the 9p mount options cannot carry", f);
    for (const char *c = f; *c;) {
        const char *start = ++c; /* past a '/' */
        while (*c && *c != '/')
            c++;
        size_t len = (size_t)(c - start);
        if (len == 0 || (len == 1 && start[0] == '.') || (len == 2 && !memcmp(start, "..", 2)))
            return bad(p, "mount point \"%.60s\" is not normalized (an empty, \".\" or \"..\" "
                       "component, or a '/' at its end)", f);
    }
    return 0;
}

/* vec of n elements of size bytes with room for one more (grown 8 at a time): vec itself or
 * its reallocation; NULL when out of memory (vec is then unchanged). */
static void *grow(struct parser *p, void *vec, size_t n, size_t size)
{
    if (n % 8)
        return vec;
    void *nv = realloc(vec, (n + 8) * size);
    if (!nv)
        bad(p, "out of memory");
    return nv;
}

static int push(struct parser *p, char ***vec, size_t *n, size_t *cap, char *v)
{
    if (*n + 1 >= *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char **nv = realloc(*vec, ncap * sizeof *nv);
        if (!nv)
            return (void)bad(p, "out of memory"), -ENOMEM;
        *vec = nv;
        *cap = ncap;
    }
    (*vec)[(*n)++] = v;
    (*vec)[*n] = NULL;
    return 0;
}

static int check_dev(struct parser *p, const char *dev)
{
    if (strncmp(dev, "/dev/", 5) || !dev[5])
        return bad(p, "device \"%.60s\" is not a path under /dev/", dev);
    return 0;
}

static int check_fstype(struct parser *p, const char *fstype, bool writable)
{
    if (!job_fstype_known(fstype))
        return bad(p, "file system type \"%.40s\" is not one of squashfs, erofs, ext4, ext3, ext2",
                   fstype);
    if (writable && !job_fstype_writable(fstype))
        return bad(p, "%s is a read-only file system type: it cannot be written", fstype);
    return 0;
}

/* Every device at most once: the root, the overlay's disk, the disks. */
static int check_devices(struct parser *p)
{
    struct job_spec *s = p->s;
    const char *devs[ISOVM_JOB_DISKS_MAX + 2];
    size_t n = 0;
    devs[n++] = s->root_dev;
    if (s->overlay == JOB_OVERLAY_DISK)
        devs[n++] = s->overlay_dev;
    for (size_t i = 0; i < s->ndisks; i++)
        devs[n++] = s->disks[i].dev;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (!strcmp(devs[i], devs[j]))
                return bad(p, "device %.60s is named twice (root, overlay and disks each need their own)",
                           devs[i]);
    return 0;
}

static bool hides(const char *mountpoint, const char *path)
{
    enum path_rel r = path_rel(mountpoint, path);
    return r == PATH_SAME || r == PATH_ABOVE;
}

/* The init writes /etc/hosts and /etc/resolv.conf before it mounts the shares: no share may
 * hide the one the job file asks for. */
static int check_names_shares(struct parser *p)
{
    const struct job_spec *s = p->s;
    for (size_t i = 0; i < s->nshares; i++) {
        const char *m = s->shares[i].mountpoint;
        if (s->nhosts && hides(m, "/etc/hosts"))
            return bad(p, "the share %.60s would hide the job's /etc/hosts (host lines)", m);
        if (s->has_nameserver && hides(m, "/etc/resolv.conf"))
            return bad(p, "the share %.60s would hide the job's /etc/resolv.conf (a nameserver line)", m);
    }
    return 0;
}

static int record(struct parser *p, enum key k, char **f, unsigned nf)
{
    struct job_spec *s = p->s;
    uint64_t v;
    int rc;
    switch (k) {
    case K_VERSION:
        if ((rc = number(p, f[0], 0, UINT64_MAX, &v)))
            return rc;
        if (v != ISOVM_JOB_VERSION)
            return bad(p, "version %llu is not supported (this init reads version %d)",
                       (unsigned long long)v, ISOVM_JOB_VERSION);
        s->version = (unsigned)v;
        return 0;
    case K_PREPARE:
        if (strcmp(f[0], "1"))
            return bad(p, "\"%.20s\" (want prepare 1)", f[0]);
        s->prepare = true;
        return 0;
    case K_ARG:
        if (s->argc == 0 && !*f[0])
            return bad(p, "argv[0] is empty");
        return push(p, &s->argv, &s->argc, &p->argcap, f[0]);
    case K_ENV: {
        const char *eq = strchr(f[0], '=');
        if (!eq || eq == f[0])
            return bad(p, "\"%.60s\" is not KEY=VALUE", f[0]);
        return push(p, &s->envp, &s->envc, &p->envcap, f[0]);
    }
    case K_CWD:
        if (f[0][0] != '/')
            return bad(p, "\"%.60s\" is not an absolute path", f[0]);
        s->cwd = f[0];
        return 0;
    case K_ROOT:
        if ((rc = check_dev(p, f[0])) || (rc = check_fstype(p, f[1], false)))
            return rc;
        s->root_dev = f[0];
        s->root_fstype = f[1];
        return 0;
    case K_OVERLAY:
        if (!strcmp(f[0], "tmpfs") && nf == 1) {
            s->overlay = JOB_OVERLAY_TMPFS;
            return 0;
        }
        if (!strcmp(f[0], "disk") && nf == 3) {
            if ((rc = check_dev(p, f[1])) || (rc = check_fstype(p, f[2], true)))
                return rc;
            s->overlay = JOB_OVERLAY_DISK;
            s->overlay_dev = f[1];
            s->overlay_fstype = f[2];
            return 0;
        }
        return bad(p, "want \"tmpfs\" or \"disk DEV FSTYPE\"");
    case K_DISK: {
        bool rw = !strcmp(f[3], "rw");
        if (!rw && strcmp(f[3], "ro"))
            return bad(p, "access \"%.20s\" is neither ro nor rw", f[3]);
        if ((rc = check_dev(p, f[0])) || (rc = check_fstype(p, f[1], rw)))
            return rc;
        bool none = !strcmp(f[2], "-");
        if (!none && (f[2][0] != '/' || !f[2][1]))
            return bad(p, "mount point \"%.60s\" is not \"-\" or an absolute path other than /", f[2]);
        if (s->ndisks == ISOVM_JOB_DISKS_MAX)
            return bad(p, "more than %d disks", ISOVM_JOB_DISKS_MAX);
        void *nv = grow(p, s->disks, s->ndisks, sizeof *s->disks);
        if (!nv)
            return -ENOMEM;
        s->disks = nv;
        s->disks[s->ndisks++] = (struct job_disk){f[0], f[1], none ? NULL : f[2], rw};
        return 0;
    }
    case K_SHARE: {
        if ((rc = share_path(p, f[0])))
            return rc;
        bool rw = !strcmp(f[1], "rw");
        if (!rw && strcmp(f[1], "ro"))
            return bad(p, "access \"%.20s\" is neither ro nor rw", f[1]);
        for (size_t i = 0; i < s->ndisks; i++) {
            const struct job_disk *d = &s->disks[i];
            enum path_rel r = d->mountpoint ? path_rel(f[0], d->mountpoint) : PATH_APART;
            if (r == PATH_SAME)
                return bad(p, "%.60s is the mount point of the disk %.60s", f[0], d->dev);
            if (r == PATH_ABOVE)
                return bad(p, "%.60s is above the mount point %.60s of the disk %.60s: the share "
                           "would hide it", f[0], d->mountpoint, d->dev);
        }
        for (size_t i = 0; i < s->nshares; i++)
            if (path_rel(f[0], s->shares[i].mountpoint) == PATH_SAME)
                return bad(p, "%.60s is shared twice", f[0]);
        if (s->nshares == ISOVM_JOB_SHARES_MAX)
            return bad(p, "more than %d shares", ISOVM_JOB_SHARES_MAX);
        void *nv = grow(p, s->shares, s->nshares, sizeof *s->shares);
        if (!nv)
            return -ENOMEM;
        s->shares = nv;
        s->shares[s->nshares++] = (struct job_share){f[0], rw};
        return 0;
    }
    case K_NET: {
        uint32_t a;
        if ((rc = ipv4(p, f[0], &a)) || (rc = number(p, f[1], 1, 32, &v)))
            return rc;
        if ((rc = unicast(p, f[0], a)))
            return rc;
        if (a >> 24 == 127)
            return bad(p, "%s is a loopback address", f[0]);
        uint32_t host = v == 32 ? 0 : 0xffffffffu >> v;
        if (v <= 30 && (a & host) == 0)
            return bad(p, "%s is the network address of %s/%u", f[0], f[0], (unsigned)v);
        if (v <= 30 && (a & host) == host)
            return bad(p, "%s is the broadcast address of %s/%u", f[0], f[0], (unsigned)v);
        s->has_net = true;
        s->net_addr = a;
        s->net_prefix = (unsigned)v;
        return 0;
    }
    case K_HOST: {
        uint32_t a;
        if ((rc = hostname(p, f[0])) || (rc = ipv4(p, f[1], &a)))
            return rc;
        for (size_t i = 0; i < s->nhosts; i++)
            if (!strcasecmp(f[0], s->hosts[i].name))
                return bad(p, "%.60s is named twice (as %.60s before)", f[0], s->hosts[i].name);
        if (s->nhosts == ISOVM_JOB_HOSTS_MAX)
            return bad(p, "more than %d hosts", ISOVM_JOB_HOSTS_MAX);
        void *nv = grow(p, s->hosts, s->nhosts, sizeof *s->hosts);
        if (!nv)
            return -ENOMEM;
        s->hosts = nv;
        s->hosts[s->nhosts++] = (struct job_host){f[0], a};
        return 0;
    }
    case K_NAMESERVER: {
        uint32_t a;
        if ((rc = ipv4(p, f[0], &a)) || (rc = unicast(p, f[0], a)))
            return rc;
        s->has_nameserver = true;
        s->nameserver = a;
        return 0;
    }
    case K_MAX_THREADS:
        return number(p, f[0], 1, ISOVM_JOB_MAX_THREADS_MAX, &s->max_threads);
    case K_MEMORY:
        return number(p, f[0], 0, UINT64_MAX, &s->memory);
    case K_TIME: {
        uint64_t ns;
        if ((rc = number(p, f[0], 0, JOB_TIME_SEC_MAX, &v)) ||
            (rc = number(p, f[1], 0, 999999999, &ns)))
            return rc;
        s->has_time = true;
        s->time_sec = (int64_t)v;
        s->time_nsec = (uint32_t)ns;
        return 0;
    }
    case K_SEED:
        if ((rc = seed(p, f[0], s->seed)))
            return rc;
        s->has_seed = true;
        return 0;
    case K_COUNT:
        break;
    }
    return bad(p, "internal error");
}

/* One line: [line, end) holds no LF; checks its bytes, splits and decodes its fields. */
static int parse_line(struct parser *p, char *line, char *end, int *last_rank, bool *seen)
{
    p->key = NULL;
    if (line == end)
        return bad(p, "empty line");
    for (char *c = line; c < end; c++) {
        unsigned char b = (unsigned char)*c;
        if (b != ' ' && (b < 0x21 || b > 0x7e))
            return bad(p, "byte 0x%02x at column %u must be percent-escaped", b,
                       (unsigned)(c - line) + 1);
    }
    *end = '\0';
    char *sp = strchr(line, ' ');
    if (!sp)
        return bad(p, "\"%.40s\" has no value", line);
    *sp = '\0';
    enum key k = K_COUNT;
    for (unsigned i = 0; i < K_COUNT; i++)
        if (!strcmp(line, keys[i].name))
            k = (enum key)i;
    if (k == K_COUNT)
        return bad(p, "unknown key \"%.40s\"", line);
    p->key = keys[k].name;
    if (k != K_VERSION && !seen[K_VERSION])
        return bad(p, "the file must start with \"version %d\"", ISOVM_JOB_VERSION);
    if ((int)k < *last_rank)
        return bad(p, "comes after %s: the keys' order is fixed (init/abi.h)", keys[*last_rank].name);
    if (seen[k] && !keys[k].repeat)
        return bad(p, "given twice");
    seen[k] = true;
    *last_rank = (int)k;

    char *f[FIELDS_MAX];
    unsigned nf = 0;
    for (char *c = sp + 1;;) {
        if (nf == keys[k].max_fields)
            return bad(p, "too many fields (want %s)", keys[k].shape);
        f[nf++] = c;
        char *next = strchr(c, ' ');
        if (!next)
            break;
        *next = '\0';
        c = next + 1;
    }
    if (nf < keys[k].min_fields)
        return bad(p, "too few fields (want %s)", keys[k].shape);
    for (unsigned i = 0; i < nf; i++) {
        int rc = decode(p, f[i], i + 1);
        if (rc)
            return rc;
    }
    return record(p, k, f, nf);
}

int job_parse(const char *text, size_t len, struct job_spec *out, char *err, size_t errlen)
{
    struct parser p = {.s = out, .err = err, .errlen = errlen};
    memset(out, 0, sizeof *out);
    if (err && errlen)
        err[0] = '\0';
    if (len > ISOVM_JOB_FILE_MAX) {
        if (err && errlen)
            snprintf(err, errlen, "%zu bytes, more than the %u a job file may have", len,
                     ISOVM_JOB_FILE_MAX);
        return -E2BIG;
    }
    if (len == 0)
        return bad(&p, "the file is empty");
    out->text = malloc(len + 1);
    if (!out->text)
        return (void)bad(&p, "out of memory"), -ENOMEM;
    memcpy(out->text, text, len);
    out->text[len] = '\0';

    int last_rank = 0, rc = 0;
    bool seen[K_COUNT] = {false};
    char *c = out->text, *end = out->text + len;
    while (c < end && !rc) {
        p.line++;
        p.key = NULL;
        char *lf = memchr(c, '\n', (size_t)(end - c));
        size_t linelen = (size_t)((lf ? lf + 1 : end) - c);
        if (linelen > ISOVM_JOB_LINE_MAX)
            rc = bad(&p, "longer than %d bytes", ISOVM_JOB_LINE_MAX);
        else if (!lf)
            rc = bad(&p, "no newline at its end (a truncated file?)");
        else
            rc = parse_line(&p, c, lf, &last_rank, seen);
        c = lf ? lf + 1 : end;
    }
    if (!rc) {
        p.line = 0;
        p.key = NULL;
        static const enum key prepare_keys[] = { K_VERSION, K_PREPARE, K_ROOT, K_OVERLAY };
        if (seen[K_PREPARE]) /* a machine prepared ahead: its root and nothing of a job's */
            for (unsigned k = 0; k < K_COUNT && !rc; k++) {
                bool ok = false;
                for (size_t i = 0; i < sizeof prepare_keys / sizeof prepare_keys[0]; i++)
                    ok |= prepare_keys[i] == (enum key)k;
                if (seen[k] && !ok)
                    rc = bad(&p, "a prepare file holds root and overlay lines only, not %s",
                             keys[k].name);
            }
        if (rc)
            ;
        else if (!seen[K_ARG] && !seen[K_PREPARE])
            rc = bad(&p, "no arg line: the job needs a program");
        else if (!seen[K_ROOT])
            rc = bad(&p, "no root line: the job needs a root file system");
        else if (!(rc = check_devices(&p)))
            rc = check_names_shares(&p);
    }
    if (rc) {
        job_spec_free(out);
        return rc;
    }
    if (!out->envp) {
        out->envp = calloc(1, sizeof *out->envp);
        if (!out->envp) {
            job_spec_free(out);
            return (void)bad(&p, "out of memory"), -ENOMEM;
        }
    }
    if (!out->cwd)
        out->cwd = "/";
    return 0;
}

void job_spec_free(struct job_spec *spec)
{
    if (!spec)
        return;
    free(spec->argv);
    free(spec->envp);
    free(spec->disks);
    free(spec->shares);
    free(spec->hosts);
    free(spec->text);
    memset(spec, 0, sizeof *spec);
}
