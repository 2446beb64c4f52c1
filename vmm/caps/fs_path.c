/* Guest path logic of the file-system view: pure string functions (see fs_path.h). */
#include "vmm/caps/fs_path.h"
#include <errno.h>
#include <string.h>

/* Apply one component to out[0..*n) ("" stands for "/", components kept as "/name"). */
static int component_apply(char *out, size_t len, size_t *n, const char *comp, size_t clen)
{
    if (clen == 0 || (clen == 1 && comp[0] == '.'))
        return 0;
    if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
        while (*n > 0 && out[*n - 1] != '/')
            (*n)--;
        if (*n > 0)
            (*n)--; /* the '/' before it; at "/" already: stays there */
        return 0;
    }
    if (clen > len || *n + 1 + clen + 1 > len)
        return -ENAMETOOLONG;
    out[(*n)++] = '/';
    memcpy(out + *n, comp, clen);
    *n += clen;
    return 0;
}

static int components_apply(char *out, size_t len, size_t *n, const char *s)
{
    while (*s) {
        while (*s == '/')
            s++;
        const char *end = s;
        while (*end && *end != '/')
            end++;
        int rc = component_apply(out, len, n, s, (size_t)(end - s));
        if (rc)
            return rc;
        s = end;
    }
    return 0;
}

int fsp_join(const char *base, const char *path, char *out, size_t len)
{
    if (len < 2)
        return -ENAMETOOLONG;
    if (!path[0])
        return -ENOENT;
    size_t n = 0;
    int rc = 0;
    if (path[0] != '/')
        rc = components_apply(out, len, &n, base);
    if (!rc)
        rc = components_apply(out, len, &n, path);
    if (rc)
        return rc;
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    return 0;
}

const char *fsp_beneath(const char *dir, const char *path)
{
    if (strcmp(dir, "/") == 0)
        return path + 1;
    size_t k = strlen(dir);
    if (strncmp(dir, path, k) != 0)
        return NULL;
    if (path[k] == '\0')
        return path + k;
    return path[k] == '/' ? path + k + 1 : NULL;
}

int fsp_grant_find(const char *const *guests, unsigned n, const char *path, const char **rest)
{
    int best = -1;
    size_t best_len = 0;
    for (unsigned i = 0; i < n; i++) {
        const char *r = fsp_beneath(guests[i], path);
        size_t k = strlen(guests[i]);
        if (r && (best < 0 || k > best_len)) {
            best = (int)i;
            best_len = k;
            *rest = r;
        }
    }
    return best;
}

bool fsp_is_ancestor(const char *const *guests, unsigned n, const char *path)
{
    if (strcmp(path, "/") == 0)
        return true;
    for (unsigned i = 0; i < n; i++) {
        const char *r = fsp_beneath(path, guests[i]);
        if (r && *r)
            return true;
    }
    return false;
}

const char *fsp_split(const char *rest, char *dir, size_t len)
{
    if (!rest[0])
        return NULL;
    const char *slash = strrchr(rest, '/');
    if (!slash) {
        if (len < 2)
            return NULL;
        strcpy(dir, ".");
        return rest;
    }
    size_t k = (size_t)(slash - rest);
    if (k == 0 || k >= len || !slash[1])
        return NULL;
    memcpy(dir, rest, k);
    dir[k] = '\0';
    return slash + 1;
}

bool fsp_symlink_downward(const char *target)
{
    if (!target[0] || target[0] == '/')
        return false;
    for (const char *s = target; *s;) {
        const char *end = s;
        while (*end && *end != '/')
            end++;
        if (end - s == 2 && s[0] == '.' && s[1] == '.')
            return false;
        s = *end ? end + 1 : end;
    }
    return true;
}
