/* File-system view driver: runs the steps given as arguments ("read:/data/a.txt",
 * "write:/data/b:TEXT", ...) one by one and prints one line per step, "STEP -> RESULT", where a
 * failure is the errno's name. The integration cases (fs_cases.sh) compare these lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *err_name(int e)
{
    static const struct { int e; const char *name; } names[] = {
        {ENOENT, "ENOENT"}, {EACCES, "EACCES"}, {EPERM, "EPERM"}, {EXDEV, "EXDEV"},
        {EEXIST, "EEXIST"}, {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"}, {EBUSY, "EBUSY"},
        {ELOOP, "ELOOP"}, {EINVAL, "EINVAL"}, {EBADF, "EBADF"}, {ENOTEMPTY, "ENOTEMPTY"},
        {EKEYEXPIRED, "EKEYEXPIRED"}, {EKEYREVOKED, "EKEYREVOKED"},
        {ENAMETOOLONG, "ENAMETOOLONG"}, {ERANGE, "ERANGE"}, {ENOSYS, "ENOSYS"},
        {EROFS, "EROFS"}, {ESPIPE, "ESPIPE"}, {EMFILE, "EMFILE"}, {EFAULT, "EFAULT"},
        {EAGAIN, "EAGAIN"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e)
            return names[i].name;
    static char buf[32];
    snprintf(buf, sizeof buf, "errno%d", e);
    return buf;
}

static const char *step_name;

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ok(const char *fmt, ...)
{
    printf("%s -> ", step_name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void failed(void) { printf("%s -> %s\n", step_name, err_name(errno)); }

/* The whole file (up to 4 KiB) with newlines shown as '|'. */
static int read_fd_text(int fd, char *buf, size_t len)
{
    size_t got = 0;
    ssize_t n = 0;
    while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
        got += (size_t)n;
    if (n < 0)
        return -1;
    buf[got] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '\n')
            *p = '|';
    return 0;
}

static void do_read(const char *path, int dirfd)
{
    int fd = openat(dirfd, path, O_RDONLY);
    char buf[4096];
    if (fd < 0 || read_fd_text(fd, buf, sizeof buf) < 0) {
        failed();
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    ok("%s", buf);
}

static void do_write(const char *path, const char *text, int flags)
{
    int fd = open(path, O_WRONLY | flags, 0644);
    if (fd < 0)
        return failed();
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    if (n < 0)
        return failed();
    ok("%zd", n);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void do_ls(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return failed();
    char *names[256];
    int n = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) && n < 256)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            names[n++] = strdup(de->d_name);
    int e = errno;
    closedir(d);
    if (e) {
        errno = e;
        return failed();
    }
    qsort(names, (size_t)n, sizeof names[0], cmp);
    char out[4096] = "";
    for (int i = 0; i < n; i++) {
        strncat(out, names[i], sizeof out - strlen(out) - 2);
        if (i + 1 < n)
            strcat(out, " ");
        free(names[i]);
    }
    ok("[%s]", out);
}

static void do_stat(const char *path, bool nofollow)
{
    struct stat st;
    if ((nofollow ? lstat(path, &st) : stat(path, &st)) < 0)
        return failed();
    char t = S_ISDIR(st.st_mode)   ? 'd'
             : S_ISREG(st.st_mode) ? 'f'
             : S_ISLNK(st.st_mode) ? 'l'
                                   : '?';
    ok("%c %04o size=%lld uid=%d", t, (unsigned)(st.st_mode & 07777),
       S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL, (int)st.st_uid);
}

