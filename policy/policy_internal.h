/* Shared by the policy files: the one field table, values as the file or the command line gives
 * them, message helpers and the position finder. Not for use outside policy/. */
#ifndef ISOVM_POLICY_INTERNAL_H
#define ISOVM_POLICY_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy/policy.h"
#include "lib/text_edits.h"

enum field_kind {
    FK_GROUP,    /* an object of further fields ("cpu", "io", "io.read") */
    FK_VERSION,  /* the integer 1 */
    FK_SIZE,     /* bytes: integer or size string */
    FK_DURATION, /* string with a unit; integer 0 where FF_ZERO_NONE */
    FK_COUNT,    /* integer */
    FK_QUOTA,    /* cpu.quota: percentage or duration, integer 0 for none */
    FK_BUCKET,   /* token bucket: rate string, integer 0, or an object of its three fields */
    FK_ENUM,     /* one of f->names, stored as an enum (unsigned) */
    FK_ERRNO,    /* an errno name ("EPERM") or an integer min..max, stored as int */
    FK_SYSCALLS, /* array of syscall names or numbers (file), "a,b,231" (--set): a bitmap of
                  * POLICY_SYSCALL_NR_MAX bits, replaced as a whole */
    FK_GRANTS,   /* array of grant objects, replaced as a whole (policy_add_grant appends) */
    FK_ENDPOINTS, /* array of endpoint objects, replaced as a whole (policy_add_endpoint appends) */
    FK_GUEST_PATH, /* absolute normalized guest path ("/" allowed) in char[max] */
    FK_HOST_PATH,  /* host path (relative allowed) in char[max] */
    FK_JOB_ID,   /* 1..64 of [A-Za-z0-9._-] in char[max] */
    FK_SEED,     /* uint64: integer, or a string of decimal digits for the whole range */
};

#define FF_ZERO_NONE 1u /* 0 means none: no range check for it */
#define FF_MULT_4K   2u /* size must be a multiple of 4 KiB */
#define FF_OPS       4u /* bucket of operations, not bytes */
#define FF_U32       8u /* stored as uint32_t (else uint64_t) */

struct field {
    const char *key;      /* dotted path as in the file: "io.write.bandwidth.size" */
    enum field_kind kind;
    unsigned flags;
    size_t off;           /* offset in struct policy (all kinds but groups and version) */
    uint64_t min, max;    /* range of the stored value */
    const char *out;      /* key in policy_write_json; NULL: not written */
    const char *const *names; /* FK_ENUM: the names by value, NULL-terminated */
};

extern const struct field policy_fields[];
extern const size_t policy_nfields;

/* The field `name` directly inside `parent` (NULL: the top level), or NULL. */
const struct field *field_child(const struct field *parent, const char *name);
/* The field with exactly this dotted key, or NULL. */
const struct field *field_by_key(const char *key);
/* "quota, period, time_limit": the names of parent's direct children. */
void field_children(const struct field *parent, char *buf, size_t len);
/* A child name of parent within two edits of name, or NULL. */
const char *field_suggest(const struct field *parent, const char *name);

enum val_type { V_STRING, V_INTEGER, V_REAL, V_BOOL, V_NULL, V_OBJECT, V_ARRAY };

/* One value as given, with how messages name it. */
struct pval {
    enum val_type type;
    const char *str;  /* V_STRING */
    size_t len;       /* V_STRING: its length in bytes (a JSON string may hold "\u0000") */
    long long num;    /* V_INTEGER */
    char desc[96];    /* "\"lots\"", "-5", "1.5", "true", "an object" */
};

/* A duration value ("30s"; integer 0 where zero_none): 0 and *x, or -EINVAL with msg
 * (policy_value.c). */
int pval_duration(const struct pval *v, bool zero_none, uint64_t *x, char *msg, size_t len);

/* ---- the field table (policy.c) ---- */
/* Parse v into field f of q (any kind but FK_GROUP objects). 0, or -EINVAL with a message
 * (without the key) in msg. */
int field_apply(struct policy *q, const struct field *f, const struct pval *v, char *msg,
                size_t len);
/* Zero a bucket field (its object form replaces the whole bucket). */
void bucket_reset(struct policy *q, const struct field *bucket);
/* A bucket's fields must agree (size with refill_time). 0 or -EINVAL with msg. */
int bucket_check(const struct policy *q, const struct field *bucket, char *msg, size_t len);
/* Recompute cpu_quota_ns from a percentage quota and the period in force. */
void policy_quota_follow(struct policy *q);
/* Cross-field checks; on failure *key names the field at fault and msg says why. */
int policy_check(const struct policy *p, const char **key, char *msg, size_t len);

