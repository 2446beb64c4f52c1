/* Running an external tool (mkfs.ext4, mksquashfs, mmdebstrap, ...): posix_spawnp with an
 * argument vector, never a shell; its output kept and shown only when it fails. */
#include "lib/run_tool.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define TAIL_MAX 1500 /* bytes of the tool's output quoted in an error */

/* The last TAIL_MAX bytes of the output in fd, from a line start, into buf. */
static void output_tail(int fd, char *buf, size_t cap)
{
    buf[0] = 0;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || st.st_size <= 0 || cap < 2)
        return;
    size_t want = (size_t)st.st_size < TAIL_MAX ? (size_t)st.st_size : TAIL_MAX;
    if (want > cap - 1)
        want = cap - 1;
    ssize_t n = pread(fd, buf, want, st.st_size - (off_t)want);
    if (n <= 0)
        return;
    buf[n] = 0;
    char *start = buf;
    if ((size_t)st.st_size > want) { /* cut: begin after the first newline */
        char *nl = strchr(buf, '\n');
        if (nl && nl[1])
            start = nl + 1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    memmove(buf, start, strlen(start) + 1);
}

int run_tool(const struct run_tool *t, char *err, size_t len)
{
    const char *tool = t->argv[0];
    int out = -1, in = -1, rc;
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa)) {
        snprintf(err, len, "cannot run %s: out of memory", tool);
        return -ENOMEM;
    }
    in = open(t->stdin_path ? t->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = -errno;
        snprintf(err, len, "cannot run %s: cannot open %s for its input: %s", tool,
                 t->stdin_path ? t->stdin_path : "/dev/null", strerror(errno));
        goto out;
    }
    posix_spawn_file_actions_adddup2(&fa, in, 0);
    if (!t->verbose) {
        out = memfd_create("isovm-tool-output", MFD_CLOEXEC);
        if (out < 0) {
            rc = -errno;
            snprintf(err, len, "cannot run %s: memfd_create: %s", tool, strerror(errno));
            goto out;
        }
        posix_spawn_file_actions_adddup2(&fa, out, 1);
        posix_spawn_file_actions_adddup2(&fa, out, 2);
    } else {
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
    }
    pid_t pid;
    int e = posix_spawnp(&pid, tool, &fa, NULL, (char *const *)t->argv, environ);
    if (e) {
        rc = -e;
        if (e == ENOENT)
            snprintf(err, len, "%s not found in PATH%s%s%s", tool, t->package ? " (Debian package " : "",
                     t->package ? t->package : "", t->package ? "; scripts/install-deps.sh installs it)" : "");
        else
            snprintf(err, len, "cannot start %s: %s", tool, strerror(e));
        goto out;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            rc = -errno;
            snprintf(err, len, "waiting for %s: %s", tool, strerror(errno));
            goto out;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = 0;
        goto out;
    }
    char tail[TAIL_MAX + 1];
    output_tail(out, tail, sizeof tail);
    if (WIFSIGNALED(status))
        snprintf(err, len, "%s was killed by signal %d (%s)%s%s", tool, WTERMSIG(status),
                 strsignal(WTERMSIG(status)), tail[0] ? "; its output ends:\n" : "", tail);
    else
        snprintf(err, len, "%s failed (exit status %d)%s%s", tool, WEXITSTATUS(status),
                 tail[0] ? "; its output ends:\n" : "", tail);
    rc = -EIO;
out:
    posix_spawn_file_actions_destroy(&fa);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}
