/* Unit tests of the file-system syscalls over real host directories (issue 12): symlinks that
 * could change meaning by moving, grants whose host path is a symlink, special files that would
 * block an open with the job lock held. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/falloc.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "vmm/caps/fd.h"
#include "vmm/caps/grants.h"
#include "vmm/core/guest_mem.h"
#include "job_fixture.h"

#define U0   0x200000ull /* 16 pages RW: guest strings and buffers */
#define E(x) ((int64_t)-(x))

struct fsfix {
    struct job *job;
    char base[64];       /* the host tree: base/w/out (the rw grant), base/outside-secret.txt */
    char out[128];
    uint64_t next;       /* bump allocator for guest strings */
};

static int fs_setup(void **state)
{
    struct fsfix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->base, "/tmp/isovm-test-fs.XXXXXX");
    assert_non_null(mkdtemp(f->base));
    char p[256];
    snprintf(p, sizeof p, "%s/w", f->base);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(f->out, sizeof f->out, "%s/w/out", f->base);
    assert_int_equal(mkdir(f->out, 0755), 0);
    snprintf(p, sizeof p, "%s/outside-secret.txt", f->base);
    FILE *s = fopen(p, "w");
    assert_non_null(s);
    fputs("OUTSIDE-SECRET\n", s);
    fclose(s);
    f->job = fix_job_new();
    f->job->start_ns = mono_ns();
    fix_map(f->job, U0, 16 * FIX_PG, GPERM_R | GPERM_W);
    f->next = U0;
    *state = f;
    return 0;
}

static int fs_teardown(void **state)
{
    struct fsfix *f = *state;
    fix_job_free(f->job);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->base);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Every path beneath a grant is resolved with openat2, which valgrind (3.19) does not know:
 * under it these tests are skipped (they run plain and under ASan). */
static void need_openat2(void)
{
    struct open_how how = { .flags = O_PATH | O_CLOEXEC };
    long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
        skip();
    close((int)fd);
}

/* Grant host path `host` (relative to base) at `guest` with `rights`, then open the grants. */
static int grant(struct fsfix *f, const char *guest, const char *host, uint32_t rights)
{
    need_openat2();
    struct policy *p = &f->job->policy;
    struct grant *g = &p->grants[p->ngrants++];
    snprintf(g->guest, sizeof g->guest, "%s", guest);
    snprintf(g->host, sizeof g->host, "%s/%s", f->base, host);
    g->rights = rights;
    grants_close(f->job); /* the roots of an earlier call; their capabilities stay */
    return grants_open(f->job);
}

/* A NUL-terminated guest copy of s. */
static uint64_t gs(struct fsfix *f, const char *s)
{
    size_t n = strlen(s) + 1;
    assert_true(f->next + n <= U0 + 16 * FIX_PG);
    memcpy(fix_host(f->job, f->next), s, n);
    uint64_t at = f->next;
    f->next += (n + 7) & ~(size_t)7;
    return at;
}

/* The host path base/rel. */
static const char *hp(struct fsfix *f, const char *rel)
{
    static char buf[4][PATH_MAX];
    static unsigned i;
    char *b = buf[i++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", f->base, rel);
    return b;
}

static void mkdirs(struct fsfix *f, const char *rel) /* "w/out/a/b" */
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", hp(f, rel));
    assert_int_equal(system(cmd), 0);
}

/* ---- symlinks the job makes: only downward, so no move can make one lead out --------------- */

/* The finding: a "../.." link made deep in /out, then renamed to its top, pointed outside the
 * grant on the host (another job granted that file, or a host tool, followed it there). */
