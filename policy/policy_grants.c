/* The policy's file-system grants (guest path -> host path with rights and an expiry) and the
 * other path-like fields: their checks, the --grant form, and their JSON output. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/json_str.h"
#include "policy/policy_internal.h"

const char *const grant_keys[] = { "guest", "host", "rights", "expires", NULL };

#define NORMAL_FORM "guest paths are written normalized: absolute, without \".\" or \"..\" " \
                    "components, \"//\" or a trailing \"/\""

/* Control characters, NUL bytes and bytes that are not UTF-8 are refused in every path. */
static int text_check(const char *s, size_t n, const char *what, char *msg, size_t len)
{
    char q[96];
    text_quote(s, n, q, sizeof q);
    if (strlen(s) != n)
        return policy_msgf(msg, len, "%s %s holds a NUL character", what, q);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return policy_msgf(msg, len, "%s %s holds a control character", what, q);
    if (!utf8_valid(s, n))
        return policy_msgf(msg, len, "%s %s is not valid UTF-8", what, q);
    return 0;
}

int guest_path_check(const char *s, size_t n, bool root_ok, char *msg, size_t len)
{
    char q[96];
    int rc = text_check(s, n, "guest path", msg, len);
    if (rc)
        return rc;
    text_quote(s, n, q, sizeof q);
    if (n == 0)
        return policy_msgf(msg, len, "expected an absolute guest path like \"/data\", got \"\"");
    if (s[0] != '/')
        return policy_msgf(msg, len, "guest path %s is not absolute (it must start with \"/\")", q);
    if (n >= POLICY_GUEST_PATH_MAX)
        return policy_msgf(msg, len, "guest path of %zu bytes is too long (at most %d)", n,
                           POLICY_GUEST_PATH_MAX - 1);
    if (n == 1) {
        if (root_ok)
            return 0;
        return policy_msgf(msg, len, "\"/\" itself cannot be granted: grant directories beneath "
                           "it, like \"/data\"");
    }
    for (const char *c = s + 1; c <= s + n;) { /* each component after a '/' */
        const char *end = memchr(c, '/', (size_t)(s + n - c));
        size_t cl = end ? (size_t)(end - c) : (size_t)(s + n - c);
        if (cl == 0)
            return policy_msgf(msg, len, "guest path %s has %s (" NORMAL_FORM ")", q,
                               end ? "\"//\"" : "a trailing \"/\"");
        if ((cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.'))
            return policy_msgf(msg, len, "guest path %s has a \"%.*s\" component (" NORMAL_FORM ")",
                               q, (int)cl, c);
        if (cl > 255)
            return policy_msgf(msg, len, "guest path %s has a component longer than 255 bytes", q);
        c += cl + 1;
    }
    return 0;
}

int host_path_check(const char *s, size_t n, size_t max, bool must_be_absolute, char *msg,
                    size_t len)
{
    char q[96];
    int rc = text_check(s, n, "path", msg, len);
    if (rc)
        return rc;
    text_quote(s, n, q, sizeof q);
    if (n == 0)
        return policy_msgf(msg, len, "expected a path, got \"\"");
    if (must_be_absolute && s[0] != '/')
        return policy_msgf(msg, len, "host path %s is not absolute (it must start with \"/\")", q);
    if (n >= max)
        return policy_msgf(msg, len, "%s of %zu bytes is too long (at most %zu)",
                           max == POLICY_SOCKET_PATH_MAX ? "a unix socket path" : "path", n, max - 1);
    return 0;
}

int job_id_check(const char *s, size_t n, char *msg, size_t len)
{
    char q[96];
    text_quote(s, n, q, sizeof q);
    if (n == 0 || n >= POLICY_JOB_ID_MAX)
        return policy_msgf(msg, len, "a job id has 1..%d characters, got %zu", POLICY_JOB_ID_MAX - 1,
                           n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return policy_msgf(msg, len, "job id %s has a character other than A-Z a-z 0-9 . _ - "
                               "at byte %zu", q, i + 1);
    }
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return policy_msgf(msg, len, "job id %s is not allowed", q);
    return 0;
}

int tenant_check(const char *s, size_t n, char *msg, size_t len)
{
    char q[96];
    text_quote(s, n, q, sizeof q);
    if (n == 0 || n >= POLICY_TENANT_MAX)
        return policy_msgf(msg, len, "a tenant has 1..%d characters, got %zu",
                           POLICY_TENANT_MAX - 1, n);
    if (s[0] == '.' || s[0] == '-')
        return policy_msgf(msg, len, "tenant %s starts with '%c'", q, s[0]);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return policy_msgf(msg, len, "tenant %s has a character other than A-Z a-z 0-9 . _ - "
                               "at byte %zu", q, i + 1);
    }
    return 0;
}

static int rights_error(const struct pval *v, char *msg, size_t len)
{
    char names[120] = "";
    for (unsigned i = 0; i < CAP_RIGHTS_COUNT; i++) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", right_name(1u << i));
    }
    if (v->type == V_STRING)
        return policy_msgf(msg, len, "unknown right %s; expected \"ro\", \"rw\", \"rx\", "
                           "\"rwx\" or rights from: %s", v->desc, names);
    return policy_msgf(msg, len, "expected \"ro\", \"rw\", \"rx\", \"rwx\" or an array of "
                       "rights from: %s; got %s", names, v->desc);
}

