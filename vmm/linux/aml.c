/* A small AML encoder (ACPI 6.x, section 20: the AML grammar) for the guest's DSDT. */
#include "vmm/linux/aml.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AML_ZERO       0x00
#define AML_ONE        0x01
#define AML_NAME       0x08
#define AML_BYTE       0x0a
#define AML_WORD       0x0b
#define AML_DWORD      0x0c
#define AML_STRING     0x0d
#define AML_QWORD      0x0e
#define AML_SCOPE      0x10
#define AML_BUFFER     0x11
#define AML_EXT_PREFIX 0x5b
#define AML_DEVICE     0x82 /* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR  0x5c

void aml_init(struct aml *a) { memset(a, 0, sizeof *a); }

void aml_free(struct aml *a)
{
    free(a->buf);
    memset(a, 0, sizeof *a);
}

static void fail(struct aml *a, int err)
{
    if (!a->err)
        a->err = err;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (a->err || n == 0)
        return;
    if (n > SIZE_MAX / 2 - a->len) {
        fail(a, -ENOMEM);
        return;
    }
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (cap < a->len + n)
            cap *= 2;
        uint8_t *b = realloc(a->buf, cap);
        if (!b) {
            fail(a, -ENOMEM);
            return;
        }
        a->buf = b;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void byte(struct aml *a, uint8_t b) { aml_bytes(a, &b, 1); }

static void le(struct aml *a, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_nameseg(struct aml *a, const char *seg)
{
    size_t n = strlen(seg);
    if (n == 0 || n > 4 || (seg[0] >= '0' && seg[0] <= '9')) {
        fail(a, -EINVAL);
        return;
    }
    char out[4] = { '_', '_', '_', '_' };
    for (size_t i = 0; i < n; i++) {
        char c = seg[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            fail(a, -EINVAL);
            return;
        }
        out[i] = c;
    }
    aml_bytes(a, out, 4);
}

void aml_integer(struct aml *a, uint64_t v)
{
    if (v == 0)
        byte(a, AML_ZERO);
    else if (v == 1)
        byte(a, AML_ONE);
    else if (v <= 0xff) {
        byte(a, AML_BYTE);
        le(a, v, 1);
    } else if (v <= 0xffff) {
        byte(a, AML_WORD);
        le(a, v, 2);
    } else if (v <= 0xffffffffu) {
        byte(a, AML_DWORD);
        le(a, v, 4);
    } else {
        byte(a, AML_QWORD);
        le(a, v, 8);
    }
}

void aml_string(struct aml *a, const char *s)
{
    for (const char *p = s; *p; p++)
        if (*p < 0x20 || *p > 0x7e) {
            fail(a, -EINVAL);
            return;
        }
    byte(a, AML_STRING);
    aml_bytes(a, s, strlen(s) + 1);
}

void aml_eisaid(struct aml *a, const char *id)
{
    if (strlen(id) != 7) {
        fail(a, -EINVAL);
        return;
    }
    uint32_t v = 0;
    for (int i = 0; i < 3; i++) {
        if (id[i] < 'A' || id[i] > 'Z') {
            fail(a, -EINVAL);
            return;
        }
        v = (v << 5) | (uint32_t)(id[i] - 'A' + 1);
    }
    for (int i = 3; i < 7; i++) {
        char c = id[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
        if (d > 15) {
            fail(a, -EINVAL);
            return;
        }
        v = (v << 4) | d;
    }
    /* the 32-bit big-endian compressed id, stored as a little-endian DWord */
    uint32_t swapped = ((v >> 24) & 0xff) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) |
                       ((v << 24) & 0xff000000u);
    byte(a, AML_DWORD);
    le(a, swapped, 4);
}

void aml_name(struct aml *a, const char *seg)
{
    byte(a, AML_NAME);
    aml_nameseg(a, seg);
}

int aml_pkglength(size_t n, uint8_t out[4])
{
    if (n + 1 <= 0x3f) {
        out[0] = (uint8_t)(n + 1);
        return 1;
    }
    for (int count = 2; count <= 4; count++) {
        size_t total = n + (size_t)count;
        if (total < ((size_t)1 << (4 + 8 * (count - 1)))) {
            out[0] = (uint8_t)(((count - 1) << 6) | (total & 0x0f));
            for (int i = 1; i < count; i++)
                out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
            return count;
        }
    }
    return 0;
}

/* opcode(s), PkgLength, then `pre` (a name or a size) and the body; consumes body */
static void package(struct aml *a, const uint8_t *op, size_t oplen, struct aml *pre,
                    struct aml *body)
{
    if (body->err)
        fail(a, body->err);
    if (pre->err)
        fail(a, pre->err);
    uint8_t pl[4];
    int n = aml_pkglength(pre->len + body->len, pl);
    if (!n)
        fail(a, -EINVAL);
    aml_bytes(a, op, oplen);
    aml_bytes(a, pl, (size_t)n);
    aml_bytes(a, pre->buf, pre->len);
    aml_bytes(a, body->buf, body->len);
    aml_free(pre);
    aml_free(body);
}

void aml_scope_root(struct aml *a, const char *seg, struct aml *body)
{
    static const uint8_t op[] = { AML_SCOPE };
    struct aml name;
    aml_init(&name);
    byte(&name, AML_ROOT_CHAR);
    aml_nameseg(&name, seg);
    package(a, op, sizeof op, &name, body);
}

void aml_device(struct aml *a, const char *seg, struct aml *body)
{
    static const uint8_t op[] = { AML_EXT_PREFIX, AML_DEVICE };
    struct aml name;
    aml_init(&name);
    aml_nameseg(&name, seg);
    package(a, op, sizeof op, &name, body);
}

void aml_buffer(struct aml *a, struct aml *bytes)
{
    static const uint8_t op[] = { AML_BUFFER };
    struct aml size;
    aml_init(&size);
    aml_integer(&size, bytes->len);
    package(a, op, sizeof op, &size, bytes);
}

/* ---- resource descriptors (ACPI 6.x, section 6.4) ---- */

void aml_res_memory32_fixed(struct aml *r, uint32_t base, uint32_t size, int writable)
{
    byte(r, 0x86);        /* large item: 32-bit fixed memory range */
    le(r, 9, 2);
    byte(r, writable ? 1 : 0);
    le(r, base, 4);
    le(r, size, 4);
}

void aml_res_interrupt(struct aml *r, uint32_t gsi, int edge, int active_low)
{
    byte(r, 0x89);        /* large item: extended interrupt */
    le(r, 6, 2);
    byte(r, (uint8_t)(0x01 | (edge ? 0x02 : 0) | (active_low ? 0x04 : 0))); /* consumer */
    byte(r, 1);           /* one interrupt */
    le(r, gsi, 4);
}

void aml_res_io(struct aml *r, uint16_t port, uint8_t len)
{
    byte(r, 0x47);        /* small item: I/O port, 16-bit decode */
    byte(r, 0x01);
    le(r, port, 2);
    le(r, port, 2);
    byte(r, 1);
    byte(r, len);
}

void aml_res_irq_noflags(struct aml *r, unsigned irq)
{
    if (irq > 15) {
        fail(r, -EINVAL);
        return;
    }
    byte(r, 0x22);        /* small item: IRQ, 2 bytes (mask) */
    le(r, 1u << irq, 2);
}

void aml_resource_end(struct aml *r)
{
    byte(r, 0x79);        /* end tag; checksum 0: treated as valid */
    byte(r, 0x00);
}
