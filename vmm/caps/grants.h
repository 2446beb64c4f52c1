/* The policy's grants opened at launch: one root capability per grant, the roots of the job's
 * file-system view (sys_fs.c resolves every path beneath one of them). */
#ifndef ISOVM_GRANTS_H
#define ISOVM_GRANTS_H
#include "vmm/caps/cap.h"
#include "vmm/core/job.h"

/* One policy grant opened at launch (grants.c): the root capability of its part of the view.
 * A directory's root holds an O_RDONLY|O_DIRECTORY descriptor that paths resolve beneath; a
 * regular file's holds an O_PATH descriptor, and opens reopen it by name beneath its parent
 * directory (no /proc: the jailed VMM has none), checked to be the same inode. */
struct grant_root {
    uint32_t slot, gen;   /* the root entry in job->caps */
    bool is_file;         /* a regular file granted directly */
    int parent_fd;        /* is_file: O_PATH descriptor of its host directory (grants_close closes) */
    char name[256];       /* is_file: its name in that directory */
    uint64_t dev, ino;    /* is_file: the granted inode */
};


/* Open every policy grant's host path (a directory O_RDONLY|O_DIRECTORY, a regular file O_PATH
 * after checking it can be opened as its rights need) and make it a root capability with the
 * grant's rights and its deadline (job->start_ns + expires_ns), logged as "grant". Call after
 * job->start_ns is set. 0, or -errno after one line on stderr naming the grant
 * ("policy grants[1].host: /srv/in: No such file or directory"); the caller exits 125. */
int grants_open(struct job *job);

/* Close the file grants' parent directories and free the roots (their capabilities are the
 * table's, closed by fd_table_fini). */
void grants_close(struct job *job);
/* Reopen file grant r (is_file) with open flags `flags`, by name beneath its parent directory,
 * checked to be the granted inode: fd or -errno (-ESTALE when another file took the name). */
int grant_file_reopen(const struct grant_root *r, int flags);
/* Make every policy endpoint a root capability (CAP_ENDPOINT, no host descriptor) with its
 * deadline, logged as "grant"; grants_open calls it last. 0, or -errno after one line on
 * stderr. */
int endpoints_open(struct job *job);

/* The grant whose root is `slot` (the root of a chain), or -1. */
int grants_index_of_root(const struct job *job, uint32_t root_slot);

#endif