int grant_right_add(uint32_t *rights, const struct pval *v, char *msg, size_t len)
{
    uint32_t r;
    if (v->type != V_STRING || strlen(v->str) != v->len || rights_from_name(v->str, &r))
        return rights_error(v, msg, len);
    *rights |= r;
    return 0;
}

int grant_member_apply(struct grant *g, const char *key, const struct pval *v, char *msg,
                       size_t len)
{
    int rc;
    if (!strcmp(key, "guest") || !strcmp(key, "host")) {
        bool guest = key[0] == 'g';
        if (v->type != V_STRING)
            return policy_msgf(msg, len, "expected %s path string like \"%s\", got %s",
                               guest ? "a guest" : "an absolute host", guest ? "/data" : "/srv/in",
                               v->desc);
        rc = guest ? guest_path_check(v->str, v->len, false, msg, len)
                   : host_path_check(v->str, v->len, POLICY_HOST_PATH_MAX, true, msg, len);
        if (rc)
            return rc;
        strcpy(guest ? g->guest : g->host, v->str); /* length checked above */
        return 0;
    }
    if (!strcmp(key, "rights")) {
        uint32_t r = 0;
        if ((rc = grant_right_add(&r, v, msg, len)))
            return rc;
        g->rights = r;
        return 0;
    }
    if (!strcmp(key, "expires"))
        return pval_duration(v, true, &g->expires_ns, msg, len);
    return -ENOENT;
}

/* Is the guest path a inside b ("/data/x" in "/data")? */
static bool path_inside(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && a[n] == '/';
}

int grant_admit(const struct grant *grants, unsigned n, const struct grant *g, char *msg,
                size_t len)
{
    char q[96], o[96];
    if (n >= POLICY_MAX_GRANTS)
        return policy_msgf(msg, len, "too many grants (at most %d)", POLICY_MAX_GRANTS);
    text_quote(g->guest, strlen(g->guest), q, sizeof q);
    for (unsigned i = 0; i < n; i++) {
        text_quote(grants[i].guest, strlen(grants[i].guest), o, sizeof o);
        if (strcmp(grants[i].guest, g->guest) == 0)
            return policy_msgf(msg, len, "%s is already granted by grants[%u]; one grant per guest "
                               "path", q, i);
        if (path_inside(g->guest, grants[i].guest))
            return policy_msgf(msg, len, "%s is inside grants[%u]'s %s; grants cannot nest (give "
                               "the nested directory its own guest path outside %s)", q, i, o, o);
        if (path_inside(grants[i].guest, g->guest))
            return policy_msgf(msg, len, "%s contains grants[%u]'s %s; grants cannot nest (give "
                               "%s a guest path outside %s)", q, i, o, o, q);
    }
    return 0;
}

int grants_check(const struct policy *p, const char **key, char *msg, size_t len)
{
    static _Thread_local char keybuf[48];
    *key = "grants";
    if (p->ngrants > POLICY_MAX_GRANTS)
        return policy_msgf(msg, len, "%u grants, at most %d", p->ngrants, POLICY_MAX_GRANTS);
    for (unsigned i = 0; i < p->ngrants; i++) {
        const struct grant *g = &p->grants[i];
        snprintf(keybuf, sizeof keybuf, "grants[%u].guest", i);
        *key = keybuf;
        size_t gl = strnlen(g->guest, sizeof g->guest), hl = strnlen(g->host, sizeof g->host);
        if (gl == sizeof g->guest || guest_path_check(g->guest, gl, false, msg, len))
            return gl == sizeof g->guest ? policy_msgf(msg, len, "not NUL-terminated") : -EINVAL;
        if (grant_admit(p->grants, i, g, msg, len))
            return -EINVAL;
        snprintf(keybuf, sizeof keybuf, "grants[%u].host", i);
        if (hl == sizeof g->host || host_path_check(g->host, hl, sizeof g->host, true, msg, len))
            return hl == sizeof g->host ? policy_msgf(msg, len, "not NUL-terminated") : -EINVAL;
        snprintf(keybuf, sizeof keybuf, "grants[%u].rights", i);
        if (!g->rights || (g->rights & ~CAP_RIGHTS_ALL))
            return policy_msgf(msg, len, "rights 0x%x: expected a non-empty set of the %d rights",
                               g->rights, CAP_RIGHTS_COUNT);
    }
    *key = NULL;
    return 0;
}

