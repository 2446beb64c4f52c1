/* Unit tests for the job file (init/job_file.c, init/job_write.c): valid files and their
 * defaults, escapes, time and seed, shares, the network and names, the writer's round trip, the
 * module tags a job wants, and hostile files (over-long lines, bad escapes, missing, unknown,
 * repeated and misordered keys, NULs, raw control bytes, huge files). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/abi.h"
#include "init/job_file.h"
#include "init/job_write.h"
#include "init/modules_order.h"

#define HEAD "version 1\narg /bin/true\n"
#define ROOT "root /dev/vda squashfs\n"

static int parse(const char *text, size_t len, struct job_spec *s, char *err, size_t errlen)
{
    return job_parse(text, len, s, err, errlen);
}

/* The file must be refused with rc and a message containing want. */
static void refused_n(const char *text, size_t len, int rc_want, const char *want)
{
    struct job_spec s;
    char err[512] = "";
    int rc = parse(text, len, &s, err, sizeof err);
    if (rc != rc_want || !strstr(err, want))
        fail_msg("job_parse of %zu bytes \"%.80s\" = %d \"%s\"; want %d and \"%s\"", len, text, rc,
                 err, rc_want, want);
    assert_null(s.argv);
    assert_null(s.text);
    assert_int_equal(s.argc, 0);
}

static void refused(const char *text, const char *want)
{
    refused_n(text, strlen(text), -EINVAL, want);
}

static void test_minimal(void **state)
{
    (void)state;
    struct job_spec s;
    char err[256];
    const char *t = HEAD ROOT;
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_int_equal(s.version, 1);
    assert_int_equal(s.argc, 1);
    assert_string_equal(s.argv[0], "/bin/true");
    assert_null(s.argv[1]);
    assert_int_equal(s.envc, 0);
    assert_non_null(s.envp);
    assert_null(s.envp[0]);
    assert_string_equal(s.cwd, "/");
    assert_string_equal(s.root_dev, "/dev/vda");
    assert_string_equal(s.root_fstype, "squashfs");
    assert_int_equal(s.overlay, JOB_OVERLAY_NONE);
    assert_int_equal(s.ndisks, 0);
    assert_int_equal(s.max_threads, 0);
    assert_int_equal(s.memory, 0);
    assert_false(s.has_time);
    assert_int_equal(s.time_sec, 0);
    assert_int_equal(s.time_nsec, 0);
    assert_false(s.has_seed);
    job_spec_free(&s);
    assert_null(s.text);
    job_spec_free(&s); /* twice is fine */
    job_spec_free(NULL);
}

static void test_full(void **state)
{
    (void)state;
    struct job_spec s;
    char err[256];
    const char *t = "version 1\n"
                    "arg sh\narg -c\narg cc%20-O2%20-o%20t%20t.c%20&&%20./t\narg \narg 100%25%0a%C3%a9\n"
                    "env PATH=/usr/bin:/bin\nenv EMPTY=\nenv X=a=b\n"
                    "cwd /home/build%20dir\n"
                    "root /dev/vda ext4\n"
                    "overlay disk /dev/vdd ext4\n"
                    "disk /dev/vdb ext4 /data ro\n"
                    "disk /dev/vdc ext2 - rw\n"
                    "max_threads 64\n"
                    "memory 268435456\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_int_equal(s.argc, 5);
    assert_string_equal(s.argv[0], "sh");
    assert_string_equal(s.argv[2], "cc -O2 -o t t.c && ./t");
    assert_string_equal(s.argv[3], "");
    assert_string_equal(s.argv[4], "100%\n\xc3\xa9");
    assert_null(s.argv[5]);
    assert_int_equal(s.envc, 3);
    assert_string_equal(s.envp[1], "EMPTY=");
    assert_string_equal(s.envp[2], "X=a=b");
    assert_null(s.envp[3]);
    assert_string_equal(s.cwd, "/home/build dir");
    assert_string_equal(s.root_fstype, "ext4");
    assert_int_equal(s.overlay, JOB_OVERLAY_DISK);
    assert_string_equal(s.overlay_dev, "/dev/vdd");
    assert_string_equal(s.overlay_fstype, "ext4");
    assert_int_equal(s.ndisks, 2);
    assert_string_equal(s.disks[0].mountpoint, "/data");
    assert_false(s.disks[0].rw);
    assert_null(s.disks[1].mountpoint);
    assert_true(s.disks[1].rw);
    assert_string_equal(s.disks[1].fstype, "ext2");
    assert_int_equal(s.max_threads, 64);
    assert_int_equal(s.memory, 268435456);
    job_spec_free(&s);

    t = HEAD ROOT "overlay tmpfs\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_int_equal(s.overlay, JOB_OVERLAY_TMPFS);
    job_spec_free(&s);
}

#define SEED_LO "000102030405060708090a0b0c0d0e0f" "f0e1d2c3b4a5968778695a4b3c2d1e0f"

static void test_time_seed(void **state)
{
    (void)state;
    struct job_spec s;
    char err[256];
    const char *t = HEAD ROOT "max_threads 8\nmemory 1048576\ntime 1700000000 123456789\n"
                    "seed " SEED_LO "\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_true(s.has_time);
    assert_int_equal(s.time_sec, 1700000000);
    assert_int_equal(s.time_nsec, 123456789);
    assert_true(s.has_seed);
    for (int i = 0; i < 16; i++)
        assert_int_equal(s.seed[i], i);
    assert_int_equal(s.seed[16], 0xf0);
    assert_int_equal(s.seed[31], 0x0f);
    job_spec_free(&s);
    assert_false(s.has_time);
    assert_false(s.has_seed);

    /* either alone; the extremes; upper-case hex, mixed case */
    t = HEAD ROOT "time 0 0\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_true(s.has_time);
    assert_false(s.has_seed);
    assert_int_equal(s.time_sec, 0);
    job_spec_free(&s);
    t = HEAD ROOT "time 4611686018427387904 999999999\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_true(s.time_sec == (int64_t)1 << 62);
    assert_int_equal(s.time_nsec, 999999999);
    job_spec_free(&s);
    t = HEAD ROOT "seed FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFaBcDeF0123456789AbCdEf0123456789\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_false(s.has_time);
    assert_true(s.has_seed);
    assert_int_equal(s.seed[0], 0xff);
    assert_int_equal(s.seed[16], 0xab);
    assert_int_equal(s.seed[17], 0xcd);
    assert_int_equal(s.seed[31], 0x89);
    job_spec_free(&s);
    /* an all-zero seed is a seed */
    t = HEAD ROOT "seed 0000000000000000000000000000000000000000000000000000000000000000\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_true(s.has_seed);
    job_spec_free(&s);
}

