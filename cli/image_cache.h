/* The image cache: ${XDG_CACHE_HOME:-~/.cache}/isovm/images/KEY.FORMAT, KEY a SHA-256 of what
 * made the image; entries appear whole (built in a private directory, then renamed), and -o gets
 * a reflink or a copy. */
#ifndef ISOVM_CLI_IMAGE_CACHE_H
#define ISOVM_CLI_IMAGE_CACHE_H
#include <stddef.h>

#define IMAGE_CACHE_PATH_MAX 4096

/* The cache directory, made when missing: $ISOVM_IMAGE_CACHE, else $XDG_CACHE_HOME/isovm/images,
 * else $HOME/.cache/isovm/images. 0 or a negative errno (err says which directory and why). */
int image_cache_dir(char *dir, size_t cap, char *err, size_t len);

/* A private build directory inside the cache (dir/.build-XXXXXX): where an entry is made. */
int image_cache_workdir(const char *dir, char *work, size_t cap, char *err, size_t len);

/* Removes a build directory and everything in it (best effort). */
void image_cache_rmtree(const char *path);

/* Copies src to dst, replacing dst atomically (a temporary file beside it, then rename): a
 * reflink (FICLONE) where the file system can, else copy_file_range, else read and write. dst
 * must be a regular file or not exist. 0 or a negative errno with context in err. */
int image_copy_out(const char *src, const char *dst, char *err, size_t len);

#endif
