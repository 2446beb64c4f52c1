/* Finds where a member or an array element of a JSON document is (line and column of its key
 * or value), since jansson keeps no positions for values; a tolerant walk over text jansson has
 * already read. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_internal.h"

#define WALK_MAX_PATH 16   /* members deeper than this are walked but never reported */
#define WALK_MAX_NEST 4096 /* jansson itself stops at 2048 */

/* One step of the current path: a member's raw key, or an array element's index. */
struct span {
    size_t off, len; /* raw key text between the quotes */
    bool is_index;
    size_t index;
};

struct walk {
    const char *t;
    size_t n, i;
    struct span path[WALK_MAX_PATH];
    int depth;  /* members and elements on the current path */
    int nest;   /* objects and arrays open */
    /* one event per member: its key (before the value is walked) and its value (after); one per
     * array element: its value (after); a non-zero return stops the walk */
    int (*visit)(struct walk *w, bool is_key, size_t start, size_t end);
    void *ctx;
};

static int peek(const struct walk *w)
{
    return w->i < w->n ? (unsigned char)w->t[w->i] : -1;
}

static void skip_ws(struct walk *w)
{
    while (w->i < w->n && strchr(" \t\n\r", w->t[w->i]) && w->t[w->i])
        w->i++;
}

static int skip_string(struct walk *w)
{
    if (peek(w) != '"')
        return -1;
    for (w->i++; w->i < w->n; w->i++) {
        if (w->t[w->i] == '"') {
            w->i++;
            return 0;
        }
        if (w->t[w->i] == '\\')
            w->i++;
    }
    return -1;
}

static int walk_value(struct walk *w);

static int walk_object(struct walk *w)
{
    w->i++; /* '{' */
    skip_ws(w);
    if (peek(w) == '}') {
        w->i++;
        return 0;
    }
    for (;;) {
        skip_ws(w);
        size_t ks = w->i;
        if (skip_string(w))
            return -1;
        bool track = w->depth < WALK_MAX_PATH;
        if (track)
            w->path[w->depth] = (struct span){ ks + 1, w->i - ks - 2, false, 0 };
        w->depth++;
        if (track && w->visit(w, true, ks, w->i))
            return 1;
        skip_ws(w);
        if (peek(w) != ':')
            return -1;
        w->i++;
        skip_ws(w);
        size_t vs = w->i;
        int rc = walk_value(w);
        if (rc)
            return rc;
        if (track && w->visit(w, false, vs, w->i))
            return 1;
        w->depth--;
        skip_ws(w);
        if (peek(w) == ',') {
            w->i++;
            continue;
        }
        if (peek(w) == '}') {
            w->i++;
            return 0;
        }
        return -1;
    }
}

static int walk_array(struct walk *w)
{
    w->i++; /* '[' */
    skip_ws(w);
    if (peek(w) == ']') {
        w->i++;
        return 0;
    }
    for (size_t index = 0;; index++) {
        skip_ws(w);
        bool track = w->depth < WALK_MAX_PATH;
        if (track)
            w->path[w->depth] = (struct span){ 0, 0, true, index };
        w->depth++;
        size_t vs = w->i;
        int rc = walk_value(w);
        if (rc)
            return rc;
        if (track && w->visit(w, false, vs, w->i))
            return 1;
        w->depth--;
        skip_ws(w);
        if (peek(w) == ',') {
            w->i++;
            continue;
        }
        if (peek(w) == ']') {
            w->i++;
            return 0;
        }
        return -1;
    }
}

