/* Host paths the operator grants: opened with no symlink anywhere in them, and the symlink named
 * when there is one (launch and isovm jail refuse such a grant: docs/filesystem.md). */
#ifndef ISOVM_HOST_PATH_H
#define ISOVM_HOST_PATH_H
#include <stddef.h>

/* openat2(AT_FDCWD, path, flags | O_CLOEXEC) refusing every symlink on the way, the last
 * component included (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): fd, or -errno (-ELOOP: the
 * path goes through a symlink). */
int host_path_open(const char *path, int flags);

/* Explain an -ELOOP from host_path_open in buf[0..len): the first symlink of `path` (its prefix
 * up to that component), what it points to, and the real path to give instead when it exists:
 * "/srv/l is a symlink (-> ../x); give the real path /x". */
void host_path_symlink_explain(const char *path, char *buf, size_t len);

#endif
