/* Reads a policy file: refuses odd files, parses the JSON with jansson, applies it through the
 * field table, and turns every problem into one "FILE:LINE:COL: KEY: what is wrong" line. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "policy/policy.h"
#include "policy/policy_internal.h"

#define MAX_DEPTH 8 /* the schema is 4 deep ("grants[1].rights[0]") */

struct fctx {
    const char *text;
    size_t len;
    char name[256];
    char *err;
    size_t errlen;
    struct jseg segs[MAX_DEPTH];
    int nsegs;
};

static bool json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t first_token(const struct fctx *c)
{
    size_t i = 0;
    while (i < c->len && json_ws(c->text[i]))
        i++;
    return i;
}

static int fail_at(struct fctx *c, size_t off, const char *key, const char *msg)
{
    int line, col;
    jloc_linecol(c->text, c->len, off, &line, &col);
    if (key && *key)
        snprintf(c->err, c->errlen, "%s:%d:%d: %s: %s", c->name, line, col, key, msg);
    else
        snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->name, line, col, msg);
    return -EINVAL;
}

/* An error about the member at c->segs: at its key or at its value. */
static int fail_member(struct fctx *c, bool at_key, const char *msg)
{
    char key[300];
    size_t off;
    jpath_text(c->segs, c->nsegs, key, sizeof key);
    if (jloc_find(c->text, c->len, c->segs, c->nsegs, at_key, &off))
        off = first_token(c);
    return fail_at(c, off, key, msg);
}

/* The raw text of the scalar at c->segs (for numbers: "1.5e3" as written). */
static bool raw_scalar(const struct fctx *c, char *buf, size_t len)
{
    size_t off, n = 0;
    if (jloc_find(c->text, c->len, c->segs, c->nsegs, false, &off))
        return false;
    while (off + n < c->len && n + 1 < len && !json_ws(c->text[off + n]) &&
           !strchr(",}]", c->text[off + n]))
        n++;
    memcpy(buf, c->text + off, n);
    buf[n] = '\0';
    return n > 0;
}

static void pval_from_json(const struct fctx *c, const json_t *j, struct pval *v)
{
    memset(v, 0, sizeof *v);
    switch (json_typeof(j)) {
    case JSON_STRING:
        v->type = V_STRING;
        v->str = json_string_value(j);
        v->len = json_string_length(j);
        text_quote(v->str, json_string_length(j), v->desc, sizeof v->desc);
        break;
    case JSON_INTEGER:
        v->type = V_INTEGER;
        v->num = json_integer_value(j);
        snprintf(v->desc, sizeof v->desc, "%lld", v->num);
        break;
    case JSON_REAL:
        v->type = V_REAL;
        if (!raw_scalar(c, v->desc, sizeof v->desc))
            snprintf(v->desc, sizeof v->desc, "%g", json_real_value(j));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->type = V_BOOL;
        strcpy(v->desc, json_is_true(j) ? "true" : "false");
        break;
    case JSON_NULL:
        v->type = V_NULL;
        strcpy(v->desc, "null");
        break;
    case JSON_OBJECT:
        v->type = V_OBJECT;
        strcpy(v->desc, "an object");
        break;
    case JSON_ARRAY:
        v->type = V_ARRAY;
        strcpy(v->desc, "an array");
        break;
    }
}

static int unknown_key(struct fctx *c, const struct field *parent, const char *k)
{
    char keys[200], msg[400];
    const char *best = strchr(k, '.') ? NULL : field_suggest(parent, k);
    field_children(parent, keys, sizeof keys);
    snprintf(msg, sizeof msg, "unknown key%s%s%s; valid keys %s%s%s: %s%s", best ? " (did you mean \"" : "",
             best ? best : "", best ? "\"?)" : "", parent ? "in \"" : "here", parent ? parent->key : "",
             parent ? "\"" : "", keys,
             strchr(k, '.') ? " (nest objects instead of a dotted key: {\"cpu\": {\"quota\": ...}})" : "");
    return fail_member(c, true, msg);
}

