/* 9P2000.L fields read and written with bounds checks: a short message or an oversized string is flagged, never read past. */
#include "devices/virtio/p9/p9_wire.h"
#include <string.h>
#include "devices/virtio/le.h"

void p9_in_init(struct p9_in *in, const void *msg, size_t len)
{
    in->p = msg;
    in->len = len;
    in->off = 0;
    in->bad = false;
}

static uint64_t get_n(struct p9_in *in, unsigned n)
{
    if (in->bad || in->len - in->off < n) {
        in->bad = true;
        return 0;
    }
    uint64_t v = le_get(in->p + in->off, n);
    in->off += n;
    return v;
}

uint8_t p9_get8(struct p9_in *in) { return (uint8_t)get_n(in, 1); }
uint16_t p9_get16(struct p9_in *in) { return (uint16_t)get_n(in, 2); }
uint32_t p9_get32(struct p9_in *in) { return (uint32_t)get_n(in, 4); }
uint64_t p9_get64(struct p9_in *in) { return get_n(in, 8); }

struct p9_str p9_get_str(struct p9_in *in, size_t max)
{
    struct p9_str s = { "", 0 };
    uint16_t n = p9_get16(in);
    if (in->bad)
        return s;
    if (n > max || in->len - in->off < n || memchr(in->p + in->off, 0, n)) {
        in->bad = true;
        return s;
    }
    s.s = (const char *)in->p + in->off;
    s.len = n;
    in->off += n;
    return s;
}

bool p9_in_done(const struct p9_in *in)
{
    return !in->bad && in->off == in->len;
}

void p9_out_begin(struct p9_out *out, void *buf, size_t cap, uint8_t type, uint16_t tag)
{
    out->p = buf;
    out->cap = cap;
    out->off = 0;
    out->bad = false;
    p9_put32(out, 0);
    p9_put8(out, type);
    p9_put16(out, tag);
}

static void put_n(struct p9_out *out, uint64_t v, unsigned n)
{
    if (out->bad || out->cap - out->off < n) {
        out->bad = true;
        return;
    }
    le_put(out->p + out->off, v, n);
    out->off += n;
}

void p9_put8(struct p9_out *out, uint8_t v) { put_n(out, v, 1); }
void p9_put16(struct p9_out *out, uint16_t v) { put_n(out, v, 2); }
void p9_put32(struct p9_out *out, uint32_t v) { put_n(out, v, 4); }
void p9_put64(struct p9_out *out, uint64_t v) { put_n(out, v, 8); }

void p9_put_str(struct p9_out *out, const char *s, size_t len)
{
    if (len > UINT16_MAX) {
        out->bad = true;
        return;
    }
    p9_put16(out, (uint16_t)len);
    if (out->bad || out->cap - out->off < len) {
        out->bad = true;
        return;
    }
    memcpy(out->p + out->off, s, len);
    out->off += len;
}

void p9_put_qid(struct p9_out *out, uint8_t type, uint32_t version, uint64_t path)
{
    p9_put8(out, type);
    p9_put32(out, version);
    p9_put64(out, path);
}

size_t p9_out_end(struct p9_out *out)
{
    if (out->bad || out->off > UINT32_MAX)
        return 0;
    le_put(out->p, out->off, 4);
    return out->off;
}

bool p9_name_ok(const struct p9_str *s)
{
    if (s->len == 0 || s->len > P9_NAME_MAX || memchr(s->s, '/', s->len))
        return false;
    if (s->len == 1 && s->s[0] == '.')
        return false;
    return !(s->len == 2 && s->s[0] == '.' && s->s[1] == '.');
}