static int walk_value(struct walk *w)
{
    int c = peek(w), rc;
    if (c == '"')
        return skip_string(w);
    if (c == '{' || c == '[') {
        if (++w->nest > WALK_MAX_NEST)
            return -1;
        rc = c == '{' ? walk_object(w) : walk_array(w);
        w->nest--;
        return rc;
    }
    size_t start = w->i; /* number, true, false, null (not checked further) */
    while (w->i < w->n && (isalnum((unsigned char)w->t[w->i]) || strchr("+-.", w->t[w->i])) &&
           w->t[w->i])
        w->i++;
    return w->i > start ? 0 : -1;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static int hex4(const char *s, size_t n)
{
    int v = 0;
    if (n < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        int c = (unsigned char)s[k], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void emit(char *out, size_t cap, size_t *o, unsigned char c)
{
    if (*o < cap)
        out[*o] = (char)c;
    (*o)++;
}

/* Decode a raw JSON string body into out (up to cap bytes); returns the decoded length. */
static size_t key_decode(const char *raw, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c != '\\' || i + 1 >= n) {
            emit(out, cap, &o, c);
            continue;
        }
        c = (unsigned char)raw[++i];
        const char *simple = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", c);
        if (c != 'u') {
            emit(out, cap, &o, simple && c ? (unsigned char)simple[1] : c);
            continue;
        }
        long cp = hex4(raw + i + 1, n - i - 1);
        if (cp < 0) {
            emit(out, cap, &o, c);
            continue;
        }
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < n && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
            long lo = hex4(raw + i + 3, n - i - 3);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
        }
        if (cp < 0x80) {
            emit(out, cap, &o, (unsigned char)cp);
        } else if (cp < 0x800) {
            emit(out, cap, &o, (unsigned char)(0xc0 | (cp >> 6)));
            emit(out, cap, &o, (unsigned char)(0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
            emit(out, cap, &o, (unsigned char)(0xe0 | (cp >> 12)));
            emit(out, cap, &o, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
            emit(out, cap, &o, (unsigned char)(0x80 | (cp & 0x3f)));
        } else {
            emit(out, cap, &o, (unsigned char)(0xf0 | (cp >> 18)));
            emit(out, cap, &o, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
            emit(out, cap, &o, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
            emit(out, cap, &o, (unsigned char)(0x80 | (cp & 0x3f)));
        }
    }
    return o;
}

/* Does the raw key text decode to want? (Decoding never lengthens a key.) */
static bool key_is(const char *raw, size_t n, const char *want)
{
    size_t wl = strlen(want);
    char small[256], *buf = small;
    if (wl > n)
        return false;
    if (n > sizeof small && !(buf = malloc(n)))
        return false;
    bool eq = key_decode(raw, n, buf, n) == wl && memcmp(buf, want, wl) == 0;
    if (buf != small)
        free(buf);
    return eq;
}

/* ---- finding a member by path ----------------------------------------------------------------- */

struct find_ctx {
    const struct jseg *path;
    int depth;
    bool want_key;
    size_t off;
};

static int find_visit(struct walk *w, bool is_key, size_t start, size_t end)
{
    struct find_ctx *c = w->ctx;
    (void)end;
    if (is_key != c->want_key || w->depth != c->depth)
        return 0;
    for (int k = 0; k < c->depth; k++) {
        const struct span *s = &w->path[k];
        if (c->path[k].key ? s->is_index || !key_is(w->t + s->off, s->len, c->path[k].key)
                           : !s->is_index || s->index != c->path[k].index)
            return 0;
    }
    c->off = start;
    return 1;
}

int jloc_find(const char *text, size_t len, const struct jseg *path, int depth, bool want_key,
              size_t *off)
{
    struct find_ctx c = { path, depth, want_key, 0 };
    struct walk w = { .t = text, .n = len, .visit = find_visit, .ctx = &c };
    if (depth < 1 || depth > WALK_MAX_PATH)
        return -ENOENT;
    if (!path[depth - 1].key)
        c.want_key = false; /* an array element has no key: its value is where it is */
    skip_ws(&w);
    if (walk_value(&w) != 1)
        return -ENOENT;
    *off = c.off;
    return 0;
}

/* ---- finding a member by where its token ends -------------------------------------------------- */

struct end_ctx {
    size_t end, start;
    bool is_key, found;
    struct jloc_path *path;
};

void key_path_append(char *buf, size_t len, const char *seg, size_t seglen)
{
    size_t used = strnlen(buf, len);
    if (used + 1 >= len)
        return;
    char tmp[200], out[420];
    size_t n = seglen < sizeof tmp - 1 ? seglen : sizeof tmp - 1;
    memcpy(tmp, seg, n);
    tmp[n] = '\0';
    if (n == 0 || memchr(tmp, '.', n) || memchr(tmp, '"', n))
        text_quote(tmp, n, out, sizeof out);
    else
        text_clean(tmp, out, sizeof out);
    snprintf(buf + used, len - used, "%s%s", used ? "." : "", out);
}

void jpath_text(const struct jseg *segs, int n, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    for (int k = 0; k < n; k++) {
        if (segs[k].key) {
            key_path_append(buf, len, segs[k].key, strlen(segs[k].key));
        } else {
            size_t used = strnlen(buf, len);
            if (used + 1 < len)
                snprintf(buf + used, len - used, "[%zu]", segs[k].index);
        }
    }
}

static int end_visit(struct walk *w, bool is_key, size_t start, size_t end)
{
    struct end_ctx *c = w->ctx;
    struct jloc_path *p = c->path;
    if (end != c->end)
        return 0;
    int c0 = (unsigned char)w->t[start];
    if (!is_key && (c0 == '{' || c0 == '[' || c0 == '"'))
        return 0;
    c->start = start;
    c->is_key = is_key;
    c->found = true;
    size_t used = 0;
    p->depth = 0;
    for (int k = 0; k < w->depth && k < 16; k++) {
        if (w->path[k].is_index) {
            p->seg[p->depth++] = (struct jseg){ NULL, w->path[k].index };
            continue;
        }
        size_t room = sizeof p->buf - used;
        size_t n = key_decode(w->t + w->path[k].off, w->path[k].len, p->buf + used, room);
        if (n >= room || memchr(p->buf + used, '\0', n)) {
            c->found = false; /* too long, or a NUL inside: no usable path */
            return 1;
        }
        p->buf[used + n] = '\0';
        p->seg[p->depth++] = (struct jseg){ p->buf + used, 0 };
        used += n + 1;
    }
    return 1;
}

int jloc_ending_at(const char *text, size_t len, size_t end, struct jloc_path *path,
                   size_t *start, bool *is_key)
{
    struct end_ctx c = { .end = end, .path = path };
    struct walk w = { .t = text, .n = len, .visit = end_visit, .ctx = &c };
    path->depth = 0;
    skip_ws(&w);
    walk_value(&w);
    if (!c.found || path->depth == 0)
        return -ENOENT;
    *start = c.start;
    *is_key = c.is_key;
    return 0;
}

/* ---- positions -------------------------------------------------------------------------------- */

void jloc_linecol(const char *text, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Split "grants[1].rights[0]" into keys and indexes (in place). 0, or -ENOENT if malformed. */
static int path_parse(char *s, struct jseg *path, int *depth)
{
    *depth = 0;
    for (char *dot; s; s = dot ? dot + 1 : NULL) {
        dot = strchr(s, '.');
        if (dot)
            *dot = '\0';
        char *br = strchr(s, '[');
        if (br)
            *br = '\0';
        if (*depth == WALK_MAX_PATH)
            return -ENOENT;
        path[(*depth)++] = (struct jseg){ s, 0 };
        while (br) { /* "[N]" after the key, repeated */
            char *end;
            if (!isdigit((unsigned char)br[1]))
                return -ENOENT;
            unsigned long long index = strtoull(br + 1, &end, 10);
            if (*end != ']' || *depth == WALK_MAX_PATH)
                return -ENOENT;
            path[(*depth)++] = (struct jseg){ NULL, (size_t)index };
            if (end[1] != '[' && end[1] != '\0')
                return -ENOENT;
            br = end[1] == '[' ? end + 1 : NULL;
        }
    }
    return 0;
}

static int locate(const char *text, size_t len, const char *dotted, bool want_key, int *line,
                  int *col)
{
    char copy[256];
    struct jseg path[WALK_MAX_PATH];
    int depth = 0;
    size_t off;
    if (strlen(dotted) >= sizeof copy)
        return -ENOENT;
    strcpy(copy, dotted);
    if (path_parse(copy, path, &depth))
        return -ENOENT;
    if (jloc_find(text, len, path, depth, want_key, &off))
        return -ENOENT;
    jloc_linecol(text, len, off, line, col);
    return 0;
}

int policy_locate(const char *text, size_t len, const char *path, int *line, int *col)
{
    return locate(text, len, path, false, line, col);
}

int policy_locate_key(const char *text, size_t len, const char *path, int *line, int *col)
{
    return locate(text, len, path, true, line, col);
}
