/* isovm's own arguments as main() got them, and the exec of a sibling binary with them. */
#include "lib/self_exec.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/log.h"

static int saved_argc;
static char **saved_argv;

void self_args_note(int argc, char **argv)
{
    /* copies of the strings too: option parsing edits some in place (--disk PATH:rw) */
    size_t bytes = 0;
    for (int i = 0; i < argc; i++)
        bytes += strlen(argv[i]) + 1;
    free(saved_argv);
    saved_argv = malloc(((size_t)argc + 1) * sizeof *saved_argv + bytes);
    saved_argc = 0;
    if (!saved_argv)
        return; /* self_exec_sibling then fails with ENOMEM */
    char *text = (char *)(saved_argv + argc + 1);
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;
        saved_argv[i] = memcpy(text, argv[i], n);
        text += n;
    }
    saved_argv[argc] = NULL;
    saved_argc = argc;
}

int self_exec_sibling(const char *name, const char *why)
{
    if (!saved_argv || saved_argc < 1) {
        log_err("%s needs %s, and isovm's arguments were not noted", why, name);
        return -ENOMEM;
    }
    char self[PATH_MAX], path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        int e = n < 0 ? errno : ENOENT;
        log_err("%s needs %s next to isovm, and isovm's own path (/proc/self/exe) is "
                "unreadable: %s", why, name, strerror(e));
        return -e;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    size_t dirlen = slash ? (size_t)(slash - self) : 0;
    if (dirlen + 1 + strlen(name) >= sizeof path) {
        log_err("%s needs %s: the path of isovm's directory is too long", why, name);
        return -ENAMETOOLONG;
    }
    memcpy(path, self, dirlen);
    path[dirlen] = '/';
    strcpy(path + dirlen + 1, name);
    saved_argv[0] = path;
    execv(path, saved_argv);
    int e = errno;
    log_err("%s needs %s, the same isovm linked with it: cannot run %s: %s", why, name, path,
            strerror(e));
    return -e;
}
