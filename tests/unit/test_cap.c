/* Unit tests for the capability table and the isovm cap syscalls: attenuation never amplifies,
 * expiry at every use, cascading revocation, generations, the slot limit, deferred closes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/abi.h"
#include "lib/clock.h"
#include "vmm/caps/cap.h"
#include "vmm/caps/fd.h"
#include "job_fixture.h"

#define PG   FIX_PG
#define U0   0x200000ull
#define E(x) ((int64_t)-(x))
#define RW_FILE (CAP_R_READ | CAP_R_WRITE | CAP_R_SEEK | CAP_R_STAT)

static bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

static int host_file(void)
{
    char name[] = "/tmp/isovm-test-cap.XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    unlink(name);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* ---- the table alone ---- */

static void test_table_derive_and_amplify(void **state)
{
    (void)state;
    struct cap_table t;
    assert_int_equal(cap_table_init(&t, 4), 0);
    int root = cap_create(&t, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_RIGHTS_RO, 0, -1, "/data");
    assert_true(root >= 0);
    assert_true(t.caps[root].pinned);
    int child = cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1, "/data/a");
    assert_true(child >= 0);
    assert_int_equal(t.caps[root].children, 1);
    /* a right the parent lacks: refused, nothing used */
    assert_int_equal(cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_WRITE, 0, -1, NULL),
                     -EPERM);
    assert_int_equal(cap_create(&t, (uint32_t)child, CAP_FILE, CAP_FROM_DERIVE, CAP_R_READ | CAP_R_SEEK, 0,
                                -1, NULL), -EPERM);
    assert_int_equal(t.used, 2);
    assert_int_equal(t.caps[root].children, 1);
    /* ids are unique and increasing; the chain is root first */
    assert_true(t.caps[child].id > t.caps[root].id);
    uint32_t chain[4];
    assert_int_equal(cap_chain(&t, (uint32_t)child, chain, 4), 2);
    assert_int_equal(chain[0], (uint32_t)root);
    assert_int_equal(chain[1], (uint32_t)child);
    assert_int_equal(cap_chain(&t, (uint32_t)child, NULL, 0), 2);
    cap_table_fini(&t);
}

static void test_table_full_uses_no_slot(void **state)
{
    (void)state;
    struct cap_table t;
    assert_int_equal(cap_table_init(&t, 3), 0);
    int root = cap_create(&t, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_RIGHTS_RW, 0, -1, "/o");
    assert_true(cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1, "/o/1") >= 0);
    assert_true(cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1, "/o/2") >= 0);
    assert_int_equal(cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1, NULL),
                     -EMFILE);
    assert_int_equal(t.used, 3);
    assert_int_equal(t.caps[root].children, 2);
    cap_table_fini(&t);
}

