/* isovm's cache directories: where they are, made when missing. */
#include "lib/cache_dir.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p of an absolute or relative path. */
static int mkdirs(const char *path, mode_t mode, char *err, size_t len)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        snprintf(err, len, "cache directory path too long");
        return -ENAMETOOLONG;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, mode) && errno != EEXIST) {
                int e = errno;
                snprintf(err, len, "cannot make the cache directory %s: %s", buf, strerror(e));
                return -e;
            }
            if (!c)
                break;
            *p = c;
        }
    }
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, len, "the cache %s is not a directory", path);
        return -ENOTDIR;
    }
    return 0;
}

int cache_dir(const char *env_var, const char *name, mode_t mode, char *dir, size_t cap, char *err,
              size_t len)
{
    const char *own = getenv(env_var), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (own && *own)
        n = snprintf(dir, cap, "%s", own);
    else if (xdg && *xdg == '/')
        n = snprintf(dir, cap, "%s/isovm/%s", xdg, name);
    else if (home && *home == '/')
        n = snprintf(dir, cap, "%s/.cache/isovm/%s", home, name);
    else {
        snprintf(err, len, "no %s cache directory: set XDG_CACHE_HOME or HOME (or %s)", name, env_var);
        return -ENOENT;
    }
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, len, "the %s cache directory's path is too long", name);
        return -ENAMETOOLONG;
    }
    return mkdirs(dir, mode, err, len);
}
