/* Host paths the operator grants: opened with no symlink in them, the symlink named otherwise. */
#include "lib/host_path.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int host_path_open(const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)flags | O_CLOEXEC,
        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    return fd < 0 ? -errno : (int)fd;
}

void host_path_symlink_explain(const char *path, char *buf, size_t len)
{
    char prefix[PATH_MAX], target[PATH_MAX], real[PATH_MAX];
    size_t n = strlen(path);
    if (!len)
        return;
    snprintf(buf, len, "goes through a symlink");
    if (n >= sizeof prefix)
        return;
    /* the shortest prefix, component by component, that is a symlink */
    for (size_t end = 1; end <= n; end++) {
        if (end < n && path[end] != '/')
            continue;
        memcpy(prefix, path, end);
        prefix[end] = '\0';
        struct stat st;
        if (lstat(prefix, &st) < 0 || !S_ISLNK(st.st_mode))
            continue;
        ssize_t k = readlink(prefix, target, sizeof target - 1);
        target[k < 0 ? 0 : k] = '\0';
        if (realpath(path, real))
            snprintf(buf, len, "%s is a symlink (-> %s); give the real path %s", prefix, target,
                     real);
        else
            snprintf(buf, len, "%s is a symlink (-> %s), and the path does not resolve: %s",
                     prefix, target, strerror(errno));
        return;
    }
}