static void test_table_revoke_cascades(void **state)
{
    (void)state;
    struct cap_table t;
    assert_int_equal(cap_table_init(&t, 8), 0);
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = host_file();
    int root = cap_create(&t, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_RIGHTS_RW, 0, fds[0], "/d");
    int sub = cap_create(&t, (uint32_t)root, CAP_DIR, CAP_FROM_OPEN, CAP_RIGHTS_RW, 0, fds[1], "/d/s");
    int file = cap_create(&t, (uint32_t)sub, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, fds[2], "/d/s/f");
    int other = cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, fds[3], "/d/o");
    cap_ref(&t, (uint32_t)file);
    cap_ref(&t, (uint32_t)other);
    t.caps[file].io_busy = 1; /* a read in flight: its descriptor must stay open */
    assert_int_equal(cap_revoke(&t, (uint32_t)sub, false, NULL, NULL), 2);
    assert_true(t.caps[sub].revoked && t.caps[file].revoked);
    assert_false(t.caps[root].revoked || t.caps[other].revoked);
    assert_false(fd_is_open(fds[1]));
    assert_true(fd_is_open(fds[2]));
    assert_true(fd_is_open(fds[3]));
    uint32_t g = t.caps[file].gen;
    assert_int_equal(cap_check(&t, (uint32_t)file, g, 0, 0, NULL), -EKEYREVOKED);
    assert_int_equal(cap_io_begin(&t, (uint32_t)file), -EKEYREVOKED);
    cap_io_end(&t, (uint32_t)file);
    assert_false(fd_is_open(fds[2]));
    /* the last reference frees the entry and then its (childless, unpinned) parent */
    cap_unref(&t, (uint32_t)file);
    assert_null(cap_get(&t, (uint32_t)file, g));
    assert_int_equal(t.caps[sub].id, 0);
    assert_int_equal(t.caps[root].children, 1);
    /* a reused slot has a new generation: the old handle never matches */
    int again = cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1, "/d/n");
    assert_true(again >= 0);
    if ((uint32_t)again == (uint32_t)file)
        assert_int_equal(cap_check(&t, (uint32_t)file, g, 0, 0, NULL), -EBADF);
    /* the root itself, revoked: everything beneath */
    assert_int_equal(cap_revoke(&t, (uint32_t)root, false, NULL, NULL), 3);
    assert_false(fd_is_open(fds[3]));
    cap_table_fini(&t);
}

static void test_table_expiry(void **state)
{
    (void)state;
    struct cap_table t;
    assert_int_equal(cap_table_init(&t, 8), 0);
    int root = cap_create(&t, CAP_NONE, CAP_DIR, CAP_FROM_GRANT, CAP_RIGHTS_RW, 1000, -1, "/d");
    /* a child asking for later, or never, still expires with its parent */
    int a = cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 5000, -1, "/d/a");
    int b = cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1, "/d/b");
    int c = cap_create(&t, (uint32_t)a, CAP_FILE, CAP_FROM_DERIVE, CAP_R_READ, 500, -1, "/d/a");
    assert_int_equal(t.caps[a].expires_ns, 1000);
    assert_int_equal(t.caps[b].expires_ns, 1000);
    assert_int_equal(t.caps[c].expires_ns, 500);
    bool fresh;
    assert_int_equal(cap_check(&t, (uint32_t)c, t.caps[c].gen, CAP_R_READ, 499, &fresh), 0);
    assert_false(fresh);
    assert_int_equal(cap_check(&t, (uint32_t)c, t.caps[c].gen, CAP_R_READ, 500, &fresh), -EKEYEXPIRED);
    assert_true(fresh);
    assert_false(t.caps[a].revoked); /* only c's own deadline passed */
    assert_int_equal(cap_check(&t, (uint32_t)c, t.caps[c].gen, CAP_R_READ, 501, &fresh), -EKEYEXPIRED);
    assert_false(fresh);
    /* at the root's deadline a use of b expires the whole tree from the root */
    assert_int_equal(cap_check(&t, (uint32_t)b, t.caps[b].gen, CAP_R_READ, 1000, &fresh), -EKEYEXPIRED);
    assert_true(fresh);
    assert_true(t.caps[root].revoked && t.caps[root].expired && t.caps[a].revoked);
    /* a missing right, checked last */
    int d = cap_create(&t, CAP_NONE, CAP_FILE, CAP_FROM_GRANT, CAP_R_READ, 0, -1, "/f");
    assert_int_equal(cap_check(&t, (uint32_t)d, t.caps[d].gen, CAP_R_WRITE, 0, NULL), -EACCES);
    assert_int_equal(cap_create(&t, (uint32_t)root, CAP_FILE, CAP_FROM_OPEN, CAP_R_READ, 0, -1, NULL),
                     -EKEYEXPIRED);
    cap_table_fini(&t);
}

/* ---- through the syscalls ---- */

