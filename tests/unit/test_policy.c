/* Unit tests for the policy: defaults, every field from a file, --set overrides, cross-field
 * checks, JSON output, file refusal, and malformed policies with their exact FILE:LINE:COL. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "lib/syscall_names.h"

#define MS 1000000ull
#define S  1000000000ull

static int parse(struct policy *p, const char *text, char *err, size_t len)
{
    return policy_parse(p, text, strlen(text), "t.json", err, len);
}

static void parse_ok(struct policy *p, const char *text)
{
    char err[1024] = "";
    policy_defaults(p);
    int rc = parse(p, text, err, sizeof err);
    if (rc != 0)
        fail_msg("policy_parse(%s) = %d: %s", text, rc, err);
}

/* The policy must be refused with a message starting with `prefix` ("t.json:L:C: key: ") and
 * containing `has`, in one line, and *p must be untouched. Returns false (and prints why) if not. */
static bool refused(const char *text, const char *prefix, const char *has)
{
    struct policy p, before;
    char err[1024] = "";
    policy_defaults(&p);
    p.max_capabilities = 99; /* not the default: parse must not reset untouched fields */
    before = p;
    int rc = parse(&p, text, err, sizeof err);
    const char *why = NULL;
    if (rc != -EINVAL)
        why = "not refused with -EINVAL";
    else if (strncmp(err, prefix, strlen(prefix)) != 0)
        why = "wrong start";
    else if (has && !strstr(err, has))
        why = "lacks the text wanted";
    else if (strchr(err, '\n'))
        why = "not one line";
    else if (memcmp(&p, &before, sizeof p) != 0)
        why = "policy changed";
    if (why)
        print_error("policy_parse(%s): %s\n  got  \"%s\"\n  want \"%s...\"%s%s\n", text, why, err,
                    prefix, has ? " with " : "", has ? has : "");
    return why == NULL;
}

static void bad(const char *text, const char *prefix, const char *has)
{
    if (!refused(text, prefix, has))
        fail();
}

static void test_defaults(void **state)
{
    (void)state;
    struct policy p;
    char err[256];
    memset(&p, 0xa5, sizeof p);
    policy_defaults(&p);
    assert_true(p.memory_bytes == 64ull << 20);
    assert_true(p.cpu_quota_ns == 0);
    assert_int_equal(p.cpu_quota_bp, 0);
    assert_true(p.cpu_period_ns == 100 * MS);
    assert_true(p.cpu_time_limit_ns == 0);
    assert_true(p.timeout_ns == 0);
    assert_true(p.io_read.bytes.size == 0 && p.io_read.ops.size == 0);
    assert_true(p.io_write.bytes.size == 0 && p.io_write.ops.size == 0);
    assert_true(p.io_write.bytes.refill_time_ns == 0 && p.io_write.bytes.one_time_burst == 0);
    assert_int_equal(p.max_threads, 16);
    assert_int_equal(p.max_capabilities, 64);
    assert_true(p.audit_max_bytes == 16ull << 20);
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);

    struct policy q;
    parse_ok(&q, "{}"); /* an empty object is all defaults */
    assert_memory_equal(&p, &q, sizeof p);
    parse_ok(&q, " \n\t{ }\n");
    assert_memory_equal(&p, &q, sizeof p);
}

static const char *full =
    "{\n"
    "  \"version\": 1,\n"
    "  \"memory\": \"128MiB\",\n"
    "  \"cpu\": { \"quota\": \"25%\", \"period\": \"50ms\", \"time_limit\": \"10s\" },\n"
    "  \"timeout\": \"1.5m\",\n"
    "  \"io\": {\n"
    "    \"read\":  { \"bandwidth\": \"4MiB/s\", \"ops\": \"1000/s\" },\n"
    "    \"write\": { \"bandwidth\": { \"size\": \"4MiB\", \"one_time_burst\": \"1MiB\", \"refill_time\": \"1s\" },\n"
    "               \"ops\": { \"size\": 100, \"one_time_burst\": 7, \"refill_time\": \"100ms\" } }\n"
    "  },\n"
    "  \"max_threads\": 8,\n"
    "  \"max_capabilities\": 256\n"
    "}\n";

static void test_every_field(void **state)
{
    (void)state;
    struct policy p;
    parse_ok(&p, full);
    assert_true(p.memory_bytes == 128ull << 20);
    assert_int_equal(p.cpu_quota_bp, 2500);
    assert_true(p.cpu_period_ns == 50 * MS);
    assert_true(p.cpu_quota_ns == 12500000); /* 25% of 50ms */
    assert_true(p.cpu_time_limit_ns == 10 * S);
    assert_true(p.timeout_ns == 90 * S);
    /* 4MiB/s: the nearest refill time >= 100ms that keeps the rate exact */
    assert_true(p.io_read.bytes.refill_time_ns == 101562500);
    assert_true(p.io_read.bytes.size == 425984);
    assert_true(p.io_read.bytes.one_time_burst == 0);
    assert_true(p.io_read.ops.size == 100);
    assert_true(p.io_read.ops.refill_time_ns == 100 * MS);
    assert_true(p.io_write.bytes.size == 4ull << 20);
    assert_true(p.io_write.bytes.one_time_burst == 1ull << 20);
    assert_true(p.io_write.bytes.refill_time_ns == S);
    assert_true(p.io_write.ops.size == 100);
    assert_true(p.io_write.ops.one_time_burst == 7);
    assert_true(p.io_write.ops.refill_time_ns == 100 * MS);
    assert_int_equal(p.max_threads, 8);
    assert_int_equal(p.max_capabilities, 256);
}

static void test_forms(void **state)
{
    (void)state;
    struct policy p, q;
    /* a percentage quota follows the period wherever the period is in the file */
    parse_ok(&p, "{\"cpu\": {\"quota\": \"50%\", \"period\": \"10ms\"}}");
    parse_ok(&q, "{\"cpu\": {\"period\": \"10ms\", \"quota\": \"50%\"}}");
    assert_true(p.cpu_quota_ns == 5 * MS);
    assert_memory_equal(&p, &q, sizeof p);
    /* a duration quota stays as given; over 100% with several threads */
    parse_ok(&p, "{\"cpu\": {\"quota\": \"250ms\"}, \"max_threads\": 4}");
    assert_true(p.cpu_quota_ns == 250 * MS);
    assert_int_equal(p.cpu_quota_bp, 0);
    parse_ok(&p, "{\"cpu\": {\"quota\": \"1600%\"}}");
    assert_true(p.cpu_quota_ns == 1600 * MS);
    parse_ok(&p, "{\"cpu\": {\"quota\": \"12.5%\"}}");
    assert_true(p.cpu_quota_ns == 12500000);
    /* sizes as integers and strings, durations with fractions */
    parse_ok(&p, "{\"memory\": 16777216}");
    assert_true(p.memory_bytes == 16ull << 20);
    parse_ok(&p, "{\"memory\": \"8m\"}");
    assert_true(p.memory_bytes == 8ull << 20);
    parse_ok(&p, "{\"memory\": \"64GiB\"}");
    assert_true(p.memory_bytes == 64ull << 30);
    parse_ok(&p, "{\"cpu\": {\"period\": \"1ms\", \"time_limit\": \"250us\"}, \"timeout\": \"1h\"}");
    assert_true(p.cpu_period_ns == MS && p.cpu_time_limit_ns == 250000 && p.timeout_ns == 3600 * S);
    parse_ok(&p, "{\"cpu\": {\"period\": \"10s\"}}");
    assert_true(p.cpu_period_ns == 10 * S);
    /* 0 = none, as an integer or a zero duration */
    parse_ok(&p, "{\"timeout\": 0, \"cpu\": {\"time_limit\": \"0s\", \"quota\": 0}}");
    assert_true(p.timeout_ns == 0 && p.cpu_time_limit_ns == 0 && p.cpu_quota_ns == 0);
    /* the string "0" is 0 too */
    parse_ok(&p, "{\"timeout\": \"0\", \"cpu\": {\"quota\": \"0\"}, \"io\": {\"read\": {\"ops\": \"0\"}}}");
    assert_true(p.timeout_ns == 0 && p.cpu_quota_ns == 0 && p.io_read.ops.size == 0);
    /* rates: exact whatever the number */
    parse_ok(&p, "{\"io\": {\"write\": {\"ops\": \"7/s\", \"bandwidth\": \"1000000/s\"},"
                 " \"read\": {\"ops\": \"15/s\", \"bandwidth\": \"16MiB/s\"}}}");
    assert_true(p.io_write.ops.size == 7 && p.io_write.ops.refill_time_ns == S);
    assert_true(p.io_write.bytes.size == 100000 && p.io_write.bytes.refill_time_ns == 100 * MS);
    assert_true(p.io_read.ops.size == 3 && p.io_read.ops.refill_time_ns == 200 * MS);
    assert_true((unsigned __int128)p.io_read.bytes.size * S ==
                (unsigned __int128)(16ull << 20) * p.io_read.bytes.refill_time_ns);
    /* an object replaces the whole bucket; 0 and {} clear it */
    parse_ok(&p, "{\"io\": {\"write\": {\"bandwidth\": \"4MiB/s\"}}}");
    char err[512];
    assert_int_equal(parse(&p, "{\"io\": {\"write\": {\"bandwidth\": {\"size\": 10, \"refill_time\": \"1s\"}}}}",
                           err, sizeof err), 0);
    assert_true(p.io_write.bytes.size == 10 && p.io_write.bytes.refill_time_ns == S);
    assert_int_equal(parse(&p, "{\"io\": {\"write\": {\"bandwidth\": 0}}}", err, sizeof err), 0);
    assert_true(p.io_write.bytes.size == 0 && p.io_write.bytes.refill_time_ns == 0);
    parse_ok(&p, "{\"io\": {\"read\": {\"ops\": {}}, \"write\": {}}}");
    assert_true(p.io_read.ops.size == 0);
    /* a bucket with size 0 is unlimited whatever its refill time */
    parse_ok(&p, "{\"io\": {\"read\": {\"ops\": {\"size\": 0, \"refill_time\": \"1s\"}}}}");
    /* escapes in keys are keys all the same */
    parse_ok(&p, "{\"mem\\u006fry\": \"32MiB\"}");
    assert_true(p.memory_bytes == 32ull << 20);
}

static void test_parse_on_top(void **state)
{
    (void)state;
    struct policy p;
    char err[512];
    policy_defaults(&p);
    p.timeout_ns = 5 * S;
    p.max_threads = 2;
    assert_int_equal(parse(&p, "{\"memory\": \"16MiB\"}", err, sizeof err), 0);
    assert_true(p.timeout_ns == 5 * S); /* fields the file does not name are left alone */
    assert_int_equal(p.max_threads, 2);
    assert_true(p.memory_bytes == 16ull << 20);
    /* the file is checked with what is already there: 300% needs 3 threads */
    assert_int_equal(parse(&p, "{\"cpu\": {\"quota\": \"300%\"}}", err, sizeof err), -EINVAL);
    assert_string_equal(err, "t.json:1:19: cpu.quota: 300% is more than 100% for each of "
                             "max_threads 2 (at most 200%)");
}

