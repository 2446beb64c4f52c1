/* Packing a directory (or mmdebstrap's tar) into a disk image: squashfs with mksquashfs (the
 * default) or ext4 with mkfs.ext4 -d, of a size computed from the tree with headroom. */
#ifndef ISOVM_CLI_IMAGE_PACK_H
#define ISOVM_CLI_IMAGE_PACK_H
#include <stddef.h>
#include <stdint.h>
#include "cli/image_tree.h"

enum image_format { IMAGE_SQUASHFS, IMAGE_EXT4 };

/* "squashfs" or "ext4" -> *f; -EINVAL for anything else. */
int image_format_parse(const char *s, enum image_format *f);
const char *image_format_name(enum image_format f);

/* The size of an ext4 image for the tree: its data, inode tables, a journal and 10% plus
 * 16 MiB of headroom, in whole MiB. */
uint64_t image_ext4_size(const struct image_tree *t);

/* Packs dir into a new file out (which must not exist). ext4: size bytes (0: image_ext4_size).
 * 0, or a negative errno with err naming the tool and what failed; out is removed on failure. */
int image_pack_dir(const char *dir, const struct image_tree *t, enum image_format f, uint64_t size,
                   const char *out, int verbose, char *err, size_t len);

/* Packs the uncompressed tar file tar into a new squashfs file out (mksquashfs -tar). */
int image_pack_tar(const char *tar, const char *out, int verbose, char *err, size_t len);

#endif
