/* The head of an HTTP/1.x request parsed from a buffer, for `isovm quota serve`: method, path, and whether Accept asks for OpenMetrics. */
#ifndef ISOVM_CLI_HTTP_REQUEST_H
#define ISOVM_CLI_HTTP_REQUEST_H
#include <stdbool.h>
#include <stddef.h>

/* The longest request head read (request line, header fields, the blank line): a longer one is
 * answered 431. */
#define HTTP_HEAD_MAX 8192

/* What http_request_parse returns besides an error status. */
#define HTTP_PARSE_MORE 0  /* the head is not complete yet: read more */
#define HTTP_PARSE_OK   200 /* a complete, well-formed head: *r is filled */

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
    enum http_method method;
    const char *method_text; /* into the buffer, not terminated */
    size_t method_len;
    const char *path;        /* into the buffer: the request target up to '?', starts with '/' */
    size_t path_len;
    bool openmetrics;        /* the Accept fields prefer application/openmetrics-text */
    size_t head_len;         /* bytes of the head, its blank line included */
};

/* Parse the request head at the start of buf (len bytes read so far; only the first
 * HTTP_HEAD_MAX count). Returns HTTP_PARSE_MORE, HTTP_PARSE_OK, or the status to answer with:
 * 400 (a malformed request line or field, a bare CR, a folded line, HTTP/1.1 without exactly one
 * Host), 431 (no end of the head in HTTP_HEAD_MAX bytes), 505 (an HTTP major version but 1).
 * Lines end with CRLF or LF; empty lines before the request line are skipped. A malformed line
 * is refused as soon as the bytes that make it so are in, before the head is complete. */
int http_request_parse(const char *buf, size_t len, struct http_request *r);

/* One Accept field value: true when it prefers application/openmetrics-text (any version) to the
 * Prometheus text format: the OpenMetrics range has a q above 0 and no lower than that of the
 * most specific range matching text/plain (text/plain, else the text type, else all types).
 * Wildcards never choose OpenMetrics. Malformed media ranges are skipped. */
bool http_accept_openmetrics(const char *value, size_t len);

#endif