struct bad_case {
    const char *text, *prefix, *has;
};

static const struct bad_case bad_cases[] = {
    /* the example of the issue */
    { "{\n  \"version\": 1,\n  \"cpu\": {},\n  \"io\": {},\n  \"max_threads\": 16,\n  \"timeout\": 0,\n"
      "  \"memory\": \"lots\"\n}",
      "t.json:7:13: memory: ", "expected a size like \"64MiB\" or an integer number of bytes, got \"lots\"" },
    /* JSON syntax */
    { "{\n  \"memory\": \"64MiB\"\n  \"timeout\": \"1s\"\n}", "t.json:3:11: invalid JSON: ", "expected" },
    { "{\"memory\": \"64MiB\"", "t.json:1:18: invalid JSON: '}' expected near end of file", NULL },
    { "{\"memory\": 64MiB}", "t.json:1:", "invalid JSON" },
    { "{\n  \"memory\": \"64MiB\",\n}", "t.json:2:20: trailing comma before '}'", NULL },
    { "{\"cpu\": {\"quota\": \"25%\",  \n  }}", "t.json:1:24: trailing comma", NULL },
    { "{\n  \"memory\": \"64MiB\",\n  \"memory\": \"32MiB\"\n}",
      "t.json:3:3: memory: duplicate key (first given at 2:3)", NULL },
    { "{\"cpu\": {\"period\": \"1s\", \"quota\": \"1%\", \"period\": \"2s\"}}",
      "t.json:1:41: cpu.period: duplicate key (first given at 1:10)", NULL },
    { "", "t.json:1:1: empty policy", NULL },
    { "\n \n", "t.json:1:1: empty policy", NULL },
    { "[{\"memory\": \"64MiB\"}]", "t.json:1:1: expected a JSON object at the top level, got an array", NULL },
    { "  \"64MiB\"", "t.json:1:3: expected a JSON object at the top level, got \"64MiB\"", NULL },
    { "{\"memory\": \"\xff\"}", "t.json:1:", "invalid JSON: unable to decode byte 0xff" },
    /* unknown keys, named with the valid ones */
    { "{\n  \"memory\": \"64MiB\",\n  \"memroy\": \"64MiB\"\n}",
      "t.json:3:3: memroy: unknown key (did you mean \"memory\"?); valid keys here: version, memory, "
      "cpu, timeout, io, net, max_threads, max_processes, max_capabilities", NULL },
    { "{\"cpu\": {\"period\": \"1s\",\n          \"qouta\": \"25%\"}}",
      "t.json:2:11: cpu.qouta: unknown key (did you mean \"quota\"?); valid keys in \"cpu\": quota, "
      "period, time_limit", NULL },
    { "{\"io\": {\"write\": {\"bandwidth\": {\"size\": 1, \"refill\": \"1s\"}}}}",
      "t.json:1:44: io.write.bandwidth.refill: unknown key", "valid keys in \"io.write.bandwidth\": size, "
      "one_time_burst, refill_time" },
    { "{\"io\": {\"rd\": {}}}", "t.json:1:9: io.rd: unknown key", "valid keys in \"io\": read, write" },
    { "{\"cpu.quota\": \"25%\"}", "t.json:1:2: \"cpu.quota\": unknown key", "nest objects" },
    { "{\"\": 1}", "t.json:1:2: \"\": unknown key", NULL },
    /* wrong types */
    { "{\"max_threads\": \"16\"}", "t.json:1:17: max_threads: expected an integer, got \"16\"", NULL },
    { "{\"memory\": [64]}", "t.json:1:12: memory: ", "integer number of bytes, got an array" },
    { "{\"memory\": true}", "t.json:1:12: memory: ", "got true" },
    { "{\"memory\": null}", "t.json:1:12: memory: ", "got null" },
    { "{\"memory\": 6.4e7}", "t.json:1:12: memory: ", "got 6.4e7" },
    { "{\"cpu\": \"25%\"}", "t.json:1:9: cpu: expected an object with keys quota, period, time_limit, "
      "got \"25%\"", NULL },
    { "{\"cpu\": {\"quota\": true}}", "t.json:1:19: cpu.quota: expected a quota like \"25%\" (of the "
      "period) or \"25ms\" (per period), or 0 for none, got true", NULL },
    { "{\"io\": {\"read\": {\"ops\": [1]}}}", "t.json:1:25: io.read.ops: expected a rate like \"1000/s\"",
      "got an array" },
    { "{\"io\": {\"read\": {\"ops\": {\"size\": \"100\"}}}}", "t.json:1:34: io.read.ops.size: expected an "
      "integer, got \"100\"", NULL },
    { "{\"version\": \"1\"}", "t.json:1:13: version: expected the integer 1, got \"1\"", NULL },
    /* bad sizes */
    { "{\"memory\": \"64 MiB\"}", "t.json:1:12: memory: ", "got \"64 MiB\"" },
    { "{\"memory\": \"1.5GiB\"}", "t.json:1:12: memory: ", "got \"1.5GiB\"" },
    { "{\"memory\": \"99999999999GiB\"}", "t.json:1:12: memory: \"99999999999GiB\" is too large", NULL },
    /* bad durations */
    { "{\"timeout\": \"5 s\"}", "t.json:1:13: timeout: expected a duration with a unit like \"500ms\" or "
      "\"30s\" (or 0 for none), got \"5 s\"", NULL },
    { "{\"timeout\": 30}", "t.json:1:13: timeout: ", "got 30 (a plain number has no unit)" },
    { "{\"cpu\": {\"time_limit\": \"10sec\"}}", "t.json:1:24: cpu.time_limit: ", "got \"10sec\"" },
    { "{\"cpu\": {\"period\": 0}}", "t.json:1:20: cpu.period: expected a duration with a unit like "
      "\"500ms\" or \"30s\", got 0", NULL },
    { "{\"timeout\": \"999999999999h\"}", "t.json:1:13: timeout: \"999999999999h\" is too large", NULL },
    /* negative numbers */
    { "{\"memory\": -5}", "t.json:1:12: memory: ", "got -5" },
    { "{\"max_threads\": -1}", "t.json:1:17: max_threads: -1 is outside 1..64", NULL },
    { "{\"io\": {\"write\": {\"ops\": {\"size\": -100}}}}", "t.json:1:35: io.write.ops.size: expected a "
      "non-negative integer, got -100", NULL },
    /* ranges */
    { "{\"memory\": \"4MiB\"}", "t.json:1:12: memory: 4MiB is outside 8MiB..64GiB", NULL },
    { "{\"memory\": \"65GiB\"}", "t.json:1:12: memory: 65GiB is outside 8MiB..64GiB", NULL },
    { "{\"memory\": 8388609}", "t.json:1:12: memory: 8388609 bytes is not a multiple of 4KiB", NULL },
    { "{\"memory\": \"8195KiB\"}", "t.json:1:12: memory: 8195KiB is not a multiple of 4KiB", NULL },
    { "{\"max_threads\": 65}", "t.json:1:17: max_threads: 65 is outside 1..64", NULL },
    { "{\"max_threads\": 0}", "t.json:1:17: max_threads: 0 is outside 1..64", NULL },
    { "{\"max_capabilities\": 2}", "t.json:1:22: max_capabilities: 2 is outside 3..65536", NULL },
    { "{\"max_capabilities\": 65537}", "t.json:1:22: max_capabilities: 65537 is outside 3..65536", NULL },
    { "{\"cpu\": {\"period\": \"500us\"}}", "t.json:1:20: cpu.period: 500us is outside 1ms..10s", NULL },
    { "{\"cpu\": {\"period\": \"11s\"}}", "t.json:1:20: cpu.period: 11s is outside 1ms..10s", NULL },
    { "{\"version\": 2}", "t.json:1:13: version: unsupported version 2 (this isovm reads version 1)", NULL },
    /* quotas */
    { "{\"cpu\": {\"quota\": \"0%\"}}", "t.json:1:19: cpu.quota: 0% would never let the job run", NULL },
    { "{\"cpu\": {\"quota\": \"0ms\"}}", "t.json:1:19: cpu.quota: a quota of \"0ms\" would never let the "
      "job run", NULL },
    { "{\"cpu\": {\"quota\": \"25\"}}", "t.json:1:19: cpu.quota: expected a quota", "got \"25\"" },
    { "{\"cpu\": {\"quota\": 25}}", "t.json:1:19: cpu.quota: expected a quota", "got 25" },
    { "{\"cpu\": {\"quota\": \"12.345%\"}}", "t.json:1:19: cpu.quota: ", "at most two decimals" },
    { "{\"cpu\": {\"quota\": \"1601%\"}}", "t.json:1:19: cpu.quota: 1601% is more than 100% for each of "
      "max_threads 16 (at most 1600%)", NULL },
    { "{\n  \"max_threads\": 2,\n  \"cpu\": {\n    \"quota\": \"250%\"\n  }\n}",
      "t.json:4:14: cpu.quota: 250% is more than 100% for each of max_threads 2 (at most 200%)", NULL },
    { "{\"cpu\": {\"quota\": \"6500%\"}}", "t.json:1:19: cpu.quota: \"6500%\" is above 6400%", NULL },
    { "{\"cpu\": {\"quota\": \"99999999999999999999%\"}}", "t.json:1:19: cpu.quota: ", "is above 6400%" },
    { "{\"cpu\": {\"quota\": \"300ms\", \"period\": \"100ms\"}, \"max_threads\": 2}",
      "t.json:1:19: cpu.quota: 300ms per 100ms period is more than the period for each of "
      "max_threads 2 (at most 200ms)", NULL },
    { "{\"cpu\": {\"quota\": \"50us\"}}", "t.json:1:19: cpu.quota: 50us is below the minimum quota 100us", NULL },
    { "{\"cpu\": {\"quota\": \"0.05%\"}}", "t.json:1:19: cpu.quota: 0.05% of the 100ms period is 50us, "
      "below the minimum quota 100us", NULL },
    /* rates and buckets */
    { "{\"io\": {\"read\": {\"bandwidth\": \"4MiB\"}}}", "t.json:1:31: io.read.bandwidth: expected a rate "
      "like \"4MiB/s\", an object {\"size\", \"one_time_burst\", \"refill_time\"}, or 0 for no limit, got "
      "\"4MiB\"", NULL },
    { "{\"io\": {\"read\": {\"bandwidth\": \"4MiB/min\"}}}", "t.json:1:31: io.read.bandwidth: ", "got \"4MiB/min\"" },
    { "{\"io\": {\"read\": {\"ops\": \"1k/s\"}}}", "t.json:1:25: io.read.ops: ", "got \"1k/s\"" },
    { "{\"io\": {\"read\": {\"ops\": \"0/s\"}}}", "t.json:1:25: io.read.ops: a rate of \"0/s\" would block "
      "all I/O (use 0 for no limit)", NULL },
    { "{\"io\": {\"read\": {\"ops\": 100}}}", "t.json:1:25: io.read.ops: ", "got 100" },
    { "{\"io\": {\"write\": {\"bandwidth\": \"99999999999TiB/s\"}}}", "t.json:1:32: io.write.bandwidth: "
      "\"99999999999TiB/s\" is too large", NULL },
    { "{\"io\": {\"write\": {\"bandwidth\": {\"size\": \"4MiB\"}}}}", "t.json:1:32: io.write.bandwidth: size "
      "4MiB with refill_time 0 would never refill", NULL },
    { "{\"io\": {\"write\": {\"ops\": {\"one_time_burst\": 5, \"refill_time\": \"1s\"}}}}",
      "t.json:1:26: io.write.ops: one_time_burst without a size", NULL },
    { "{\"io\": {\"write\": {\"ops\": {\"size\": 5, \"refill_time\": 100}}}}",
      "t.json:1:53: io.write.ops.refill_time: ", "a plain number has no unit" },
    /* numbers jansson cannot hold */
    { "{\"memory\": 99999999999999999999}", "t.json:1:12: memory: number 99999999999999999999 is out of range", NULL },
    { "{\"cpu\": {\n  \"time_limit\": -99999999999999999999}}", "t.json:2:17: cpu.time_limit: number "
      "-99999999999999999999 is out of range", NULL },
    { "{\"memory\": 1e999}", "t.json:1:12: memory: number 1e999 is out of range", NULL },
    /* columns count characters, as jansson's do: "é" is one column */
    { "{\"\xc3\xa9\": 1}", "t.json:1:2: \xc3\xa9: unknown key", NULL },
    { "{\"io\": {\"read\": {}}, \"x\xc3\xa9\xc3\xa9\": 0, \"memory\": \"1KiB\"}", "t.json:1:22: x\xc3\xa9\xc3\xa9: unknown key", NULL },
    { "{\"version\": 1, /* comment */ \"memory\": \"64MiB\"}", "t.json:1:16: invalid JSON", NULL },
};

