/* Parsing and printing of human-written quantities: sizes ("64MiB"), durations ("500ms"),
 * percentages ("25%") and plain counts. */
#ifndef ISOVM_UNITS_H
#define ISOVM_UNITS_H
#include <stddef.h>
#include <stdint.h>

/* Parse a byte size: digits, optional suffix K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TiB (all powers of
 * 1024; case-insensitive) or B. 0 on success, -EINVAL when malformed, -ERANGE on overflow. */
int size_parse(const char *s, uint64_t *out);

/* Parse a duration into nanoseconds: a decimal number with an optional fraction and a unit,
 * one of ns, us (or µs), ms, s, m (or min), h: "500ms", "1.5s", "2m", "250us". The unit is
 * required except for a bare "0". Lower case only ("M" could mean anything). The value must come
 * out as whole nanoseconds ("1.5ns" is refused). 0 on success, -EINVAL when malformed, -ERANGE
 * when it exceeds UINT64_MAX ns (about 584 years). *ns is untouched on error. */
int duration_parse(const char *s, uint64_t *ns);

/* Parse a percentage with at most two decimals and a '%' sign ("25%", "12.5%", "0.25%",
 * "400%") into basis points (hundredths of a percent: "12.5%" -> 1250). 0, -EINVAL or -ERANGE;
 * *bp is untouched on error. */
int percent_parse(const char *s, uint64_t *bp);

/* Parse a plain decimal count ("1000"): digits only. 0, -EINVAL or -ERANGE. */
int count_parse(const char *s, uint64_t *out);

/* Print bytes with the largest binary unit that divides it exactly ("64MiB", "4KiB"), else as
 * "N bytes". Always NUL-terminates (truncating if len is too small). */
void size_format(uint64_t bytes, char *buf, size_t len);

/* Print nanoseconds with the largest unit that divides it exactly ("100ms", "2m", "1500us",
 * "0"). Always NUL-terminates. */
void duration_format(uint64_t ns, char *buf, size_t len);

/* Print basis points as a percentage: 2500 -> "25%", 1250 -> "12.5%", 5 -> "0.05%". */
void percent_format(uint64_t bp, char *buf, size_t len);

#endif
