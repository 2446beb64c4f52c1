/* Unit tests for the policy's network endpoints: the file form, --connect/--listen, every
 * refusal with its FILE:LINE:COL, the JSON output and the checks of a policy built by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define S 1000000000ull

static void parse_ok(struct policy *p, const char *text)
{
    char err[1024] = "";
    policy_defaults(p);
    int rc = policy_parse(p, text, strlen(text), "t.json", err, sizeof err);
    if (rc != 0)
        fail_msg("policy_parse(%s) = %d: %s", text, rc, err);
}

/* Refused with exactly this message start, in one line, and *p untouched. */
static bool refused(const char *text, const char *want)
{
    struct policy p, before;
    char err[1024] = "";
    policy_defaults(&p);
    before = p;
    int rc = policy_parse(&p, text, strlen(text), "t.json", err, sizeof err);
    bool ok = rc == -EINVAL && strncmp(err, want, strlen(want)) == 0 && !strchr(err, '\n') &&
              memcmp(&p, &before, sizeof p) == 0;
    if (!ok)
        print_error("policy_parse(%s) = %d\n  got  \"%s\"\n  want \"%s...\"\n", text, rc, err, want);
    return ok;
}

static void test_file_form(void **state)
{
    (void)state;
    struct policy p;
    parse_ok(&p, "{\"endpoints\": [{\"connect\": \"tcp:127.0.0.1:8080\"},\n"
                 " {\"listen\": \"tcp:127.0.0.1:9000\", \"expires\": \"30s\"},\n"
                 " {\"connect\": \"udp:[::1]:53\"}, {\"listen\": \"tcp:0.0.0.0:1\"},\n"
                 " {\"connect\": \"tcp:10.1.2.3:65535\", \"expires\": 0}]}");
    assert_int_equal(p.nendpoints, 5);
    const struct endpoint *e = p.endpoints;
    assert_int_equal(e[0].mode, EP_CONNECT);
    assert_int_equal(e[0].proto, EP_TCP);
    assert_false(e[0].v6);
    assert_int_equal(e[0].port, 8080);
    assert_memory_equal(e[0].addr, "\x7f\0\0\x01", 4);
    assert_true(e[0].expires_ns == 0);
    assert_int_equal(e[1].mode, EP_LISTEN);
    assert_true(e[1].expires_ns == 30 * S);
    assert_int_equal(e[2].proto, EP_UDP);
    assert_true(e[2].v6);
    assert_int_equal(e[2].port, 53);
    uint8_t lo6[16];
    inet_pton(AF_INET6, "::1", lo6);
    assert_memory_equal(e[2].addr, lo6, 16);
    assert_int_equal(e[4].port, 65535);
    char t[POLICY_ENDPOINT_TEXT];
    endpoint_format(&e[2], t, sizeof t);
    assert_string_equal(t, "udp:[::1]:53");
    endpoint_format(&e[0], t, sizeof t);
    assert_string_equal(t, "tcp:127.0.0.1:8080");
    char err[512];
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);
    /* a later file replaces the list; an empty list grants nothing */
    char e2[512] = "";
    assert_int_equal(policy_parse(&p, "{\"endpoints\": []}", 17, "t.json", e2, sizeof e2), 0);
    assert_int_equal(p.nendpoints, 0);
}

