/* A small AML encoder: the few ACPI Machine Language terms the DSDT of a Linux-tier guest needs
 * (scopes, devices, names, integers, strings, EISA ids, resource templates). */
#ifndef ISOVM_AML_H
#define ISOVM_AML_H
#include <stddef.h>
#include <stdint.h>

/* A growing byte buffer. Every call appends; the first failure (out of memory, a bad name, a
 * package too long) sticks in `err` and later calls do nothing, so a builder checks once. */
struct aml {
    uint8_t *buf;
    size_t len, cap;
    int err;          /* 0 or -ENOMEM / -EINVAL */
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* A 4-character name segment ("V000", "_HID", "COM1"), upper case letters, digits and '_',
 * not starting with a digit; shorter names are padded with '_' as ASL does. */
void aml_nameseg(struct aml *a, const char *seg);

/* Integer: the shortest of Zero, One, BytePrefix, WordPrefix, DWordPrefix, QWordPrefix. */
void aml_integer(struct aml *a, uint64_t v);
/* String: printable ASCII only. */
void aml_string(struct aml *a, const char *s);
/* EisaId("PNP0501"): three capital letters and four hex digits, compressed to a DWord. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(SEG, <the term appended by the caller next>): writes NameOp and the name. */
void aml_name(struct aml *a, const char *seg);

/* Scope(\SEG) { body } and Device(SEG) { body }, Buffer { bytes }: the body is another aml
 * buffer, which these consume (free) whatever happens. */
void aml_scope_root(struct aml *a, const char *seg, struct aml *body);
void aml_device(struct aml *a, const char *seg, struct aml *body);
void aml_buffer(struct aml *a, struct aml *bytes);

/* Resource template descriptors, appended to a buffer that aml_resource_end closes (end tag
 * with checksum 0, as ASL writes it). */
void aml_res_memory32_fixed(struct aml *r, uint32_t base, uint32_t size, int writable);
void aml_res_interrupt(struct aml *r, uint32_t gsi, int edge, int active_low);
void aml_res_io(struct aml *r, uint16_t port, uint8_t len);
void aml_res_irq_noflags(struct aml *r, unsigned irq);
void aml_resource_end(struct aml *r);

/* The encoding of a PkgLength for a package whose contents (after the PkgLength) are n bytes:
 * the bytes into out[4], their count (1..4), or 0 when n is too large (over 2^28 - 4). */
int aml_pkglength(size_t n, uint8_t out[4]);

#endif
