/* The job file (init/abi.h) as a struct: its parser, for the init (musl) and the VMM (glibc). */
#ifndef ISOVM_INIT_JOB_FILE_H
#define ISOVM_INIT_JOB_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "init/abi.h"

/* The largest SEC of a time line (2^62; the guest kernel itself refuses a clock past 2262). */
#define JOB_TIME_SEC_MAX (UINT64_C(1) << 62)

enum job_overlay { JOB_OVERLAY_NONE = 0, JOB_OVERLAY_TMPFS, JOB_OVERLAY_DISK };

struct job_disk {
    const char *dev, *fstype;
    const char *mountpoint; /* NULL: not mounted (the file's "-") */
    bool rw;
};

/* A share line: the 9P file system the VMM serves for MOUNTPOINT, mounted there. */
struct job_share {
    const char *mountpoint; /* absolute, normalized, not "/": also the 9P aname */
    bool rw;
};

/* A host line: one name of /etc/hosts. IPv4 addresses are in host byte order (10.0.2.15 is
 * 0x0a00020f) here and in struct job_spec. */
struct job_host {
    const char *name;
    uint32_t addr;
};

struct job_spec {
    unsigned version;
    bool prepare; /* a prepare line: a machine prepared ahead of its job (init/abi.h): root and
                   * overlay only, no argv */
    char **argv;  /* argc entries, then NULL */
    size_t argc;
    char **envp;  /* envc entries, then NULL */
    size_t envc;
    const char *cwd; /* "/" when the file has none */
    const char *root_dev, *root_fstype;
    enum job_overlay overlay;
    const char *overlay_dev, *overlay_fstype; /* JOB_OVERLAY_DISK only */
    struct job_disk *disks;
    size_t ndisks;
    struct job_share *shares;
    size_t nshares;
    bool has_net;         /* a net line: lo and the one interface up, net_addr/net_prefix */
    uint32_t net_addr;
    unsigned net_prefix;  /* 1..32 */
    struct job_host *hosts; /* /etc/hosts after "127.0.0.1 localhost"; none: left as it is */
    size_t nhosts;
    bool has_nameserver;  /* a nameserver line: /etc/resolv.conf "nameserver ADDR" */
    uint32_t nameserver;
    uint64_t max_threads; /* 0: no limit */
    uint64_t memory;      /* 0: not given */
    bool has_time;        /* a time line: set the guest's CLOCK_REALTIME to time_sec.time_nsec */
    int64_t time_sec;     /* 0..JOB_TIME_SEC_MAX */
    uint32_t time_nsec;   /* 0..999999999 */
    bool has_seed;        /* a seed line: mix seed into the guest's random pool */
    uint8_t seed[ISOVM_JOB_SEED_BYTES];
    char *text;           /* parsed specs: the decoded file, which every string points into */
};

/* Parses len bytes of a job file into *out (zeroed first). 0, or -EINVAL (malformed: err says
 * "line N: KEY: what"), -E2BIG (over ISOVM_JOB_FILE_MAX) or -ENOMEM, with *out left empty.
 * text need not be NUL-terminated and may hold any bytes. err may be NULL when errlen is 0. */
int job_parse(const char *text, size_t len, struct job_spec *out, char *err, size_t errlen);

/* Frees what job_parse allocated; the spec is zeroed. NULL and zeroed specs are fine. */
void job_spec_free(struct job_spec *spec);

/* addr (host byte order) as dotted IPv4 in out: "a.b.c.d", NUL-terminated. */
#define JOB_IPV4_STR_MAX 16
void job_ipv4_str(uint32_t addr, char out[JOB_IPV4_STR_MAX]);

/* Whether a file system type may carry FSTYPE in a job file, and whether it can be written. */
bool job_fstype_known(const char *fstype);
bool job_fstype_writable(const char *fstype);

#endif
