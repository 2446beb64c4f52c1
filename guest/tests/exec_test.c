/* execve (issue 17 part 2): a new image in the same process, arguments and environment,
 * close-on-exec, signal actions reset, #! scripts, /proc/self/exe, execveat, the threads of an
 * exec'ing process, the refusals; then the first process execs itself to print the verdict.
 *   main GDIR WDIR RODIR SELF OTHER
 *       GDIR: a directory holding this program as SELF and another build of it as OTHER (run
 *       with exec); WDIR: a writable, executable directory for scripts; RODIR: GDIR again
 *       without the exec right ("-": natively, skip that check). Prints one line per check,
 *       then execs "final N": "all checks passed" and status 0 when N is 0.
 *   child KEEPFD CLOEXECFD ...   checks what an exec'd child must see; status = failures
 *   simple N                     exits N
 *   script ...                   run as a #! interpreter: prints its argv, exits 0 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

extern char **environ;

static int status_of(pid_t pid)
{
    int st = -1;
    pid_t r = waitpid(pid, &st, 0);
    return r == pid ? st : -1000 - errno;
}

static int exited(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : -1; }

static void on_usr1(int sig) { (void)sig; }

/* ---- what the exec'd program checks ------------------------------------------------------ */

static int child_checks(int argc, char **argv)
{
    int bad = 0;
    if (argc != 6 || strcmp(argv[0], "exec-child") || strcmp(argv[4], "two words") ||
        strcmp(argv[5], "")) {
        printf("child: argv wrong (argc %d)\n", argc);
        bad++;
    }
    int n = 0;
    for (char **e = environ; *e; e++)
        n++;
    const char *k = getenv("EXEC_K");
    if (n != 2 || !k || strcmp(k, "v=1") || !getenv("EMPTY") || getenv("EMPTY")[0]) {
        printf("child: environment wrong (%d strings, EXEC_K=%s)\n", n, k ? k : "(none)");
        bad++;
    }
    int keep = atoi(argv[1]), gone = atoi(argv[2]);
    if (fcntl(keep, F_GETFD) < 0 || write(keep, "x", 1) != 1) {
        printf("child: descriptor %d without close-on-exec is gone\n", keep);
        bad++;
    }
    if (fcntl(gone, F_GETFD) != -1 || errno != EBADF) {
        printf("child: close-on-exec descriptor %d is still open\n", gone);
        bad++;
    }
    struct sigaction sa;
    if (sigaction(SIGUSR1, NULL, &sa) || sa.sa_handler != SIG_DFL) {
        printf("child: SIGUSR1's handler survived the exec\n");
        bad++;
    }
    if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != SIG_IGN) {
        printf("child: SIGUSR2 is no longer ignored\n");
        bad++;
    }
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    if (!sigismember(&cur, SIGTERM)) {
        printf("child: the signal mask was not kept\n");
        bad++;
    }
    char exe[256] = "";
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0 || strcmp(exe, argv[3])) {
        printf("child: /proc/self/exe is '%s', want '%s'\n", exe, argv[3]);
        bad++;
    }
    pid_t me = getpid();
    if (write(keep, &me, sizeof me) != (ssize_t)sizeof me)
        bad++;
    fflush(stdout);
    return bad;
}

/* ---- the parent's checks ------------------------------------------------------------------ */

static char gdir[256], wdir[256], rodir[256], self_path[512], other_path[512];

static void check_exec_child(void)
{
    int p[2], cl[2];
    if (pipe(p) || pipe2(cl, O_CLOEXEC)) {
        CHECK("exec: pipes", 0, "errno %d", errno);
        return;
    }
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, SIG_IGN);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        char keep[16], gone[16];
        snprintf(keep, sizeof keep, "%d", p[1]);
        snprintf(gone, sizeof gone, "%d", cl[1]);
        char *argv[] = { "exec-child", keep, gone, self_path, "two words", "", NULL };
        char *envp[] = { "EXEC_K=v=1", "EMPTY=", NULL };
        execve(self_path, argv, envp);
        _exit(100 + errno);
    }
    sigprocmask(SIG_UNBLOCK, &term, NULL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
    close(p[1]);
    close(cl[0]);
    close(cl[1]);
    char x = 0;
    pid_t seen = 0;
    ssize_t a = read(p[0], &x, 1), b = read(p[0], &seen, sizeof seen);
    close(p[0]);
    int st = status_of(pid);
    CHECK("exec: the child's checks pass", exited(st) == 0, "status 0x%x", st);
    CHECK("exec: the new image writes to the kept descriptor", a == 1 && x == 'x', "read %zd", a);
    CHECK("exec: the same process (pid kept)", b == (ssize_t)sizeof seen && seen == pid,
          "pid %d, want %d", (int)seen, (int)pid);
}

