/* Guest path logic of the file-system view: lexical normalization, grant lookup, splitting and
 * the symlink-target rule. Pure string functions (no host access), unit-tested hostilely. */
#ifndef ISOVM_FS_PATH_H
#define ISOVM_FS_PATH_H
#include <stdbool.h>
#include <stddef.h>

/* Join `path` to the absolute, normalized directory `base` (ignored when path is absolute) and
 * normalize lexically into out[0..len): repeated '/' collapse, "." components go, ".." drops the
 * previous component and never climbs above "/" (Plan 9's lexical "..": symlinks are not looked
 * at). The result is absolute, without a trailing '/' (but "/" itself). 0, or -ENOENT for an
 * empty path (as Linux), -ENAMETOOLONG when the result does not fit. */
int fsp_join(const char *base, const char *path, char *out, size_t len);

/* If `path` (normalized) is `dir` (normalized) or beneath it by whole components, the part of
 * path below dir ("" when equal, never starting with '/'), else NULL. "/dataX" is not beneath
 * "/data"; everything is beneath "/". */
const char *fsp_beneath(const char *dir, const char *path);

/* The index of the grant whose guest path (guests[0..n), normalized, never "/") is the longest
 * component prefix of `path`, and *rest its remainder (as fsp_beneath); -1 when none is. */
int fsp_grant_find(const char *const *guests, unsigned n, const char *path, const char **rest);

/* Is `path` "/" or a strict ancestor of one of the grants (a directory the view makes up so
 * programs can walk down to their grants)? */
bool fsp_is_ancestor(const char *const *guests, unsigned n, const char *path);

/* Split a relative remainder "a/b/c" into its directory ("a/b"; "." for "c") written into
 * dir[0..len) and its last component (returned, pointing into rest). NULL when rest is empty or
 * does not fit. */
const char *fsp_split(const char *rest, char *dir, size_t len);

/* Does a symlink target only lead downward from the link's own directory: relative, not empty,
 * with no ".." component ("x", "./x/y", "x//y/", "...x")? Such a link means the same wherever
 * it is moved to, so it can never lead out of the grant it is in (docs/filesystem.md). False
 * for anything else: absolute, "..", "../x", "x/../y". */
bool fsp_symlink_downward(const char *target);

#endif