/* ---- the wording of messages (policy_text.c) ---- */
/* Of the NULL-terminated names, the one within two edits of name, or NULL. */
const char *name_suggest(const char *name, const char *const *names);
/* "a, b, c" from NULL-terminated names into buf. */
void names_list(const char *const *names, char *buf, size_t len);
/* Append to buf (always NUL-terminated, truncated if needed). */
void text_appendf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Write msg (printf style) and return -EINVAL. */
int policy_msgf(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* `"text"` with quotes, backslashes and control characters escaped, cut with "..." if long. */
void text_quote(const char *s, size_t n, char *buf, size_t len);
/* text with control characters escaped (for file names and keys in one-line messages). */
void text_clean(const char *s, char *buf, size_t len);

/* Position finder over JSON text (policy_locate.c). Paths are arrays of steps: decoded keys of
 * object members and indexes of array elements. */
struct jseg {
    const char *key; /* a member's decoded key; NULL for an array element */
    size_t index;    /* the element's index (key NULL) */
};
/* Byte offset of the value (want_key false) or key of the member at path; -ENOENT if none. An
 * array element has no key: its value is found. */
int jloc_find(const char *text, size_t len, const struct jseg *path, int depth, bool want_key,
              size_t *off);
/* A path, as jloc_ending_at finds it. */
struct jloc_path {
    char buf[512];       /* the keys, NUL-separated */
    struct jseg seg[16];
    int depth;
};
/* The member whose key, or whose scalar value, ends at byte offset end (jansson's error
 * position): its path, where the token starts, and whether it is the key. 0 or -ENOENT. */
int jloc_ending_at(const char *text, size_t len, size_t end, struct jloc_path *path,
                   size_t *start, bool *is_key);
/* Append a decoded key to a dotted path for messages (quoted if it holds a dot or is empty). */
void key_path_append(char *buf, size_t len, const char *seg, size_t seglen);
/* A path for messages: "grants[1].rights[0]". */
void jpath_text(const struct jseg *segs, int n, char *buf, size_t len);
/* 1-based line and character column of byte offset off. */
void jloc_linecol(const char *text, size_t len, size_t off, int *line, int *col);

/* ---- sandbox sections (policy_syscalls.c, policy_grants.c) ---------------------------------- */

extern const char *const syscall_profile_names[]; /* by enum syscall_profile, NULL-terminated */
extern const char *const syscall_action_names[];  /* by enum syscall_action */
/* An errno by name ("EACCES") or number 1..4095 into *e. 0, or -EINVAL with msg. */
int errno_value_parse(const struct pval *v, int *e, char *msg, size_t len);
/* "EPERM", or NULL for a number without a name. */
const char *errno_name_of(int e);
/* One syscall by name or number (0..POLICY_SYSCALL_NR_MAX-1). 0, or -EINVAL with msg (unknown
 * names get a suggestion). */
int syscall_entry_parse(const struct pval *v, unsigned *nr, char *msg, size_t len);
/* --set syscalls.allow=openat,read,231: the list into a bitmap. 0, or -EINVAL with msg. */
int syscall_list_parse(const char *text, uint64_t *bitmap, char *msg, size_t len);
/* The syscalls section as one JSON object. */
void syscalls_write_json(const struct syscall_policy *s, FILE *f);

extern const char *const grant_keys[]; /* "guest", "host", "rights", "expires", NULL */
/* A guest path: absolute, normalized, shorter than POLICY_GUEST_PATH_MAX; "/" only if root_ok.
 * 0, or -EINVAL with msg. */
int guest_path_check(const char *s, size_t n, bool root_ok, char *msg, size_t len);
/* A host path shorter than max bytes (with the NUL), absolute if must_be_absolute, without
 * control characters, valid UTF-8. 0, or -EINVAL with msg. */
int host_path_check(const char *s, size_t n, size_t max, bool must_be_absolute, char *msg,
                    size_t len);
/* A job id: 1..64 of [A-Za-z0-9._-], not "." or "..". 0, or -EINVAL with msg. */
int job_id_check(const char *s, size_t n, char *msg, size_t len);
/* A tenant: as a job id, and not starting with '.' or '-' (quota/ledger.h's rule). */
int tenant_check(const char *s, size_t n, char *msg, size_t len);
/* One member of a grant object (key "guest", "host", "rights" as a string, "expires"). 0,
 * -ENOENT for an unknown key (msg untouched), or -EINVAL with msg. */
int grant_member_apply(struct grant *g, const char *key, const struct pval *v, char *msg,
                       size_t len);
/* One element of a "rights" array ("read", or "ro"/"rw"), added to *rights. 0 or -EINVAL. */
int grant_right_add(uint32_t *rights, const struct pval *v, char *msg, size_t len);
/* May g join grants[0..n)? (count, same guest path, nesting). 0, or -EINVAL with msg. */
int grant_admit(const struct grant *grants, unsigned n, const struct grant *g, char *msg,
                size_t len);
/* The grants as a JSON array, one grant per line at indent + 2. */
void grants_write_json(const struct policy *p, FILE *f, int indent);
/* Every grant valid and none nested in another; on failure *key names it (static storage). */
int grants_check(const struct policy *p, const char **key, char *msg, size_t len);

extern const char *const endpoint_keys[]; /* "connect", "listen", "expires", NULL */
/* PROTO:HOST:PORT (s, n bytes) into *e for `mode`. 0, or -EINVAL with msg. */
int endpoint_parse(const char *s, size_t n, enum endpoint_mode mode, struct endpoint *e,
                   char *msg, size_t len);
/* May e join eps[0..n)? (count, duplicates). 0, or -EINVAL with msg. */
int endpoint_admit(const struct endpoint *eps, unsigned n, const struct endpoint *e, char *msg,
                   size_t len);
/* The endpoints as a JSON array, one per line at indent + 2. */
void endpoints_write_json(const struct policy *p, FILE *f, int indent);
/* Every endpoint valid; on failure *key names it (static storage). */
int endpoints_check(const struct policy *p, const char **key, char *msg, size_t len);

#endif
