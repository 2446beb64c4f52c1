/* Processes (issue 17 part 1 and 3): fork, vfork, clone of a process, wait4/waitid, exit
 * statuses and signal deaths, process groups, orphans, descriptors shared across a fork, and the
 * limits (max_processes, the memory limit). Modes:
 *   basic           every check below that needs no grant; "all checks passed"
 *   files DIR       a file's offset shared by parent and child through an inherited descriptor
 *   bomb            fork until refused (children wait); prints "forks N errno E", then ends them
 *   memory MIB      touch MIB MiB, then fork twice holding them: prints each fork's result
 *   leave           fork a child that sleeps, exit 5 without waiting (the job ends with 5)
 *   killparent      the child kills the first process with SIGTERM (the job ends with 143)
 *   pipes           pipes between processes (part 4): data, EOF, EPIPE and SIGPIPE, O_NONBLOCK,
 *                   poll, PIPE_BUF atomicity, dup2 onto stdout, flags and bad pointers; select,
 *                   pselect6 and epoll on them, eventfd
 *   pipefill        64 MiB through a pipe (in a job of 16 MiB), a pipe nobody reads filling up
 *   otherjob PID    another job's pid 2 and its VMM's host pid PID out of reach (ECHILD, ESRCH) */
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int global_value = 1;

static void pause_forever(void)
{
    for (;;) {
        struct timespec ts = { 1, 0 };
        nanosleep(&ts, NULL);
    }
}

static void *thread_body(void *arg)
{
    *(int *)arg += 40;
    return NULL;
}

static int wait_status_of(pid_t pid)
{
    int st = -1;
    pid_t r = waitpid(pid, &st, 0);
    return r == pid ? st : -1000 - errno;
}

static void check_fork_copy(void)
{
    int *heap = malloc(64 << 10);
    heap[0] = 10;
    heap[16000] = 11;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* the child's copy: the parent's values, changed here only */
        int ok = global_value == 1 && heap[0] == 10 && heap[16000] == 11 && getppid() == parent &&
                 getpid() != parent && syscall(SYS_gettid) == getpid();
        global_value = 2;
        heap[0] = 20;
        _exit(ok ? 7 : 8);
    }
    CHECK("fork returns a pid", pid > 0 && pid != parent, "fork: %d errno %d", pid, errno);
    int st = wait_status_of(pid);
    CHECK("child exit status", WIFEXITED(st) && WEXITSTATUS(st) == 7, "status 0x%x", st);
    CHECK("parent's memory unchanged", global_value == 1 && heap[0] == 10,
          "global %d heap %d", global_value, heap[0]);
    CHECK_ERRNO("no child left: ECHILD", waitpid(-1, NULL, 0), ECHILD);
    CHECK_ERRNO("a pid that is not a child: ECHILD", waitpid(parent, NULL, 0), ECHILD);
    free(heap);
}

static int spawn_child(void *arg)
{
    (void)arg;
    _exit(4);
}

static void check_vfork(void)
{
    volatile int touched = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        touched = 1; /* a copy in isovm (documented); the parent must not rely on it either way */
        _exit(3);
    }
    (void)touched;
    int st = wait_status_of(pid);
    CHECK("vfork child exit status", WIFEXITED(st) && WEXITSTATUS(st) == 3, "status 0x%x", st);
    /* clone(CLONE_VM | CLONE_VFORK) on a stack of its own, as posix_spawn does */
    static char stack[64 << 10] __attribute__((aligned(16)));
    pid = clone(spawn_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    st = wait_status_of(pid);
    CHECK("clone(CLONE_VM|CLONE_VFORK) child", WIFEXITED(st) && WEXITSTATUS(st) == 4,
          "pid %d status 0x%x", pid, st);
}

