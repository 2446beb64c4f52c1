/* The head of an HTTP/1.x request (RFC 9112) parsed from a buffer: request line, header fields, the Accept negotiation between OpenMetrics and the Prometheus text format. */
#include "cli/http_request.h"
#include <string.h>
#include <strings.h>

/* RFC 9110 5.6.2: tchar */
static bool tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* ---- Accept ---- */

/* The best match so far of one offer: how specific (-1: none yet; 0 the all-types range, 1 a
 * type's, 2 exact) and its q in thousandths. */
struct offer {
    int spec;
    int q;
};

struct accept {
    struct offer om, text;
};

static void offer_match(struct offer *o, int spec, int q)
{
    if (spec > o->spec) {
        o->spec = spec;
        o->q = q;
    } else if (spec == o->spec && q > o->q) {
        o->q = q;
    }
}

/* A qvalue (RFC 9110 12.4.2): "0" ["." up to 3 digits] or "1" ["." up to 3 zeros], in
 * thousandths; -1 if malformed. */
static int qvalue(const char *s, size_t n)
{
    if (n == 0 || n > 5 || (s[0] != '0' && s[0] != '1') || (n > 1 && s[1] != '.'))
        return -1;
    int q = (s[0] - '0') * 1000, scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

static bool name_is(const char *s, size_t n, const char *name)
{
    return n == strlen(name) && !strncasecmp(s, name, n);
}

/* One media range with its parameters ("text/plain;version=0.0.4;q=0.5"), into a. */
static void accept_range(const char *s, size_t n, struct accept *a)
{
    size_t i = 0;
    while (i < n && ows((unsigned char)s[i]))
        i++;
    size_t t0 = i;
    while (i < n && tchar((unsigned char)s[i]))
        i++;
    size_t tlen = i - t0;
    if (tlen == 0 || i >= n || s[i] != '/')
        return;
    size_t s0 = ++i;
    while (i < n && tchar((unsigned char)s[i]))
        i++;
    size_t slen = i - s0;
    if (slen == 0)
        return;
    int q = 1000;
    for (;;) {
        while (i < n && ows((unsigned char)s[i]))
            i++;
        if (i == n)
            break;
        if (s[i] != ';')
            return;
        i++;
        while (i < n && ows((unsigned char)s[i]))
            i++;
        if (i == n)
            break; /* a trailing ';' */
        size_t p0 = i;
        while (i < n && tchar((unsigned char)s[i]))
            i++;
        size_t plen = i - p0;
        if (plen == 0 || i >= n || s[i] != '=')
            return;
        size_t v0 = ++i, vlen;
        if (i < n && s[i] == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\' && ++i == n)
                    return;
            if (i == n)
                return; /* an unterminated quoted string */
            i++;
            vlen = i - v0;
        } else {
            while (i < n && tchar((unsigned char)s[i]))
                i++;
            vlen = i - v0;
            if (vlen == 0)
                return;
        }
        if (name_is(s + p0, plen, "q") && (q = qvalue(s + v0, vlen)) < 0)
            return;
    }
    const char *type = s + t0, *sub = s + s0;
    if (name_is(type, tlen, "application") && name_is(sub, slen, "openmetrics-text"))
        offer_match(&a->om, 2, q);
    if (name_is(type, tlen, "text") && name_is(sub, slen, "plain"))
        offer_match(&a->text, 2, q);
    else if (name_is(type, tlen, "text") && name_is(sub, slen, "*"))
        offer_match(&a->text, 1, q);
    else if (name_is(type, tlen, "*") && name_is(sub, slen, "*"))
        offer_match(&a->text, 0, q);
}

/* An Accept field value: its comma-separated ranges (commas in quoted strings are not
 * separators). */
static void accept_value(const char *s, size_t n, struct accept *a)
{
    size_t start = 0;
    bool quoted = false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && quoted) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                quoted = false;
            continue;
        }
        if (i < n && s[i] == '"') {
            quoted = true;
        } else if (i == n || s[i] == ',') {
            accept_range(s + start, (i < n ? i : n) - start, a);
            start = i + 1;
        }
    }
}

static bool accept_openmetrics(const struct accept *a)
{
    int text_q = a->text.spec >= 0 ? a->text.q : 0;
    return a->om.spec >= 0 && a->om.q > 0 && a->om.q >= text_q;
}

bool http_accept_openmetrics(const char *value, size_t len)
{
    struct accept a = { { -1, 0 }, { -1, 0 } };
    accept_value(value, len, &a);
    return accept_openmetrics(&a);
}

