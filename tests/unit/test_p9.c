/* The grants' 9P2000.L server over real host directories: crafted requests, hostile ones (names, sizes, symlinks and ".." out of a grant), rights, revocation and expiry. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>
#include "devices/virtio/le.h"
#include "devices/virtio/p9/p9_wire.h"
#include "lib/clock.h"
#include "vmm/caps/cap.h"
#include "vmm/caps/grants.h"
#include "vmm/share/p9_server.h"
#include "job_fixture.h"

struct p9fix {
    struct job *job;
    struct p9_server s;
    char base[64];
    struct p9_out t;               /* the request being built */
    uint8_t req[P9_REQ_MAX];
    uint8_t reply[65536];
    uint8_t rdata[65536];
    size_t rlen;                   /* the last reply's length */
    struct p9_in in;               /* the last reply's fields after its header */
    uint8_t rtype;
    uint64_t throttled_bytes[2], throttle_calls[2];
};

static int fake_throttle(void *ctx, bool write, uint64_t bytes)
{
    struct p9fix *f = ctx;
    f->throttled_bytes[write] += bytes;
    f->throttle_calls[write]++;
    return 0;
}

static void fake_refund(void *ctx, bool write, uint64_t bytes)
{
    struct p9fix *f = ctx;
    f->throttled_bytes[write] -= bytes;
}

static const char *hp(struct p9fix *f, const char *rel)
{
    static char buf[4][PATH_MAX];
    static unsigned i;
    char *b = buf[i++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", f->base, rel);
    return b;
}

static void put_file(struct p9fix *f, const char *rel, const char *text)
{
    FILE *o = fopen(hp(f, rel), "w");
    assert_non_null(o);
    fputs(text, o);
    fclose(o);
}

static int p9_setup(void **state)
{
    /* openat2 (every host access) is unknown to valgrind 3.19: skipped there, run plain and
     * under ASan */
    struct open_how how = { .flags = O_PATH | O_CLOEXEC };
    long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) {
        *state = NULL; /* each test skips itself (a skip here would fail the setup) */
        return 0;
    }
    close((int)fd);
    struct p9fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->base, "/tmp/isovm-test-p9.XXXXXX");
    assert_non_null(mkdtemp(f->base));
    assert_int_equal(mkdir(hp(f, "rw"), 0755), 0);
    assert_int_equal(mkdir(hp(f, "ro"), 0755), 0);
    assert_int_equal(mkdir(hp(f, "rw/sub"), 0755), 0);
    put_file(f, "outside-secret.txt", "OUTSIDE-SECRET\n");
    put_file(f, "rw/hello.txt", "hello, grant\n");
    put_file(f, "ro/data.txt", "read only data\n");
    assert_int_equal(symlink("../outside-secret.txt", hp(f, "rw/esc")), 0);
    assert_int_equal(symlink("/etc", hp(f, "rw/abs")), 0);
    assert_int_equal(symlink("..", hp(f, "rw/up")), 0);
    assert_int_equal(mkfifo(hp(f, "rw/fifo"), 0600), 0);
    f->job = fix_job_new();
    f->job->start_ns = mono_ns();
    struct policy *p = &f->job->policy;
    snprintf(p->grants[0].guest, sizeof p->grants[0].guest, "/work");
    snprintf(p->grants[0].host, sizeof p->grants[0].host, "%s", hp(f, "rw"));
    p->grants[0].rights = CAP_RIGHTS_RW;
    snprintf(p->grants[1].guest, sizeof p->grants[1].guest, "/in");
    snprintf(p->grants[1].host, sizeof p->grants[1].host, "%s", hp(f, "ro"));
    p->grants[1].rights = CAP_RIGHTS_RO;
    snprintf(p->grants[2].guest, sizeof p->grants[2].guest, "/soon");
    snprintf(p->grants[2].host, sizeof p->grants[2].host, "%s", hp(f, "ro"));
    p->grants[2].rights = CAP_RIGHTS_RO;
    p->grants[2].expires_ns = 200000000; /* 200 ms */
    p->ngrants = 3;
    assert_int_equal(grants_open(f->job), 0);
    p9_server_init(&f->s, f->job);
    f->s.throttle = fake_throttle;
    f->s.refund = fake_refund;
    f->s.throttle_ctx = f;
    *state = f;
    return 0;
}

