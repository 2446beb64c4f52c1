/* Starts the job's process (session, cgroup, ports as 0-2, working directory, exec through PATH)
 * with a close-on-exec pipe that tells the init how the set-up went; waits for it while reaping
 * orphans; kills what is left at the end. */
#include "init/job_run.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "init/exec_path.h"
#include "init/fsutil.h"
#include "init/msg.h"

enum { R_CGROUP = 1, R_STREAMS, R_CWD, R_EXEC };
struct report {
    int what, err, status;
};

_Noreturn static void child_fail(int fd, int what, int err, int status)
{
    struct report r = {what, err, status};
    if (write(fd, &r, sizeof r) < 0)
        (void)0; /* the init then sees a silent exit */
    _exit(status);
}

_Noreturn static void child(const struct job_spec *s, const struct streams *st,
                            const struct job_cgroup *cg, int fd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    int rc = cgroup_join(cg);
    if (rc)
        child_fail(fd, R_CGROUP, -rc, 127);
    write_file("/proc/self/oom_score_adj", "0"); /* the init's -1000 is not the job's */
    if (dup2(st->in, 0) < 0 || dup2(st->out, 1) < 0 || dup2(st->err, 2) < 0)
        child_fail(fd, R_STREAMS, errno, 127);
    /* the job gets 0, 1 and 2 only: the init's own descriptors are close-on-exec, and whatever
     * the init was started with (the test build inherits its harness's) is closed here */
    if (syscall(SYS_close_range, 3, fd - 1, 0) || syscall(SYS_close_range, fd + 1, ~0u, 0))
        for (int i = 3; i < 1024; i++)
            if (i != fd)
                close(i);
    if (chdir(s->cwd))
        child_fail(fd, R_CWD, errno, 127);
    int err = 0, status = exec_job(s->argv, s->envp, &err);
    child_fail(fd, R_EXEC, err, status);
}

int job_start(const struct job_spec *s, const struct streams *st, const struct job_cgroup *cg,
              pid_t *pid, enum isovm_init_stage *stage, char *err, size_t len)
{
    int p[2];
    *stage = ISOVM_STAGE_JOB;
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* PID 1 reaps orphans anyway; the test build's too */
    if (pipe2(p, O_CLOEXEC)) {
        snprintf(err, len, "cannot make a pipe: %s", strerror(errno));
        return -errno;
    }
    *pid = fork();
    if (*pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        snprintf(err, len, "cannot fork the job's process: %s", strerror(e));
        return -e;
    }
    if (*pid == 0) {
        close(p[0]);
        child(s, st, cg, p[1]);
    }
    close(p[1]);
    struct report r;
    ssize_t n;
    while ((n = read(p[0], &r, sizeof r)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    if (n == 0)
        return 0; /* the pipe closed at a successful execve */
    if (n != (ssize_t)sizeof r) {
        snprintf(err, len, "lost track of the job's process while it was being set up");
        return -EPROTO;
    }
    switch (r.what) {
    case R_EXEC:
        if (strchr(s->argv[0], '/') || r.err != ENOENT)
            msg("%s: %s", s->argv[0], strerror(r.err));
        else
            msg("%s: not found (PATH=%s)", s->argv[0], exec_path_of(s->envp));
        return 0;
    case R_CGROUP:
        *stage = ISOVM_STAGE_CGROUP;
        snprintf(err, len, "the job's process cannot join its cgroup: %s", strerror(r.err));
        break;
    case R_STREAMS:
        snprintf(err, len, "cannot give the job its standard streams: %s", strerror(r.err));
        break;
    default:
        snprintf(err, len, "cannot enter the working directory %s: %s", s->cwd, strerror(r.err));
        break;
    }
    return -r.err;
}

int job_wait(pid_t pid, int *wstatus)
{
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w == pid) {
            *wstatus = st;
            return 0;
        }
        if (w < 0 && errno != EINTR)
            return -errno;
    }
}

void job_kill_rest(void)
{
    kill(-1, SIGKILL);
    long long deadline = now_ms() + 2000;
    while (now_ms() < deadline) {
        pid_t w = waitpid(-1, NULL, WNOHANG);
        if (w < 0)
            return; /* ECHILD: nobody left */
        if (w == 0) {
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}