static void push_key(struct fctx *c, const char *k)
{
    c->segs[c->nsegs++] = (struct jseg){ k, 0 };
}

static void push_index(struct fctx *c, size_t i)
{
    c->segs[c->nsegs++] = (struct jseg){ NULL, i };
}

/* "syscalls.allow": [names or numbers]: replaces the bitmap at f. */
static int apply_syscall_list(struct fctx *c, struct policy *q, const struct field *f, json_t *arr)
{
    uint64_t set[POLICY_SYSCALL_NR_MAX / 64] = { 0 };
    char msg[400];
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) {
        struct pval pv;
        unsigned nr;
        push_index(c, i);
        pval_from_json(c, el, &pv);
        if (syscall_entry_parse(&pv, &nr, msg, sizeof msg))
            return fail_member(c, false, msg);
        set[nr / 64] |= 1ull << (nr % 64);
        c->nsegs--;
    }
    memcpy((char *)q + f->off, set, sizeof set);
    return 0;
}

static int unknown_grant_key(struct fctx *c, const char *k)
{
    char keys[120], msg[300];
    const char *best = name_suggest(k, grant_keys);
    names_list(grant_keys, keys, sizeof keys);
    snprintf(msg, sizeof msg, "unknown key%s%s%s; a grant has the keys %s", best ? " (did you mean \"" : "",
             best ? best : "", best ? "\"?)" : "", keys);
    return fail_member(c, true, msg);
}

/* One grant object, at c->segs (grants[i]). */
static int apply_grant(struct fctx *c, struct grant *g, json_t *obj)
{
    const char *k;
    json_t *v;
    char msg[400];
    bool have_guest = false, have_host = false;
    *g = (struct grant){ .rights = CAP_RIGHTS_RO };
    json_object_foreach(obj, k, v) {
        struct pval pv;
        push_key(c, k);
        if (!strcmp(k, "rights") && json_is_array(v)) {
            size_t i;
            json_t *el;
            g->rights = 0;
            json_array_foreach(v, i, el) {
                push_index(c, i);
                pval_from_json(c, el, &pv);
                if (grant_right_add(&g->rights, &pv, msg, sizeof msg))
                    return fail_member(c, false, msg);
                c->nsegs--;
            }
            if (!g->rights)
                return fail_member(c, false, "an empty list of rights grants nothing (remove the "
                                   "grant, or name rights like [\"read\", \"list\"])");
        } else {
            pval_from_json(c, v, &pv);
            int rc = grant_member_apply(g, k, &pv, msg, sizeof msg);
            if (rc == -ENOENT)
                return unknown_grant_key(c, k);
            if (rc)
                return fail_member(c, false, msg);
        }
        have_guest |= !strcmp(k, "guest");
        have_host |= !strcmp(k, "host");
        c->nsegs--;
    }
    if (!have_guest || !have_host)
        return fail_member(c, false, !have_guest && !have_host
                           ? "a grant needs \"guest\" and \"host\" paths, like {\"guest\": "
                             "\"/data\", \"host\": \"/srv/in\", \"rights\": \"ro\"}"
                           : !have_guest ? "a grant needs a \"guest\" path (where the job sees it, like \"/data\")"
                                         : "a grant needs a \"host\" path (what it shows, like \"/srv/in\")");
    return 0;
}