static void check_spawn(void)
{
    pid_t pid;
    char *argv[] = { "other", "simple", "7", NULL };
    int rc = posix_spawn(&pid, other_path, NULL, NULL, argv, environ);
    int st = rc ? -1 : status_of(pid);
    CHECK("exec: posix_spawn (vfork and exec) of another build", rc == 0 && exited(st) == 7,
          "posix_spawn %d, status 0x%x", rc, st);
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = { 1, 0 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void check_threads_exec(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, sleeper, NULL);
        char *argv[] = { "x", "simple", "9", NULL };
        execv(self_path, argv);
        _exit(100 + errno);
    }
    int st = status_of(pid);
    CHECK("exec: from a process with 3 threads (the others end)", exited(st) == 9,
          "status 0x%x", st);
    /* the same from a thread other than the first */
    pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, sleeper, NULL);
        struct timespec ts = { 0, 20000000 };
        nanosleep(&ts, NULL);
        char *argv[] = { "x", "simple", "10", NULL };
        execv(self_path, argv);
        _exit(100 + errno);
    }
    st = status_of(pid);
    CHECK("exec: its pid stays the process's", exited(st) == 10, "status 0x%x", st);
}

static void *exec_from_thread(void *arg)
{
    (void)arg;
    char *argv[] = { "x", "simple", "12", NULL };
    execv(self_path, argv);
    _exit(100 + errno);
}

static void check_thread_execs(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, exec_from_thread, NULL);
        sleeper(NULL);
    }
    int st = status_of(pid);
    CHECK("exec: by a second thread while the first sleeps", exited(st) == 12, "status 0x%x", st);
}

static void check_self_exe_and_fd(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = { "again", "simple", "11", NULL };
        execv("/proc/self/exe", argv);
        _exit(100 + errno);
    }
    int st = status_of(pid);
    CHECK("exec: /proc/self/exe runs the process's program again", exited(st) == 11,
          "status 0x%x", st);
    int fd = open(self_path, O_RDONLY | O_CLOEXEC);
    pid = fork();
    if (pid == 0) {
        char *argv[] = { "byfd", "simple", "13", NULL };
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        _exit(100 + errno);
    }
    st = status_of(pid);
    CHECK("exec: execveat(fd, \"\", AT_EMPTY_PATH) of a file opened for reading",
          exited(st) == 13, "status 0x%x", st);
    close(fd);
}

static int write_file(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, text, len);
    close(fd);
    return w == (ssize_t)len ? chmod(path, mode) : -1;
}

static void check_script(void)
{
    char path[600], text[700], out[600];
    snprintf(path, sizeof path, "%s/script.sh", wdir);
    snprintf(text, sizeof text, "#! %s  script  \nnot read\n", self_path);
    snprintf(out, sizeof out, "%s/script.out", wdir);
    if (write_file(path, text, strlen(text), 0755)) {
        CHECK("exec: write a script", 0, "errno %d", errno);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        char *argv[] = { "whatever", "arg1", NULL };
        execv(path, argv);
        _exit(100 + errno);
    }
    int st = status_of(pid);
    char got[1024] = "", want[1400];
    int fd = open(out, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, got, sizeof got - 1) : -1;
    if (n > 0)
        got[n] = '\0';
    if (fd >= 0)
        close(fd);
    snprintf(want, sizeof want, "argv: %s|script|%s|arg1|\n", self_path, path);
    CHECK("exec: #! script: interpreter, its argument, the script's path, the rest",
          exited(st) == 0 && !strcmp(got, want), "status 0x%x, printed '%s', want '%s'", st, got,
          want);
    /* a script that names itself as its interpreter: ELOOP after 4 levels */
    snprintf(path, sizeof path, "%s/loop.sh", wdir);
    snprintf(text, sizeof text, "#!%s\n", path);
    write_file(path, text, strlen(text), 0755);
    char *argv[] = { "loop", NULL };
    CHECK_ERRNO("exec: a #! loop: ELOOP", execv(path, argv), ELOOP);
}