static void test_time_seed_refused(void **state)
{
    (void)state;
    /* time */
    refused(HEAD ROOT "time 1 1000000000\n", "line 4: time: 1000000000 is out of range (0..999999999)");
    refused(HEAD ROOT "time 4611686018427387905 0\n", "time: 4611686018427387905 is out of range");
    refused(HEAD ROOT "time 18446744073709551616 0\n", "time: \"18446744073709551616\" is too large");
    refused(HEAD ROOT "time -1 0\n", "time: \"-1\" is not a decimal number");
    refused(HEAD ROOT "time 1 -1\n", "\"-1\" is not a decimal number");
    refused(HEAD ROOT "time +1 0\n", "not a decimal number");
    refused(HEAD ROOT "time 1x 0\n", "not a decimal number");
    refused(HEAD ROOT "time 0x10 0\n", "not a decimal number");
    refused(HEAD ROOT "time 1.5 0\n", "not a decimal number");
    refused(HEAD ROOT "time 1\n", "line 4: time: too few fields (want time SEC NSEC)");
    refused(HEAD ROOT "time 1 2 3\n", "time: too many fields");
    refused(HEAD ROOT "time  1 2\n", "time: too many fields");
    refused(HEAD ROOT "time 1 \n", "time: empty number");
    /* seed */
    refused(HEAD ROOT "seed " SEED_LO "0\n", "line 4: seed: 65 hex digits, want 64 (32 bytes)");
    refused(HEAD ROOT "seed " SEED_LO "00\n", "seed: 66 hex digits, want 64");
    refused(HEAD ROOT "seed 0\n", "seed: 1 hex digits, want 64");
    refused(HEAD ROOT "seed 000102030405060708090a0b0c0d0e0ff0e1d2c3b4a5968778695a4b3c2d1e0\n",
            "seed: 63 hex digits");
    refused(HEAD ROOT "seed " "000102030405060708090a0b0c0d0e0f" "f0e1d2c3b4a5968778695a4b3c2d1eg0" "\n",
            "seed: \"g0\" at column 63 is not two hex digits");
    refused(HEAD ROOT "seed x00102030405060708090a0b0c0d0e0ff0e1d2c3b4a5968778695a4b3c2d1e0f\n",
            "\"x0\" at column 1");
    refused(HEAD ROOT "seed 0x0102030405060708090a0b0c0d0e0ff0e1d2c3b4a5968778695a4b3c2d1e0f\n",
            "\"0x\" at column 1");
    refused(HEAD ROOT "seed " SEED_LO " x\n", "seed: too many fields (want seed HEX)");
    refused(HEAD ROOT "seed\n", "\"seed\" has no value");
    refused(HEAD ROOT "seed %20" SEED_LO "\n", "seed: 65 hex digits");
    /* order, repetition */
    refused(HEAD ROOT "seed " SEED_LO "\ntime 1 0\n", "line 5: time: comes after seed: the keys' order is fixed");
    refused(HEAD ROOT "time 1 0\nmemory 4096\n", "line 5: memory: comes after time");
    refused(HEAD ROOT "seed " SEED_LO "\nmemory 4096\n", "memory: comes after seed");
    refused(HEAD "time 1 0\n" ROOT, "line 4: root: comes after time");
    refused(HEAD ROOT "time 1 0\ntime 2 0\n", "line 5: time: given twice");
    refused(HEAD ROOT "seed " SEED_LO "\nseed " SEED_LO "\n", "line 5: seed: given twice");
    refused(HEAD ROOT "TIME 1 0\n", "unknown key \"TIME\"");
}

static void test_time_seed_round_trip(void **state)
{
    (void)state;
    char *argv[] = {"x", NULL};
    struct job_spec in = {.argv = argv, .argc = 1, .root_dev = "/dev/vda", .root_fstype = "squashfs",
                          .memory = 4096, .has_time = true, .time_sec = ((int64_t)1 << 62),
                          .time_nsec = 999999999, .has_seed = true};
    for (int i = 0; i < ISOVM_JOB_SEED_BYTES; i++)
        in.seed[i] = (uint8_t)(0xff - 7 * i);
    char *text;
    size_t len;
    char err[256];
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), 0);
    assert_non_null(strstr(text, "memory 4096\ntime 4611686018427387904 999999999\nseed fff8f1"));
    struct job_spec out;
    assert_int_equal(job_parse(text, len, &out, err, sizeof err), 0);
    assert_true(out.has_time);
    assert_true(out.time_sec == in.time_sec);
    assert_int_equal(out.time_nsec, in.time_nsec);
    assert_true(out.has_seed);
    assert_memory_equal(out.seed, in.seed, ISOVM_JOB_SEED_BYTES);
    job_spec_free(&out);
    free(text);

    /* neither flag: neither line, whatever the fields hold */
    in.has_time = in.has_seed = false;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), 0);
    assert_null(strstr(text, "time"));
    assert_null(strstr(text, "seed"));
    free(text);

    /* values the parser would refuse are refused by the writer */
    in.has_time = true;
    in.time_sec = -1;
    in.time_nsec = 0;
    text = (char *)1;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_null(text);
    assert_non_null(strstr(err, "time: \"-1\" is not a decimal number"));
    in.time_sec = 0;
    in.time_nsec = 1000000000;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "time: 1000000000 is out of range"));
    in.time_nsec = 0;
    in.time_sec = INT64_MAX;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "out of range"));
}