struct fix {
    struct job *job;
    int host;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    f->job = fix_job_new();
    f->host = host_file();
    /* fd 3: a read-write file capability (a root, as a grant of one file would be) */
    int slot = cap_create(f->job->caps, CAP_NONE, CAP_FILE, CAP_FROM_GRANT, RW_FILE, 0, f->host,
                          "/data/f");
    assert_true(slot >= 0);
    fd_bind(f->job, &f->job->procs[0], 3, (uint32_t)slot, false, O_RDWR);
    fix_map(f->job, U0, 4 * PG, GPERM_R | GPERM_W);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    fix_job_free(f->job);
    free(f);
    return 0;
}

static void test_derive_attenuates(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    int64_t ro = SC(job, sys_isovm_cap_derive, 3, CAP_R_READ | CAP_R_SEEK);
    assert_true(ro >= 0);
    assert_int_equal(SC(job, sys_read, (uint64_t)ro, U0, 4), 4);
    assert_memory_equal(fix_host(job, U0), "0123", 4);
    assert_int_equal(SC(job, sys_write, (uint64_t)ro, U0, 1), E(EBADF));
    assert_int_equal(job->stats.denials[DENY_RIGHTS], 1);
    /* amplification: asking the read-only copy for write */
    assert_int_equal(SC(job, sys_isovm_cap_derive, (uint64_t)ro, CAP_R_READ | CAP_R_WRITE), E(EPERM));
    assert_int_equal(job->stats.denials[DENY_AMPLIFY], 1);
    /* unknown right bits */
    assert_int_equal(SC(job, sys_isovm_cap_derive, 3, 1u << 20), E(EINVAL));
    assert_int_equal(SC(job, sys_isovm_cap_derive, 3, UINT64_MAX), E(EINVAL));
    /* bad descriptors */
    assert_int_equal(SC(job, sys_isovm_cap_derive, 40, CAP_R_READ), E(EBADF));
    assert_int_equal(SC(job, sys_isovm_cap_derive, UINT64_MAX, CAP_R_READ), E(EBADF));
    /* info: ids, parent, rights, depth */
    struct isovm_cap_info info;
    assert_int_equal(SC(job, sys_isovm_cap_info, (uint64_t)ro, U0 + 64), 0);
    memcpy(&info, fix_host(job, U0 + 64), sizeof info);
    assert_int_equal(info.rights, CAP_R_READ | CAP_R_SEEK);
    assert_int_equal(info.depth, 1);
    assert_int_equal(info.parent_id, job->caps->caps[job->procs[0].fds[3].cap].id);
    assert_int_equal(SC(job, sys_isovm_cap_info, (uint64_t)ro, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_isovm_cap_info, (uint64_t)ro, ISOVM_FW_CODE_GPA), E(EFAULT));
}

static void test_derive_limit_leaks_nothing(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    uint32_t used = job->caps->used;
    unsigned open = job->procs[0].fds_open;
    int n = 0;
    while (SC(job, sys_isovm_cap_derive, 3, CAP_R_READ) >= 0)
        n++;
    assert_true(n > 0);
    assert_int_equal(SC(job, sys_isovm_cap_derive, 3, CAP_R_READ), E(EMFILE));
    assert_int_equal(job->caps->used, used + (uint32_t)n);
    assert_int_equal(job->procs[0].fds_open, open + (unsigned)n);
    assert_true(job->stats.denials[DENY_LIMIT] >= 2);
    /* closing one frees exactly one descriptor and one table slot */
    assert_int_equal(SC(job, sys_close, 4), 0);
    assert_int_equal(job->caps->used, used + (uint32_t)n - 1);
    assert_int_equal(SC(job, sys_isovm_cap_derive, 3, CAP_R_READ), 4);
}