static void check_signal_deaths(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGTERM);
        _exit(0);
    }
    int st = wait_status_of(pid);
    CHECK("child killed by SIGTERM", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status 0x%x", st);
    pid = fork();
    if (pid == 0) {
        volatile int *p = (int *)16;
        *p = 1;
        _exit(0);
    }
    st = wait_status_of(pid);
    CHECK("child killed by SIGSEGV", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status 0x%x", st);
    pid = fork();
    if (pid == 0)
        pause_forever();
    CHECK("kill a child", kill(pid, SIGKILL) == 0, "errno %d", errno);
    st = wait_status_of(pid);
    CHECK("child killed by SIGKILL", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status 0x%x", st);
    CHECK_ERRNO("kill a reaped pid: ESRCH", kill(pid, SIGTERM), ESRCH);
}

static void check_waitid(void)
{
    int go[2]; /* the child runs until the parent has looked (no timing: a loaded host is slow) */
    if (pipe(go) != 0)
        CHECK("waitid: pipe", 0, "errno %d", errno);
    pid_t pid = fork();
    if (pid == 0) {
        char ch;
        close(go[1]);
        (void)!read(go[0], &ch, 1);
        _exit(9);
    }
    close(go[0]);
    siginfo_t si;
    memset(&si, 0x55, sizeof si);
    int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
    CHECK("waitid WNOHANG on a running child", r == 0 && si.si_pid == 0, "r %d pid %d", r, si.si_pid);
    pid_t w = waitpid(pid, NULL, WNOHANG);
    CHECK("waitpid WNOHANG on a running child", w == 0, "got %d errno %d", w, errno);
    close(go[1]); /* the child's read ends: it exits */
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    CHECK("waitid WNOWAIT", r == 0 && si.si_pid == pid && si.si_code == CLD_EXITED &&
          si.si_status == 9 && si.si_signo == SIGCHLD, "r %d pid %d code %d status %d", r,
          si.si_pid, si.si_code, si.si_status);
    struct rusage ru;
    int st = 0;
    w = wait4(pid, &st, 0, &ru);
    CHECK("wait4 after WNOWAIT reaps", w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 9,
          "got %d status 0x%x", w, st);
    CHECK_ERRNO("waitid P_PIDFD of a descriptor that is no pidfd: EBADF",
                waitid((idtype_t)3, 0, &si, WEXITED), EBADF);
    CHECK_ERRNO("waitid without WEXITED and friends: EINVAL", waitid(P_ALL, 0, &si, WNOHANG),
                EINVAL);
    CHECK_ERRNO("wait4 with unknown options: EINVAL", wait4(-1, NULL, 0x40000, NULL), EINVAL);
    /* a bad status pointer: EFAULT (isovm keeps the child to be reaped; Linux reaps it) */
    pid = fork();
    if (pid == 0)
        _exit(1);
    r = (int)syscall(SYS_wait4, pid, (int *)16, 0, NULL);
    CHECK("wait4 into a bad pointer: EFAULT", r == -1 && errno == EFAULT, "r %d errno %d", r, errno);
    st = wait_status_of(pid);
    CHECK("after EFAULT: the child's status or ECHILD", (WIFEXITED(st) && WEXITSTATUS(st) == 1) ||
          st == -1000 - ECHILD, "status 0x%x", st);
}

static void check_groups(void)
{
    pid_t me = getpid();
    CHECK("first pgid", getpgrp() == getpgid(0) && getsid(0) > 0, "pgrp %d", getpgrp());
    pid_t pid = fork();
    if (pid == 0) {
        int ok = getpgrp() == getpgid(getppid()); /* the parent's group */
        ok &= setpgid(0, 0) == 0 && getpgrp() == getpid();
        pid_t sid = setsid();
        _exit(ok ? (sid == -1 && errno == EPERM ? 5 : 6) : 7); /* a group leader: EPERM */
    }
    int st = wait_status_of(pid);
    CHECK("setpgid in the child, setsid of a group leader EPERM", WIFEXITED(st) &&
          WEXITSTATUS(st) == 5, "status 0x%x", st);
    pid = fork();
    if (pid == 0) {
        pid_t sid = setsid();
        _exit(sid == getpid() && getsid(0) == getpid() && getpgrp() == getpid() ? 0 : 1);
    }
    st = wait_status_of(pid);
    CHECK("setsid in a child", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
    CHECK_ERRNO("setpgid of a pid that is not a child: ESRCH", setpgid(me + 1000, 0), ESRCH);
    CHECK_ERRNO("getpgid of no process: ESRCH", getpgid(99999), ESRCH);
    /* a group's children waited for by group */
    pid = fork();
    if (pid == 0)
        _exit(12);
    pid_t w = waitpid(0, &st, 0);
    CHECK("waitpid(0) waits for the group", w == pid && WEXITSTATUS(st) == 12, "got %d (want %d) status 0x%x", w, pid, st);
}

static void check_orphan_and_threads(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pid_t before = getpid(); /* the grandchild's parent until it ends (the grandchild may
                                  * first run after that: its own getppid() would be late) */
        pid_t grandchild = fork();
        if (grandchild == 0) {
            for (int i = 0; i < 1000 && getppid() == before; i++) {
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
            }
            /* reparented to the first process (natively: the subreaper, the test itself) */
            _exit(getppid() != before ? 0 : 1);
        }
        /* a thread in the child process: its own vCPU in the child's address space */
        int v = 2;
        pthread_t th;
        int ok = pthread_create(&th, NULL, thread_body, &v) == 0 && pthread_join(th, NULL) == 0 &&
                 v == 42;
        _exit(ok ? 0 : 1);
    }
    int st = wait_status_of(pid);
    CHECK("a thread in a child process", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
    /* the grandchild is now the first process's child: wait for it */
    pid_t w = waitpid(-1, &st, 0);
    CHECK("an orphan is the first process's child", w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "got %d status 0x%x errno %d", w, st, errno);
}

static int mode_basic(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* natively: orphans come to this process, as in isovm */
    check_fork_copy();
    check_vfork();
    check_signal_deaths();
    check_waitid();
    check_groups();
    check_orphan_and_threads();
    /* SIGCHLD ignored: children are reaped at once, wait finds none */
    signal(SIGCHLD, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    CHECK_ERRNO("SIGCHLD ignored: no zombie to wait for", waitpid(pid, NULL, 0), ECHILD);
    signal(SIGCHLD, SIG_DFL);
    return check_done();
}

static int mode_files(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/shared.txt", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    CHECK("open", fd >= 0, "errno %d", errno);
    CHECK("parent writes", write(fd, "A", 1) == 1, "errno %d", errno);
    pid_t pid = fork();
    if (pid == 0)
        _exit(write(fd, "B", 1) == 1 && close(fd) == 0 ? 0 : 1);
    int st = wait_status_of(pid);
    CHECK("child wrote through the inherited descriptor", WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "status 0x%x", st);
    CHECK("parent writes after", write(fd, "C", 1) == 1, "errno %d", errno);
    CHECK("one offset for both", lseek(fd, 0, SEEK_CUR) == 3, "offset %ld",
          (long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    char buf[8] = "";
    fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    CHECK("file is ABC", n == 3 && memcmp(buf, "ABC", 3) == 0, "read %zd '%s'", n, buf);
    close(fd);
    return check_done();
}

static int mode_bomb(void)
{
    pid_t kids[128];
    int n = 0, e = 0;
    for (; n < 128; n++) {
        pid_t pid = fork();
        if (pid == 0)
            pause_forever();
        if (pid < 0) {
            e = errno;
            break;
        }
        kids[n] = pid;
    }
    printf("forks %d errno %d\n", n, e);
    for (int i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    int reaped = 0;
    while (waitpid(-1, NULL, 0) > 0)
        reaped++;
    printf("reaped %d\n", reaped);
    /* and forks work again */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    printf("fork after: %s\n", pid > 0 && wait_status_of(pid) == 0 ? "ok" : "failed");
    fflush(stdout);
    return 0;
}

static int mode_memory(long mib)
{
    size_t len = (size_t)mib << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 2;
    for (size_t i = 0; i < len; i += 4096)
        p[i] = (char)(i >> 12);
    pid_t a = fork();
    if (a == 0) {
        int ok = 1;
        for (size_t i = 0; i < len; i += 4096)
            ok &= p[i] == (char)(i >> 12);
        if (!ok)
            _exit(1);
        pause_forever();
    }
    if (a > 0)
        printf("fork 1: ok\n");
    else
        printf("fork 1: errno %d\n", errno);
    pid_t b = fork();
    if (b == 0)
        pause_forever();
    if (b > 0)
        printf("fork 2: ok\n");
    else
        printf("fork 2: errno %d\n", errno);
    if (a > 0)
        kill(a, SIGKILL);
    if (b > 0)
        kill(b, SIGKILL);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    pid_t c = fork(); /* the first child's frames are back */
    if (c == 0)
        _exit(0);
    printf("fork 3: %s\n", c > 0 && wait_status_of(c) == 0 ? "ok" : "failed");
    fflush(stdout);
    return 0;
}


static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* select and pselect6 on pipes: the sets written back with the ready ones, the time left in
 * select's timeout, EOF readable, a child's write waking a wait, the refusals. */
static void check_select(void)
{
    int p[2];
    CHECK("select: pipe", pipe(p) == 0, "errno %d", errno);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    struct timeval tv = { 0, 0 };
    int n = select(p[1] + 1, &r, &w, NULL, &tv);
    CHECK("select: an empty pipe's write end only", n == 1 && !FD_ISSET(p[0], &r) &&
          FD_ISSET(p[1], &w), "n %d read %d write %d", n, FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv = (struct timeval){ 0, 60000 };
    double t0 = now_ms();
    n = (int)syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv); /* the C library may copy tv */
    double took = now_ms() - t0;
    CHECK("select: a timeout of 60 ms, nothing ready, no time left", n == 0 && !FD_ISSET(p[0], &r)
          && tv.tv_sec == 0 && tv.tv_usec == 0 && took >= 55, "n %d left %ld.%06ld took %.1f ms",
          n, (long)tv.tv_sec, (long)tv.tv_usec, took);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec ts = { 0, 30000000 };
        nanosleep(&ts, NULL);
        (void)!write(p[1], "x", 1);
        _exit(0);
    }
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timespec ts = { 5, 0 };
    n = pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL);
    CHECK("pselect6: a child's write wakes the wait", n == 1 && FD_ISSET(p[0], &r), "n %d errno %d",
          n, errno);
    wait_status_of(pid);
    char ch;
    (void)!read(p[0], &ch, 1);
    close(p[1]);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv = (struct timeval){ 1, 0 };
    n = (int)syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv);
    CHECK("select: EOF is readable, time left written back", n == 1 && FD_ISSET(p[0], &r) &&
          tv.tv_sec == 0 && tv.tv_usec > 0, "n %d left %ld.%06ld", n, (long)tv.tv_sec,
          (long)tv.tv_usec);
    FD_ZERO(&r);
    FD_SET(p[1], &r); /* closed */
    tv = (struct timeval){ 0, 0 };
    CHECK_ERRNO("select: a closed descriptor in a set: EBADF", select(p[1] + 1, &r, NULL, NULL, &tv),
                EBADF);
    CHECK_ERRNO("select: a negative count: EINVAL", select(-1, NULL, NULL, NULL, &tv), EINVAL);
    CHECK_ERRNO("select: a bad set pointer: EFAULT",
                syscall(SYS_select, p[0] + 1, (fd_set *)8, NULL, NULL, &tv), EFAULT);
    tv = (struct timeval){ 0, -1 };
    CHECK_ERRNO("select: a negative timeout: EINVAL",
                syscall(SYS_select, 1, NULL, NULL, NULL, &tv), EINVAL);
    tv = (struct timeval){ 0, 2500000 }; /* as Linux: microseconds carry into seconds */
    FD_ZERO(&r);
    FD_SET(p[0], &r); /* EOF: ready at once */
    n = (int)syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv);
    CHECK("select: a timeval with 2.5 s of microseconds", n == 1 && tv.tv_sec == 2,
          "n %d errno %d left %ld.%06ld", n, errno, (long)tv.tv_sec, (long)tv.tv_usec);
    uint64_t bad_mask[2] = { 8, 4 }; /* a mask pointer with a size other than 8 */
    CHECK_ERRNO("pselect6: a mask size other than 8: EINVAL",
                syscall(SYS_pselect6, 0, NULL, NULL, NULL, NULL, bad_mask), EINVAL);
    close(p[0]);
}

/* epoll on pipes and eventfds: data, level and edge triggering, one-shot, a wait woken by
 * another process, a registration gone with its descriptor, the refusals; eventfd's counter,
 * semaphore mode and non-blocking reads. */
static void check_epoll(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC), p[2];
    CHECK("epoll: create1 and a pipe", ep >= 0 && pipe(p) == 0, "ep %d errno %d", ep, errno);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 }, out[4];
    CHECK("epoll: add a pipe's read end", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0,
          "errno %d", errno);
    CHECK("epoll: nothing ready", epoll_wait(ep, out, 4, 0) == 0, "errno %d", errno);
    (void)!write(p[1], "ab", 2);
    int n = epoll_wait(ep, out, 4, 1000);
    CHECK("epoll: readable, with the job's data", n == 1 && out[0].data.u64 == 0x1234 &&
          (out[0].events & EPOLLIN), "n %d data %llx events %x", n,
          (unsigned long long)out[0].data.u64, out[0].events);
    CHECK("epoll: level-triggered reports it again", epoll_wait(ep, out, 4, 0) == 1, "errno %d",
          errno);
    ev.events = EPOLLIN | EPOLLET;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    n = epoll_wait(ep, out, 4, 0);
    int again = epoll_wait(ep, out, 4, 0);
    (void)!write(p[1], "c", 1);
    int fresh = epoll_wait(ep, out, 4, 0);
    CHECK("epoll: edge-triggered: once, then again at new data", n == 1 && again == 0 &&
          fresh == 1, "%d %d %d", n, again, fresh);
    ev.events = EPOLLIN | EPOLLONESHOT;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    n = epoll_wait(ep, out, 4, 0);
    again = epoll_wait(ep, out, 4, 0);
    CHECK("epoll: one-shot", n == 1 && again == 0, "%d %d", n, again);
    CHECK_ERRNO("epoll: a second ADD: EEXIST", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
    CHECK_ERRNO("epoll: DEL of what is not in it: ENOENT", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL),
                ENOENT);
    CHECK_ERRNO("epoll: the instance in itself: EINVAL", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev),
                EINVAL);
    CHECK_ERRNO("epoll: ctl on a pipe, not an instance: EINVAL",
                epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev), EINVAL);
    CHECK_ERRNO("epoll: an unknown op: EINVAL", epoll_ctl(ep, 99, p[0], &ev), EINVAL);
    CHECK_ERRNO("epoll: a bad event pointer: EFAULT",
                epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (struct epoll_event *)8), EFAULT);
    CHECK_ERRNO("epoll: maxevents 0: EINVAL", epoll_wait(ep, out, 0, 0), EINVAL);
    CHECK_ERRNO("epoll: a bad events pointer: EFAULT",
                syscall(SYS_epoll_wait, ep, 0xffff800000000000ull, 4, 0), EFAULT);
    /* eventfd: the counter, semaphore mode, a wait another process ends */
    int efd = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
    uint64_t v = 0;
    ssize_t r = read(efd, &v, 8);
    CHECK("eventfd: reads its counter", efd >= 0 && r == 8 && v == 3, "efd %d r %zd v %llu", efd,
          r, (unsigned long long)v);
    CHECK_ERRNO("eventfd: empty and non-blocking: EAGAIN", read(efd, &v, 8), EAGAIN);
    CHECK_ERRNO("eventfd: a 4-byte read: EINVAL", read(efd, &v, 4), EINVAL);
    int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    uint64_t a = 0, b = 0;
    r = read(sem, &a, 8) + read(sem, &b, 8);
    CHECK("eventfd: semaphore mode gives 1 a read", r == 16 && a == 1 && b == 1, "%zd %llu %llu",
          r, (unsigned long long)a, (unsigned long long)b);
    CHECK_ERRNO("eventfd: unknown flags: EINVAL", syscall(SYS_eventfd2, 0, 0x1234), EINVAL);
    close(sem);
    ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 77 };
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec ts = { 0, 30000000 };
        nanosleep(&ts, NULL);
        uint64_t one = 1;
        _exit(write(efd, &one, 8) == 8 ? 0 : 1);
    }
    n = epoll_wait(ep, out, 4, 5000);
    CHECK("epoll: a child's eventfd write wakes the wait", n == 1 && out[0].data.u64 == 77,
          "n %d data %llu", n, (unsigned long long)out[0].data.u64);
    wait_status_of(pid);
    /* a registration goes with its last descriptor */
    close(efd);
    (void)!write(p[1], "d", 1);
    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    close(p[0]);
    n = epoll_wait(ep, out, 4, 0);
    CHECK("epoll: closed descriptors leave it", n == 0, "n %d", n);
    close(p[1]);
    close(ep);
}

