/* The policy's network endpoints (connect to tcp/udp HOST:PORT, listen on tcp HOST:PORT): their
 * parsing from "PROTO:HOST:PORT", checks, the --connect/--listen form and their JSON output. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_str.h"
#include "policy/policy_internal.h"

const char *const endpoint_keys[] = { "connect", "listen", "expires", NULL };

static const char *mode_name(enum endpoint_mode m) { return m == EP_LISTEN ? "listen" : "connect"; }

void endpoint_format(const struct endpoint *e, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    inet_ntop(e->v6 ? AF_INET6 : AF_INET, e->addr, host, sizeof host);
    snprintf(buf, len, e->v6 ? "%s:[%s]:%u" : "%s:%s:%u", e->proto == EP_UDP ? "udp" : "tcp",
             host, (unsigned)e->port);
}

/* Does the text look like a host name rather than a malformed address? */
static bool looks_like_name(const char *h)
{
    for (; *h; h++)
        if ((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || *h == '-')
            return true;
    return false;
}

int endpoint_parse(const char *s, size_t n, enum endpoint_mode mode, struct endpoint *e,
                   char *msg, size_t len)
{
    char q[96], text[POLICY_ENDPOINT_TEXT + 16], host[64];
    text_quote(s, n, q, sizeof q);
    const char *example = mode == EP_LISTEN ? "\"tcp:127.0.0.1:9000\""
                                            : "\"tcp:127.0.0.1:8080\" or \"udp:[::1]:53\"";
    if (strlen(s) != n || n >= sizeof text)
        return policy_msgf(msg, len, "%s is not an endpoint: expected PROTO:HOST:PORT like %s", q,
                           example);
    memcpy(text, s, n + 1);
    *e = (struct endpoint){ .mode = mode };
    char *colon = strchr(text, ':');
    if (!colon)
        return policy_msgf(msg, len, "%s is not an endpoint: expected PROTO:HOST:PORT like %s", q,
                           example);
    *colon = '\0';
    if (!strcmp(text, "tcp"))
        e->proto = EP_TCP;
    else if (!strcmp(text, "udp"))
        e->proto = EP_UDP;
    else
        return policy_msgf(msg, len, "%s: unknown protocol \"%s\": expected tcp or udp (like %s)",
                           q, text, example);
    if (mode == EP_LISTEN && e->proto != EP_TCP)
        return policy_msgf(msg, len, "%s: a listen endpoint is tcp only", q);
    char *h = colon + 1, *port;
    if (*h == '[') {
        char *close = strchr(h, ']');
        if (!close || close[1] != ':')
            return policy_msgf(msg, len, "%s: an IPv6 address is written in brackets before the "
                               "port, like \"udp:[::1]:53\"", q);
        *close = '\0';
        h++;
        port = close + 2;
        e->v6 = true;
    } else {
        char *last = strrchr(h, ':');
        if (!last)
            return policy_msgf(msg, len, "%s: missing \":PORT\" (expected PROTO:HOST:PORT like %s)",
                               q, example);
        *last = '\0';
        port = last + 1;
        if (strchr(h, ':'))
            return policy_msgf(msg, len, "%s: an IPv6 address is written in brackets, like "
                               "\"udp:[::1]:53\"", q);
    }
    snprintf(host, sizeof host, "%s", h);
    if (inet_pton(e->v6 ? AF_INET6 : AF_INET, host, e->addr) != 1) {
        if (!e->v6 && looks_like_name(host))
            return policy_msgf(msg, len, "%s: \"%s\" is a host name; an endpoint names a numeric "
                               "IPv4 or IPv6 address (isovm resolves no names, and DNS is not "
                               "available to the job unless an endpoint for a DNS server is "
                               "granted)", q, host);
        return policy_msgf(msg, len, "%s: \"%s\" is not a numeric IPv%d address", q, host,
                           e->v6 ? 6 : 4);
    }
    unsigned long v = 0;
    size_t digits = strspn(port, "0123456789");
    if (digits == 0 || port[digits] || digits > 5 || (v = strtoul(port, NULL, 10)) > 65535 ||
        v == 0)
        return policy_msgf(msg, len, "%s: port \"%s\" is not a number 1..65535", q, port);
    e->port = (uint16_t)v;
    static const uint8_t any[16];
    if (mode == EP_CONNECT && !memcmp(e->addr, any, e->v6 ? 16 : 4))
        return policy_msgf(msg, len, "%s: the unspecified address %s is not a destination", q,
                           e->v6 ? "::" : "0.0.0.0");
    return 0;
}

static bool endpoint_same(const struct endpoint *a, const struct endpoint *b)
{
    return a->mode == b->mode && a->proto == b->proto && a->v6 == b->v6 && a->port == b->port &&
           !memcmp(a->addr, b->addr, sizeof a->addr);
}

int endpoint_admit(const struct endpoint *eps, unsigned n, const struct endpoint *e, char *msg,
                   size_t len)
{
    if (n >= POLICY_MAX_ENDPOINTS)
        return policy_msgf(msg, len, "too many endpoints (at most %d)", POLICY_MAX_ENDPOINTS);
    for (unsigned i = 0; i < n; i++) {
        if (endpoint_same(&eps[i], e)) {
            char t[POLICY_ENDPOINT_TEXT];
            endpoint_format(e, t, sizeof t);
            return policy_msgf(msg, len, "%s %s is already granted by endpoints[%u]",
                               mode_name(e->mode), t, i);
        }
    }
    return 0;
}

int endpoints_check(const struct policy *p, const char **key, char *msg, size_t len)
{
    static _Thread_local char keybuf[48];
    *key = "endpoints";
    if (p->nendpoints > POLICY_MAX_ENDPOINTS)
        return policy_msgf(msg, len, "%u endpoints, at most %d", p->nendpoints,
                           POLICY_MAX_ENDPOINTS);
    for (unsigned i = 0; i < p->nendpoints; i++) {
        const struct endpoint *e = &p->endpoints[i];
        snprintf(keybuf, sizeof keybuf, "endpoints[%u]", i);
        *key = keybuf;
        if ((e->mode != EP_CONNECT && e->mode != EP_LISTEN) ||
            (e->proto != EP_TCP && e->proto != EP_UDP) || e->port == 0 ||
            (e->mode == EP_LISTEN && e->proto != EP_TCP))
            return policy_msgf(msg, len, "not a valid endpoint");
        if (endpoint_admit(p->endpoints, i, e, msg, len))
            return -EINVAL;
    }
    *key = NULL;
    return 0;
}

int policy_add_endpoint(struct policy *p, enum endpoint_mode mode, const char *spec,
                        const char *origin, char *err, size_t errlen)
{
    char org[200], msg[600];
    if (origin) {
        text_clean(origin, org, sizeof org);
    } else {
        char s[160];
        text_clean(spec, s, sizeof s);
        snprintf(org, sizeof org, "--%s %s", mode_name(mode), s);
    }
    struct endpoint e;
    if (endpoint_parse(spec, strlen(spec), mode, &e, msg, sizeof msg) ||
        endpoint_admit(p->endpoints, p->nendpoints, &e, msg, sizeof msg)) {
        snprintf(err, errlen, "%s: %s", org, msg);
        return -EINVAL;
    }
    p->endpoints[p->nendpoints++] = e;
    return 0;
}

void endpoints_write_json(const struct policy *p, FILE *f, int indent)
{
    if (!p->nendpoints) {
        fputs("[]", f);
        return;
    }
    fputc('[', f);
    for (unsigned i = 0; i < p->nendpoints && i < POLICY_MAX_ENDPOINTS; i++) {
        const struct endpoint *e = &p->endpoints[i];
        char t[POLICY_ENDPOINT_TEXT];
        endpoint_format(e, t, sizeof t);
        fprintf(f, "%s\n%*s{\"%s\": ", i ? "," : "", indent + 4, "", mode_name(e->mode));
        json_put_cstr(f, t);
        fprintf(f, ", \"expires_ns\": %llu}", (unsigned long long)e->expires_ns);
    }
    fprintf(f, "\n%*s]", indent + 2, "");
}