static void test_revoke_and_reuse(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    int64_t a = SC(job, sys_isovm_cap_derive, 3, CAP_R_READ | CAP_R_SEEK | CAP_R_STAT);
    int64_t b = SC(job, sys_isovm_cap_derive, (uint64_t)a, CAP_R_READ);
    int64_t dup = SC(job, sys_dup, (uint64_t)b);
    assert_true(a >= 0 && b >= 0 && dup >= 0);
    assert_int_equal(SC(job, sys_isovm_cap_revoke, (uint64_t)a), 0);
    assert_int_equal(SC(job, sys_read, (uint64_t)a, U0, 1), E(EKEYREVOKED));
    assert_int_equal(SC(job, sys_read, (uint64_t)b, U0, 1), E(EKEYREVOKED));
    assert_int_equal(SC(job, sys_read, (uint64_t)dup, U0, 1), E(EKEYREVOKED));
    assert_int_equal(job->stats.denials[DENY_REVOKED], 3);
    assert_int_equal(SC(job, sys_read, 3, U0, 1), 1); /* the source is untouched */
    /* close the revoked descriptors; the numbers come back with new authority only */
    assert_int_equal(SC(job, sys_close, (uint64_t)b), 0);
    assert_int_equal(SC(job, sys_close, (uint64_t)dup), 0);
    assert_int_equal(SC(job, sys_close, (uint64_t)a), 0);
    int64_t w = SC(job, sys_isovm_cap_derive, 3, CAP_R_WRITE);
    assert_int_equal(w, a); /* lowest free number */
    assert_int_equal(SC(job, sys_read, (uint64_t)w, U0, 1), E(EBADF));
    /* the console cannot be revoked */
    fix_fd(job, 1, 1, CAP_R_WRITE);
    job->caps->caps[job->procs[0].fds[1].cap].origin = CAP_FROM_CONSOLE;
    assert_int_equal(SC(job, sys_isovm_cap_revoke, 1), E(EPERM));
}

static void test_derive_ttl_expires(void **state)
{
    struct job *job = ((struct fix *)*state)->job;
    /* the ttl is calibrated: long enough for a derive, a dup and a read on this machine (under
     * valgrind they can take more than a few ms), doubled until they fit */
    uint64_t ttl = 2000000; /* 2 ms */
    int64_t t, d, r;
    for (;;) {
        uint64_t t0 = mono_ns();
        t = SC(job, sys_isovm_cap_derive, 3, CAP_R_READ, ttl);
        d = t >= 0 ? SC(job, sys_dup, (uint64_t)t) : t;
        r = d >= 0 ? SC(job, sys_read, (uint64_t)t, U0, 1) : d;
        if (mono_ns() - t0 < ttl / 2 || ttl >= 8000000000ull) {
            /* within half the ttl nothing can have expired: all three must have worked */
            assert_true(t >= 0);
            assert_true(d >= 0);
            break;
        }
        /* too slow for this ttl (the grant may have expired before the dup): double it */
        if (d >= 0)
            assert_int_equal(SC(job, sys_close, (uint64_t)d), 0);
        if (t >= 0)
            assert_int_equal(SC(job, sys_close, (uint64_t)t), 0);
        ttl *= 2;
    }
    assert_int_equal(r, 1);
    uint64_t expired_before = job->stats.denials[DENY_EXPIRED];
    usleep((useconds_t)(ttl / 1000 + 3000));
    assert_int_equal(SC(job, sys_read, (uint64_t)d, U0, 1), E(EKEYEXPIRED));
    assert_int_equal(SC(job, sys_read, (uint64_t)t, U0, 1), E(EKEYEXPIRED));
    assert_int_equal(job->stats.denials[DENY_EXPIRED], expired_before + 2);
    assert_int_equal(SC(job, sys_read, 3, U0, 1), 1);
    /* a huge ttl means "with the parent" */
    assert_true(SC(job, sys_isovm_cap_derive, 3, CAP_R_READ, UINT64_MAX) >= 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_derive_and_amplify),
        cmocka_unit_test(test_table_full_uses_no_slot),
        cmocka_unit_test(test_table_revoke_cascades),
        cmocka_unit_test(test_table_expiry),
        T(test_derive_attenuates),
        T(test_derive_limit_leaks_nothing),
        T(test_revoke_and_reuse),
        T(test_derive_ttl_expires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
