/* Audit log and control socket: JSON escaping of hostile paths, the line format (parsed back
 * with jansson), denial counting, control requests and the socket server end to end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "firmware/abi.h"
#include "vmm/caps/audit.h"
#include "vmm/caps/grants.h"
#include "vmm/core/guest_mem.h"
#include "vmm/run/control.h"
#include "cli/control_client.h"
#include "job_fixture.h"
#include "lib/json_str.h"

/* ---- JSON strings -------------------------------------------------------------------------- */

static char *escape(const char *s, size_t len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    json_put_string(f, s, len);
    fclose(f);
    return buf;
}

/* The escaped form parses as JSON (jansson, strict) to `want` (want_len bytes). */
static void assert_roundtrip(const char *s, size_t len, const char *want, size_t want_len)
{
    char *lit = escape(s, len);
    char doc[8192];
    snprintf(doc, sizeof doc, "{\"s\":%s}", lit);
    json_error_t err;
    json_t *o = json_loads(doc, JSON_ALLOW_NUL, &err);
    if (!o)
        fail_msg("not valid JSON: %s (%s)", lit, err.text);
    json_t *v = json_object_get(o, "s");
    assert_int_equal(json_string_length(v), want_len);
    assert_memory_equal(json_string_value(v), want, want_len);
    json_decref(o);
    free(lit);
}

#define RT_SAME(lit) assert_roundtrip(lit, sizeof lit - 1, lit, sizeof lit - 1)

static void test_json_escaping(void **state)
{
    (void)state;
    RT_SAME("/data/plain.txt");
    RT_SAME("quote\" back\\slash /slash");
    RT_SAME("new\nline\rcr\ttab\bbs\fff");
    RT_SAME("\x01\x02\x1f\x7f ctl");
    RT_SAME("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");        /* é € 😀 */
    RT_SAME("\xe2\x80\xa8 line sep \xe2\x80\xa9");                 /* U+2028, U+2029 */
    assert_roundtrip("a\0b", 3, "a\0b", 3);                         /* a NUL byte */
    /* invalid bytes come back as U+00XX (here U+00FF, U+0080, U+00C3) */
    assert_roundtrip("\xff", 1, "\xc3\xbf", 2);
    assert_roundtrip("x\x80y", 3, "x\xc2\x80y", 4);
    assert_roundtrip("\xc3", 1, "\xc3\x83", 2);                     /* truncated sequence */
    assert_roundtrip("\xc0\xaf", 2, "\xc3\x80\xc2\xaf", 4);         /* overlong '/' */
    assert_roundtrip("\xed\xa0\x80", 3, "\xc3\xad\xc2\xa0\xc2\x80", 6); /* a surrogate */
    assert_roundtrip("\xf4\x90\x80\x80", 4, "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80", 8); /* > 10FFFF */

    char *lit = escape("\"\\\n\x01\xff\xe2\x80\xa8", 8);
    assert_string_equal(lit, "\"\\\"\\\\\\n\\u0001\\u00ff\\u2028\"");
    free(lit);
    lit = escape("/a/b", 4);
    assert_string_equal(lit, "\"/a/b\"");
    free(lit);

    /* every single byte and every pair of bytes: always valid JSON */
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b += (a < 0x80 ? 37 : 1)) {
            char in[3] = { (char)a, (char)b, (char)0xe2 };
            char *l = escape(in, 3);
            char doc[64];
            snprintf(doc, sizeof doc, "[%s]", l);
            json_t *o = json_loads(doc, JSON_ALLOW_NUL, NULL);
            if (!o)
                fail_msg("bytes %02x %02x e2: invalid JSON %s", a, b, l);
            json_decref(o);
            free(l);
        }
    }
}

/* ---- the log ----------------------------------------------------------------------------- */

struct logfix {
    struct job *job;
    char dir[64];
    char path[96];
};

static int log_setup(void **state)
{
    struct logfix *lf = calloc(1, sizeof *lf);
    strcpy(lf->dir, "/tmp/isovm-test-audit.XXXXXX");
    assert_non_null(mkdtemp(lf->dir));
    snprintf(lf->path, sizeof lf->path, "%s/audit.log", lf->dir);
    lf->job = fix_job_new();
    lf->job->start_ns = mono_ns();
    strcpy(lf->job->job_id, "job-\"7\"");
    strcpy(lf->job->policy.audit_path, lf->path);
    *state = lf;
    return 0;
}

static int log_teardown(void **state)
{
    struct logfix *lf = *state;
    audit_close(lf->job);
    fix_job_free(lf->job);
    unlink(lf->path);
    char sock[128];
    snprintf(sock, sizeof sock, "%s/control.sock", lf->dir);
    unlink(sock);
    snprintf(sock, sizeof sock, "%s/plain", lf->dir);
    unlink(sock);
    snprintf(sock, sizeof sock, "%s/in", lf->dir); /* test_log_refused_open_flood's grant */
    rmdir(sock);
    rmdir(lf->dir);
    free(lf);
    return 0;
}