static void check_refusals(void)
{
    char *argv[] = { "no", NULL };
    char path[600];
    CHECK_ERRNO("exec: a missing file: ENOENT", execv("/nonexistent/prog", argv), ENOENT);
    CHECK_ERRNO("exec: a directory: EACCES", execv(gdir, argv), EACCES);
    snprintf(path, sizeof path, "%s/noexec", wdir);
    write_file(path, "\x7f" "ELF", 4, 0644);
    CHECK_ERRNO("exec: a file with no execute bit: EACCES", execv(path, argv), EACCES);
    snprintf(path, sizeof path, "%s/text", wdir);
    write_file(path, "echo hi\n", 8, 0755);
    CHECK_ERRNO("exec: text that is no #! script: ENOEXEC", execv(path, argv), ENOEXEC);
    snprintf(path, sizeof path, "%s/badelf", wdir);
    static const char bad[64] = "\x7f" "ELF\x02\x01\x01";
    write_file(path, bad, sizeof bad, 0755);
    CHECK_ERRNO("exec: a malformed ELF: ENOEXEC", execv(path, argv), ENOEXEC);
    CHECK_ERRNO("exec: a bad path pointer: EFAULT", syscall(SYS_execve, (char *)8, argv, environ),
                EFAULT);
    CHECK_ERRNO("exec: a bad argv pointer: EFAULT",
                syscall(SYS_execve, self_path, (char **)8, environ), EFAULT);
    char *bad_arg[] = { "x", (char *)16, NULL };
    CHECK_ERRNO("exec: a bad string in argv: EFAULT",
                syscall(SYS_execve, self_path, bad_arg, environ), EFAULT);
    size_t big = 200 << 10;
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    huge[big] = '\0';
    char *big_arg[] = { "x", huge, NULL };
    CHECK_ERRNO("exec: an argument past 128 KiB: E2BIG", execv(self_path, big_arg), E2BIG);
    free(huge);
    CHECK_ERRNO("exec: execveat with unknown flags: EINVAL",
                syscall(SYS_execveat, AT_FDCWD, self_path, argv, environ, 0x4), EINVAL);
    if (strcmp(rodir, "-")) {
        snprintf(path, sizeof path, "%s/%s", rodir, strrchr(self_path, '/') + 1);
        CHECK_ERRNO("exec: a program beneath a grant without the exec right: EACCES",
                    execv(path, argv), EACCES);
        CHECK_ERRNO("exec: a program outside every grant: ENOENT", execv("/bin/sh", argv),
                    ENOENT);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "simple"))
        return argc > 2 ? atoi(argv[2]) : 0;
    if (argc >= 1 && !strcmp(argv[0], "exec-child"))
        return child_checks(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "script")) {
        printf("argv: ");
        for (int i = 0; i < argc; i++)
            printf("%s|", argv[i]);
        printf("\n");
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "final")) {
        int failed = atoi(argv[2]);
        if (failed)
            printf("%d check(s) failed\n", failed);
        else
            printf("all checks passed\n");
        return failed;
    }
    if (argc != 7 || strcmp(argv[1], "main")) {
        fprintf(stderr, "usage: exec_test main GDIR WDIR RODIR SELF OTHER\n");
        return 2;
    }
    snprintf(gdir, sizeof gdir, "%s", argv[2]);
    snprintf(wdir, sizeof wdir, "%s", argv[3]);
    snprintf(rodir, sizeof rodir, "%s", argv[4]);
    snprintf(self_path, sizeof self_path, "%s/%s", gdir, argv[5]);
    snprintf(other_path, sizeof other_path, "%s/%s", gdir, argv[6]);
    check_exec_child();
    check_spawn();
    check_threads_exec();
    check_thread_execs();
    check_self_exe_and_fd();
    check_script();
    check_refusals();
    /* the first process execs: the job's status is the new program's */
    char n[16];
    snprintf(n, sizeof n, "%d", check_failures);
    char *fargv[] = { "final", "final", n, NULL };
    execv(self_path, fargv);
    printf("FAIL exec of the final image: errno %d\n", errno);
    return 1;
}
