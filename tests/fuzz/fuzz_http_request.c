/* libFuzzer harness for the HTTP request head parser of `isovm quota serve` (cli/http_request.c): the input is the bytes a client sent. Whatever they are, the answer is one of the parser's, a parsed head lies inside the input and is well-formed, every prefix of it asks for more, and the answer does not change with bytes after it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cli/http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    /* a copy of exactly len bytes: ASan sees any read past the end */
    char *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    memcpy(buf, data, len);
    struct http_request r;
    int rc = http_request_parse(buf, len, &r);
    if (rc != HTTP_PARSE_MORE && rc != HTTP_PARSE_OK && rc != 400 && rc != 431 && rc != 505)
        abort();
    if (rc == HTTP_PARSE_MORE && len >= HTTP_HEAD_MAX)
        abort(); /* a head that long is an answer, never a wait */
    if (rc == HTTP_PARSE_OK) {
        if (r.head_len == 0 || r.head_len > len || r.head_len > HTTP_HEAD_MAX ||
            buf[r.head_len - 1] != '\n')
            abort();
        if (r.path < buf || r.path_len == 0 || r.path + r.path_len > buf + r.head_len ||
            r.path[0] != '/' || memchr(r.path, '?', r.path_len) || memchr(r.path, ' ', r.path_len))
            abort();
        if (r.method_text < buf || r.method_len == 0 || r.method_text + r.method_len > r.path)
            abort();
        if ((r.method == HTTP_GET) != (r.method_len == 3 && !memcmp(r.method_text, "GET", 3)) ||
            (r.method == HTTP_HEAD) != (r.method_len == 4 && !memcmp(r.method_text, "HEAD", 4)))
            abort();
        /* the head alone parses the same */
        struct http_request h;
        if (http_request_parse(buf, r.head_len, &h) != HTTP_PARSE_OK || h.head_len != r.head_len ||
            h.method != r.method || h.path != r.path || h.path_len != r.path_len ||
            h.openmetrics != r.openmetrics)
            abort();
        /* a well-formed head is never refused early: each of a few prefixes asks for more */
        size_t cut[] = { 0, 1, r.head_len / 2, r.head_len - 1 };
        for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++)
            if (cut[i] < r.head_len && http_request_parse(buf, cut[i], &h) != HTTP_PARSE_MORE)
                abort();
    } else if (rc != HTTP_PARSE_MORE && len > 0) {
        /* an answer stands whatever follows: one byte more changes nothing */
        char *more = malloc(len + 1);
        if (!more)
            abort();
        memcpy(more, buf, len);
        more[len] = '\n';
        struct http_request h;
        int again = http_request_parse(more, len + 1, &h);
        free(more);
        if (again != rc)
            abort();
    }
    (void)http_accept_openmetrics(buf, len);
    free(buf);
    return 0;
}
