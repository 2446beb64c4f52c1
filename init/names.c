/* The job's /etc/hosts and /etc/resolv.conf: written over the root's when it can be written,
 * otherwise put in a small tmpfs stacked on /tmp for a moment and bind-mounted over the root's. */
#include "init/names.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init/abi.h"
#include "init/fsutil.h"

/* Writes text to a new file path (mode 0644). 0 or -errno. */
static int write_new(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int rc = w < 0 ? -errno : (size_t)w != n ? -EIO : 0;
    if (close(fd) && !rc)
        rc = -errno;
    return rc;
}

/* path replaced in the root: a new file beside it renamed over it. 0 or -errno (-EROFS: the
 * root, or what holds /etc, is read-only). */
static int replace(const char *path, const char *text)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.isovm-new", path);
    int rc = mkdir_p("/etc", 0755);
    if (!rc && !(rc = write_new(tmp, text)) && rename(tmp, path))
        rc = -errno;
    if (rc && rc != -EROFS)
        unlink(tmp);
    return rc;
}

/* path on a read-only root: the file must be there; a tmpfs stacked on /tmp (which the new root
 * has) takes the text, the file is bind-mounted over path and made read-only, and the tmpfs is
 * taken off /tmp again (the bind mount keeps it). 0 or -errno with err. */
static int bind_over(const char *path, const char *text, char *err, size_t len)
{
    static const char helper[] = "/tmp", file[] = "/tmp/isovm-file";
    struct stat st;
    if (stat(path, &st)) {
        int rc = -errno;
        if (rc == -ENOENT)
            snprintf(err, len, "the new root is read-only (no overlay) and has no %s to put the job's "
                     "over: the root image must have one", path);
        else
            snprintf(err, len, "cannot write %s on the read-only root: %s", path, strerror(-rc));
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, len, "cannot write %s on the read-only root: it is not a file", path);
        return -EISDIR;
    }
    int rc = 0;
    const char *step = "mount a tmpfs on /tmp for it";
    if (mount("tmpfs", helper, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")) {
        rc = -errno;
    } else {
        if ((rc = write_new(file, text)))
            step = "write it in a tmpfs";
        else if (mount(file, path, NULL, MS_BIND, NULL))
            rc = -errno, step = "bind-mount it";
        else if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
            rc = -errno, step = "make its bind mount read-only";
        if (umount2(helper, MNT_DETACH) && !rc)
            rc = -errno, step = "take the tmpfs off /tmp";
    }
    if (rc)
        snprintf(err, len, "cannot put %s over the read-only root's: cannot %s: %s", path, step,
                 strerror(-rc));
    return rc;
}

static int place(const char *path, const char *text, char *err, size_t len)
{
    int rc = replace(path, text);
    if (rc == -EROFS)
        return bind_over(path, text, err, len);
    if (rc)
        snprintf(err, len, "cannot write %s in the new root: %s", path, strerror(-rc));
    return rc;
}

int names_write(const struct job_spec *s, char *err, size_t len)
{
    char a[JOB_IPV4_STR_MAX];
    int rc = 0;
    if (s->nhosts) {
        /* "ADDR NAME\n": at most 15 + 1 + 253 + 1 bytes a line */
        size_t cap = 32 + s->nhosts * (JOB_IPV4_STR_MAX + 256), n;
        char *text = malloc(cap);
        if (!text) {
            snprintf(err, len, "out of memory for /etc/hosts");
            return -ENOMEM;
        }
        n = (size_t)snprintf(text, cap, "127.0.0.1 localhost\n");
        for (size_t i = 0; i < s->nhosts && n < cap; i++) {
            job_ipv4_str(s->hosts[i].addr, a);
            n += (size_t)snprintf(text + n, cap - n, "%s %s\n", a, s->hosts[i].name);
        }
        rc = place("/etc/hosts", text, err, len);
        free(text);
        if (rc)
            return rc;
    }
    if (s->has_nameserver) {
        char text[32 + JOB_IPV4_STR_MAX];
        job_ipv4_str(s->nameserver, a);
        snprintf(text, sizeof text, "nameserver %s\n", a);
        rc = place("/etc/resolv.conf", text, err, len);
    }
    return rc;
}
