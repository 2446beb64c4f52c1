/* Parsing of human-written quantities: sizes like "64MiB" and durations like "500ms". */
#ifndef ISOVM_UNITS_H
#define ISOVM_UNITS_H
#include <stdint.h>

/* Parse a byte size: digits, optional suffix K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TiB (all powers of
 * 1024; case-insensitive) or B. 0 on success, -EINVAL when malformed, -ERANGE on overflow. */
int size_parse(const char *s, uint64_t *out);

#endif