int policy_add_grant(struct policy *p, const char *spec, const char *origin, char *err,
                     size_t errlen)
{
    char org[200], msg[400];
    struct grant g = { .rights = CAP_RIGHTS_RO };
    struct pval v = { .type = V_STRING };
    if (origin) {
        text_clean(origin, org, sizeof org);
    } else {
        char s[160];
        text_clean(spec, s, sizeof s);
        snprintf(org, sizeof org, "--grant %s", s);
    }
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
        snprintf(err, errlen, "%s: expected GUEST=HOST[:ro|:rw|:RIGHT,RIGHT...], like "
                 "/data=/srv/in:ro", org);
        return -EINVAL;
    }
    char guest[POLICY_GUEST_PATH_MAX], host[POLICY_HOST_PATH_MAX];
    size_t gl = (size_t)(eq - spec);
    const char *colon = strrchr(eq + 1, ':'); /* the rights follow the last ':' */
    size_t hl = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
    if (gl >= POLICY_GUEST_PATH_MAX || hl >= POLICY_HOST_PATH_MAX) {
        snprintf(err, errlen, "%s: %s path of %zu bytes is too long (at most %d)", org,
                 gl >= POLICY_GUEST_PATH_MAX ? "guest" : "host",
                 gl >= POLICY_GUEST_PATH_MAX ? gl : hl,
                 gl >= POLICY_GUEST_PATH_MAX ? POLICY_GUEST_PATH_MAX - 1 : POLICY_HOST_PATH_MAX - 1);
        return -EINVAL;
    }
    memcpy(guest, spec, gl);
    guest[gl] = '\0';
    memcpy(host, eq + 1, hl);
    host[hl] = '\0';
    v.str = guest;
    v.len = gl;
    int rc = grant_member_apply(&g, "guest", &v, msg, sizeof msg);
    if (!rc) {
        v.str = host;
        v.len = hl;
        text_quote(host, hl, v.desc, sizeof v.desc);
        rc = grant_member_apply(&g, "host", &v, msg, sizeof msg);
    }
    if (!rc && colon) {
        g.rights = 0;
        for (const char *r = colon + 1;;) { /* "ro", "rw" or "read,list" */
            const char *comma = strchr(r, ',');
            size_t n = comma ? (size_t)(comma - r) : strlen(r);
            char name[32];
            if (n >= sizeof name)
                n = sizeof name - 1;
            memcpy(name, r, n);
            name[n] = '\0';
            v.str = name;
            v.len = n;
            text_quote(name, n, v.desc, sizeof v.desc);
            if ((rc = grant_right_add(&g.rights, &v, msg, sizeof msg)))
                break;
            if (!comma)
                break;
            r = comma + 1;
        }
        if (rc && strpbrk(colon + 1, "/.")) /* "/srv/a:b/c": a ':' in the host path */
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " (the rights follow the "
                     "last ':'; a host path with ':' needs a rights suffix, like :ro)");
    }
    if (!rc)
        rc = grant_admit(p->grants, p->ngrants, &g, msg, sizeof msg);
    if (rc) {
        snprintf(err, errlen, "%s: %s", org, msg);
        return -EINVAL;
    }
    p->grants[p->ngrants++] = g;
    return 0;
}

void grants_write_json(const struct policy *p, FILE *f, int indent)
{
    char rights[160];
    if (!p->ngrants) {
        fputs("[]", f);
        return;
    }
    fputc('[', f);
    for (unsigned i = 0; i < p->ngrants && i < POLICY_MAX_GRANTS; i++) {
        const struct grant *g = &p->grants[i];
        rights_format_json(g->rights, rights, sizeof rights);
        fprintf(f, "%s\n%*s{\"guest\": ", i ? "," : "", indent + 4, "");
        json_put_string(f, g->guest, strnlen(g->guest, sizeof g->guest));
        fputs(", \"host\": ", f);
        json_put_string(f, g->host, strnlen(g->host, sizeof g->host));
        fprintf(f, ", \"rights\": %s, \"expires_ns\": %llu}", rights,
                (unsigned long long)g->expires_ns);
    }
    fprintf(f, "\n%*s]", indent + 2, "");
}
