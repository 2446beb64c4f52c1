/* Hostile file-system jobs (issue 12): symlinks that would change meaning by moving, opens of a
 * FIFO inside a grant, and a flood of refused opens of long control-byte paths for the audit log.
 *
 *   hostile_fs symlink-escape      in a rw grant /out: the finding's "../.." links made deep and
 *                                  renamed upward (refused), downward links made and moved (work)
 *   hostile_fs fifo PATH [then]    open PATH (a FIFO) for read and for write, blocking and not: all
 *                                  refused at once; then "spin" (until a limit ends the job) or
 *                                  "sleep" (until a signal to isovm does), after printing "ready"
 *   hostile_fs audit-flood N PATH  N refused writable opens of PATH + 4000 control bytes
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static void symlink_escape(void)
{
    CHECK("mkdir /out/a/b", mkdir("/out/a", 0755) == 0 && mkdir("/out/a/b", 0755) == 0,
          "errno %d", errno);
    /* finding 1: accepted before, then renamed to the grant's top it led outside */
    CHECK_ERRNO("symlink ../../outside-secret.txt /out/a/b/l",
                symlink("../../outside-secret.txt", "/out/a/b/l"), EPERM);
    CHECK_ERRNO("rename /out/a/b/l /out/l", rename("/out/a/b/l", "/out/l"), ENOENT);
    /* the same with a directory holding such a link, renamed upward */
    CHECK("mkdir /out/x/y/z", mkdir("/out/x", 0755) == 0 && mkdir("/out/x/y", 0755) == 0 &&
          mkdir("/out/x/y/z", 0755) == 0, "errno %d", errno);
    CHECK_ERRNO("symlink ../../../outside-secret.txt /out/x/y/z/l",
                symlink("../../../outside-secret.txt", "/out/x/y/z/l"), EPERM);
    CHECK("rename /out/x/y/z /out/z", rename("/out/x/y/z", "/out/z") == 0, "errno %d", errno);
    CHECK_ERRNO("symlink /etc/passwd /out/abs", symlink("/etc/passwd", "/out/abs"), EPERM);
    CHECK_ERRNO("symlink x/../../y /out/a/m", symlink("x/../../y", "/out/a/m"), EPERM);
    /* a host-made link that climbs (the case puts /out/h/hostlink -> ../h/f.txt) stays put */
    CHECK_ERRNO("rename /out/h/hostlink /out/hostlink", rename("/out/h/hostlink", "/out/hostlink"),
                EPERM);
    /* downward links are made, and mean the same after any move */
    int fd = open("/out/a/b/f.txt", O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK("create /out/a/b/f.txt", fd >= 0 && write(fd, "inside\n", 7) == 7, "errno %d", errno);
    close(fd);
    CHECK("symlink f.txt /out/a/b/down", symlink("f.txt", "/out/a/b/down") == 0, "errno %d",
          errno);
    CHECK("rename /out/a/b /out/b", rename("/out/a/b", "/out/b") == 0, "errno %d", errno);
    char buf[16] = "";
    fd = open("/out/b/down", O_RDONLY);
    CHECK("read /out/b/down", fd >= 0 && read(fd, buf, sizeof buf - 1) == 7 &&
          strcmp(buf, "inside\n") == 0, "fd %d errno %d got '%s'", fd, errno, buf);
    close(fd);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fifo(const char *path, const char *then)
{
    static const struct { const char *name; int flags; } modes[] = {
        { "O_RDONLY", O_RDONLY }, { "O_WRONLY", O_WRONLY },
        { "O_RDONLY|O_NONBLOCK", O_RDONLY | O_NONBLOCK },
        { "O_WRONLY|O_NONBLOCK", O_WRONLY | O_NONBLOCK }, { "O_RDWR", O_RDWR },
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "open %s %s", path, modes[i].name);
        double t0 = now_s();
        int fd = open(path, modes[i].flags);
        int e = errno;
        double took = now_s() - t0;
        errno = e;
        CHECK_ERRNO(name, fd, ENXIO);
        snprintf(name, sizeof name, "open %s %s at once", path, modes[i].name);
        CHECK(name, took < 0.5, "took %.3f s", took);
        if (fd >= 0)
            close(fd);
    }
    if (!then)
        return;
    printf("ready\n");
    fflush(stdout);
    if (!strcmp(then, "spin"))
        for (volatile unsigned long n = 0;; n++)
            ;
    for (;;)
        sleep(1000);
}

static void audit_flood(long n, const char *dir)
{
    static char path[4096];
    size_t k = (size_t)snprintf(path, sizeof path, "%s/", dir);
    memset(path + k, 1, 4000); /* 4000 control bytes: each \u0001 in the log */
    path[k + 4000] = '\0';
    long refused = 0;
    for (long i = 0; i < n; i++) {
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        if (fd < 0 && errno == EACCES)
            refused++;
        else if (fd >= 0)
            close(fd);
    }
    CHECK("every open refused with EACCES", refused == n, "%ld of %ld", refused, n);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "symlink-escape"))
        symlink_escape();
    else if (argc >= 3 && !strcmp(argv[1], "fifo"))
        fifo(argv[2], argc >= 4 ? argv[3] : NULL);
    else if (argc >= 4 && !strcmp(argv[1], "audit-flood"))
        audit_flood(atol(argv[2]), argv[3]);
    else {
        fprintf(stderr, "usage: hostile_fs symlink-escape | fifo PATH [spin|sleep] | "
                "audit-flood N DIR\n");
        return 2;
    }
    return check_done();
}