/* "grants": [objects]: replaces the grants. */
static int apply_grants(struct fctx *c, struct policy *q, json_t *arr)
{
    char msg[400];
    size_t i;
    json_t *el;
    q->ngrants = 0;
    memset(q->grants, 0, sizeof q->grants);
    json_array_foreach(arr, i, el) {
        struct grant g;
        push_index(c, i);
        if (i >= POLICY_MAX_GRANTS) {
            snprintf(msg, sizeof msg, "too many grants: %zu (at most %d)", json_array_size(arr),
                     POLICY_MAX_GRANTS);
            return fail_member(c, false, msg);
        }
        if (!json_is_object(el)) {
            struct pval pv;
            pval_from_json(c, el, &pv);
            snprintf(msg, sizeof msg, "expected a grant object like {\"guest\": \"/data\", "
                     "\"host\": \"/srv/in\", \"rights\": \"ro\"}, got %s", pv.desc);
            return fail_member(c, false, msg);
        }
        int rc = apply_grant(c, &g, el);
        if (rc)
            return rc;
        if (grant_admit(q->grants, q->ngrants, &g, msg, sizeof msg)) {
            push_key(c, "guest");
            return fail_member(c, false, msg);
        }
        q->grants[q->ngrants++] = g;
        c->nsegs--;
    }
    return 0;
}

static int unknown_endpoint_key(struct fctx *c, const char *k)
{
    char keys[120], msg[300];
    const char *best = name_suggest(k, endpoint_keys);
    names_list(endpoint_keys, keys, sizeof keys);
    snprintf(msg, sizeof msg, "unknown key%s%s%s; an endpoint has the keys %s",
             best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "", keys);
    return fail_member(c, true, msg);
}

/* One endpoint object {"connect"|"listen": "PROTO:HOST:PORT", "expires": D}, at c->segs. */
static int apply_endpoint(struct fctx *c, struct endpoint *e, json_t *obj)
{
    const char *k;
    json_t *v;
    char msg[600];
    int modes = 0;
    uint64_t expires = 0;
    json_object_foreach(obj, k, v) {
        struct pval pv;
        push_key(c, k);
        pval_from_json(c, v, &pv);
        if (!strcmp(k, "connect") || !strcmp(k, "listen")) {
            enum endpoint_mode mode = k[0] == 'l' ? EP_LISTEN : EP_CONNECT;
            if (++modes > 1)
                return fail_member(c, true, "an endpoint has one of \"connect\" or \"listen\"; "
                                   "write a second endpoint for the other");
            if (pv.type != V_STRING)
                return fail_member(c, false, mode == EP_LISTEN
                                   ? "expected \"tcp:HOST:PORT\" like \"tcp:127.0.0.1:9000\""
                                   : "expected \"PROTO:HOST:PORT\" like \"tcp:127.0.0.1:8080\"");
            if (endpoint_parse(pv.str, pv.len, mode, e, msg, sizeof msg))
                return fail_member(c, false, msg);
        } else if (!strcmp(k, "expires")) {
            if (pval_duration(&pv, true, &expires, msg, sizeof msg))
                return fail_member(c, false, msg);
        } else {
            return unknown_endpoint_key(c, k);
        }
        c->nsegs--;
    }
    if (!modes)
        return fail_member(c, false, "an endpoint needs \"connect\" or \"listen\", like "
                           "{\"connect\": \"tcp:127.0.0.1:8080\"}");
    e->expires_ns = expires;
    return 0;
}

/* "endpoints": [objects]: replaces the endpoints. */
static int apply_endpoints(struct fctx *c, struct policy *q, json_t *arr)
{
    char msg[600];
    size_t i;
    json_t *el;
    q->nendpoints = 0;
    memset(q->endpoints, 0, sizeof q->endpoints);
    json_array_foreach(arr, i, el) {
        struct endpoint e;
        push_index(c, i);
        if (i >= POLICY_MAX_ENDPOINTS) {
            snprintf(msg, sizeof msg, "too many endpoints: %zu (at most %d)",
                     json_array_size(arr), POLICY_MAX_ENDPOINTS);
            return fail_member(c, false, msg);
        }
        if (!json_is_object(el)) {
            struct pval pv;
            pval_from_json(c, el, &pv);
            snprintf(msg, sizeof msg, "expected an endpoint object like {\"connect\": "
                     "\"tcp:127.0.0.1:8080\"}, got %s", pv.desc);
            return fail_member(c, false, msg);
        }
        int rc = apply_endpoint(c, &e, el);
        if (rc)
            return rc;
        if (endpoint_admit(q->endpoints, q->nendpoints, &e, msg, sizeof msg)) {
            push_key(c, e.mode == EP_LISTEN ? "listen" : "connect");
            return fail_member(c, false, msg);
        }
        q->endpoints[q->nendpoints++] = e;
        c->nsegs--;
    }
    return 0;
}

