/* The init's mounts: the API file systems, the read-only root with an overlayfs over a tmpfs or
 * a scratch disk, the new root's /proc, /sys, /dev, /tmp, /dev/pts, /dev/shm and cgroup2, the
 * switch_root-style move (mount --move onto /, chroot), and the further disks. */
#include "init/mounts.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "init/fsutil.h"
#include "init/seam.h"

static int mount_at(const char *src, const char *dir, const char *type, unsigned long flags,
                    const char *data, char *err, size_t len)
{
    int rc = mkdir_p(dir, 0755);
    if (!rc && mount(src, dir, type, flags, data))
        rc = -errno;
    if (rc)
        snprintf(err, len, "cannot mount %s (%s) on %s: %s", src, type, dir, strerror(-rc));
    return rc;
}

int mounts_early(char *err, size_t len)
{
    int rc;
    if ((rc = mount_at("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err, len)) ||
        (rc = mount_at("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err, len)) ||
        (rc = mount_at("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", err, len)))
        return rc;
    return 0;
}

int mounts_wait_dev(const char *dev)
{
    long long deadline = now_ms() + seam_wait_ms();
    for (;;) {
        struct stat st;
        if (!stat(dev, &st))
            return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
        if (now_ms() >= deadline)
            return -ENOENT;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Why a device did not come or did not mount, for a person. */
static void dev_error(char *err, size_t len, const char *what, const char *dev, const char *fstype,
                      const char *how, int rc)
{
    if (rc == -ENOENT)
        snprintf(err, len, "%s %s did not appear within %d ms (is its image attached?)", what, dev,
                 seam_wait_ms());
    else if (rc == -ENOTBLK)
        snprintf(err, len, "%s %s is not a block device", what, dev);
    else if (rc == -ENODEV)
        snprintf(err, len, "cannot mount %s %s: the guest kernel has no %s file system (is its "
                 "module in the initramfs?)", what, dev, fstype);
    else if (rc == -EINVAL || rc == -EUCLEAN || rc == -EIO || rc == -EFBIG)
        snprintf(err, len, "cannot mount %s %s as %s (%s): %s: the guest kernel cannot mount the "
                 "image as %s (damaged, or another file system)", what, dev, fstype, how,
                 strerror(-rc), fstype);
    else
        snprintf(err, len, "cannot mount %s %s as %s (%s): %s", what, dev, fstype, how, strerror(-rc));
}

static int mount_dev(const char *what, const char *dev, const char *fstype, const char *dir,
                     unsigned long flags, char *err, size_t len)
{
    const char *how = flags & MS_RDONLY ? "read-only" : "read-write";
    int rc = mounts_wait_dev(dev);
    if (rc) {
        dev_error(err, len, what, dev, fstype, how, rc);
        return rc;
    }
    if ((rc = mkdir_p(dir, 0755))) {
        snprintf(err, len, "cannot make the mount point %s of %s %s: %s%s", dir, what, dev,
                 strerror(-rc), rc == -EROFS ? " (the root has no overlay)" : "");
        return rc;
    }
    if (mount(dev, dir, fstype, flags, NULL)) {
        rc = -errno;
        dev_error(err, len, what, dev, fstype, how, rc);
    }
    return rc;
}

int mounts_root(const struct job_spec *s, enum isovm_init_stage *stage, char *err, size_t len)
{
    *stage = ISOVM_STAGE_ROOT;
    const char *at = s->overlay == JOB_OVERLAY_NONE ? MOUNTS_ROOT : MOUNTS_LOWER;
    int rc = mount_dev("the root", s->root_dev, s->root_fstype, at, MS_RDONLY, err, len);
    if (rc || s->overlay == JOB_OVERLAY_NONE)
        return rc;

    *stage = ISOVM_STAGE_OVERLAY;
    if (s->overlay == JOB_OVERLAY_TMPFS)
        rc = mount_at("tmpfs", MOUNTS_RW, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", err, len);
    else
        rc = mount_dev("the overlay's disk", s->overlay_dev, s->overlay_fstype, MOUNTS_RW, 0, err, len);
    if (rc)
        return rc;
    /* a scratch disk used before keeps its upper/ (the changes of that run) */
    if ((mkdir(MOUNTS_RW "/upper", 0755) && errno != EEXIST) ||
        (mkdir(MOUNTS_RW "/work", 0755) && errno != EEXIST)) {
        rc = -errno;
        snprintf(err, len, "cannot make the overlay's upper and work directories in %s: %s",
                 s->overlay == JOB_OVERLAY_DISK ? s->overlay_dev : "its tmpfs", strerror(errno));
        return rc;
    }
    return mount_at("overlay", MOUNTS_ROOT, "overlay", 0,
                    "lowerdir=" MOUNTS_LOWER ",upperdir=" MOUNTS_RW "/upper,workdir=" MOUNTS_RW "/work",
                    err, len);
}

/* A directory the new root must have: made when missing (a read-only root must bring it). */
static int need_dir(const char *dir, mode_t mode, char *err, size_t len)
{
    struct stat st;
    if (!stat(dir, &st)) {
        if (S_ISDIR(st.st_mode))
            return 0;
        snprintf(err, len, "%s in the new root is not a directory", dir + strlen(MOUNTS_ROOT));
        return -ENOTDIR;
    }
    if (mkdir(dir, mode) && errno != EEXIST) {
        int rc = -errno;
        snprintf(err, len, "the new root has no %s and it cannot be made: %s%s",
                 dir + strlen(MOUNTS_ROOT), strerror(-rc),
                 rc == -EROFS ? " (a read-only root without an overlay must bring it)" : "");
        return rc;
    }
    return 0;
}

static int move(const char *from, const char *to, char *err, size_t len)
{
    if (!mount(from, to, NULL, MS_MOVE, NULL))
        return 0;
    int rc = -errno;
    snprintf(err, len, "cannot move the mount %s to %s: %s", from, to, strerror(-rc));
    return rc;
}

int mounts_new_root(char *err, size_t len)
{
    static const char *const links[][2] = {
        {"/proc/self/fd", MOUNTS_ROOT "/dev/fd"}, {"/proc/self/fd/0", MOUNTS_ROOT "/dev/stdin"},
        {"/proc/self/fd/1", MOUNTS_ROOT "/dev/stdout"}, {"/proc/self/fd/2", MOUNTS_ROOT "/dev/stderr"},
    };
    int rc;
    if ((rc = need_dir(MOUNTS_ROOT "/proc", 0555, err, len)) ||
        (rc = need_dir(MOUNTS_ROOT "/sys", 0555, err, len)) ||
        (rc = need_dir(MOUNTS_ROOT "/dev", 0755, err, len)) ||
        (rc = need_dir(MOUNTS_ROOT "/tmp", 01777, err, len)) ||
        (rc = move("/proc", MOUNTS_ROOT "/proc", err, len)) ||
        (rc = move("/sys", MOUNTS_ROOT "/sys", err, len)) ||
        (rc = move("/dev", MOUNTS_ROOT "/dev", err, len)) ||
        (rc = mount_at("tmpfs", MOUNTS_ROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err, len)) ||
        (rc = mount_at("devpts", MOUNTS_ROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                       "gid=5,mode=0620,ptmxmode=0666", err, len)) ||
        (rc = mount_at("tmpfs", MOUNTS_ROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err, len)) ||
        (rc = mount_at("cgroup2", MOUNTS_ROOT "/sys/fs/cgroup", "cgroup2",
                       MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err, len)))
        return rc;
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlink(links[i][0], links[i][1]) && errno != EEXIST) {
            rc = -errno;
            snprintf(err, len, "cannot make %s: %s", links[i][1] + strlen(MOUNTS_ROOT), strerror(-rc));
            return rc;
        }
    if (chdir(MOUNTS_ROOT) || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/")) {
        rc = -errno;
        snprintf(err, len, "cannot move into the new root %s: %s", MOUNTS_ROOT, strerror(-rc));
        return rc;
    }
    return 0;
}

int mounts_disks(const struct job_spec *s, char *err, size_t len)
{
    for (size_t i = 0; i < s->ndisks; i++) {
        const struct job_disk *d = &s->disks[i];
        int rc;
        if (!d->mountpoint) {
            if ((rc = mounts_wait_dev(d->dev)))
                dev_error(err, len, "the disk", d->dev, d->fstype, "not mounted", rc);
        } else {
            rc = mount_dev("the disk", d->dev, d->fstype, d->mountpoint, d->rw ? 0 : MS_RDONLY, err, len);
        }
        if (rc)
            return rc;
    }
    return 0;
}

void mounts_release(const struct job_spec *s)
{
    for (size_t i = s->ndisks; i-- > 0;)
        if (s->disks[i].rw && s->disks[i].mountpoint)
            umount2(s->disks[i].mountpoint, 0);
}
