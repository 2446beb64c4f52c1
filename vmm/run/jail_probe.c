/* Test hook "jail-probe": what a VMM started by `isovm jail` sees (tests/jail, jail_cases.sh). */
#include "vmm/run/jail_probe.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/test_hooks.h"

static unsigned listed;

static void tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("tree-error %s %s\n", dir, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && listed < 4000) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name);
        struct stat st;
        struct statvfs vfs;
        if (lstat(path, &st) < 0)
            continue;
        listed++;
        bool ro = statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
        char kind = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : S_ISCHR(st.st_mode) ? 'c'
                  : S_ISLNK(st.st_mode) ? 'l' : '?';
        const char *w = "-";
        if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)) {
            int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
            w = fd >= 0 ? "writable" : errno == EROFS ? "EROFS" : errno == EACCES ? "EACCES"
                                                                                  : "unwritable";
            if (fd >= 0)
                close(fd);
        }
        printf("path %s %c %04o %u:%u %s %s\n", path, kind, (unsigned)(st.st_mode & 07777),
               (unsigned)st.st_uid, (unsigned)st.st_gid, ro ? "ro" : "rw", w);
        if (S_ISDIR(st.st_mode) && depth < 24)
            tree(path, depth + 1);
    }
    closedir(d);
}

void jail_probe(void)
{
    gid_t groups[64];
    int ng = getgroups(64, groups);
    printf("uid %u %u\ngid %u %u\ngroups %d\n", (unsigned)getuid(), (unsigned)geteuid(),
           (unsigned)getgid(), (unsigned)getegid(), ng);
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct c[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    if (syscall(SYS_capget, &h, c) == 0)
        printf("cap_effective %08x%08x\ncap_permitted %08x%08x\ncap_inheritable %08x%08x\n",
               c[1].effective, c[0].effective, c[1].permitted, c[0].permitted, c[1].inheritable,
               c[0].inheritable);
    unsigned bnd = 0, amb = 0;
    for (int i = 0; i < 64; i++) {
        bnd += prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1;
        amb += prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) == 1;
    }
    printf("cap_bounding_count %u\ncap_ambient_count %u\n", bnd, amb);
    printf("no_new_privs %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    printf("pid %d\n", (int)getpid());
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    printf("hostname %s\n", host);
    struct if_nameindex *ifs = if_nameindex();
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
        printf("netif %s\n", i->if_name);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", i->if_name);
        if (sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP))
            printf("netif-up %s\n", i->if_name);
    }
    if (sock >= 0)
        close(sock);
    if (ifs)
        if_freenameindex(ifs);
    char cwd[4096];
    printf("cwd %s\n", getcwd(cwd, sizeof cwd) ? cwd : strerror(errno));
    tree("/", 0);
    printf("probe-end\n");
    fflush(stdout);
    if (test_hook("jail-probe-wait")) {
        char b;
        while (read(0, &b, 1) < 0 && errno == EINTR)
            ;
    }
}