static void test_malformed(void **state)
{
    (void)state;
    unsigned failed = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
        failed += !refused(bad_cases[i].text, bad_cases[i].prefix, bad_cases[i].has);
    if (failed)
        fail_msg("%u malformed policies not refused as expected", failed);
    print_message("    %zu malformed policies refused with their line:column\n",
                  sizeof bad_cases / sizeof bad_cases[0]);
}

/* A first error wins, and positions are those of the member at fault even when the same key
 * exists elsewhere. */
static void test_positions(void **state)
{
    (void)state;
    bad("{\"io\": {\"read\": {\"bandwidth\": \"1MiB/s\"},\n"
        "        \"write\": {\"bandwidth\": \"1MiB/x\"}}}",
        "t.json:2:32: io.write.bandwidth: ", NULL);
    bad("{\"memory\": \"lots\", \"timeout\": \"also bad\"}", "t.json:1:12: memory: ", NULL);
    bad("{\"x\": {\"memory\": 1}, \"memory\": \"bad\"}", "t.json:1:2: x: unknown key", NULL);
    bad("{\"io\": {\"read\": {\"ops\": {\"size\": 1, \"refill_time\": \"1s\"}}, \"write\": {\"ops\": "
        "{\"size\": 1, \"refill_time\": \"1x\"}}}}",
        "t.json:1:104: io.write.ops.refill_time: ", NULL);
    /* tabs and CRLF line ends */
    bad("{\r\n\t\"memory\":\t\"bad\"\r\n}", "t.json:2:12: memory: ", NULL);
}

static void test_locate(void **state)
{
    (void)state;
    const char *t = "{\n"
                    "  \"a\": [1, {\"cpu\": 5}],\n"
                    "  \"cpu\": {\"period\": \"1s\", \"quota\" : \"25%\"},\n"
                    "  \"\\u00e9\": {\"q\": 1}, \"s\": \"x\\\"y\", \"z\": 2\n"
                    "}";
    size_t n = strlen(t);
    int line = 0, col = 0;
    assert_int_equal(policy_locate(t, n, "cpu.quota", &line, &col), 0);
    assert_int_equal(line, 3);
    assert_int_equal(col, 37);
    assert_int_equal(policy_locate_key(t, n, "cpu.quota", &line, &col), 0);
    assert_int_equal(line, 3);
    assert_int_equal(col, 27);
    assert_int_equal(policy_locate(t, n, "cpu", &line, &col), 0);
    assert_int_equal(line, 3);
    assert_int_equal(col, 10);
    assert_int_equal(policy_locate(t, n, "\xc3\xa9.q", &line, &col), 0);
    assert_int_equal(line, 4);
    assert_int_equal(col, 19);
    assert_int_equal(policy_locate(t, n, "z", &line, &col), 0);
    assert_int_equal(line, 4);
    assert_int_equal(col, 41);
    assert_int_equal(policy_locate(t, n, "a", &line, &col), 0);
    assert_int_equal(line, 2);
    assert_int_equal(col, 8);
    /* members of objects inside arrays have no path */
    assert_int_equal(policy_locate(t, n, "a.cpu", &line, &col), -ENOENT);
    assert_int_equal(policy_locate(t, n, "cpu.time_limit", &line, &col), -ENOENT);
    assert_int_equal(policy_locate(t, n, "nope", &line, &col), -ENOENT);
    assert_int_equal(policy_locate("", 0, "a", &line, &col), -ENOENT);
    assert_int_equal(policy_locate("{\"a\": ", 6, "a", &line, &col), -ENOENT);
    /* the text is not NUL-terminated where len says it ends */
    assert_int_equal(policy_locate("{\"a\": 1}{\"b\": 2}", 8, "b", &line, &col), -ENOENT);
    /* surrogate pairs in keys */
    const char *u = "{\"\\ud83d\\ude00\": 1}";
    assert_int_equal(policy_locate(u, strlen(u), "\xf0\x9f\x98\x80", &line, &col), 0);
    assert_int_equal(col, 18);
}

static void test_set(void **state)
{
    (void)state;
    struct policy p, before;
    char err[1024];
    policy_defaults(&p);
    assert_int_equal(policy_set(&p, "memory", "1GiB", err, sizeof err), 0);
    assert_true(p.memory_bytes == 1ull << 30);
    assert_int_equal(policy_set(&p, "memory", "16777216", err, sizeof err), 0);
    assert_true(p.memory_bytes == 16ull << 20);
    assert_int_equal(policy_set(&p, "cpu.quota", "50%", err, sizeof err), 0);
    assert_true(p.cpu_quota_ns == 50 * MS);
    assert_int_equal(policy_set(&p, "cpu.period", "20ms", err, sizeof err), 0);
    assert_true(p.cpu_quota_ns == 10 * MS); /* a percentage follows the period */
    assert_int_equal(policy_set(&p, "cpu.quota", "30ms", err, sizeof err), 0);
    assert_int_equal(policy_set(&p, "cpu.period", "100ms", err, sizeof err), 0);
    assert_true(p.cpu_quota_ns == 30 * MS); /* a duration does not */
    assert_int_equal(policy_set(&p, "cpu.quota", "0", err, sizeof err), 0);
    assert_true(p.cpu_quota_ns == 0 && p.cpu_quota_bp == 0);
    assert_int_equal(policy_set(&p, "cpu.time_limit", "2.5s", err, sizeof err), 0);
    assert_true(p.cpu_time_limit_ns == 2500 * MS);
    assert_int_equal(policy_set(&p, "timeout", "0", err, sizeof err), 0);
    assert_true(p.timeout_ns == 0);
    assert_int_equal(policy_set(&p, "io.write.bandwidth", "1000/s", err, sizeof err), 0);
    assert_true(p.io_write.bytes.size == 100 && p.io_write.bytes.refill_time_ns == 100 * MS);
    assert_int_equal(policy_set(&p, "io.write.bandwidth.size", "4MiB", err, sizeof err), 0);
    assert_int_equal(policy_set(&p, "io.write.bandwidth.refill_time", "1s", err, sizeof err), 0);
    assert_int_equal(policy_set(&p, "io.write.bandwidth.one_time_burst", "1MiB", err, sizeof err), 0);
    assert_true(p.io_write.bytes.size == 4ull << 20 && p.io_write.bytes.refill_time_ns == S &&
                p.io_write.bytes.one_time_burst == 1ull << 20);
    assert_int_equal(policy_set(&p, "io.read.ops.size", "100", err, sizeof err), 0);
    assert_int_equal(policy_set(&p, "io.read.ops.refill_time", "100ms", err, sizeof err), 0);
    assert_true(p.io_read.ops.size == 100);
    assert_int_equal(policy_set(&p, "io.read.ops", "0", err, sizeof err), 0);
    assert_true(p.io_read.ops.size == 0 && p.io_read.ops.refill_time_ns == 0);
    assert_int_equal(policy_set(&p, "max_threads", "4", err, sizeof err), 0);
    assert_int_equal(p.max_threads, 4);
    assert_int_equal(policy_set(&p, "max_capabilities", "1024", err, sizeof err), 0);
    assert_int_equal(p.max_capabilities, 1024);
    assert_int_equal(policy_set(&p, "version", "1", err, sizeof err), 0);
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);

    /* errors: one line naming option, key and value; *p untouched */
    struct { const char *key, *value, *want; } errs[] = {
        { "cpu.quota", "lots", "--set cpu.quota=lots: expected a quota like \"25%\" (of the period) "
          "or \"25ms\" (per period), or 0 for none, got \"lots\"" },
        { "memory", "4MiB", "--set memory=4MiB: 4MiB is outside 8MiB..64GiB" },
        { "memory", "-1", "--set memory=-1: expected a size like \"64MiB\" or an integer number of "
          "bytes, got \"-1\"" },
        { "memory", "99999999999999999999", "--set memory=99999999999999999999: number too large" },
        { "memory", "", "--set memory=: expected a size" },
        { "timeout", "30", "--set timeout=30: expected a duration with a unit like \"500ms\" or "
          "\"30s\" (or 0 for none), got 30 (a plain number has no unit)" },
        { "cpu.period", "0", "--set cpu.period=0: expected a duration" },
        { "cpu.quota", "0%", "--set cpu.quota=0%: 0% would never let the job run" },
        { "max_threads", "0x10", "--set max_threads=0x10: expected an integer, got \"0x10\"" },
        { "max_threads", "100", "--set max_threads=100: 100 is outside 1..64" },
        { "io.write.ops", "0/s", "--set io.write.ops=0/s: a rate of \"0/s\" would block all I/O" },
        { "version", "2", "--set version=2: unsupported version 2" },
        { "memroy", "1G", "--set memroy=1G: unknown key \"memroy\" (did you mean \"memory\"?); valid "
          "keys: version, memory, cpu.quota, " },
        { "cpu", "1", "--set cpu=1: \"cpu\" is a group; set one of cpu.quota, cpu.period, cpu.time_limit" },
        { "io.write", "1", "--set io.write=1: \"io.write\" is a group; set one of io.write.bandwidth, "
          "io.write.ops" },
        { "", "1", "--set =1: unknown key \"\"" },
        { "timeout", "1\ns", "--set timeout=1\\ns: expected a duration" },
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        before = p;
        int rc = policy_set(&p, errs[i].key, errs[i].value, err, sizeof err);
        if (rc != -EINVAL || strncmp(err, errs[i].want, strlen(errs[i].want)) != 0 || strchr(err, '\n'))
            fail_msg("policy_set(%s, %s) = %d:\n  got  \"%s\"\n  want \"%s...\"", errs[i].key,
                     errs[i].value, rc, err, errs[i].want);
        assert_memory_equal(&p, &before, sizeof p);
    }
    assert_int_equal(policy_set_from(&p, "memory", "lots", "--memory lots", err, sizeof err), -EINVAL);
    assert_string_equal(err, "--memory lots: expected a size like \"64MiB\" or an integer number of "
                             "bytes, got \"lots\"");
}