static void test_shares_net_names(void **state)
{
    (void)state;
    struct job_spec s;
    char err[256];
    const char *t = HEAD ROOT "overlay tmpfs\n"
                    "disk /dev/vdb ext4 /data ro\n"
                    "share /home/user/src rw\nshare /home/user/src/build%20dir ro\nshare /opt ro\n"
                    "share /data/sub rw\n"
                    "net 10.0.2.15 24\n"
                    "host ep0.isovm 10.0.2.100\nhost EP1.isovm 10.0.2.101\nhost x-1.y 0.0.0.0\n"
                    "nameserver 10.0.2.101\n"
                    "memory 4096\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_int_equal(s.nshares, 4);
    assert_string_equal(s.shares[0].mountpoint, "/home/user/src");
    assert_true(s.shares[0].rw);
    assert_string_equal(s.shares[1].mountpoint, "/home/user/src/build dir");
    assert_false(s.shares[1].rw);
    assert_string_equal(s.shares[2].mountpoint, "/opt");
    assert_string_equal(s.shares[3].mountpoint, "/data/sub"); /* below a disk: mounted on it */
    assert_true(s.has_net);
    assert_int_equal(s.net_addr, 0x0a00020f);
    assert_int_equal(s.net_prefix, 24);
    assert_int_equal(s.nhosts, 3);
    assert_string_equal(s.hosts[0].name, "ep0.isovm");
    assert_int_equal(s.hosts[0].addr, 0x0a000264);
    assert_string_equal(s.hosts[1].name, "EP1.isovm");
    assert_int_equal(s.hosts[1].addr, 0x0a000265);
    assert_int_equal(s.hosts[2].addr, 0);
    assert_true(s.has_nameserver);
    assert_int_equal(s.nameserver, 0x0a000265);
    assert_int_equal(s.memory, 4096);
    job_spec_free(&s);
    assert_null(s.shares);
    assert_null(s.hosts);
    assert_false(s.has_net);

    /* none of them: none set */
    t = HEAD ROOT;
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_int_equal(s.nshares, 0);
    assert_null(s.shares);
    assert_false(s.has_net);
    assert_int_equal(s.nhosts, 0);
    assert_false(s.has_nameserver);
    job_spec_free(&s);

    /* the extremes: /32 and /31 (no network or broadcast address), /1, 255 */
    const char *ok[] = {
        HEAD ROOT "net 10.0.2.0 32\n", HEAD ROOT "net 10.0.2.255 31\n", HEAD ROOT "net 10.0.2.15 1\n",
        HEAD ROOT "net 223.255.255.254 8\n", HEAD ROOT "net 1.0.0.1 30\n",
        HEAD ROOT "host a 255.255.255.255\n", HEAD ROOT "host 1a 127.0.0.1\n",
        HEAD ROOT "host a.1b 1.2.3.4\n", HEAD ROOT "nameserver 127.0.0.53\n",
        HEAD ROOT "share /a/.b..c/d. ro\n", HEAD ROOT "share /a%20b%0a rw\n",
        HEAD ROOT "disk /dev/vdb ext4 /data/ ro\nshare /dat ro\nshare /data2 ro\nshare /data/x ro\n",
        HEAD ROOT "share /a/b ro\nshare /a rw\n", /* any order: the init mounts parents first */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (parse(ok[i], strlen(ok[i]), &s, err, sizeof err))
            fail_msg("refused \"%s\": %s", ok[i], err);
        job_spec_free(&s);
    }
}

static void test_shares_refused(void **state)
{
    (void)state;
    refused(HEAD ROOT "share data ro\n", "line 4: share: mount point \"data\" is not an absolute path");
    refused(HEAD ROOT "share / ro\n", "share: mount point \"/\": a share cannot be the root");
    refused(HEAD ROOT "share /a/ ro\n", "mount point \"/a/\" is not normalized");
    refused(HEAD ROOT "share //a ro\n", "mount point \"//a\" is not normalized");
    refused(HEAD ROOT "share /a//b ro\n", "is not normalized");
    refused(HEAD ROOT "share /a/./b ro\n", "is not normalized");
    refused(HEAD ROOT "share /a/.. ro\n", "is not normalized");
    refused(HEAD ROOT "share /. ro\n", "is not normalized");
    refused(HEAD ROOT "share /a,b ro\n", "mount point \"/a,b\" has a ',', which the 9p mount options");
    refused(HEAD ROOT "share /a%2Cb ro\n", "has a ','");
    refused(HEAD ROOT "share /a rx\n", "line 4: share: access \"rx\" is neither ro nor rw");
    refused(HEAD ROOT "share /a RW\n", "access \"RW\"");
    refused(HEAD ROOT "share /a\n", "share: too few fields (want share MOUNTPOINT ro|rw)");
    refused(HEAD ROOT "share /a ro x\n", "share: too many fields");
    refused(HEAD ROOT "share /a ro\nshare /a rw\n", "line 5: share: /a is shared twice");
    refused(HEAD ROOT "disk /dev/vdb ext4 /data ro\nshare /data rw\n",
            "line 5: share: /data is the mount point of the disk /dev/vdb");
    refused(HEAD ROOT "disk /dev/vdb ext4 /data/./x// ro\nshare /data/x rw\n",
            "/data/x is the mount point of the disk /dev/vdb");
    refused(HEAD ROOT "disk /dev/vdb ext4 /data/x ro\nshare /data rw\n",
            "share: /data is above the mount point /data/x of the disk /dev/vdb: the share would hide it");
    refused(HEAD ROOT "share /a ro\ndisk /dev/vdb ext4 /b ro\n", "line 5: disk: comes after share");
    /* no share above the files the init writes, when it writes them */
    refused(HEAD ROOT "share /etc rw\nhost a.b 1.2.3.4\n",
            "the share /etc would hide the job's /etc/hosts (host lines)");
    refused(HEAD ROOT "share /etc ro\nnameserver 1.1.1.1\n",
            "the share /etc would hide the job's /etc/resolv.conf (a nameserver line)");
    refused(HEAD ROOT "share /etc/hosts ro\nhost a.b 1.2.3.4\n", "the share /etc/hosts would hide");
    const char *fine[] = {
        HEAD ROOT "share /etc rw\n", HEAD ROOT "share /etc/ssl ro\nhost a.b 1.2.3.4\nnameserver 1.1.1.1\n",
        HEAD ROOT "share /etc/resolv.conf ro\nhost a.b 1.2.3.4\n", HEAD ROOT "share /etcetera ro\nhost a.b 1.2.3.4\n",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        struct job_spec f;
        char e[256];
        if (parse(fine[i], strlen(fine[i]), &f, e, sizeof e))
            fail_msg("refused \"%s\": %s", fine[i], e);
        job_spec_free(&f);
    }
    refused(HEAD ROOT "net 10.0.2.15 24\nshare /a ro\n", "line 5: share: comes after net");
    /* the longest mount point, and one byte more */
    char t[2 * ISOVM_JOB_SHARE_PATH_MAX];
    int n = snprintf(t, sizeof t, HEAD ROOT "share /");
    memset(t + n, 'a', ISOVM_JOB_SHARE_PATH_MAX - 1);
    n += ISOVM_JOB_SHARE_PATH_MAX - 1;
    snprintf(t + n, sizeof t - (size_t)n, " ro\n");
    struct job_spec s;
    char err[256];
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_int_equal(strlen(s.shares[0].mountpoint), ISOVM_JOB_SHARE_PATH_MAX);
    job_spec_free(&s);
    snprintf(t + n, sizeof t - (size_t)n, "a ro\n");
    refused(t, "share: mount point of 1025 bytes, more than 1024");
}

