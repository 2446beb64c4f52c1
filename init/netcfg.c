/* The guest's network: finds the kernel's one interface besides lo in /sys/class/net (the test
 * build: /test/net), and sets lo and it up with ioctls (the test build records each call). */
#include "init/netcfg.h"
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "init/fsutil.h"
#include "init/seam.h"

#if SEAM_TEST
static DIR *net_dir(void)
{
    return seam_opendir("net");
}

static int if_up(int fd, const char *ifname)
{
    (void)fd;
    return seam_record("SIOCSIFFLAGS %s +IFF_UP", ifname);
}

static int if_set(int fd, const char *ifname, unsigned long req, uint32_t addr)
{
    (void)fd;
    char a[JOB_IPV4_STR_MAX];
    job_ipv4_str(addr, a);
    return seam_record("%s %s %s", req == SIOCSIFADDR ? "SIOCSIFADDR" : "SIOCSIFNETMASK", ifname, a);
}

static int no_ipv6(const char *ifname)
{
    return seam_record("disable_ipv6 %s", ifname);
}
#else
static DIR *net_dir(void)
{
    return opendir("/sys/class/net");
}

static void if_name(struct ifreq *r, const char *ifname)
{
    memset(r, 0, sizeof *r);
    memcpy(r->ifr_name, ifname, strlen(ifname)); /* shorter than IFNAMSIZ: find_if */
}

static int if_up(int fd, const char *ifname)
{
    struct ifreq r;
    if_name(&r, ifname);
    if (ioctl(fd, SIOCGIFFLAGS, &r))
        return -errno;
    r.ifr_flags |= IFF_UP;
    return ioctl(fd, SIOCSIFFLAGS, &r) ? -errno : 0;
}

static int if_set(int fd, const char *ifname, unsigned long req, uint32_t addr)
{
    struct ifreq r;
    if_name(&r, ifname);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
    _Static_assert(sizeof sin <= sizeof r.ifr_addr, "a sockaddr_in fits ifr_addr");
    memcpy(&r.ifr_addr, &sin, sizeof sin);
    return ioctl(fd, req, &r) ? -errno : 0;
}

/* The job's network is IPv4: no link-local address, router solicitation or DAD on the wire.
 * A kernel without IPv6 has nothing to turn off. */
static int no_ipv6(const char *ifname)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    int rc = write_file(path, "1");
    return rc == -ENOENT ? 0 : rc;
}
#endif

/* The one interface besides lo, waited for: its name in name (IFNAMSIZ bytes). */
static int find_if(char *name, char *err, size_t len)
{
    long long deadline = now_ms() + seam_wait_ms();
    for (;;) {
        char names[128] = "";
        size_t n = 0;
        DIR *d = net_dir();
        for (struct dirent *e; d && (e = readdir(d));) {
            /* interfaces are links to their devices (bonding_masters is a file) */
            if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo") || e->d_type == DT_REG)
                continue;
            if (strlen(e->d_name) >= IFNAMSIZ) {
                snprintf(err, len, "the network interface \"%.40s\" has a name longer than %d bytes",
                         e->d_name, IFNAMSIZ - 1);
                closedir(d);
                return -ENAMETOOLONG;
            }
            if (n++ == 0)
                memcpy(name, e->d_name, strlen(e->d_name) + 1);
            size_t used = strlen(names);
            snprintf(names + used, sizeof names - used, "%s%.15s", n > 1 ? ", " : "", e->d_name);
        }
        if (d)
            closedir(d);
        if (n == 1)
            return 0;
        if (n > 1) {
            snprintf(err, len, "more than one network interface besides lo (%s): the job's network "
                     "has one", names);
            return -ENOTUNIQ;
        }
        if (now_ms() >= deadline) {
            snprintf(err, len, "no network interface besides lo appeared within %d ms (is virtio_net "
                     "in the initramfs, tagged net?)", seam_wait_ms());
            return -ENODEV;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int netcfg_up(const struct job_spec *s, char *err, size_t len)
{
    if (!s->has_net)
        return 0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int rc = -errno;
        snprintf(err, len, "cannot open a socket to set up the network: %s", strerror(-rc));
        return rc;
    }
    char ifname[IFNAMSIZ], a[JOB_IPV4_STR_MAX], m[JOB_IPV4_STR_MAX];
    uint32_t mask = s->net_prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> s->net_prefix);
    job_ipv4_str(s->net_addr, a);
    job_ipv4_str(mask, m);
    int rc = if_up(fd, "lo");
    if (rc)
        snprintf(err, len, "cannot bring up lo: %s", strerror(-rc));
    else if ((rc = find_if(ifname, err, len)))
        ;
    else if ((rc = no_ipv6(ifname)))
        snprintf(err, len, "cannot turn IPv6 off on %s: %s", ifname, strerror(-rc));
    else if ((rc = if_set(fd, ifname, SIOCSIFADDR, s->net_addr)))
        snprintf(err, len, "cannot give %s the address %s: %s", ifname, a, strerror(-rc));
    else if ((rc = if_set(fd, ifname, SIOCSIFNETMASK, mask)))
        snprintf(err, len, "cannot give %s the netmask %s (/%u): %s", ifname, m, s->net_prefix,
                 strerror(-rc));
    else if ((rc = if_up(fd, ifname)))
        snprintf(err, len, "cannot bring up %s (%s/%u): %s", ifname, a, s->net_prefix, strerror(-rc));
    close(fd);
    return rc;
}