/* Overrides after a file: the same result as the file saying it. */
static void test_set_after_file(void **state)
{
    (void)state;
    struct policy p, q;
    char err[512];
    parse_ok(&p, "{\"cpu\": {\"quota\": \"25%\", \"period\": \"100ms\"}}");
    assert_int_equal(policy_set(&p, "cpu.period", "40ms", err, sizeof err), 0);
    parse_ok(&q, "{\"cpu\": {\"quota\": \"25%\", \"period\": \"40ms\"}}");
    assert_memory_equal(&p, &q, sizeof p);
    assert_true(p.cpu_quota_ns == 10 * MS);
    /* cross-field problems show at validation, naming the key */
    assert_int_equal(policy_set(&p, "cpu.quota", "400%", err, sizeof err), 0);
    assert_int_equal(policy_set(&p, "max_threads", "2", err, sizeof err), 0);
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "cpu.quota: 400% is more than 100% for each of max_threads 2 (at most 200%)");
    assert_int_equal(policy_set(&p, "max_threads", "4", err, sizeof err), 0);
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);
    assert_int_equal(policy_set(&p, "io.read.bandwidth.size", "1MiB", err, sizeof err), 0);
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "io.read.bandwidth: size 1MiB with refill_time 0 would never refill; "
                             "give a refill_time like \"1s\" (or size 0 for no limit)");
    /* the network's buckets (net.rx, net.tx) as io.read's, set apart from them */
    parse_ok(&p, "{\"net\": {\"rx\": {\"bandwidth\": \"4MiB/s\"}, \"tx\": {\"ops\": \"100/s\"}}}");
    parse_ok(&q, "{}");
    assert_int_equal(policy_set(&q, "net.rx.bandwidth", "4MiB/s", err, sizeof err), 0);
    assert_int_equal(policy_set(&q, "net.tx.ops", "100/s", err, sizeof err), 0);
    assert_memory_equal(&p, &q, sizeof p);
    assert_true(p.net_rx.bytes.size > 0 && p.net_rx.bytes.refill_time_ns > 0);
    assert_true((double)p.net_rx.bytes.size * 1e9 / (double)p.net_rx.bytes.refill_time_ns == 4.0 * (1 << 20));
    assert_true(p.net_tx.ops.size > 0 && p.net_rx.ops.size == 0 && p.net_tx.bytes.size == 0);
    assert_true(p.io_read.bytes.size == 0 && p.io_write.ops.size == 0);
    assert_int_not_equal(policy_set(&q, "net.rx.bandwith", "4MiB/s", err, sizeof err), 0);
}

static void test_validate(void **state)
{
    (void)state;
    struct policy p;
    char err[512];
    policy_defaults(&p);
    p.memory_bytes = 1 << 20;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "memory: 1MiB is outside 8MiB..64GiB");
    policy_defaults(&p);
    p.memory_bytes += 1;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "memory: 67108865 bytes is not a multiple of 4KiB");
    policy_defaults(&p);
    p.cpu_period_ns = 0;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "cpu.period: 0 is outside 1ms..10s");
    policy_defaults(&p);
    p.max_threads = 0;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "max_threads: 0 is outside 1..64");
    policy_defaults(&p);
    p.cpu_quota_ns = 1601 * MS;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "cpu.quota: 1601ms per 100ms period is more than the period for each "
                             "of max_threads 16 (at most 1600ms)");
    p.cpu_quota_ns = 1600 * MS;
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);
    policy_defaults(&p);
    p.io_write.ops.one_time_burst = 3;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "io.write.ops: one_time_burst without a size: size 0 means no limit at all");
    /* the largest buckets are fine */
    policy_defaults(&p);
    p.io_write.bytes = (struct bucket_cfg){ UINT64_MAX, UINT64_MAX, UINT64_MAX };
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);
}

static char *write_json(const struct policy *p, int indent)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    policy_write_json(p, f, indent);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_write_json(void **state)
{
    (void)state;
    struct policy p;
    parse_ok(&p, full);
    char *s = write_json(&p, 0);
    json_error_t e;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        fail_msg("policy_write_json is not JSON (%d:%d %s):\n%s", e.line, e.column, e.text, s);
    struct { const char *key; uint64_t want; } keys[] = {
        { "memory_bytes", 128ull << 20 },
        { "cpu_quota_ns", 12500000 },
        { "cpu_period_ns", 50 * MS },
        { "cpu_time_limit_ns", 10 * S },
        { "timeout_ns", 90 * S },
        { "io_read_bandwidth_size_bytes", 425984 },
        { "io_read_bandwidth_one_time_burst_bytes", 0 },
        { "io_read_bandwidth_refill_time_ns", 101562500 },
        { "io_read_ops_size", 100 },
        { "io_read_ops_one_time_burst", 0 },
        { "io_read_ops_refill_time_ns", 100 * MS },
        { "io_write_bandwidth_size_bytes", 4ull << 20 },
        { "io_write_bandwidth_one_time_burst_bytes", 1ull << 20 },
        { "io_write_bandwidth_refill_time_ns", S },
        { "io_write_ops_size", 100 },
        { "io_write_ops_one_time_burst", 7 },
        { "io_write_ops_refill_time_ns", 100 * MS },
        { "max_threads", 8 },
        { "max_capabilities", 256 },
        { "vcpus", 1 },
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(j, keys[i].key);
        if (!json_is_integer(v) || (uint64_t)json_integer_value(v) != keys[i].want)
            fail_msg("%s: want %llu in\n%s", keys[i].key, (unsigned long long)keys[i].want, s);
    }
    /* the sandbox at its defaults */
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "syscalls"), "profile")),
                        "default");
    assert_int_equal(json_array_size(json_object_get(j, "grants")), 0);
    assert_string_equal(json_string_value(json_object_get(j, "cwd")), "/");
    assert_true(json_is_null(json_object_get(j, "audit_path")));
    assert_true(json_is_null(json_object_get(j, "control_path")));
    assert_true(json_is_null(json_object_get(j, "job_id")));
    assert_int_equal(json_integer_value(json_object_get(j, "seed")), 0);
    assert_true(json_is_null(json_object_get(j, "io_device"))); /* isovm jail's cgroup I/O limit */
    assert_int_equal(json_array_size(json_object_get(j, "endpoints")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "audit_max_bytes")), 16 << 20);
    assert_true(json_is_null(json_object_get(j, "tenant")));
    assert_int_equal(json_object_size(j), 44);
    json_decref(j);
    /* one key per line, opening brace where the stream is, closing brace at the indent */
    unsigned lines = 0;
    for (const char *c = s; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 45);
    assert_true(strncmp(s, "{\n  \"memory_bytes\": ", 20) == 0);
    assert_string_equal(s + strlen(s) - 2, "\n}");
    free(s);
    p.io_write.bytes.size = UINT64_MAX; /* the full range is written (beyond what jansson reads) */
    s = write_json(&p, 4);
    assert_non_null(strstr(s, "\n      \"io_write_bandwidth_size_bytes\": 18446744073709551615,\n"));
    assert_true(strncmp(s, "{\n      \"memory_bytes\": ", 24) == 0);
    assert_string_equal(s + strlen(s) - 6, "\n    }");
    free(s);
}

/* ---- files ---- */

static char tmpdir[64];

static int files_setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/isovm-test-policy.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int files_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_load(void **state)
{
    (void)state;
    struct policy p;
    char err[1024], want[512];
    policy_defaults(&p);
    const char *path = write_file("ok.json", full, strlen(full));
    assert_int_equal(policy_load(&p, path, err, sizeof err), 0);
    assert_int_equal(p.max_capabilities, 256);

    /* messages name the file as given */
    path = write_file("bad.json", "{\n  \"memory\": \"lots\"\n}\n", 23);
    assert_int_equal(policy_load(&p, path, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want, "%s:2:13: memory: expected a size", path);
    assert_true(strncmp(err, want, strlen(want)) == 0);

    snprintf(want, sizeof want, "%s/missing.json", tmpdir);
    assert_int_equal(policy_load(&p, want, err, sizeof err), -ENOENT);
    strcat(want, ": cannot open: No such file or directory");
    assert_string_equal(err, want);

    assert_int_equal(policy_load(&p, tmpdir, err, sizeof err), -EISDIR);
    snprintf(want, sizeof want, "%s: a directory, not a regular file", tmpdir);
    assert_string_equal(err, want);

    assert_int_equal(policy_load(&p, "/dev/null", err, sizeof err), -EINVAL);
    assert_string_equal(err, "/dev/null: a device, not a regular file");

    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(policy_load(&p, fifo, err, sizeof err), -EINVAL); /* and does not block */
    assert_non_null(strstr(err, ": a FIFO, not a regular file"));

    /* exactly 1 MiB is fine, a byte more is not */
    size_t big = POLICY_MAX_FILE_SIZE;
    char *text = malloc(big + 1);
    assert_non_null(text);
    memset(text, ' ', big + 1);
    text[0] = '{';
    text[big - 1] = '}';
    path = write_file("big.json", text, big);
    assert_int_equal(policy_load(&p, path, err, sizeof err), 0);
    path = write_file("big.json", text, big + 1);
    assert_int_equal(policy_load(&p, path, err, sizeof err), -EFBIG);
    snprintf(want, sizeof want, "%s: too large (1048577 bytes; a policy file is at most 1MiB)", path);
    assert_string_equal(err, want);
    free(text);

    /* an empty file, and a file name with a newline kept on one line */
    path = write_file("a\nb.json", "", 0);
    assert_int_equal(policy_load(&p, path, err, sizeof err), -EINVAL);
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "a\\nb.json:1:1: empty policy"));

    if (geteuid() != 0) { /* root reads anything */
        path = write_file("secret.json", "{}", 2);
        assert_int_equal(chmod(path, 0), 0);
        assert_int_equal(policy_load(&p, path, err, sizeof err), -EACCES);
        assert_non_null(strstr(err, ": cannot open: Permission denied"));
    }
}