static void test_symlink_climbing_refused(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    mkdirs(f, "w/out/a/b");
    assert_int_equal(SC(job, sys_symlink, gs(f, "../../outside-secret.txt"), gs(f, "/out/a/b/l")),
                     E(EPERM));
    struct stat st;
    assert_int_equal(lstat(hp(f, "w/out/a/b/l"), &st), -1); /* nothing was made */
    assert_int_equal(job->stats.denials[DENY_ESCAPE], 1);
    /* so nothing can be renamed upward: the rename of the finding finds no link */
    assert_int_equal(SC(job, sys_rename, gs(f, "/out/a/b/l"), gs(f, "/out/l")), E(ENOENT));
    assert_int_equal(lstat(hp(f, "w/out/l"), &st), -1);

    /* every climbing or absolute form, with symlinkat relative to a descriptor too */
    static const char *const bad[] = {
        "..", "../x", "x/../..", "x/../y", "./../x", "/etc/passwd", "//x", "a//../../b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(SC(job, sys_symlink, gs(f, bad[i]), gs(f, "/out/a/b/m")), E(EPERM));
    int64_t dfd = SC(job, sys_openat, (uint64_t)(uint32_t)AT_FDCWD, gs(f, "/out/a"),
                     O_RDONLY | O_DIRECTORY, 0);
    assert_true(dfd >= 0);
    assert_int_equal(SC(job, sys_symlinkat, gs(f, "../b"), (uint64_t)dfd, gs(f, "m")), E(EPERM));
    assert_int_equal(job->stats.denials[DENY_ESCAPE], 2 + sizeof bad / sizeof bad[0]);
}

/* Downward links are made, followed, and keep their meaning when they or their directory move. */
static void test_symlink_downward_moves(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    mkdirs(f, "w/out/a/b/c");
    FILE *t = fopen(hp(f, "w/out/a/b/c/f.txt"), "w");
    fputs("inside", t);
    fclose(t);
    assert_int_equal(SC(job, sys_symlink, gs(f, "c/f.txt"), gs(f, "/out/a/b/l")), 0);
    assert_int_equal(SC(job, sys_symlink, gs(f, "./c//f.txt"), gs(f, "/out/a/b/l2")), 0);
    char buf[64];
    ssize_t n = readlink(hp(f, "w/out/a/b/l"), buf, sizeof buf);
    assert_int_equal(n, 7);
    /* the link moved up alone now names /out/c/f.txt, which is missing: still beneath */
    assert_int_equal(SC(job, sys_rename, gs(f, "/out/a/b/l"), gs(f, "/out/l")), 0);
    int64_t fd = SC(job, sys_open, gs(f, "/out/l"), O_RDONLY, 0);
    assert_int_equal(fd, E(ENOENT));
    /* its directory moved up: the link in it works as before */
    assert_int_equal(SC(job, sys_rename, gs(f, "/out/a/b"), gs(f, "/out/b")), 0);
    fd = SC(job, sys_open, gs(f, "/out/b/l2"), O_RDONLY, 0);
    assert_true(fd >= 0);
    assert_int_equal(job->stats.denials[DENY_ESCAPE], 0);
}

/* A symlink already on the host whose target climbs or is absolute is not moved by the job:
 * moved, it would mean something else (a link that was inside could lead out). */
static void test_rename_host_symlink(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    mkdirs(f, "w/out/a/b");
    assert_int_equal(symlink("../../outside-secret.txt", hp(f, "w/out/a/b/hl")), 0); /* inside */
    assert_int_equal(symlink("/etc/passwd", hp(f, "w/out/abs")), 0);
    assert_int_equal(symlink("x", hp(f, "w/out/a/down")), 0);
    assert_int_equal(SC(job, sys_rename, gs(f, "/out/a/b/hl"), gs(f, "/out/hl")), E(EPERM));
    assert_int_equal(SC(job, sys_renameat2, (uint64_t)(uint32_t)AT_FDCWD, gs(f, "/out/a/b/hl"),
                        (uint64_t)(uint32_t)AT_FDCWD, gs(f, "/out/a/b/hl2"), RENAME_NOREPLACE),
                     E(EPERM));
    assert_int_equal(SC(job, sys_rename, gs(f, "/out/abs"), gs(f, "/out/a/abs")), E(EPERM));
    assert_int_equal(job->stats.denials[DENY_ESCAPE], 3);
    struct stat st;
    assert_int_equal(lstat(hp(f, "w/out/hl"), &st), -1);
    assert_int_equal(lstat(hp(f, "w/out/a/b/hl"), &st), 0);
    /* a downward host link moves; so does anything replacing a climbing link's name */
    assert_int_equal(SC(job, sys_rename, gs(f, "/out/a/down"), gs(f, "/out/down")), 0);
    assert_int_equal(SC(job, sys_rename, gs(f, "/out/down"), gs(f, "/out/a/b/hl")), 0);
    char buf[16];
    assert_int_equal(readlink(hp(f, "w/out/a/b/hl"), buf, sizeof buf), 1);
}

/* ---- grants whose host path is or goes through a symlink: refused at launch ---------------- */

/* Run grants_open with stderr captured into msg. */
static int grant_captured(struct fsfix *f, const char *guest, const char *host, uint32_t rights,
                          char *msg, size_t len)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    int rc = grant(f, guest, host, rights);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(msg, 1, len - 1, tmp);
    msg[n] = '\0';
    fclose(tmp);
    return rc;
}

