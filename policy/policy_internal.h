/* Shared by the policy files: the one field table, values as the file or the command line gives
 * them, message helpers and the position finder. Not for use outside policy/. */
#ifndef ISOVM_POLICY_INTERNAL_H
#define ISOVM_POLICY_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy.h"

enum field_kind {
    FK_GROUP,    /* an object of further fields ("cpu", "io", "io.read") */
    FK_VERSION,  /* the integer 1 */
    FK_SIZE,     /* bytes: integer or size string */
    FK_DURATION, /* string with a unit; integer 0 where FF_ZERO_NONE */
    FK_COUNT,    /* integer */
    FK_QUOTA,    /* cpu.quota: percentage or duration, integer 0 for none */
    FK_BUCKET,   /* token bucket: rate string, integer 0, or an object of its three fields */
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
    long long num;    /* V_INTEGER */
    char desc[96];    /* "\"lots\"", "-5", "1.5", "true", "an object" */
};

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

/* `"text"` with quotes, backslashes and control characters escaped, cut with "..." if long. */
void text_quote(const char *s, size_t n, char *buf, size_t len);
/* text with control characters escaped (for file names and keys in one-line messages). */
void text_clean(const char *s, char *buf, size_t len);

/* Position finder over JSON text (policy_locate.c). Paths are arrays of decoded keys. */
/* Byte offset of the value (want_key false) or key of the member at path; -ENOENT if none. */
int jloc_find(const char *text, size_t len, const char *const *path, int depth, bool want_key,
              size_t *off);
/* A path of decoded keys, as jloc_ending_at finds it. */
struct jloc_path {
    char buf[512];       /* the keys, NUL-separated */
    const char *seg[16];
    int depth;
};
/* The member whose key, or whose scalar value, ends at byte offset end (jansson's error
 * position): its path, where the token starts, and whether it is the key. 0 or -ENOENT. */
int jloc_ending_at(const char *text, size_t len, size_t end, struct jloc_path *path,
                   size_t *start, bool *is_key);
/* Append a decoded key to a dotted path for messages (quoted if it holds a dot or is empty). */
void key_path_append(char *buf, size_t len, const char *seg, size_t seglen);
/* 1-based line and character column of byte offset off. */
void jloc_linecol(const char *text, size_t len, size_t off, int *line, int *col);

#endif