static void test_file_refusals(void **state)
{
    (void)state;
    static const struct { const char *text, *want; } bad[] = {
        { "{\"endpoints\": [{\"connect\": \"tcp:localhost:80\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:localhost:80\": \"localhost\" is a host name; "
          "an endpoint names a numeric IPv4 or IPv6 address (isovm resolves no names, and DNS is "
          "not available" },
        { "{\"endpoints\": [{\"connect\": \"tcp:127.0.0.1:0\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:127.0.0.1:0\": port \"0\" is not a number 1..65535" },
        { "{\"endpoints\": [{\"connect\": \"tcp:127.0.0.1:65536\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:127.0.0.1:65536\": port \"65536\"" },
        { "{\"endpoints\": [{\"connect\": \"tcp:127.0.0.1:-1\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:127.0.0.1:-1\": port \"-1\"" },
        { "{\"endpoints\": [{\"connect\": \"tcp:127.0.0.1\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:127.0.0.1\": missing \":PORT\"" },
        { "{\"endpoints\": [{\"connect\": \"sctp:1.2.3.4:5\"}]}",
          "t.json:1:28: endpoints[0].connect: \"sctp:1.2.3.4:5\": unknown protocol \"sctp\"" },
        { "{\"endpoints\": [{\"connect\": \"udp:::1:53\"}]}",
          "t.json:1:28: endpoints[0].connect: \"udp:::1:53\": an IPv6 address is written in brackets" },
        { "{\"endpoints\": [{\"connect\": \"udp:[::1:53\"}]}",
          "t.json:1:28: endpoints[0].connect: \"udp:[::1:53\": an IPv6 address is written in brackets" },
        { "{\"endpoints\": [{\"connect\": \"tcp:[1.2.3.4]:5\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:[1.2.3.4]:5\": \"1.2.3.4\" is not a numeric IPv6 address" },
        { "{\"endpoints\": [{\"connect\": \"tcp:1.2.3:5\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:1.2.3:5\": \"1.2.3\" is not a numeric IPv4 address" },
        { "{\"endpoints\": [{\"connect\": \"tcp:0.0.0.0:5\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:0.0.0.0:5\": the unspecified address 0.0.0.0 is not a destination" },
        { "{\"endpoints\": [{\"connect\": \"tcp:[::]:5\"}]}",
          "t.json:1:28: endpoints[0].connect: \"tcp:[::]:5\": the unspecified address :: is not a destination" },
        { "{\"endpoints\": [{\"listen\": \"udp:127.0.0.1:5\"}]}",
          "t.json:1:27: endpoints[0].listen: \"udp:127.0.0.1:5\": a listen endpoint is tcp only" },
        { "{\"endpoints\": [{\"connect\": 80}]}",
          "t.json:1:28: endpoints[0].connect: expected \"PROTO:HOST:PORT\"" },
        { "{\"endpoints\": [{\"conect\": \"tcp:1.2.3.4:5\"}]}",
          "t.json:1:17: endpoints[0].conect: unknown key (did you mean \"connect\"?); an endpoint has "
          "the keys \"connect\", \"listen\", \"expires\"" },
        { "{\"endpoints\": [{\"expires\": \"1s\"}]}",
          "t.json:1:16: endpoints[0]: an endpoint needs \"connect\" or \"listen\"" },
        { "{\"endpoints\": [{\"connect\": \"tcp:1.2.3.4:5\", \"listen\": \"tcp:1.2.3.4:5\"}]}",
          "t.json:1:45: endpoints[0].listen: an endpoint has one of \"connect\" or \"listen\"" },
        { "{\"endpoints\": [{\"connect\": \"tcp:1.2.3.4:5\", \"expires\": \"soon\"}]}",
          "t.json:1:56: endpoints[0].expires: expected a duration" },
        { "{\"endpoints\": [\"tcp:1.2.3.4:5\"]}",
          "t.json:1:16: endpoints[0]: expected an endpoint object like {\"connect\": " },
        { "{\"endpoints\": \"tcp:1.2.3.4:5\"}",
          "t.json:1:15: endpoints: expected an array of endpoints like " },
        { "{\"endpoints\": [{\"connect\": \"tcp:1.2.3.4:5\"},\n {\"connect\": \"tcp:1.2.3.4:5\"}]}",
          "t.json:2:14: endpoints[1].connect: connect tcp:1.2.3.4:5 is already granted by endpoints[0]" },
    };
    unsigned failed = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        failed += !refused(bad[i].text, bad[i].want);
    /* the 33rd endpoint is one too many */
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "{\"endpoints\": [");
    for (int i = 0; i <= POLICY_MAX_ENDPOINTS; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s\n{\"connect\": \"tcp:127.0.0.1:%d\"}",
                              i ? "," : "", i + 1);
    snprintf(text + o, sizeof text - o, "]}");
    failed += !refused(text, "t.json:34:1: endpoints[32]: too many endpoints: 33 (at most 32)");
    if (failed)
        fail_msg("%u endpoint policies not refused as expected", failed);
}

static void test_cli(void **state)
{
    (void)state;
    struct policy p, before;
    char err[1024];
    policy_defaults(&p);
    assert_int_equal(policy_add_endpoint(&p, EP_CONNECT, "tcp:127.0.0.1:80", NULL, err, sizeof err), 0);
    assert_int_equal(policy_add_endpoint(&p, EP_LISTEN, "tcp:[::1]:9000", "--listen tcp:[::1]:9000",
                                         err, sizeof err), 0);
    assert_int_equal(p.nendpoints, 2);
    assert_true(p.endpoints[1].v6);
    assert_int_equal(p.endpoints[1].mode, EP_LISTEN);
    before = p;
    static const struct { enum endpoint_mode mode; const char *spec, *want; } errs[] = {
        { EP_CONNECT, "tcp:example.com:80", "--connect tcp:example.com:80: \"tcp:example.com:80\": "
          "\"example.com\" is a host name" },
        { EP_LISTEN, "udp:127.0.0.1:5", "--listen udp:127.0.0.1:5: \"udp:127.0.0.1:5\": a listen "
          "endpoint is tcp only" },
        { EP_CONNECT, "tcp:127.0.0.1:80", "--connect tcp:127.0.0.1:80: connect tcp:127.0.0.1:80 is "
          "already granted by endpoints[0]" },
        { EP_CONNECT, "", "--connect : \"\" is not an endpoint" },
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        assert_int_equal(policy_add_endpoint(&p, errs[i].mode, errs[i].spec, NULL, err, sizeof err),
                         -EINVAL);
        if (strncmp(err, errs[i].want, strlen(errs[i].want)) != 0)
            fail_msg("--%s %s: got \"%s\", want \"%s...\"", errs[i].mode ? "listen" : "connect",
                     errs[i].spec, err, errs[i].want);
        assert_memory_equal(&p, &before, sizeof p);
    }
    /* --set cannot set them */
    assert_int_equal(policy_set(&p, "endpoints", "tcp:1.2.3.4:5", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "add each with --connect"));
}

static void test_json_and_validate(void **state)
{
    (void)state;
    struct policy p;
    parse_ok(&p, "{\"endpoints\": [{\"connect\": \"udp:[::1]:53\", \"expires\": \"2s\"},"
                 " {\"listen\": \"tcp:127.0.0.1:9000\"}]}");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    policy_write_json(&p, f, 0);
    fclose(f);
    assert_non_null(strstr(buf, "\"endpoints\": [\n    {\"connect\": \"udp:[::1]:53\", "
                                "\"expires_ns\": 2000000000},\n    {\"listen\": "
                                "\"tcp:127.0.0.1:9000\", \"expires_ns\": 0}\n  ]"));
    free(buf);
    char err[512];
    /* a policy built by hand is checked too */
    p.endpoints[1].proto = EP_UDP;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "endpoints[1]: not a valid endpoint");
    p.endpoints[1] = p.endpoints[0];
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "endpoints[1]: connect udp:[::1]:53 is already granted by endpoints[0]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_form),
        cmocka_unit_test(test_file_refusals),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_json_and_validate),
    };
    return cmocka_run_group_tests_name("endpoints", tests, NULL, NULL) ? 1 : 0;
}
