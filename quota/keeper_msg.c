/* The keeper's wire check: a message from a VMM, which may be compromised, validated in one place before the keeper acts on it. */
#include "quota/keeper.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A text field: NUL-terminated in its array, of 1..max-1 bytes (or 0 when may_be_empty), every
 * byte in the class. */
static int text_check(const char *what, const char *s, size_t size, bool may_be_empty,
                      bool (*ok)(unsigned char c, size_t i), char *err, size_t errlen)
{
    size_t len = strnlen(s, size);
    if (len == size) {
        snprintf(err, errlen, "BEGIN: %s not NUL-terminated", what);
        return -EPROTO;
    }
    if (len == 0 && !may_be_empty) {
        snprintf(err, errlen, "BEGIN: empty %s", what);
        return -EPROTO;
    }
    for (size_t i = 0; i < len; i++)
        if (!ok((unsigned char)s[i], i)) {
            snprintf(err, errlen, "BEGIN: %s has a byte 0x%02x it may not have at %zu", what,
                     (unsigned char)s[i], i);
            return -EPROTO;
        }
    return 0;
}

static bool name_char(unsigned char c, size_t i)
{
    (void)i;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static bool tenant_char(unsigned char c, size_t i)
{
    return name_char(c, i) && !(i == 0 && (c == '.' || c == '-'));
}

static bool hex_char(unsigned char c, size_t i)
{
    (void)i;
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int job_check(const struct keeper_job_desc *j, char *err, size_t errlen)
{
    int rc = text_check("job id", j->id, sizeof j->id, false, name_char, err, errlen);
    if (rc == 0)
        rc = text_check("tenant", j->tenant, sizeof j->tenant, false, tenant_char, err, errlen);
    if (rc == 0)
        rc = text_check("policy digest", j->digest, sizeof j->digest, true, hex_char, err, errlen);
    if (rc == 0 && j->digest[0] && strlen(j->digest) != 64) {
        snprintf(err, errlen, "BEGIN: a policy digest of %zu hex digits (expected 64)",
                 strlen(j->digest));
        rc = -EPROTO;
    }
    if (rc == 0 && strnlen(j->tier, sizeof j->tier) == sizeof j->tier) {
        snprintf(err, errlen, "BEGIN: tier not NUL-terminated");
        rc = -EPROTO;
    } else if (rc == 0 && strcmp(j->tier, "hypercall") != 0 && strcmp(j->tier, "linux") != 0) {
        snprintf(err, errlen, "BEGIN: tier is neither hypercall nor linux");
        rc = -EPROTO;
    }
    return rc;
}

int keeper_msg_from_vmm(const void *buf, size_t n, struct keeper_msg *m, char *err, size_t errlen)
{
    if (n != sizeof *m) {
        snprintf(err, errlen, "a message of %zu bytes (expected %zu)", n, sizeof *m);
        return -EPROTO;
    }
    memcpy(m, buf, sizeof *m); /* read once: every check below is on this copy */
    memset(m->text, 0, sizeof m->text);
    if (m->magic != KEEPER_MAGIC) {
        snprintf(err, errlen, "bad magic 0x%08x", m->magic);
        return -EPROTO;
    }
    if (m->type != KEEPER_CHECKPOINT && m->type != KEEPER_END && m->type != KEEPER_BEGIN) {
        snprintf(err, errlen, "message type %u is not one a VMM sends", m->type);
        return -EPROTO;
    }
    size_t len = strnlen(m->reason, sizeof m->reason);
    if (len == sizeof m->reason) {
        snprintf(err, errlen, "exit reason not NUL-terminated");
        return -EPROTO;
    }
    if (m->type == KEEPER_BEGIN) {
        memset(m->reason, 0, sizeof m->reason);
        return job_check(&m->job, err, errlen);
    }
    memset(&m->job, 0, sizeof m->job);
    if (m->type == KEEPER_CHECKPOINT) {
        memset(m->reason, 0, sizeof m->reason);
        return 0;
    }
    if (len == 0) {
        snprintf(err, errlen, "END without an exit reason");
        return -EPROTO;
    }
    for (size_t i = 0; i < len; i++)
        if (!((m->reason[i] >= 'a' && m->reason[i] <= 'z') || m->reason[i] == '-')) {
            snprintf(err, errlen, "exit reason has a byte 0x%02x outside a-z and '-' at %zu",
                     (unsigned char)m->reason[i], i);
            return -EPROTO;
        }
    memset(m->reason + len, 0, sizeof m->reason - len);
    return 0;
}