static void test_net_names_refused(void **state)
{
    (void)state;
    /* addresses */
    static const char *const bad_addr[] = {
        "10.0.2", "10.0.2.15.1", "10.0.2.256", "10.0.2.015", "010.0.2.15", "10.0.2.", ".10.0.2.15",
        "10..2.15", "10.0.2.1a", "a.b.c.d", "10.0.2.-1", "10.0.2.+1", "10.0.2.0015", "1.2.3.4 ",
        "0x0a.0.2.15", "10.0.2.1111", "",
    };
    char t[256], want[128];
    for (size_t i = 0; i < sizeof bad_addr / sizeof bad_addr[0]; i++) {
        snprintf(t, sizeof t, HEAD ROOT "net %s 24\n", bad_addr[i]);
        snprintf(want, sizeof want, "line 4: net: \"%s\" is not a dotted IPv4 address", bad_addr[i]);
        if (bad_addr[i][strlen(bad_addr[i]) - 1 + !*bad_addr[i]] == ' ')
            snprintf(want, sizeof want, "net: too many fields");
        refused(t, want);
        snprintf(t, sizeof t, HEAD ROOT "host h %s\n", bad_addr[i]);
        if (bad_addr[i][0] && bad_addr[i][strlen(bad_addr[i]) - 1] != ' ') {
            snprintf(want, sizeof want, "host: \"%s\" is not a dotted IPv4 address", bad_addr[i]);
            refused(t, want);
            snprintf(t, sizeof t, HEAD ROOT "nameserver %s\n", bad_addr[i]);
            snprintf(want, sizeof want, "nameserver: \"%s\" is not a dotted IPv4 address", bad_addr[i]);
            refused(t, want);
        }
    }
    refused(HEAD ROOT "net 10.0.2.15%20 24\n", "net: \"10.0.2.15 \" is not a dotted IPv4 address");
    /* the guest's own address */
    refused(HEAD ROOT "net 0.1.2.3 24\n", "net: 0.1.2.3 is in 0.0.0.0/8 (\"this network\")");
    refused(HEAD ROOT "net 127.0.0.2 8\n", "net: 127.0.0.2 is a loopback address");
    refused(HEAD ROOT "net 224.0.0.1 24\n", "net: 224.0.0.1 is a multicast, reserved or broadcast address");
    refused(HEAD ROOT "net 255.255.255.255 32\n", "multicast, reserved or broadcast");
    refused(HEAD ROOT "net 10.0.2.0 24\n", "net: 10.0.2.0 is the network address of 10.0.2.0/24");
    refused(HEAD ROOT "net 10.0.2.255 24\n", "net: 10.0.2.255 is the broadcast address of 10.0.2.255/24");
    refused(HEAD ROOT "net 10.0.2.3 30\n", "broadcast address of 10.0.2.3/30");
    /* prefixes */
    refused(HEAD ROOT "net 10.0.2.15 0\n", "net: 0 is out of range (1..32)");
    refused(HEAD ROOT "net 10.0.2.15 33\n", "net: 33 is out of range (1..32)");
    refused(HEAD ROOT "net 10.0.2.15 /24\n", "net: \"/24\" is not a decimal number");
    refused(HEAD ROOT "net 10.0.2.15 255.255.255.0\n", "is not a decimal number");
    refused(HEAD ROOT "net 10.0.2.15/24\n", "net: too few fields (want net ADDR PREFIXLEN)");
    refused(HEAD ROOT "net 10.0.2.15 24 x\n", "net: too many fields");
    refused(HEAD ROOT "net 10.0.2.15 24\nnet 10.0.2.16 24\n", "line 5: net: given twice");
    refused(HEAD ROOT "host a 1.2.3.4\nnet 10.0.2.15 24\n", "line 5: net: comes after host");
    /* hostnames */
    refused(HEAD ROOT "host -a 1.2.3.4\n", "host: \"-a\" is not a hostname: a label starts or ends with '-'");
    refused(HEAD ROOT "host a-.b 1.2.3.4\n", "a label starts or ends with '-'");
    refused(HEAD ROOT "host a.-b 1.2.3.4\n", "a label starts or ends with '-'");
    refused(HEAD ROOT "host a..b 1.2.3.4\n", "host: \"a..b\" is not a hostname: a label of 0 bytes (want 1..63)");
    refused(HEAD ROOT "host .a 1.2.3.4\n", "a label of 0 bytes");
    refused(HEAD ROOT "host a. 1.2.3.4\n", "a label of 0 bytes");
    refused(HEAD ROOT "host a_b 1.2.3.4\n", "host: \"a_b\" is not a hostname: byte 0x5f");
    refused(HEAD ROOT "host a%20b 1.2.3.4\n", "\"a b\" is not a hostname: byte 0x20");
    refused(HEAD ROOT "host \xc3\xa9 1.2.3.4\n", "byte 0xc3");
    refused(HEAD ROOT "host %C3%A9 1.2.3.4\n", "byte 0xc3");
    refused(HEAD ROOT "host 1.2.3.4 1.2.3.4\n", "\"1.2.3.4\" is not a hostname: its last label is all digits");
    refused(HEAD ROOT "host 123 1.2.3.4\n", "its last label is all digits");
    refused(HEAD ROOT "host localhost 10.0.2.100\n", "host: localhost is the init's own line of /etc/hosts");
    refused(HEAD ROOT "host LocalHost 10.0.2.100\n", "localhost is the init's own line");
    refused(HEAD ROOT "host a 1.2.3.4\nhost A 1.2.3.5\n", "line 5: host: A is named twice (as a before)");
    refused(HEAD ROOT "host a\n", "host: too few fields (want host NAME ADDR)");
    refused(HEAD ROOT "host a 1.2.3.4 b\n", "host: too many fields");
    refused(HEAD ROOT "host %20 1.2.3.4\n", "\" \" is not a hostname");
    char label[200];
    snprintf(label, sizeof label, HEAD ROOT "host %064d 1.2.3.4\n", 0);
    memcpy(label + strlen(HEAD ROOT "host "), "a", 1);
    refused(label, "is not a hostname: a label of 64 bytes (want 1..63)");
    /* 63 labels "abc." (252 bytes), then "a": 253 bytes, the longest; "ab": one more */
    char longname[512];
    int n = snprintf(longname, sizeof longname, HEAD ROOT "host ");
    for (int i = 0; i < 63; i++)
        n += snprintf(longname + n, sizeof longname - (size_t)n, "abc.");
    snprintf(longname + n, sizeof longname - (size_t)n, "a 1.2.3.4\n");
    struct job_spec s;
    char err[256];
    assert_int_equal(parse(longname, strlen(longname), &s, err, sizeof err), 0);
    assert_int_equal(strlen(s.hosts[0].name), 253);
    job_spec_free(&s);
    snprintf(longname + n, sizeof longname - (size_t)n, "ab 1.2.3.4\n");
    refused(longname, "host: hostname of 254 bytes (want 1..253)");
    /* nameserver */
    refused(HEAD ROOT "nameserver 0.0.0.0\n", "nameserver: 0.0.0.0 is in 0.0.0.0/8");
    refused(HEAD ROOT "nameserver 239.1.1.1\n", "nameserver: 239.1.1.1 is a multicast");
    refused(HEAD ROOT "nameserver 1.1.1.1\nnameserver 8.8.8.8\n", "line 5: nameserver: given twice");
    refused(HEAD ROOT "nameserver 1.1.1.1 8.8.8.8\n", "nameserver: too many fields");
    refused(HEAD ROOT "nameserver 1.1.1.1\nhost a 1.2.3.4\n", "line 5: host: comes after nameserver");
    refused(HEAD ROOT "max_threads 1\nnameserver 1.1.1.1\n", "line 5: nameserver: comes after max_threads");
}