/* Open+read `path` n times; count contents with and without the marker. */
static void do_loopread(const char *path, int n, const char *good_marker)
{
    int good = 0, bad = 0, errs = 0;
    for (int i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);
        char buf[4096];
        if (fd < 0) {
            errs++;
            continue;
        }
        if (read_fd_text(fd, buf, sizeof buf) == 0 && strstr(buf, good_marker))
            good++;
        else if (buf[0])
            bad++, printf("OUTSIDE CONTENT READ: %.60s\n", buf);
        close(fd);
    }
    ok("good=%s bad=%d", good > 0 ? "some" : "none", bad);
    (void)errs;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        char *step = strdup(argv[i]);
        step_name = argv[i];
        char *f[5] = {0};
        int nf = 0;
        for (char *s = step, *tok; nf < 5 && (tok = strsep(&s, ":"));)
            f[nf++] = tok;
        const char *op = f[0], *a = f[1] ? f[1] : "", *b = f[2] ? f[2] : "";
        errno = 0;
        if (!strcmp(op, "read"))
            do_read(a, AT_FDCWD);
        else if (!strcmp(op, "readat")) { /* readat:DIR:REL: openat relative to DIR */
            int d = open(a, O_RDONLY | O_DIRECTORY);
            if (d < 0)
                failed();
            else
                do_read(b, d), close(d);
        } else if (!strcmp(op, "write"))
            do_write(a, b, O_CREAT | O_TRUNC);
        else if (!strcmp(op, "writeexisting"))
            do_write(a, b, 0);
        else if (!strcmp(op, "append"))
            do_write(a, b, O_APPEND);
        else if (!strcmp(op, "create")) {
            int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
            fd < 0 ? failed() : (close(fd), ok("ok"));
        } else if (!strcmp(op, "lockhold") || !strcmp(op, "trylock") || !strcmp(op, "lockwait")) {
            /* lockhold:PATH:RELEASE a write lock on all of PATH (F_SETLK), held until the file
             * RELEASE exists (60 s at most; the job then goes on to its next step, the lock
             * still held: it goes with the job); trylock:PATH F_SETLK once; lockwait:PATH
             * F_SETLKW, waiting for the holder */
            int fd = open(a, O_RDWR);
            struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
            int wait = !strcmp(op, "lockwait");
            if (fd < 0 || fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) < 0) {
                failed();
            } else {
                ok("ok");
                fflush(stdout);
                for (int ms = 0; !strcmp(op, "lockhold") && ms < 60000 && access(b, F_OK) != 0;
                     ms += 20)
                    usleep(20000);
            }
        } else if (!strcmp(op, "unlink"))
            unlink(a) < 0 ? failed() : ok("ok");
        else if (!strcmp(op, "rmdir"))
            rmdir(a) < 0 ? failed() : ok("ok");
        else if (!strcmp(op, "mkdir"))
            mkdir(a, 0755) < 0 ? failed() : ok("ok");
        else if (!strcmp(op, "rename"))
            rename(a, b) < 0 ? failed() : ok("ok");
        else if (!strcmp(op, "ls"))
            do_ls(a);
        else if (!strcmp(op, "stat"))
            do_stat(a, false);
        else if (!strcmp(op, "lstat"))
            do_stat(a, true);
        else if (!strcmp(op, "symlink"))
            symlink(a, b) < 0 ? failed() : ok("ok");
        else if (!strcmp(op, "readlink")) {
            char buf[4096];
            ssize_t n = readlink(a, buf, sizeof buf - 1);
            n < 0 ? failed() : (buf[n] = '\0', ok("%s", buf));
        } else if (!strcmp(op, "chdir"))
            chdir(a) < 0 ? failed() : ok("ok");
        else if (!strcmp(op, "getcwd")) {
            char buf[4096];
            getcwd(buf, sizeof buf) ? ok("%s", buf) : failed();
        } else if (!strcmp(op, "access")) {
            int m = !strcmp(b, "r") ? R_OK : !strcmp(b, "w") ? W_OK : !strcmp(b, "x") ? X_OK : F_OK;
            access(a, m) < 0 ? failed() : ok("ok");
        } else if (!strcmp(op, "truncate"))
            truncate(a, atol(b)) < 0 ? failed() : ok("ok");
        else if (!strcmp(op, "chmod"))
            chmod(a, (mode_t)strtol(b, NULL, 8)) < 0 ? failed() : ok("ok");
        else if (!strcmp(op, "pread")) { /* pread:PATH:OFF */
            int fd = open(a, O_RDONLY);
            char buf[64] = "";
            ssize_t n = fd < 0 ? -1 : pread(fd, buf, 8, atol(b));
            if (n >= 0)
                for (ssize_t k = 0; k < n; k++)
                    buf[k] = buf[k] == '\n' ? '|' : buf[k];
            n < 0 ? failed() : (buf[n] = '\0', ok("%s", buf));
            if (fd >= 0)
                close(fd);
        } else if (!strcmp(op, "pwrite")) { /* pwrite:PATH:OFF:TEXT */
            int fd = open(a, O_RDWR);
            const char *text = f[3] ? f[3] : "";
            ssize_t n = fd < 0 ? -1 : pwrite(fd, text, strlen(text), atol(b));
            n < 0 ? failed() : ok("%zd", n);
            if (fd >= 0)
                close(fd);
        } else if (!strcmp(op, "seekend")) {
            int fd = open(a, O_RDONLY);
            off_t r = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
            r < 0 ? failed() : ok("%lld", (long long)r);
            if (fd >= 0)
                close(fd);
        } else if (!strcmp(op, "sleep")) { /* sleep:MS */
            struct timespec ts = { atol(a) / 1000, (atol(a) % 1000) * 1000000 };
            nanosleep(&ts, NULL);
            ok("ok");
        } else if (!strcmp(op, "holdread")) { /* holdread:PATH:MS: open, sleep, then read */
            int fd = open(a, O_RDONLY);
            if (fd < 0) {
                failed();
            } else {
                struct timespec ts = { atol(b) / 1000, (atol(b) % 1000) * 1000000 };
                nanosleep(&ts, NULL);
                char buf[16];
                ssize_t n = read(fd, buf, sizeof buf);
                n < 0 ? failed() : ok("%zd", n);
                close(fd);
            }
        } else if (!strcmp(op, "loopread"))
            do_loopread(a, atoi(b), f[3] ? f[3] : "");
        else
            printf("%s -> unknown step\n", step_name);
        free(step);
    }
    return 0;
}