/* ---- the sandbox sections (issue 4) ---- */

static bool bit(const uint64_t *bitmap, unsigned nr)
{
    return bitmap[nr / 64] >> (nr % 64) & 1;
}

static unsigned bits(const uint64_t *bitmap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < POLICY_SYSCALL_NR_MAX / 64; i++)
        n += (unsigned)__builtin_popcountll(bitmap[i]);
    return n;
}

static const char *sandbox =
    "{\n"
    "  \"syscalls\": {\"profile\": \"deterministic\", \"action\": \"kill\", \"errno\": \"EACCES\",\n"
    "               \"allow\": [\"openat\", 231, \"isovm_cap_derive\", \"mseal\"],\n"
    "               \"deny\": [\"ptrace\", 999]},\n"
    "  \"grants\": [\n"
    "    {\"guest\": \"/data\", \"host\": \"/srv/in\", \"rights\": \"ro\"},\n"
    "    {\"guest\": \"/out\", \"host\": \"/srv/out\", \"rights\": \"rw\", \"expires\": \"30s\"},\n"
    "    {\"guest\": \"/lib/x.so\", \"host\": \"/usr/lib/x.so\", \"rights\": [\"read\", \"stat\", \"ro\"]},\n"
    "    {\"guest\": \"/database\", \"host\": \"/a b/\\u00e9:x\", \"expires\": 0}\n"
    "  ],\n"
    "  \"cwd\": \"/data\",\n"
    "  \"audit\": \"/var/log/job.audit\",\n"
    "  \"audit_max_bytes\": \"1MiB\",\n"
    "  \"control\": \"/run/isovm/job.sock\",\n"
    "  \"job_id\": \"build-42.x_Y\",\n"
    "  \"seed\": 42\n"
    "}\n";

static void test_sandbox_fields(void **state)
{
    (void)state;
    struct policy p;
    char err[512];
    parse_ok(&p, sandbox);
    assert_int_equal(p.syscalls.profile, SCP_DETERMINISTIC);
    assert_int_equal(p.syscalls.action, SCA_KILL);
    assert_int_equal(p.syscalls.errno_value, EACCES);
    assert_true(bit(p.syscalls.allow, 257) && bit(p.syscalls.allow, 231) &&
                bit(p.syscalls.allow, 1000) && bit(p.syscalls.allow, 462));
    assert_int_equal(bits(p.syscalls.allow), 4);
    assert_true(bit(p.syscalls.deny, 101) && bit(p.syscalls.deny, 999));
    assert_int_equal(bits(p.syscalls.deny), 2);
    assert_int_equal(p.ngrants, 4);
    assert_string_equal(p.grants[0].guest, "/data");
    assert_string_equal(p.grants[0].host, "/srv/in");
    assert_int_equal(p.grants[0].rights, CAP_RIGHTS_RO);
    assert_true(p.grants[0].expires_ns == 0);
    assert_int_equal(p.grants[1].rights, CAP_RIGHTS_RW);
    assert_true(p.grants[1].expires_ns == 30 * S);
    assert_int_equal(p.grants[2].rights, CAP_RIGHTS_RO); /* read, stat and ro's set */
    assert_int_equal(p.grants[3].rights, CAP_RIGHTS_RO); /* the default */
    assert_string_equal(p.grants[3].host, "/a b/\xc3\xa9:x"); /* "/database" is not in "/data" */
    assert_string_equal(p.cwd, "/data");
    assert_string_equal(p.audit_path, "/var/log/job.audit");
    assert_true(p.audit_max_bytes == 1ull << 20);
    assert_string_equal(p.control_path, "/run/isovm/job.sock");
    assert_string_equal(p.job_id, "build-42.x_Y");
    assert_true(p.seed == 42);
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);

    /* other forms */
    parse_ok(&p, "{\"syscalls\": {\"errno\": 4095, \"profile\": \"none\", \"action\": \"log\"}, "
                 "\"seed\": \"18446744073709551615\", \"cwd\": \"/\", \"audit\": \"job.audit\"}");
    assert_int_equal(p.syscalls.errno_value, 4095);
    assert_int_equal(p.syscalls.profile, SCP_NONE);
    assert_int_equal(p.syscalls.action, SCA_LOG);
    assert_true(p.seed == UINT64_MAX);
    assert_string_equal(p.cwd, "/");
    assert_string_equal(p.audit_path, "job.audit"); /* relative to isovm's working directory */
    parse_ok(&p, "{\"audit_max_bytes\": 0}"); /* no limit */
    assert_true(p.audit_max_bytes == 0);
    parse_ok(&p, "{\"audit_max_bytes\": 4096}");
    assert_true(p.audit_max_bytes == 4096);
    parse_ok(&p, "{\"seed\": 9223372036854775807, \"syscalls\": {\"errno\": \"EWOULDBLOCK\"}, "
                 "\"grants\": [], \"job_id\": \"0123456789012345678901234567890123456789012345678901234567890123\"}");
    assert_true(p.seed == INT64_MAX);
    assert_int_equal(p.syscalls.errno_value, EAGAIN);
    assert_int_equal(p.ngrants, 0);
    assert_int_equal(strlen(p.job_id), 64);
    /* the longest paths */
    char text[2048], g[300], h[1100];
    memset(g, 'g', sizeof g);
    g[0] = '/';
    g[128] = '/';
    g[POLICY_GUEST_PATH_MAX - 1] = '\0';
    memset(h, 'h', sizeof h);
    h[0] = '/';
    h[POLICY_HOST_PATH_MAX - 1] = '\0';
    snprintf(text, sizeof text, "{\"grants\": [{\"guest\": \"%s\", \"host\": \"%s\"}]}", g, h);
    parse_ok(&p, text);
    assert_string_equal(p.grants[0].host, h);
    /* 32 grants are fine */
    size_t o = (size_t)snprintf(text, sizeof text, "{\"grants\": [");
    for (int i = 0; i < POLICY_MAX_GRANTS; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s{\"guest\": \"/g%d\", \"host\": \"/h\"}",
                              i ? "," : "", i);
    snprintf(text + o, sizeof text - o, "]}");
    parse_ok(&p, text);
    assert_int_equal(p.ngrants, POLICY_MAX_GRANTS);
}

/* A file's grants and syscall lists replace what was there; other fields stay. */
static void test_sandbox_replace(void **state)
{
    (void)state;
    struct policy p;
    char err[512];
    parse_ok(&p, sandbox);
    assert_int_equal(parse(&p, "{\"grants\": [{\"guest\": \"/x\", \"host\": \"/y\"}], "
                               "\"syscalls\": {\"allow\": [\"read\"]}}", err, sizeof err), 0);
    assert_int_equal(p.ngrants, 1);
    assert_string_equal(p.grants[0].guest, "/x");
    assert_true(p.grants[1].guest[0] == '\0');
    assert_int_equal(bits(p.syscalls.allow), 1);
    assert_int_equal(bits(p.syscalls.deny), 2);
    assert_int_equal(p.syscalls.profile, SCP_DETERMINISTIC);
    assert_string_equal(p.job_id, "build-42.x_Y");
    /* an error leaves everything as it was */
    struct policy before = p;
    assert_int_equal(parse(&p, "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/y\"}, 5]}", err,
                           sizeof err), -EINVAL);
    assert_memory_equal(&p, &before, sizeof p);
}