static void test_shares_net_names_round_trip(void **state)
{
    (void)state;
    char *argv[] = {"x", NULL};
    struct job_disk disks[] = {{"/dev/vdb", "ext4", "/mnt/d", false}};
    struct job_share shares[] = {{"/src dir", true}, {"/src dir/%x", false}, {"/mnt/d/in", true}};
    struct job_host hosts[] = {{"ep0.isovm", 0x0a000264}, {"ep1.isovm", 0xc0a80001}};
    struct job_spec in = {.argv = argv, .argc = 1, .root_dev = "/dev/vda", .root_fstype = "squashfs",
                          .disks = disks, .ndisks = 1, .shares = shares, .nshares = 3,
                          .has_net = true, .net_addr = 0x0a00020f, .net_prefix = 24,
                          .hosts = hosts, .nhosts = 2, .has_nameserver = true, .nameserver = 0x0a000265,
                          .memory = 4096};
    char *text;
    size_t len;
    char err[256];
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), 0);
    assert_non_null(strstr(text, "disk /dev/vdb ext4 /mnt/d ro\nshare /src%20dir rw\n"
                                 "share /src%20dir/%25x ro\nshare /mnt/d/in rw\nnet 10.0.2.15 24\n"
                                 "host ep0.isovm 10.0.2.100\nhost ep1.isovm 192.168.0.1\n"
                                 "nameserver 10.0.2.101\nmemory 4096\n"));
    struct job_spec out;
    assert_int_equal(job_parse(text, len, &out, err, sizeof err), 0);
    assert_int_equal(out.nshares, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(out.shares[i].mountpoint, shares[i].mountpoint);
        assert_int_equal(out.shares[i].rw, shares[i].rw);
    }
    assert_true(out.has_net);
    assert_int_equal(out.net_addr, in.net_addr);
    assert_int_equal(out.net_prefix, 24);
    assert_int_equal(out.nhosts, 2);
    assert_string_equal(out.hosts[1].name, "ep1.isovm");
    assert_int_equal(out.hosts[1].addr, 0xc0a80001);
    assert_true(out.has_nameserver);
    assert_int_equal(out.nameserver, 0x0a000265);
    job_spec_free(&out);
    free(text);

    /* the flags off: no line, whatever the values */
    in.has_net = in.has_nameserver = false;
    in.nshares = in.nhosts = 0;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), 0);
    assert_null(strstr(text, "share"));
    assert_null(strstr(text, "net"));
    assert_null(strstr(text, "host"));
    free(text);

    /* what the parser refuses, the writer refuses */
    in.has_net = true;
    in.net_prefix = 0;
    text = (char *)1;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_null(text);
    assert_non_null(strstr(err, "net: 0 is out of range (1..32)"));
    in.net_prefix = 24;
    in.net_addr = 0x7f000001;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "net: 127.0.0.1 is a loopback address"));
    in.has_net = false;
    struct job_share dup[] = {{"/a", true}, {"/a", false}};
    in.shares = dup;
    in.nshares = 2;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "/a is shared twice"));
    struct job_share rel[] = {{"a", true}};
    in.shares = rel;
    in.nshares = 1;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "not an absolute path"));
    struct job_share none[] = {{NULL, true}};
    in.shares = none;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    in.nshares = 0;
    struct job_host badname[] = {{"a_b", 1}};
    in.hosts = badname;
    in.nhosts = 1;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "\"a_b\" is not a hostname"));
    in.nhosts = 0;
    in.has_nameserver = true;
    in.nameserver = 0xe0000001;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "nameserver: 224.0.0.1 is a multicast"));

    char a[JOB_IPV4_STR_MAX];
    job_ipv4_str(0xffffffff, a);
    assert_string_equal(a, "255.255.255.255");
    job_ipv4_str(0, a);
    assert_string_equal(a, "0.0.0.0");
}

