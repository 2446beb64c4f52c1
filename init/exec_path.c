/* Executes the job's program as a POSIX shell does: a name with a '/' as it is, else each
 * directory of the job's PATH in turn (an empty entry: the working directory); ENOEXEC runs the
 * file with /bin/sh; EACCES anywhere makes the end 126, else 127. */
#include "init/exec_path.h"
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *exec_path_of(char *const envp[])
{
    for (size_t i = 0; envp[i]; i++)
        if (!strncmp(envp[i], "PATH=", 5))
            return envp[i] + 5;
    return EXEC_DEFAULT_PATH;
}

/* execve, and for a file the kernel does not know how to run, /bin/sh FILE ARGS...; returns
 * with errno set. */
static void try_exec(const char *file, char *const argv[], char *const envp[])
{
    execve(file, argv, envp);
    if (errno != ENOEXEC)
        return;
    size_t n = 0;
    while (argv[n])
        n++;
    char **sh = malloc((n + 2) * sizeof *sh);
    if (!sh) {
        errno = ENOMEM;
        return;
    }
    sh[0] = (char *)"/bin/sh";
    sh[1] = (char *)file;
    for (size_t i = 1; i <= n; i++)
        sh[i + 1] = argv[i];
    execve("/bin/sh", sh, envp);
    free(sh);
    errno = ENOEXEC;
}

int exec_job(char *const argv[], char *const envp[], int *err)
{
    const char *name = argv[0];
    if (strchr(name, '/')) {
        try_exec(name, argv, envp);
        *err = errno;
        return errno == ENOENT || errno == ENOTDIR ? 127 : 126;
    }
    const char *path = exec_path_of(envp);
    bool denied = false;
    size_t nlen = strlen(name);
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        char file[PATH_MAX];
        if (dlen + 1 + nlen < sizeof file) {
            size_t at = 0;
            if (dlen) {
                memcpy(file, p, dlen);
                file[dlen] = '/';
                at = dlen + 1;
            }
            memcpy(file + at, name, nlen + 1);
            try_exec(file, argv, envp);
            switch (errno) {
            case EACCES:
                denied = true;
                break;
            case ENOENT:
            case ENOTDIR:
            case ELOOP:
            case ENAMETOOLONG:
            case ESTALE:
                break;
            default: /* found, but it cannot run: stop here, as a shell does */
                *err = errno;
                return 126;
            }
        }
        if (!end)
            break;
        p = end + 1;
    }
    *err = denied ? EACCES : ENOENT;
    return denied ? 126 : 127;
}