static const struct bad_case sandbox_bad[] = {
    /* the audit log's limit */
    { "{\"audit_max_bytes\": -5}", "t.json:1:21: audit_max_bytes: expected a size like \"64MiB\" "
      "or an integer number of bytes, got -5", NULL },
    { "{\"audit_max_bytes\": \"16MB/s\"}", "t.json:1:21: audit_max_bytes: expected a size",
      "got \"16MB/s\"" },
    { "{\"audit_max_bytes\": true}", "t.json:1:21: audit_max_bytes: expected a size", NULL },
    /* syscalls */
    { "{\"syscalls\": {\"profile\": \"defualt\"}}", "t.json:1:26: syscalls.profile: unknown value "
      "\"defualt\" (did you mean \"default\"?); expected one of \"default\", \"deterministic\", \"none\"", NULL },
    { "{\"syscalls\": {\"profile\": 1}}", "t.json:1:26: syscalls.profile: expected one of", "got 1" },
    { "{\"syscalls\": {\"action\": \"die\"}}", "t.json:1:25: syscalls.action: unknown value \"die\"; "
      "expected one of \"errno\", \"kill\", \"log\"", NULL },
    { "{\"syscalls\": {\"errno\": \"EPRM\"}}", "t.json:1:24: syscalls.errno: unknown errno name "
      "\"EPRM\" (did you mean \"EPERM\"?)", NULL },
    { "{\"syscalls\": {\"errno\": 0}}", "t.json:1:24: syscalls.errno: 0 is outside 1..4095", NULL },
    { "{\"syscalls\": {\"errno\": 4096}}", "t.json:1:24: syscalls.errno: 4096 is outside 1..4095", NULL },
    { "{\"syscalls\": {\"errno\": \"eperm\"}}", "t.json:1:24: syscalls.errno: unknown errno name", NULL },
    { "{\"syscalls\": {\n  \"allow\": [\"read\",\n            \"opnat\"]}}",
      "t.json:3:13: syscalls.allow[1]: unknown syscall \"opnat\" (did you mean \"openat\"?)", NULL },
    { "{\"syscalls\": {\"deny\": [\"xyzzy_nothing\"]}}", "t.json:1:24: syscalls.deny[0]: unknown "
      "syscall \"xyzzy_nothing\" (names are", NULL },
    { "{\"syscalls\": {\"allow\": [0, 1024]}}", "t.json:1:28: syscalls.allow[1]: syscall number 1024 is "
      "outside 0..1023", NULL },
    { "{\"syscalls\": {\"allow\": [-1]}}", "t.json:1:25: syscalls.allow[0]: syscall number -1 is outside",
      NULL },
    { "{\"syscalls\": {\"allow\": [[1]]}}", "t.json:1:25: syscalls.allow[0]: expected a syscall name",
      "got an array" },
    { "{\"syscalls\": {\"allow\": \"read\"}}", "t.json:1:24: syscalls.allow: expected an array", NULL },
    { "{\"syscalls\": {\"deny\": 5}}", "t.json:1:23: syscalls.deny: expected an array", "got 5" },
    { "{\"syscalls\": {\"alow\": []}}", "t.json:1:15: syscalls.alow: unknown key (did you mean \"allow\"?)",
      "profile, action, errno, allow, deny" },
    { "{\"syscalls\": \"default\"}", "t.json:1:14: syscalls: expected an object", NULL },
    /* grants: the container and its elements */
    { "{\"grants\": {\"guest\": \"/data\"}}", "t.json:1:12: grants: expected an array of grants",
      "got an object" },
    { "{\"grants\": [\n  {\"guest\": \"/a\", \"host\": \"/b\"},\n  \"/data\"]}",
      "t.json:3:3: grants[1]: expected a grant object", "got \"/data\"" },
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/b\", \"hots\": \"/c\"}]}",
      "t.json:1:43: grants[0].hots: unknown key (did you mean \"host\"?); a grant has the keys \"guest\", "
      "\"host\", \"rights\", \"expires\"", NULL },
    { "{\"grants\": [{\"guest\": \"/a\"}]}", "t.json:1:13: grants[0]: a grant needs a \"host\" path", NULL },
    { "{\"grants\": [{\"host\": \"/a\"}]}", "t.json:1:13: grants[0]: a grant needs a \"guest\" path", NULL },
    { "{\"grants\": [{}]}", "t.json:1:13: grants[0]: a grant needs \"guest\" and \"host\"", NULL },
    { "{\"grants\": [{\"guest\": \"/a\", \"guest\": \"/b\", \"host\": \"/c\"}]}",
      "t.json:1:29: grants[0].guest: duplicate key (first given at 1:14)", NULL },
    /* guest paths */
    { "{\"grants\": [\n {\"host\": \"/srv\",\n  \"guest\": \"data\"}]}",
      "t.json:3:12: grants[0].guest: guest path \"data\" is not absolute", NULL },
    { "{\"grants\": [{\"guest\": \"/data/../etc\", \"host\": \"/b\"}]}",
      "t.json:1:23: grants[0].guest: guest path \"/data/../etc\" has a \"..\" component", NULL },
    { "{\"grants\": [{\"guest\": \"/data/.\", \"host\": \"/b\"}]}",
      "t.json:1:23: grants[0].guest: guest path \"/data/.\" has a \".\" component", NULL },
    { "{\"grants\": [{\"guest\": \"//data\", \"host\": \"/b\"}]}",
      "t.json:1:23: grants[0].guest: guest path \"//data\" has \"//\"", NULL },
    { "{\"grants\": [{\"guest\": \"/data/\", \"host\": \"/b\"}]}",
      "t.json:1:23: grants[0].guest: guest path \"/data/\" has a trailing \"/\"", NULL },
    { "{\"grants\": [{\"guest\": \"/\", \"host\": \"/b\"}]}",
      "t.json:1:23: grants[0].guest: \"/\" itself cannot be granted", NULL },
    { "{\"grants\": [{\"guest\": \"\", \"host\": \"/b\"}]}",
      "t.json:1:23: grants[0].guest: expected an absolute guest path", NULL },
    { "{\"grants\": [{\"guest\": \"/a\\nb\", \"host\": \"/b\"}]}",
      "t.json:1:23: grants[0].guest: guest path \"/a\\nb\" holds a control character", NULL },
    { "{\"grants\": [{\"guest\": 5, \"host\": \"/b\"}]}",
      "t.json:1:23: grants[0].guest: expected a guest path string", "got 5" },
    /* duplicates and nesting, reported at the later grant's guest */
    { "{\"grants\": [\n  {\"guest\": \"/data\", \"host\": \"/a\"},\n  {\"guest\": \"/data\", \"host\": \"/b\"}]}",
      "t.json:3:13: grants[1].guest: \"/data\" is already granted by grants[0]", NULL },
    { "{\"grants\": [\n  {\"guest\": \"/data\", \"host\": \"/a\"},\n  {\"host\": \"/b\", \"guest\": \"/data/x\"}]}",
      "t.json:3:27: grants[1].guest: \"/data/x\" is inside grants[0]'s \"/data\"; grants cannot nest", NULL },
    { "{\"grants\": [\n  {\"guest\": \"/data/x/y\", \"host\": \"/a\"},\n  {\"guest\": \"/o\", \"host\": \"/a\"},\n"
      "  {\"guest\": \"/data\", \"host\": \"/b\"}]}",
      "t.json:4:13: grants[2].guest: \"/data\" contains grants[0]'s \"/data/x/y\"; grants cannot nest", NULL },
    /* host paths */
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"srv/in\"}]}",
      "t.json:1:37: grants[0].host: host path \"srv/in\" is not absolute", NULL },
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"\"}]}", "t.json:1:37: grants[0].host: expected a path",
      NULL },
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": [\"/b\"]}]}",
      "t.json:1:37: grants[0].host: expected an absolute host path string", NULL },
    /* rights */
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/b\", \"rights\": \"readonly\"}]}",
      "t.json:1:53: grants[0].rights: unknown right \"readonly\"; expected \"ro\", \"rw\", \"rx\", "
      "\"rwx\" or rights from: read, write, create, delete, list, stat, seek, truncate, exec", NULL },
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/b\",\n  \"rights\": [\"read\", \"wrte\"]}]}",
      "t.json:2:22: grants[0].rights[1]: unknown right \"wrte\"", NULL },
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/b\", \"rights\": []}]}",
      "t.json:1:53: grants[0].rights: an empty list of rights grants nothing", NULL },
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/b\", \"rights\": 7}]}",
      "t.json:1:53: grants[0].rights: expected \"ro\", \"rw\", \"rx\", \"rwx\" or an array of rights",
      "got 7" },
    /* expires */
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/b\", \"expires\": \"30\"}]}",
      "t.json:1:54: grants[0].expires: expected a duration with a unit", "got \"30\"" },
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/b\", \"expires\": 30}]}",
      "t.json:1:54: grants[0].expires: expected a duration", "(a plain number has no unit)" },
    { "{\"grants\": [{\"guest\": \"/a\", \"host\": \"/b\", \"expires\": \"-1s\"}]}",
      "t.json:1:54: grants[0].expires: expected a duration", NULL },
    /* cwd, audit, control, job_id, seed */
    { "{\"cwd\": \"data\"}", "t.json:1:9: cwd: guest path \"data\" is not absolute", NULL },
    { "{\"cwd\": \"/data/..\"}", "t.json:1:9: cwd: guest path \"/data/..\" has a \"..\" component", NULL },
    { "{\"cwd\": \"/data/\"}", "t.json:1:9: cwd: guest path \"/data/\" has a trailing \"/\"", NULL },
    { "{\"audit\": \"\"}", "t.json:1:11: audit: expected a path, got \"\"", NULL },
    { "{\"audit\": false}", "t.json:1:11: audit: expected a path string, got false", NULL },
    { "{\"control\": \"/run/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
      "t.json:1:13: control: a unix socket path of 109 bytes is too long (at most 107)", NULL },
    { "{\"job_id\": \"build 42\"}", "t.json:1:12: job_id: job id \"build 42\" has a character other than "
      "A-Z a-z 0-9 . _ - at byte 6", NULL },
    { "{\"job_id\": \"a/b\"}", "t.json:1:12: job_id: job id \"a/b\" has a character", NULL },
    { "{\"job_id\": \"\"}", "t.json:1:12: job_id: a job id has 1..64 characters, got 0", NULL },
    { "{\"job_id\": \"01234567890123456789012345678901234567890123456789012345678901234\"}",
      "t.json:1:12: job_id: a job id has 1..64 characters, got 65", NULL },
    { "{\"job_id\": \"..\"}", "t.json:1:12: job_id: job id \"..\" is not allowed", NULL },
    { "{\"job_id\": 42}", "t.json:1:12: job_id: expected a job id string, got 42", NULL },
    { "{\"seed\": -1}", "t.json:1:10: seed: expected an integer 0..9223372036854775807 or a string of "
      "decimal digits up to \"18446744073709551615\", got -1", NULL },
    { "{\"seed\": \"18446744073709551616\"}", "t.json:1:10: seed: \"18446744073709551616\" is above "
      "18446744073709551615", NULL },
    { "{\"seed\": 9223372036854775808}", "t.json:1:10: seed: number 9223372036854775808 is out of range",
      NULL },
    { "{\"seed\": \"0x10\"}", "t.json:1:10: seed: expected an integer", "got \"0x10\"" },
    { "{\"seed\": 1.5}", "t.json:1:10: seed: expected an integer", "got 1.5" },
};

