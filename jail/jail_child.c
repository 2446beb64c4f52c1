/* isovm jail, in the child: enter the cgroup and new namespaces, bind what the job needs into
 * the jail, pivot_root, drop every privilege and exec `isovm launch`. Any failure ends the child
 * with 125 after a message. */
#include "jail/jail_child.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "lib/log.h"

static void child_die(const char *what, const char *path) __attribute__((noreturn));
static void child_die(const char *what, const char *path)
{
    log_err("jail: %s%s%s: %s", what, path ? " " : "", path ? path : "", strerror(errno));
    _exit(EXIT_ISOVM_ERROR);
}

/* mkdir -p of the directories above `path` (inside the jail's tmpfs, as the cwd is its root). */
static void mkdir_parents(const char *path, bool last_too)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, ".%s", path);
    for (char *s = p + 2; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                child_die("mkdir", p + 1);
            *s = '/';
        }
    if (last_too && mkdir(p, 0755) < 0 && errno != EEXIST)
        child_die("mkdir", p + 1);
}

/* Bind b at its place in the jail (the cwd is the jail's root): from its host path, or, tree >= 0,
 * by moving that detached copy of it (open_tree) in. */
static void bind_one(const struct bind *b, int tree)
{
    char dst[PATH_MAX + 2];
    snprintf(dst, sizeof dst, ".%s", b->dst);
    mkdir_parents(b->dst, false);
    if (b->dir) {
        if (mkdir(dst, 0755) < 0 && errno != EEXIST)
            child_die("mkdir", b->dst);
    } else {
        int fd = open(dst, O_RDONLY | O_CREAT | O_CLOEXEC, 0444); /* may exist in a parent bind */
        if (fd < 0)
            child_die("create the mount point", b->dst);
        close(fd);
    }
    if (tree >= 0 ? syscall(SYS_move_mount, tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0
                  : mount(b->src, dst, "none", MS_BIND | (b->dir ? MS_REC : 0), NULL) < 0)
        child_die("bind-mount", b->src);
    unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (b->rw ? 0 : MS_RDONLY) |
                       (b->exec ? 0 : MS_NOEXEC);
    if (mount("none", dst, "none", fl, NULL) < 0)
        child_die(b->rw ? "remount nosuid,nodev" : "remount read-only", b->dst);
}

static int bind_cmp(const void *a, const void *b)
{
    size_t la = strlen(((const struct bind *)a)->dst), lb = strlen(((const struct bind *)b)->dst);
    return la < lb ? -1 : la > lb;
}

static int capset_all(uint32_t eff, uint32_t perm, uint32_t inh, bool keep_current)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (keep_current && syscall(SYS_capget, &h, d) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (!keep_current) {
            d[i].effective = eff;
            d[i].permitted = perm;
        }
        d[i].inheritable = inh;
    }
    return (int)syscall(SYS_capset, &h, d);
}

