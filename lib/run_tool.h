/* Running an external tool (mkfs.ext4, mksquashfs, mmdebstrap, ...): posix_spawnp with an
 * argument vector, never a shell; its output kept and shown only when it fails. */
#ifndef ISOVM_RUN_TOOL_H
#define ISOVM_RUN_TOOL_H
#include <stddef.h>

struct run_tool {
    const char *const *argv;  /* argv[0] is the tool, looked up in PATH; NULL-terminated */
    const char *stdin_path;   /* the tool's stdin: this file, or /dev/null when NULL */
    const char *package;      /* the Debian package that has the tool, for "not found" */
    int verbose;              /* 1: the tool's output goes to isovm's stderr as it comes */
};

/* Runs the tool and waits for it. 0 when it exited with status 0. Otherwise a negative errno
 * and err names the tool and what failed: not found (-ENOENT, with the package), could not
 * start, killed by a signal or exited with status N (-EIO), followed by the last lines of its
 * output. */
int run_tool(const struct run_tool *t, char *err, size_t len);

#endif
