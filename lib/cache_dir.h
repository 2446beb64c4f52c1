/* isovm's cache directories: ${XDG_CACHE_HOME:-~/.cache}/isovm/NAME, or an environment variable's path. */
#ifndef ISOVM_LIB_CACHE_DIR_H
#define ISOVM_LIB_CACHE_DIR_H
#include <stddef.h>
#include <sys/types.h>

/* The cache directory NAME, made when missing (each new directory with mode): $env_var if set,
 * else $XDG_CACHE_HOME/isovm/NAME, else $HOME/.cache/isovm/NAME. 0 or a negative errno (err says
 * which directory and why). */
int cache_dir(const char *env_var, const char *name, mode_t mode, char *dir, size_t cap, char *err,
              size_t len);

#endif