static void caps_drop_and_switch(const struct jail_args *a)
{
    for (int c = 0; c < 64; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            child_die("drop the capability bounding set", NULL);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        child_die("clear the ambient capabilities", NULL);
    if (capset_all(0, 0, 0, true) < 0)
        child_die("clear the inheritable capabilities", NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_die("set no_new_privs", NULL);
    if (setgroups(0, NULL) < 0)
        child_die("setgroups", NULL);
    if (setresgid(a->gid, a->gid, a->gid) < 0)
        child_die("setresgid", NULL);
    if (setresuid(a->uid, a->uid, a->uid) < 0) /* clears the effective and permitted sets */
        child_die("setresuid", NULL);
    if (capset_all(0, 0, 0, false) < 0)
        child_die("clear the capabilities", NULL);
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0 || d[0].effective || d[0].permitted || d[0].inheritable ||
        d[1].effective || d[1].permitted || d[1].inheritable) {
        errno = EPERM;
        child_die("capabilities remain after dropping them", NULL);
    }
}

void jail_enter(struct jail *j)
{
    const struct jail_args *a = j->a;
    for (int i = 0; i < j->ncg_fds; i++) {
        if (write(j->cg_fds[i], "0", 1) != 1)
            child_die("enter the cgroup", j->cg.dir[i]);
        close(j->cg_fds[i]);
    }
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (a->netns ? 0 : CLONE_NEWNET)) < 0)
        child_die("unshare the mount, IPC, UTS and network namespaces", NULL);
    if (a->netns && setns(j->netns_fd, CLONE_NEWNET) < 0)
        child_die("join the network namespace", a->netns);
    if (j->netns_fd >= 0)
        close(j->netns_fd);
    if (sethostname("isovm", 5) < 0)
        child_die("sethostname", NULL);
    if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
        child_die("make the mounts private", NULL);
    /* the jail's root: a small tmpfs (nothing of it outlives the namespace), read-only at the end */
    if (mount("isovm-jail", j->root, "tmpfs", MS_NOSUID | MS_NOEXEC,
              "mode=0755,size=256k,nr_inodes=4096") < 0)
        child_die("mount the jail's tmpfs on", j->root);
    if (chdir(j->root) < 0)
        child_die("chdir", j->root);
    /* parents before what they hold: a grant inside another grant's directory, a library in a
     * granted /lib, stay visible */
    qsort(j->binds, j->nbinds, sizeof j->binds[0], bind_cmp);
    for (unsigned i = 0; i < j->nbinds; i++)
        bind_one(&j->binds[i], -1);
    if (j->report_user[0]) {
        struct bind r = { .dir = false, .rw = true };
        snprintf(r.src, sizeof r.src, "%s", j->report_host);
        snprintf(r.dst, sizeof r.dst, "%s", JAIL_REPORT_PATH);
        bind_one(&r, -1);
    }
    mkdir_parents("/dev/kvm", false);
    if (mknod("./dev/kvm", S_IFCHR | 0600, makedev(10, 232)) < 0)
        child_die("mknod", "/dev/kvm");
    if (chown("./dev/kvm", a->uid, a->gid) < 0)
        child_die("chown", "/dev/kvm");
    if (j->need_cwd)
        mkdir_parents(j->cwd, true);
    /* the Linux tier with endpoints: a private tmpfs of the job's user, small, the VMM's TMPDIR
     * for its network forwards (Unix sockets); nothing of it outlives the namespace */
    if (j->o->rootfs && j->o->policy.nendpoints) {
        char tmpopts[96];
        snprintf(tmpopts, sizeof tmpopts, "mode=0700,uid=%u,gid=%u,size=64k,nr_inodes=256",
                 (unsigned)a->uid, (unsigned)a->gid);
        if (mkdir("." JAIL_TMP_PATH, 0700) < 0 && errno != EEXIST)
            child_die("mkdir", JAIL_TMP_PATH);
        if (mount("isovm-jail-tmp", "." JAIL_TMP_PATH, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, tmpopts) < 0)
            child_die("mount the jail's tmpfs on", JAIL_TMP_PATH);
    }
    /* read-only from here (device nodes still open read-write: the mount is not nodev) */
    if (mount("none", ".", "none", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
        child_die("remount the jail read-only", NULL);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        child_die("pivot_root into", j->root);
    if (umount2(".", MNT_DETACH) < 0)
        child_die("detach the old root", NULL);
    if (chdir(j->need_cwd ? j->cwd : "/") < 0)
        child_die("chdir in the jail", j->cwd);
    struct rlimit core0 = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &core0) < 0) /* no core dump of guest memory; --resource-limit core=N */
        child_die("setrlimit core", NULL);
    for (unsigned i = 0; i < a->nrlimits; i++) {
        struct rlimit rl = { a->rlimits[i].value, a->rlimits[i].value };
        if (setrlimit(a->rlimits[i].resource, &rl) < 0)
            child_die("--resource-limit: setrlimit", NULL);
    }
    caps_drop_and_switch(a);
}

void jail_child(struct jail *j)
{
    jail_enter(j);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) /* after setuid, which clears it */
        child_die("set the parent-death signal", NULL);
    execv(j->vmm, j->vmm_argv);
    child_die("exec", j->vmm);
}

void jail_binds_into(struct jail *j, int mntns_fd, int root_fd)
{
    qsort(j->binds, j->nbinds, sizeof j->binds[0], bind_cmp);
    int trees[JAIL_MAX_BINDS];
    for (unsigned i = 0; i < j->nbinds; i++) { /* in the host's namespace, where they are */
        const struct bind *b = &j->binds[i];
        trees[i] = (int)syscall(SYS_open_tree, AT_FDCWD, b->src,
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (b->dir ? AT_RECURSIVE : 0));
        if (trees[i] < 0)
            child_die("bind-mount", b->src);
    }
    /* the namespace's own root is not the jail (the VMM pivoted into it, over a host root
     * that may be a chroot itself): the VMM's root directory is */
    if (setns(mntns_fd, CLONE_NEWNS) < 0)
        child_die("enter the VMM's mount namespace", NULL);
    struct statfs sf;
    if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
        child_die("enter the VMM's root", NULL);
    if (statfs("/", &sf) < 0 || sf.f_type != TMPFS_MAGIC) {
        errno = EXDEV;
        child_die("the VMM's root is not its jail's tmpfs", NULL);
    }
    if (mount("none", "/", "none", MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC, NULL) < 0)
        child_die("remount the jail read-write", NULL);
    for (unsigned i = 0; i < j->nbinds; i++) {
        bind_one(&j->binds[i], trees[i]);
        close(trees[i]);
    }
    if (j->need_cwd)
        mkdir_parents(j->cwd, true);
    if (mount("none", "/", "none", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
        child_die("remount the jail read-only", NULL);
}
