/* Unit tests for the HTTP request head parser of `isovm quota serve`: request lines, fields, limits, bytes that trickle in, and the Accept negotiation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cli/http_request.h"

/* Prometheus' Accept header (Debian's 2.42, as captured from a scrape) */
#define PROM_ACCEPT "application/openmetrics-text;version=1.0.0,application/openmetrics-text;" \
                    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

static int parse(const char *s, struct http_request *r)
{
    return http_request_parse(s, strlen(s), r);
}

static void test_good_requests(void **state)
{
    (void)state;
    struct http_request r;
    const char *get = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nAccept: " PROM_ACCEPT
                      "\r\nUser-Agent: Prometheus/2.42.0\r\n\r\n";
    assert_int_equal(parse(get, &r), HTTP_PARSE_OK);
    assert_int_equal(r.method, HTTP_GET);
    assert_int_equal(r.path_len, 8);
    assert_memory_equal(r.path, "/metrics", 8);
    assert_true(r.openmetrics);
    assert_int_equal(r.head_len, strlen(get));
    /* bytes after the head (a body, a pipelined request) are not the head's */
    char more[512];
    snprintf(more, sizeof more, "%sPOST / HTTP/1.1\r\n", get);
    assert_int_equal(parse(more, &r), HTTP_PARSE_OK);
    assert_int_equal(r.head_len, strlen(get));
    /* LF alone ends lines; HTTP/1.0 needs no Host; the query is not the path's */
    assert_int_equal(parse("HEAD /metrics?x=1&y HTTP/1.0\n\n", &r), HTTP_PARSE_OK);
    assert_int_equal(r.method, HTTP_HEAD);
    assert_int_equal(r.path_len, 8);
    assert_false(r.openmetrics);
    /* other methods and paths parse: the server answers 405 and 404 */
    assert_int_equal(parse("DELETE /x/y HTTP/1.1\r\nhost: a\r\n\r\n", &r), HTTP_PARSE_OK);
    assert_int_equal(r.method, HTTP_OTHER);
    assert_int_equal(r.method_len, 6);
    assert_int_equal(r.path_len, 4);
    assert_int_equal(parse("get /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &r), HTTP_PARSE_OK);
    assert_int_equal(r.method, HTTP_OTHER); /* methods are case-sensitive */
    /* empty lines before the request line are skipped; OWS around values; obs-text in values */
    assert_int_equal(parse("\r\n\nGET / HTTP/1.1\r\nHost:a\r\nX-Y:\t v\xe9 \t\r\n\r\n", &r),
                     HTTP_PARSE_OK);
    assert_int_equal(r.path_len, 1);
}

static void test_bad_requests(void **state)
{
    (void)state;
    struct http_request r;
    static const char *const bad[] = {
        "GET\r\n\r\n",                                /* no target */
        "GET /metrics\r\n\r\n",                       /* no version (HTTP/0.9) */
        "GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n",  /* two spaces */
        "GET /metrics HTTP/1.1 \r\nHost: a\r\n\r\n",  /* a space after the version */
        "GET metrics HTTP/1.1\r\nHost: a\r\n\r\n",    /* not origin-form */
        "GET http://a/metrics HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /metrics HTTP/1.x\r\nHost: a\r\n\r\n",
        "GET /metrics HTTP/11\r\nHost: a\r\n\r\n",
        "GET /metrics http/1.1\r\nHost: a\r\n\r\n",
        "G(T /metrics HTTP/1.1\r\nHost: a\r\n\r\n",   /* not a token */
        "GET /met\x01rics HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n\r\n",              /* HTTP/1.1 without Host */
        "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /metrics HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n",  /* space before the colon */
        "GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", /* a bare CR */
        "GET /metrics HTTP/1.1\r\nHost: a\x7f\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS ClientHello */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i], &r);
        if (rc != 400)
            fail_msg("bad[%zu] '%s': %d, wanted 400", i, bad[i], rc);
    }
    assert_int_equal(parse("GET /metrics HTTP/2.0\r\n\r\n", &r), 505);
    /* a NUL in a value (strlen would stop at it) */
    static const char nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    assert_int_equal(http_request_parse(nul, sizeof nul - 1, &r), 400);
}

/* What is in so far: a well-formed prefix asks for more, a malformed one is refused at once. */
static void test_trickle(void **state)
{
    (void)state;
    struct http_request r;
    const char *get = "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text\r\n\r\n";
    size_t n = strlen(get);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(http_request_parse(get, i, &r), HTTP_PARSE_MORE);
    assert_int_equal(http_request_parse(get, n, &r), HTTP_PARSE_OK);
    assert_true(r.openmetrics);
    assert_int_equal(parse("hello", &r), HTTP_PARSE_MORE); /* could still be a method */
    assert_int_equal(parse("hello world", &r), 400);       /* a target starts with / */
    assert_int_equal(parse("GET /metrics HTTP/1.1\r", &r), HTTP_PARSE_MORE);
    assert_int_equal(parse("GET /metrics HTTP/1.1\rx", &r), 400);
    assert_int_equal(parse("GET /metrics XTTP", &r), 400);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n Fold", &r), 400);
    assert_int_equal(parse("\x16\x03", &r), 400);
}

static void test_head_limit(void **state)
{
    (void)state;
    struct http_request r;
    static char buf[HTTP_HEAD_MAX + 64];
    const char *start = "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Pad: ";
    size_t n = strlen(start);
    memcpy(buf, start, n);
    /* the head exactly HTTP_HEAD_MAX bytes long: accepted */
    memset(buf + n, 'p', HTTP_HEAD_MAX - n - 4);
    memcpy(buf + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
    assert_int_equal(http_request_parse(buf, HTTP_HEAD_MAX, &r), HTTP_PARSE_OK);
    assert_int_equal(r.head_len, HTTP_HEAD_MAX);
    assert_int_equal(http_request_parse(buf, HTTP_HEAD_MAX - 1, &r), HTTP_PARSE_MORE);
    /* one byte longer: 431 as soon as HTTP_HEAD_MAX bytes are in */
    memset(buf + n, 'p', HTTP_HEAD_MAX - n - 3);
    memcpy(buf + HTTP_HEAD_MAX - 3, "\r\n\r\n", 4);
    assert_int_equal(http_request_parse(buf, HTTP_HEAD_MAX, &r), 431);
    assert_int_equal(http_request_parse(buf, HTTP_HEAD_MAX + 1, &r), 431);
    assert_int_equal(http_request_parse(buf, HTTP_HEAD_MAX - 1, &r), HTTP_PARSE_MORE);
}

static bool om(const char *accept)
{
    return http_accept_openmetrics(accept, strlen(accept));
}

static void test_accept(void **state)
{
    (void)state;
    assert_true(om(PROM_ACCEPT));
    /* older Prometheus versions: no 1.0.0 range */
    assert_true(om("application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    assert_true(om("application/openmetrics-text"));
    assert_true(om("Application/OpenMetrics-Text;Version=\"1.0.0\""));
    assert_true(om("text/plain;q=0.5, application/openmetrics-text;q=0.5"));
    assert_true(om("text/plain;q=0, application/openmetrics-text;q=0.001"));
    assert_true(om(" application/openmetrics-text ; q=1.000 , */*"));
    assert_true(om("foo/bar;x=\"a,b\", application/openmetrics-text"));
    /* the text format */
    assert_false(om(""));
    assert_false(om("*/*"));
    assert_false(om("application/*"));
    assert_false(om("text/plain"));
    assert_false(om("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.8"));
    assert_false(om("text/*;q=0.9,application/openmetrics-text;q=0.8"));
    assert_false(om("*/*;q=0.9,application/openmetrics-text;q=0.8"));
    assert_false(om("application/openmetrics-text;q=0"));
    assert_false(om("application/openmetrics-text;q=0.000"));
    /* malformed ranges are skipped */
    assert_false(om("application/openmetrics-text;q=2"));
    assert_false(om("application/openmetrics-text;q=1.5"));
    assert_false(om("application/openmetrics-text;q=0.0001"));
    assert_false(om("application/openmetrics-text;q="));
    assert_false(om("application/openmetrics-text;version=\"1.0.0"));
    assert_false(om("application/openmetrics-text foo"));
    assert_false(om("application / openmetrics-text"));
    assert_false(om("x=\"application/openmetrics-text,\""));
    assert_true(om("garbage, application/openmetrics-text"));
    /* in a request: several Accept fields count as one list */
    struct http_request r;
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain;q=0.5\r\n"
                           "ACCEPT: application/openmetrics-text\r\n\r\n", &r), HTTP_PARSE_OK);
    assert_true(r.openmetrics);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n"
                           "Accept: application/openmetrics-text;q=0.9\r\n\r\n", &r), HTTP_PARSE_OK);
    assert_false(r.openmetrics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_requests),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_trickle),
        cmocka_unit_test(test_head_limit),
        cmocka_unit_test(test_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
