/* An IPv4 address for the Linux tier's network test tools (netprobe, netbench): dotted, or a name in /etc/hosts (the init writes the endpoints' names there). */
#ifndef ISOVM_GUEST_HOSTS_ADDR_H
#define ISOVM_GUEST_HOSTS_ADDR_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sa = host:port; 0, or -1 after a message on stderr naming `tool` and the host. */
static inline int hosts_addr(const char *tool, const char *host, const char *port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(port));
    if (inet_pton(AF_INET, host, &sa->sin_addr) == 1)
        return 0;
    FILE *f = fopen("/etc/hosts", "r");
    char line[256], addr[64], name[128];
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%63s %127s", addr, name) == 2 && !strcmp(name, host) &&
            inet_pton(AF_INET, addr, &sa->sin_addr) == 1) {
            fclose(f);
            return 0;
        }
    }
    if (f)
        fclose(f);
    fprintf(stderr, "%s: %s: no such host in /etc/hosts\n", tool, host);
    return -1;
}

#endif