static int p9_teardown(void **state)
{
    struct p9fix *f = *state;
    if (!f)
        return 0;
    p9_server_fini(&f->s);
    grants_close(f->job);
    fix_job_free(f->job);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->base);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The fixture, or a skip where openat2 is unknown (valgrind 3.19). */
static struct p9fix *fixture(void **state)
{
    if (!*state)
        skip();
    return *state;
}

/* ---- requests and replies ---- */

static void T(struct p9fix *f, uint8_t type)
{
    p9_out_begin(&f->t, f->req, sizeof f->req, type, 7);
}

static void str(struct p9fix *f, const char *s)
{
    p9_put_str(&f->t, s, strlen(s));
}

/* Send the request built (size as built, or `size` when not 0) with Twrite data `w`; returns
 * 0 for a reply of the matching R type, -ecode for an Rlerror. */
static int send_raw(struct p9fix *f, size_t len, uint32_t size, const void *w, size_t wlen)
{
    struct iovec wv = { (void *)w, wlen }, rv = { f->rdata, sizeof f->rdata };
    struct p9_msg m = {
        .req = f->req, .req_len = len, .size = size ? size : (uint32_t)len,
        .wdata = &wv, .nwdata = wlen ? 1 : 0, .wdata_len = wlen,
        .reply = f->reply, .reply_cap = sizeof f->reply,
        .rdata = &rv, .nrdata = 1, .rdata_cap = sizeof f->rdata,
    };
    f->rlen = p9_server_handle(&f->s, &m);
    assert_true(f->rlen >= P9_HDR_LEN);
    f->rtype = f->reply[4];
    size_t hdr = f->rtype == P9_TREAD + 1 ? P9_RREAD_HDR : f->rlen;
    assert_int_equal(le_get(f->reply, 4), f->rlen);
    p9_in_init(&f->in, f->reply + P9_HDR_LEN, hdr - P9_HDR_LEN);
    if (f->rtype == P9_RLERROR) {
        uint32_t e = p9_get32(&f->in);
        return -(int)e;
    }
    assert_int_equal(f->rtype, f->req[4] + 1);
    return 0;
}

static int send(struct p9fix *f)
{
    size_t len = p9_out_end(&f->t);
    assert_true(len > 0);
    return send_raw(f, len, 0, NULL, 0);
}

static void version(struct p9fix *f, uint32_t msize)
{
    T(f, P9_TVERSION);
    p9_put32(&f->t, msize);
    str(f, "9P2000.L");
    assert_int_equal(send(f), 0);
}

static int attach(struct p9fix *f, uint32_t fid, const char *aname)
{
    T(f, P9_TATTACH);
    p9_put32(&f->t, fid);
    p9_put32(&f->t, P9_NOFID);
    str(f, "root");
    str(f, aname);
    p9_put32(&f->t, 0);
    return send(f);
}

/* Twalk fid -> newfid through the names (a NULL-terminated list). */
static int walk(struct p9fix *f, uint32_t fid, uint32_t newfid, ...)
{
    const char *names[P9_MAXWELEM + 2];
    unsigned n = 0;
    va_list ap;
    va_start(ap, newfid);
    for (const char *s; (s = va_arg(ap, const char *));)
        names[n++] = s;
    va_end(ap);
    T(f, P9_TWALK);
    p9_put32(&f->t, fid);
    p9_put32(&f->t, newfid);
    p9_put16(&f->t, (uint16_t)n);
    for (unsigned i = 0; i < n; i++)
        str(f, names[i]);
    return send(f);
}

static int lopen(struct p9fix *f, uint32_t fid, uint32_t flags)
{
    T(f, P9_TLOPEN);
    p9_put32(&f->t, fid);
    p9_put32(&f->t, flags);
    return send(f);
}

