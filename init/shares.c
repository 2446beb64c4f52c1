/* The job's shares, parents first: a mount point made for each, then the VMM's 9p file system
 * mounted there by the share's aname (the test build records the mount call instead of making it). */
#include "init/shares.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include "init/abi.h"
#include "init/fsutil.h"
#include "init/seam.h"

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

static void umount_9p(const char *dir)
{
    seam_record("umount %s", dir);
}
#else
static int mount_9p(const char *dir, unsigned long flags, const char *opts)
{
    return mount(ISOVM_9P_TAG, dir, "9p", flags, opts) ? -errno : 0;
}

static void umount_9p(const char *dir)
{
    umount2(dir, 0);
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

int shares_mount(const struct job_spec *s, char *err, size_t len)
{
    size_t order[ISOVM_JOB_SHARES_MAX], n = mount_order(s, order);
    for (size_t k = 0; k < n; k++) {
        const struct job_share *sh = &s->shares[order[k]];
        const char *access = sh->rw ? "rw" : "ro";
        int rc = mkdir_p(sh->mountpoint, 0755);
        if (rc) {
            snprintf(err, len, "cannot make the mount point of the share %s: %s%s", sh->mountpoint,
                     strerror(-rc),
                     rc == -EROFS ? " (a read-only root without an overlay, or a read-only disk or "
                                    "share, must have the directory)" : "");
            return rc;
        }
        char opts[sizeof ISOVM_9P_OPTIONS + sizeof ",aname=" + ISOVM_JOB_SHARE_PATH_MAX];
        snprintf(opts, sizeof opts, "%s,aname=%s", ISOVM_9P_OPTIONS, sh->mountpoint);
        rc = mount_9p(sh->mountpoint, MS_NOSUID | MS_NODEV | (sh->rw ? 0 : MS_RDONLY), opts);
        if (rc == -ENOENT)
            snprintf(err, len, "cannot mount the share %s (%s, 9p): %s: no virtio-9p device tagged "
                     "\"%s\", or the VMM does not serve %s", sh->mountpoint, access, strerror(-rc),
                     ISOVM_9P_TAG, sh->mountpoint);
        else if (rc == -ENODEV)
            snprintf(err, len, "cannot mount the share %s (%s, 9p): the guest kernel has no 9p file "
                     "system (are its modules in the initramfs, tagged 9p?)", sh->mountpoint, access);
        else if (rc)
            snprintf(err, len, "cannot mount the share %s (%s, 9p): %s", sh->mountpoint, access,
                     strerror(-rc));
        if (rc)
            return rc;
    }
    return 0;
}

void shares_release(const struct job_spec *s)
{
    size_t order[ISOVM_JOB_SHARES_MAX], n = mount_order(s, order);
    for (size_t k = n; k-- > 0;)
        if (s->shares[order[k]].rw)
            umount_9p(s->shares[order[k]].mountpoint);
}