static void test_wanted_tags(void **state)
{
    (void)state;
    struct job_disk disks[] = {{"/dev/vdb", "ext4", "/d", false}, {"/dev/vdc", "ext4", NULL, true}};
    struct job_share shares[] = {{"/s", true}};
    struct job_spec s = {.root_fstype = "squashfs", .overlay = JOB_OVERLAY_TMPFS, .disks = disks,
                         .ndisks = 2};
    const char *tags[MODULES_TAGS_WANTED_MAX];
    size_t n = modules_wanted_tags(&s, tags, MODULES_TAGS_WANTED_MAX);
    assert_int_equal(n, 3);
    assert_string_equal(tags[0], "squashfs");
    assert_string_equal(tags[1], "overlay");
    assert_string_equal(tags[2], "ext4");
    s.shares = shares;
    s.nshares = 1;
    s.has_net = true;
    n = modules_wanted_tags(&s, tags, MODULES_TAGS_WANTED_MAX);
    assert_int_equal(n, 5);
    assert_string_equal(tags[3], "9p");
    assert_string_equal(tags[4], "net");
    s.nshares = 0;
    n = modules_wanted_tags(&s, tags, MODULES_TAGS_WANTED_MAX);
    assert_int_equal(n, 4);
    assert_string_equal(tags[3], "net");
    s.nshares = 1;
    s.has_net = false;
    n = modules_wanted_tags(&s, tags, MODULES_TAGS_WANTED_MAX);
    assert_int_equal(n, 4);
    assert_string_equal(tags[3], "9p");
}

static void test_not_nul_terminated(void **state)
{
    (void)state;
    /* the parser reads len bytes only: a buffer with no NUL after it */
    const char src[] = HEAD ROOT;
    size_t n = sizeof src - 1;
    char *buf = malloc(n);
    assert_non_null(buf);
    memcpy(buf, src, n);
    struct job_spec s;
    char err[256];
    assert_int_equal(parse(buf, n, &s, err, sizeof err), 0);
    assert_string_equal(s.root_fstype, "squashfs");
    job_spec_free(&s);
    free(buf);
}

static void test_round_trip(void **state)
{
    (void)state;
    char every[256];
    for (int i = 1; i < 256; i++)
        every[i - 1] = (char)i;
    every[255] = '\0';
    char *argv[] = {"prog with space", every, "", "%%41", NULL};
    char *envp[] = {"A=1 2", "B=%\n", NULL};
    struct job_disk disks[] = {{"/dev/vdb", "ext4", "/mnt/a b", true}, {"/dev/vdc", "squashfs", NULL, false}};
    struct job_spec in = {.argv = argv, .argc = 4, .envp = envp, .envc = 2, .cwd = "/w\tx",
                          .root_dev = "/dev/vda", .root_fstype = "erofs", .overlay = JOB_OVERLAY_TMPFS,
                          .disks = disks, .ndisks = 2, .max_threads = 7, .memory = 1u << 30};
    char *text;
    size_t len;
    char err[256];
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), 0);
    assert_int_equal(strlen(text), len);
    /* every byte of the file is printable ASCII, a separator or LF */
    for (size_t i = 0; i < len; i++)
        assert_true(text[i] == '\n' || (text[i] >= 0x20 && text[i] <= 0x7e));
    assert_non_null(strstr(text, "arg %25%2541\n"));
    struct job_spec out;
    assert_int_equal(job_parse(text, len, &out, err, sizeof err), 0);
    assert_int_equal(out.argc, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(out.argv[i], argv[i]);
    assert_int_equal(out.envc, 2);
    assert_string_equal(out.envp[1], "B=%\n");
    assert_string_equal(out.cwd, "/w\tx");
    assert_string_equal(out.root_fstype, "erofs");
    assert_int_equal(out.overlay, JOB_OVERLAY_TMPFS);
    assert_int_equal(out.ndisks, 2);
    assert_string_equal(out.disks[0].mountpoint, "/mnt/a b");
    assert_true(out.disks[0].rw);
    assert_null(out.disks[1].mountpoint);
    assert_int_equal(out.max_threads, 7);
    assert_int_equal(out.memory, 1u << 30);
    job_spec_free(&out);
    free(text);
}

static void test_writer_refuses(void **state)
{
    (void)state;
    char *argv[] = {"x", NULL};
    struct job_spec in = {.argv = argv, .argc = 1, .root_dev = "/dev/vda", .root_fstype = "xfs"};
    char *text = (char *)1;
    size_t len = 1;
    char err[256];
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_null(text);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err, "xfs"));
    in.root_fstype = "squashfs";
    in.argc = 0;
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "no arg line"));
    in.argc = 1;
    in.overlay = JOB_OVERLAY_DISK;
    in.overlay_dev = "/dev/vda";
    in.overlay_fstype = "ext4";
    assert_int_equal(job_write(&in, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "named twice"));
}