/* The cross-job half of the finding: a second job granted the link as a file read the host file
 * outside every grant through it. A file grant whose path is a symlink is refused, naming it. */
static void test_grant_file_symlink_refused(void **state)
{
    struct fsfix *f = *state;
    /* what job A left behind (made by hand here: isovm no longer makes it) */
    assert_int_equal(symlink("../../outside-secret.txt", hp(f, "w/out/l")), 0);
    char msg[1024], want[1200];
    assert_int_equal(grant_captured(f, "/in/l", "w/out/l", CAP_RIGHTS_RO, msg, sizeof msg),
                     -ELOOP);
    snprintf(want, sizeof want, "isovm: policy grants[0].host: %s: %s is a symlink "
             "(-> ../../outside-secret.txt); give the real path %s\n", hp(f, "w/out/l"),
             hp(f, "w/out/l"), hp(f, "outside-secret.txt"));
    assert_string_equal(msg, want);
    assert_int_equal(f->job->ngrant_roots, 0);
}

/* A directory grant (or a file grant) whose path goes through a symlink anywhere is refused. */
static void test_grant_dir_through_symlink_refused(void **state)
{
    struct fsfix *f = *state;
    assert_int_equal(symlink("w", hp(f, "wl")), 0);
    char msg[1024];
    assert_int_equal(grant_captured(f, "/out", "wl/out", CAP_RIGHTS_RW, msg, sizeof msg), -ELOOP);
    assert_non_null(strstr(msg, "wl is a symlink (-> w); give the real path "));
    assert_non_null(strstr(msg, "/w/out\n"));
    f->job->policy.ngrants = 0;
    assert_int_equal(symlink("nowhere", hp(f, "dangling")), 0);
    assert_int_equal(grant_captured(f, "/d", "dangling", CAP_RIGHTS_RO, msg, sizeof msg), -ELOOP);
    assert_non_null(strstr(msg, "dangling is a symlink (-> nowhere), and the path does not "
                            "resolve: No such file or directory"));
    /* the real paths are granted */
    f->job->policy.ngrants = 0;
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    f->job->policy.ngrants = 1;
    FILE *t = fopen(hp(f, "w/file.txt"), "w");
    fclose(t);
    assert_int_equal(grant(f, "/file.txt", "w/./file.txt", CAP_RIGHTS_RO), 0);
    assert_int_equal(f->job->ngrant_roots, 2);
}

/* ---- special files: nothing blocks an open with the job lock held ------------------------- */

/* A host thread that opens `path` (the FIFO's other end) after `delay_ms`, so that an open that
 * blocks (the old code) ends after that delay instead of hanging the test run; told to stop
 * first (other_end_join), it opens nothing, so a run where nothing blocks does not wait. */
struct other_end {
    pthread_t thread;
    const char *path;
    int flags, delay_ms, fd;
    int stop[2];         /* a pipe: written by other_end_join */
};

static void *other_end_main(void *arg)
{
    struct other_end *o = arg;
    struct pollfd p = { .fd = o->stop[0], .events = POLLIN };
    if (poll(&p, 1, o->delay_ms) == 0)
        o->fd = open(o->path, o->flags | O_NONBLOCK | O_CLOEXEC); /* never blocks this thread */
    return NULL;
}

static void other_end_start(struct other_end *o, const char *path, int flags, int delay_ms)
{
    *o = (struct other_end){ .path = path, .flags = flags, .delay_ms = delay_ms, .fd = -1 };
    assert_int_equal(pipe2(o->stop, O_CLOEXEC), 0);
    assert_int_equal(pthread_create(&o->thread, NULL, other_end_main, o), 0);
}

static void other_end_join(struct other_end *o)
{
    assert_int_equal(write(o->stop[1], "x", 1), 1);
    pthread_join(o->thread, NULL);
    close(o->stop[0]);
    close(o->stop[1]);
    if (o->fd >= 0)
        close(o->fd);
}

/* open of `guest` with `flags` in the job: its result, and its duration in *ms. */
static int64_t timed_open(struct fsfix *f, const char *guest, int flags, uint64_t *ms)
{
    uint64_t t0 = mono_ns();
    int64_t r = SC(f->job, sys_openat, (uint64_t)(uint32_t)AT_FDCWD, gs(f, guest),
                   (uint64_t)flags, 0600);
    *ms = (mono_ns() - t0) / 1000000;
    return r;
}