static int lcreate(struct p9fix *f, uint32_t dfid, const char *name, uint32_t flags)
{
    T(f, P9_TLCREATE);
    p9_put32(&f->t, dfid);
    str(f, name);
    p9_put32(&f->t, flags);
    p9_put32(&f->t, 0644);
    p9_put32(&f->t, 0);
    return send(f);
}

/* Tread: the data read is in f->rdata, its length returned (or -ecode). */
static int read_(struct p9fix *f, uint32_t fid, uint64_t off, uint32_t count)
{
    T(f, P9_TREAD);
    p9_put32(&f->t, fid);
    p9_put64(&f->t, off);
    p9_put32(&f->t, count);
    int rc = send(f);
    if (rc)
        return rc;
    uint32_t n = p9_get32(&f->in);
    assert_int_equal(f->rlen, P9_RREAD_HDR + n);
    return (int)n;
}

static int write_(struct p9fix *f, uint32_t fid, uint64_t off, const char *data)
{
    size_t n = strlen(data);
    T(f, P9_TWRITE);
    p9_put32(&f->t, fid);
    p9_put64(&f->t, off);
    p9_put32(&f->t, (uint32_t)n);
    size_t len = p9_out_end(&f->t);
    le_put(f->req, len + n, 4); /* the size covers the data */
    int rc = send_raw(f, len, (uint32_t)(len + n), data, n);
    if (rc)
        return rc;
    return (int)p9_get32(&f->in);
}

static int name_req(struct p9fix *f, uint8_t type, uint32_t dfid, const char *name, uint32_t arg)
{
    T(f, type);
    p9_put32(&f->t, dfid);
    str(f, name);
    p9_put32(&f->t, arg);
    if (type == P9_TMKDIR)
        p9_put32(&f->t, 0); /* gid */
    return send(f);
}

static int t_renameat(struct p9fix *f, uint32_t ofid, const char *oname, uint32_t nfid, const char *nname)
{
    T(f, P9_TRENAMEAT);
    p9_put32(&f->t, ofid);
    str(f, oname);
    p9_put32(&f->t, nfid);
    str(f, nname);
    return send(f);
}

static int symlink_(struct p9fix *f, uint32_t dfid, const char *name, const char *target)
{
    T(f, P9_TSYMLINK);
    p9_put32(&f->t, dfid);
    str(f, name);
    str(f, target);
    p9_put32(&f->t, 0);
    return send(f);
}

static int getattr(struct p9fix *f, uint32_t fid, uint64_t *size)
{
    T(f, P9_TGETATTR);
    p9_put32(&f->t, fid);
    p9_put64(&f->t, 0x7ff);
    int rc = send(f);
    if (rc)
        return rc;
    assert_int_equal(f->rlen, P9_HDR_LEN + 8 + 13 + 4 * 3 + 8 * 15);
    p9_get64(&f->in);
    for (unsigned i = 0; i < P9_QID_LEN; i++)
        p9_get8(&f->in);
    p9_get32(&f->in);
    p9_get32(&f->in);
    p9_get32(&f->in);
    p9_get64(&f->in);
    p9_get64(&f->in);
    *size = p9_get64(&f->in);
    return 0;
}

static int clunk(struct p9fix *f, uint32_t fid)
{
    T(f, P9_TCLUNK);
    p9_put32(&f->t, fid);
    return send(f);
}

static void slurp(const char *path, char *buf, size_t len)
{
    FILE *i = fopen(path, "r");
    assert_non_null(i);
    size_t n = fread(buf, 1, len - 1, i);
    buf[n] = 0;
    fclose(i);
}

/* ---- the tests ---- */