static void test_long_lines(void **state)
{
    (void)state;
    size_t cap = ISOVM_JOB_LINE_MAX + 256;
    char *t = malloc(cap);
    assert_non_null(t);
    /* an arg record of exactly ISOVM_JOB_LINE_MAX bytes, LF included: accepted */
    int n = snprintf(t, cap, "version 1\narg ");
    size_t fill = ISOVM_JOB_LINE_MAX - 4 - 1;
    memset(t + n, 'a', fill);
    n += (int)fill;
    n += snprintf(t + n, cap - (size_t)n, "\n" ROOT);
    struct job_spec s;
    char err[256];
    assert_int_equal(parse(t, (size_t)n, &s, err, sizeof err), 0);
    assert_int_equal(strlen(s.argv[0]), fill);
    job_spec_free(&s);
    /* one byte more: refused, naming the line */
    n = snprintf(t, cap, "version 1\narg ");
    memset(t + n, 'a', fill + 1);
    n += (int)fill + 1;
    n += snprintf(t + n, cap - (size_t)n, "\n" ROOT);
    refused_n(t, (size_t)n, -EINVAL, "line 2: longer than 65536 bytes");
    /* an endless line without LF */
    memset(t, 'x', cap);
    refused_n(t, cap, -EINVAL, "line 1: longer than");
    free(t);
}

static void test_bad_escapes(void **state)
{
    (void)state;
    refused(HEAD "arg %\n" ROOT, "line 3: arg: field 1: bad escape \"%\"");
    refused(HEAD "arg a%4\n" ROOT, "bad escape \"%4\"");
    refused(HEAD "arg %G1\n" ROOT, "bad escape \"%G1\"");
    refused(HEAD "arg %1G\n" ROOT, "bad escape \"%1G\"");
    refused(HEAD "arg %00\n" ROOT, "%00: a NUL byte cannot be passed");
    refused(HEAD "root /dev/vda %00\n", "line 3: root: field 2: %00");
    refused(HEAD "arg %-1\n" ROOT, "bad escape");
}

/* A prepare file: version, prepare, root and overlay only; no arg line needed; round trip. */
static void test_prepare(void **state)
{
    (void)state;
    struct job_spec s;
    char err[256];
    const char *t = "version 1\nprepare 1\n" ROOT "overlay tmpfs\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_true(s.prepare);
    assert_int_equal(s.argc, 0);
    assert_string_equal(s.root_fstype, "squashfs");
    assert_int_equal(s.overlay, JOB_OVERLAY_TMPFS);
    char *text;
    size_t len;
    assert_int_equal(job_write(&s, &text, &len, err, sizeof err), 0);
    assert_int_equal(len, strlen(t));
    assert_memory_equal(text, t, len);
    free(text);
    job_spec_free(&s);
    t = HEAD ROOT;
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_false(s.prepare);
    job_spec_free(&s);
    /* nothing of a job's in it; its value; its place; a root still needed */
    refused("version 1\nprepare 1\narg /bin/true\n" ROOT, "a prepare file holds root and overlay lines only, not arg");
    refused("version 1\nprepare 1\n" ROOT "max_threads 4\n", "only, not max_threads");
    refused("version 1\nprepare 1\n" ROOT "time 1 2\n", "only, not time");
    refused("version 1\nprepare 1\n" ROOT "seed 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
            "only, not seed");
    refused("version 1\nprepare 1\n" ROOT "disk /dev/vdb ext4 /mnt ro\n", "only, not disk");
    refused("version 1\nprepare 1\n" ROOT "net 10.0.2.15 24\n", "only, not net");
    refused("version 1\nprepare 0\n" ROOT, "line 2: prepare: \"0\" (want prepare 1)");
    refused("version 1\nprepare 1 1\n" ROOT, "too many fields");
    refused("version 1\narg x\nprepare 1\n" ROOT, "prepare: comes after arg");
    refused("version 1\nprepare 1\nprepare 1\n" ROOT, "given twice");
    refused("version 1\nprepare 1\n", "no root line");
}

static void test_missing_keys(void **state)
{
    (void)state;
    refused("arg /bin/true\n" ROOT, "line 1: arg: the file must start with \"version 1\"");
    refused("version 1\n" ROOT, "no arg line");
    refused(HEAD, "no root line");
    refused(HEAD "cwd /\n", "no root line");
    refused_n("", 0, -EINVAL, "the file is empty");
}

static void test_unknown_and_misordered(void **state)
{
    (void)state;
    refused(HEAD "user nobody\n" ROOT, "line 3: unknown key \"user\"");
    refused(HEAD "ARG x\n" ROOT, "unknown key \"ARG\"");
    refused(HEAD "arg%20x\n" ROOT, "\"arg%20x\" has no value");
    refused(HEAD ROOT "arg x\n", "line 4: arg: comes after root: the keys' order is fixed");
    refused(HEAD ROOT "cwd /\n", "cwd: comes after root");
    refused(HEAD "cwd /\ncwd /\n" ROOT, "line 4: cwd: given twice");
    refused(HEAD ROOT ROOT, "root: given twice");
    refused("version 1\nversion 1\narg x\n" ROOT, "version: given twice");
    refused("version 2\narg x\n" ROOT, "version 2 is not supported");
    refused("version 01x\narg x\n" ROOT, "not a decimal number");
}

static void test_nuls_and_raw_bytes(void **state)
{
    (void)state;
    static const char nul[] = "version 1\narg a\0b\n" ROOT;
    refused_n(nul, sizeof nul - 1, -EINVAL, "line 2: byte 0x00 at column 6 must be percent-escaped");
    static const char nul_key[] = "version 1\n\0rg a\n" ROOT;
    refused_n(nul_key, sizeof nul_key - 1, -EINVAL, "byte 0x00 at column 1");
    refused(HEAD "arg a\tb\n" ROOT, "byte 0x09 at column 6");
    refused(HEAD "arg a\r\n" ROOT, "byte 0x0d");
    refused(HEAD "arg \xc3\xa9\n" ROOT, "byte 0xc3");
    refused(HEAD "arg \x7f\n" ROOT, "byte 0x7f");
    refused(HEAD "\n" ROOT, "line 3: empty line");
    refused(HEAD ROOT "\n", "line 4: empty line");
    refused(HEAD "root /dev/vda squashfs", "line 3: no newline at its end");
}