/* The finding: open() of a FIFO inside a grant blocked in the VMM with the job lock held, past
 * the timeout and SIGTERM. Every mode is refused at once with ENXIO, counted as special-file. */
static void test_fifo_open_refused(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    const char *fifo = hp(f, "w/out/fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDONLY | O_NONBLOCK,
                                 O_WRONLY | O_NONBLOCK, O_WRONLY | O_TRUNC, O_RDONLY | O_CREAT };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        struct other_end o;
        /* the other end opens after 1.5 s: a blocking open would end then, and succeed */
        other_end_start(&o, fifo, (modes[i] & O_ACCMODE) == O_RDONLY ? O_WRONLY : O_RDONLY, 1500);
        uint64_t ms;
        int64_t r = timed_open(f, "/out/fifo", modes[i], &ms);
        other_end_join(&o);
        if (r != E(ENXIO) || ms > 500)
            fail_msg("open of a FIFO with flags %#o: %lld after %llu ms, want -ENXIO at once",
                     modes[i], (long long)r, (unsigned long long)ms);
    }
    /* with a reader already there, a write open succeeds on the host: refused after fstat */
    int reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(reader >= 0);
    uint64_t ms;
    assert_int_equal(timed_open(f, "/out/fifo", O_WRONLY, &ms), E(ENXIO));
    close(reader);
    assert_int_equal(job->stats.denials[DENY_SPECIAL], 8);
    assert_int_equal(job->procs[0].fds_open, 0);
    /* a symlink to it is the same; stat, lstat, access and O_PATH do not open it */
    assert_int_equal(SC(job, sys_symlink, gs(f, "fifo"), gs(f, "/out/fl")), 0);
    assert_int_equal(timed_open(f, "/out/fl", O_RDONLY, &ms), E(ENXIO));
    assert_true(ms < 500);
    assert_int_equal(SC(job, sys_stat, gs(f, "/out/fifo"), f->next), 0);
    assert_int_equal(SC(job, sys_access, gs(f, "/out/fifo"), R_OK), 0);
    int64_t p = timed_open(f, "/out/fifo", O_PATH, &ms);
    assert_true(p >= 0);
    /* truncate opens it for writing: refused too, at once */
    uint64_t t0 = mono_ns();
    assert_int_equal(SC(job, sys_truncate, gs(f, "/out/fl"), 0), E(ENXIO));
    assert_true(mono_ns() - t0 < 500000000ull);
}

/* Sockets and devices beneath a grant are refused the same way; regular files keep working, and
 * the host descriptor is blocking again (the job's O_NONBLOCK lives in its descriptor). */
static void test_special_files_refused(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", hp(f, "w/out/sock"));
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s, 1), 0);
    uint64_t ms;
    assert_int_equal(timed_open(f, "/out/sock", O_RDWR, &ms), E(ENXIO));
    close(s);
    unsigned want = 1;
    if (mknod(hp(f, "w/out/null"), S_IFCHR | 0666, makedev(1, 3)) == 0) {
        assert_int_equal(timed_open(f, "/out/null", O_WRONLY, &ms), E(ENXIO));
        want++;
    }
    assert_int_equal(job->stats.denials[DENY_SPECIAL], want);
    int64_t fd = timed_open(f, "/out/plain", O_RDWR | O_CREAT | O_NONBLOCK, &ms);
    assert_true(fd >= 0);
    assert_true(job->procs[0].fds[fd].status & O_NONBLOCK);
    int host = job->caps->caps[job->procs[0].fds[fd].cap].host_fd;
    assert_int_equal(fcntl(host, F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_RDWR);
    fd = timed_open(f, "/out", O_RDONLY | O_DIRECTORY, &ms);
    assert_true(fd >= 0);
}

/* A FIFO granted as a file is refused at launch without blocking it. */
static void test_grant_fifo_refused(void **state)
{
    struct fsfix *f = *state;
    need_openat2(); /* before the thread starts */
    assert_int_equal(mkfifo(hp(f, "w/fifo"), 0600), 0);
    char msg[1024];
    struct other_end o;
    other_end_start(&o, hp(f, "w/fifo"), O_WRONLY, 1500);
    uint64_t t0 = mono_ns();
    assert_int_equal(grant_captured(f, "/fifo", "w/fifo", CAP_RIGHTS_RO, msg, sizeof msg),
                     -EINVAL);
    assert_true(mono_ns() - t0 < 500000000ull);
    other_end_join(&o);
    assert_non_null(strstr(msg, "w/fifo: not a directory or a regular file\n"));
}