static void test_version_and_attach(void **state)
{
    struct p9fix *f = fixture(state);
    /* nothing but Tversion before a session */
    assert_int_equal(attach(f, 1, "/work"), -EPROTO);
    T(f, P9_TVERSION);
    p9_put32(&f->t, 8192);
    str(f, "9P2000.u");
    assert_int_equal(send(f), 0);
    assert_int_equal(p9_get32(&f->in), 8192);
    struct p9_str v = p9_get_str(&f->in, 64);
    assert_int_equal(v.len, 7);
    assert_memory_equal(v.s, "unknown", 7);
    version(f, 1u << 30);
    assert_int_equal(p9_get32(&f->in), P9_MSIZE_MAX); /* capped */
    assert_int_equal(attach(f, 1, "/work"), 0);
    assert_int_equal(attach(f, 1, "/work"), -EBADF);     /* fid in use */
    assert_int_equal(attach(f, 2, "/nowhere"), -ENOENT); /* not a grant */
    assert_int_equal(attach(f, 2, "/wor"), -ENOENT);
    assert_int_equal(attach(f, 2, "/in"), 0);
    /* a new Tversion ends the session: every fid is gone */
    version(f, 65536);
    assert_int_equal(clunk(f, 1), -EBADF);
    assert_int_equal(attach(f, 1, "/work"), 0);
}

/* aname "": the grants' own root, each directory grant an entry named by its index (the init
 * mounts it once and bind-mounts each grant: a virtio-9p channel serves one mount) */
static void test_virtual_root(void **state)
{
    struct p9fix *f = fixture(state);
    version(f, 65536);
    assert_int_equal(attach(f, 1, ""), 0);
    uint64_t size;
    assert_int_equal(getattr(f, 1, &size), 0);
    assert_int_equal(walk(f, 1, 2, "0", "hello.txt", NULL), 0);
    assert_int_equal(p9_get16(&f->in), 2);
    assert_int_equal(lopen(f, 2, O_RDONLY), 0);
    assert_int_equal(read_(f, 2, 0, 100), 13);
    assert_int_equal(walk(f, 1, 3, "..", "1", "data.txt", NULL), 0);
    assert_int_equal(getattr(f, 3, &size), 0);
    assert_int_equal(size, 15);
    /* ".." at a grant's root stays there: never back up to the grants' root */
    assert_int_equal(walk(f, 1, 4, "0", "..", "..", "hello.txt", NULL), 0);
    assert_int_equal(p9_get16(&f->in), 4);
    assert_int_equal(walk(f, 1, 5, "9", NULL), -ENOENT);
    assert_int_equal(walk(f, 1, 5, "00", NULL), -ENOENT);
    assert_int_equal(walk(f, 1, 5, "x", NULL), -ENOENT);
    /* the grants' root is listed, never changed */
    assert_int_equal(name_req(f, P9_TMKDIR, 1, "d", 0755), -EACCES);
    assert_int_equal(lcreate(f, 1, "f", O_RDWR), -EACCES);
    assert_int_equal(lopen(f, 1, O_RDWR), -EACCES);
    assert_int_equal(walk(f, 1, 6, NULL), 0);
    assert_int_equal(lopen(f, 6, O_RDONLY | O_DIRECTORY), 0);
    T(f, P9_TREADDIR);
    p9_put32(&f->t, 6);
    p9_put64(&f->t, 0);
    p9_put32(&f->t, 4096);
    assert_int_equal(send(f), 0);
    uint32_t count = p9_get32(&f->in);
    char names[64] = "";
    for (uint32_t used = 0; used < count && !f->in.bad;) {
        for (unsigned i = 0; i < P9_QID_LEN + 8 + 1; i++)
            p9_get8(&f->in);
        struct p9_str nm = p9_get_str(&f->in, 255);
        strncat(names, nm.s, nm.len);
        strcat(names, " ");
        used += P9_QID_LEN + 8 + 1 + 2 + nm.len;
    }
    assert_string_equal(names, ". .. 0 1 2 ");
    /* qid paths differ between the grants' files even when inode numbers could clash: the
     * device's index is in the top bits */
    assert_int_equal(walk(f, 1, 7, "0", NULL), 0);
    p9_get16(&f->in);
    p9_get8(&f->in);
    p9_get32(&f->in);
    assert_true(p9_get64(&f->in) >> 56 >= 1);
}

