/* The guest's network (the job file's net line, init/abi.h): lo and the one virtio-net interface
 * up, with the job file's IPv4 address and prefix. */
#ifndef ISOVM_INIT_NETCFG_H
#define ISOVM_INIT_NETCFG_H
#include <stddef.h>
#include "init/job_file.h"

/* With a net line: lo up; the one interface other than lo waited for (up to ISOVM_INIT_WAIT_MS),
 * IPv6 turned off on it, given net_addr/net_prefix and brought up. No route but the prefix's
 * (the kernel's), no DHCP. Without a net line: nothing. 0, or -errno with err (-ENODEV: no
 * interface came; -ENOTUNIQ: more than one). */
int netcfg_up(const struct job_spec *s, char *err, size_t len);

#endif