static int apply_object(struct fctx *c, struct policy *q, const struct field *parent, json_t *obj)
{
    const char *k;
    json_t *v;
    char msg[400];
    json_object_foreach(obj, k, v) {
        if (c->nsegs == MAX_DEPTH)
            return fail_member(c, false, "nested too deep");
        push_key(c, k);
        const struct field *f = strchr(k, '.') ? NULL : field_child(parent, k);
        if (!f)
            return unknown_key(c, parent, k);
        if (json_is_array(v) && f->kind == FK_ENDPOINTS) {
            int rc = apply_endpoints(c, q, v);
            if (rc)
                return rc;
        } else if (json_is_array(v) && (f->kind == FK_SYSCALLS || f->kind == FK_GRANTS)) {
            int rc = f->kind == FK_GRANTS ? apply_grants(c, q, v) : apply_syscall_list(c, q, f, v);
            if (rc)
                return rc;
        } else if (json_is_string(v) && f->kind == FK_SYSCALLS) {
            return fail_member(c, false, "expected an array of syscall names or numbers like "
                               "[\"openat\", 231]");
        } else if (json_is_object(v) && (f->kind == FK_GROUP || f->kind == FK_BUCKET)) {
            if (f->kind == FK_BUCKET)
                bucket_reset(q, f); /* the object replaces the whole bucket */
            int rc = apply_object(c, q, f, v);
            if (rc)
                return rc;
            if (f->kind == FK_BUCKET && bucket_check(q, f, msg, sizeof msg))
                return fail_member(c, false, msg);
        } else {
            struct pval pv;
            pval_from_json(c, v, &pv);
            if (field_apply(q, f, &pv, msg, sizeof msg))
                return fail_member(c, false, msg);
        }
        c->nsegs--;
    }
    return 0;
}

/* jansson refused the text: its line and column, with clearer words where we can. */
static int syntax_error(struct fctx *c, const json_error_t *e)
{
    enum json_error_code code = json_error_code(e);
    size_t pos = e->position < 0 ? 0 : (size_t)e->position;
    char msg[400], key[300], clean[JSON_ERROR_TEXT_LENGTH + 40];
    if (pos > c->len)
        pos = c->len;
    if (code == json_error_duplicate_key || code == json_error_numeric_overflow) {
        struct jloc_path path;
        size_t start, first;
        bool is_key;
        if (jloc_ending_at(c->text, c->len, pos, &path, &start, &is_key) == 0) {
            jpath_text(path.seg, path.depth, key, sizeof key);
            if (code == json_error_duplicate_key && is_key) {
                int l, col;
                if (jloc_find(c->text, c->len, path.seg, path.depth, true, &first) == 0 &&
                    first != start) {
                    jloc_linecol(c->text, c->len, first, &l, &col);
                    snprintf(msg, sizeof msg, "duplicate key (first given at %d:%d)", l, col);
                } else {
                    snprintf(msg, sizeof msg, "duplicate key");
                }
                return fail_at(c, start, key, msg);
            }
            if (code == json_error_numeric_overflow && !is_key) {
                char num[64];
                size_t n = pos - start < 40 ? pos - start : 40;
                memcpy(num, c->text + start, n);
                num[n] = '\0';
                snprintf(msg, sizeof msg, "number %s%s is out of range (integers are at most "
                         "9223372036854775807)", num, pos - start > n ? "..." : "");
                return fail_at(c, start, key, msg);
            }
        }
    }
    /* "{"a": 1,}": jansson stops at the brace; point at the comma */
    if (code == json_error_invalid_syntax && pos > 0 && strchr("}]", c->text[pos - 1]) &&
        c->text[pos - 1]) {
        size_t i = pos - 1;
        while (i > 0 && json_ws(c->text[i - 1]))
            i--;
        if (i > 0 && c->text[i - 1] == ',') {
            snprintf(msg, sizeof msg, "trailing comma before '%c' (JSON allows none)",
                     c->text[pos - 1]);
            return fail_at(c, i - 1, NULL, msg);
        }
    }
    text_clean(e->text, clean, sizeof clean);
    snprintf(c->err, c->errlen, "%s:%d:%d: invalid JSON: %s", c->name, e->line < 1 ? 1 : e->line,
             e->column < 1 ? 1 : e->column, clean);
    return -EINVAL;
}