static void test_sandbox_malformed(void **state)
{
    (void)state;
    unsigned failed = 0;
    for (size_t i = 0; i < sizeof sandbox_bad / sizeof sandbox_bad[0]; i++)
        failed += !refused(sandbox_bad[i].text, sandbox_bad[i].prefix, sandbox_bad[i].has);
    /* too many grants: the 33rd is at fault */
    char text[2048];
    size_t o = (size_t)snprintf(text, sizeof text, "{\"grants\": [");
    for (int i = 0; i <= POLICY_MAX_GRANTS; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s\n{\"guest\": \"/g%d\", \"host\": \"/h\"}",
                              i ? "," : "", i);
    snprintf(text + o, sizeof text - o, "]}");
    failed += !refused(text, "t.json:34:1: grants[32]: too many grants: 33 (at most 32)", NULL);
    /* too long paths */
    char g[300];
    memset(g, 'g', sizeof g);
    g[0] = '/';
    g[POLICY_GUEST_PATH_MAX] = '\0';
    snprintf(text, sizeof text, "{\"grants\": [{\"guest\": \"%s\", \"host\": \"/h\"}]}", g);
    failed += !refused(text, "t.json:1:23: grants[0].guest: guest path of 256 bytes is too long "
                       "(at most 255)", NULL);
    char h[1100];
    memset(h, 'h', sizeof h);
    h[0] = '/';
    h[POLICY_HOST_PATH_MAX] = '\0';
    snprintf(text, sizeof text, "{\"grants\": [{\"guest\": \"/g\", \"host\": \"%s\"}]}", h);
    failed += !refused(text, "t.json:1:37: grants[0].host: path of 1024 bytes is too long "
                       "(at most 1023)", NULL);
    if (failed)
        fail_msg("%u malformed sandbox policies not refused as expected", failed);
}

static void test_sandbox_set(void **state)
{
    (void)state;
    struct policy p, before;
    char err[1024];
    policy_defaults(&p);
    struct { const char *key, *value; } ok[] = {
        { "syscalls.profile", "none" }, { "syscalls.action", "log" }, { "syscalls.errno", "EACCES" },
        { "syscalls.allow", "openat,read,231" }, { "syscalls.deny", "ptrace" },
        { "audit", "job.audit" }, { "audit_max_bytes", "64KiB" }, { "control", "/run/j.sock" },
        { "job_id", "42" }, { "tenant", "team-7.ci_x" },
        { "seed", "18446744073709551615" }, { "cwd", "/out" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (policy_set(&p, ok[i].key, ok[i].value, err, sizeof err))
            fail_msg("policy_set(%s, %s): %s", ok[i].key, ok[i].value, err);
    assert_int_equal(p.syscalls.profile, SCP_NONE);
    assert_int_equal(p.syscalls.action, SCA_LOG);
    assert_int_equal(p.syscalls.errno_value, EACCES);
    assert_true(bit(p.syscalls.allow, 257) && bit(p.syscalls.allow, 0) && bit(p.syscalls.allow, 231));
    assert_int_equal(bits(p.syscalls.allow), 3);
    assert_true(bit(p.syscalls.deny, 101));
    assert_string_equal(p.audit_path, "job.audit");
    assert_true(p.audit_max_bytes == 64u << 10);
    assert_string_equal(p.control_path, "/run/j.sock");
    assert_string_equal(p.job_id, "42"); /* digits, yet a string */
    assert_string_equal(p.tenant, "team-7.ci_x");
    assert_true(p.seed == UINT64_MAX);
    assert_string_equal(p.cwd, "/out");
    assert_int_equal(policy_set(&p, "syscalls.errno", "13", err, sizeof err), 0);
    assert_int_equal(p.syscalls.errno_value, 13);
    assert_int_equal(policy_set(&p, "seed", "7", err, sizeof err), 0);
    assert_true(p.seed == 7);
    assert_int_equal(policy_set(&p, "syscalls.allow", "", err, sizeof err), 0); /* the empty list */
    assert_int_equal(bits(p.syscalls.allow), 0);

    struct { const char *key, *value, *want; } errs[] = {
        { "syscalls.profile", "strict", "--set syscalls.profile=strict: unknown value \"strict\"; "
          "expected one of \"default\", \"deterministic\", \"none\"" },
        { "syscalls.action", "kil", "--set syscalls.action=kil: unknown value \"kil\" (did you mean "
          "\"kill\"?)" },
        { "syscalls.errno", "0", "--set syscalls.errno=0: 0 is outside 1..4095" },
        { "syscalls.allow", "read,,write", "--set syscalls.allow=read,,write: expected syscall names "
          "or numbers separated by commas" },
        { "syscalls.allow", "read,", "--set syscalls.allow=read,: a list ends with a comma" },
        { "syscalls.deny", "opnat", "--set syscalls.deny=opnat: unknown syscall \"opnat\" (did you "
          "mean \"openat\"?)" },
        { "syscalls.deny", "1024", "--set syscalls.deny=1024: syscall number 1024 is outside 0..1023" },
        { "syscalls.deny", "99999999999", "--set syscalls.deny=99999999999: syscall number 99999999999 "
          "is outside" },
        { "grants", "/a=/b", "--set grants=/a=/b: grants cannot be set with --set; add each with "
          "--grant" },
        { "cwd", "rel", "--set cwd=rel: guest path \"rel\" is not absolute" },
        { "job_id", "a b", "--set job_id=a b: job id \"a b\" has a character" },
        { "tenant", "-x", "--set tenant=-x: tenant \"-x\" starts with '-'" },
        { "tenant", "a/b", "--set tenant=a/b: tenant \"a/b\" has a character other than" },
        { "tenant", "", "--set tenant=: a tenant has 1..64 characters, got 0" },
        { "seed", "-1", "--set seed=-1: expected an integer" },
        { "seed", "18446744073709551616", "--set seed=18446744073709551616: \"18446744073709551616\" "
          "is above 18446744073709551615" },
        { "audit", "", "--set audit=: expected a path" },
        { "audit", "a\x01", "--set audit=a\\x01: path \"a\\x01\" holds a control character" },
        { "audit", "\xff", "--set audit=\xff: path \"\xff\" is not valid UTF-8" },
        { "audit_max_bytes", "lots", "--set audit_max_bytes=lots: expected a size like \"64MiB\" or "
          "an integer number of bytes, got \"lots\"" },
        { "audit_max_bytes", "-1", "--set audit_max_bytes=-1: expected a size" },
        { "audit_max_bytes", "1.5MiB", "--set audit_max_bytes=1.5MiB: expected a size" },
        { "audit_max_byte", "1", "--set audit_max_byte=1: unknown key \"audit_max_byte\" (did you "
          "mean \"audit_max_bytes\"?)" },
        { "syscalls", "1", "--set syscalls=1: \"syscalls\" is a group; set one of syscalls.profile, "
          "syscalls.action, syscalls.errno, syscalls.allow, syscalls.deny" },
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        before = p;
        int rc = policy_set(&p, errs[i].key, errs[i].value, err, sizeof err);
        if (rc != -EINVAL || strncmp(err, errs[i].want, strlen(errs[i].want)) != 0 || strchr(err, '\n'))
            fail_msg("policy_set(%s, %s) = %d:\n  got  \"%s\"\n  want \"%s...\"", errs[i].key,
                     errs[i].value, rc, err, errs[i].want);
        assert_memory_equal(&p, &before, sizeof p);
    }
    /* an unknown key lists the new ones too */
    assert_int_equal(policy_set(&p, "job", "x", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "syscalls.profile, syscalls.action, syscalls.errno, syscalls.allow, "
                               "syscalls.deny, cwd, audit, audit_max_bytes, control, job_id, tenant, seed"));
    assert_int_equal(policy_set_from(&p, "syscalls.profile", "x", "--syscall-profile x", err,
                                     sizeof err), -EINVAL);
    assert_non_null(strstr(err, "--syscall-profile x: unknown value \"x\""));
}

static void test_add_grant(void **state)
{
    (void)state;
    struct policy p, before;
    char err[1024];
    policy_defaults(&p);
    assert_int_equal(policy_add_grant(&p, "/data=/srv/in", NULL, err, sizeof err), 0);
    assert_int_equal(policy_add_grant(&p, "/out=/srv/out:rw", NULL, err, sizeof err), 0);
    assert_int_equal(policy_add_grant(&p, "/logs=/var/log:read,list", NULL, err, sizeof err), 0);
    assert_int_equal(policy_add_grant(&p, "/c=/srv/a:b:ro", NULL, err, sizeof err), 0);
    assert_int_equal(policy_add_grant(&p, "/bin=/usr/bin:rx", NULL, err, sizeof err), 0);
    assert_int_equal(policy_add_grant(&p, "/w=/srv/w:rwx", NULL, err, sizeof err), 0);
    assert_int_equal(policy_add_grant(&p, "/t=/srv/t:read,exec", NULL, err, sizeof err), 0);
    assert_int_equal(p.grants[4].rights, CAP_RIGHTS_RO | CAP_R_EXEC);
    assert_int_equal(p.grants[5].rights, CAP_RIGHTS_ALL);
    assert_int_equal(p.grants[6].rights, CAP_R_READ | CAP_R_EXEC);
    assert_int_equal(p.grants[1].rights & CAP_R_EXEC, 0); /* rw: no exec */
    p.ngrants = 4;
    assert_int_equal(p.ngrants, 4);
    assert_string_equal(p.grants[0].guest, "/data");
    assert_string_equal(p.grants[0].host, "/srv/in");
    assert_int_equal(p.grants[0].rights, CAP_RIGHTS_RO);
    assert_int_equal(p.grants[1].rights, CAP_RIGHTS_RW);
    assert_int_equal(p.grants[2].rights, CAP_R_READ | CAP_R_LIST);
    assert_string_equal(p.grants[3].host, "/srv/a:b");
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);
    /* a file's grants, then --grant appends */
    parse_ok(&p, "{\"grants\": [{\"guest\": \"/data\", \"host\": \"/srv/in\"}]}");
    assert_int_equal(policy_add_grant(&p, "/out=/o:rw", "--grant /out=/o:rw", err, sizeof err), 0);
    assert_int_equal(p.ngrants, 2);

    struct { const char *spec, *want; } errs[] = {
        { "/data", "--grant /data: expected GUEST=HOST[:ro|:rw|:RIGHT,RIGHT...], like /data=/srv/in:ro" },
        { "=/srv", "--grant =/srv: expected GUEST=HOST" },
        { "/x=", "--grant /x=: expected GUEST=HOST" },
        { "x=/srv", "--grant x=/srv: guest path \"x\" is not absolute" },
        { "/x/../y=/srv", "--grant /x/../y=/srv: guest path \"/x/../y\" has a \"..\" component" },
        { "/x=srv", "--grant /x=srv: host path \"srv\" is not absolute" },
        { "/x=/srv:rwxs", "--grant /x=/srv:rwxs: unknown right \"rwxs\"; expected \"ro\", \"rw\", "
          "\"rx\", \"rwx\" or rights from: read, write, create, delete, list, stat, seek, truncate, exec" },
        { "/x=/srv:read,,list", "--grant /x=/srv:read,,list: unknown right \"\"" },
        { "/x=/a:b/c", "--grant /x=/a:b/c: unknown right \"b/c\"", },
        { "/data=/other", "--grant /data=/other: \"/data\" is already granted by grants[0]" },
        { "/data/sub=/other", "--grant /data/sub=/other: \"/data/sub\" is inside grants[0]'s \"/data\"" },
        { "/=/srv", "--grant /=/srv: \"/\" itself cannot be granted" },
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        before = p;
        int rc = policy_add_grant(&p, errs[i].spec, NULL, err, sizeof err);
        if (rc != -EINVAL || strncmp(err, errs[i].want, strlen(errs[i].want)) != 0 || strchr(err, '\n'))
            fail_msg("policy_add_grant(%s) = %d:\n  got  \"%s\"\n  want \"%s...\"", errs[i].spec, rc,
                     err, errs[i].want);
        assert_memory_equal(&p, &before, sizeof p);
    }
    /* too long, with the real length */
    char longspec[1400];
    memset(longspec, 'x', sizeof longspec);
    longspec[0] = '/';
    longspec[300] = '=';
    longspec[301] = '/';
    longspec[310] = '\0';
    assert_int_equal(policy_add_grant(&p, longspec, "--grant G", err, sizeof err), -EINVAL);
    assert_string_equal(err, "--grant G: guest path of 300 bytes is too long (at most 255)");
    longspec[5] = '=';
    longspec[6] = '/';
    longspec[310] = 'x';
    longspec[1300] = '\0';
    assert_int_equal(policy_add_grant(&p, longspec, "--grant H", err, sizeof err), -EINVAL);
    assert_string_equal(err, "--grant H: host path of 1294 bytes is too long (at most 1023)");
    /* the 33rd grant */
    policy_defaults(&p);
    for (int i = 0; i < POLICY_MAX_GRANTS; i++) {
        char spec[32];
        snprintf(spec, sizeof spec, "/g%d=/h", i);
        assert_int_equal(policy_add_grant(&p, spec, NULL, err, sizeof err), 0);
    }
    assert_int_equal(policy_add_grant(&p, "/last=/h", "--grant /last=/h", err, sizeof err), -EINVAL);
    assert_string_equal(err, "--grant /last=/h: too many grants (at most 32)");
}

static void test_sandbox_validate(void **state)
{
    (void)state;
    struct policy p;
    char err[512];
    policy_defaults(&p);
    p.syscalls.profile = (enum syscall_profile)7;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "syscalls.profile: value 7 is not one of the names");
    policy_defaults(&p);
    p.syscalls.errno_value = 5000;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "syscalls.errno: 5000 is outside 1..4095 (or 0 for the default)");
    policy_defaults(&p);
    p.ngrants = 2;
    strcpy(p.grants[0].guest, "/a");
    strcpy(p.grants[0].host, "/h");
    p.grants[0].rights = CAP_RIGHTS_RO;
    strcpy(p.grants[1].guest, "/a/b");
    strcpy(p.grants[1].host, "/h");
    p.grants[1].rights = CAP_RIGHTS_RO;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "grants[1].guest: \"/a/b\" is inside grants[0]'s \"/a\"; grants cannot "
                             "nest (give the nested directory its own guest path outside \"/a\")");
    strcpy(p.grants[1].guest, "/b");
    p.grants[1].rights = 0;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "grants[1].rights: rights 0x0: expected a non-empty set of the 9 rights");
    p.grants[1].rights = CAP_RIGHTS_RO;
    p.grants[1].host[0] = '\0';
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "grants[1].host: expected a path, got \"\"");
    strcpy(p.grants[1].host, "/h");
    assert_int_equal(policy_validate(&p, err, sizeof err), 0);
    p.ngrants = POLICY_MAX_GRANTS + 1;
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "grants: 33 grants, at most 32");
    policy_defaults(&p);
    memset(p.job_id, 'x', sizeof p.job_id);
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "job_id: not NUL-terminated");
    policy_defaults(&p);
    strcpy(p.cwd, "/a/");
    assert_int_equal(policy_validate(&p, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "cwd: guest path \"/a/\" has a trailing \"/\""));
}

