/* The image cache: ${XDG_CACHE_HOME:-~/.cache}/isovm/images/KEY.FORMAT, KEY a SHA-256 of what
 * made the image; entries appear whole (built in a private directory, then renamed), and -o gets
 * a reflink or a copy. */
#include "cli/image_cache.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/cache_dir.h"

int image_cache_dir(char *dir, size_t cap, char *err, size_t len)
{
    return cache_dir("ISOVM_IMAGE_CACHE", "images", 0755, dir, cap, err, len);
}

int image_cache_workdir(const char *dir, char *work, size_t cap, char *err, size_t len)
{
    int n = snprintf(work, cap, "%s/.build-XXXXXX", dir);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, len, "the image cache directory's path is too long");
        return -ENAMETOOLONG;
    }
    if (!mkdtemp(work)) {
        int e = errno;
        snprintf(err, len, "cannot make a build directory in %s: %s", dir, strerror(e));
        return -e;
    }
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void image_cache_rmtree(const char *path)
{
    nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

/* Copies bytes [off, end) of in to the same offsets of out: copy_file_range, else read and
 * write. */
static int copy_range(int in, int out, off_t off, off_t end)
{
    int use_cfr = 1;
    char *buf = NULL;
    while (off < end) {
        size_t want = (size_t)(end - off) < (1u << 30) ? (size_t)(end - off) : (1u << 30);
        ssize_t n;
        if (use_cfr) {
            off_t o_in = off, o_out = off;
            n = copy_file_range(in, &o_in, out, &o_out, want, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                use_cfr = 0;
                continue;
            }
        } else {
            if (!buf && !(buf = malloc(1 << 20)))
                return -ENOMEM;
            n = pread(in, buf, want < (1u << 20) ? want : (1u << 20), off);
            for (ssize_t done = 0; n > 0 && done < n;) {
                ssize_t w = pwrite(out, buf + done, (size_t)(n - done), off + done);
                if (w < 0) {
                    if (errno == EINTR)
                        continue;
                    int e = errno;
                    free(buf);
                    return -e;
                }
                done += w;
            }
        }
        if (n == 0) /* the source shrank under us */
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            return -e;
        }
        off += n;
    }
    free(buf);
    return 0;
}

/* Copies in to out keeping holes (an ext4 image is mostly holes): its data segments only
 * (SEEK_DATA, SEEK_HOLE), then out gets in's size. */
static int copy_sparse(int in, int out)
{
    struct stat st;
    if (fstat(in, &st))
        return -errno;
    off_t off = 0;
    while (off < st.st_size) {
        off_t data = lseek(in, off, SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO) /* only a hole is left */
                break;
            return copy_range(in, out, off, st.st_size); /* no SEEK_DATA: copy it all */
        }
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0)
            hole = st.st_size;
        int rc = copy_range(in, out, data, hole);
        if (rc)
            return rc;
        off = hole;
    }
    return ftruncate(out, st.st_size) ? -errno : 0;
}

int image_copy_out(const char *src, const char *dst, char *err, size_t len)
{
    struct stat st;
    if (!lstat(dst, &st) && !S_ISREG(st.st_mode)) {
        snprintf(err, len, "%s exists and is not a regular file: not replaced", dst);
        return -EEXIST;
    }
    char tmp[IMAGE_CACHE_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", dst);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, len, "%s: path too long", dst);
        return -ENAMETOOLONG;
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        int e = errno;
        snprintf(err, len, "cannot open %s: %s", src, strerror(e));
        return -e;
    }
    int out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0) {
        int e = errno;
        close(in);
        snprintf(err, len, "cannot write beside %s: %s", dst, strerror(e));
        return -e;
    }
    int rc = 0;
    if (ioctl(out, FICLONE, in) != 0)
        rc = copy_sparse(in, out);
    if (!rc && fchmod(out, 0644))
        rc = -errno;
    close(in);
    if (close(out) && !rc)
        rc = -errno;
    if (!rc && rename(tmp, dst))
        rc = -errno;
    if (rc) {
        unlink(tmp);
        snprintf(err, len, "cannot copy %s to %s: %s", src, dst, strerror(-rc));
    }
    return rc;
}