static void test_fields(void **state)
{
    (void)state;
    refused(HEAD "root /dev/vda\n", "line 3: root: too few fields (want root DEV FSTYPE)");
    refused(HEAD "root /dev/vda squashfs x\n", "root: too many fields");
    refused(HEAD "root  /dev/vda\n", "not a path under /dev/");
    refused(HEAD "root vda squashfs\n", "device \"vda\" is not a path under /dev/");
    refused(HEAD "root /dev/ squashfs\n", "not a path under /dev/");
    refused(HEAD "root /dev/vda xfs\n", "file system type \"xfs\" is not one of");
    refused(HEAD ROOT "overlay\n", "\"overlay\" has no value");
    refused(HEAD ROOT "overlay disk /dev/vdb\n", "want \"tmpfs\" or \"disk DEV FSTYPE\"");
    refused(HEAD ROOT "overlay tmpfs x\n", "want \"tmpfs\"");
    refused(HEAD ROOT "overlay disk /dev/vdb squashfs\n", "squashfs is a read-only file system type");
    refused(HEAD ROOT "overlay disk /dev/vda ext4\n", "device /dev/vda is named twice");
    refused(HEAD ROOT "disk /dev/vdb ext4 /d rx\n", "access \"rx\" is neither ro nor rw");
    refused(HEAD ROOT "disk /dev/vdb erofs /d rw\n", "erofs is a read-only file system type");
    refused(HEAD ROOT "disk /dev/vdb ext4 / ro\n", "mount point \"/\"");
    refused(HEAD ROOT "disk /dev/vdb ext4 data ro\n", "mount point \"data\"");
    refused(HEAD ROOT "disk /dev/vdb ext4 /a ro\ndisk /dev/vdb ext4 /b ro\n", "/dev/vdb is named twice");
    refused(HEAD "env =x\n" ROOT, "env: \"=x\" is not KEY=VALUE");
    refused(HEAD "env X\n" ROOT, "\"X\" is not KEY=VALUE");
    refused(HEAD "cwd tmp\n" ROOT, "cwd: \"tmp\" is not an absolute path");
    refused("version 1\narg \n" ROOT, "argv[0] is empty");
    refused(HEAD ROOT "max_threads 0\n", "max_threads: 0 is out of range (1..4194304)");
    refused(HEAD ROOT "max_threads 4194305\n", "out of range");
    refused(HEAD ROOT "max_threads -1\n", "not a decimal number");
    refused(HEAD ROOT "max_threads +1\n", "not a decimal number");
    refused(HEAD ROOT "memory 18446744073709551616\n", "memory: \"18446744073709551616\" is too large");
    refused(HEAD ROOT "memory 12a\n", "not a decimal number");

    struct job_spec s;
    char err[256];
    const char *t = HEAD ROOT "memory 18446744073709551615\n";
    assert_int_equal(parse(t, strlen(t), &s, err, sizeof err), 0);
    assert_true(s.memory == UINT64_MAX);
    job_spec_free(&s);
}

static void test_many(void **state)
{
    (void)state;
    /* 20000 args parse; 64 disks do, 65 do not */
    size_t cap = 20000 * 12 + 4096;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap, "version 1\n");
    for (int i = 0; i < 20000; i++)
        n += (size_t)snprintf(t + n, cap - n, "arg a%d\n", i);
    n += (size_t)snprintf(t + n, cap - n, ROOT);
    for (int i = 0; i < ISOVM_JOB_DISKS_MAX; i++)
        n += (size_t)snprintf(t + n, cap - n, "disk /dev/x%d ext4 - ro\n", i);
    struct job_spec s;
    char err[256];
    assert_int_equal(parse(t, n, &s, err, sizeof err), 0);
    assert_int_equal(s.argc, 20000);
    assert_string_equal(s.argv[19999], "a19999");
    assert_null(s.argv[20000]);
    assert_int_equal(s.ndisks, ISOVM_JOB_DISKS_MAX);
    job_spec_free(&s);
    n += (size_t)snprintf(t + n, cap - n, "disk /dev/y ext4 - ro\n");
    refused_n(t, n, -EINVAL, "more than 64 disks");

    /* 32 shares and 64 hosts do, 33 and 65 do not */
    n = (size_t)snprintf(t, cap, HEAD ROOT);
    for (int i = 0; i < ISOVM_JOB_SHARES_MAX; i++)
        n += (size_t)snprintf(t + n, cap - n, "share /s%d rw\n", i);
    size_t shares_end = n;
    for (int i = 0; i < ISOVM_JOB_HOSTS_MAX; i++)
        n += (size_t)snprintf(t + n, cap - n, "host ep%d.isovm 10.0.2.%d\n", i, 100 + i);
    assert_int_equal(parse(t, n, &s, err, sizeof err), 0);
    assert_int_equal(s.nshares, ISOVM_JOB_SHARES_MAX);
    assert_string_equal(s.shares[31].mountpoint, "/s31");
    assert_int_equal(s.nhosts, ISOVM_JOB_HOSTS_MAX);
    assert_string_equal(s.hosts[63].name, "ep63.isovm");
    assert_int_equal(s.hosts[63].addr, 0x0a000200 + 163);
    job_spec_free(&s);
    n += (size_t)snprintf(t + n, cap - n, "host ep64.isovm 10.0.2.164\n");
    refused_n(t, n, -EINVAL, "line 100: host: more than 64 hosts");
    n = (size_t)snprintf(t + shares_end, cap - shares_end, "share /s32 ro\n") + shares_end;
    refused_n(t, n, -EINVAL, "line 36: share: more than 32 shares");
    free(t);
}

static void test_too_big(void **state)
{
    (void)state;
    size_t n = ISOVM_JOB_FILE_MAX + 1;
    char *t = malloc(n);
    assert_non_null(t);
    memset(t, 'a', n);
    refused_n(t, n, -E2BIG, "more than the 4194304 a job file may have");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_time_seed),
        cmocka_unit_test(test_time_seed_refused),
        cmocka_unit_test(test_time_seed_round_trip),
        cmocka_unit_test(test_shares_net_names),
        cmocka_unit_test(test_shares_refused),
        cmocka_unit_test(test_net_names_refused),
        cmocka_unit_test(test_shares_net_names_round_trip),
        cmocka_unit_test(test_wanted_tags),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_refuses),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_unknown_and_misordered),
        cmocka_unit_test(test_nuls_and_raw_bytes),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