static void test_sandbox_write_json(void **state)
{
    (void)state;
    struct policy p;
    parse_ok(&p, sandbox);
    p.syscalls.allow[1000 / 64] |= 1ull << (1010 % 64); /* a number without a name */
    strcpy(p.job_id, "j");
    char *s = write_json(&p, 2);
    json_error_t e;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        fail_msg("policy_write_json is not JSON (%d:%d %s):\n%s", e.line, e.column, e.text, s);
    json_t *sc = json_object_get(j, "syscalls");
    assert_string_equal(json_string_value(json_object_get(sc, "profile")), "deterministic");
    assert_string_equal(json_string_value(json_object_get(sc, "action")), "kill");
    assert_string_equal(json_string_value(json_object_get(sc, "errno")), "EACCES");
    char *allow = json_dumps(json_object_get(sc, "allow"), JSON_COMPACT);
    char *deny = json_dumps(json_object_get(sc, "deny"), JSON_COMPACT);
    assert_string_equal(allow, "[\"exit_group\",\"openat\",\"mseal\",\"isovm_cap_derive\",1010]");
    assert_string_equal(deny, "[\"ptrace\",999]");
    free(allow);
    free(deny);
    json_t *gs = json_object_get(j, "grants");
    assert_int_equal(json_array_size(gs), 4);
    char *g1 = json_dumps(json_array_get(gs, 1), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(g1, "{\"expires_ns\":30000000000,\"guest\":\"/out\",\"host\":\"/srv/out\","
                            "\"rights\":[\"read\",\"write\",\"create\",\"delete\",\"list\",\"stat\",\"seek\","
                            "\"truncate\"]}");
    free(g1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(gs, 3), "host")),
                        "/a b/\xc3\xa9:x");
    assert_string_equal(json_string_value(json_object_get(j, "cwd")), "/data");
    assert_string_equal(json_string_value(json_object_get(j, "audit_path")), "/var/log/job.audit");
    assert_string_equal(json_string_value(json_object_get(j, "control_path")), "/run/isovm/job.sock");
    assert_string_equal(json_string_value(json_object_get(j, "job_id")), "j");
    assert_int_equal(json_integer_value(json_object_get(j, "seed")), 42);
    json_decref(j);
    /* the grants at the indent: one per line */
    assert_non_null(strstr(s, "\n    \"grants\": [\n      {\"guest\": \"/data\", "));
    assert_non_null(strstr(s, "\"expires_ns\": 0}\n    ],\n"));
    free(s);

    /* strings set directly are escaped: quotes, backslashes, control characters, bad UTF-8 */
    policy_defaults(&p);
    p.ngrants = 1;
    strcpy(p.grants[0].guest, "/q\"\\");
    strcpy(p.grants[0].host, "/h\x01\n\xff\xc3");
    p.grants[0].rights = CAP_R_READ;
    strcpy(p.audit_path, "a\"b");
    p.syscalls.errno_value = 4000; /* no name: a number */
    s = write_json(&p, 0);
    j = json_loads(s, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        fail_msg("policy_write_json is not JSON (%d:%d %s):\n%s", e.line, e.column, e.text, s);
    gs = json_object_get(j, "grants");
    assert_string_equal(json_string_value(json_object_get(json_array_get(gs, 0), "guest")), "/q\"\\");
    assert_string_equal(json_string_value(json_object_get(json_array_get(gs, 0), "host")),
                        "/h\x01\n\xc3\xbf\xc3\x83"); /* invalid bytes as \u00XX (json_str.h) */
    assert_string_equal(json_string_value(json_object_get(j, "audit_path")), "a\"b");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "syscalls"), "errno")), 4000);
    json_decref(j);
    free(s);
    /* the effective errno when none is given: ENOSYS under the default profile, else EPERM */
    policy_defaults(&p);
    s = write_json(&p, 0);
    assert_non_null(strstr(s, "\"errno\": \"ENOSYS\""));
    free(s);
    p.syscalls.profile = SCP_NONE;
    s = write_json(&p, 0);
    assert_non_null(strstr(s, "\"errno\": \"EPERM\""));
    free(s);
}

static void test_syscall_names(void **state)
{
    (void)state;
    assert_int_equal(syscall_nr_by_name("read"), 0);
    assert_int_equal(syscall_nr_by_name("openat"), 257);
    assert_int_equal(syscall_nr_by_name("exit_group"), 231);
    assert_int_equal(syscall_nr_by_name("rseq"), 334);
    assert_int_equal(syscall_nr_by_name("pidfd_send_signal"), 424);
    assert_int_equal(syscall_nr_by_name("clone3"), 435);
    assert_int_equal(syscall_nr_by_name("futex_waitv"), 449);
    assert_int_equal(syscall_nr_by_name("mseal"), 462);
    assert_int_equal(syscall_nr_by_name("isovm_cap_derive"), 1000);
    assert_int_equal(syscall_nr_by_name("isovm_cap_revoke"), 1001);
    assert_int_equal(syscall_nr_by_name("isovm_cap_info"), 1002);
    assert_int_equal(syscall_nr_by_name("nope"), -ENOENT);
    assert_int_equal(syscall_nr_by_name(""), -ENOENT);
    assert_int_equal(syscall_nr_by_name("READ"), -ENOENT);
    assert_string_equal(syscall_name_any(0), "read");
    assert_string_equal(syscall_name_any(60), "exit");
    assert_string_equal(syscall_name_any(1002), "isovm_cap_info");
    assert_null(syscall_name_any(335)); /* the gap before the common numbers */
    assert_null(syscall_name_any(999));
    assert_null(syscall_name_any(UINT32_MAX));
    /* every number 0..334 and 424..462 has a name, and each name gives its number back */
    unsigned named = 0;
    for (unsigned nr = 0; nr < 2000; nr++) {
        const char *name = syscall_name_any(nr);
        if ((nr <= 334 || (nr >= 424 && nr <= 462)) && !name)
            fail_msg("syscall %u has no name", nr);
        if (name) {
            named++;
            assert_int_equal(syscall_nr_by_name(name), (int)nr);
        }
    }
    assert_true(named >= 335 + 39 + 3);
    assert_string_equal(syscall_name_suggest("opnat"), "openat");
    assert_string_equal(syscall_name_suggest("exitgroup"), "exit_group");
    assert_null(syscall_name_suggest("completely_unknown_thing"));
}

static void test_locate_arrays(void **state)
{
    (void)state;
    const char *t = "{\"a\": [1, {\"cpu\": 5}, [7, \"x\"]],\n"
                    " \"grants\": [\n  {\"guest\": \"/d\"},\n  {\"host\": \"/h\", \"guest\": \"/e\"}\n ]}";
    size_t n = strlen(t);
    int line = 0, col = 0;
    assert_int_equal(policy_locate(t, n, "a[1].cpu", &line, &col), 0);
    assert_int_equal(line, 1);
    assert_int_equal(col, 19);
    assert_int_equal(policy_locate_key(t, n, "a[1].cpu", &line, &col), 0);
    assert_int_equal(col, 12);
    assert_int_equal(policy_locate(t, n, "a[0]", &line, &col), 0);
    assert_int_equal(col, 8);
    assert_int_equal(policy_locate(t, n, "a[2][1]", &line, &col), 0);
    assert_int_equal(col, 27);
    assert_int_equal(policy_locate_key(t, n, "a[2]", &line, &col), 0); /* an element: its value */
    assert_int_equal(col, 23);
    assert_int_equal(policy_locate(t, n, "grants[1].guest", &line, &col), 0);
    assert_int_equal(line, 4);
    assert_int_equal(col, 27);
    assert_int_equal(policy_locate(t, n, "grants[0]", &line, &col), 0);
    assert_int_equal(line, 3);
    assert_int_equal(col, 3);
    assert_int_equal(policy_locate(t, n, "grants[2]", &line, &col), -ENOENT);
    assert_int_equal(policy_locate(t, n, "grants[0].host", &line, &col), -ENOENT);
    assert_int_equal(policy_locate(t, n, "grants.guest", &line, &col), -ENOENT);
    assert_int_equal(policy_locate(t, n, "grants[x]", &line, &col), -ENOENT);
    assert_int_equal(policy_locate(t, n, "grants[1", &line, &col), -ENOENT);
    assert_int_equal(policy_locate(t, n, "grants[1]x", &line, &col), -ENOENT);
    assert_int_equal(policy_locate(t, n, "a[1]cpu", &line, &col), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_parse_on_top),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_locate),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_set_after_file),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_write_json),
        cmocka_unit_test(test_sandbox_fields),
        cmocka_unit_test(test_sandbox_replace),
        cmocka_unit_test(test_sandbox_malformed),
        cmocka_unit_test(test_sandbox_set),
        cmocka_unit_test(test_add_grant),
        cmocka_unit_test(test_sandbox_validate),
        cmocka_unit_test(test_sandbox_write_json),
        cmocka_unit_test(test_syscall_names),
        cmocka_unit_test(test_locate_arrays),
        cmocka_unit_test_setup_teardown(test_load, files_setup, files_teardown),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL) ? 1 : 0;
}
