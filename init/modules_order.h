/* The initramfs's module order file, one line at a time (init/abi.h): a module's file name and
 * the file system types it serves; and which lines a job needs. */
#ifndef ISOVM_INIT_MODULES_ORDER_H
#define ISOVM_INIT_MODULES_ORDER_H
#include <stdbool.h>
#include <stddef.h>
#include "init/abi.h"
#include "init/job_file.h"

struct modules_order_line {
    const char *name;                       /* NAME.ko */
    const char *tag[ISOVM_MODULE_TAGS_MAX]; /* none: always loaded */
    size_t ntags;
};

/* Parses one line of len bytes (no LF; NUL-terminated at len) in place: its spaces become NULs,
 * and *l points into it. 0, or -EINVAL with err naming the line number `line` and what is
 * wrong (a NUL byte, a name that is no [A-Za-z0-9_.-]+.ko or starts with '.', a tag that is no
 * [a-z0-9_]{1,32}, two spaces in a row or one at the end, more than ISOVM_MODULE_TAGS_MAX). */
int modules_order_line_parse(char *text, size_t len, struct modules_order_line *l, char *err,
                             size_t errlen, unsigned line);

/* Whether the job needs the line's module: untagged, or one of its tags among the ntags. */
bool modules_order_line_wanted(const struct modules_order_line *l, const char *const *tags,
                               size_t ntags);

/* The tags the job's modules must carry: the root's FSTYPE, "overlay" and the overlay disk's
 * FSTYPE when there is an overlay, each disk's FSTYPE, "9p" when there is a share, "net" when
 * there is a net line. Fills up to max entries (pointers into spec or static strings), without
 * repeats; returns how many (MODULES_TAGS_WANTED_MAX at most). */
#define MODULES_TAGS_WANTED_MAX (ISOVM_JOB_DISKS_MAX + 5)
size_t modules_wanted_tags(const struct job_spec *spec, const char **tags, size_t max);

#endif
