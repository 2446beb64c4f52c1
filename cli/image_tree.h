/* A directory tree to pack into an image: one walk gives its cache key (a SHA-256 over every
 * entry's path and stat, in sorted order) and the sizes an ext4 image of it needs. */
#ifndef ISOVM_CLI_IMAGE_TREE_H
#define ISOVM_CLI_IMAGE_TREE_H
#include <stddef.h>
#include <stdint.h>

#define IMAGE_TREE_DEPTH_MAX 256

struct image_tree {
    uint8_t digest[32];   /* path, type, mode, owner, size, mtime, ctime, inode, link target */
    uint64_t entries;     /* every entry below the top, the top included */
    uint64_t dirs;
    uint64_t data_bytes;  /* regular files, each rounded up to 4 KiB, plus long symlink targets */
};

/* Walks dir without following symlinks (dir itself must be a directory, not a symlink to one).
 * 0, or a negative errno with err naming the path and the failure (-ENOTDIR, -ELOOP for a tree
 * deeper than IMAGE_TREE_DEPTH_MAX, a failing stat or opendir). */
int image_tree_scan(const char *dir, struct image_tree *t, char *err, size_t len);

#endif
