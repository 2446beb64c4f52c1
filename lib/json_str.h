/* JSON output of untrusted byte strings (guest paths, job ids): always valid JSON, never lossy
 * for valid UTF-8. */
#ifndef ISOVM_JSON_STR_H
#define ISOVM_JSON_STR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Write the `len` bytes at `s` to `out` as a JSON string literal, quotes included. Valid UTF-8
 * passes through unchanged (except U+2028/U+2029, escaped for JavaScript readers); '"', '\\'
 * and control characters are escaped (\n, \t, ... or \u00XX); every byte that is not part of
 * a valid UTF-8 sequence (stray continuation bytes, overlong forms, surrogates, code points
 * above U+10FFFF, truncated sequences) is written as \u00XX with XX its value, so the output
 * is always valid JSON and a reader can tell which bytes were invalid: isovm never escapes a
 * valid character in U+0080..U+00FF. */
void json_put_string(FILE *out, const char *s, size_t len);

/* json_put_string of a NUL-terminated string; NULL is written as null. */
void json_put_cstr(FILE *out, const char *s);

/* Length of the valid UTF-8 multi-byte sequence starting at s[0] (2..4, within `left`
 * bytes), or 0 if it is not one (ASCII included: callers handle bytes below 0x80). */
size_t utf8_seq_len(const unsigned char *s, size_t left);

/* Are the n bytes at s valid UTF-8 (no overlong forms, surrogates or code points beyond
 * U+10FFFF)? */
bool utf8_valid(const char *s, size_t n);

#endif