static void test_walk_read_write(void **state)
{
    struct p9fix *f = fixture(state);
    version(f, 65536);
    assert_int_equal(attach(f, 1, "/work"), 0);
    assert_int_equal(walk(f, 1, 2, "hello.txt", NULL), 0);
    assert_int_equal(p9_get16(&f->in), 1);
    assert_int_equal(lopen(f, 2, O_RDONLY), 0);
    assert_int_equal(read_(f, 2, 0, 4096), 13);
    assert_memory_equal(f->rdata, "hello, grant\n", 13);
    assert_int_equal(read_(f, 2, 7, 5), 5);
    assert_memory_equal(f->rdata, "grant", 5);
    assert_int_equal(read_(f, 2, 1000, 10), 0);
    assert_int_equal(f->throttled_bytes[0], 13 + 5);        /* refunds of the short reads */
    assert_int_equal(write_(f, 2, 0, "x"), -EBADF);         /* opened for reading */
    assert_int_equal(lopen(f, 2, O_RDONLY), -EBADF);        /* already open */
    /* create, write, read back on the host */
    assert_int_equal(walk(f, 1, 3, "sub", NULL), 0);
    assert_int_equal(lcreate(f, 3, "new.txt", O_RDWR), 0);
    assert_int_equal(write_(f, 3, 0, "written by the guest\n"), 21);
    assert_int_equal(f->throttled_bytes[1], 21);
    char buf[128];
    slurp(hp(f, "rw/sub/new.txt"), buf, sizeof buf);
    assert_string_equal(buf, "written by the guest\n");
    uint64_t size = 0;
    assert_int_equal(getattr(f, 3, &size), 0);
    assert_int_equal(size, 21);
    assert_int_equal(lcreate(f, 1, "sub", O_RDWR), -EEXIST);
    /* mkdir, rename, unlink */
    assert_int_equal(name_req(f, P9_TMKDIR, 1, "made", 0755), 0);
    struct stat st;
    assert_int_equal(stat(hp(f, "rw/made"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(walk(f, 1, 4, "made", NULL), 0);
    assert_int_equal(t_renameat(f, 3, "x", 4, "y"), -ENOTDIR); /* fid 3 is the new file now */
    assert_int_equal(walk(f, 1, 6, "sub", NULL), 0);
    assert_int_equal(t_renameat(f, 6, "new.txt", 4, "moved.txt"), 0);
    assert_int_equal(stat(hp(f, "rw/made/moved.txt"), &st), 0);
    /* fid 3's file followed the rename: fid 3 named sub/new.txt, now made/moved.txt */
    assert_int_equal(t_renameat(f, 1, "made", 1, "made2"), 0);
    assert_int_equal(getattr(f, 4, &size), 0); /* fid 4 followed its directory */
    assert_int_equal(name_req(f, P9_TUNLINKAT, 4, "moved.txt", 0), 0);
    assert_int_equal(stat(hp(f, "rw/made2/moved.txt"), &st), -1);
    assert_int_equal(name_req(f, P9_TUNLINKAT, 1, "made2", 0), -EISDIR);
    assert_int_equal(name_req(f, P9_TUNLINKAT, 1, "made2", 0x200), 0);
    /* readdir lists the names */
    assert_int_equal(walk(f, 1, 5, NULL), 0);
    assert_int_equal(lopen(f, 5, O_RDONLY | O_DIRECTORY), 0);
    T(f, P9_TREADDIR);
    p9_put32(&f->t, 5);
    p9_put64(&f->t, 0);
    p9_put32(&f->t, 8192);
    assert_int_equal(send(f), 0);
    uint32_t count = p9_get32(&f->in);
    bool seen_hello = false, seen_sub = false;
    for (uint32_t used = 0; used < count && !f->in.bad;) {
        for (unsigned i = 0; i < P9_QID_LEN + 8 + 1; i++)
            p9_get8(&f->in);
        struct p9_str nm = p9_get_str(&f->in, 255);
        seen_hello |= nm.len == 9 && !memcmp(nm.s, "hello.txt", 9);
        seen_sub |= nm.len == 3 && !memcmp(nm.s, "sub", 3);
        used += P9_QID_LEN + 8 + 1 + 2 + nm.len;
    }
    assert_false(f->in.bad);
    assert_true(seen_hello && seen_sub);
    /* a symlink leading downward is made; any other is refused */
    assert_int_equal(symlink_(f, 1, "down", "sub/x"), 0);
    char tgt[64] = "";
    assert_int_equal(readlink(hp(f, "rw/down"), tgt, sizeof tgt - 1), 5);
    assert_int_equal(symlink_(f, 1, "up2", "../outside-secret.txt"), -EACCES);
    assert_int_equal(symlink_(f, 1, "abs2", "/etc/passwd"), -EACCES);
    assert_int_equal(lstat(hp(f, "rw/up2"), &st), -1);
    assert_true(f->job->stats.denials[DENY_ESCAPE] >= 2);
}

static void test_escapes_refused(void **state)
{
    struct p9fix *f = fixture(state);
    version(f, 65536);
    assert_int_equal(attach(f, 1, "/work"), 0);
    /* ".." at the root stays at the root */
    assert_int_equal(walk(f, 1, 2, "..", "..", NULL), 0);
    uint64_t size;
    assert_int_equal(walk(f, 2, 3, "hello.txt", NULL), 0);
    assert_int_equal(getattr(f, 3, &size), 0);
    assert_int_equal(size, 13);
    /* a partial walk: one qid (the root again), and no new fid */
    assert_int_equal(walk(f, 1, 4, "..", "outside-secret.txt", NULL), 0);
    assert_int_equal(p9_get16(&f->in), 1);
    assert_int_equal(clunk(f, 4), -EBADF);
    /* names that are not one component */
    assert_int_equal(walk(f, 1, 4, "sub/../..", NULL), -EINVAL);
    assert_int_equal(walk(f, 1, 4, ".", NULL), -EINVAL);
    assert_int_equal(walk(f, 1, 4, "", NULL), -EINVAL);
    assert_int_equal(name_req(f, P9_TMKDIR, 1, "../x", 0755), -EINVAL);
    assert_int_equal(lcreate(f, 1, "..", O_RDWR), -EINVAL);
    /* symlinks out of the grant: the link itself is seen, never followed out */
    assert_int_equal(walk(f, 1, 4, "esc", NULL), 0);
    assert_int_equal(lopen(f, 4, O_RDONLY), -ELOOP);
    /* a walk never goes through a symlink: it stops at the link (a partial walk, no new fid) */
    assert_int_equal(walk(f, 1, 5, "abs", "passwd", NULL), 0);
    assert_int_equal(p9_get16(&f->in), 1);
    assert_int_equal(walk(f, 1, 5, "up", "outside-secret.txt", NULL), 0);
    assert_int_equal(p9_get16(&f->in), 1);
    assert_int_equal(clunk(f, 5), -EBADF);
    assert_int_equal(walk(f, 1, 5, "up", NULL), 0); /* the link itself */
    assert_int_equal(lopen(f, 5, O_RDONLY), -ELOOP);
    /* a FIFO beneath the grant is never opened */
    assert_int_equal(walk(f, 1, 6, "fifo", NULL), 0);
    assert_int_equal(lopen(f, 6, O_RDONLY), -ENXIO);
    T(f, P9_TMKNOD);
    p9_put32(&f->t, 1);
    str(f, "node");
    for (int i = 0; i < 4; i++) /* mode, major, minor, gid */
        p9_put32(&f->t, i == 0 ? S_IFIFO | 0600 : 0);
    assert_int_equal(send(f), -EPERM);
    assert_true(f->job->stats.denials[DENY_ESCAPE] >= 5);
    assert_true(f->job->stats.denials[DENY_SPECIAL] >= 2);
    /* a hard link across grants would carry the rw grant's rights to the ro one's file */
    assert_int_equal(attach(f, 7, "/in"), 0);
    assert_int_equal(walk(f, 7, 8, "data.txt", NULL), 0);
    T(f, P9_TLINK);
    p9_put32(&f->t, 1);
    p9_put32(&f->t, 8);
    str(f, "stolen");
    assert_int_equal(send(f), -EXDEV);
}

static void test_read_only_grant(void **state)
{
    struct p9fix *f = fixture(state);
    version(f, 65536);
    assert_int_equal(attach(f, 1, "/in"), 0);
    assert_int_equal(walk(f, 1, 2, "data.txt", NULL), 0);
    assert_int_equal(lopen(f, 2, O_RDWR), -EACCES);
    assert_int_equal(lopen(f, 2, O_WRONLY | O_TRUNC), -EACCES);
    assert_int_equal(lopen(f, 2, O_RDONLY), 0);
    assert_int_equal(read_(f, 2, 0, 100), 15);
    assert_int_equal(lcreate(f, 1, "new", O_WRONLY), -EACCES);
    assert_int_equal(name_req(f, P9_TMKDIR, 1, "d", 0755), -EACCES);
    assert_int_equal(name_req(f, P9_TUNLINKAT, 1, "data.txt", 0), -EACCES);
    assert_int_equal(t_renameat(f, 1, "data.txt", 1, "renamed"), -EACCES);
    assert_int_equal(symlink_(f, 1, "l", "data.txt"), -EACCES);
    T(f, P9_TSETATTR);
    p9_put32(&f->t, 2);
    p9_put32(&f->t, 0x8); /* size */
    for (int i = 0; i < 3; i++)
        p9_put32(&f->t, 0);
    for (int i = 0; i < 5; i++)
        p9_put64(&f->t, 0);
    assert_int_equal(send(f), -EACCES);
    char buf[64];
    slurp(hp(f, "ro/data.txt"), buf, sizeof buf);
    assert_string_equal(buf, "read only data\n");
    assert_true(f->job->stats.denials[DENY_RIGHTS] >= 7);
}

static void test_revoked_and_expired(void **state)
{
    struct p9fix *f = fixture(state);
    version(f, 65536);
    assert_int_equal(attach(f, 1, "/work"), 0);
    assert_int_equal(walk(f, 1, 2, "hello.txt", NULL), 0);
    assert_int_equal(lopen(f, 2, O_RDONLY), 0);
    assert_int_equal(attach(f, 3, "/soon"), 0);
    assert_int_equal(walk(f, 3, 4, "data.txt", NULL), 0);
    /* revoked from outside: the next request on the grant (an open file's too) is refused */
    pthread_mutex_lock(&f->job->lock);
    assert_int_equal(cap_revoke(f->job->caps, f->job->grant_roots[0].slot, false, NULL, NULL), 1);
    pthread_mutex_unlock(&f->job->lock);
    assert_int_equal(read_(f, 2, 0, 10), -EKEYREVOKED);
    uint64_t size;
    assert_int_equal(getattr(f, 1, &size), 0); /* a grant's root itself: its attributes at launch */
    assert_int_equal(walk(f, 1, 5, "sub", NULL), -EKEYREVOKED);
    assert_int_equal(walk(f, 1, 5, "hello.txt", NULL), -EKEYREVOKED);
    assert_int_equal(attach(f, 5, "/work"), -EKEYREVOKED);
    assert_int_equal(f->job->stats.denials[DENY_REVOKED], 4);
    /* through the grants' root (how the init mounts them): the entry is still there, so the
     * guest's bind mount of a revoked grant works, and nothing beneath it does */
    assert_int_equal(attach(f, 6, ""), 0);
    assert_int_equal(walk(f, 6, 7, "0", NULL), 0);
    assert_int_equal(getattr(f, 7, &size), 0);
    assert_int_equal(lopen(f, 7, O_RDONLY | O_DIRECTORY), -EKEYREVOKED);
    /* the other grants still work until their own deadline */
    assert_int_equal(getattr(f, 4, &size), 0);
    assert_int_equal(size, 15);
    while (mono_ns() < f->job->start_ns + 250000000ull)
        usleep(10000);
    assert_int_equal(getattr(f, 4, &size), -EKEYEXPIRED);
    assert_int_equal(lopen(f, 4, O_RDONLY), -EKEYEXPIRED);
    assert_true(f->job->stats.denials[DENY_EXPIRED] >= 2);
}

static void test_malformed(void **state)
{
    struct p9fix *f = fixture(state);
    version(f, 8192);
    assert_int_equal(attach(f, 1, "/work"), 0);
    /* the size field must be the request's length */
    T(f, P9_TCLUNK);
    p9_put32(&f->t, 1);
    size_t len = p9_out_end(&f->t);
    assert_int_equal(send_raw(f, len, (uint32_t)len + 1, NULL, 0), -EPROTO);
    /* bytes left over, a string running past the end, a NUL inside a name */
    T(f, P9_TCLUNK);
    p9_put32(&f->t, 1);
    p9_put8(&f->t, 0);
    assert_int_equal(send(f), -EPROTO);
    T(f, P9_TWALK);
    p9_put32(&f->t, 1);
    p9_put32(&f->t, 2);
    p9_put16(&f->t, 1);
    p9_put16(&f->t, 200); /* a name said to be 200 bytes, with 3 there */
    p9_put8(&f->t, 'a');
    p9_put8(&f->t, 'b');
    p9_put8(&f->t, 'c');
    assert_int_equal(send(f), -EPROTO);
    T(f, P9_TWALK);
    p9_put32(&f->t, 1);
    p9_put32(&f->t, 2);
    p9_put16(&f->t, 1);
    p9_put_str(&f->t, "he\0llo", 6);
    assert_int_equal(send(f), -EPROTO);
    /* more names than a walk may have */
    T(f, P9_TWALK);
    p9_put32(&f->t, 1);
    p9_put32(&f->t, 2);
    p9_put16(&f->t, P9_MAXWELEM + 1);
    for (unsigned i = 0; i < P9_MAXWELEM + 1; i++)
        str(f, "sub");
    assert_int_equal(send(f), -EPROTO);
    /* a header too short to hold a tag; an R type; an unknown type */
    assert_int_equal(send_raw(f, 3, 3, NULL, 0), -EPROTO);
    T(f, P9_TVERSION + 1);
    assert_int_equal(send(f), -EOPNOTSUPP);
    T(f, 250);
    assert_int_equal(send(f), -EOPNOTSUPP);
    T(f, P9_TXATTRWALK);
    assert_int_equal(send(f), -EOPNOTSUPP);
    /* Twrite whose count is not the data's length */
    assert_int_equal(walk(f, 1, 2, "hello.txt", NULL), 0);
    assert_int_equal(lopen(f, 2, O_RDWR), 0);
    T(f, P9_TWRITE);
    p9_put32(&f->t, 2);
    p9_put64(&f->t, 0);
    p9_put32(&f->t, 100);
    len = p9_out_end(&f->t);
    le_put(f->req, len + 4, 4);
    assert_int_equal(send_raw(f, len, (uint32_t)len + 4, "abcd", 4), -EPROTO);
    /* a read larger than msize gets at most msize - 11 bytes; offsets past 2^63 refused */
    assert_int_equal(read_(f, 2, 0, 0xffffffffu), 13);
    assert_int_equal(read_(f, 2, 1ull << 63, 10), -EINVAL);
    assert_int_equal(write_(f, 2, INT64_MAX, "xy"), -EFBIG);
    /* fids: unknown, NOFID */
    assert_int_equal(clunk(f, 99), -EBADF);
    assert_int_equal(walk(f, 1, P9_NOFID, NULL), -EBADF);
    assert_int_equal(f->s.stats.malformed, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_version_and_attach, p9_setup, p9_teardown),
        cmocka_unit_test_setup_teardown(test_virtual_root, p9_setup, p9_teardown),
        cmocka_unit_test_setup_teardown(test_walk_read_write, p9_setup, p9_teardown),
        cmocka_unit_test_setup_teardown(test_escapes_refused, p9_setup, p9_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_grant, p9_setup, p9_teardown),
        cmocka_unit_test_setup_teardown(test_revoked_and_expired, p9_setup, p9_teardown),
        cmocka_unit_test_setup_teardown(test_malformed, p9_setup, p9_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
