/* The job's shares: the VMM's 9p file system mounted once (aname "": every grant an entry named by its index), each share bind-mounted from it at its mount point, parents first; the test build records those calls instead of making them. */
#include "init/shares.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include "init/abi.h"
#include "init/fsutil.h"
#include "init/seam.h"

/* Where the 9p file system is mounted while the shares are bound from it (devtmpfs: always
 * writable, never the job's files); detached once they are. */
#define SHARES_BASE "/dev/.isovm-grants"

#if SEAM_TEST
static int mount_9p(const char *dir, unsigned long flags, const char *opts)
{
    char f[64] = "";
    static const struct { unsigned long bit; const char *name; } names[] = {
        {MS_RDONLY, "MS_RDONLY"}, {MS_NOSUID, "MS_NOSUID"}, {MS_NODEV, "MS_NODEV"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].bit) {
            snprintf(f + strlen(f), sizeof f - strlen(f), "%s%s", f[0] ? "|" : "", names[i].name);
            flags &= ~names[i].bit;
        }
    if (flags)
        snprintf(f + strlen(f), sizeof f - strlen(f), "%s0x%lx", f[0] ? "|" : "", flags);
    return seam_record("mount %s %s 9p %s %s", ISOVM_9P_TAG, dir, f[0] ? f : "0", opts);
}

static int bind_share(const char *from, const char *to, bool rw)
{
    return seam_record("bind %s %s%s", from, to, rw ? "" : " ro");
}

static void umount_9p(const char *dir)
{
    seam_record("umount %s", dir);
}

static void detach_base(void)
{
    seam_record("detach %s", SHARES_BASE);
}
#else
static int mount_9p(const char *dir, unsigned long flags, const char *opts)
{
    return mount(ISOVM_9P_TAG, dir, "9p", flags, opts) ? -errno : 0;
}

/* A bind mount of the share's entry; a read-only share is made so by a remount of the bind. */
static int bind_share(const char *from, const char *to, bool rw)
{
    if (mount(from, to, NULL, MS_BIND, NULL))
        return -errno;
    if (!rw && mount(NULL, to, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL)) {
        int e = errno;
        umount2(to, MNT_DETACH);
        return -e;
    }
    return 0;
}

static void umount_9p(const char *dir)
{
    umount2(dir, 0);
}

static void detach_base(void)
{
    umount2(SHARES_BASE, MNT_DETACH);
    rmdir(SHARES_BASE);
}
#endif

/* The shares in mount order: by depth, so that a share is mounted before those below it and
 * never over them; the file's order among shares of one depth. Returns how many (all). */
static size_t mount_order(const struct job_spec *s, size_t order[ISOVM_JOB_SHARES_MAX])
{
    size_t n = 0, depth[ISOVM_JOB_SHARES_MAX];
    for (size_t i = 0; i < s->nshares && i < ISOVM_JOB_SHARES_MAX; i++) {
        depth[i] = 0; /* normalized: one '/' per component */
        for (const char *c = s->shares[i].mountpoint; *c; c++)
            depth[i] += *c == '/';
    }
    for (size_t d = 1; n < s->nshares && d <= ISOVM_JOB_SHARE_PATH_MAX; d++)
        for (size_t i = 0; i < s->nshares && i < ISOVM_JOB_SHARES_MAX; i++)
            if (depth[i] == d)
                order[n++] = i;
    return n;
}

/* One 9p mount for every share: a virtio-9p channel serves one mount (a second one of the same
 * tag fails with EBUSY), so each share is a bind mount of its entry. */
static int mount_base(char *err, size_t len)
{
    int rc = mkdir_p(SHARES_BASE, 0700);
    if (rc) {
        snprintf(err, len, "cannot make %s for the shares: %s", SHARES_BASE, strerror(-rc));
        return rc;
    }
    char opts[sizeof ISOVM_9P_OPTIONS + sizeof ",aname="];
    snprintf(opts, sizeof opts, "%s,aname=", ISOVM_9P_OPTIONS);
    rc = mount_9p(SHARES_BASE, MS_NOSUID | MS_NODEV, opts);
    if (rc == -ENOENT)
        snprintf(err, len, "cannot mount the shares (9p): %s: no virtio-9p device tagged \"%s\"",
                 strerror(-rc), ISOVM_9P_TAG);
    else if (rc == -ENODEV)
        snprintf(err, len, "cannot mount the shares (9p): the guest kernel has no 9p file system "
                 "(are its modules in the initramfs, tagged 9p?)");
    else if (rc)
        snprintf(err, len, "cannot mount the shares (9p): %s", strerror(-rc));
    return rc;
}

int shares_mount(const struct job_spec *s, char *err, size_t len)
{
    if (s->nshares == 0)
        return 0;
    int rc = mount_base(err, len);
    if (rc)
        return rc;
    size_t order[ISOVM_JOB_SHARES_MAX], n = mount_order(s, order);
    for (size_t k = 0; k < n && !rc; k++) {
        const struct job_share *sh = &s->shares[order[k]];
        const char *access = sh->rw ? "rw" : "ro";
        if ((rc = mkdir_p(sh->mountpoint, 0755))) {
            snprintf(err, len, "cannot make the mount point of the share %s: %s%s", sh->mountpoint,
                     strerror(-rc),
                     rc == -EROFS ? " (a read-only root without an overlay, or a read-only disk or "
                                    "share, must have the directory)" : "");
            break;
        }
        /* the i-th share line is the VMM's entry i (init/abi.h) */
        char from[sizeof SHARES_BASE + 24];
        snprintf(from, sizeof from, "%s/%zu", SHARES_BASE, order[k]);
        if ((rc = bind_share(from, sh->mountpoint, sh->rw))) {
            if (rc == -ENOENT)
                snprintf(err, len, "cannot mount the share %s (%s, 9p): %s: the VMM serves no entry "
                         "%zu", sh->mountpoint, access, strerror(-rc), order[k]);
            else
                snprintf(err, len, "cannot mount the share %s (%s, 9p): %s", sh->mountpoint, access,
                         strerror(-rc));
        }
    }
    detach_base(); /* the binds keep the file system; the job never sees its root */
    return rc;
}

void shares_release(const struct job_spec *s)
{
    size_t order[ISOVM_JOB_SHARES_MAX], n = mount_order(s, order);
    for (size_t k = n; k-- > 0;)
        if (s->shares[order[k]].rw)
            umount_9p(s->shares[order[k]].mountpoint);
}