/* ---- the request head ---- */

/* The request line s[0..n) (complete: its end was seen); 0 if well-formed so far, else the status.
 * Fills r's method and path, and *minor with the HTTP minor version. */
static int request_line(const char *s, size_t n, bool complete, struct http_request *r, int *minor)
{
    size_t i = 0;
    while (i < n && tchar((unsigned char)s[i]))
        i++;
    if (i == n)
        return complete ? 400 : 0;
    if (i == 0 || s[i] != ' ')
        return 400;
    r->method_text = s;
    r->method_len = i;
    size_t t0 = ++i;
    while (i < n && (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f)
        i++;
    if (i > t0 && s[t0] != '/')
        return 400; /* origin-form only: no absolute URI, no "*" */
    if (i == n)
        return complete ? 400 : 0;
    if (i == t0 || s[i] != ' ')
        return 400;
    r->path = s + t0;
    r->path_len = i - t0;
    const char *q = memchr(r->path, '?', r->path_len);
    if (q)
        r->path_len = (size_t)(q - r->path);
    i++;
    static const char version[] = "HTTP/d.d";
    size_t m = n - i;
    if (m > sizeof version - 1)
        return 400;
    for (size_t k = 0; k < m; k++) {
        char c = s[i + k], want = version[k];
        if (want == 'd' ? (c < '0' || c > '9') : c != want)
            return 400;
    }
    if (!complete)
        return 0;
    if (m != sizeof version - 1)
        return 400;
    if (s[i + 5] != '1')
        return 505;
    *minor = s[i + 7] - '0';
    if (r->method_len == 3 && !memcmp(s, "GET", 3))
        r->method = HTTP_GET;
    else if (r->method_len == 4 && !memcmp(s, "HEAD", 4))
        r->method = HTTP_HEAD;
    else
        r->method = HTTP_OTHER;
    return 0;
}

/* A header field line s[0..n) (not empty); 0 if well-formed so far, else 400. A complete one is
 * counted (Host) or read (Accept). */
static int field_line(const char *s, size_t n, bool complete, struct accept *a, int *hosts)
{
    size_t i = 0;
    while (i < n && tchar((unsigned char)s[i]))
        i++;
    if (i < n && (i == 0 || s[i] != ':'))
        return 400; /* a folded line, no name, or space before the colon */
    for (size_t k = i + 1; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if ((c < ' ' && c != '\t') || c == 0x7f)
            return 400;
    }
    if (!complete)
        return 0;
    if (i == n)
        return 400; /* no colon */
    size_t v0 = i + 1, v1 = n;
    while (v0 < v1 && ows((unsigned char)s[v0]))
        v0++;
    while (v1 > v0 && ows((unsigned char)s[v1 - 1]))
        v1--;
    if (name_is(s, i, "host"))
        (*hosts)++;
    else if (name_is(s, i, "accept"))
        accept_value(s + v0, v1 - v0, a);
    return 0;
}

int http_request_parse(const char *buf, size_t len, struct http_request *r)
{
    memset(r, 0, sizeof *r);
    size_t cap = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
    struct accept a = { { -1, 0 }, { -1, 0 } };
    int hosts = 0, minor = 0;
    bool have_request_line = false;
    size_t pos = 0;
    while (pos < cap) {
        const char *nl = memchr(buf + pos, '\n', cap - pos);
        bool complete = nl != NULL;
        size_t end = complete ? (size_t)(nl - buf) : cap, n = end - pos;
        /* a CR only right before the LF (or last in what is in so far: its LF may follow) */
        const char *cr = memchr(buf + pos, '\r', n);
        if (cr && cr != buf + end - 1)
            return 400;
        if (cr)
            n--;
        const char *s = buf + pos;
        int rc;
        if (!have_request_line) {
            if (n == 0 && complete) {
                pos = end + 1; /* an empty line before the request line */
                continue;
            }
            rc = request_line(s, n, complete, r, &minor);
            have_request_line = complete;
        } else {
            if (n == 0 && complete) {
                if (hosts > 1 || (minor >= 1 && hosts != 1))
                    return 400;
                r->openmetrics = accept_openmetrics(&a);
                r->head_len = end + 1;
                return HTTP_PARSE_OK;
            }
            rc = field_line(s, n, complete, &a, &hosts);
        }
        if (rc)
            return rc;
        if (!complete)
            break;
        pos = end + 1;
    }
    return len >= HTTP_HEAD_MAX ? 431 : HTTP_PARSE_MORE;
}