/* Cross-field checks after the whole file, reported at the field at fault if the file has it. */
static int cross_check(struct fctx *c, const struct policy *q)
{
    const char *key;
    char msg[400];
    if (policy_check(q, &key, msg, sizeof msg) == 0)
        return 0;
    const char *places[] = { key, NULL, NULL };
    if (strcmp(key, "cpu.quota") == 0) {
        places[1] = "cpu.period";
        places[2] = "max_threads";
    }
    for (unsigned i = 0; i < 3 && places[i]; i++) {
        int line, col;
        if (policy_locate(c->text, c->len, places[i], &line, &col) == 0) {
            snprintf(c->err, c->errlen, "%s:%d:%d: %s: %s", c->name, line, col, key, msg);
            return -EINVAL;
        }
    }
    return fail_at(c, first_token(c), key, msg);
}

int policy_parse(struct policy *p, const char *text, size_t len, const char *name, char *err,
                 size_t errlen)
{
    struct fctx c = { .text = text, .len = len, .err = err, .errlen = errlen };
    char msg[200];
    text_clean(name ? name : "policy", c.name, sizeof c.name);
    size_t first = first_token(&c);
    if (first == len)
        return fail_at(&c, 0, NULL, "empty policy: expected a JSON object like "
                       "{\"memory\": \"64MiB\"} ({} for all defaults)");
    json_error_t e;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (!root)
        return syntax_error(&c, &e);
    int rc;
    struct policy q = *p;
    if (!json_is_object(root)) {
        struct pval v;
        pval_from_json(&c, root, &v);
        snprintf(msg, sizeof msg, "expected a JSON object at the top level, got %s", v.desc);
        rc = fail_at(&c, first, NULL, msg);
    } else {
        rc = apply_object(&c, &q, NULL, root);
        if (rc == 0) {
            policy_quota_follow(&q);
            rc = cross_check(&c, &q);
        }
    }
    json_decref(root);
    if (rc == 0)
        *p = q;
    return rc;
}

int policy_load(struct policy *p, const char *path, char *err, size_t errlen)
{
    char name[256];
    struct stat st;
    int rc;
    text_clean(path, name, sizeof name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: cannot open: %s", name, strerror(-rc));
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: cannot stat: %s", name, strerror(-rc));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s, not a regular file", name,
                 S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                 : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "a special file");
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    if (st.st_size > (off_t)POLICY_MAX_FILE_SIZE) {
        snprintf(err, errlen, "%s: too large (%lld bytes; a policy file is at most 1MiB)", name,
                 (long long)st.st_size);
        close(fd);
        return -EFBIG;
    }
    char *buf = malloc(POLICY_MAX_FILE_SIZE + 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    size_t n = 0;
    while (n <= POLICY_MAX_FILE_SIZE) {
        ssize_t r = read(fd, buf + n, POLICY_MAX_FILE_SIZE + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            snprintf(err, errlen, "%s: cannot read: %s", name, strerror(-rc));
            free(buf);
            close(fd);
            return rc;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > POLICY_MAX_FILE_SIZE) {
        snprintf(err, errlen, "%s: too large (more than 1MiB; a policy file is at most 1MiB)", name);
        free(buf);
        return -EFBIG;
    }
    rc = policy_parse(p, buf, n, path, err, errlen);
    free(buf);
    return rc;
}