/* Every line of the log, parsed (each must be one valid JSON object). */
static json_t *read_log(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    json_t *lines = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        assert_true(line[n - 1] == '\n');
        json_error_t err;
        json_t *o = json_loadb(line, (size_t)n, 0, &err);
        if (!o || !json_is_object(o))
            fail_msg("audit line is not a JSON object: %s (%s)", line, err.text);
        json_array_append_new(lines, o);
    }
    free(line);
    fclose(f);
    return lines;
}

static const char *sget(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_int_t iget(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* The line's common fields are there and well formed. */
static void assert_common(json_t *o, const char *event)
{
    const char *t = sget(o, "time");
    assert_non_null(t);
    /* 2026-11-29T12:34:56.123456789Z */
    assert_int_equal(strlen(t), 30);
    assert_true(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[29] == 'Z');
    assert_true(json_is_integer(json_object_get(o, "t_ns")));
    assert_true(iget(o, "t_ns") >= 0);
    assert_string_equal(sget(o, "job"), "job-\"7\"");
    assert_string_equal(sget(o, "event"), event);
}

static const char hostile[] = "/data/we\"ird\\ \n\x01\xff\xc3(";
static const char hostile_decoded[] = "/data/we\"ird\\ \n\x01\xc3\xbf\xc3\x83(";

static void test_log_format(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    assert_int_equal(audit_open(job), 0);
    struct stat st;
    assert_int_equal(stat(lf->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* a grant, a directory opened beneath it with a hostile name, an attenuated copy */
    int g = cap_create(job->caps, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_RIGHTS_ALL, 0, -1,
                       "/data");
    assert_true(g >= 0);
    audit_cap(job, "grant", (uint32_t)g, -1, UINT64_MAX, "policy");
    int o = cap_create(job->caps, (uint32_t)g, CAP_FILE, CAP_FROM_OPEN, CAP_RIGHTS_RO, 0, -1,
                       hostile);
    assert_true(o >= 0);
    audit_cap(job, "derive", (uint32_t)o, 3, 257, "job");
    int d = cap_create(job->caps, (uint32_t)o, CAP_FILE, CAP_FROM_DERIVE, CAP_R_READ, 0, -1,
                       hostile);
    assert_true(d >= 0);
    audit_cap(job, "derive", (uint32_t)d, 4, ISOVM_SYS_CAP_DERIVE, "job");
    pthread_mutex_lock(&job->lock);
    audit_deny(job, DENY_RIGHTS, 1, EBADF, (uint32_t)d, NULL);
    audit_deny(job, DENY_OUTSIDE, 257, ENOENT, CAP_NONE, "/etc/pass\"wd\n");
    audit_deny(job, DENY_SYSCALL, 999, EPERM, CAP_NONE, NULL);
    audit_syscall_logged(job, 39);
    pthread_mutex_unlock(&job->lock);
    audit_close(job);
    assert_int_equal(job->stats.denials[DENY_RIGHTS], 1);
    assert_int_equal(job->stats.denials[DENY_OUTSIDE], 1);
    assert_int_equal(job->stats.denials[DENY_SYSCALL], 1);
    assert_int_equal(job->stats.filter_logged, 1);

    json_t *lines = read_log(lf->path);
    /* 3 console grants at open, then the 7 events */
    assert_int_equal(json_array_size(lines), 10);
    for (size_t i = 0; i < 3; i++) {
        json_t *l = json_array_get(lines, i);
        assert_common(l, "grant");
        assert_string_equal(sget(l, "by"), "policy");
        assert_string_equal(sget(l, "object"), "console");
        assert_int_equal(json_array_size(json_object_get(l, "chain")), 1);
    }
    assert_string_equal(sget(json_array_get(lines, 0), "console"), "stdin");
    assert_string_equal(sget(json_array_get(lines, 2), "console"), "stderr");

    json_t *grant = json_array_get(lines, 3);
    assert_common(grant, "grant");
    assert_int_equal(iget(grant, "cap"), 4);
    assert_string_equal(sget(grant, "path"), "/data");
    assert_null(json_object_get(grant, "syscall"));
    assert_null(json_object_get(grant, "fd"));
    assert_int_equal(json_array_size(json_object_get(grant, "rights")), CAP_RIGHTS_COUNT);

    json_t *open = json_array_get(lines, 4);
    assert_common(open, "derive");
    assert_int_equal(iget(open, "cap"), 5);
    assert_int_equal(iget(open, "fd"), 3);
    assert_string_equal(sget(open, "syscall"), "openat");
    assert_string_equal(sget(open, "by"), "job");
    assert_string_equal(sget(open, "path"), hostile_decoded);

    json_t *der = json_array_get(lines, 5);
    assert_common(der, "derive");
    assert_string_equal(sget(der, "syscall"), "isovm_cap_derive");
    json_t *rights = json_object_get(der, "rights");
    assert_int_equal(json_array_size(rights), 1);
    assert_string_equal(json_string_value(json_array_get(rights, 0)), "read");
    json_t *chain = json_object_get(der, "chain");
    assert_int_equal(json_array_size(chain), 3);
    static const char *const hows[3] = { "grant", "open", "derive" };
    for (size_t i = 0; i < 3; i++) {
        json_t *link = json_array_get(chain, i);
        assert_int_equal(iget(link, "cap"), 4 + (json_int_t)i);
        assert_string_equal(sget(link, "how"), hows[i]);
        assert_true(json_is_array(json_object_get(link, "rights")));
    }
    assert_string_equal(sget(json_array_get(chain, 0), "path"), "/data");
    assert_string_equal(sget(json_array_get(chain, 2), "path"), hostile_decoded);

    json_t *deny = json_array_get(lines, 6);
    assert_common(deny, "deny");
    assert_string_equal(sget(deny, "kind"), "rights");
    assert_string_equal(sget(deny, "errno"), "EBADF");
    assert_string_equal(sget(deny, "syscall"), "write");
    assert_int_equal(iget(deny, "cap"), 6);
    assert_int_equal(json_array_size(json_object_get(deny, "chain")), 3);

    json_t *outside = json_array_get(lines, 7);
    assert_common(outside, "deny");
    assert_string_equal(sget(outside, "kind"), "outside-grants");
    assert_string_equal(sget(outside, "errno"), "ENOENT");
    assert_string_equal(sget(outside, "path"), "/etc/pass\"wd\n");
    assert_null(json_object_get(outside, "cap"));
    assert_null(json_object_get(outside, "chain"));

    json_t *filt = json_array_get(lines, 8);
    assert_string_equal(sget(filt, "kind"), "syscall-filter");
    assert_string_equal(sget(filt, "errno"), "EPERM");
    assert_int_equal(iget(filt, "syscall"), 999); /* no name: the number */

    json_t *logged = json_array_get(lines, 9);
    assert_common(logged, "syscall-log");
    assert_string_equal(sget(logged, "syscall"), "getpid");
    json_decref(lines);
}

static void test_denials_counted_without_log(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    job->policy.audit_path[0] = '\0';
    assert_int_equal(audit_open(job), 0);
    assert_null(job->audit);
    audit_deny(job, DENY_REVOKED, 0, EKEYREVOKED, CAP_NONE, NULL);
    audit_deny(job, DENY_REVOKED, 0, EKEYREVOKED, CAP_NONE, NULL);
    audit_cap(job, "derive", 0, 1, 0, "job");
    assert_int_equal(job->stats.denials[DENY_REVOKED], 2);
    assert_int_equal(access(lf->path, F_OK), -1);
}

static void test_log_open_errors(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    snprintf(job->policy.audit_path, sizeof job->policy.audit_path, "%s/no/such/dir/log",
             lf->dir);
    assert_int_equal(audit_open(job), -ENOENT);
    assert_null(job->audit);
    /* appends to an existing log, keeping its lines */
    FILE *f = fopen(lf->path, "w");
    fputs("{\"earlier\":1}\n", f);
    fclose(f);
    strcpy(job->policy.audit_path, lf->path);
    assert_int_equal(audit_open(job), 0);
    audit_close(job);
    json_t *lines = read_log(lf->path);
    assert_int_equal(json_array_size(lines), 4);
    assert_int_equal(iget(json_array_get(lines, 0), "earlier"), 1);
    json_decref(lines);
}

static void test_log_write_error_not_fatal(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    if (access("/dev/full", W_OK) != 0)
        skip();
    strcpy(job->policy.audit_path, "/dev/full");
    assert_int_equal(audit_open(job), 0); /* the grants at open fail to write: reported once */
    for (int i = 0; i < 100; i++)
        audit_deny(job, DENY_RIGHTS, 0, EACCES, CAP_NONE, "/x");
    assert_int_equal(job->stats.denials[DENY_RIGHTS], 100);
    audit_close(job);
}

/* ---- bounds: path length, repeated denials, the byte budget (issue 12, finding 7) ---------- */

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* The finding, through the syscall path: a job with a read-only grant made 300 refused opens of
 * a 4 KiB path of control bytes, and the VMM wrote 7.4 MB of audit log (each byte six in JSON).
 * Now a line shows 256 bytes of a path, and past 10 a second the refusals are only counted. */
static void test_log_refused_open_flood(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    struct open_how how = { .flags = O_PATH | O_CLOEXEC };
    long probe = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    if (probe < 0 && errno == ENOSYS)
        skip(); /* valgrind (3.19) has no openat2, which resolves every path beneath a grant */
    close((int)probe);
    char in[128];
    snprintf(in, sizeof in, "%s/in", lf->dir);
    assert_int_equal(mkdir(in, 0755), 0);
    struct grant *g = &job->policy.grants[job->policy.ngrants++];
    strcpy(g->guest, "/in");
    strcpy(g->host, in);
    g->rights = CAP_RIGHTS_RO;
    assert_int_equal(grants_open(job), 0);
    assert_int_equal(audit_open(job), 0);
    const uint64_t gva = 0x200000;
    fix_map(job, gva, 2 * FIX_PG, GPERM_R | GPERM_W);
    char *path = (char *)fix_host(job, gva);
    memcpy(path, "/in/", 4);
    memset(path + 4, 1, 4090);
    path[4094] = '\0';
    for (int i = 0; i < 300; i++)
        assert_int_equal(SC(job, sys_openat, (uint64_t)(uint32_t)AT_FDCWD, gva,
                            O_WRONLY | O_CREAT, 0644), -EACCES);
    audit_close(job);
    assert_int_equal(job->stats.denials[DENY_RIGHTS], 300);
    off_t size = file_size(lf->path);
    if (size > 64 * 1024)
        fail_msg("300 refused opens wrote %lld bytes of audit log", (long long)size);
    json_t *lines = read_log(lf->path);
    size_t i;
    json_t *l;
    unsigned denies = 0, suppressed = 0;
    json_array_foreach(lines, i, l) {
        if (!strcmp(sget(l, "event"), "deny")) {
            denies++;
            assert_int_equal(strlen(sget(l, "path")), AUDIT_PATH_MAX);
            assert_int_equal(iget(l, "path_bytes"), 4094);
        } else if (!strcmp(sget(l, "event"), "suppressed")) {
            suppressed += (unsigned)iget(l, "count");
            assert_string_equal(sget(l, "kind"), "rights");
            assert_string_equal(sget(l, "syscall"), "openat");
        }
    }
    /* the host is slow at times: a window may end during the loop, never more than a few */
    assert_true(denies >= AUDIT_BURST && denies <= 4 * AUDIT_BURST);
    assert_int_equal(denies + suppressed, 300);
    assert_int_equal(job->stats.audit_denials_suppressed, suppressed);
    json_decref(lines);
}

/* Guest paths in lines are cut to AUDIT_PATH_MAX bytes at a character boundary, with the whole
 * length in path_bytes; shorter ones are whole, without it. Chains are cut the same way. */
static void test_log_paths_cut(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    char p[600];
    memset(p, 'a', 255);
    memcpy(p + 255, "\xc3\xa9", 3); /* "é" would end at byte 257 */
    assert_int_equal(audit_path_shown(p, 257), 255);
    assert_int_equal(audit_path_shown(p, 256), 256); /* 256 bytes: whole, even a cut "é" */
    memset(p, 'a', 256);
    assert_int_equal(audit_path_shown(p, 300), 256);
    p[255] = '\xff'; /* an invalid byte counts alone */
    assert_int_equal(audit_path_shown(p, 300), 256);
    for (int i = 0; i < 300; i++)
        memcpy(p + 2 * i, "\xc3\xa9", 2); /* 600 bytes of "é" */
    assert_int_equal(audit_path_shown(p, 600), 256);
    p[0] = 'x'; /* then 0xa9 alone (invalid), then "é" from byte 2: 256 */
    assert_int_equal(audit_path_shown(p, 600), 256);
    for (int i = 0; i < 299; i++)
        memcpy(p + 1 + 2 * i, "\xc3\xa9", 2); /* "x" and "é"s: the 128th would end at 257 */
    assert_int_equal(audit_path_shown(p, 599), 255);

    assert_int_equal(audit_open(job), 0);
    char longp[1200];
    memset(longp, 'q', sizeof longp);
    memcpy(longp, "/data/", 6);
    longp[sizeof longp - 1] = '\0';
    int gr = cap_create(job->caps, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_RIGHTS_RO, 0, -1,
                        "/data");
    int o = cap_create(job->caps, (uint32_t)gr, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1,
                       longp);
    assert_true(gr >= 0 && o >= 0);
    audit_cap(job, "derive", (uint32_t)o, 3, 257, "job");
    audit_deny(job, DENY_OUTSIDE, 257, ENOENT, CAP_NONE, "/etc/short");
    audit_close(job);
    json_t *lines = read_log(lf->path);
    json_t *der = json_array_get(lines, 3);
    assert_string_equal(sget(der, "event"), "derive");
    assert_int_equal(strlen(sget(der, "path")), AUDIT_PATH_MAX);
    assert_memory_equal(sget(der, "path"), longp, AUDIT_PATH_MAX);
    assert_int_equal(iget(der, "path_bytes"), sizeof longp - 1);
    json_t *link = json_array_get(json_object_get(der, "chain"), 1);
    assert_int_equal(strlen(sget(link, "path")), AUDIT_PATH_MAX);
    assert_int_equal(iget(link, "path_bytes"), sizeof longp - 1);
    json_t *root = json_array_get(json_object_get(der, "chain"), 0);
    assert_null(json_object_get(root, "path_bytes"));
    json_t *deny = json_array_get(lines, 4);
    assert_string_equal(sget(deny, "path"), "/etc/short");
    assert_null(json_object_get(deny, "path_bytes"));
    json_decref(lines);
}

/* AUDIT_BURST denials of a kind and syscall a second in full; the rest counted, then summed up
 * in one "suppressed" line when the window ends; other pairs have their own windows. */
static void test_log_denials_rate_limited(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    assert_int_equal(audit_open(job), 0);
    pthread_mutex_lock(&job->lock);
    for (int i = 0; i < 50; i++)
        audit_deny(job, DENY_RIGHTS, 257, EACCES, CAP_NONE, "/in/x");
    for (int i = 0; i < 12; i++)
        audit_deny(job, DENY_RIGHTS, 0, EBADF, CAP_NONE, NULL); /* another syscall */
    for (int i = 0; i < 3; i++)
        audit_deny(job, DENY_OUTSIDE, 257, ENOENT, CAP_NONE, "/etc/x"); /* another kind */
    pthread_mutex_unlock(&job->lock);
    assert_int_equal(job->stats.denials[DENY_RIGHTS], 62);
    assert_int_equal(job->stats.audit_denials_suppressed, 40 + 2);
    /* a window ends: its counter line, and the next denial is written in full again */
    struct timespec d = { 1, 50000000 };
    nanosleep(&d, NULL);
    pthread_mutex_lock(&job->lock);
    audit_deny(job, DENY_RIGHTS, 257, EACCES, CAP_NONE, "/in/y");
    pthread_mutex_unlock(&job->lock);
    audit_close(job); /* nothing left to sum up: no more lines */
    json_t *lines = read_log(lf->path);
    size_t n = json_array_size(lines);
    /* 3 grants, 10 + 10 + 3 denials, 2 counters, 1 denial */
    assert_int_equal(n, 3 + 23 + 2 + 1);
    json_t *c1 = json_array_get(lines, 26), *c2 = json_array_get(lines, 27);
    assert_string_equal(sget(c1, "event"), "suppressed");
    assert_string_equal(sget(c2, "event"), "suppressed");
    json_t *openat = !strcmp(sget(c1, "syscall"), "openat") ? c1 : c2;
    json_t *read = openat == c1 ? c2 : c1;
    assert_int_equal(iget(openat, "count"), 40);
    assert_string_equal(sget(openat, "kind"), "rights");
    assert_string_equal(sget(openat, "by"), "job");
    assert_true(iget(openat, "first_ns") <= iget(openat, "last_ns"));
    assert_true(iget(openat, "last_ns") < iget(openat, "t_ns"));
    assert_string_equal(sget(read, "syscall"), "read");
    assert_int_equal(iget(read, "count"), 2);
    json_t *last = json_array_get(lines, 28);
    assert_string_equal(sget(last, "event"), "deny");
    assert_string_equal(sget(last, "path"), "/in/y");
    json_decref(lines);
    assert_int_equal(job->stats.audit_lines_written, n);
    assert_int_equal(job->stats.audit_bytes_written, file_size(lf->path));
    assert_int_equal(job->stats.audit_lines_dropped, 0);
}

/* More kind and syscall pairs at once than windows: the oldest window is summed up early. */
static void test_log_many_windows(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    assert_int_equal(audit_open(job), 0);
    pthread_mutex_lock(&job->lock);
    for (uint64_t nr = 0; nr < AUDIT_WINDOWS + 8; nr++)
        for (int i = 0; i < 11; i++)
            audit_deny(job, DENY_SYSCALL, nr, EPERM, CAP_NONE, NULL);
    pthread_mutex_unlock(&job->lock);
    audit_close(job);
    json_t *lines = read_log(lf->path);
    size_t i;
    json_t *l;
    uint64_t denies = 0, counted = 0;
    json_array_foreach(lines, i, l) {
        denies += !strcmp(sget(l, "event"), "deny");
        if (!strcmp(sget(l, "event"), "suppressed"))
            counted += (uint64_t)iget(l, "count");
    }
    assert_int_equal(denies, (AUDIT_WINDOWS + 8) * 10);
    assert_int_equal(counted, AUDIT_WINDOWS + 8);
    json_decref(lines);
}

/* audit_max_bytes: the first line that does not fit and every later one are dropped; the last
 * line says how many; the report's counters agree with the file. 0: no limit. */
static void test_log_max_bytes(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    job->policy.audit_max_bytes = 4096;
    assert_int_equal(audit_open(job), 0);
    int gr = cap_create(job->caps, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_RIGHTS_RO, 0, -1,
                        "/data");
    assert_true(gr >= 0);
    for (int i = 0; i < 100; i++)
        audit_cap(job, "grant", (uint32_t)gr, -1, UINT64_MAX, "policy");
    uint64_t written = job->stats.audit_lines_written, dropped = job->stats.audit_lines_dropped;
    assert_true(written > 3 && dropped > 0 && written + dropped == 103);
    /* a small line after the first drop is dropped too: the log is a prefix of the events */
    audit_syscall_logged(job, 39);
    assert_int_equal(job->stats.audit_lines_dropped, dropped + 1);
    off_t before = file_size(lf->path);
    assert_true(before <= 4096);
    assert_int_equal(job->stats.audit_bytes_written, before);
    audit_end(job);
    audit_end(job); /* once */
    audit_close(job);
    json_t *lines = read_log(lf->path);
    json_t *last = json_array_get(lines, json_array_size(lines) - 1);
    assert_string_equal(sget(last, "event"), "dropped");
    assert_string_equal(sget(last, "by"), "policy");
    assert_int_equal(iget(last, "lines"), dropped + 1);
    assert_int_equal(iget(last, "bytes"), job->stats.audit_bytes_dropped);
    assert_int_equal(iget(last, "limit_bytes"), 4096);
    assert_int_equal(json_array_size(lines), written + 1);
    assert_true(file_size(lf->path) - before < 300); /* the one line past the limit */
    assert_int_equal(job->stats.audit_lines_written, written + 1);
    json_decref(lines);

    /* no limit */
    unlink(lf->path);
    memset(&job->stats, 0, sizeof job->stats);
    job->policy.audit_max_bytes = 0;
    assert_int_equal(audit_open(job), 0);
    for (int i = 0; i < 100; i++)
        audit_cap(job, "grant", (uint32_t)gr, -1, UINT64_MAX, "policy");
    audit_close(job);
    assert_int_equal(job->stats.audit_lines_dropped, 0);
    assert_int_equal(job->stats.audit_lines_written, 104);
    lines = read_log(lf->path);
    assert_int_equal(json_array_size(lines), 104);
    json_decref(lines);
}

/* ---- control requests -------------------------------------------------------------------- */

static char *ask(struct job *job, const char *req)
{
    size_t len;
    pthread_mutex_lock(&job->lock);
    char *a = control_answer(job, req, &len);
    pthread_mutex_unlock(&job->lock);
    assert_non_null(a);
    assert_int_equal(strlen(a), len);
    assert_true(len > 0 && a[len - 1] == '\n');
    return a;
}

static void assert_answer(struct job *job, const char *req, const char *want)
{
    char *a = ask(job, req);
    if (strcmp(a, want))
        fail_msg("'%s' answered '%s', want '%s'", req, a, want);
    free(a);
}

static void test_control_requests(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    assert_int_equal(audit_open(job), 0);
    int g = cap_create(job->caps, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_RIGHTS_RO, 0, -1,
                       "/data");
    int f1 = cap_create(job->caps, (uint32_t)g, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1,
                        "/data/a\nb");
    int f2 = cap_create(job->caps, (uint32_t)f1, CAP_FILE, CAP_FROM_DERIVE, CAP_R_READ, 0, -1,
                        "/data/a\nb");
    int c1 = cap_create(job->caps, job->console_cap[1], CAP_CONSOLE, CAP_FROM_DERIVE,
                        CAP_R_WRITE, mono_ns() + 60000000000ull, 1, NULL);
    assert_true(g >= 0 && f1 >= 0 && f2 >= 0 && c1 >= 0);
    job->caps->caps[c1].keep_fd = true;

    char *a = ask(job, "list");
    /* one JSON object per capability, then ok */
    int objects = 0;
    char *save, *line = strtok_r(a, "\n", &save), *last = NULL;
    for (; line; line = strtok_r(NULL, "\n", &save)) {
        last = line;
        if (!strcmp(line, "ok"))
            break;
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        objects++;
        if (iget(o, "cap") == 7) {
            assert_string_equal(sget(o, "kind"), "console");
            assert_string_equal(sget(o, "console"), "stdout");
            assert_int_equal(iget(o, "parent"), 2);
            assert_true(iget(o, "expires_in_ns") > 0);
            assert_true(json_is_false(json_object_get(o, "revoked")));
        }
        if (iget(o, "cap") == 5)
            assert_string_equal(sget(o, "path"), "/data/a\nb");
        json_decref(o);
    }
    assert_string_equal(last, "ok");
    assert_int_equal(objects, 7);
    free(a);

    assert_answer(job, "revoke 99", "error ENOENT no capability 99\n");
    assert_answer(job, "revoke x", "error EINVAL revoke: expected a capability id (a positive "
                  "decimal number)\n");
    assert_answer(job, "revoke 0", "error EINVAL revoke: expected a capability id (a positive "
                  "decimal number)\n");
    assert_answer(job, "revoke 99999999999999999999", "error EINVAL revoke: expected a "
                  "capability id (a positive decimal number)\n");
    assert_answer(job, "revoke 2", "error EPERM capability 2 is the console itself: revoke a "
                  "copy derived from it instead\n");
    assert_answer(job, "revoke 7", "ok 1\n");
    assert_answer(job, "revoke 7", "ok 0\n");
    assert_answer(job, "revoke-path /nothing", "error ENOENT no grant at /nothing\n");
    assert_answer(job, "revoke-path data", "error EINVAL revoke-path: expected an absolute "
                  "guest path\n");
    assert_answer(job, "revoke-path /data/", "ok 3\n");
    assert_true(job->caps->caps[f2].revoked && job->caps->caps[f1].revoked);
    assert_answer(job, "frobnicate", "error EINVAL unknown request (expected: list, info, "
                  "revoke CAP_ID, revoke-path GUEST_PATH)\n");
    assert_answer(job, "list extra", "error EINVAL unknown request (expected: list, info, "
                  "revoke CAP_ID, revoke-path GUEST_PATH)\n");
    assert_answer(job, "", "error EINVAL unknown request (expected: list, info, "
                  "revoke CAP_ID, revoke-path GUEST_PATH)\n");
    a = ask(job, "info");
    assert_non_null(strstr(a, "\"job\":\"job-\\\"7\\\"\""));
    assert_non_null(strstr(a, "\nok\n"));
    free(a);
    audit_close(job);

    /* the revocations are in the log, by "control", root of each subtree first, full chains */
    json_t *lines = read_log(lf->path);
    int revokes = 0;
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        if (strcmp(sget(l, "event"), "revoke"))
            continue;
        assert_string_equal(sget(l, "by"), "control");
        assert_null(json_object_get(l, "syscall"));
        static const json_int_t order[4] = { 7, 4, 5, 6 };
        assert_int_equal(iget(l, "cap"), order[revokes]);
        json_t *chain = json_object_get(l, "chain");
        assert_int_equal(iget(json_array_get(chain, json_array_size(chain) - 1), "cap"),
                         order[revokes]);
        revokes++;
    }
    assert_int_equal(revokes, 4);
    json_decref(lines);
}

/* ---- the socket -------------------------------------------------------------------------- */

struct server_run {
    struct control_server *s;
    struct job *job;
    volatile int stop;
};

static void *serve(void *arg)
{
    struct server_run *r = arg;
    while (!r->stop) {
        struct pollfd pfd;
        uint64_t deadline;
        control_poll_setup(r->s, &pfd, &deadline);
        int n = poll(&pfd, 1, 20);
        control_step(r->s, r->job, n > 0 ? pfd.revents : 0, mono_ns());
    }
    return NULL;
}

/* Send raw bytes, return the whole answer. */
static char *raw_request(const char *path, const char *bytes, size_t len, bool half_close)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, path);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
    if (half_close)
        shutdown(fd, SHUT_WR);
    static char buf[1 << 16];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    return buf;
}

static int run_cli(const char *const *args)
{
    char *argv[16];
    int argc = 0;
    for (; args[argc]; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    return cap_main(argc, argv);
}

static void test_control_socket(void **state)
{
    struct logfix *lf = *state;
    struct job *job = lf->job;
    char path[128], plain[128];
    snprintf(path, sizeof path, "%s/control.sock", lf->dir);
    snprintf(plain, sizeof plain, "%s/plain", lf->dir);
    struct control_server s, other;
    /* anything but a socket is never replaced */
    close(open(plain, O_CREAT | O_WRONLY, 0600));
    assert_int_equal(control_listen(&s, plain), -EEXIST);
    assert_int_equal(access(plain, F_OK), 0);
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(control_listen(&s, longp), -ENAMETOOLONG);

    assert_int_equal(control_listen(&s, path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    char tmp[160]; /* bound under a temporary name, listening, then renamed: none left */
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
    /* a live socket is not taken over */
    assert_int_equal(control_listen(&other, path), -EEXIST);

    int c1 = cap_create(job->caps, job->console_cap[1], CAP_CONSOLE, CAP_FROM_DERIVE,
                        CAP_R_WRITE, 0, 1, NULL);
    assert_true(c1 >= 0);
    job->caps->caps[c1].keep_fd = true;

    struct server_run run = { .s = &s, .job = job };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve, &run), 0);
    char *a = raw_request(path, "info\n", 5, false);
    assert_non_null(strstr(a, "\"pid\":"));
    a = raw_request(path, "revoke 99\r\n", 11, false);
    assert_string_equal(a, "error ENOENT no capability 99\n");
    a = raw_request(path, "info", 4, true); /* no newline, but the client closed its side */
    assert_non_null(strstr(a, "\nok\n"));
    a = raw_request(path, "in\0fo\n", 6, false);
    assert_string_equal(a, "error EINVAL NUL byte in the request\n");
    char big[CONTROL_REQUEST_MAX + 10];
    memset(big, 'x', sizeof big);
    a = raw_request(path, big, sizeof big, false);
    assert_string_equal(a, "error EINVAL request line longer than 4095 bytes\n");

    /* a silent client is dropped after the idle timeout; the next one is served */
    int idle = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, path);
    assert_int_equal(connect(idle, (struct sockaddr *)&addr, sizeof addr), 0);
    uint64_t t0 = mono_ns();
    a = raw_request(path, "list\n", 5, false);
    assert_true(mono_ns() - t0 >= CONTROL_IDLE_NS / 2);
    assert_non_null(strstr(a, "\nok\n"));
    char c;
    assert_int_equal(read(idle, &c, 1), 0); /* closed by the server */
    close(idle);

    /* the CLI; the table never prints the guest's control characters raw */
    int hp = cap_create(job->caps, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_R_LIST, 0, -1,
                        "/d\x1b[31m\n\xc2\x9b\\");
    assert_true(hp >= 0);
    char table[160];
    snprintf(table, sizeof table, "%s/table", lf->dir);
    fflush(stdout);
    int saved = dup(1), tf = open(table, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    dup2(tf, 1);
    int rc = run_cli((const char *[]){ "cap", "list", "--control", path, NULL });
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(tf);
    assert_int_equal(rc, 0);
    char out[4096] = "";
    FILE *tfp = fopen(table, "r");
    size_t got = fread(out, 1, sizeof out - 1, tfp);
    out[got] = '\0';
    fclose(tfp);
    unlink(table);
    assert_non_null(strstr(out, "/d\\x1b[31m\\x0a\\u009b\\x5c\n"));
    assert_null(strchr(out, '\x1b'));
    assert_non_null(strstr(out, "stdout"));
    assert_int_equal(run_cli((const char *[]){ "cap", "list", "--json", "--control", path,
                                               NULL }), 0);
    assert_int_equal(run_cli((const char *[]){ "cap", "revoke", "--control", path, "99", NULL }),
                     1);
    assert_int_equal(run_cli((const char *[]){ "cap", "revoke", "--control", path, "2", NULL }),
                     1);
    assert_int_equal(run_cli((const char *[]){ "cap", "revoke", "--control", path, "4", NULL }),
                     0);
    assert_true(job->caps->caps[c1].revoked);
    assert_int_equal(run_cli((const char *[]){ "cap", "revoke", "--control", path, "--path",
                                               "/nope", NULL }), 1);
    assert_int_equal(run_cli((const char *[]){ "cap", "revoke", "--control", path, NULL }), 125);
    assert_int_equal(run_cli((const char *[]){ "cap", "revoke", "--control", path, "-3", NULL }),
                     125);
    assert_int_equal(run_cli((const char *[]){ "cap", "revoke", "--control", path, "4", "--path",
                                               "/x", NULL }), 125);
    assert_int_equal(run_cli((const char *[]){ "cap", "list", NULL }), 125);
    assert_int_equal(run_cli((const char *[]){ "cap", "frob", "--control", path, NULL }), 125);
    assert_int_equal(run_cli((const char *[]){ "cap", "list", "--control", plain, NULL }), 125);
    assert_int_equal(run_cli((const char *[]){ "cap", "info", "--control", path, NULL }), 0);
    run.stop = 1;
    pthread_join(th, NULL);
    control_close(&s);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(run_cli((const char *[]){ "cap", "list", "--control", path, NULL }), 125);

    /* a stale socket (no one listening) is replaced */
    int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(stale, (struct sockaddr *)&addr, sizeof addr), 0);
    close(stale);
    assert_int_equal(control_listen(&s, path), 0);
    control_close(&s);
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test_setup_teardown(test_log_format, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_denials_counted_without_log, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_log_open_errors, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_log_write_error_not_fatal, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_log_refused_open_flood, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_log_paths_cut, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_log_denials_rate_limited, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_log_many_windows, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_log_max_bytes, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_control_requests, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_control_socket, log_setup, log_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