/* ---- issue 17's calls: creat, link/linkat, statfs/fstatfs, fallocate; modes as Linux shows them */

static void write_file(struct fsfix *f, const char *rel, const char *text, mode_t mode)
{
    FILE *t = fopen(hp(f, rel), "w");
    assert_non_null(t);
    fputs(text, t);
    fclose(t);
    assert_int_equal(chmod(hp(f, rel), mode), 0);
}

/* creat is open(O_CREAT | O_WRONLY | O_TRUNC) with the umask applied; stat shows a file's own
 * bits whatever the grant's rights (cp of a 0644 file from a read-only grant made it 0444). */
static void test_creat_and_modes(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    mkdirs(f, "w/ro");
    write_file(f, "w/ro/src.txt", "0644 file", 0644);
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    assert_int_equal(grant(f, "/ro", "w/ro", CAP_R_READ | CAP_R_LIST | CAP_R_STAT), 0);
    struct stat st;
    assert_int_equal(SC(job, sys_stat, gs(f, "/ro/src.txt"), U0 + 8 * FIX_PG), 0);
    memcpy(&st, fix_host(job, U0 + 8 * FIX_PG), sizeof st);
    assert_int_equal(st.st_mode & 07777, 0644);
    int64_t fd = SC(job, sys_creat, gs(f, "/out/new.txt"), 0666);
    assert_true(fd >= 0);
    assert_int_equal(SC(job, sys_write, (uint64_t)fd, gs(f, "abc"), 3), 3);
    assert_int_equal(SC(job, sys_read, (uint64_t)fd, U0 + 9 * FIX_PG, 1), E(EBADF)); /* write-only */
    assert_int_equal(stat(hp(f, "w/out/new.txt"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644); /* 0666 less the umask */
    assert_int_equal(st.st_size, 3);
    fd = SC(job, sys_creat, gs(f, "/out/new.txt"), 0600); /* truncated, its mode kept */
    assert_true(fd >= 0);
    assert_int_equal(stat(hp(f, "w/out/new.txt"), &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(SC(job, sys_creat, gs(f, "/ro/x.txt"), 0644), E(EACCES)); /* no CREATE */
    assert_int_equal(SC(job, sys_mkdir, gs(f, "/out/d"), 0755), 0);
    assert_int_equal(stat(hp(f, "w/out/d"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    /* the job's umask, as Linux applies it (the VMM's own is 0 while a job runs: launch.c) */
    mode_t host_umask = umask(0);
    assert_int_equal(SC(job, sys_umask, 027), 022);
    assert_int_equal(SC(job, sys_umask, 01027), 027); /* only the permission bits are kept */
    assert_true((fd = SC(job, sys_creat, gs(f, "/out/u.txt"), 0666)) >= 0);
    assert_int_equal(stat(hp(f, "w/out/u.txt"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(SC(job, sys_mkdir, gs(f, "/out/ud"), 0777), 0);
    assert_int_equal(stat(hp(f, "w/out/ud"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    assert_int_equal(SC(job, sys_umask, 0), 027);
    assert_int_equal(SC(job, sys_mkdir, gs(f, "/out/u0"), 0777), 0);
    assert_int_equal(stat(hp(f, "w/out/u0"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0777);
    umask(host_umask);
}

static void test_link(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    mkdirs(f, "w/out/a");
    mkdirs(f, "w/other");
    write_file(f, "w/out/a/f.txt", "linked", 0644);
    write_file(f, "w/other/g.txt", "other grant", 0644);
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    assert_int_equal(grant(f, "/other", "w/other", CAP_RIGHTS_RW), 0);
    assert_int_equal(SC(job, sys_link, gs(f, "/out/a/f.txt"), gs(f, "/out/l.txt")), 0);
    struct stat a, b;
    assert_int_equal(stat(hp(f, "w/out/a/f.txt"), &a), 0);
    assert_int_equal(stat(hp(f, "w/out/l.txt"), &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(a.st_nlink, 2);
    /* linkat relative to a directory descriptor, AT_SYMLINK_FOLLOW of a plain file */
    int64_t dfd = SC(job, sys_openat, (uint64_t)(uint32_t)AT_FDCWD, gs(f, "/out/a"),
                     O_RDONLY | O_DIRECTORY, 0);
    assert_true(dfd >= 0);
    assert_int_equal(SC(job, sys_linkat, (uint64_t)dfd, gs(f, "f.txt"), (uint64_t)dfd, gs(f, "f2.txt"),
                        AT_SYMLINK_FOLLOW), 0);
    assert_int_equal(stat(hp(f, "w/out/a/f2.txt"), &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    /* refused: another grant (EXDEV), an existing name, a directory, the view, bad flags */
    assert_int_equal(SC(job, sys_link, gs(f, "/other/g.txt"), gs(f, "/out/g.txt")), E(EXDEV));
    assert_int_equal(SC(job, sys_link, gs(f, "/out/a/f.txt"), gs(f, "/out/l.txt")), E(EEXIST));
    assert_int_equal(SC(job, sys_link, gs(f, "/out/a"), gs(f, "/out/dirlink")), E(EPERM));
    assert_int_equal(SC(job, sys_link, gs(f, "/out/a/f.txt"), gs(f, "/x")), E(ENOENT)); /* outside */
    assert_int_equal(SC(job, sys_link, gs(f, "/out/a/f.txt"), gs(f, "/out")), E(EPERM)); /* a root */
    assert_int_equal(SC(job, sys_linkat, (uint64_t)dfd, gs(f, "f.txt"), (uint64_t)dfd, gs(f, "f3"),
                        0x8000), E(EINVAL));
    assert_int_equal(SC(job, sys_linkat, (uint64_t)dfd, gs(f, ""), (uint64_t)dfd, gs(f, "f3"),
                        AT_EMPTY_PATH), E(ENOENT));
    /* a host symlink that climbs is not given a second name (it would lead elsewhere there) */
    assert_int_equal(symlink("../../outside-secret.txt", hp(f, "w/out/a/up")), 0);
    assert_int_equal(SC(job, sys_link, gs(f, "/out/a/up"), gs(f, "/out/up")), E(EPERM));
    /* ... nor, followed, linked from outside the grant */
    assert_true(SC(job, sys_linkat, (uint64_t)dfd, gs(f, "up"), (uint64_t)dfd, gs(f, "up2"),
                   AT_SYMLINK_FOLLOW) < 0);
    struct stat st;
    assert_int_equal(lstat(hp(f, "w/out/up"), &st), -1);
    assert_int_equal(lstat(hp(f, "w/out/a/up2"), &st), -1);
    /* without CREATE where the name goes, or READ of the source: EACCES */
    mkdirs(f, "w/ro");
    write_file(f, "w/ro/r.txt", "r", 0644);
    assert_int_equal(grant(f, "/ro", "w/ro", CAP_R_READ | CAP_R_LIST | CAP_R_STAT), 0);
    assert_int_equal(SC(job, sys_link, gs(f, "/ro/r.txt"), gs(f, "/ro/r2.txt")), E(EACCES));
}

static void test_statfs(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    mkdirs(f, "w/ro");
    write_file(f, "w/out/f.txt", "x", 0644);
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    assert_int_equal(grant(f, "/ro", "w/ro", CAP_R_READ | CAP_R_LIST | CAP_R_STAT), 0);
    struct statfs host, s;
    assert_int_equal(statfs(hp(f, "w/out"), &host), 0);
    uint64_t buf = U0 + 8 * FIX_PG;
    assert_int_equal(SC(job, sys_statfs, gs(f, "/out/f.txt"), buf), 0);
    memcpy(&s, fix_host(job, buf), sizeof s);
    assert_int_equal(s.f_type, host.f_type);
    assert_int_equal(s.f_bsize, host.f_bsize);
    assert_int_equal(s.f_blocks, host.f_blocks);
    assert_int_equal(s.f_fsid.__val[0], 1); /* the grant's number, not the host's id */
    assert_int_equal(s.f_fsid.__val[1], 0);
    assert_int_equal(s.f_flags & ST_RDONLY, 0);
    assert_int_equal(SC(job, sys_statfs, gs(f, "/ro"), buf), 0);
    memcpy(&s, fix_host(job, buf), sizeof s);
    assert_int_equal(s.f_flags & ST_RDONLY, ST_RDONLY);
    assert_int_equal(s.f_fsid.__val[0], 2);
    assert_int_equal(SC(job, sys_statfs, gs(f, "/"), buf), 0); /* the view's own: read-only */
    memcpy(&s, fix_host(job, buf), sizeof s);
    assert_int_equal(s.f_flags & ST_RDONLY, ST_RDONLY);
    assert_int_equal(s.f_blocks, 0);
    int64_t fd = SC(job, sys_open, gs(f, "/out/f.txt"), O_RDONLY, 0);
    assert_true(fd >= 0);
    assert_int_equal(SC(job, sys_fstatfs, (uint64_t)fd, buf), 0);
    memcpy(&s, fix_host(job, buf), sizeof s);
    assert_int_equal(s.f_type, host.f_type);
    assert_int_equal(SC(job, sys_statfs, gs(f, "/nowhere"), buf), E(ENOENT));
    assert_int_equal(SC(job, sys_statfs, gs(f, "/out/f.txt"), 0x10), E(EFAULT));
    assert_int_equal(SC(job, sys_fstatfs, 99, buf), E(EBADF));
}

static void test_fallocate(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    write_file(f, "w/out/f.bin", "", 0644);
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    int64_t fd = SC(job, sys_open, gs(f, "/out/f.bin"), O_RDWR, 0);
    assert_true(fd >= 0);
    int64_t rc = SC(job, sys_fallocate, (uint64_t)fd, 0, 0, 8192);
    if (rc == E(EOPNOTSUPP)) /* the host's file system cannot (tmpfs can) */
        skip();
    assert_int_equal(rc, 0);
    struct stat st;
    assert_int_equal(stat(hp(f, "w/out/f.bin"), &st), 0);
    assert_int_equal(st.st_size, 8192);
    assert_int_equal(SC(job, sys_fallocate, (uint64_t)fd, FALLOC_FL_KEEP_SIZE, 8192, 4096), 0);
    assert_int_equal(stat(hp(f, "w/out/f.bin"), &st), 0);
    assert_int_equal(st.st_size, 8192);
    assert_int_equal(SC(job, sys_fallocate, (uint64_t)fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        0, 4096), E(EOPNOTSUPP));
    assert_int_equal(SC(job, sys_fallocate, (uint64_t)fd, 0, 0, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_fallocate, (uint64_t)fd, 0, (uint64_t)-1, 1), E(EINVAL));
    assert_int_equal(SC(job, sys_fallocate, (uint64_t)fd, 0, INT64_MAX, 2), E(EINVAL));
    int64_t ro = SC(job, sys_open, gs(f, "/out/f.bin"), O_RDONLY, 0);
    assert_int_equal(SC(job, sys_fallocate, (uint64_t)ro, 0, 0, 4096), E(EACCES));
}

/* ---- locks: fcntl's record locks and flock, on the host's descriptors ---------------------- */

struct gflock { int16_t type, whence; int32_t pad0; int64_t start, len; int32_t pid, pad1; };

static uint64_t put_flock(struct fsfix *f, int type, int whence, int64_t start, int64_t len, int pid)
{
    struct gflock g = { (int16_t)type, (int16_t)whence, 0, start, len, pid, 0 };
    uint64_t at = U0 + 12 * FIX_PG;
    memcpy(fix_host(f->job, at), &g, sizeof g);
    return at;
}

static struct gflock get_flock(struct fsfix *f)
{
    struct gflock g;
    memcpy(&g, fix_host(f->job, U0 + 12 * FIX_PG), sizeof g);
    return g;
}

static void test_locks(void **state)
{
    struct fsfix *f = *state;
    struct job *job = f->job;
    write_file(f, "w/out/db", "0123456789", 0644);
    assert_int_equal(grant(f, "/out", "w/out", CAP_RIGHTS_RW), 0);
    int64_t a = SC(job, sys_open, gs(f, "/out/db"), O_RDWR, 0);
    int64_t b = SC(job, sys_open, gs(f, "/out/db"), O_RDWR, 0);
    int64_t ro = SC(job, sys_open, gs(f, "/out/db"), O_RDONLY, 0);
    assert_true(a >= 0 && b >= 0 && ro >= 0);
    /* POSIX locks belong to the job (one process): its own never conflict */
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)a, F_SETLK, put_flock(f, F_WRLCK, SEEK_SET, 0, 4, 0)), 0);
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)b, F_GETLK, put_flock(f, F_WRLCK, SEEK_SET, 0, 4, 0)), 0);
    assert_int_equal(get_flock(f).type, F_UNLCK);
    /* another process on the host holding a lock: the job waits or is refused, and never learns
     * its pid */
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t p = fork();
    if (p == 0) {
        int fd = open(hp(f, "w/out/db"), O_RDWR);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 6, .l_len = 2 };
        char ch = fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
        if (write(ready[1], &ch, 1) != 1 || read(go[0], &ch, 1) != 1)
            _exit(1);
        usleep(100000); /* the job is waiting in F_SETLKW by now */
        _exit(0);       /* its lock goes with it */
    }
    char ch;
    assert_int_equal(read(ready[0], &ch, 1), 1);
    assert_int_equal(ch, 'y');
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)a, F_SETLK, put_flock(f, F_WRLCK, SEEK_SET, 6, 1, 0)), E(EAGAIN));
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)a, F_GETLK, put_flock(f, F_RDLCK, SEEK_SET, 0, 0, 0)), 0);
    struct gflock g = get_flock(f);
    assert_int_equal(g.type, F_WRLCK);
    assert_int_equal(g.start, 6);
    assert_int_equal(g.len, 2);
    assert_int_equal(g.pid, 0); /* not the holder's host pid */
    assert_int_equal(write(go[1], "g", 1), 1);
    uint64_t t0 = mono_ns();
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)a, F_SETLKW, put_flock(f, F_WRLCK, SEEK_SET, 6, 1, 0)), 0);
    assert_true(mono_ns() - t0 > 20000000ull); /* it waited for the holder to go */
    waitpid(p, NULL, 0);
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
    /* OFD locks belong to the open file: two opens conflict; their holder shows as -1 */
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)a, F_SETLK, put_flock(f, F_UNLCK, SEEK_SET, 0, 0, 0)), 0);
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)a, F_OFD_SETLK, put_flock(f, F_WRLCK, SEEK_SET, 0, 0, 0)), 0);
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)b, F_OFD_SETLK, put_flock(f, F_RDLCK, SEEK_SET, 0, 0, 0)), E(EAGAIN));
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)b, F_OFD_GETLK, put_flock(f, F_RDLCK, SEEK_SET, 0, 0, 0)), 0);
    assert_int_equal(get_flock(f).type, F_WRLCK);
    assert_int_equal(get_flock(f).pid, -1);
    assert_int_equal(SC(job, sys_close, (uint64_t)a), 0); /* closing releases it */
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)b, F_OFD_SETLK, put_flock(f, F_RDLCK, SEEK_SET, 0, 0, 0)), 0);
    /* checked: type, whence, an OFD l_pid, the access mode, the pointer, the kind */
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)b, F_SETLK, put_flock(f, 7, SEEK_SET, 0, 0, 0)), E(EINVAL));
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)b, F_SETLK, put_flock(f, F_RDLCK, 9, 0, 0, 0)), E(EINVAL));
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)b, F_OFD_SETLK, put_flock(f, F_RDLCK, SEEK_SET, 0, 0, 5)), E(EINVAL));
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)ro, F_SETLK, put_flock(f, F_WRLCK, SEEK_SET, 0, 0, 0)), E(EBADF));
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)b, F_SETLK, 0x10), E(EFAULT));
    int64_t d = SC(job, sys_openat, (uint64_t)(uint32_t)AT_FDCWD, gs(f, "/out"), O_RDONLY | O_DIRECTORY, 0);
    assert_true(d >= 0);
    assert_int_equal(SC(job, sys_fcntl, (uint64_t)d, F_SETLK, put_flock(f, F_RDLCK, SEEK_SET, 0, 0, 0)), E(EINVAL));
    /* flock: per open file; LOCK_NB refuses at once */
    assert_int_equal(SC(job, sys_flock, (uint64_t)b, LOCK_EX), 0);
    int64_t c2 = SC(job, sys_open, gs(f, "/out/db"), O_RDONLY, 0);
    assert_int_equal(SC(job, sys_flock, (uint64_t)c2, LOCK_SH | LOCK_NB), E(EWOULDBLOCK));
    assert_int_equal(SC(job, sys_flock, (uint64_t)b, LOCK_UN), 0);
    assert_int_equal(SC(job, sys_flock, (uint64_t)c2, LOCK_SH | LOCK_NB), 0);
    assert_int_equal(SC(job, sys_flock, (uint64_t)c2, 0x40), E(EINVAL));
    assert_int_equal(SC(job, sys_flock, (uint64_t)c2, LOCK_SH | LOCK_EX), E(EINVAL));
    assert_int_equal(SC(job, sys_flock, 99, LOCK_SH), E(EBADF));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fs_setup, fs_teardown)
    const struct CMUnitTest tests[] = {
        T(test_symlink_climbing_refused),
        T(test_symlink_downward_moves),
        T(test_rename_host_symlink),
        T(test_grant_file_symlink_refused),
        T(test_grant_dir_through_symlink_refused),
        T(test_fifo_open_refused),
        T(test_special_files_refused),
        T(test_grant_fifo_refused),
        T(test_creat_and_modes),
        T(test_link),
        T(test_statfs),
        T(test_fallocate),
        T(test_locks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