static int mode_pipes(void)
{
    int p[2];
    CHECK("pipe", pipe(p) == 0 && p[0] >= 0 && p[1] > p[0], "errno %d", errno);
    CHECK("write", write(p[1], "hello", 5) == 5, "errno %d", errno);
    char buf[4096];
    CHECK("read", read(p[0], buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0, "errno %d", errno);
    struct stat st;
    CHECK("fstat: a FIFO", fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "mode 0%o", st.st_mode);
    CHECK("F_GETFL of the ends", fcntl(p[0], F_GETFL) == O_RDONLY &&
          fcntl(p[1], F_GETFL) == O_WRONLY, "%d %d", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
    CHECK_ERRNO("lseek on a pipe: ESPIPE", lseek(p[0], 0, SEEK_SET), ESPIPE);
    CHECK_ERRNO("read on the write end: EBADF", read(p[1], buf, 1), EBADF);
    /* O_NONBLOCK: EAGAIN on an empty pipe; poll sees data, then the writers' end */
    int q[2];
    CHECK("pipe2 O_NONBLOCK|O_CLOEXEC", pipe2(q, O_NONBLOCK | O_CLOEXEC) == 0 &&
          (fcntl(q[0], F_GETFL) & O_NONBLOCK) && (fcntl(q[0], F_GETFD) & FD_CLOEXEC), "errno %d", errno);
    CHECK_ERRNO("empty non-blocking read: EAGAIN", read(q[0], buf, 1), EAGAIN);
    struct pollfd pf = { .fd = q[0], .events = POLLIN };
    CHECK("poll: nothing yet", poll(&pf, 1, 0) == 0, "revents 0x%x", pf.revents);
    CHECK("write q", write(q[1], "x", 1) == 1, "errno %d", errno);
    CHECK("poll: POLLIN", poll(&pf, 1, 1000) == 1 && (pf.revents & POLLIN), "revents 0x%x", pf.revents);
    close(q[1]);
    CHECK("read the byte", read(q[0], buf, 2) == 1, "errno %d", errno);
    CHECK("poll: POLLHUP once the writer is gone", poll(&pf, 1, 1000) == 1 &&
          (pf.revents & POLLHUP), "revents 0x%x", pf.revents);
    CHECK("read at EOF: 0", read(q[0], buf, 1) == 0, "errno %d", errno);
    close(q[0]);
    CHECK_ERRNO("pipe2 with an unknown flag: EINVAL", pipe2(q, O_APPEND), EINVAL);
    CHECK_ERRNO("pipe2 into a bad pointer: EFAULT", syscall(SYS_pipe2, (int *)16, 0), EFAULT);
    int r[2];
    CHECK("no descriptor lost to the refusals", pipe(r) == 0 && r[0] == q[0], "got %d, want %d",
          r[0], q[0]);
    close(r[0]);
    close(r[1]);
    /* a child writes 256 KiB (more than a pipe holds) and closes: the parent reads it all, EOF */
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        memset(buf, 'c', sizeof buf);
        for (int i = 0; i < 64; i++)
            if (write(p[1], buf, sizeof buf) != (ssize_t)sizeof buf)
                _exit(1);
        _exit(0);
    }
    close(p[1]);
    long total = 0;
    ssize_t n;
    int same = 1;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        total += n;
        for (ssize_t i = 0; i < n; i++)
            same &= buf[i] == 'c';
    }
    CHECK("256 KiB through a pipe from a child, then EOF", n == 0 && total == 256 * 1024 && same,
          "total %ld last %zd errno %d", total, n, errno);
    int st2 = wait_status_of(pid);
    CHECK("the writer's status", WIFEXITED(st2) && WEXITSTATUS(st2) == 0, "status 0x%x", st2);
    close(p[0]);
    /* no reader: EPIPE with SIGPIPE ignored; killed by SIGPIPE by default */
    CHECK("pipe 2", pipe(p) == 0, "errno %d", errno);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERRNO("write with no reader, SIGPIPE ignored: EPIPE", write(p[1], "x", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    pid = fork();
    if (pid == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    st2 = wait_status_of(pid);
    CHECK("write with no reader: killed by SIGPIPE", WIFSIGNALED(st2) && WTERMSIG(st2) == SIGPIPE,
          "status 0x%x", st2);
    close(p[1]);
    /* two writers of 512-byte records (<= PIPE_BUF): every record arrives whole */
    CHECK("pipe 3", pipe(p) == 0, "errno %d", errno);
    for (int w = 0; w < 2; w++) {
        if (fork() == 0) {
            close(p[0]);
            char rec[512];
            memset(rec, 'a' + w, sizeof rec);
            for (int i = 0; i < 200; i++)
                if (write(p[1], rec, sizeof rec) != (ssize_t)sizeof rec)
                    _exit(1);
            _exit(0);
        }
    }
    close(p[1]);
    char rec[512];
    int whole = 1, recs = 0;
    size_t have = 0;
    while ((n = read(p[0], rec + have, sizeof rec - have)) > 0) {
        have += (size_t)n;
        if (have < sizeof rec)
            continue;
        for (size_t i = 1; i < sizeof rec; i++)
            whole &= rec[i] == rec[0];
        recs++;
        have = 0;
    }
    CHECK("PIPE_BUF writes arrive whole", whole && recs == 400 && have == 0, "whole %d recs %d",
          whole, recs);
    while (wait(NULL) > 0)
        ;
    close(p[0]);
    /* dup2 onto stdout in a child: what it prints comes through the pipe */
    CHECK("pipe 4", pipe(p) == 0, "errno %d", errno);
    pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        printf("through stdout\n");
        fflush(stdout);
        _exit(0);
    }
    close(p[1]);
    memset(buf, 0, sizeof buf);
    have = 0;
    while ((n = read(p[0], buf + have, sizeof buf - 1 - have)) > 0)
        have += (size_t)n;
    CHECK("a child's stdout on a pipe", strcmp(buf, "through stdout\n") == 0, "got '%s'", buf);
    wait_status_of(pid);
    close(p[0]);
    check_select();
    check_epoll();
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    char nb[4];
    CHECK("/dev/null: writes go, reads end", nul >= 0 && write(nul, "abcde", 5) == 5 &&
          read(nul, nb, sizeof nb) == 0, "fd %d errno %d", nul, errno);
    close(nul);
    return check_done();
}

/* Hostile: 64 MiB through a pipe from a child, in a job whose memory limit is far smaller (a
 * pipe is the host's: its bytes never stand in guest memory), and a pipe nobody reads filling
 * at its capacity (EAGAIN), not growing. */
static int mode_pipefill(void)
{
    int p[2];
    if (pipe2(p, O_NONBLOCK) != 0)
        return 3;
    static char buf[65536];
    size_t filled = 0;
    ssize_t n;
    while ((n = write(p[1], buf, 4096)) > 0)
        filled += (size_t)n;
    int e = errno;
    CHECK("a pipe nobody reads fills at its capacity: EAGAIN", n == -1 && e == EAGAIN &&
          filled >= 4096 && filled <= (1u << 20), "%zu bytes, then %zd (%s)", filled, n, strerror(e));
    close(p[0]);
    close(p[1]);
    if (pipe(p) != 0)
        return 3;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        for (int i = 0; i < 1024; i++) /* 64 MiB */
            if (write(p[1], buf, sizeof buf) != (ssize_t)sizeof buf)
                _exit(1);
        _exit(0);
    }
    close(p[1]);
    size_t total = 0;
    while ((n = read(p[0], buf, sizeof buf)) > 0)
        total += (size_t)n;
    close(p[0]);
    int st = wait_status_of(pid);
    CHECK("64 MiB through a pipe in a 16 MiB job", total == 64u << 20 && WIFEXITED(st) &&
          WEXITSTATUS(st) == 0, "%zu bytes, writer status 0x%x", total, st);
    return check_done();
}

/* Hostile: another job's processes, and the host's, are out of reach. Another job runs with
 * a pid 2 of its own meanwhile; this job has no pid 2 (its pids are its own), and host_pid (that
 * job's VMM on the host) is no pid of this job. */
static int mode_otherjob(long host_pid)
{
    CHECK_ERRNO("wait4 of pid 2 (another job's, none of this one's)", waitpid(2, NULL, WNOHANG), ECHILD);
    CHECK_ERRNO("kill of pid 2: ESRCH", kill(2, 0), ESRCH);
    CHECK_ERRNO("kill of the other job's VMM by its host pid: ESRCH", kill((pid_t)host_pid, SIGKILL), ESRCH);
    CHECK_ERRNO("wait4 of that host pid: ECHILD", waitpid((pid_t)host_pid, NULL, WNOHANG), ECHILD);
    CHECK("kill(-1) reaches no process outside the job (none in it but the caller)",
          kill(-1, 0) == -1 && errno == ESRCH, "errno %d", errno);
    return check_done();
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "basic";
    if (strcmp(mode, "basic") == 0)
        return mode_basic();
    if (strcmp(mode, "files") == 0 && argc > 2)
        return mode_files(argv[2]);
    if (strcmp(mode, "bomb") == 0)
        return mode_bomb();
    if (strcmp(mode, "memory") == 0 && argc > 2)
        return mode_memory(atol(argv[2]));
    if (strcmp(mode, "pipes") == 0)
        return mode_pipes();
    if (strcmp(mode, "pipefill") == 0)
        return mode_pipefill();
    if (strcmp(mode, "otherjob") == 0 && argc > 2)
        return mode_otherjob(atol(argv[2]));
    if (strcmp(mode, "leave") == 0) {
        if (fork() == 0)
            pause_forever();
        return 5;
    }
    if (strcmp(mode, "killparent") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            kill(getppid(), SIGTERM);
            pause_forever();
        }
        wait_status_of(pid);
        return 0;
    }
    fprintf(stderr, "usage: proc_test basic|files DIR|bomb|memory MIB|leave|killparent|pipes|"
                    "pipefill|otherjob HOST-PID\n");
    return 2;
}
